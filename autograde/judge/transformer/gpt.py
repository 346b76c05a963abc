"""Judges of 03_gpt.ipynb: PyTorch's RMSNorm and SiLU, a Llama block and GPT from PyTorch primitives."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from autograde.hidden import Case
from autograde.judge import Choice, Number, answer_key, expect, expect_close, judge, probes_for, references

hidden = probes_for(__name__)


@judge(hidden.rms_norm)
def judge_rms_norm(c: Case, out: Any) -> None:
    x, weight = c.args
    reference = F.rms_norm(x, x.shape[-1:], weight, eps=c.kwargs.get("eps", 1e-5))
    tolerance = 1e-5 if x.dtype == torch.float32 else 1e-9
    expect_close(out, reference, "normalized x", rtol=tolerance, atol=tolerance, dtype=x.dtype)


@judge(hidden.swiglu)
def judge_swiglu(c: Case, out: Any) -> None:
    x, W1, W3, W2 = (a.double() for a in c.args)
    reference = F.linear(F.silu(F.linear(x, W1)) * F.linear(x, W3), W2)
    tolerance = 1e-4 if c.args[0].dtype == torch.float32 else 1e-9
    expect_close(out, reference, "feed-forward output", rtol=tolerance, atol=tolerance)


@judge(hidden.transformer_block, hidden.transformer_block_gqa)
def judge_block(c: Case, out: Any) -> None:
    reference = references.llama_block(c.extra["config"], c.extra["weights"], c.args[0])
    expect_close(out, reference, "block output", rtol=1e-4, atol=1e-4)


@judge(hidden.transformer_block_causal)
def judge_block_causal(c: Case, out: hidden.Causal) -> None:
    """Three inputs that differ from position `cut` on, or in the first token: each output must be the reference's."""
    cut = c.extra["cut"]
    for x, y in zip(c.args, (out.original, out.future_changed, out.first_changed), strict=True):
        reference = references.llama_block(c.extra["config"], c.extra["weights"], x)
        expect(isinstance(y, torch.Tensor) and y.shape == reference.shape, "wrong output shape")
        causal = torch.allclose(y[:, :cut].double(), reference[:, :cut], rtol=1e-4, atol=1e-4)
        expect(causal, "outputs depend on later positions (not causal)")
        expect_close(y, reference, "block output on inputs that differ only in some positions", rtol=1e-4, atol=1e-4)


@judge(hidden.gpt)
def judge_gpt(c: Case, logits: Any) -> None:
    reference = references.llama_logits(c.extra["config"], c.extra["weights"], *c.args)
    expect_close(logits, reference, "logits", rtol=1e-4, atol=1e-4)


def _block_params(d: int, n_heads: int, n_kv_heads: int, d_ff: int) -> int:
    """A Llama block without biases: W_q, W_o (d x d), W_k, W_v (d x n_kv_heads d_head), three SwiGLU
    matrices (d x d_ff), two RMSNorm gains (d)."""
    d_head = d // n_heads
    return 2 * d * d + 2 * d * n_kv_heads * d_head + 3 * d * d_ff + 2 * d


answer_key(
    hidden,
    {"q1_residual": Choice("b"), "q2_pre_norm": Choice("b"), "q3_block_params": Number(_block_params(96, 6, 2, 256))},
)
