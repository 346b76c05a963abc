"""Visible checks of 01_autograd.ipynb (module 01, foundations): scalar autograd."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from course.checks import call, fail, is_close, passed

A, B = 2.0, -3.0

# (expression, function of two leaves, hint when the value is wrong)
VALUE_OPS: list[tuple[str, Callable[[Any, Any], Any], str]] = [
    ("a + b", lambda a, b: a + b, ""),
    ("a * b", lambda a, b: a * b, ""),
    ("a ** 3", lambda a, b: a**3, ""),
    ("a ** -0.5", lambda a, b: a**-0.5, "the exponent is a plain number k: the result is data ** k"),
    ("a.exp()", lambda a, b: a.exp(), ""),
    ("a.log()", lambda a, b: a.log(), "log is the natural logarithm (math.log)"),
    ("b.tanh()", lambda a, b: b.tanh(), ""),
    ("a.relu()", lambda a, b: a.relu(), ""),
    ("b.relu()", lambda a, b: b.relu(), "relu(x) = max(0, x)"),
    ("b.sigmoid()", lambda a, b: b.sigmoid(), "sigmoid(x) = 1 / (1 + exp(-x))"),
    (
        "(b * 300).sigmoid()",
        lambda a, b: (b * 300).sigmoid(),
        "math.exp overflows above ~709: for negative x use exp(x) / (1 + exp(x))",
    ),
    ("-a", lambda a, b: -a, ""),
    ("a - b", lambda a, b: a - b, ""),
    ("a / b", lambda a, b: a / b, "a / b is a * b ** -1"),
    ("2 + a", lambda a, b: 2 + a, "2 + a calls a.__radd__(2)"),
    ("5 - a", lambda a, b: 5 - a, "5 - a calls a.__rsub__(5), which must compute 5 - a, not a - 5"),
    ("3 * a", lambda a, b: 3 * a, "3 * a calls a.__rmul__(3)"),
    ("1 / b", lambda a, b: 1 / b, "1 / b calls b.__rtruediv__(1), which must compute 1 / b, not b / 1"),
    ("a + 1", lambda a, b: a + 1, "wrap a plain number in a Value before using .data"),
    ("a * 3", lambda a, b: a * 3, "wrap a plain number in a Value before using .data"),
    ("a / 4", lambda a, b: a / 4, "wrap a plain number in a Value before using .data"),
]


def _torch_leaves() -> tuple[torch.Tensor, torch.Tensor]:
    return tuple(torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (A, B))  # type: ignore[return-value]


def _value_result(Value: type, expr: str, fn: Callable[[Any, Any], Any]) -> tuple[Any, Any, Any]:
    a, b = Value(A), Value(B)
    try:
        out = call(fn, a, b)
    except OverflowError:
        fail(f"`{expr}` overflowed: math.exp overflows above ~709; for a negative x compute exp(x) / (1 + exp(x))")
    if not isinstance(out, Value):
        fail(f"`{expr}` returned {type(out).__name__}; every operation must return a new Value")
    if not isinstance(out.data, float):
        fail(f"`({expr}).data` is a {type(out.data).__name__}, expected a float: are you storing a Value inside .data?")
    return out, a, b


def check_value_forward(Value: type) -> None:
    for expr, fn, hint in VALUE_OPS:
        out, _, _ = _value_result(Value, expr, fn)
        expected = fn(*_torch_leaves()).item()
        if not math.isclose(out.data, expected, rel_tol=1e-9, abs_tol=1e-12):
            fail(
                f"`{expr}` with a = {A}, b = {B} gives {out.data:.6g}, expected {expected:.6g}"
                + (f": {hint}" if hint else "")
            )
    passed(f"Value forward: {len(VALUE_OPS)} operations agree with PyTorch")


def check_value_backward(Value: type) -> None:
    for expr, fn, _ in VALUE_OPS:
        out, a, b = _value_result(Value, expr, fn)
        call(out.backward)
        ta, tb = _torch_leaves()
        fn(ta, tb).backward()
        expected = [t.grad.item() if t.grad is not None else 0.0 for t in (ta, tb)]
        got = [a.grad, b.grad]
        if got == [0.0, 0.0] and expected != [0.0, 0.0]:
            fail(
                f"after ({expr}).backward() every gradient is still 0: set the output's grad to 1 and call each node's _backward"
            )
        for name, g, e in zip("ab", got, expected):
            if not is_close(g, e, rtol=1e-9, atol=1e-12):
                hint = {
                    "b.tanh()": "d tanh(x)/dx = 1 - tanh(x)**2",
                    "a ** 3": "d a**k / da = k * a**(k-1)",
                    "b.sigmoid()": "d sigmoid(x)/dx = s * (1 - s)",
                    "a.log()": "d log(a)/da = 1 / a",
                }.get(expr, "multiply out.grad by the local derivative and add it into the input's grad")
                fail(f"d({expr})/d{name} = {g:.6g}, PyTorch says {e:.6g}: {hint}")
    passed(f"Value backward: the gradients of {len(VALUE_OPS)} operations agree with PyTorch")


GRAPHS: list[tuple[str, Callable[[Any, Any], Any], str]] = [
    (
        "a * a",
        lambda a, b: a * a,
        "a is used twice and must receive both contributions: accumulate with +=, never assign",
    ),
    (
        "a + a",
        lambda a, b: a + a,
        "a is used twice and must receive both contributions: accumulate with +=, never assign",
    ),
    (
        "d = a * b; d + d.exp()",
        lambda a, b: (lambda d: d + d.exp())(a * b),
        "d feeds two nodes: it must collect both gradients before passing them on",
    ),
    (
        "d = a + b; e = d * d; e * d + e",
        lambda a, b: (lambda d: (lambda e: e * d + e)(d * d))(a + b),
        "walk the nodes in reverse topological order so that each node is complete before its _backward runs",
    ),
    ("tanh(a * 0.5 + b * 0.25 + 1)", lambda a, b: (a * 0.5 + b * 0.25 + 1).tanh(), ""),
]


def check_value_graph(Value: type) -> None:
    for expr, fn, hint in GRAPHS:
        out, a, b = _value_result(Value, expr, fn)
        call(out.backward)
        ta, tb = _torch_leaves()
        fn(ta, tb).backward()
        for name, leaf, ref in zip("ab", (a, b), (ta, tb)):
            expected = ref.grad.item() if ref.grad is not None else 0.0
            if not is_close(leaf.grad, expected, rtol=1e-9, atol=1e-12):
                fail(
                    f"in `{expr}`, d out/d{name} = {leaf.grad:.6g}, PyTorch says {expected:.6g}"
                    + (f": {hint}" if hint else "")
                )
    x = Value(0.5)
    out = x
    for _ in range(300):
        out = out * 1.001 + 0.001
    try:
        call(out.backward)
    except RecursionError:
        fail(
            "backward() hit Python's recursion limit on a chain of 600 nodes: build the topological order with an explicit stack"
        )
    if not is_close(x.grad, 1.001**300, rtol=1e-9):
        fail(f"on a chain of 600 nodes, d out/dx = {x.grad:.6g}, expected {1.001**300:.6g}")
    passed("Value graphs: shared nodes, diamonds and a 600-node chain agree with PyTorch")
