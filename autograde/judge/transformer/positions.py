"""Judges of 02_positions.ipynb: the paper's sinusoids, Llama's RoPE, the ALiBi authors' slopes."""

from __future__ import annotations

from typing import Any

import torch

from autograde.hidden import Case
from autograde.judge import Choice, Number, answer_key, expect, expect_close, judge, probes_for, references

hidden = probes_for(__name__)


@judge(hidden.sinusoidal_positions)
def judge_sinusoidal_positions(c: Case, pe: Any) -> None:
    expect(isinstance(pe, torch.Tensor) and pe.is_floating_point(), "should be a float tensor")
    expect_close(pe, references.sinusoidal_positions(*c.args), "positions", rtol=0, atol=2e-4)


@judge(hidden.apply_rope)
def judge_apply_rope(c: Case, out: hidden.Rotated) -> None:
    x, positions = c.args
    expect(isinstance(out.y, torch.Tensor) and out.y.dtype == x.dtype, "should return a tensor of x's dtype")
    expect_close(
        out.y, references.rope(x, positions, c.kwargs.get("theta", 10000.0)), "rotated x", rtol=1e-3, atol=1e-3
    )
    expect(torch.equal(out.x_after, x), "the input x was modified in place")


@judge(hidden.rope_relative)
def judge_rope_relative(c: Case, out: hidden.Shifted) -> None:
    q, k, positions = c.args
    # the property alone would accept any norm-preserving map of relative positions (the identity
    # among them): one output is also compared with the reference
    expect_close(out.q, references.rope(q, positions), "rotated q", rtol=1e-3, atol=1e-3)
    for name in ("q", "k", "q_shifted", "k_shifted"):
        value, source = getattr(out, name), q if name.startswith("q") else k
        expect(isinstance(value, torch.Tensor) and value.shape == q.shape, f"{name} has the wrong shape")
        expect_close(
            value.double().norm(dim=-1), source.double().norm(dim=-1), "lengths are not preserved", rtol=1e-4, atol=1e-5
        )
    scores = out.q.double() @ out.k.double().transpose(-1, -2)
    shifted = out.q_shifted.double() @ out.k_shifted.double().transpose(-1, -2)
    expect_close(
        shifted, scores, "scores change when every position is shifted by the same amount", rtol=1e-3, atol=1e-3
    )


@judge(hidden.alibi_slopes, hidden.alibi_slopes_any_count)
def judge_alibi_slopes(c: Case, slopes: Any) -> None:
    expect(isinstance(slopes, torch.Tensor) and slopes.is_floating_point(), "should return a float tensor")
    expect_close(
        slopes, torch.tensor(references.alibi_slopes(*c.args), dtype=torch.float64), "slopes", rtol=1e-5, atol=0
    )


@judge(hidden.alibi_bias)
def judge_alibi_bias(c: Case, bias: Any) -> None:
    expect(isinstance(bias, torch.Tensor) and bias.is_floating_point(), "should return a float tensor")
    expect_close(bias, references.alibi_bias(*c.args), "bias", rtol=1e-5, atol=1e-9)


def _rope_score() -> float:
    """The score of the query 1..8 at position 1000 and the key of ones at position 997, rotated by the reference RoPE."""
    query = references.rope(torch.arange(1.0, 9.0).view(1, 8), torch.tensor([1000.0]))
    key = references.rope(torch.ones(1, 8), torch.tensor([997.0]))
    return (query * key).sum().item()


answer_key(
    hidden,
    {
        "q1_alibi_slope": Number(references.alibi_slopes(12)[9]),  # head 10 of 12
        "q2_rope_score": Number(_rope_score()),
        "q3_rope_long_context": Choice("c"),
    },
)
