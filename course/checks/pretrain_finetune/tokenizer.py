"""Visible checks of 01_tokenizer.ipynb (module 03, pretraining and fine-tuning): byte-level BPE."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from course.checks import call, fail, first_difference, fixture, passed

# (text, vocab_size, special tokens, the rule a difference points to); the expected merges are the grader's
# reference's, stored in check_fixtures.json under bpe_fixture_key(text, vocab_size, special_tokens)
PARAGRAPH = (
    "Byte pair encoding starts from the 256 bytes and merges the most frequent adjacent pair, again and "
    "again: the pair becomes a new token, and the text is rewritten with it. It's how GPT-2's tokenizer was "
    "built; we'll train one here, 10 merges at a time, and they'll compress the text they were trained on."
)
RULES = (  # in this order, each mistake's first failing case is its own
    (
        "x.x.x.x.",
        300,
        (),
        "merges never cross pre-token boundaries ('x.x.x.x.' is the pre-tokens 'x', '.', 'x', ...), so no pair is "
        "left to merge: stop there, with the 256 bytes",
    ),
    (
        "ab cd",
        258,
        (),
        "ties go to the lexicographically greater pair of bytes: (b'c', b'd') > (b'a', b'b') > (b' ', b'c')",
    ),
    ("aaa bc", 258, (), "pair counts include overlapping occurrences: 'aaa' holds the pair (a, a) twice"),
    (
        " ab ab ab ab xyq xyr xys",
        257,
        (),
        "counts are weighted by how often each pre-token occurs: ' ab' four times counts (a, b) four times",
    ),
    ("aaa aaa", 258, (), "a merge applies left to right: 'aaa' merged on (a, a) becomes (aa, a), not (a, aa)"),
    ("abab abab", 258, (), "a merge rewrites every occurrence of the pair in a pre-token: 'abab' becomes (ab, ab)"),
    (
        "éé éé",
        257,
        (),
        "start from the UTF-8 bytes of each pre-token, not its characters: 'é' is the two bytes c3 a9, so the first "
        "merge is (b'\\xc3', b'\\xa9')",
    ),
)
SPECIAL_RULES = (
    (
        "ab<|x|>ab<|x|>",
        258,
        ("<|x|>",),
        "split the text on the special tokens first and drop them: they never take part in merges",
    ),
    (
        "a<|x|>b",
        258,
        ("<|x|>",),
        "split the text at the special tokens: nothing merges across one ('a<|x|>b' holds no pair), removing them is not enough",
    ),
    (
        "x<|e|>ab<|e|>ab<|e|>ab",
        259,
        ("<|e|>", "<|e|>ab"),
        "split on the special tokens longest first: '<|e|>ab' is one special token, so no 'ab' is left to merge",
    ),
    (
        "ab ab<|x|>",
        1000,
        ("<|x|>",),
        "train until len(vocab) == vocab_size or no pair is left inside any pre-token, whichever comes first",
    ),
)


def bpe_fixture_key(text: str, vocab_size: int, special_tokens: tuple[str, ...] = ()) -> str:
    return f"train_bpe({text!r}, {vocab_size}, {list(special_tokens)})"


def _hex(merges: list[tuple[bytes, bytes]]) -> list[str]:
    return [f"{a.hex()} {b.hex()}" for a, b in merges]


def _trained(train_bpe: Callable, text: str, vocab_size: int, special_tokens: tuple[str, ...]) -> tuple[dict, list]:
    """The student's (vocab, merges), checked for types and the id layout."""
    what = f"train_bpe({text[:20]!r}..., {vocab_size}, {list(special_tokens)})"
    result = call(train_bpe, text, vocab_size, list(special_tokens))
    if not (isinstance(result, tuple) and len(result) == 2):
        fail(f"{what} should return a tuple (vocab, merges)")
    vocab, merges = result
    if not isinstance(vocab, dict) or not all(isinstance(k, int) and isinstance(v, bytes) for k, v in vocab.items()):
        fail(f"{what}: vocab should be a dict from int ids to bytes (token.encode('utf-8'), bytes([b]))")
    if not isinstance(merges, list) or not all(
        isinstance(m, tuple) and len(m) == 2 and all(isinstance(t, bytes) for t in m) for m in merges
    ):
        fail(f"{what}: merges should be a list of (bytes, bytes) tuples")
    if any(vocab.get(i) != bytes([i]) for i in range(256)):
        fail(f"{what}: ids 0-255 must be the 256 single bytes, vocab[i] == bytes([i])")
    for k, token in enumerate(special_tokens):
        if vocab.get(256 + k) != token.encode("utf-8"):
            fail(f"{what}: special tokens take the ids 256, 257, ... in the order given, before any merge")
    if len(vocab) > vocab_size:
        fail(
            f"{what} returned {len(vocab)} tokens: stop when len(vocab) == vocab_size (the 256 bytes and the special "
            "tokens count)"
        )
    first = 256 + len(special_tokens)
    if sorted(vocab) != list(range(first + len(merges))) or any(
        vocab[first + k] != a + b for k, (a, b) in enumerate(merges)
    ):
        fail(f"{what}: each merge adds one id, in merge order: vocab[{first} + k] == merges[k][0] + merges[k][1]")
    return vocab, merges


def _stored_merges(text: str, vocab_size: int, special_tokens: tuple[str, ...] = ()) -> list[str]:
    """The reference's merges for these arguments, as "<hex> <hex>" pairs (stored joined by ';')."""
    stored = fixture(bpe_fixture_key(text, vocab_size, special_tokens))
    return stored.split(";") if stored else []


def _show(pair_hex: str) -> str:
    a, b = pair_hex.split()
    return repr((bytes.fromhex(a), bytes.fromhex(b)))


