"""Judges of module 01, foundations: references from PyTorch and closed forms."""

from __future__ import annotations

from typing import Any

import torch

from autograde.hidden import foundations as hidden
from autograde.judge import Mismatch, close_number, expect, judge, not_raised

# -- notebook 1: scalar autograd ------------------------------------------------------------


def _torch_reference(expression: hidden.Expression, leaves: list[float], backward: bool) -> list[float]:
    nodes = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in leaves]
    out = expression(*nodes)
    if not backward:
        return [out.item()]
    out.backward()
    return [out.item()] + [n.grad.item() if n.grad is not None else 0.0 for n in nodes]


def _judge_expressions(expressions: list[tuple[str, hidden.Expression]], leaves: list[list[float]], outputs: Any, backward: bool) -> None:
    expect(isinstance(outputs, list) and len(outputs) == len(expressions), "wrong number of results")
    for (label, expression), values, got in zip(expressions, leaves, outputs):
        not_raised(got, label)
        want = _torch_reference(expression, values, backward)
        expect(isinstance(got, list) and len(got) == len(want), f"{label}: malformed result")
        if not close_number(got[0], want[0], rel=1e-7, abs_=1e-10):
            raise Mismatch(f"wrong value for {label}")
        if not all(close_number(g, w, rel=1e-7, abs_=1e-10) for g, w in zip(got[1:], want[1:])):
            raise Mismatch(f"wrong gradient for {label}")


@judge(hidden.value_forward)
def judge_value_forward(leaves: list[list[float]], outputs: Any) -> None:
    _judge_expressions(hidden.VALUE_OPS, leaves, outputs, backward=False)


@judge(hidden.value_backward)
def judge_value_backward(leaves: list[list[float]], outputs: Any) -> None:
    _judge_expressions(hidden.VALUE_OPS, leaves, outputs, backward=True)


@judge(hidden.value_graph)
def judge_value_graph(leaves: list[list[float]], outputs: Any) -> None:
    _judge_expressions(hidden.VALUE_GRAPHS, leaves, outputs, backward=True)


# -- interview answers ----------------------------------------------------------------------


def _choice(answer: Any, key: str) -> None:
    expect(isinstance(answer, str) and answer.strip().lower() == key, "incorrect answer")


def _number(answer: Any, key: float, rel: float = 1e-3) -> None:
    expect(close_number(answer, key, rel=rel, abs_=1e-9), "incorrect answer")


@judge(hidden.q1_reverse_order)
def judge_q1(_: None, answer: Any) -> None:
    _choice(answer, "b")


@judge(hidden.q2_backward_cost)
def judge_q2(_: None, answer: Any) -> None:
    _choice(answer, "a")


@judge(hidden.q3_df_da)
def judge_q3(_: None, answer: Any) -> None:
    b = -3.0
    _number(answer, b + 1)  # d(ab + a)/da = b + 1 at a = 2, b = -3
