"""Judges of 01_autograd.ipynb: every expression evaluated again with float64 PyTorch tensors and autograd."""

from __future__ import annotations

from typing import Any

import torch

from autograde.hidden import Case
from autograde.judge import Choice, Number, answer_key, close_number, expect, judge, probes_for

hidden = probes_for(__name__)


def _torch_value(c: Case) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The case's expression on float64 leaves that require grad: (output, leaves)."""
    leaves = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in c.args]
    return c.extra["expression"](*leaves), leaves


def _close(actual: Any, expected: float) -> bool:
    return close_number(actual, expected, rel=1e-7, abs_=1e-10)


@judge(hidden.value_forward)
def judge_value_forward(c: Case, data: Any) -> None:
    out, _ = _torch_value(c)
    expect(_close(data, out.item()), "wrong value")


@judge(hidden.value_backward, hidden.value_graph)
def judge_value_backward(c: Case, got: hidden.Evaluated) -> None:
    out, leaves = _torch_value(c)
    out.backward()
    expect(_close(got.data, out.item()), "wrong value")
    want = [leaf.grad.item() if leaf.grad is not None else 0.0 for leaf in leaves]
    expect(all(_close(g, w) for g, w in zip(got.grads, want, strict=True)), "wrong gradient")


def _forward_order_grad() -> float:
    """a.grad of f = a b + a (a = 2, b = -3) when every _backward runs from the leaves up: the node a b
    passes on its gradient while it is still 0, so only f's own addition reaches a (PyTorch, a b detached)."""
    a = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    ((a * -3.0).detach() + a).backward()
    return a.grad.item()


def _df_da() -> float:
    """d/da of tanh(a b + a^2) b at a = 0.6, b = -1.5, by PyTorch's autograd."""
    a = torch.tensor(0.6, dtype=torch.float64, requires_grad=True)
    (torch.tanh(a * -1.5 + a**2) * -1.5).backward()
    return a.grad.item()


answer_key(
    hidden,
    {
        "q1_forward_order_grad": Number(_forward_order_grad()),
        "q2_backward_cost": Choice("a"),
        "q3_df_da": Number(_df_da()),
    },
)
