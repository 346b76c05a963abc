"""Hidden tests of 04_accounting.ipynb: GPT-2's parameter count, forward FLOPs per token (no expected values here)."""

from __future__ import annotations

from typing import Any

import torch

from autograde.hidden import Case, answers, case, probe, randint

# Each size comes from its own range, apart from the others (vocab > context > d_model > n_layers), so that a
# count that swaps two of them, or ignores n_layers or an explicit d_ff, is wrong for every seed.
D_FF_RANGES = {  # an explicit d_ff, as a range of widths given d_model: never d_model or 4 d_model
    "wider than 4 d_model": lambda d: (4 * d + 1, 4 * d + 400),
    "between d_model and 4 d_model": lambda d: (d + 1, 4 * d - 1),
    "narrower than d_model": lambda d: (1, d - 1),
}


def _gpt2_case(g: torch.Generator, d_ff: str, n_layers: int | None = None) -> Case:
    """A random GPT-2-shaped configuration with 2 to 6 layers (or `n_layers`); `d_ff` is "omitted", "None",
    "4 d_model" or a key of D_FF_RANGES."""
    d, n_layers = randint(g, 8, 96), n_layers or randint(g, 2, 6)
    vocab, context = randint(g, 1000, 3000), randint(g, 128, 512)
    label = f"vocab={vocab}, context={context}, d_model={d}, n_layers={n_layers}"
    if d_ff == "omitted":
        return case(f"{label}, d_ff omitted", vocab, context, d, n_layers)
    value = None if d_ff == "None" else 4 * d if d_ff == "4 d_model" else randint(g, *D_FF_RANGES[d_ff](d))
    what = "" if d_ff in ("None", "4 d_model") else f" ({d_ff})"
    return case(f"{label}, d_ff={value}{what}", vocab, context, d, n_layers, value)


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
    """The default d_ff (omitted, or passed as None), one layer, one configuration of GPT-2's own size."""
    cases = [_gpt2_case(g, "omitted"), _gpt2_case(g, "omitted"), _gpt2_case(g, "omitted", n_layers=1)]
    cases.append(_gpt2_case(g, "None"))
    vocab, context = randint(g, 30000, 60000), randint(g, 1024, 8192)
    d, n_layers = randint(g, 256, 1000), randint(g, 12, 48)
    label = f"large: vocab={vocab}, context={context}, d_model={d}, n_layers={n_layers}, d_ff omitted"
    return cases + [case(label, vocab, context, d, n_layers)]


@probe("gpt2_param_count", run=_count)
def gpt2_param_count_d_ff(g: torch.Generator) -> list[Case]:
    """An explicit d_ff: wider than 4 d_model, in between, narrower than d_model, and exactly 4 * d_model."""
    return [_gpt2_case(g, d_ff) for d_ff in (*D_FF_RANGES, "wider than 4 d_model", "4 d_model")]


@probe("forward_flops_per_token")
def forward_flops_per_token(g: torch.Generator) -> list[Case]:
    """Realistic random shapes (N about 12 n_layers d^2, 2 to 64 layers), one layer, an attention-only case and a
    one-token context."""
    cases = []
    for _ in range(6):
        d, n_layers = 64 * randint(g, 1, 64), randint(g, 2, 64)
        n_params, context = 12 * n_layers * d * d + randint(g, 0, 10**6), randint(g, 16, 32768)
        cases.append(
            case(f"N={n_params}, n_layers={n_layers}, context={context}, d_model={d}", n_params, n_layers, context, d)
        )
    d, context = 64 * randint(g, 1, 16), randint(g, 16, 4096)
    n_params = 12 * d * d + randint(g, 0, 10**5)
    cases.append(case(f"one layer, N={n_params}, context={context}, d_model={d}", n_params, 1, context, d))
    n_layers, context, d = randint(g, 2, 8), randint(g, 2, 64), randint(g, 8, 64)
    cases.append(
        case(f"no parameters (N=0), n_layers={n_layers}, context={context}, d_model={d}", 0, n_layers, context, d)
    )
    n_params, n_layers, d = randint(g, 1000, 10**6), randint(g, 2, 8), randint(g, 8, 64)
    cases.append(case(f"a one-token context, N={n_params}, n_layers={n_layers}, d_model={d}", n_params, n_layers, 1, d))
    return cases


q1_embedding_share, q2_model_for_job, q3_training_6n = answers(
    __name__, "q1_embedding_share", "q2_model_for_job", "q3_training_6n"
)
