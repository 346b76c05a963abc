"""Judges of module 02, the Transformer: references from PyTorch, closed forms and published numbers."""

from __future__ import annotations

import math
from typing import Any

import torch

from autograde.hidden import transformer as hidden
from autograde.judge import Choice, Number, answer_key, close_number, expect, expect_close, judge, not_raised, paired

# == notebook 1: attention and masks ==========================================================


def _attn_tolerance(x: torch.Tensor) -> float:
    return 1e-5 if x.dtype == torch.float32 else 1e-9


def _attn_pair(value: Any, what: str) -> list:
    not_raised(value, what)
    expect(isinstance(value, (list, tuple)) and len(value) == 2, f"{what}: should return a tuple (out, weights)")
    return list(value)


def _judge_softmax(cases: list[dict], outputs: Any, what: str) -> None:
    for i, (c, y) in enumerate(paired(cases, outputs)):
        label = f"{what}, case {i + 1} (shape {tuple(c['x'].shape)}, dim={c['dim']})"
        not_raised(y, label)
        expect(isinstance(y, torch.Tensor) and y.dtype == c["x"].dtype, f"{label}: the result must keep the input's dtype")
        tol = _attn_tolerance(c["x"])
        expect_close(y, torch.softmax(c["x"].double(), dim=c["dim"]), label, rtol=tol * 10, atol=tol)


@judge(hidden.softmax)
def judge_softmax(cases: list[dict], outputs: Any) -> None:
    _judge_softmax(cases, outputs, "random inputs")


@judge(hidden.softmax_stability)
def judge_softmax_stability(cases: list[dict], outputs: Any) -> None:
    _judge_softmax(cases, outputs, "large or infinite scores")


def _judge_attention(cases: list[dict], outputs: Any, what: str) -> None:
    for i, (c, result) in enumerate(paired(cases, outputs)):
        label = f"{what}, case {i + 1} (q {tuple(c['q'].shape)}, k {tuple(c['k'].shape)}" + (f", mask {tuple(c['mask'].shape)})" if c["mask"] is not None else ")")
        out, weights = _attn_pair(result, label)
        q, k, v = c["q"].double(), c["k"].double(), c["v"].double()
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
        mask = c["mask"]
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        expected_weights = torch.softmax(scores, dim=-1).nan_to_num(0.0)  # a fully masked row: zeros
        expected_out = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask).nan_to_num(0.0)
        if mask is not None:
            visible = mask.expand(expected_weights.shape).any(dim=-1, keepdim=True)
            expected_out = torch.where(visible, expected_out, torch.zeros_like(expected_out))
        tol = _attn_tolerance(c["q"])
        for name, value in (("weights", weights), ("out", out)):
            expect(isinstance(value, torch.Tensor) and value.dtype == c["q"].dtype, f"{label}: {name} must keep the input's dtype")
        expect_close(weights, expected_weights, f"{label}: weights", rtol=tol * 10, atol=tol)
        expect_close(out, expected_out, f"{label}: out", rtol=tol * 10, atol=tol)


@judge(hidden.scaled_dot_product_attention)
def judge_scaled_dot_product_attention(cases: list[dict], outputs: Any) -> None:
    _judge_attention(cases, outputs, "no mask")


@judge(hidden.attention_masks)
def judge_attention_masks(cases: list[dict], outputs: Any) -> None:
    _judge_attention(cases, outputs, "masked")


@judge(hidden.cross_attention)
def judge_cross_attention(cases: list[dict], outputs: Any) -> None:
    _judge_attention(cases, outputs, "cross-attention")


def _judge_masks(expected: list[torch.Tensor], outputs: Any, labels: list[str]) -> None:
    for (reference, mask), label in zip(paired(expected, outputs), labels):
        not_raised(mask, label)
        expect(isinstance(mask, torch.Tensor) and mask.dtype == torch.bool, f"{label}: should be a boolean tensor")
        expect(tuple(mask.shape) == tuple(reference.shape), f"{label}: wrong shape {tuple(mask.shape)}")
        expect(torch.equal(mask, reference), f"{label}: wrong values")


@judge(hidden.causal_mask)
def judge_causal_mask(sizes: list[int], outputs: Any) -> None:
    expected = [torch.tril(torch.ones(T, T)).bool() for T in sizes]
    _judge_masks(expected, outputs, [f"T={T}" for T in sizes])


