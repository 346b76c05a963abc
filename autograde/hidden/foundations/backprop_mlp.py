"""Hidden tests of 02_backprop_mlp.ipynb: linear and ReLU backward, softmax cross-entropy, GELU and SiLU,
numerical gradients (no expected values here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from autograde.hidden import Case, Forbidden, answers, call_without_autograd, case, probe, randn

NO_AUTOGRAD = Forbidden(names=("autograd", "backward", "requires_grad", "requires_grad_", "enable_grad", "grad"))
LINEAR = Forbidden(ops=("addmm", "linear"), names=("linear", "Linear", "addmm"))
CROSS_ENTROPY = NO_AUTOGRAD + Forbidden(
    ops=("_log_softmax", "_softmax", "log_softmax", "softmax", "nll_loss.*", "cross_entropy_loss", "logsumexp"),
    names=(
        "cross_entropy",
        "log_softmax",
        "softmax",
        "nll_loss",
        "logsumexp",
        "CrossEntropyLoss",
        "NLLLoss",
        "LogSoftmax",
        "Softmax",
    ),
)
GELU = Forbidden(ops=("gelu",), names=("gelu", "GELU"))
SILU = Forbidden(ops=("silu",), names=("silu", "SiLU"))
NUMERICAL = NO_AUTOGRAD + Forbidden(names=("functional",))

LINEAR_SHAPES = [(7, 5, 3), (1, 4, 6), (9, 1, 2), (3, 6, 6)]  # (N, d_in, d_out); a square W last


def _linear_label(n: int, d_in: int, d_out: int) -> str:
    return f"x ({n}, {d_in}), W ({d_out}, {d_in})" + (", a square W" if d_in == d_out else "")


@probe("linear_forward", forbidden=LINEAR)
def linear_forward(g: torch.Generator) -> list[Case]:
    return [case(_linear_label(n, i, o), randn(g, n, i), randn(g, o, i), randn(g, o)) for n, i, o in LINEAR_SHAPES]


@dataclass
class LinearGrads:
    dx: torch.Tensor
    dW: torch.Tensor
    db: torch.Tensor


def _linear_backward(linear_backward: Callable, c: Case) -> LinearGrads:
    dx, dW, db = call_without_autograd(linear_backward, c)
    return LinearGrads(dx, dW, db)


@probe("linear_backward", run=_linear_backward, output=LinearGrads, forbidden=NO_AUTOGRAD)
def linear_backward(g: torch.Generator) -> list[Case]:
    """Arguments (dout, x, W)."""
    cases = []
    for n, i, o in LINEAR_SHAPES:
        x, W = randn(g, n, i), randn(g, o, i)
        cases.append(case(_linear_label(n, i, o), randn(g, n, o), x, W))
    return cases


@probe("relu_backward", run=call_without_autograd, forbidden=NO_AUTOGRAD)
def relu_backward(g: torch.Generator) -> list[Case]:
    """Arguments (dout, x); the entries of x cycle through 0 (exactly, where the derivative is 0), positive,
    negative, positive: only their magnitudes are random, so every seed takes both branches and the zeros."""
    cases = []
    for shape in [(5, 8), (2, 3, 4), (17,)]:
        n = torch.Size(shape).numel()
        signs = torch.tensor([0.0, 1.0, -1.0, 1.0], dtype=torch.float64).repeat(n // 4 + 1)[:n].view(shape)
        x = signs * (randn(g, *shape).abs() + 0.1)
        cases.append(case(f"x {shape} with exact zeros", randn(g, *shape), x))
    return cases


@dataclass
class LossAndGrad:
    loss: torch.Tensor
    dlogits: torch.Tensor


def _cross_entropy(softmax_cross_entropy: Callable, c: Case) -> LossAndGrad:
    loss, dlogits = call_without_autograd(softmax_cross_entropy, c)
    return LossAndGrad(loss, dlogits)


@probe("softmax_cross_entropy", run=_cross_entropy, output=LossAndGrad, forbidden=CROSS_ENTROPY)
def softmax_cross_entropy(g: torch.Generator) -> list[Case]:
    cases = []
    for n, k, scale in [(8, 5, 1.0), (1, 3, 2.0), (16, 10, 4.0), (5, 2, 0.1)]:
        logits = randn(g, n, k, dtype=torch.float32, scale=scale)
        cases.append(case(f"logits ({n}, {k}) of scale {scale:g}", logits, torch.randint(0, k, (n,), generator=g)))
    return cases


@probe("softmax_cross_entropy", run=_cross_entropy, output=LossAndGrad, forbidden=CROSS_ENTROPY)
def softmax_cross_entropy_stability(g: torch.Generator) -> list[Case]:
    """Logits up to 1e4 in float32; the first row's target has a logit of -1e4 (a tiny probability)."""
    cases = []
    for n, k, scale in [(6, 4, 1e4), (4, 7, 3e3), (3, 5, 500.0)]:
        logits = randn(g, n, k, dtype=torch.float32, scale=scale)
        logits[0, 0] = -1e4
        targets = torch.randint(0, k, (n,), generator=g)
        targets[0] = 0
        cases.append(case(f"logits ({n}, {k}) of scale {scale:g}, a target logit of -1e4", logits, targets))
    return cases


