"""Hidden tests of 04_accounting.ipynb: GPT-2's parameter count, forward FLOPs per token (no expected values here)."""

from __future__ import annotations

from typing import Any

import torch

from autograde.hidden import Case, answers, case, probe, randint


def _gpt2_case(g: torch.Generator, d_ff: str) -> Case:
    """A random GPT-2-shaped configuration; `d_ff` is "omitted", "None", "random" or "4 d_model"."""
    d, width = randint(g, 2, 96), randint(g, 1, 400)
    vocab, context, n_layers = randint(g, 10, 3000), randint(g, 2, 512), randint(g, 1, 6)
    label = f"vocab={vocab}, context={context}, d_model={d}, n_layers={n_layers}"
    if d_ff == "omitted":
        return case(f"{label}, d_ff omitted", vocab, context, d, n_layers)
    value = {"None": None, "random": width, "4 d_model": 4 * d}[d_ff]
    return case(f"{label}, d_ff={value}", vocab, context, d, n_layers, value)


def _integer(value: Any) -> Any:
    """int for any integer type (NumPy, 0-d integer tensors); other values unchanged, for the judge."""
    if isinstance(value, bool):
        return value
    try:
        return int(value.__index__())
    except (AttributeError, TypeError, ValueError, RuntimeError):
        return value


def _count(gpt2_param_count: Any, c: Case) -> Any:
    return _integer(gpt2_param_count(*c.args, **c.kwargs))


@probe("gpt2_param_count", run=_count)
def gpt2_param_count(g: torch.Generator) -> list[Case]:
    """The default d_ff (omitted, or passed as None), one configuration of GPT-2's own size."""
    cases = [_gpt2_case(g, d_ff) for d_ff in ("omitted", "omitted", "omitted", "None")]
    vocab, context = randint(g, 30000, 60000), randint(g, 1024, 8192)
    d, n_layers = randint(g, 256, 2048), randint(g, 12, 48)
    label = f"large: vocab={vocab}, context={context}, d_model={d}, n_layers={n_layers}, d_ff omitted"
    return cases + [case(label, vocab, context, d, n_layers)]


@probe("gpt2_param_count", run=_count)
def gpt2_param_count_d_ff(g: torch.Generator) -> list[Case]:
    """An explicit d_ff: any width, and 4 * d_model."""
    return [_gpt2_case(g, d_ff) for d_ff in ("random", "random", "random", "random", "4 d_model")]


@probe("forward_flops_per_token")
def forward_flops_per_token(g: torch.Generator) -> list[Case]:
    """Realistic random shapes (N about 12 n_layers d^2), an attention-only case and a one-token context."""
    cases = []
    for _ in range(6):
        d, n_layers = 64 * randint(g, 1, 64), randint(g, 1, 64)
        n_params, context = 12 * n_layers * d * d + randint(g, 0, 10**6), randint(g, 16, 32768)
        cases.append(
            case(f"N={n_params}, n_layers={n_layers}, context={context}, d_model={d}", n_params, n_layers, context, d)
        )
    n_layers, context, d = randint(g, 1, 8), randint(g, 2, 64), randint(g, 8, 64)
    cases.append(
        case(f"no parameters (N=0), n_layers={n_layers}, context={context}, d_model={d}", 0, n_layers, context, d)
    )
    n_params, n_layers, d = randint(g, 1000, 10**6), randint(g, 1, 8), randint(g, 8, 64)
    cases.append(case(f"a one-token context, N={n_params}, n_layers={n_layers}, d_model={d}", n_params, n_layers, 1, d))
    return cases


q1_embedding_share, q2_model_for_job, q3_training_6n = answers(
    __name__, "q1_embedding_share", "q2_model_for_job", "q3_training_6n"
)
