"""Hidden tests of module 01, foundations: kernel-side probes (no expected values here)."""

from __future__ import annotations

from typing import Any, Callable

import torch

from autograde.hidden import attempt, probe

# -- notebook 1: scalar autograd ------------------------------------------------------------
# Expressions are written once and evaluated twice: with the student's Value here, and with
# float64 PyTorch tensors by the judge. Leaves: a > 0, b < 0, c of either sign, z = 0.

Expression = Callable[[Any, Any, Any, Any], Any]

VALUE_OPS: list[tuple[str, Expression]] = [
    ("addition", lambda a, b, c, z: a + c),
    ("multiplication", lambda a, b, c, z: a * b),
    ("integer power", lambda a, b, c, z: c**3),
    ("negative fractional power", lambda a, b, c, z: a**-1.5),
    ("exp", lambda a, b, c, z: c.exp()),
    ("log", lambda a, b, c, z: a.log()),
    ("tanh", lambda a, b, c, z: c.tanh()),
    ("relu of a positive value", lambda a, b, c, z: a.relu()),
    ("relu of a negative value", lambda a, b, c, z: b.relu()),
    ("relu at exactly 0", lambda a, b, c, z: z.relu() + a),
    ("sigmoid", lambda a, b, c, z: c.sigmoid()),
    ("sigmoid of a large negative value", lambda a, b, c, z: (b * 400).sigmoid()),
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


VALUE_GRAPHS: list[tuple[str, Expression]] = [
    ("a value multiplied by itself", lambda a, b, c, z: c * c),
    ("a value added to itself", lambda a, b, c, z: b + b),
    ("a value used three times", lambda a, b, c, z: a * a * a + a),
    ("a shared subexpression", lambda a, b, c, z: (lambda d: d * d + d.exp())(a * c)),
    ("a diamond", lambda a, b, c, z: (lambda d: d * c + d.tanh())(a + b)),
    ("nested reuse", lambda a, b, c, z: (lambda d: (lambda e: e * d + e / a)(d * d))(b - c)),
    ("a neuron", lambda a, b, c, z: (a * 0.3 + b * -0.7 + c).tanh()),
    ("a squared-error loss over three points", _mse),
    ("a chain of 300 nodes", _chain),
    ("a composite of every operation", lambda a, b, c, z: ((a - b) ** 2 / c.exp() + (1 - c.sigmoid()) * a.log() - (b * c).relu()).tanh()),
]


def _leaves(g: torch.Generator) -> list[float]:
    u = torch.rand(3, generator=g, dtype=torch.float64).tolist()
    sign = 1.0 if torch.rand(1, generator=g).item() < 0.5 else -1.0
    return [0.5 + 1.5 * u[0], -(0.5 + 1.5 * u[1]), sign * (0.3 + 1.2 * u[2]), 0.0]


def value_inputs(g: torch.Generator) -> list[list[float]]:
    """One set of leaves per expression of VALUE_OPS and VALUE_GRAPHS."""
    return [_leaves(g) for _ in range(max(len(VALUE_OPS), len(VALUE_GRAPHS)))]


def _evaluate(Value: type, expressions: list[tuple[str, Expression]], leaves: list[list[float]], backward: bool) -> list[Any]:
    """Per expression: [out.data] or [out.data, grad of a, b, c, z], or a raised(...) record."""
    results = []
    for (_, expression), values in zip(expressions, leaves):
        nodes = [Value(v) for v in values]
        out = attempt(expression, *nodes)
        if isinstance(out, dict):
            results.append(out)
            continue
        if not backward:
            results.append([getattr(out, "data", None)])
            continue
        done = attempt(out.backward)
        if isinstance(done, dict):
            results.append(done)
            continue
        results.append([out.data] + [n.grad for n in nodes])
    return results


@probe(value_inputs, label="Value")
def value_forward(Value: type, leaves: list[list[float]]) -> list[Any]:
    return _evaluate(Value, VALUE_OPS, leaves, backward=False)


@probe(value_inputs, label="Value")
def value_backward(Value: type, leaves: list[list[float]]) -> list[Any]:
    return _evaluate(Value, VALUE_OPS, leaves, backward=True)


@probe(value_inputs, label="Value.backward")
def value_graph(Value: type, leaves: list[list[float]]) -> list[Any]:
    return _evaluate(Value, VALUE_GRAPHS, leaves, backward=True)


# -- interview answers: recorded as given, judged against the key ------------------------------


def no_inputs(g: torch.Generator) -> None:
    return None


def _recorded(answer: Any, _: None) -> Any:
    return answer


q1_reverse_order = probe(no_inputs, label="Q1", name="q1_reverse_order")(_recorded)
q2_backward_cost = probe(no_inputs, label="Q2", name="q2_backward_cost")(_recorded)
q3_df_da = probe(no_inputs, label="Q3", name="q3_df_da")(_recorded)