@judge(hidden.padding_mask)
def judge_padding_mask(cases: list[dict], outputs: Any) -> None:
    expected = []
    for c in cases:
        positions = torch.arange(c["T"]).expand(len(c["lengths"]), c["T"])
        expected.append((positions < c["lengths"].unsqueeze(1)).view(len(c["lengths"]), 1, 1, c["T"]))
    _judge_masks(expected, outputs, [f"case {i + 1} ({len(c['lengths'])} sequences, T={c['T']})" for i, c in enumerate(cases)])


@judge(hidden.prefix_lm_mask)
def judge_prefix_lm_mask(cases: list[dict], outputs: Any) -> None:
    expected = []
    for c in cases:
        full = torch.ones(c["T"], c["T"]).bool()
        full[:, c["prefix_len"]:] = torch.tril(full)[:, c["prefix_len"]:]
        expected.append(full)
    _judge_masks(expected, outputs, [f"T={c['T']}, prefix_len={c['prefix_len']}" for c in cases])


def _mha_torch(c: dict) -> torch.Tensor:
    """torch.nn.MultiheadAttention (bias-free) given the case's weights; masks inverted to its convention."""
    x = c["x"].double()
    B, T, d = x.shape
    h = c["n_heads"]
    module = torch.nn.MultiheadAttention(d, h, bias=False, batch_first=True, dtype=torch.float64)
    attn_mask = None
    if c["mask"] is not None:
        attn_mask = (~c["mask"]).expand(B, h, T, T).reshape(B * h, T, T)  # PyTorch: True = may NOT attend
    with torch.no_grad():
        module.in_proj_weight.copy_(torch.cat([c["W_q"], c["W_k"], c["W_v"]]).double())
        module.out_proj.weight.copy_(c["W_o"].double())
        return module(x, x, x, need_weights=False, attn_mask=attn_mask)[0]


def _gqa_torch(c: dict) -> torch.Tensor:
    """PyTorch's attention with enable_gqa (query head h uses kv head h // group)."""
    x = c["x"].double()
    B, T, d = x.shape
    h, n_kv = c["n_heads"], c["n_kv_heads"]
    d_head = d // h
    q = (x @ c["W_q"].double().T).view(B, T, h, d_head).transpose(1, 2)
    k = (x @ c["W_k"].double().T).view(B, T, n_kv, d_head).transpose(1, 2)
    v = (x @ c["W_v"].double().T).view(B, T, n_kv, d_head).transpose(1, 2)
    heads = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=c["mask"], enable_gqa=True)
    return heads.transpose(1, 2).reshape(B, T, d) @ c["W_o"].double().T


def _judge_mha(cases: list[dict], outputs: Any, reference: Any) -> None:
    for i, (c, y) in enumerate(paired(cases, outputs)):
        kv = c["n_kv_heads"] or c["n_heads"]
        label = f"case {i + 1} (n_heads={c['n_heads']}, n_kv_heads={kv}" + (", with a mask)" if c["mask"] is not None else ")")
        not_raised(y, label)
        expect(isinstance(y, torch.Tensor) and y.dtype == c["x"].dtype, f"{label}: the result must keep the input's dtype")
        tol = _attn_tolerance(c["x"])
        expect_close(y, reference(c), label, rtol=tol * 10, atol=tol * 10)


@judge(hidden.multi_head_attention)
def judge_multi_head_attention(cases: list[dict], outputs: Any) -> None:
    _judge_mha(cases, outputs, _mha_torch)


@judge(hidden.grouped_query_attention)
def judge_grouped_query_attention(cases: list[dict], outputs: Any) -> None:
    _judge_mha(cases, outputs, _gqa_torch)


answer_key(
    hidden,
    {
        "q1_scale_sqrt_dk": Choice("b"),
        "q2_scores_when_t_doubles": Number(4.0),  # T x T scores: (2T)^2 / T^2
        "q3_attention_parallel": Choice("c"),
    },
)


# == end of notebook 1 ==

# == notebook 2: positions ====================================================================