def check_train_bpe(train_bpe: Callable) -> None:
    vocab, merges = _trained(train_bpe, PARAGRAPH, 300, ())
    if len(vocab) != 300:
        fail(
            f"train_bpe(paragraph, 300) returned {len(vocab)} tokens: stop when len(vocab) == vocab_size (the 256 "
            "bytes and the special tokens count)"
        )
    expected = _stored_merges(PARAGRAPH, 300)
    k = first_difference(_hex(merges), expected)
    if k is not None:
        got = _show(_hex(merges)[k]) if k < len(merges) else "nothing"
        fail(
            f"train_bpe(paragraph, 300): merge {k} is {got}, the reference's is {_show(expected[k])} (the next "
            "cells' checks name the rule that differs)"
        )
    passed("train_bpe learns the reference's 44 merges of a paragraph, ids laid out as specified")


def _follows(train_bpe: Callable, rules: tuple) -> None:
    for text, vocab_size, special_tokens, rule in rules:
        _, merges = _trained(train_bpe, text, vocab_size, special_tokens)
        if _hex(merges) != _stored_merges(text, vocab_size, special_tokens):
            learned = f"{merges[:6]}{' ...' if len(merges) > 6 else ''}"
            fail(f"train_bpe({text!r}, {vocab_size}, {list(special_tokens)}) learned {learned}: {rule}")


def check_train_bpe_rules(train_bpe: Callable) -> None:
    _follows(train_bpe, RULES)
    passed("train_bpe starts from bytes, counts overlaps, weights by frequency, breaks ties, merges left to right")


def check_train_bpe_special_tokens(train_bpe: Callable) -> None:
    _follows(train_bpe, SPECIAL_RULES)
    passed("special tokens take ids 256, 257, ... and never take part in merges; training stops when no pair is left")


# A vocabulary made by hand: the bytes, a special token, and three merges whose order matters.
SPECIAL, LONG_SPECIAL = "<|a|>", "<|a|><|a|>"
HAND_MERGES = [(b"b", b"c"), (b"a", b"b"), (b"o", b" ")]


def _hand_vocab() -> dict[int, bytes]:
    single_bytes = {b: bytes([b]) for b in range(256)}
    return single_bytes | {256: SPECIAL.encode(), 257: LONG_SPECIAL.encode(), 258: b"bc", 259: b"ab", 260: b"o "}


def _encode(tokenizer: Any, text: str) -> list[int]:
    ids = call(tokenizer.encode, text)
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        fail(f"encode({text!r}) should return a list of ints, got {ids!r}")
    return ids


def check_bpe_tokenizer(BPETokenizer: Callable) -> None:
    tokenizer = call(BPETokenizer, _hand_vocab(), HAND_MERGES)
    for text, expected, mistake in (
        (
            "abc",
            [97, 258],
            "merges apply by rank, the earliest learned first: (b, c) before (a, b), so 'abc' is a + bc",
        ),
        ("ab", [259], "merge (a, b) should apply: 'ab' is one token"),
        (
            "go west",
            [103, 111, 32, 119, 101, 115, 116],
            "merges never cross pre-token boundaries: 'go west' is the pre-tokens 'go' and ' west', so (o, ' ') never applies",
        ),
    ):
        ids = _encode(tokenizer, text)
        if ids != expected:
            fail(f"encode({text!r}) = {ids}, expected {expected}: {mistake}")
    for text in ("naïve café, 你好,世界 🙂", "  two  spaces\n\n\tand tabs ", "it's we'll 12345"):
        ids = _encode(tokenizer, text)
        back = call(tokenizer.decode, ids)
        if back != text:
            fail(
                f"decode(encode({text!r})) = {back!r}: join the bytes of all the tokens, then decode them once "
                "(one character can span several tokens)"
            )
    if call(tokenizer.decode, [228, 189]) != "\ufffd":
        fail("decode([228, 189]) (two of the three bytes of '你') should be '\\ufffd': decode with errors='replace'")
    passed("encode merges by rank within pre-tokens; decode(encode(s)) == s for accents, Chinese, emoji, whitespace")


def check_bpe_special_tokens(BPETokenizer: Callable) -> None:
    tokenizer = call(BPETokenizer, _hand_vocab(), HAND_MERGES, [SPECIAL, LONG_SPECIAL])
    for text, expected, mistake in (
        ("ab<|a|>bc", [259, 256, 258], "a special token is one id, and the text around it is encoded as usual"),
        (
            "<|a|><|a|><|a|>",
            [257, 256],
            "special tokens match longest first: '<|a|><|a|>' is one token before '<|a|>' is tried",
        ),
    ):
        ids = _encode(tokenizer, text)
        if ids != expected:
            fail(
                f"encode({text!r}) with special tokens {[SPECIAL, LONG_SPECIAL]} = {ids}, expected {expected}: {mistake}"
            )
    plain = call(BPETokenizer, _hand_vocab(), HAND_MERGES)
    if _encode(plain, "<|a|>") != [60, 124, 97, 124, 62]:
        fail("without special tokens, '<|a|>' is ordinary text: its bytes")
    try:
        BPETokenizer(_hand_vocab(), HAND_MERGES, ["<|missing|>"])
    except NotImplementedError:
        fail("implement `BPETokenizer.__init__` first (it still raises NotImplementedError)")
    except ValueError:
        pass
    except Exception as error:  # noqa: BLE001 - any other error is the wrong one
        fail(f"BPETokenizer with a special token missing from vocab raised {type(error).__name__}; raise ValueError")
    else:
        fail("BPETokenizer(vocab, merges, ['<|missing|>']) should raise ValueError: a special token must be in vocab")
    passed("special tokens stay whole (longest first), and one missing from the vocabulary is a ValueError")
