"""Hidden tests of 03_gpt.ipynb: RMSNorm, SwiGLU, a pre-norm block, the whole GPT (no expected values here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from autograde.hidden import Case, Forbidden, answers, case, probe, randint, randn
from course.models import Block, TinyGPT, TinyGPTConfig

# The block may rotate with the course's RoPE (notebook 2's exercise), as the notebook imports it.
USES_ROPE = ("course.models.rope",)
RMS_NORM = Forbidden(ops=("rms_norm", "_fused_rms_norm"), names=("rms_norm", "RMSNorm"))


@probe("rms_norm", forbidden=RMS_NORM)
def rms_norm(g: torch.Generator) -> list[Case]:
    cases = []
    for what, shape, dtype, eps, scale in [
        ("rows", (5, 16), torch.float64, None, 1.0),
        ("batch, large values", (2, 3, 8), torch.float32, None, 4.0),
        ("one vector, large eps", (7,), torch.float64, 0.5, 1.0),
        ("small values, eps=1e-3", (4, 5), torch.float64, 1e-3, 0.05),
    ]:
        x = randn(g, *shape, dtype=dtype, scale=scale) + 0.5
        weight = randn(g, shape[-1], dtype=dtype) + 1.0
        label = f"{what}: x {shape} {dtype}"
        cases.append(case(label, x, weight) if eps is None else case(label, x, weight, eps=eps))
    return cases


@probe("swiglu")
def swiglu(g: torch.Generator) -> list[Case]:
    cases = []
    for what, lead, d, f, dtype in [
        ("rows", (5,), 8, 12, torch.float64),
        ("batch in float32", (2, 3), 6, 16, torch.float32),
        ("one vector, d_ff = d_model", (), 4, 4, torch.float64),
        ("three leading dimensions", (3, 1, 2), 5, 7, torch.float64),
    ]:
        x = randn(g, *lead, d, dtype=dtype)
        W1, W3, W2 = randn(g, f, d, dtype=dtype), randn(g, f, d, dtype=dtype), randn(g, d, f, dtype=dtype)
        cases.append(case(f"{what}: x {(*lead, d)}, d_ff={f}", x, W1, W3, W2))
    return cases


# Blocks and models are built from a config and random weights under TinyGPT's parameter names.
MODEL_CONFIGS = [
    {"d_model": 48, "n_layers": 2, "n_heads": 4, "n_kv_heads": 4, "d_ff": 64, "context": 24, "rope_theta": 10000.0},
    {"d_model": 32, "n_layers": 1, "n_heads": 2, "n_kv_heads": 2, "d_ff": 40, "context": 16, "rope_theta": 500.0},
]
GQA_CONFIGS = [
    {"d_model": 48, "n_layers": 2, "n_heads": 6, "n_kv_heads": 2, "d_ff": 64, "context": 24, "rope_theta": 10000.0},
    {"d_model": 32, "n_layers": 1, "n_heads": 4, "n_kv_heads": 1, "d_ff": 40, "context": 16, "rope_theta": 10000.0},
]


def random_weights(g: torch.Generator, config: dict, module: type[Block] | type[TinyGPT]) -> dict[str, torch.Tensor]:
    """Random float32 tensors for every parameter of TinyGPT's `Block` or whole `TinyGPT`."""
    weights = {}
    for name, p in module(TinyGPTConfig(**config)).state_dict().items():
        noise = randn(g, *p.shape, dtype=torch.float32)
        weights[name] = 1 + 0.2 * noise if p.dim() == 1 else noise / p.shape[-1] ** 0.5
    return weights


def _heads(config: dict) -> str:
    return f"{config['n_heads']} query and {config['n_kv_heads']} key/value heads"


def _length(g: torch.Generator, config: dict, low: int, full: bool) -> tuple[int, str]:
    """(T, label suffix): the whole context with `full`, else a random T in [low, context - 1]."""
    if full:
        return config["context"], " (the full context)"
    return randint(g, low, config["context"] - 1), ""


def _block_case(g: torch.Generator, config: dict, full: bool = False) -> Case:
    """x of shape (2, T, d_model) for a block of `config` with random weights (in `extra`); T as `_length`."""
    T, what = _length(g, config, 5, full)
    weights = random_weights(g, config, Block)
    x = randn(g, 2, T, config["d_model"], dtype=torch.float32)
    return Case(f"{_heads(config)}, T={T}{what}", (x,), extra={"config": config, "weights": weights})


def _build(cls: Any, c: Case) -> Any:
    """The student's class built from the case's config, with its weights loaded."""
    module = cls(TinyGPTConfig(**c.extra["config"]))
    module.load_state_dict(c.extra["weights"])
    return module


def _run_block(cls: Any, c: Case) -> Any:
    with torch.no_grad():
        return _build(cls, c)(c.args[0], torch.arange(c.args[0].shape[1]))


@probe("TransformerBlock", run=_run_block, allowed=USES_ROPE)
def transformer_block(g: torch.Generator) -> list[Case]:
    return [_block_case(g, MODEL_CONFIGS[0]), _block_case(g, MODEL_CONFIGS[1], full=True)]


@probe("TransformerBlock (grouped-query attention)", run=_run_block, allowed=USES_ROPE)
def transformer_block_gqa(g: torch.Generator) -> list[Case]:
    return [_block_case(g, GQA_CONFIGS[0]), _block_case(g, GQA_CONFIGS[1], full=True)]


@dataclass
class Causal:
    original: torch.Tensor  # the block on x
    future_changed: torch.Tensor  # on x with the positions from `cut` on redrawn
    first_changed: torch.Tensor  # on x with the first token shifted


def _run_three(cls: Any, c: Case) -> Causal:
    block = _build(cls, c)
    with torch.no_grad():
        return Causal(*(block(x, torch.arange(x.shape[1])) for x in c.args))


@probe("TransformerBlock (causality)", run=_run_three, output=Causal, allowed=USES_ROPE)
def transformer_block_causal(g: torch.Generator) -> list[Case]:
    """One block and x; inputs that differ from position 1 on (all but the first token), or in the last token
    alone, and in the first token."""
    block = _block_case(g, MODEL_CONFIGS[0])
    x, T = block.args[0], block.args[0].shape[1]
    first = x.clone()
    first[:, 0] += 1.0
    cases = []
    for cut, what in ((1, "from position 1 on"), (T - 1, "in the last position")):
        future = x.clone()
        future[:, cut:] = randn(g, 2, T - cut, x.shape[-1], dtype=torch.float32)
        label = f"{block.label}: inputs that differ {what}, or in the first token"
        cases.append(Case(label, (x, future, first), extra={**block.extra, "cut": cut}))
    return cases


def _run_gpt(cls: Any, c: Case) -> Any:
    with torch.no_grad():
        return _build(cls, c)(*c.args)


@probe("GPT", run=_run_gpt, allowed=USES_ROPE)
def gpt(g: torch.Generator) -> list[Case]:
    cases = []
    for config, full in ((MODEL_CONFIGS[0], False), (GQA_CONFIGS[0], True)):
        T, what = _length(g, config, 4, full)
        weights = random_weights(g, config, TinyGPT)
        tokens = torch.randint(0, 256, (2, T), generator=g)
        label = f"{config['n_layers']} layers, {_heads(config)}, T={T}{what}"
        cases.append(Case(label, (tokens,), extra={"config": config, "weights": weights}))
    return cases


q1_residual, q2_pre_norm, q3_block_params = answers(__name__, "q1_residual", "q2_pre_norm", "q3_block_params")