def _sinusoidal_reference(T: int, d: int) -> torch.Tensor:
    """'Attention Is All You Need', section 3.5: PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(...)."""
    pe = torch.zeros(T, d, dtype=torch.float64)
    for pos in range(T):
        for i in range(d // 2):
            angle = pos / 10000 ** (2 * i / d)
            pe[pos, 2 * i], pe[pos, 2 * i + 1] = math.sin(angle), math.cos(angle)
    return pe


@judge(hidden.sinusoidal_positions)
def judge_sinusoidal_positions(cases: list[tuple[int, int]], outputs: Any) -> None:
    for (T, d), pe in paired(cases, outputs):
        not_raised(pe, f"T={T}, d={d}")
        expect(isinstance(pe, torch.Tensor) and pe.is_floating_point(), f"T={T}, d={d}: should be a float tensor")
        expect_close(pe, _sinusoidal_reference(T, d), f"T={T}, d={d}", rtol=0, atol=2e-4)


def _llama_rope(x: torch.Tensor, positions: torch.Tensor, theta: float) -> torch.Tensor:
    """Meta's Llama reference: interleaved pairs as complex numbers times polar(1, positions * freqs)."""
    d = x.shape[-1]
    freqs = 1.0 / (theta ** (torch.arange(0, d, 2, dtype=torch.float64)[: d // 2] / d))
    freqs_cis = torch.polar(torch.ones(len(positions), d // 2, dtype=torch.float64), torch.outer(positions.to(torch.float64), freqs))
    x_complex = torch.view_as_complex(x.to(torch.float64).reshape(*x.shape[:-1], -1, 2).contiguous())
    return torch.view_as_real(x_complex * freqs_cis).flatten(-2)


@judge(hidden.apply_rope)
def judge_apply_rope(cases: list[dict], outputs: Any) -> None:
    for n, (c, out) in enumerate(paired(cases, outputs), 1):
        label = f"case {n} (x of shape {tuple(c['x'].shape)}, {c['x'].dtype})"
        expect(isinstance(out, dict), f"{label}: malformed result")
        y = not_raised(out["y"], label)
        expect(isinstance(y, torch.Tensor) and y.dtype == c["x"].dtype, f"{label}: should return a tensor of x's dtype")
        expect_close(y, _llama_rope(c["x"], c["positions"], c["theta"] or 10000.0), label, rtol=1e-3, atol=1e-3)
        expect(torch.equal(out["x_after"], c["x"]), f"{label}: the input x was modified in place")


@judge(hidden.rope_relative)
def judge_rope_relative(cases: list[dict], outputs: Any) -> None:
    for n, (c, out) in enumerate(paired(cases, outputs), 1):
        label = f"case {n}"
        expect(isinstance(out, dict), f"{label}: malformed result")
        rotated = {name: not_raised(out[name], f"{label}: {name}") for name in ("q", "k", "q_shifted", "k_shifted")}
        for name, value in rotated.items():
            expect(isinstance(value, torch.Tensor) and value.shape == c["q"].shape, f"{label}: {name} has the wrong shape")
            source = c["q"] if name.startswith("q") else c["k"]
            expect_close(value.to(torch.float64).norm(dim=-1), source.to(torch.float64).norm(dim=-1), f"{label}: lengths are not preserved", rtol=1e-4, atol=1e-5)
        scores = rotated["q"].to(torch.float64) @ rotated["k"].to(torch.float64).transpose(-1, -2)
        shifted = rotated["q_shifted"].to(torch.float64) @ rotated["k_shifted"].to(torch.float64).transpose(-1, -2)
        expect_close(shifted, scores, f"{label}: scores change when every position is shifted by the same amount", rtol=1e-3, atol=1e-3)


def _alibi_get_slopes(n: int) -> list[float]:
    """The ALiBi authors' get_slopes (ofirpress/attention_with_linear_biases, fairseq multihead_attention)."""

    def get_slopes_power_of_2(n: int) -> list[float]:
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        ratio = start
        return [start * ratio**i for i in range(n)]

    if math.log2(n).is_integer():
        return get_slopes_power_of_2(n)
    closest_power_of_2 = 2 ** math.floor(math.log2(n))
    return get_slopes_power_of_2(closest_power_of_2) + _alibi_get_slopes(2 * closest_power_of_2)[0::2][: n - closest_power_of_2]


def _judge_alibi_slopes(counts: list[int], outputs: Any) -> None:
    for n, slopes in paired(counts, outputs):
        not_raised(slopes, f"{n} heads")
        expect(isinstance(slopes, torch.Tensor) and slopes.is_floating_point(), f"{n} heads: should return a float tensor")
        expect_close(slopes, torch.tensor(_alibi_get_slopes(n), dtype=torch.float64), f"{n} heads", rtol=1e-5, atol=0)


judge(hidden.alibi_slopes)(_judge_alibi_slopes)
judge(hidden.alibi_slopes_any_count)(_judge_alibi_slopes)


@judge(hidden.alibi_bias)
def judge_alibi_bias(cases: list[tuple[int, int]], outputs: Any) -> None:
    for (n_heads, T), bias in paired(cases, outputs):
        label = f"{n_heads} heads, T={T}"
        not_raised(bias, label)
        expect(isinstance(bias, torch.Tensor) and bias.is_floating_point(), f"{label}: should return a float tensor")
        distance = torch.tensor([[j - i for j in range(T)] for i in range(T)], dtype=torch.float64)
        reference = torch.stack([slope * distance for slope in _alibi_get_slopes(n_heads)])
        expect_close(bias, reference, label, rtol=1e-5, atol=1e-9)


answer_key(
    hidden,
    {
        "q1_alibi_head3": Number(2.0 ** (-8 * 3 / 8)),
        "q2_rope_relative": Choice("c"),
        "q3_wavelengths": Choice("a"),
    },
)


# == end of notebook 2 ==

# == notebook 3: blocks and a GPT =============================================================


@judge(hidden.rms_norm)
def judge_rms_norm(cases: list[dict], outputs: Any) -> None:
    for c, out in paired(cases, outputs):
        reference = torch.nn.functional.rms_norm(c["x"], c["x"].shape[-1:], c["weight"], eps=c["eps"] or 1e-5)
        tolerance = 1e-5 if c["x"].dtype == torch.float32 else 1e-9
        expect_close(out, reference, f"rms_norm of a {c['x'].dtype} input of shape {tuple(c['x'].shape)}", rtol=tolerance, atol=tolerance, dtype=c["x"].dtype)


@judge(hidden.swiglu)
def judge_swiglu(cases: list[dict], outputs: Any) -> None:
    for c, out in paired(cases, outputs):
        x, W1, W3, W2 = (c[k].double() for k in ("x", "W1", "W3", "W2"))
        reference = torch.nn.functional.linear(torch.nn.functional.silu(torch.nn.functional.linear(x, W1)) * torch.nn.functional.linear(x, W3), W2)
        tolerance = 1e-4 if c["x"].dtype == torch.float32 else 1e-9
        expect_close(out, reference, f"swiglu on an input of shape {tuple(c['x'].shape)}", rtol=tolerance, atol=tolerance)


def _rope(x: torch.Tensor, theta: float) -> torch.Tensor:
    """Rotary embedding in the complex form of Meta's Llama reference code (pairs (x[2i], x[2i+1]))."""
    T, d = x.shape[-2], x.shape[-1]
    freqs = 1.0 / theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d)
    rotation = torch.polar(torch.ones(T, d // 2, dtype=torch.float64), torch.arange(T, dtype=torch.float64)[:, None] * freqs)
    pairs = torch.view_as_complex(x.reshape(*x.shape[:-1], d // 2, 2).contiguous())
    return torch.view_as_real(pairs * rotation).flatten(-2)


def _reference_block(config: dict, w: dict, x: torch.Tensor, prefix: str = "") -> torch.Tensor:
    """A pre-norm Llama-style block from PyTorch primitives, in float64."""
    F = torch.nn.functional
    d, heads, kv = config["d_model"], config["n_heads"], config["n_kv_heads"]
    B, T, _ = x.shape
    W = {k: w[prefix + k].double() for k in ("attn_norm.weight", "attn.W_q.weight", "attn.W_k.weight", "attn.W_v.weight", "attn.W_o.weight", "mlp_norm.weight", "mlp.W1.weight", "mlp.W3.weight", "mlp.W2.weight")}
    n = F.rms_norm(x, (d,), W["attn_norm.weight"], eps=1e-5)

    def split(y: torch.Tensor, count: int) -> torch.Tensor:
        return y.view(B, T, count, d // heads).transpose(1, 2)

    q = _rope(split(F.linear(n, W["attn.W_q.weight"]), heads), config["rope_theta"])
    k = _rope(split(F.linear(n, W["attn.W_k.weight"]), kv), config["rope_theta"])
    v = split(F.linear(n, W["attn.W_v.weight"]), kv)
    attended = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    x = x + F.linear(attended.transpose(1, 2).reshape(B, T, d), W["attn.W_o.weight"])
    n = F.rms_norm(x, (d,), W["mlp_norm.weight"], eps=1e-5)
    return x + F.linear(F.silu(F.linear(n, W["mlp.W1.weight"])) * F.linear(n, W["mlp.W3.weight"]), W["mlp.W2.weight"])


def _judge_blocks(cases: list[dict], outputs: Any) -> None:
    for c, out in paired(cases, outputs):
        reference = _reference_block(c["config"], c["weights"], c["x"].double())
        expect_close(out, reference, f"block with {c['config']['n_heads']} query and {c['config']['n_kv_heads']} key/value heads", rtol=1e-4, atol=1e-4)


judge(hidden.transformer_block)(_judge_blocks)
judge(hidden.transformer_block_gqa)(_judge_blocks)


@judge(hidden.transformer_block_causal)
def judge_transformer_block_causal(case: dict, outputs: Any) -> None:
    """Three inputs that differ after position `cut`, or in the first token: each output must be the reference's."""
    for key, out in paired(["x", "future", "first"], outputs):
        reference = _reference_block(case["config"], case["weights"], case[key].double())
        expect(isinstance(out, torch.Tensor) and out.shape == reference.shape, "wrong output shape")
        expect(torch.allclose(out[:, : case["cut"]].double(), reference[:, : case["cut"]], rtol=1e-4, atol=1e-4), "outputs depend on later positions (not causal)")
        expect_close(out, reference, "block output on inputs that differ only in some positions", rtol=1e-4, atol=1e-4)


@judge(hidden.gpt)
def judge_gpt(cases: list[dict], outputs: Any) -> None:
    F = torch.nn.functional
    for c, out in paired(cases, outputs):
        w = c["weights"]
        x = w["embed.weight"].double()[c["tokens"]]
        for layer in range(c["config"]["n_layers"]):
            x = _reference_block(c["config"], w, x, prefix=f"blocks.{layer}.")
        logits = F.linear(F.rms_norm(x, (x.shape[-1],), w["norm.weight"].double(), eps=1e-5), w["embed.weight"].double())
        expect_close(out, logits, f"logits of a {c['config']['n_layers']}-layer model", rtol=1e-4, atol=1e-4)


answer_key(hidden, {"q1_residual": Choice("b"), "q2_pre_norm": Choice("b"), "q3_swiglu_params": Number(132096, rel=1e-9)})

# == end of notebook 3 ==

# == notebook 4: accounting ===================================================================


def _gpt2_reference_count(vocab: int, context: int, d: int, n_layers: int, d_ff: int | None) -> int:
    """Build GPT-2 from torch.nn modules on the meta device and count p.numel(): no formula involved."""
    nn, meta = torch.nn, torch.device("meta")
    d_ff = 4 * d if d_ff is None else d_ff

    def block() -> torch.nn.Module:
        return nn.ModuleDict(
            {
                "ln_1": nn.LayerNorm(d, device=meta),
                "c_attn": nn.Linear(d, 3 * d, device=meta),
                "attn_proj": nn.Linear(d, d, device=meta),
                "ln_2": nn.LayerNorm(d, device=meta),
                "c_fc": nn.Linear(d, d_ff, device=meta),
                "mlp_proj": nn.Linear(d_ff, d, device=meta),
            }
        )

    model = nn.ModuleDict(
        {
            "wte": nn.Embedding(vocab, d, device=meta),
            "wpe": nn.Embedding(context, d, device=meta),
            "h": nn.ModuleList(block() for _ in range(n_layers)),
            "ln_f": nn.LayerNorm(d, device=meta),
            "lm_head": nn.Linear(d, vocab, bias=False, device=meta),
        }
    )
    model["lm_head"].weight = model["wte"].weight  # tied: parameters() lists the shared tensor once
    return sum(p.numel() for p in model.parameters())


@judge(hidden.gpt2_param_count)
@judge(hidden.gpt2_param_count_d_ff)
def judge_gpt2_param_count(cases: list[dict], outputs: Any) -> None:
    for i, (c, got) in enumerate(paired(cases, outputs)):
        what = f"configuration {i + 1}" + (" (default d_ff)" if c["d_ff"] in ("omitted", None) else "")
        not_raised(got, what)
        expect(isinstance(got, int) and not isinstance(got, bool), f"{what}: should return an int")
        d_ff = None if c["d_ff"] == "omitted" else c["d_ff"]
        expect(got == _gpt2_reference_count(c["vocab"], c["context"], c["d_model"], c["n_layers"], d_ff), f"{what}: wrong parameter count")


@judge(hidden.forward_flops_per_token)
def judge_forward_flops_per_token(cases: list[dict], outputs: Any) -> None:
    for i, (c, got) in enumerate(paired(cases, outputs)):
        what = f"case {i + 1}"
        not_raised(got, what)
        expected = 2 * c["n_params"] + 2 * c["n_layers"] * c["context"] * c["d_model"]  # Kaplan et al. 2020, Table 1
        expect(close_number(got, expected, rel=1e-9, abs_=1e-6), f"{what}: wrong FLOP count")


answer_key(
    hidden,
    {
        "q1_embedding_share": Number((50257 + 1024) * 768 / 124_439_808, rel=0, abs=0.005),  # token + position embeddings of GPT-2 small
        "q2_model_for_job": Choice("a"),
        "q3_training_6n": Choice("c"),
    },
)

# == end of notebook 4 ==
