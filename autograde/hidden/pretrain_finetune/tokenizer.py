"""Hidden tests of 01_tokenizer.ipynb: BPE training and encoding on fresh random texts (no expected values here)."""

from __future__ import annotations

from typing import Any

import torch

from autograde.hidden import Case, answers, probe, randint

LETTERS = "abcdefghijklmnopqrstuvwxyz"
UNICODE_WORDS = ("你好", "世界", "分词器", "模型", "naïve", "café", "Ünïcödé", "🙂", "🚀🚀", "日本語", "Ελληνικά")
PUNCTUATION = (".", ",", "!", "?", "...", "(", ")", ":", "-", '"', "'s", "'ll", "'re", "'ve", "'t", "'d")
SPACES = (" ", " ", " ", " ", " ", "  ", "\n", "\n\n", "\t", "   ")


def _pick(g: torch.Generator, options: Any) -> Any:
    return options[randint(g, 0, len(options) - 1)]


def _word(g: torch.Generator, alphabet: str, longest: int) -> str:
    return "".join(_pick(g, alphabet) for _ in range(randint(g, 1, longest)))


def _text(g: torch.Generator, n_words: int, alphabet: str = LETTERS[:8], extras: tuple[str, ...] = ()) -> str:
    """Prose-like random text: words drawn from a small lexicon with skewed frequencies (so that counts
    differ and also tie), numbers, punctuation and contractions, runs of whitespace."""
    runs = [_pick(g, alphabet) * length for length in (3, 5, 7)]  # odd runs: merged left to right, 'aaa' is aa, a
    lexicon = runs + [_word(g, alphabet, 7) for _ in range(40)] + list(extras)
    pieces = []
    for _ in range(n_words):
        r = randint(g, 0, 99)
        if r < 70:
            pieces.append(lexicon[min(randint(g, 0, len(lexicon) - 1), randint(g, 0, len(lexicon) - 1))])
        elif r < 80:
            pieces.append(str(randint(g, 0, 10 ** randint(g, 1, 5))))
        else:
            pieces.append(_pick(g, PUNCTUATION))
        pieces.append(_pick(g, SPACES))
    return "".join(pieces)


def case_text(label: str, text: str, vocab_size: int, special_tokens: tuple[str, ...] = ()) -> Case:
    return Case(f"{label} ({len(text)} characters, vocab_size={vocab_size})", (text, vocab_size, list(special_tokens)))


def _hex(tokens: Any) -> list[str]:
    return [t.hex() for t in tokens]


def _train(train_bpe: Any, c: Case) -> dict[str, Any]:
    """The student's (vocab, merges) as hex strings: {"vocab": [[id, hex], ...], "merges": [[hex, hex], ...]}."""
    vocab, merges = train_bpe(*c.args)
    return {"vocab": [[int(i), bytes(t).hex()] for i, t in vocab.items()], "merges": [_hex(m) for m in merges]}


@probe("train_bpe", run=_train)
def train_bpe_text(g: torch.Generator) -> list[Case]:
    """Prose-like ASCII text, with numbers, punctuation, contractions and whitespace runs."""
    return [
        case_text("random prose", _text(g, randint(g, 300, 600)), randint(g, 280, 340)),
        case_text("random prose, a larger alphabet", _text(g, 500, LETTERS), randint(g, 300, 360)),
        case_text("a few merges", _text(g, 200), randint(g, 257, 262)),
    ]


@probe("train_bpe", run=_train)
def train_bpe_rules(g: torch.Generator) -> list[Case]:
    """Many ties (every word once), overlapping pairs (runs of one letter), repeated pre-tokens of different
    frequencies, and text with no pair inside any pre-token (training stops before vocab_size)."""
    distinct = " ".join(dict.fromkeys(_word(g, LETTERS[:6], 6) for _ in range(40)))
    runs = " ".join(_pick(g, "ab") * randint(g, 2, 9) for _ in range(60))
    repeated = " ".join(_pick(g, [_word(g, "xyz", 3) for _ in range(3)]) for _ in range(50))
    no_pairs = "".join(_pick(g, "xyz") + _pick(g, ".,;") for _ in range(30))
    return [
        case_text("every word once (ties)", distinct, randint(g, 270, 300)),
        case_text("runs of one letter (overlapping pairs)", runs, randint(g, 262, 275)),
        case_text("repeated pre-tokens", repeated + " " + runs, randint(g, 262, 275)),
        case_text("no pair inside any pre-token", no_pairs, randint(g, 300, 400)),
    ]


