"""Judges of 01_tokenizer.ipynb: byte-level BPE by its definition (checked against Stanford CS336's published
merges), GPT-2's encoder (checked against Hugging Face tokenizers)."""

from __future__ import annotations

import functools
from typing import Any

from autograde.hidden import Case
from autograde.judge import Choice, Computed, answer_key, expect, judge, probes_for, references
from course.checks import first_difference
from course.data import pydoc_corpus
from course.text import parallel_zh_en

hidden = probes_for(__name__)


@functools.lru_cache(maxsize=64)
def _reference_bpe(text: str, vocab_size: int, special_tokens: tuple[str, ...]) -> tuple:
    """The reference's (vocab, merges), computed once per case however many records are judged on it."""
    return references.train_bpe(text, vocab_size, special_tokens)


@judge(hidden.train_bpe_text, hidden.train_bpe_rules, hidden.train_bpe_special_tokens)
def judge_train_bpe(c: Case, trained: Any) -> None:
    expect(isinstance(trained, dict) and set(trained) == {"vocab", "merges"}, "should return (vocab, merges)")
    text, vocab_size, special_tokens = c.args
    vocab, merges = _reference_bpe(text, vocab_size, tuple(special_tokens))
    expected_merges = [[a.hex(), b.hex()] for a, b in merges]
    k = first_difference(trained["merges"], expected_merges)
    expect(k is None, f"wrong merges (the first difference is merge {k})")
    expect(
        sorted(map(tuple, trained["vocab"])) == sorted((i, t.hex()) for i, t in vocab.items()),
        "the merges are right but the vocabulary's ids or bytes are wrong",
    )


@judge(hidden.bpe_encode, hidden.bpe_special_tokens)
def judge_bpe_tokenizer(c: Case, out: Any) -> None:
    vocab, merges, specials = c.args
    if specials and any(s.encode() not in vocab.values() for s in specials):
        expect(out == {"raised": True}, "a special token missing from the vocabulary should raise an error")
        return
    expect(isinstance(out, dict) and out.get("raised") is False, "could not be built from a valid vocabulary")
    text = c.extra["text"]
    expected = references.bpe_encode(text, vocab, merges, specials or ())
    k = first_difference(out["ids"], expected)
    expect(k is None, f"encode gives wrong ids (the first difference is at token {k})")
    expect(out["decoded"] == text, "decode(encode(text)) is not the text")
    expect(out["fragments"] == references.bpe_decode(c.extra["fragments"], vocab), "decode of arbitrary ids is wrong")


@functools.cache
def chinese_token_ratio() -> float:
    """Q1's key: Chinese tokens / English tokens of the parallel sentences, under BPE trained on the first
    20,000 characters of the documentation's training text to 400 tokens."""
    vocab, merges = references.train_bpe(pydoc_corpus()[0][:20_000], 400)
    pairs = parallel_zh_en()
    chinese = sum(len(references.bpe_encode(zh, vocab, merges)) for zh, _ in pairs)
    return chinese / sum(len(references.bpe_encode(en, vocab, merges)) for _, en in pairs)


answer_key(
    hidden,
    {
        "q1_chinese_token_ratio": Computed(chinese_token_ratio, rel=1e-3),
        "q2_chinese_input": Choice("b"),
        "q3_vocabulary_size": Choice("a"),
    },
)
