"""Hidden tests of 01_autograd.ipynb: the scalar Value class, its operations and backward (no expected values here).

Expressions are written once and evaluated twice: with the student's Value here, and with float64
PyTorch tensors by the judge. Leaves: a in [1.2, 2], b in [-2, -0.5], c in [0.3, 1.5], z = 0: every seed
takes the same branches (relu, a stable sigmoid) in every expression, and an operation's negative arguments
are the explicit cases that name them (b), never a sign left to the seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from autograde.hidden import Case, answers, probe

Expression = Callable[[Any, Any, Any, Any], Any]

VALUE_OPS: list[tuple[str, Expression]] = [
    ("addition", lambda a, b, c, z: a + c),
    ("multiplication", lambda a, b, c, z: a * b),
    ("integer power", lambda a, b, c, z: c**3),
    ("integer power of a negative value", lambda a, b, c, z: b**3),
    ("negative fractional power", lambda a, b, c, z: a**-1.5),
    ("exp", lambda a, b, c, z: c.exp()),
    ("exp of a negative value", lambda a, b, c, z: b.exp()),
    ("log", lambda a, b, c, z: a.log()),
    ("tanh", lambda a, b, c, z: c.tanh()),
    ("tanh of a negative value", lambda a, b, c, z: b.tanh()),
    ("relu of a positive value", lambda a, b, c, z: a.relu()),
    ("relu of a negative value", lambda a, b, c, z: b.relu()),
    ("relu at exactly 0", lambda a, b, c, z: z.relu() + a),
    ("sigmoid of a positive value", lambda a, b, c, z: c.sigmoid()),
    ("sigmoid of a negative value", lambda a, b, c, z: b.sigmoid()),
    (
        "sigmoid of a large negative value",
        lambda a, b, c, z: (b * 1500).sigmoid(),
    ),  # b in [-2, -0.5]: below -709, where math.exp(-x) overflows
    ("negation", lambda a, b, c, z: -c),
    ("subtraction", lambda a, b, c, z: a - b),
    ("division", lambda a, b, c, z: c / b),
    ("reflected addition (number + Value)", lambda a, b, c, z: 1.5 + c),
    ("reflected subtraction (number - Value)", lambda a, b, c, z: 2.5 - a),
    ("reflected multiplication (number * Value)", lambda a, b, c, z: -1.5 * c),
    ("reflected division (number / Value)", lambda a, b, c, z: 3.0 / b),
    ("Value + number", lambda a, b, c, z: c + 0.5),
    ("Value - number", lambda a, b, c, z: a - 0.25),
    ("Value * number", lambda a, b, c, z: b * 1.5),
    ("Value / number", lambda a, b, c, z: c / 4.0),
]


def _chain(a, b, c, z):
    x = a
    for _ in range(150):
        x = x * 0.999 + c * 0.001
    return x


def _mse(a, b, c, z):
    points = [(0.5, 1.0), (-1.0, 0.2), (2.0, -0.7)]
    errors = [(a * x + b - t) ** 2 for x, t in points]
    return sum(errors) / 3


def _shared(a, b, c, z):
    d = a * c
    return d * d + d.exp()


def _diamond(a, b, c, z):
    d = a + b
    return d * c + d.tanh()


def _residual(a, b, c, z):
    d = a * c
    return d + ((d * b).tanh() * 0.5).exp()


def _nested(a, b, c, z):
    d = b - c
    e = d * d
    return e * d + e / a


def _composite(a, b, c, z):
    # scaled by 0.1 so that tanh never saturates: its argument stays within [-0.2, 1.3]
    return (((a - b) ** 2 / c.exp() + (1 - c.sigmoid()) * a.log() - (a * c).relu()) * 0.1).tanh()


VALUE_GRAPHS: list[tuple[str, Expression]] = [
    ("a value multiplied by itself", lambda a, b, c, z: c * c),
    ("a value added to itself", lambda a, b, c, z: b + b),
    ("a value used three times", lambda a, b, c, z: a * a * a + a),
    ("a shared subexpression", _shared),
    ("a diamond", _diamond),
    ("a residual connection", _residual),
    ("nested reuse", _nested),
    ("a neuron", lambda a, b, c, z: (a * 0.3 + b * 0.7 + c).tanh()),  # tanh of a value in [-0.8, 1.8]
    ("a squared-error loss over three points", _mse),
    ("a chain of 300 nodes", _chain),
    ("a composite of every operation", _composite),
]


def _leaves(g: torch.Generator) -> tuple[float, ...]:
    """a in [1.2, 2] (log a never near 0), b in [-2, -0.5], c in [0.3, 1.5], z = 0: only magnitudes vary."""
    u = torch.rand(3, generator=g, dtype=torch.float64).tolist()
    return 1.2 + 0.8 * u[0], -(0.5 + 1.5 * u[1]), 0.3 + 1.2 * u[2], 0.0


def _expression_cases(g: torch.Generator, expressions: list[tuple[str, Expression]]) -> list[Case]:
    """One case per expression: the leaves a, b, c, z as arguments, the expression in `extra`."""
    return [Case(label, _leaves(g), extra={"expression": expression}) for label, expression in expressions]


def _forward(Value: type, c: Case) -> Any:
    return c.extra["expression"](*(Value(v) for v in c.args)).data


@dataclass
class Evaluated:
    data: float  # the expression's value
    grads: list[float]  # d(value)/d(leaf) for the leaves a, b, c, z after backward()


def _backward(Value: type, c: Case) -> Evaluated:
    leaves = [Value(v) for v in c.args]
    out = c.extra["expression"](*leaves)
    out.backward()
    return Evaluated(out.data, [leaf.grad for leaf in leaves])


@probe("Value", run=_forward)
def value_forward(g: torch.Generator) -> list[Case]:
    return _expression_cases(g, VALUE_OPS)


@probe("Value", run=_backward, output=Evaluated)
def value_backward(g: torch.Generator) -> list[Case]:
    return _expression_cases(g, VALUE_OPS)


@probe("Value.backward", run=_backward, output=Evaluated)
def value_graph(g: torch.Generator) -> list[Case]:
    return _expression_cases(g, VALUE_GRAPHS)


q1_forward_order_grad, q2_backward_cost, q3_df_da = answers(
    __name__, "q1_forward_order_grad", "q2_backward_cost", "q3_df_da"
)