@probe("train_bpe", run=_train)
def train_bpe_special_tokens(g: torch.Generator) -> list[Case]:
    """Special tokens (one a prefix of another, the longer one ending in frequent text), Unicode words,
    a vocabulary larger than the text can fill, and one with no room for a merge."""
    specials = ("<|endoftext|>", "<|end|>", "<|end|>x")
    text = "".join(
        _text(g, randint(g, 10, 40), extras=UNICODE_WORDS) + _pick(g, specials) for _ in range(randint(g, 8, 12))
    )
    prefixed = "".join(_pick(g, ["<|e|>ab", "<|e|>ab", "<|e|>", "x", " cd"]) for _ in range(40))
    short = "".join(_pick(g, ["ab", "ba", "<|end|>", "end"]) for _ in range(20))
    return [
        case_text("special tokens and Unicode", text, randint(g, 290, 330), specials),
        case_text("Unicode words only", _text(g, 400, extras=UNICODE_WORDS * 3), randint(g, 290, 330)),
        case_text("a vocabulary the text cannot fill", short, 2000, ("<|end|>",)),
        case_text("no room for a merge", text, 259, specials),
        case_text("special tokens longest first", prefixed, randint(g, 260, 264), ("<|e|>", "<|e|>ab")),
    ]


def _random_merges(g: torch.Generator, alphabet: str, n: int) -> tuple[dict[int, bytes], list[tuple[bytes, bytes]]]:
    """A vocabulary of the bytes and `n` merges of random pairs of tokens built from `alphabet`, a space
    and a full stop: a valid BPE whose merge order the encoder must follow, with merges across pre-token
    boundaries (`a.`, `a b`) that must never apply."""
    tokens = [c.encode() for c in alphabet + " ."]
    vocab = {i: bytes([i]) for i in range(256)}
    first, second, third = tokens[:3]
    # rank decides 'abc' (a, bc); 'a ' crosses a pre-token boundary ('a b' is 'a', ' b') and never applies
    merges: list[tuple[bytes, bytes]] = [(second, third), (first, second), (first, b" ")]
    for a, b in merges:
        tokens.append(a + b)
        vocab[len(vocab)] = a + b
    while len(merges) < n:
        a, b = _pick(g, tokens), _pick(g, tokens)
        if (a + b) in tokens:
            continue
        merges.append((a, b))
        tokens.append(a + b)
        vocab[len(vocab)] = a + b
    return vocab, merges


def _tokenize(BPETokenizer: Any, c: Case) -> dict[str, Any]:
    """{"ids": encode(text), "decoded": decode(those ids), "fragments": decode(random ids)}, or
    {"raised": True} when the tokenizer cannot be built (a case where that is right)."""
    try:
        tokenizer = BPETokenizer(*c.args)
    except Exception:  # noqa: BLE001 - judged: right only where a special token is missing from vocab
        return {"raised": True}
    ids = [int(i) for i in tokenizer.encode(c.extra["text"])]
    return {
        "raised": False,
        "ids": ids,
        "decoded": tokenizer.decode(ids),
        "fragments": tokenizer.decode(c.extra["fragments"]),
    }


def case_tokenizer(label: str, g: torch.Generator, vocab: dict, merges: list, specials: Any, text: str) -> Case:
    # characters' UTF-8 bytes one id each (characters split across tokens), random ids, a cut character
    fragments = [*"你好🙂".encode(), *(randint(g, 0, len(vocab) - 1) for _ in range(30)), 228, 189]
    return Case(label, (vocab, merges, specials), extra={"text": text, "fragments": fragments})


@probe("BPETokenizer", run=_tokenize)
def bpe_encode(g: torch.Generator) -> list[Case]:
    """Random merges over a small alphabet (their order decides the segmentation), ASCII text with
    punctuation, numbers and whitespace."""
    cases = []
    for alphabet, n_merges in (("abc", 30), ("abcde", 60), ("abcdefgh", 120)):
        vocab, merges = _random_merges(g, alphabet, n_merges)
        text = alphabet[:3] + " " + _text(g, 300, alphabet)
        cases.append(case_tokenizer(f"{n_merges} merges over {alphabet!r}", g, vocab, merges, None, text))
    return cases


@probe("BPETokenizer", run=_tokenize)
def bpe_special_tokens(g: torch.Generator) -> list[Case]:
    """Special tokens (one a prefix of another) around Unicode text, the same text without them, and a
    special token missing from the vocabulary (an error)."""
    vocab, merges = _random_merges(g, "abcd", 50)
    specials = ["<|end|>", "<|end|><|end|>", "<|pad|>"]
    for token in specials:
        vocab[len(vocab)] = token.encode()
    text = "abc" + "".join(
        _text(g, randint(g, 10, 30), "abcd", UNICODE_WORDS) + _pick(g, specials + ["<|end|>"]) for _ in range(20)
    )
    text += "<|end|><|end|>" + _text(g, 20, "abcd")
    return [
        case_tokenizer("special tokens and Unicode", g, vocab, merges, specials, text),
        case_tokenizer("the same text without special tokens", g, vocab, merges, None, text),
        case_tokenizer("a special token missing from vocab", g, vocab, merges, ["<|missing|>"], "abc"),
    ]


q1_chinese_token_ratio, q2_chinese_input, q3_vocabulary_size = answers(
    __name__, "q1_chinese_token_ratio", "q2_chinese_input", "q3_vocabulary_size"
)
