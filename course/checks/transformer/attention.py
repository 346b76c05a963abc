"""Visible checks of 01_attention.ipynb (module 02, the Transformer): attention and masks."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from course.checks import call, expect_close, expect_tensor, fail, fixed, is_close, passed

F = torch.nn.functional


Inputs = tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # q, k, v


def _inputs(*shapes: tuple[int, ...], seed: int) -> Inputs:
    return tuple(fixed(*shape, seed=seed + i) for i, shape in enumerate(shapes))  # type: ignore[return-value]


def _attention_result(
    sdpa: Callable, what: str, qkv: Inputs, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    q, k, v = qkv
    try:
        result = call(sdpa, q, k, v) if mask is None else call(sdpa, q, k, v, mask=mask)
    except RuntimeError as error:
        fail(
            f"{what} raised RuntimeError ({str(error)[:100]}): with batch dimensions, transpose only the last two axes of k (k.transpose(-2, -1), not k.T), and the mask must broadcast against (..., T_q, T_k) scores"
        )
    if not isinstance(result, tuple) or len(result) != 2:
        fail(f"{what} should return a tuple (out, weights), got {type(result).__name__}")
    out, weights = result
    shape = torch.broadcast_shapes(
        q.shape[:-1] + k.shape[-2:-1], k.shape[:-2] + (1, k.shape[-2]), () if mask is None else mask.shape
    )
    if isinstance(weights, torch.Tensor) and weights.is_floating_point() and not torch.isfinite(weights).all():
        if mask is not None and not mask.expand(shape).any(-1).all():
            fail(
                f"{what}: a fully masked row gives NaN (softmax of a row of -inf): give such rows zero weights and a zero output, e.g. fill with a large negative finite number and multiply the weights by the mask"
            )
        fail(f"{what}: the weights contain NaN or inf: subtract the row maximum in softmax, and do not divide by zero")
    expect_tensor(weights, f"{what}: weights", shape)
    expect_tensor(out, f"{what}: out", shape[:-1] + v.shape[-1:])
    if weights.dtype != q.dtype or out.dtype != q.dtype:
        fail(f"{what} returned {out.dtype} / {weights.dtype} for {q.dtype} inputs: keep the input's dtype")
    return out, weights


def _expect_attention(
    result: tuple[torch.Tensor, torch.Tensor],
    qkv: Inputs,
    mask: torch.Tensor | None,
    what: str,
    hint: str,
    out_hint: str = "out = weights @ v",
) -> None:
    """Fail unless (out, weights) are PyTorch's fused attention's (zeros for a query with no visible key);
    the weights are the attention over the rows of the identity."""
    (out, weights), (q, k, v) = result, qkv
    eye = torch.eye(k.shape[-2], dtype=q.dtype).expand(k.shape[:-1] + k.shape[-2:-1])
    expected = F.scaled_dot_product_attention(q, k, eye, attn_mask=mask).nan_to_num(0.0)
    expect_close(weights, expected, f"the weight matrix{what}", hint, rtol=1e-6, atol=1e-9)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask).nan_to_num(0.0)
    expect_close(out, expected, f"out{what}", out_hint, rtol=1e-6, atol=1e-9)


def check_softmax(softmax: Callable) -> None:
    x = fixed(4, 4, seed=11, scale=2.0)  # square, so that a missing keepdim still broadcasts
    y = expect_tensor(call(softmax, x.clone(), -1), "softmax(x, dim=-1)", x.shape)
    if y.dtype != x.dtype:
        fail(f"softmax returned {y.dtype} for a {x.dtype} input: keep the input's dtype")
    expected = torch.softmax(x, dim=-1)
    if not is_close(y, expected, rtol=1e-6, atol=1e-9):
        if is_close(y, torch.softmax(x, dim=0), rtol=1e-6, atol=1e-9):
            fail("softmax(x, dim=-1) normalizes over dim 0: reduce along the `dim` argument")
        if is_close(y.sum(), 1.0, rtol=1e-6):
            fail("the whole tensor sums to 1: sum only along `dim` (keepdim=True), not over every element")
        if not is_close(y.sum(-1), torch.ones(4, dtype=x.dtype), rtol=1e-6):
            fail("weights do not sum to 1 along dim: sum along `dim` with keepdim=True so that the sum broadcasts back")
        expect_close(
            y,
            expected,
            "softmax(x, dim=-1)",
            "exp(x - max) / sum(exp(x - max)), max and sum along dim with keepdim=True",
            rtol=1e-6,
            atol=1e-9,
        )
    x3 = fixed(2, 3, 4, seed=12)
    for dim in (0, 1, 2, -2):
        y = expect_tensor(call(softmax, x3.clone(), dim), f"softmax(x, dim={dim}) of a (2, 3, 4) tensor", x3.shape)
        expect_close(
            y,
            torch.softmax(x3, dim=dim),
            f"softmax(x, dim={dim}) of a (2, 3, 4) tensor",
            "reduce along the `dim` argument (max and sum with keepdim=True), whatever it is",
            rtol=1e-6,
            atol=1e-9,
        )
    y32 = call(softmax, x.float(), -1)
    if not isinstance(y32, torch.Tensor) or y32.dtype != torch.float32:
        fail("softmax of a float32 tensor should return a float32 tensor")
    passed("softmax matches torch.softmax along any dim")


def check_softmax_stability(softmax: Callable) -> None:
    inf = float("inf")
    x = torch.tensor([[1000.0, 999.0, 0.0], [-1e4, -1e4 + 1.0, -1e4 + 2.0], [0.0, -inf, 1.0]], dtype=torch.float64)
    y = call(softmax, x.clone(), -1)
    if isinstance(y, torch.Tensor) and y.shape == x.shape and not torch.isfinite(y).all():
        if not torch.isfinite(y[0]).all():
            fail(
                "NaN for scores near 1000: exp(1000) overflows; subtract each row's maximum before exp (softmax is unchanged by a shift)"
            )
        if not torch.isfinite(y[1]).all():
            fail(
                "NaN for a row of scores near -1e4: subtract each row's own maximum (along dim, keepdim=True), not the maximum of the whole tensor"
            )
        fail("NaN or inf for a row with a -inf score: exp(-inf) is 0, so only subtract a finite row maximum")
    expect_close(
        expect_tensor(y, "softmax of large scores", x.shape),
        torch.softmax(x, dim=-1),
        "softmax of scores of ±1e4 and -inf",
        "subtract the maximum along dim before exp",
        rtol=1e-6,
        atol=1e-9,
    )
    x32 = torch.tensor([[200.0, 190.0], [-300.0, -301.0]], dtype=torch.float32)
    y32 = call(softmax, x32.clone(), 1)
    if not isinstance(y32, torch.Tensor) or not torch.isfinite(y32).all():
        fail(
            "NaN or inf for float32 scores of 200 (exp overflows above ~88 in float32): subtract the maximum along dim first"
        )
    expect_close(
        y32,
        torch.softmax(x32, dim=1),
        "softmax of float32 scores of ±200",
        "subtract the maximum along dim before exp",
        rtol=1e-5,
        atol=1e-7,
    )
    passed("softmax is stable for scores of ±1e4 and -inf")


def check_scaled_dot_product_attention(scaled_dot_product_attention: Callable) -> None:
    qkv = q, k, _ = _inputs((4, 3), (4, 3), (4, 2), seed=21)
    out, weights = _attention_result(scaled_dot_product_attention, "attention of (4, 3) inputs", qkv)
    scores = q @ k.T
    if is_close(weights, torch.softmax(scores, dim=-1), rtol=1e-6):
        fail("forgot the 1/sqrt(d) scale: scores = q @ k^T / sqrt(d), with d = q.shape[-1]")
    if is_close(weights, torch.softmax(scores / 3, dim=-1), rtol=1e-6):
        fail("the scores are divided by d; the scale is 1/sqrt(d)")
    if is_close(weights.sum(-2), torch.ones(4, dtype=q.dtype), rtol=1e-6):
        fail(
            "weights do not sum to 1 over the last axis (the keys), they sum to 1 over the queries: softmax over the wrong dim?"
        )
    if is_close(weights, torch.softmax(k @ q.T / math.sqrt(3), dim=-1), rtol=1e-6):
        fail("queries and keys are swapped: row i of the weights belongs to query i, scores = q @ k^T")
    if is_close(weights, torch.softmax(scores / math.sqrt(2), dim=-1), rtol=1e-6):
        fail("the scale uses the values' dimension: d is the query/key dimension, q.shape[-1]")
    _expect_attention((out, weights), qkv, None, "", "weights = softmax(q @ k^T / sqrt(d)) along the last axis")
    qkv = _inputs((2, 5, 4), (2, 5, 4), (2, 5, 4), seed=24)
    _expect_attention(
        _attention_result(scaled_dot_product_attention, "attention of (2, 5, 4) inputs", qkv),
        qkv,
        None,
        " of a batch (2, 5, 4)",
        "transpose only the last two axes of k: k.transpose(-2, -1) (k.T reverses every axis)",
    )
    passed("scaled_dot_product_attention: weights and outputs match softmax(q k^T / sqrt(d)) v")


def check_attention_masks(scaled_dot_product_attention: Callable) -> None:
    qkv, causal = _inputs((2, 4, 3), (2, 4, 3), (2, 4, 3), seed=31), torch.ones(4, 4, dtype=torch.bool).tril()
    out, weights = _attention_result(scaled_dot_product_attention, "attention with a causal mask", qkv, causal)
    if is_close(out, F.scaled_dot_product_attention(*qkv), rtol=1e-6, atol=1e-9):
        fail("the mask is ignored: fill the scores where mask is False before the softmax")
    if ((weights.abs() < 1e-12) & causal).any():  # a softmax gives every visible key a positive weight
        fail(
            "keys the mask allows get zero weight: mask used with the wrong meaning? True = may attend, so hide the scores where the mask is False"
        )
    if (weights.abs() > 1e-9).logical_and(~causal).any():
        fail(
            "weights are nonzero where the mask is False: fill those scores with -inf or a very negative number before the softmax"
        )
    hint = "hide the scores where the mask is False, then softmax"
    _expect_attention((out, weights), qkv, causal, " with a causal mask", hint)
    # a (B, 1, 1, T_k) mask over (B, H, T_q, T_k) scores; batch 1 has no visible key at all
    mask = torch.tensor([[True, True, False], [False, False, False]]).view(2, 1, 1, 3)
    hint = "the mask broadcasts over heads and queries; True = may attend"
    qkv = _inputs((2, 2, 3, 4), (2, 2, 3, 4), (2, 2, 3, 4), seed=34)
    _check_fully_masked(scaled_dot_product_attention, "a (B, 1, 1, T) mask", qkv, mask, hint)
    # a per-query mask with one fully masked row
    mask = torch.tensor([[True, False, True], [False, False, False], [False, True, True]])
    hint = "rows with a visible key are ordinary masked softmaxes"
    qkv = _inputs((3, 4), (3, 4), (3, 2), seed=37)
    _check_fully_masked(scaled_dot_product_attention, "a fully masked row", qkv, mask, hint)
    passed("attention masks: True = may attend, masks broadcast, fully masked rows give zeros")


def _check_fully_masked(sdpa: Callable, what: str, qkv: Inputs, mask: torch.Tensor, hint: str) -> None:
    """Attention under `mask`, whose entry 1 along the first dimension hides every key."""
    out, weights = _attention_result(sdpa, f"attention with {what}", qkv, mask)
    if weights[1].abs().max() > 1e-9 or out[1].abs().max() > 1e-9:
        fail(
            "a fully masked row must give zero weights and a zero output (not a uniform average): e.g. multiply the weights by the mask after the softmax"
        )
    _expect_attention((out, weights), qkv, mask, f" with {what}", hint)


def check_cross_attention(scaled_dot_product_attention: Callable) -> None:
    qkv = _inputs((2, 3, 3, 4), (2, 3, 5, 4), (2, 3, 5, 6), seed=41)
    for mask in (
        None,
        torch.tensor(
            [[True, True, False, True, False], [False, True, True, True, True], [True, False, False, False, False]]
        ),
    ):
        what = "cross-attention (T_q=3, T_k=5, d=4, d_v=6)" + (" with a (T_q, T_k) mask" if mask is not None else "")
        _expect_attention(
            _attention_result(scaled_dot_product_attention, what, qkv, mask),
            qkv,
            mask,
            f" of {what}",
            "weights are (..., T_q, T_k), the scale is 1/sqrt(d) with d = q.shape[-1]",
            "out = weights @ v has shape (..., T_q, d_v)",
        )
    passed("scaled_dot_product_attention handles batch dimensions, T_q != T_k and d_v != d")


def _check_mask(mask: Any, expected: torch.Tensor, what: str, wrong: dict[str, torch.Tensor], hint: str) -> None:
    if not isinstance(mask, torch.Tensor):
        fail(f"{what} should be a torch.Tensor, got {type(mask).__name__}")
    if mask.dtype != torch.bool:
        fail(f"{what} has dtype {mask.dtype}; masks are boolean tensors (torch.bool): use comparisons or .bool()")
    for label, candidate in wrong.items():
        if tuple(mask.shape) == tuple(candidate.shape) and torch.equal(mask, candidate):
            fail(f"{what}: {label}")
    if tuple(mask.shape) != tuple(expected.shape):
        fail(f"{what} has shape {tuple(mask.shape)}, expected {tuple(expected.shape)}")
    if not torch.equal(mask, expected):
        fail(f"{what} is wrong: {hint}")


def check_causal_mask(causal_mask: Callable) -> None:
    ones = torch.ones(4, 4, dtype=torch.bool)
    _check_mask(
        call(causal_mask, 4),
        ones.tril(),
        "causal_mask(4)",
        {
            "the diagonal is False: a token may attend to itself (True where j <= i)": ones.tril(-1),
            "True above the diagonal: row i is the query, column j the key, True where j <= i": ones.triu(),
            "every entry is True: the mask must hide the future keys j > i": ones,
        },
        "True where the key j <= the query i",
    )
    _check_mask(
        call(causal_mask, 1),
        torch.ones(1, 1, dtype=torch.bool),
        "causal_mask(1)",
        {},
        "a single token attends to itself",
    )
    passed("causal_mask: True where j <= i")


def check_padding_mask(padding_mask: Callable) -> None:
    lengths, T = torch.tensor([2, 4, 1]), 4
    j = torch.arange(T)
    keep = j[None, :] < lengths[:, None]
    _check_mask(
        call(padding_mask, lengths, T),
        keep[:, None, None, :],
        "padding_mask([2, 4, 1], 4)",
        {
            "shape (B, T): return (B, 1, 1, T) so that it broadcasts over heads and queries of (B, H, T_q, T_k) scores": keep,
            "True on the padding: True marks the real tokens (those that may be attended to)": ~keep[:, None, None, :],
            "one position too many: positions 0 .. lengths[b] - 1 are real tokens (j < lengths[b])": (
                j[None, :] <= lengths[:, None]
            )[:, None, None, :],
        },
        "True where j < lengths[b], shape (B, 1, 1, T)",
    )
    passed("padding_mask: (B, 1, 1, T), True where j < lengths[b]")


def check_prefix_lm_mask(prefix_lm_mask: Callable) -> None:
    T, p = 5, 2
    i, j = torch.arange(T)[:, None], torch.arange(T)[None, :]
    _check_mask(
        call(prefix_lm_mask, T, p),
        (j <= i) | (j < p),
        "prefix_lm_mask(5, 2)",
        {
            "this is the causal mask: every query may also see the whole prefix (j < prefix_len)": j <= i,
            "only the prefix is visible: after the prefix, tokens still attend causally (j <= i)": (j < p).expand(T, T),
            "the prefix is too long by one: positions 0 .. prefix_len - 1 form the prefix (j < prefix_len)": (j <= i)
            | (j <= p),
            "queries in the prefix see everything: it is the keys j < prefix_len that every query may see": (j <= i)
            | (i < p),
        },
        "True where j < prefix_len or j <= i",
    )
    _check_mask(
        call(prefix_lm_mask, 4, 0),
        torch.ones(4, 4, dtype=torch.bool).tril(),
        "prefix_lm_mask(4, 0)",
        {},
        "an empty prefix gives the causal mask",
    )
    passed("prefix_lm_mask: True where j < prefix_len or j <= i")


def check_multi_head_attention(multi_head_attention: Callable) -> None:
    B, T, d, h = 2, 5, 8, 2
    x = fixed(B, T, d, seed=51)
    W_q, W_k, W_v, W_o = (fixed(d, d, seed=52 + i, scale=d**-0.5) for i in range(4))
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    module = torch.nn.MultiheadAttention(d, h, bias=False, batch_first=True, dtype=torch.float64)

    def torch_mha(W_q: torch.Tensor, W_k: torch.Tensor, W_v: torch.Tensor, W_o: torch.Tensor, mask=None):
        with torch.no_grad():  # PyTorch's bias-free multi-head attention with these weights
            module.in_proj_weight.copy_(torch.cat([W_q, W_k, W_v]))
            module.out_proj.weight.copy_(W_o)
            return module(x, x, x, need_weights=False, attn_mask=None if mask is None else ~mask)[0]

    expected, expected_causal = torch_mha(W_q, W_k, W_v, W_o), torch_mha(W_q, W_k, W_v, W_o, causal)
    what = "multi_head_attention(x, W_q, W_k, W_v, W_o, n_heads=2)"
    y = expect_tensor(call(multi_head_attention, x, W_q, W_k, W_v, W_o, h), what, (B, T, d))
    if not is_close(y, expected, rtol=1e-6, atol=1e-9):
        if is_close(y, expected_causal, rtol=1e-6, atol=1e-9):
            fail("with mask=None every token attends to every token: there is no implicit causal mask")
        if is_close(y, torch_mha(W_q, W_k, W_v, torch.eye(d, dtype=x.dtype)), rtol=1e-6, atol=1e-9):
            fail("forgot the output projection: the merged heads go through W_o (y = heads @ W_o.T)")
        if is_close(y, torch_mha(W_q.T, W_k.T, W_v.T, W_o.T), rtol=1e-6, atol=1e-9) or is_close(
            y, torch_mha(W_q, W_k, W_v, W_o.T), rtol=1e-6, atol=1e-9
        ):
            fail("weights are (d_out, d_in): project with x @ W.T")
        fail(
            f"{what} differs from torch.nn.MultiheadAttention: head h uses features h*d_head .. (h+1)*d_head - 1, i.e. view(B, T, n_heads, d_head).transpose(1, 2); merge back with transpose(1, 2).reshape(B, T, d_model) before W_o"
        )
    y = expect_tensor(
        call(multi_head_attention, x, W_q, W_k, W_v, W_o, h, mask=causal), f"{what} with a causal mask", (B, T, d)
    )
    if not is_close(y, expected_causal, rtol=1e-6, atol=1e-9):
        if is_close(y, expected, rtol=1e-6, atol=1e-9):
            fail("the mask is ignored: pass it on to your scaled_dot_product_attention")
        expect_close(
            y,
            expected_causal,
            f"{what} with a causal mask",
            "the (T, T) mask broadcasts over batch and heads; True = may attend",
            rtol=1e-6,
            atol=1e-9,
        )
    passed("multi_head_attention matches torch.nn.MultiheadAttention (bias-free)")


def check_grouped_query_attention(multi_head_attention: Callable) -> None:
    B, T, d, h, d_head = 2, 4, 8, 4, 2
    x = fixed(B, T, d, seed=61)
    W_q, W_o = fixed(d, d, seed=62, scale=d**-0.5), fixed(d, d, seed=63, scale=d**-0.5)
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    module = torch.nn.MultiheadAttention(d, h, bias=False, batch_first=True, dtype=torch.float64)

    def torch_mha(W_k: torch.Tensor, W_v: torch.Tensor, kv_heads: torch.Tensor, mask=None):
        rows = (kv_heads[:, None] * d_head + torch.arange(d_head)).flatten()  # query head j reads kv head kv_heads[j]
        with torch.no_grad():  # PyTorch's multi-head attention with the key/value heads repeated
            module.in_proj_weight.copy_(torch.cat([W_q, W_k[rows], W_v[rows]]))
            module.out_proj.weight.copy_(W_o)
            return module(x, x, x, need_weights=False, attn_mask=None if mask is None else ~mask)[0]

    for n_kv, mask in ((2, None), (1, causal)):
        W_k, W_v = (fixed(n_kv * d_head, d, seed=seed + n_kv, scale=d**-0.5) for seed in (64, 66))
        what = f"multi_head_attention with n_heads={h}, n_kv_heads={n_kv}" + (
            " and a causal mask" if mask is not None else ""
        )
        y = call(multi_head_attention, x, W_q, W_k, W_v, W_o, h, n_kv_heads=n_kv, mask=mask)
        y = expect_tensor(y, what, (B, T, d))
        expected = torch_mha(W_k, W_v, torch.arange(h) // (h // n_kv), mask)
        if not is_close(y, expected, rtol=1e-6, atol=1e-9):
            if is_close(y, torch_mha(W_k, W_v, torch.arange(h) % n_kv, mask), rtol=1e-6, atol=1e-9):
                fail(
                    "query head h must use key/value head h // (n_heads // n_kv_heads): consecutive query heads share a kv head (repeat_interleave, not repeat)"
                )
            expect_close(
                y,
                expected,
                what,
                "W_k and W_v are (n_kv_heads * d_head, d_model); query head h uses kv head h // (n_heads // n_kv_heads)",
                rtol=1e-6,
                atol=1e-9,
            )
    passed("grouped-query and multi-query attention: query head h uses kv head h // (n_heads // n_kv_heads)")
