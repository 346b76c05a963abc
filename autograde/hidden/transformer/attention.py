"""Hidden tests of 01_attention.ipynb: softmax, scaled dot-product attention, masks, multi-head and grouped-query
attention (no expected values here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from autograde.hidden import Case, Forbidden, answers, case, probe, randint, randn

SOFTMAX = Forbidden(
    ops=("_softmax", "softmax", "_log_softmax", "log_softmax", "logsumexp", "_safe_softmax"),
    names=("softmax", "log_softmax", "logsumexp", "Softmax", "LogSoftmax", "_softmax", "_log_softmax", "_safe_softmax"),
)
FUSED_ATTENTION = Forbidden(
    ops=(
        "scaled_dot_product_attention",
        "_scaled_dot_product.*",
        "_fused_sdp.*",
        "_native_multi_head_attention",
        "_flash_attention.*",
        "_efficient_attention.*",
    ),
    names=("scaled_dot_product_attention", "MultiheadAttention", "multi_head_attention_forward"),
)


def _softmax_case(x: torch.Tensor, dim: int, what: str = "") -> Case:
    label = f"x {tuple(x.shape)} {x.dtype}, dim={dim}"
    return case(f"{what}, {label}" if what else label, x, dim)


@probe("softmax", forbidden=SOFTMAX)
def softmax(g: torch.Generator) -> list[Case]:
    return [
        _softmax_case(randn(g, 6, 9, scale=3.0), -1),
        _softmax_case(randn(g, 5, 5, dtype=torch.float32, scale=2.0), 1),
        _softmax_case(randn(g, 4, 4), 0),
        _softmax_case(randn(g, 2, 3, 4, 5, scale=2.0), 2),
        _softmax_case(randn(g, 3, 7, dtype=torch.float32), -2),
        _softmax_case(randn(g, 1, 1), -1),
    ]


@probe("softmax", forbidden=SOFTMAX)
def softmax_stability(g: torch.Generator) -> list[Case]:
    inf = float("inf")
    offsets = torch.tensor([[-1e4], [0.0], [1e4], [5e3]], dtype=torch.float64)
    masked = randn(g, 3, 6, scale=2.0)
    masked[0, :3] = -inf
    masked[1, 5] = -inf
    masked[2, 1::2] = -inf
    return [
        _softmax_case(randn(g, 4, 6, scale=5.0) + offsets, -1, "rows offset by up to ±1e4"),
        _softmax_case(randn(g, 3, 5, dtype=torch.float32, scale=50.0) + 200.0, 1, "scores near 200"),
        _softmax_case(masked, -1, "some scores -inf"),
        _softmax_case(randn(g, 5, 3, scale=1e3), 0, "scores of scale 1e3"),
        _softmax_case(
            randn(g, 2, 4, 3, dtype=torch.float32, scale=100.0) - offsets[:2, :, None].float(),
            1,
            "scores offset by 1e4",
        ),
    ]


@dataclass
class Attended:
    out: Any  # the attention output, (..., T_q, d_v)
    weights: Any  # the attention weights, (..., T_q, T_k)


def attend(attention, c: Case) -> Attended:
    """The student's (out, weights), split into their fields."""
    result = attention(*c.args, **c.kwargs)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError("should return a tuple (out, weights)")
    return Attended(*result)


def _attention_case(
    g: torch.Generator,
    what: str,
    q_shape: tuple[int, ...],
    T_k: int,
    d_v: int,
    dtype: torch.dtype = torch.float64,
    scale: float = 1.0,
    mask: torch.Tensor | None = None,
) -> Case:
    """q of `q_shape`, k (..., T_k, d) and v (..., T_k, d_v) with q's batch dims; `mask=` only when given."""
    *batch, _, d = q_shape
    q = randn(g, *q_shape, dtype=dtype, scale=scale)
    k = randn(g, *batch, T_k, d, dtype=dtype, scale=scale)
    v = randn(g, *batch, T_k, d_v, dtype=dtype)
    label = f"{what}: q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)} {dtype}"
    if mask is None:
        return Case(label, (q, k, v))
    return Case(f"{label}, mask {tuple(mask.shape)}", (q, k, v), {"mask": mask})


