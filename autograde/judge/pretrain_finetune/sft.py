"""Judges of 03_sft.ipynb: Hugging Face's SFT example, next-fit packing laid out as DataCollatorWithFlattening
lays out a row, the block-diagonal causal mask; every output compared element by element."""

from __future__ import annotations

import functools
import math
from typing import Any

import torch
import torch.nn.functional as F

from autograde.hidden import Case
from autograde.judge import Choice, Computed, answer_key, expect, judge, probes_for, references
from course.data import docstring_pairs
from course.models import encode, load_pretrained

hidden = probes_for(__name__)

EOS = 0  # the notebook's end-of-sequence token


def _int64(value: Any, shape: tuple[int, ...]) -> bool:
    return isinstance(value, torch.Tensor) and value.dtype == torch.int64 and tuple(value.shape) == shape


@judge(hidden.sft_example)
def judge_sft_example(c: Case, out: hidden.Example) -> None:
    prompt, response, eos_id = c.args
    input_ids, labels = references.sft_example(prompt, response, eos_id)
    expect(
        torch.equal(out.prompt_after, prompt) and torch.equal(out.response_after, response),
        "prompt_ids or response_ids were modified in place",
    )
    for name, value, expected in (("input_ids", out.input_ids, input_ids), ("labels", out.labels, labels)):
        expect(_int64(value, tuple(expected.shape)), f"{name} should be a 1-D int64 tensor of length P + R + 1")
        expect(torch.equal(value, expected), f"wrong {name}")


_PACK_FIELDS = ("input_ids", "labels", "position_ids", "document_ids")


@judge(hidden.pack)
def judge_pack(c: Case, out: hidden.Packed) -> None:
    examples, context, pad_id = c.args
    expect(
        isinstance(out.examples_after, list)
        and all(
            torch.equal(a, c_) and torch.equal(b, d)
            for (a, b), (c_, d) in zip(out.examples_after, examples, strict=True)
        ),
        "the examples were modified in place",
    )
    if c.extra.get("invalid"):
        expect(out.raised_value_error, "an example longer than the context should raise ValueError")
        return
    expected = references.pack(examples, context, pad_id)
    expect(
        isinstance(out.outputs, list) and len(out.outputs) == 4,
        "should return (input_ids, labels, position_ids, document_ids)",
    )
    rows = expected[0].shape[0]
    for name, value, reference in zip(_PACK_FIELDS, out.outputs, expected):
        if isinstance(value, torch.Tensor) and value.dim() == 2 and value.shape[1] == context:
            expect(value.shape[0] == rows, "wrong number of rows: next-fit, in order")
        expect(_int64(value, (rows, context)), f"{name} should be an int64 tensor of shape (N, context)")
        expect(torch.equal(value, reference), f"wrong {name}")


@judge(hidden.packed_attention_mask)
def judge_packed_attention_mask(c: Case, mask: Any) -> None:
    expected = references.packed_attention_mask(c.args[0])
    expect(
        isinstance(mask, torch.Tensor) and mask.dtype == torch.bool and mask.shape == expected.shape,
        "should return a bool tensor of shape (N, T, T)",
    )
    expect(torch.equal(mask, expected), "wrong mask")


@functools.cache
def _held_out_examples() -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The notebook's held-out examples: each pair rendered with its template, then the EOS."""
    return [
        references.sft_example(encode(f"User: {request}\nAssistant: "), encode(response), EOS)
        for request, response in docstring_pairs()[1]
    ]


@functools.cache
def packed_rows() -> float:
    """Q1: rows of 192 tokens that the held-out examples fill, packed next-fit in order."""
    return float(len(references.pack(_held_out_examples(), 192, EOS)[0]))


@functools.cache
def leak_bits() -> float:
    """Q2: tinygpt-draft's mean response loss on the last 40 held-out examples packed into rows of 256,
    with a plain causal mask minus with the block-diagonal mask and restarted positions, bits per byte."""
    ids, labels, positions, documents = references.pack(_held_out_examples()[-40:], 256, EOS)
    model = load_pretrained("tinygpt-draft")
    with torch.no_grad():
        logits = {
            "masked": model(ids, positions=positions, mask=references.packed_attention_mask(documents)),
            "plain": model(ids),
        }
    nats = {k: F.cross_entropy(v[:, :-1].transpose(1, 2), labels[:, 1:], ignore_index=-100) for k, v in logits.items()}
    return (nats["plain"] - nats["masked"]).item() / math.log(2)


answer_key(
    hidden,
    {
        "q1_packed_rows": Computed(packed_rows, rel=0, abs=0.5),
        "q2_leak_bits": Computed(leak_bits, rel=0, abs=2e-3),
        "q3_overfitting": Choice("c"),
    },
)
