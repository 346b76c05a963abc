"""Judges of 01_attention.ipynb: PyTorch's softmax and fused attention, nn.MultiheadAttention, masks from their
definitions."""

from __future__ import annotations

from typing import Any

import torch

from autograde.hidden import Case
from autograde.judge import Choice, Number, answer_key, expect, expect_close, judge, probes_for, references

hidden = probes_for(__name__)


def _tolerance(x: torch.Tensor) -> float:
    return 1e-5 if x.dtype == torch.float32 else 1e-9


@judge(hidden.softmax, hidden.softmax_stability)
def judge_softmax(c: Case, y: Any) -> None:
    x, dim = c.args
    expect(isinstance(y, torch.Tensor) and y.dtype == x.dtype, "the result must keep the input's dtype")
    tol = _tolerance(x)
    expect_close(y, torch.softmax(x.double(), dim=dim), "probabilities", rtol=tol * 10, atol=tol)


@judge(hidden.scaled_dot_product_attention, hidden.attention_masks, hidden.cross_attention)
def judge_attention(c: Case, result: hidden.Attended) -> None:
    q = c.args[0]
    expected_out, expected_weights = references.attention(*c.args, c.kwargs.get("mask"))
    for name in ("weights", "out"):
        value = getattr(result, name)
        expect(isinstance(value, torch.Tensor) and value.dtype == q.dtype, f"{name} must keep the input's dtype")
    tol = _tolerance(q)
    expect_close(result.weights, expected_weights, "weights", rtol=tol * 10, atol=tol)
    expect_close(result.out, expected_out, "out", rtol=tol * 10, atol=tol)


def _expect_mask(mask: Any, expected: torch.Tensor) -> None:
    expect(isinstance(mask, torch.Tensor) and mask.dtype == torch.bool, "should be a boolean tensor")
    expect(tuple(mask.shape) == tuple(expected.shape), f"wrong shape {tuple(mask.shape)}")
    expect(torch.equal(mask, expected), "wrong values")


@judge(hidden.causal_mask)
def judge_causal_mask(c: Case, mask: Any) -> None:
    (T,) = c.args
    _expect_mask(mask, torch.tril(torch.ones(T, T)).bool())


@judge(hidden.padding_mask)
def judge_padding_mask(c: Case, mask: Any) -> None:
    lengths, T = c.args
    B = len(lengths)
    _expect_mask(mask, (torch.arange(T).expand(B, T) < lengths.unsqueeze(1)).view(B, 1, 1, T))


@judge(hidden.prefix_lm_mask)
def judge_prefix_lm_mask(c: Case, mask: Any) -> None:
    T, prefix_len = c.args
    expected = torch.ones(T, T).bool()
    expected[:, prefix_len:] = torch.tril(expected)[:, prefix_len:]
    _expect_mask(mask, expected)


def _mha_torch(c: Case) -> torch.Tensor:
    """torch.nn.MultiheadAttention (bias-free) given the case's weights; masks inverted to its convention."""
    x, W_q, W_k, W_v, W_o, h = c.args
    x, mask = x.double(), c.kwargs.get("mask")
    B, T, d = x.shape
    module = torch.nn.MultiheadAttention(d, h, bias=False, batch_first=True, dtype=torch.float64)
    attn_mask = None
    if mask is not None:
        attn_mask = (~mask).expand(B, h, T, T).reshape(B * h, T, T)  # PyTorch: True = may NOT attend
    with torch.no_grad():
        module.in_proj_weight.copy_(torch.cat([W_q, W_k, W_v]).double())
        module.out_proj.weight.copy_(W_o.double())
        return module(x, x, x, need_weights=False, attn_mask=attn_mask)[0]


def _gqa_torch(c: Case) -> torch.Tensor:
    """PyTorch's attention with enable_gqa (query head h uses kv head h // group)."""
    x, W_q, W_k, W_v, W_o = (a.double() for a in c.args[:5])
    h = c.args[5]
    n_kv = c.kwargs["n_kv_heads"]
    B, T, d = x.shape
    d_head = d // h
    q = (x @ W_q.T).view(B, T, h, d_head).transpose(1, 2)
    k = (x @ W_k.T).view(B, T, n_kv, d_head).transpose(1, 2)
    v = (x @ W_v.T).view(B, T, n_kv, d_head).transpose(1, 2)
    heads = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=c.kwargs.get("mask"), enable_gqa=True)
    return heads.transpose(1, 2).reshape(B, T, d) @ W_o.T


def _expect_mha(c: Case, y: Any, expected: torch.Tensor) -> None:
    x = c.args[0]
    expect(isinstance(y, torch.Tensor) and y.dtype == x.dtype, "the result must keep the input's dtype")
    tol = _tolerance(x)
    expect_close(y, expected, "output", rtol=tol * 10, atol=tol * 10)


@judge(hidden.multi_head_attention)
def judge_multi_head_attention(c: Case, y: Any) -> None:
    _expect_mha(c, y, _mha_torch(c))


@judge(hidden.grouped_query_attention)
def judge_grouped_query_attention(c: Case, y: Any) -> None:
    _expect_mha(c, y, _gqa_torch(c))


def _unscaled_max_weight() -> float:
    """The largest softmax weight of raw dot products: one query against 16 keys, d = 64, drawn in one call."""
    draws = torch.randn(17, 64, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return torch.softmax(draws[:1] @ draws[1:].T, dim=-1).max().item()


answer_key(
    hidden,
    {
        "q1_unscaled_max_weight": Number(_unscaled_max_weight()),
        # K and V, 32 layers, 8 kv heads, head dimension 128, 8192 tokens, 2 bytes
        "q2_kv_cache_gib": Number(2 * 32 * 8 * 128 * 8192 * 2 / 2**30),
        "q3_attention_parallel": Choice("c"),
    },
)