def _random_mask(g: torch.Generator, *shape: int, p: float = 0.6) -> torch.Tensor:
    """A random boolean mask in which every query (row) may attend to at least one key: the rows a case masks
    entirely are the ones it sets itself, the same for every seed."""
    mask = torch.rand(*shape, generator=g) < p
    keep = torch.randint(0, shape[-1], (*shape[:-1], 1), generator=g)
    return mask.scatter(-1, keep, True)


@probe("scaled_dot_product_attention", run=attend, output=Attended, forbidden=FUSED_ATTENTION)
def scaled_dot_product_attention(g: torch.Generator) -> list[Case]:
    return [
        _attention_case(g, "one sequence", (5, 4), 5, 4),
        _attention_case(g, "a batch, scores of scale 4", (3, 6, 8), 6, 8, scale=2.0),
        _attention_case(g, "float32", (2, 7, 16), 7, 16, dtype=torch.float32),
        _attention_case(g, "batch and heads, d_v != d", (2, 2, 4, 3), 4, 3, scale=3.0),
        _attention_case(g, "one query, one key", (1, 1), 1, 1),
    ]


@probe("scaled_dot_product_attention (masks)", run=attend, output=Attended, forbidden=FUSED_ATTENTION)
def attention_masks(g: torch.Generator) -> list[Case]:
    T = 6
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    lengths = torch.tensor([5, 2, 3])
    padding = (torch.arange(5)[None, :] < lengths[:, None])[:, None, None, :]
    random = _random_mask(g, 2, 4, 7)
    random[0, 1, :] = False
    random[1, 3, :] = False
    random[1, 0, :] = True
    empty_batch = torch.tensor([[True, False, True, True], [False, False, False, False]])[:, None, None, :]
    return [
        _attention_case(g, "causal mask", (2, 3, T, 4), T, 4, mask=causal),
        _attention_case(g, "padding mask", (3, 2, 5, 8), 5, 8, mask=padding),
        _attention_case(g, "random mask, fully masked queries", (2, 4, 6), 7, 6, mask=random),
        _attention_case(g, "every key masked", (3, 4), 3, 4, mask=torch.zeros(3, 3, dtype=torch.bool)),
        _attention_case(
            g, "causal mask, float32", (2, 5, 8), 5, 8, dtype=torch.float32, scale=3.0, mask=causal[:5, :5]
        ),
        _attention_case(
            g,
            "one mask row for every query",
            (3, 4, 5),
            6,
            5,
            mask=torch.tensor([[True, False, True, True, False, True]]),
        ),
        _attention_case(g, "a fully padded batch element", (2, 3, 2, 4), 4, 3, mask=empty_batch),
    ]


@probe("scaled_dot_product_attention (batch dims, T_q != T_k)", run=attend, output=Attended, forbidden=FUSED_ATTENTION)
def cross_attention(g: torch.Generator) -> list[Case]:
    return [
        _attention_case(g, "T_q < T_k, d_v != d", (2, 3, 4, 8), 6, 5),
        _attention_case(g, "T_q < T_k, float32", (4, 2, 3), 5, 7, dtype=torch.float32),
        _attention_case(g, "three batch dims, one key", (2, 2, 2, 3, 4), 1, 2),
        _attention_case(
            g, "T_q > T_k, mask per query", (3, 6, 4), 2, 4, mask=torch.tensor([[True, False]] * 5 + [[False, True]])
        ),
        _attention_case(g, "random mask", (2, 5, 3), 8, 6, scale=2.0, mask=_random_mask(g, 2, 5, 8, p=0.7)),
    ]


@probe("causal_mask")
def causal_mask(g: torch.Generator) -> list[Case]:
    return [case(f"T={T}", T) for T in (1, 2, 5, randint(g, 6, 12))]


