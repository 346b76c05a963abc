"""Visible checks of 03_gpt.ipynb (module 02, the Transformer): blocks and a GPT."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from course.checks import call, expect_close, expect_tensor, fail, fixed, is_close, passed


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
        expect_close(
            y,
            expected,
            "rms_norm(x, weight)",
            "x / sqrt(mean(x**2 over the last dimension) + eps) * weight",
            rtol=1e-6,
            atol=1e-7,
        )
    y = call(rms_norm, x, weight, eps=10.0)
    expect_close(
        y,
        torch.nn.functional.rms_norm(x, (8,), weight, eps=10.0),
        "rms_norm with eps=10",
        "use the eps argument you receive",
        rtol=1e-6,
        atol=1e-7,
    )
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
        if is_close(y, (torch.relu(x @ W1.T) * (x @ W3.T)) @ W2.T, rtol=1e-6) or is_close(
            y, (torch.nn.functional.gelu(x @ W1.T) * (x @ W3.T)) @ W2.T, rtol=1e-6
        ):
            fail("wrong activation: SwiGLU uses silu(z) = z * sigmoid(z)")
        expect_close(
            y,
            expected,
            "swiglu(x, W1, W3, W2)",
            "W2 (silu(W1 x) * W3 x), weights in (d_out, d_in) layout: x @ W.T",
            rtol=1e-6,
            atol=1e-8,
        )
    passed("swiglu matches silu(x W1^T) * (x W3^T) W2^T")


def _model_config(n_kv_heads: int = 2, **overrides: Any) -> Any:
    from course.models import TinyGPTConfig

    values = {
        "d_model": 32,
        "n_layers": 2,
        "n_heads": 4,
        "n_kv_heads": n_kv_heads,
        "d_ff": 48,
        "context": 16,
        **overrides,
    }
    return TinyGPTConfig(**values)


def _randomized(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """`module` with every parameter drawn at random (norm gains around 1), for checks with visible effects."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
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
        fail(
            "changing the tokens at positions 6-9 changed the outputs at positions 0-5: the attention is not causal (is_causal=True)"
        )
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
            hint = (
                "query head h uses key/value head h // (n_heads // n_kv_heads): repeat_interleave on the head dimension"
                if what
                else (
                    "pre-norm (normalize the input of each branch, add the branch's output to x), rope on q and k only, "
                    "heads as (B, heads, T, d_head), causal attention scaled by 1/sqrt(d_head), W_o after merging the heads"
                )
            )
            expect_close(
                out,
                expected,
                f"TransformerBlock output ({what}attention)",
                f"it differs from TinyGPT's block with the same weights: {hint}",
                rtol=1e-4,
                atol=1e-5,
            )
    passed(
        f"TransformerBlock equals TinyGPT's block with the same weights ({config.n_heads} query heads, {n_kv_heads} key/value heads)"
    )


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
            expect_close(
                logits,
                expected,
                "GPT logits",
                "embed the tokens, run every block in order with positions arange(T), final rms_norm, then the tied head embed.weight.T",
                rtol=1e-4,
                atol=1e-4,
            )
    passed("GPT equals TinyGPT with the same weights")
