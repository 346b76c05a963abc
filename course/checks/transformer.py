"""Visible checks for module 02, the Transformer.

Each check runs the student's code on small fixed inputs, compares with PyTorch
or a closed form, and names the likely mistake when something is off.
Conventions: masks are boolean, True = may attend; weights are (d_out, d_in);
RoPE rotates interleaved pairs (x[2i], x[2i+1]).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch

from course.checks import call, check_choice, check_number, expect_close, expect_tensor, fail, fixed, is_close, passed  # noqa: F401 - notebooks call checks.check_choice

# == notebook 1: attention and masks ==========================================================


def _attention_reference(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(out, weights) in float64: masked keys get weight 0, a fully masked row gives zeros."""
    q, k, v = q.double(), k.double(), v.double()
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1).nan_to_num(0.0)
    return weights @ v, weights


def _attention_result(sdpa: Callable, what: str, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    try:
        result = call(sdpa, q, k, v) if mask is None else call(sdpa, q, k, v, mask=mask)
    except RuntimeError as error:
        fail(f"{what} raised RuntimeError ({str(error)[:100]}): with batch dimensions, transpose only the last two axes of k (k.transpose(-2, -1), not k.T), and the mask must broadcast against (..., T_q, T_k) scores")
    if not isinstance(result, tuple) or len(result) != 2:
        fail(f"{what} should return a tuple (out, weights), got {type(result).__name__}")
    out, weights = result
    expected_out, expected_weights = _attention_reference(q, k, v, mask)
    if isinstance(weights, torch.Tensor) and weights.is_floating_point() and not torch.isfinite(weights).all():
        if mask is not None and not mask.expand(expected_weights.shape).any(-1).all():
            fail(f"{what}: a fully masked row gives NaN (softmax of a row of -inf): give such rows zero weights and a zero output, e.g. fill with a large negative finite number and multiply the weights by the mask")
        fail(f"{what}: the weights contain NaN or inf: subtract the row maximum in softmax, and do not divide by zero")
    expect_tensor(weights, f"{what}: weights", expected_weights.shape)
    expect_tensor(out, f"{what}: out", expected_out.shape)
    if weights.dtype != q.dtype or out.dtype != q.dtype:
        fail(f"{what} returned {out.dtype} / {weights.dtype} for {q.dtype} inputs: keep the input's dtype")
    return out, weights


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
        expect_close(y, expected, "softmax(x, dim=-1)", "exp(x - max) / sum(exp(x - max)), max and sum along dim with keepdim=True", rtol=1e-6, atol=1e-9)
    x3 = fixed(2, 3, 4, seed=12)
    for dim in (0, 1, 2, -2):
        y = expect_tensor(call(softmax, x3.clone(), dim), f"softmax(x, dim={dim}) of a (2, 3, 4) tensor", x3.shape)
        expect_close(y, torch.softmax(x3, dim=dim), f"softmax(x, dim={dim}) of a (2, 3, 4) tensor", "reduce along the `dim` argument (max and sum with keepdim=True), whatever it is", rtol=1e-6, atol=1e-9)
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
            fail("NaN for scores near 1000: exp(1000) overflows; subtract each row's maximum before exp (softmax is unchanged by a shift)")
        if not torch.isfinite(y[1]).all():
            fail("NaN for a row of scores near -1e4: subtract each row's own maximum (along dim, keepdim=True), not the maximum of the whole tensor")
        fail("NaN or inf for a row with a -inf score: exp(-inf) is 0, so only subtract a finite row maximum")
    expect_close(expect_tensor(y, "softmax of large scores", x.shape), torch.softmax(x, dim=-1), "softmax of scores of ±1e4 and -inf", "subtract the maximum along dim before exp", rtol=1e-6, atol=1e-9)
    x32 = torch.tensor([[200.0, 190.0], [-300.0, -301.0]], dtype=torch.float32)
    y32 = call(softmax, x32.clone(), 1)
    if not isinstance(y32, torch.Tensor) or not torch.isfinite(y32).all():
        fail("NaN or inf for float32 scores of 200 (exp overflows above ~88 in float32): subtract the maximum along dim first")
    expect_close(y32, torch.softmax(x32, dim=1), "softmax of float32 scores of ±200", "subtract the maximum along dim before exp", rtol=1e-5, atol=1e-7)
    passed("softmax is stable for scores of ±1e4 and -inf")


def check_scaled_dot_product_attention(scaled_dot_product_attention: Callable) -> None:
    q, k, v = fixed(4, 3, seed=21), fixed(4, 3, seed=22), fixed(4, 2, seed=23)
    out, weights = _attention_result(scaled_dot_product_attention, "attention of (4, 3) inputs", q, k, v)
    expected_out, expected = _attention_reference(q, k, v)
    if not is_close(weights, expected, rtol=1e-6, atol=1e-9):
        scores = q @ k.T
        if is_close(weights, torch.softmax(scores, dim=-1), rtol=1e-6):
            fail("forgot the 1/sqrt(d) scale: scores = q @ k^T / sqrt(d), with d = q.shape[-1]")
        if is_close(weights, torch.softmax(scores / 3, dim=-1), rtol=1e-6):
            fail("the scores are divided by d; the scale is 1/sqrt(d)")
        if is_close(weights.sum(-2), torch.ones(4, dtype=q.dtype), rtol=1e-6):
            fail("weights do not sum to 1 over the last axis (the keys), they sum to 1 over the queries: softmax over the wrong dim?")
        if is_close(weights, torch.softmax(k @ q.T / math.sqrt(3), dim=-1), rtol=1e-6):
            fail("queries and keys are swapped: row i of the weights belongs to query i, scores = q @ k^T")
        if is_close(weights, torch.softmax(scores / math.sqrt(2), dim=-1), rtol=1e-6):
            fail("the scale uses the values' dimension: d is the query/key dimension, q.shape[-1]")
        expect_close(weights, expected, "the weight matrix", "weights = softmax(q @ k^T / sqrt(d)) along the last axis", rtol=1e-6, atol=1e-9)
    expect_close(out, expected_out, "out", "out = weights @ v", rtol=1e-6, atol=1e-9)
    q, k, v = fixed(2, 5, 4, seed=24), fixed(2, 5, 4, seed=25), fixed(2, 5, 4, seed=26)
    out, weights = _attention_result(scaled_dot_product_attention, "attention of (2, 5, 4) inputs", q, k, v)
    expected_out, expected = _attention_reference(q, k, v)
    expect_close(weights, expected, "the weight matrix of a batch (2, 5, 4)", "transpose only the last two axes of k: k.transpose(-2, -1) (k.T reverses every axis)", rtol=1e-6, atol=1e-9)
    expect_close(out, expected_out, "out of a batch (2, 5, 4)", "out = weights @ v", rtol=1e-6, atol=1e-9)
    passed("scaled_dot_product_attention: weights and outputs match softmax(q k^T / sqrt(d)) v")


def check_attention_masks(scaled_dot_product_attention: Callable) -> None:
    q, k, v = fixed(2, 4, 3, seed=31), fixed(2, 4, 3, seed=32), fixed(2, 4, 3, seed=33)
    causal = torch.ones(4, 4, dtype=torch.bool).tril()
    out, weights = _attention_result(scaled_dot_product_attention, "attention with a causal mask", q, k, v, causal)
    expected_out, expected = _attention_reference(q, k, v, causal)
    if not is_close(weights, expected, rtol=1e-6, atol=1e-9):
        if is_close(out, _attention_reference(q, k, v)[0], rtol=1e-6, atol=1e-9):
            fail("the mask is ignored: fill the scores where mask is False before the softmax")
        if ((weights.abs() < 1e-12) & (expected > 1e-6)).any():
            fail("keys the mask allows get zero weight: mask used with the wrong meaning? True = may attend, so hide the scores where the mask is False")
        if (weights.abs() > 1e-9).logical_and(~causal).any():
            fail("weights are nonzero where the mask is False: fill those scores with -inf or a very negative number before the softmax")
        expect_close(weights, expected, "the weight matrix with a causal mask", "hide the scores where the mask is False, then softmax", rtol=1e-6, atol=1e-9)
    expect_close(out, expected_out, "out with a causal mask", "out = weights @ v", rtol=1e-6, atol=1e-9)
    # a (B, 1, 1, T_k) mask over (B, H, T_q, T_k) scores; batch 1 has no visible key at all
    q, k, v = fixed(2, 2, 3, 4, seed=34), fixed(2, 2, 3, 4, seed=35), fixed(2, 2, 3, 4, seed=36)
    mask = torch.tensor([[True, True, False], [False, False, False]]).view(2, 1, 1, 3)
    _check_fully_masked(scaled_dot_product_attention, "a (B, 1, 1, T) mask", q, k, v, mask, "the mask broadcasts over heads and queries; True = may attend")
    # a per-query mask with one fully masked row
    q, k, v = fixed(3, 4, seed=37), fixed(3, 4, seed=38), fixed(3, 2, seed=39)
    mask = torch.tensor([[True, False, True], [False, False, False], [False, True, True]])
    _check_fully_masked(scaled_dot_product_attention, "a fully masked row", q, k, v, mask, "rows with a visible key are ordinary masked softmaxes")
    passed("attention masks: True = may attend, masks broadcast, fully masked rows give zeros")


def _check_fully_masked(sdpa: Callable, what: str, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor, hint: str) -> None:
    """Attention under `mask`, whose entry 1 along the first dimension hides every key."""
    out, weights = _attention_result(sdpa, f"attention with {what}", q, k, v, mask)
    expected_out, expected = _attention_reference(q, k, v, mask)
    if weights[1].abs().max() > 1e-9 or out[1].abs().max() > 1e-9:
        fail("a fully masked row must give zero weights and a zero output (not a uniform average): e.g. multiply the weights by the mask after the softmax")
    expect_close(weights, expected, f"the weight matrix with {what}", hint, rtol=1e-6, atol=1e-9)
    expect_close(out, expected_out, f"out with {what}", "out = weights @ v", rtol=1e-6, atol=1e-9)


def check_cross_attention(scaled_dot_product_attention: Callable) -> None:
    q, k, v = fixed(2, 3, 3, 4, seed=41), fixed(2, 3, 5, 4, seed=42), fixed(2, 3, 5, 6, seed=43)
    for mask in (None, torch.tensor([[True, True, False, True, False], [False, True, True, True, True], [True, False, False, False, False]])):
        what = "cross-attention (T_q=3, T_k=5, d=4, d_v=6)" + (" with a (T_q, T_k) mask" if mask is not None else "")
        out, weights = _attention_result(scaled_dot_product_attention, what, q, k, v, mask)
        expected_out, expected = _attention_reference(q, k, v, mask)
        expect_close(weights, expected, f"the weight matrix of {what}", "weights are (..., T_q, T_k), the scale is 1/sqrt(d) with d = q.shape[-1]", rtol=1e-6, atol=1e-9)
        expect_close(out, expected_out, f"out of {what}", "out = weights @ v has shape (..., T_q, d_v)", rtol=1e-6, atol=1e-9)
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
    _check_mask(call(causal_mask, 4), ones.tril(), "causal_mask(4)", {
        "the diagonal is False: a token may attend to itself (True where j <= i)": ones.tril(-1),
        "True above the diagonal: row i is the query, column j the key, True where j <= i": ones.triu(),
        "every entry is True: the mask must hide the future keys j > i": ones,
    }, "True where the key j <= the query i")
    _check_mask(call(causal_mask, 1), torch.ones(1, 1, dtype=torch.bool), "causal_mask(1)", {}, "a single token attends to itself")
    passed("causal_mask: True where j <= i")


def check_padding_mask(padding_mask: Callable) -> None:
    lengths, T = torch.tensor([2, 4, 1]), 4
    j = torch.arange(T)
    keep = j[None, :] < lengths[:, None]
    _check_mask(call(padding_mask, lengths, T), keep[:, None, None, :], "padding_mask([2, 4, 1], 4)", {
        "shape (B, T): return (B, 1, 1, T) so that it broadcasts over heads and queries of (B, H, T_q, T_k) scores": keep,
        "True on the padding: True marks the real tokens (those that may be attended to)": ~keep[:, None, None, :],
        "one position too many: positions 0 .. lengths[b] - 1 are real tokens (j < lengths[b])": (j[None, :] <= lengths[:, None])[:, None, None, :],
    }, "True where j < lengths[b], shape (B, 1, 1, T)")
    passed("padding_mask: (B, 1, 1, T), True where j < lengths[b]")


def check_prefix_lm_mask(prefix_lm_mask: Callable) -> None:
    T, p = 5, 2
    i, j = torch.arange(T)[:, None], torch.arange(T)[None, :]
    _check_mask(call(prefix_lm_mask, T, p), (j <= i) | (j < p), "prefix_lm_mask(5, 2)", {
        "this is the causal mask: every query may also see the whole prefix (j < prefix_len)": j <= i,
        "only the prefix is visible: after the prefix, tokens still attend causally (j <= i)": (j < p).expand(T, T),
        "the prefix is too long by one: positions 0 .. prefix_len - 1 form the prefix (j < prefix_len)": (j <= i) | (j <= p),
        "queries in the prefix see everything: it is the keys j < prefix_len that every query may see": (j <= i) | (i < p),
    }, "True where j < prefix_len or j <= i")
    _check_mask(call(prefix_lm_mask, 4, 0), torch.ones(4, 4, dtype=torch.bool).tril(), "prefix_lm_mask(4, 0)", {}, "an empty prefix gives the causal mask")
    passed("prefix_lm_mask: True where j < prefix_len or j <= i")


def _mha_reference(x: torch.Tensor, W_q: torch.Tensor, W_k: torch.Tensor, W_v: torch.Tensor, W_o: torch.Tensor, n_heads: int, mask: torch.Tensor | None = None, kv_head: Callable[[int, int], int] = lambda h, group: h // group) -> torch.Tensor:
    """Multi-head attention written head by head; query head h uses key/value head kv_head(h, group)."""
    B, T, d = x.shape
    d_head = d // n_heads
    group = n_heads // (W_k.shape[0] // d_head)
    heads = []
    for h in range(n_heads):
        g = kv_head(h, group)
        q = x @ W_q[h * d_head:(h + 1) * d_head].T
        k = x @ W_k[g * d_head:(g + 1) * d_head].T
        v = x @ W_v[g * d_head:(g + 1) * d_head].T
        m = None if mask is None else mask.expand(B, n_heads, T, T)[:, h]
        heads.append(_attention_reference(q, k, v, m)[0])
    return torch.cat(heads, dim=-1) @ W_o.T


def check_multi_head_attention(multi_head_attention: Callable) -> None:
    B, T, d, h = 2, 5, 8, 2
    x = fixed(B, T, d, seed=51)
    W_q, W_k, W_v, W_o = (fixed(d, d, seed=52 + i, scale=d**-0.5) for i in range(4))
    torch_mha = torch.nn.MultiheadAttention(d, h, bias=False, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        torch_mha.in_proj_weight.copy_(torch.cat([W_q, W_k, W_v]))
        torch_mha.out_proj.weight.copy_(W_o)
        expected = torch_mha(x, x, x, need_weights=False)[0]
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        expected_causal = torch_mha(x, x, x, need_weights=False, attn_mask=~causal)[0]
    what = "multi_head_attention(x, W_q, W_k, W_v, W_o, n_heads=2)"
    y = expect_tensor(call(multi_head_attention, x, W_q, W_k, W_v, W_o, h), what, (B, T, d))
    if not is_close(y, expected, rtol=1e-6, atol=1e-9):
        if is_close(y, expected_causal, rtol=1e-6, atol=1e-9):
            fail("with mask=None every token attends to every token: there is no implicit causal mask")
        if is_close(y, _mha_reference(x, W_q, W_k, W_v, torch.eye(d, dtype=x.dtype), h), rtol=1e-6, atol=1e-9):
            fail("forgot the output projection: the merged heads go through W_o (y = heads @ W_o.T)")
        if is_close(y, _mha_reference(x, W_q.T, W_k.T, W_v.T, W_o.T, h), rtol=1e-6, atol=1e-9) or is_close(y, _mha_reference(x, W_q, W_k, W_v, W_o.T, h), rtol=1e-6, atol=1e-9):
            fail("weights are (d_out, d_in): project with x @ W.T")
        fail(f"{what} differs from torch.nn.MultiheadAttention: head h uses features h*d_head .. (h+1)*d_head - 1, i.e. view(B, T, n_heads, d_head).transpose(1, 2); merge back with transpose(1, 2).reshape(B, T, d_model) before W_o")
    y = expect_tensor(call(multi_head_attention, x, W_q, W_k, W_v, W_o, h, mask=causal), f"{what} with a causal mask", (B, T, d))
    if not is_close(y, expected_causal, rtol=1e-6, atol=1e-9):
        if is_close(y, expected, rtol=1e-6, atol=1e-9):
            fail("the mask is ignored: pass it on to your scaled_dot_product_attention")
        expect_close(y, expected_causal, f"{what} with a causal mask", "the (T, T) mask broadcasts over batch and heads; True = may attend", rtol=1e-6, atol=1e-9)
    passed("multi_head_attention matches torch.nn.MultiheadAttention (bias-free)")


def check_grouped_query_attention(multi_head_attention: Callable) -> None:
    B, T, d = 2, 4, 8
    x = fixed(B, T, d, seed=61)
    W_q, W_o = fixed(d, d, seed=62, scale=d**-0.5), fixed(d, d, seed=63, scale=d**-0.5)
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    for h, n_kv, mask in ((4, 2, None), (4, 1, causal)):
        d_kv = n_kv * (d // h)
        W_k, W_v = fixed(d_kv, d, seed=64 + n_kv, scale=d**-0.5), fixed(d_kv, d, seed=66 + n_kv, scale=d**-0.5)
        what = f"multi_head_attention with n_heads={h}, n_kv_heads={n_kv}" + (" and a causal mask" if mask is not None else "")
        y = call(multi_head_attention, x, W_q, W_k, W_v, W_o, h, n_kv_heads=n_kv, mask=mask)
        y = expect_tensor(y, what, (B, T, d))
        expected = _mha_reference(x, W_q, W_k, W_v, W_o, h, mask)
        if not is_close(y, expected, rtol=1e-6, atol=1e-9):
            if is_close(y, _mha_reference(x, W_q, W_k, W_v, W_o, h, mask, kv_head=lambda q_head, group: q_head % n_kv), rtol=1e-6, atol=1e-9):
                fail("query head h must use key/value head h // (n_heads // n_kv_heads): consecutive query heads share a kv head (repeat_interleave, not repeat)")
            expect_close(y, expected, what, "W_k and W_v are (n_kv_heads * d_head, d_model); query head h uses kv head h // (n_heads // n_kv_heads)", rtol=1e-6, atol=1e-9)
    passed("grouped-query and multi-query attention: query head h uses kv head h // (n_heads // n_kv_heads)")


# == end of notebook 1 ==

# == notebook 2: positions ====================================================================

def _pe_closed_form(T: int, d: int, base: float = 10000.0, pair_exponent: float = 2.0, column_exponent: bool = False, offset: int = 0) -> torch.Tensor:
    """PE[t, 2i] = sin(t / base**(2i/d)), PE[t, 2i+1] = cos(same), and variants of it (float64)."""
    t = torch.arange(offset, offset + T, dtype=torch.float64)[:, None]
    i = torch.arange(d // 2, dtype=torch.float64)
    pe = torch.empty(T, d, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(t / base ** (pair_exponent * i / d))
    odd_exponent = (2 * i + 1) if column_exponent else pair_exponent * i
    pe[:, 1::2] = torch.cos(t / base ** (odd_exponent / d))
    return pe


def check_sinusoidal_positions(sinusoidal_positions: Callable) -> None:
    T, d = 6, 8
    pe = expect_tensor(call(sinusoidal_positions, T, d), "sinusoidal_positions(6, 8)", (T, d))
    if not pe.is_floating_point():
        fail("sinusoidal_positions should return a float tensor")
    expected = _pe_closed_form(T, d)
    if not is_close(pe, expected, rtol=0, atol=1e-5):
        swapped = expected.view(T, d // 2, 2).flip(-1).reshape(T, d)
        halves = torch.cat([expected[:, 0::2], expected[:, 1::2]], dim=1)
        if is_close(pe, swapped, rtol=0, atol=1e-5):
            fail("sin and cos swapped: sin goes on even dimensions (PE[t, 2i]), cos on odd ones (PE[t, 2i+1])")
        if is_close(pe, halves, rtol=0, atol=1e-5):
            fail("first half sin, second half cos (the tensor2tensor layout); this course interleaves them: sin on dimension 2i, cos on dimension 2i+1")
        if is_close(pe, _pe_closed_form(T, d, pair_exponent=1.0), rtol=0, atol=1e-5):
            fail("frequencies use i/d instead of 2i/d: the pair (2i, 2i+1) has wavelength 10000**(2i/d) times 2π")
        if is_close(pe, _pe_closed_form(T, d, column_exponent=True), rtol=0, atol=1e-5):
            fail("dimensions 2i and 2i+1 must share one frequency, 1 / 10000**(2i/d); your cos dimensions use the exponent (2i+1)/d")
        if is_close(pe, _pe_closed_form(T, d, base=1e-4), rtol=0, atol=1e-5):
            fail("the angle is t / 10000**(2i/d) (t times a frequency that shrinks with i), not t * 10000**(2i/d)")
        if is_close(pe, _pe_closed_form(T, d, offset=1), rtol=0, atol=1e-5):
            fail("positions start at t = 0: the first row should be [0, 1, 0, 1, ...]")
        expect_close(pe, expected, "sinusoidal_positions(6, 8)", "PE[t, 2i] = sin(t / 10000**(2i/d)), PE[t, 2i+1] = cos(t / 10000**(2i/d)), t = 0..T-1", rtol=0, atol=1e-5)
    pe = expect_tensor(call(sinusoidal_positions, 40, 32), "sinusoidal_positions(40, 32)", (40, 32))
    expect_close(pe, _pe_closed_form(40, 32), "sinusoidal_positions(40, 32)", "compute the frequencies from the d you receive", rtol=0, atol=1e-4)
    pe = expect_tensor(call(sinusoidal_positions, 1, 2), "sinusoidal_positions(1, 2)", (1, 2))
    expect_close(pe, torch.tensor([[0.0, 1.0]]), "sinusoidal_positions(1, 2)", "one position (t = 0) and one pair: [sin 0, cos 0]", rtol=0, atol=1e-6)
    passed("sinusoidal_positions matches the formula of 'Attention Is All You Need'")


def _rope_closed_form(x: torch.Tensor, positions: torch.Tensor, theta: float, exponent: float = 2.0, sign: float = 1.0, halves: bool = False) -> torch.Tensor:
    """Rotate the pairs (x[2i], x[2i+1]) (or, with halves=True, (x[i], x[i + d/2])) by sign * p * theta**(-exponent*i/d)."""
    x = x.to(torch.float64)
    d = x.shape[-1]
    i = torch.arange(d // 2, dtype=torch.float64)
    angles = sign * positions.to(torch.float64)[:, None] * theta ** (-exponent * i / d)
    cos, sin = angles.cos(), angles.sin()
    if halves:
        a, b = x[..., : d // 2], x[..., d // 2 :]
        return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)
    a, b = x[..., 0::2], x[..., 1::2]
    return torch.stack([a * cos - b * sin, a * sin + b * cos], dim=-1).flatten(-2)


def check_apply_rope(apply_rope: Callable) -> None:
    x = fixed(2, 5, 8, seed=21)
    positions = torch.tensor([3, 0, 7, 7, 12])
    before = x.clone()
    y = expect_tensor(call(apply_rope, x, positions), "apply_rope(x, positions)", x.shape)
    if not torch.equal(x, before):
        fail("apply_rope changed its input x in place; return a new tensor and leave x as it was")
    expected = _rope_closed_form(x, positions, 10000.0)
    if not is_close(y, expected, rtol=1e-4, atol=1e-5):
        if is_close(y, _rope_closed_form(x, positions, 10000.0, halves=True), rtol=1e-4, atol=1e-5):
            fail("RoPE rotates the two halves (x[i], x[i + d/2]) (the GPT-NeoX layout); this course rotates interleaved pairs (x[2i], x[2i+1])")
        if is_close(y, _rope_closed_form(x, positions, 10000.0, sign=-1.0), rtol=1e-4, atol=1e-5):
            fail("rotation in the wrong direction: the pair becomes (x[2i] cos - x[2i+1] sin, x[2i] sin + x[2i+1] cos)")
        if is_close(y, _rope_closed_form(x, positions, 10000.0, exponent=1.0), rtol=1e-4, atol=1e-5):
            fail("frequencies use i/d instead of 2i/d: pair i rotates with frequency theta**(-2i/d)")
        if is_close(y, _rope_closed_form(x, torch.arange(5), 10000.0), rtol=1e-4, atol=1e-5):
            fail("the positions you were given are ignored (you used 0..T-1): token t rotates by positions[t] times the frequency")
        expect_close(y, expected, "apply_rope(x, positions)", "pair i of token t rotates by the angle positions[t] * theta**(-2i/d)", rtol=1e-4, atol=1e-5)
    zero = call(apply_rope, x, torch.zeros(5, dtype=torch.long))
    expect_close(zero, x, "apply_rope at position 0", "position 0 is a rotation by angle 0: x comes back unchanged", rtol=1e-6, atol=1e-7)
    y = call(apply_rope, x, positions, theta=100.0)
    if is_close(y, expected, rtol=1e-4, atol=1e-5):
        fail("apply_rope(x, positions, theta=100.0) ignores theta: the frequencies are theta**(-2i/d)")
    expect_close(y, _rope_closed_form(x, positions, 100.0), "apply_rope with theta=100", "the frequencies are theta**(-2i/d) with the theta you receive", rtol=1e-4, atol=1e-5)
    x32 = fixed(3, 4, 6, seed=22, dtype=torch.float32)
    y = expect_tensor(call(apply_rope, x32, torch.arange(4) * 0.5), "apply_rope on float32 x with float positions", x32.shape)
    if y.dtype != torch.float32:
        fail(f"apply_rope returned {y.dtype} for a float32 x; return x's dtype (cast cos and sin with .to(x.dtype))")
    expect_close(y, _rope_closed_form(x32, torch.arange(4) * 0.5, 10000.0), "apply_rope on float32 x with float positions", "positions may be fractional", rtol=1e-4, atol=1e-5)
    passed("apply_rope rotates interleaved pairs as in RoFormer")


def check_rope_relative(apply_rope: Callable) -> None:
    q, k = fixed(6, 8, seed=23), fixed(6, 8, seed=24)
    positions = torch.tensor([0, 1, 2, 5, 9, 10])
    q_rot, k_rot = call(apply_rope, q, positions), call(apply_rope, k, positions)
    expect_tensor(q_rot, "apply_rope(q, positions)", q.shape)
    if not is_close(q_rot.norm(dim=-1), q.norm(dim=-1), rtol=1e-6, atol=1e-8):
        fail("apply_rope changes the lengths of the vectors; a rotation preserves them: ‖RoPE(x)‖ = ‖x‖ for every token")
    for shift in (1, 37, 1000):
        q_shift, k_shift = call(apply_rope, q, positions + shift), call(apply_rope, k, positions + shift)
        if not is_close(q_shift @ k_shift.T, q_rot @ k_rot.T, rtol=1e-3, atol=1e-3):  # float32 angles are fine
            fail(f"shifting every position by {shift} changed the scores q_m · k_n; with R(m) a rotation by m θ_i, R(m)ᵀR(n) = R(n - m) depends only on the offset")
    passed("RoPE scores q_m · k_n depend only on m - n, and lengths are preserved")


def _alibi_power_of_two(n: int) -> torch.Tensor:
    return torch.tensor([2.0 ** (-8.0 * i / n) for i in range(1, n + 1)], dtype=torch.float64)


def check_alibi_slopes(alibi_slopes: Callable) -> None:
    for n in (8, 4, 16, 1):
        slopes = expect_tensor(call(alibi_slopes, n), f"alibi_slopes({n})", (n,))
        if not slopes.is_floating_point():
            fail(f"alibi_slopes({n}) should return a float tensor, got {slopes.dtype}")
        expected = _alibi_power_of_two(n)
        if is_close(slopes, expected, rtol=1e-6, atol=0):
            continue
        if is_close(slopes, expected.flip(0), rtol=1e-6, atol=0):
            fail(f"alibi_slopes({n}) is in reverse order: head 1 gets the largest slope 2**(-8/n), the last head 2**(-8)")
        if is_close(slopes, torch.tensor([2.0 ** (-8.0 * i / n) for i in range(n)], dtype=torch.float64), rtol=1e-6, atol=0):
            fail(f"alibi_slopes({n}): heads are numbered i = 1..n, so the first slope is 2**(-8/n), not 1")
        if is_close(slopes, torch.tensor([2.0 ** -i for i in range(1, n + 1)], dtype=torch.float64), rtol=1e-6, atol=0):
            fail(f"alibi_slopes({n}): the exponent is -8i/n, not -i; the slopes always go down to 2**(-8) = 1/256")
        expect_close(slopes, expected, f"alibi_slopes({n})", "head i = 1..n gets 2**(-8i/n): 1/2, 1/4, ..., 1/256 for 8 heads", rtol=1e-6, atol=0)
    passed("alibi_slopes is right for 1, 4, 8 and 16 heads")


def check_alibi_slopes_any_count(alibi_slopes: Callable) -> None:
    six = torch.tensor([1 / 4, 1 / 16, 1 / 64, 1 / 256, 1 / 2, 1 / 8], dtype=torch.float64)  # 4 heads, then 8 heads [0::2][:2]
    slopes = expect_tensor(call(alibi_slopes, 6), "alibi_slopes(6)", (6,))
    if not is_close(slopes, six, rtol=1e-6, atol=0):
        if is_close(slopes, _alibi_power_of_two(6), rtol=1e-6, atol=0):
            fail("slopes for a non-power-of-two head count follow the ALiBi paper's interleaving rule, not 2**(-8i/n): the m = 2**floor(log2 n) slopes of m heads, then every other slope of 2m heads")
        if is_close(slopes, six.sort(descending=True).values, rtol=1e-6, atol=0):
            fail("alibi_slopes(6) is sorted; keep the paper's order: the 4 slopes of 4 heads first, then the 2 extra ones from 8 heads")
        if is_close(slopes, torch.tensor([1 / 4, 1 / 16, 1 / 64, 1 / 256, 1 / 4, 1 / 16], dtype=torch.float64), rtol=1e-6, atol=0):
            fail("the extra slopes are every other slope of 2m heads starting from the first ([0::2]: 1/2, 1/8, ...), the ones between the slopes you already have")
        expect_close(slopes, six, "alibi_slopes(6)", "4 heads give 1/4, 1/16, 1/64, 1/256; then take every other slope of 8 heads (1/2, 1/8, ...) for the 2 remaining heads", rtol=1e-6, atol=0)
    for n in (3, 12):
        m = 2 ** int(math.floor(math.log2(n)))
        expected = torch.cat([_alibi_power_of_two(m), _alibi_power_of_two(2 * m)[0::2][: n - m]])
        expect_close(call(alibi_slopes, n), expected, f"alibi_slopes({n})", "m = 2**floor(log2 n) slopes of m heads, then every other slope of 2m heads ([0::2]) for the n - m remaining heads", rtol=1e-6, atol=0)
    passed("alibi_slopes follows the ALiBi paper for 3, 6 and 12 heads")


def check_alibi_bias(alibi_bias: Callable) -> None:
    six = torch.tensor([1 / 4, 1 / 16, 1 / 64, 1 / 256, 1 / 2, 1 / 8], dtype=torch.float64)
    for n_heads, T, slopes in ((4, 5, _alibi_power_of_two(4)), (6, 3, six)):
        bias = call(alibi_bias, n_heads, T)
        if isinstance(bias, torch.Tensor) and bias.is_floating_point() and torch.isinf(bias).any():
            fail("alibi_bias contains -inf: do not mask here, the causal mask handles j > i; the bias is slope * (j - i) everywhere")
        expect_tensor(bias, f"alibi_bias({n_heads}, {T})", (n_heads, T, T))
        if not bias.is_floating_point():
            fail("alibi_bias should return a float tensor")
        offsets = (torch.arange(T)[None, :] - torch.arange(T)[:, None]).to(torch.float64)  # j - i
        expected = slopes[:, None, None] * offsets
        if is_close(bias, expected, rtol=1e-6, atol=1e-9):
            continue
        if is_close(bias, -expected, rtol=1e-6, atol=1e-9):
            fail("bias sign: slope * (j - i) is <= 0 for past keys (j < i), so the further back a key, the lower its score")
        if is_close(bias, slopes[:, None, None] * torch.arange(T, dtype=torch.float64).expand(n_heads, T, T), rtol=1e-6, atol=1e-9):
            fail("bias is slope * j (the ALiBi repository's shortcut, equal after softmax because it differs by a constant per row); this exercise asks for slope * (j - i), 0 on the diagonal")
        if is_close(bias, -expected.abs(), rtol=1e-6, atol=1e-9):
            fail("future keys (j > i) should hold slope * (j - i) > 0, not -slope * |j - i|; the causal mask removes them later")
        if is_close(bias, expected.flip(0), rtol=1e-6, atol=1e-9):
            fail("heads in reverse order: head h uses alibi_slopes(n_heads)[h]")
        ratio = bias.to(torch.float64)[:, 1, 0] * -1.0  # slope_h * (0 - 1)
        if is_close(bias, ratio[:, None, None] * offsets, rtol=1e-6, atol=1e-9):
            fail(f"alibi_bias({n_heads}, {T}) has the right shape slope_h * (j - i) but the wrong slopes: use alibi_slopes(n_heads)")
        expect_close(bias, expected, f"alibi_bias({n_heads}, {T})", "bias[h, i, j] = alibi_slopes(n_heads)[h] * (j - i)", rtol=1e-6, atol=1e-9)
    passed("alibi_bias is slope_h * (j - i) for every head")


# == end of notebook 2 ==

# == notebook 3: blocks and a GPT =============================================================


def check_rms_norm(rms_norm: Callable) -> None:
    x = fixed(3, 8, seed=30, scale=3.0) + 1.0
    weight = fixed(8, seed=31) + 1.0
    y = expect_tensor(call(rms_norm, x, weight), "rms_norm(x, weight)", x.shape)
    expected = torch.nn.functional.rms_norm(x, (8,), weight, eps=1e-5)
    if not is_close(y, expected, rtol=1e-6, atol=1e-7):
        centred = x - x.mean(-1, keepdim=True)
        if is_close(y, torch.nn.functional.rms_norm(centred, (8,), weight, eps=1e-5), rtol=1e-5):
            fail("rms_norm subtracts the mean: that is LayerNorm; RMSNorm only divides by sqrt(mean(x**2) + eps)")
        if is_close(y, x / (x.pow(2).mean(-1, keepdim=True).sqrt() + 1e-5) * weight, rtol=1e-6):
            fail("eps is added outside the square root; RMSNorm uses sqrt(mean(x**2) + eps)")
        if is_close(y, torch.nn.functional.rms_norm(x, (8,), eps=1e-5), rtol=1e-6):
            fail("the result is not multiplied by weight")
        if is_close(y, torch.nn.functional.rms_norm(x.T, (3,), eps=1e-5).T * weight, rtol=1e-6):
            fail("rms_norm normalizes over the first dimension; normalize each vector over its last dimension")
        expect_close(y, expected, "rms_norm(x, weight)", "x / sqrt(mean(x**2 over the last dimension) + eps) * weight", rtol=1e-6, atol=1e-7)
    y = call(rms_norm, x, weight, eps=10.0)
    expect_close(y, torch.nn.functional.rms_norm(x, (8,), weight, eps=10.0), "rms_norm with eps=10", "use the eps argument you receive", rtol=1e-6, atol=1e-7)
    y32 = expect_tensor(call(rms_norm, x.float(), weight.float()), "rms_norm of a float32 input", x.shape)
    if y32.dtype != torch.float32:
        fail(f"rms_norm of a float32 input returned {y32.dtype}: keep the input's dtype")
    passed("rms_norm matches torch.nn.functional.rms_norm")


def check_swiglu(swiglu: Callable) -> None:
    x = fixed(2, 3, 4, seed=32)
    W1, W3, W2 = fixed(6, 4, seed=33), fixed(6, 4, seed=34), fixed(4, 6, seed=35)
    y = expect_tensor(call(swiglu, x, W1, W3, W2), "swiglu(x, W1, W3, W2)", x.shape)
    silu = torch.nn.functional.silu
    expected = (silu(x @ W1.T) * (x @ W3.T)) @ W2.T
    if not is_close(y, expected, rtol=1e-6, atol=1e-8):
        if is_close(y, (silu(x @ W3.T) * (x @ W1.T)) @ W2.T, rtol=1e-6):
            fail("silu is applied to W3 x; the gate is W1: silu(W1 x) * (W3 x)")
        if is_close(y, silu(x @ W1.T) @ W2.T, rtol=1e-6) or is_close(y, (x @ W1.T) * (x @ W3.T) @ W2.T, rtol=1e-6):
            fail("the gated product is incomplete: SwiGLU is W2 (silu(W1 x) * W3 x)")
        if is_close(y, (torch.relu(x @ W1.T) * (x @ W3.T)) @ W2.T, rtol=1e-6) or is_close(y, (torch.nn.functional.gelu(x @ W1.T) * (x @ W3.T)) @ W2.T, rtol=1e-6):
            fail("wrong activation: SwiGLU uses silu(z) = z * sigmoid(z)")
        expect_close(y, expected, "swiglu(x, W1, W3, W2)", "W2 (silu(W1 x) * W3 x), weights in (d_out, d_in) layout: x @ W.T", rtol=1e-6, atol=1e-8)
    passed("swiglu matches silu(x W1^T) * (x W3^T) W2^T")


def _model_config(n_kv_heads: int = 2, **overrides: Any) -> Any:
    from course.models import TinyGPTConfig

    values = {"d_model": 32, "n_layers": 2, "n_heads": 4, "n_kv_heads": n_kv_heads, "d_ff": 48, "context": 16, **overrides}
    return TinyGPTConfig(**values)


def _randomized(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """`module` with every parameter drawn at random (norm gains around 1), for checks with visible effects."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            noise = torch.randn(p.shape, generator=generator)
            p.copy_(1 + 0.2 * noise if p.dim() == 1 else noise / math.sqrt(p.shape[-1]))
    return module


def _student_block(cls: Callable, config: Any, reference: torch.nn.Module) -> torch.nn.Module:
    block = call(cls, config)
    missing = set(reference.state_dict()) - set(block.state_dict())
    if missing:
        fail(f"TransformerBlock lacks the parameters {sorted(missing)}: keep the __init__ you were given")
    block.load_state_dict(reference.state_dict())
    return block


def check_block_causal(cls: Callable) -> None:
    from course.models import Block

    config = _model_config()
    reference = _randomized(Block(config), seed=36).eval()
    block = _student_block(cls, config, reference)
    x = fixed(2, 10, 32, seed=37, dtype=torch.float32)
    changed = x.clone()
    changed[:, 6:] = fixed(2, 4, 32, seed=38, dtype=torch.float32)
    positions = torch.arange(10)
    out = expect_tensor(call(block, x, positions), "TransformerBlock(config)(x, positions)", x.shape)
    out_changed = call(block, changed, positions)
    if not is_close(out[:, :6], out_changed[:, :6], rtol=1e-5, atol=1e-6):
        fail("changing the tokens at positions 6-9 changed the outputs at positions 0-5: the attention is not causal (is_causal=True)")
    first_changed = x.clone()
    first_changed[:, 0] += 1.0
    if is_close(call(block, first_changed, positions)[:, -1], out[:, -1], rtol=1e-6, atol=1e-7):
        fail("the last position's output ignores the first token: attention should mix every earlier position")
    passed("TransformerBlock is causal: no position sees the future")


def check_transformer_block(cls: Callable, n_kv_heads: int = 4) -> None:
    from course.models import Block

    config = _model_config(n_kv_heads=n_kv_heads)
    reference = _randomized(Block(config), seed=39).eval()
    block = _student_block(cls, config, reference)
    x = fixed(2, 7, 32, seed=40, dtype=torch.float32)
    positions = torch.arange(7)
    out = expect_tensor(call(block, x, positions), "TransformerBlock(config)(x, positions)", x.shape)
    with torch.no_grad():
        expected = reference(x, positions)
        if not is_close(out, expected, rtol=1e-4, atol=1e-5):
            if is_close(out, reference(x, torch.zeros(7, dtype=torch.long)), rtol=1e-4, atol=1e-5):
                fail("the positions have no effect: rotate q and k with rope(..., positions, config.rope_theta)")
            what = "grouped-query " if n_kv_heads < config.n_heads else ""
            hint = "query head h uses key/value head h // (n_heads // n_kv_heads): repeat_interleave on the head dimension" if what else (
                "pre-norm (normalize the input of each branch, add the branch's output to x), rope on q and k only, "
                "heads as (B, heads, T, d_head), causal attention scaled by 1/sqrt(d_head), W_o after merging the heads"
            )
            expect_close(out, expected, f"TransformerBlock output ({what}attention)", f"it differs from TinyGPT's block with the same weights: {hint}", rtol=1e-4, atol=1e-5)
    passed(f"TransformerBlock equals TinyGPT's block with the same weights ({config.n_heads} query heads, {n_kv_heads} key/value heads)")


def check_gpt(cls: Callable) -> None:
    from course.models import TinyGPT

    config = _model_config()
    reference = _randomized(TinyGPT(config), seed=41).eval()
    model = call(cls, config)
    missing = set(reference.state_dict()) - set(model.state_dict())
    if missing:
        fail(f"GPT lacks the parameters {sorted(missing)[:3]}: keep the __init__ you were given")
    model.load_state_dict(reference.state_dict())
    tokens = torch.randint(0, 256, (2, 9), generator=torch.Generator().manual_seed(42))
    logits = expect_tensor(call(model, tokens), "GPT(config)(tokens)", (2, 9, 256))
    with torch.no_grad():
        expected = reference(tokens)
        if not is_close(logits, expected, rtol=1e-4, atol=1e-4):
            x = reference.embed(tokens)
            for block in reference.blocks:
                x = block(x, torch.arange(9))
            if is_close(logits, x @ reference.embed.weight.T, rtol=1e-4, atol=1e-4):
                fail("the final RMSNorm is missing: logits = rms_norm(x, norm['weight']) @ embed.weight.T")
            expect_close(logits, expected, "GPT logits", "embed the tokens, run every block in order with positions arange(T), final rms_norm, then the tied head embed.weight.T", rtol=1e-4, atol=1e-4)
    passed("GPT equals TinyGPT with the same weights")

# == end of notebook 3 ==

# == notebook 4: accounting ===================================================================

GPT2_SMALL, GPT2_SMALL_PARAMS = (50257, 1024, 768, 12), 124_439_808  # (vocab, context, d_model, n_layers), published
GPT2_MEDIUM, GPT2_MEDIUM_PARAMS = (50257, 1024, 1024, 24), 354_823_168


def _gpt2_modules_count(vocab: int, context: int, d: int, n_layers: int, d_ff: int) -> int:
    """GPT-2's parameters counted from PyTorch modules on the meta device (no memory, no formula)."""
    nn, meta = torch.nn, torch.device("meta")
    blocks = [
        [nn.LayerNorm(d, device=meta), nn.Linear(d, 3 * d, device=meta), nn.Linear(d, d, device=meta), nn.LayerNorm(d, device=meta), nn.Linear(d, d_ff, device=meta), nn.Linear(d_ff, d, device=meta)]
        for _ in range(n_layers)
    ]
    modules = [nn.Embedding(vocab, d, device=meta), nn.Embedding(context, d, device=meta), nn.LayerNorm(d, device=meta)] + [m for block in blocks for m in block]
    return sum(p.numel() for m in modules for p in m.parameters())


def _gpt2_mistakes(vocab: int, context: int, d: int, n_layers: int) -> dict[int, str]:
    """Differences (student - reference) that point to one common mistake, for d_ff = 4 d."""
    return {
        vocab * d: "counted a separate output head: GPT-2 ties it to the token embedding (no extra parameters)",
        -n_layers * (3 * d + d + 4 * d + d): "forgot the biases: every Linear in GPT-2 has one (d_out parameters each)",
        -n_layers * (3 * d + d): "forgot the biases of the attention projections (qkv: 3*d_model, output: d_model)",
        -n_layers * (4 * d + d): "forgot the biases of the MLP's two Linear layers",
        -2 * d: "forgot the final LayerNorm after the last block",
        -(2 * n_layers + 1) * d: "a LayerNorm has a bias as well as a weight: 2*d_model parameters each",
        -(2 * n_layers + 1) * 2 * d: "forgot the LayerNorms: two per block and a final one, each with weight and bias",
        -n_layers * 2 * d: "each block has two LayerNorms, one before attention and one before the MLP",
        -context * d: "forgot the learned position embeddings (context x d_model)",
        -n_layers * (2 * d * d + 2 * d): "the qkv projection maps d_model to 3*d_model (queries, keys and values together)",
        -n_layers * (d * d + d): "forgot the attention's output projection (d_model -> d_model, with bias)",
        -n_layers * (6 * d * d + 3 * d): "the MLP's hidden width d_ff is 4*d_model, not d_model",
    }


def _acc_count_of(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        fail(f"{what} returned {value!r} ({type(value).__name__}); return a Python int (integer arithmetic, or int(...))")
    return value


def check_gpt2_param_count(gpt2_param_count: Callable) -> None:
    for name, config, published in (("GPT-2 small", GPT2_SMALL, GPT2_SMALL_PARAMS), ("GPT-2 medium", GPT2_MEDIUM, GPT2_MEDIUM_PARAMS)):
        what = f"gpt2_param_count{config}"
        got = _acc_count_of(call(gpt2_param_count, *config), what)
        explicit = _acc_count_of(call(gpt2_param_count, *config, 4 * config[2]), f"gpt2_param_count{config + (4 * config[2],)}")
        if got != published and explicit == published:
            fail(f"{what} = {got:,} but {explicit:,} with d_ff = 4*d_model passed explicitly: d_ff defaults to 4*d_model")
        if got != published:
            hint = _gpt2_mistakes(*config).get(got - published, "list every module of the model and count its weights and biases")
            fail(f"{what} = {got:,}, the published count of {name} is {published:,}: {hint}")
    passed(f"GPT-2 small: {GPT2_SMALL_PARAMS:,} and GPT-2 medium: {GPT2_MEDIUM_PARAMS:,} parameters, as published")


def check_gpt2_param_count_d_ff(gpt2_param_count: Callable) -> None:
    for config, d_ff in (((100, 16, 8, 3), 20), ((1000, 64, 32, 2), 48), ((50, 10, 12, 1), None)):
        expected = _gpt2_modules_count(*config, 4 * config[2] if d_ff is None else d_ff)
        args = config if d_ff is None else config + (d_ff,)
        got = _acc_count_of(call(gpt2_param_count, *args), f"gpt2_param_count{args}")
        if got != expected:
            if d_ff is not None and got == _gpt2_modules_count(*config, 4 * config[2]):
                fail(f"gpt2_param_count{args} ignores d_ff: when it is given, the MLP is d_model -> d_ff -> d_model")
            fail(f"gpt2_param_count{args} = {got:,}, but the model built from torch.nn modules has {expected:,} parameters")
    passed("an explicit d_ff and small configurations agree with models built from torch.nn modules")


def check_forward_flops_per_token(forward_flops_per_token: Callable) -> None:
    cases = ((1_000_000, 4, 128, 64), (85_056_000, 12, 1024, 768))  # the second: GPT-2 small's non-embedding parameters
    for n, layers, ctx, d in cases:
        what = f"forward_flops_per_token({n}, {layers}, {ctx}, {d})"
        got = call(forward_flops_per_token, n, layers, ctx, d)
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            fail(f"{what} returned {got!r} ({type(got).__name__}); return a number")
        attention = 2 * layers * ctx * d
        expected = 2 * n + attention
        if is_close(got, expected, rtol=1e-9, atol=0):
            continue
        hints = {
            n + attention: "forgot the factor 2: a multiply-add is 2 FLOPs, so each parameter costs 2 FLOPs per token",
            n + attention // 2: "counted multiply-adds, not FLOPs: a multiply-add is 2 FLOPs",
            2 * n: "forgot the attention term 2 * n_layers * context * d_model (scores and weighted sums have no parameters)",
            2 * n + attention // 2: "the attention term is 2 * n_layers * context * d_model: a multiply-add is 2 FLOPs there too",
            6 * n + attention: "6N is the training cost (forward and backward); the forward pass alone costs 2N + the attention term",
            6 * n: "6N is the training cost (forward and backward); the forward pass alone costs 2N + the attention term",
            2 * n + attention * ctx: "the attention term per token is linear in the context: context^2 is the cost of a whole sequence",
        }
        hint = next((h for value, h in hints.items() if is_close(got, value, rtol=1e-9, atol=0)), "C_forward = 2 N + 2 n_layer n_ctx d_model")
        fail(f"{what} = {got:,}, expected {expected:,}: {hint}")
    passed("forward FLOPs per token follow Kaplan et al.: 2N + 2 n_layer n_ctx d_model")

# == end of notebook 4 ==