@probe("padding_mask")
def padding_mask(g: torch.Generator) -> list[Case]:
    """Lengths from 0 (every key padding) to T (none), and random lengths strictly in between."""
    sizes = [
        (torch.tensor([3, 1, 5]), 5),
        (torch.randint(1, 7, (4,), generator=g), 7),
        (torch.tensor([0, 7, randint(g, 1, 6)]), 7),
        (torch.tensor([2]), 6),
        (torch.tensor([4, 4]), 4),
    ]
    return [case(f"lengths {lengths.tolist()}, T={T}", lengths, T) for lengths, T in sizes]


@probe("prefix_lm_mask")
def prefix_lm_mask(g: torch.Generator) -> list[Case]:
    T = randint(g, 6, 9)
    sizes = [(5, 2), (6, 0), (4, 4), (T, randint(g, 1, T - 2)), (3, 1)]
    return [case(f"T={T}, prefix_len={prefix_len}", T, prefix_len) for T, prefix_len in sizes]


def _mha_case(
    g: torch.Generator,
    B: int,
    T: int,
    d: int,
    h: int,
    n_kv: int | None,
    mask: str | None,
    dtype: torch.dtype = torch.float64,
) -> Case:
    """x (B, T, d), bias-free projections, `n_kv_heads=` and `mask=` (causal, padding, random) only when given."""
    d_kv = (n_kv or h) * (d // h)
    scale = d**-0.5
    if mask == "causal":
        m = torch.ones(T, T, dtype=torch.bool).tril()
    elif mask == "padding":  # a padded sequence, a full one, then one of a single token
        lengths = torch.tensor([randint(g, 2, T - 1), T, 1, *(randint(g, 2, T - 1) for _ in range(B - 3))][:B])
        m = (torch.arange(T)[None, :] < lengths[:, None])[:, None, None, :]
    elif mask == "random":
        m = _random_mask(g, B, 1, T, T) | torch.eye(T, dtype=torch.bool)
    else:
        m = None
    x = randn(g, B, T, d, dtype=dtype)
    weights = [randn(g, rows, d, dtype=dtype, scale=scale) for rows in (d, d_kv, d_kv, d)]
    kwargs: dict[str, Any] = {} if n_kv is None else {"n_kv_heads": n_kv}
    if m is not None:
        kwargs["mask"] = m
    label = f"x {tuple(x.shape)} {dtype}, n_heads={h}, n_kv_heads={n_kv or h}, {mask or 'no'} mask"
    return Case(label, (x, *weights, h), kwargs)


@probe("multi_head_attention", forbidden=FUSED_ATTENTION)
def multi_head_attention(g: torch.Generator) -> list[Case]:
    return [
        _mha_case(g, 2, 5, 8, 2, None, None),
        _mha_case(g, 3, 4, 12, 3, None, "causal"),
        _mha_case(g, 2, 6, 16, 4, None, "padding", dtype=torch.float32),
        _mha_case(g, 1, 3, 6, 1, None, None),
        _mha_case(g, 2, 5, 8, 4, 4, "random"),
    ]


@probe("multi_head_attention (GQA/MQA)", forbidden=FUSED_ATTENTION)
def grouped_query_attention(g: torch.Generator) -> list[Case]:
    return [
        _mha_case(g, 2, 5, 16, 4, 2, None),
        _mha_case(g, 2, 6, 16, 8, 2, "causal"),
        _mha_case(g, 3, 4, 12, 6, 3, "padding"),
        _mha_case(g, 2, 5, 8, 4, 1, None),
        _mha_case(g, 1, 7, 24, 6, 2, "random", dtype=torch.float32),
    ]


q1_unscaled_max_weight, q2_kv_cache_gib, q3_attention_parallel = answers(
    __name__, "q1_unscaled_max_weight", "q2_kv_cache_gib", "q3_attention_parallel"
)