def _activation_cases(g: torch.Generator) -> list[Case]:
    extremes = torch.tensor([-1e4, -60.0, -20.0, -1e-3, 0.0, 1e-3, 20.0, 60.0, 1e4])
    return [
        case("random inputs", randn(g, 64, scale=3.0)),
        case("a float32 3-D tensor", randn(g, 2, 3, 5, dtype=torch.float32, scale=2.0)),
        case("large and tiny inputs (float64)", extremes.to(torch.float64)),
        case("large and tiny inputs (float32)", extremes.to(torch.float32)),
    ]


@probe("gelu", forbidden=GELU)
def gelu(g: torch.Generator) -> list[Case]:
    return _activation_cases(g)


@probe("gelu_tanh", forbidden=GELU)
def gelu_tanh(g: torch.Generator) -> list[Case]:
    return _activation_cases(g)


@probe("silu", forbidden=SILU)
def silu(g: torch.Generator) -> list[Case]:
    return _activation_cases(g)


NUMERICAL_FUNCTIONS: dict[str, Callable[[torch.Tensor], Any]] = {
    "cube": lambda t: (t**3).sum(),  # returns a 0-dim tensor
    "cube_float": lambda t: float((t**3).sum()),  # returns a Python float
    "sin_x": lambda t: (t.sin() * t).sum() * 2.0,
    "square_of_sum": lambda t: t.sum() ** 2,  # couples the entries: each partial depends on all of them
}


@dataclass
class NumericalGrad:
    grad: torch.Tensor
    x_after: torch.Tensor  # the x passed in, afterwards: must be unchanged


def _numerical_gradient(numerical_gradient: Callable, c: Case) -> NumericalGrad:
    return NumericalGrad(call_without_autograd(numerical_gradient, c), c.args[1])


def _numerical_case(x: torch.Tensor, f: str, eps: float | None) -> Case:
    """Arguments (f, x), and eps unless None (the default); `extra["f"]` names f for the judge."""
    label = f"f = {f}, x {tuple(x.shape)} {x.dtype}, " + ("default eps" if eps is None else f"eps={eps}")
    return Case(label, (NUMERICAL_FUNCTIONS[f], x), {} if eps is None else {"eps": eps}, extra={"f": f})


@probe("numerical_gradient", run=_numerical_gradient, output=NumericalGrad, forbidden=NUMERICAL)
def numerical_gradient(g: torch.Generator) -> list[Case]:
    return [
        _numerical_case(randn(g, 3, 4, dtype=torch.float32), "cube", None),
        _numerical_case(randn(g, 5), "cube", 1e-2),
        _numerical_case(randn(g, 2, 3, dtype=torch.float32), "cube_float", 1e-3),
        _numerical_case(randn(g, 4, 2), "sin_x", None),
        _numerical_case(randn(g, 6), "square_of_sum", 1e-3),
    ]


q1_large_logits_loss, q2_initial_loss, q3_gradient_fan_out = answers(
    __name__, "q1_large_logits_loss", "q2_initial_loss", "q3_gradient_fan_out"
)
