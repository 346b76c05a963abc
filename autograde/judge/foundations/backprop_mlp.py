"""Judges of 02_backprop_mlp.ipynb: PyTorch's functional ops and autograd, closed forms of central differences."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from autograde.hidden import Case
from autograde.judge import Number, answer_key, expect, expect_close, judge, probes_for

hidden = probes_for(__name__)

F = torch.nn.functional


@judge(hidden.linear_forward)
def judge_linear_forward(c: Case, y: Any) -> None:
    x, W, b = c.args
    what = "output (is W transposed?)" if W.shape[0] == W.shape[1] else "output"
    expect_close(y, F.linear(x, W, b), what, rtol=1e-9, atol=1e-9)


@judge(hidden.linear_backward)
def judge_linear_backward(c: Case, got: hidden.LinearGrads) -> None:
    dout, x, W = c.args
    x, W = x.clone().requires_grad_(), W.clone().requires_grad_()
    b = torch.zeros(W.shape[0], dtype=W.dtype, requires_grad=True)  # its value changes no gradient
    F.linear(x, W, b).backward(dout)
    for name, ref in (("dx", x.grad), ("dW", W.grad), ("db", b.grad)):
        expect_close(getattr(got, name), ref, name, rtol=1e-9, atol=1e-9)


@judge(hidden.relu_backward)
def judge_relu_backward(c: Case, dx: Any) -> None:
    dout, x = c.args
    x = x.clone().requires_grad_()
    torch.relu(x).backward(dout)
    expect_close(dx, x.grad, "dx", rtol=1e-12, atol=0)


@judge(hidden.softmax_cross_entropy, hidden.softmax_cross_entropy_stability)
def judge_softmax_cross_entropy(c: Case, got: hidden.LossAndGrad) -> None:
    logits, targets = c.args
    z = logits.double().requires_grad_()
    loss = F.cross_entropy(z, targets)
    loss.backward()
    expect_close(got.loss, loss.detach(), "loss", rtol=1e-4, atol=1e-4)
    expect_close(got.dlogits, z.grad, "dlogits", rtol=1e-4, atol=1e-6)


def _judge_activation(c: Case, y: Any, reference: Callable[[torch.Tensor], torch.Tensor]) -> None:
    (x,) = c.args
    expect(isinstance(y, torch.Tensor) and y.dtype == x.dtype, "the result must keep the input's dtype")
    tolerance = 1e-5 if x.dtype == torch.float32 else 1e-9
    expect_close(y, reference(x.double()).to(x.dtype), "output", rtol=tolerance, atol=tolerance)


@judge(hidden.gelu)
def judge_gelu(c: Case, y: Any) -> None:
    _judge_activation(c, y, F.gelu)


@judge(hidden.gelu_tanh)
def judge_gelu_tanh(c: Case, y: Any) -> None:
    _judge_activation(c, y, lambda x: F.gelu(x, approximate="tanh"))


@judge(hidden.silu)
def judge_silu(c: Case, y: Any) -> None:
    _judge_activation(c, y, F.silu)


def _central_difference(f: str, x: torch.Tensor, eps: float) -> torch.Tensor:
    """Closed forms of the central difference with step eps (not the exact derivative)."""
    if f in ("cube", "cube_float"):
        return 3 * x**2 + eps**2  # ((x+e)^3 - (x-e)^3) / 2e
    if f == "square_of_sum":
        return torch.full_like(x, 2 * x.sum().item())  # ((S+e)^2 - (S-e)^2) / 2e = 2S
    return 2 * (x.sin() + x * x.cos())  # d/dx [2 x sin x]; the central difference is within O(eps^2) = 1e-12


@judge(hidden.numerical_gradient)
def judge_numerical_gradient(c: Case, got: hidden.NumericalGrad) -> None:
    x, eps = c.args[1], c.kwargs.get("eps")
    expect_close(got.x_after, x, "the caller's x was modified", rtol=0, atol=0)
    tolerance = 1e-8 if eps else 1e-5
    reference = _central_difference(c.extra["f"], x.double(), eps or 1e-6)
    expect_close(got.grad, reference, "gradient", rtol=tolerance, atol=tolerance, dtype=torch.float64)


def _large_logits_loss() -> float:
    """torch's cross-entropy of the logits [1000, 1001, 1002], target 0 (float64)."""
    logits = torch.tensor([[1000.0, 1001.0, 1002.0]], dtype=torch.float64)
    return F.cross_entropy(logits, torch.tensor([0])).item()


def _fan_out_gradient() -> float:
    """torch autograd's dL/dh[0, 0] for h (1, 3) feeding two linear layers with upstream gradients (float64)."""
    h = torch.tensor([[1.0, -2.0, 0.5]], dtype=torch.float64, requires_grad=True)
    W1 = torch.tensor([[0.2, -0.4, 1.0], [0.3, 0.1, -0.5]], dtype=torch.float64)
    W2 = torch.tensor([[1.5, 0.5, -1.0]], dtype=torch.float64)
    torch.autograd.backward(
        [F.linear(h, W1), F.linear(h, W2)],
        [torch.tensor([[1.0, -2.0]], dtype=torch.float64), torch.tensor([[0.5]], dtype=torch.float64)],
    )
    return h.grad[0, 0].item()


answer_key(
    hidden,
    {
        "q1_large_logits_loss": Number(_large_logits_loss()),
        "q2_initial_loss": Number(math.log(10), rel=0, abs=0.005),  # uniform over 10 classes: -log(1/10)
        "q3_gradient_fan_out": Number(_fan_out_gradient()),
    },
)
