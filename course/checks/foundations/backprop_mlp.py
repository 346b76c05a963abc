"""Visible checks of 02_backprop_mlp.ipynb (module 01, foundations): matrix backprop."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import torch

from course.checks import call, expect_close, expect_tensor, fail, fixed, is_close, passed


def check_linear_forward(linear_forward: Callable) -> None:
    x, W, b = fixed(4, 3, seed=1), fixed(5, 3, seed=2), fixed(5, seed=3)
    y = call(linear_forward, x, W, b)
    if isinstance(y, torch.Tensor) and y.shape == (4, 3):
        fail("the output has d_in columns: W is (d_out, d_in), so multiply by W.T, not W")
    expect_tensor(y, "linear_forward(x, W, b)", (4, 5))
    expected = torch.nn.functional.linear(x, W, b)
    if is_close(y, x @ W.T):
        fail("linear_forward ignores the bias b")
    expect_close(y, expected, "linear_forward(x, W, b)", "expected x @ W.T + b")
    passed("linear_forward matches torch.nn.functional.linear")


def check_linear_backward(linear_backward: Callable) -> None:
    x = fixed(4, 3, seed=1).requires_grad_()
    W = fixed(5, 3, seed=2).requires_grad_()
    b = fixed(5, seed=3).requires_grad_()
    dout = fixed(4, 5, seed=4)
    torch.nn.functional.linear(x, W, b).backward(dout)
    result = call(linear_backward, dout, x.detach(), W.detach())
    if not isinstance(result, tuple) or len(result) != 3:
        fail("linear_backward must return a tuple (dx, dW, db)")
    dx, dW, db = result
    if isinstance(dW, torch.Tensor) and dW.shape == (3, 5):
        fail("dW has shape (d_in, d_out); it must have W's shape (d_out, d_in): dout.T @ x")
    for name, got, ref in (("dx", dx, x.grad), ("dW", dW, W.grad), ("db", db, b.grad)):
        expect_tensor(got, name, ref.shape)
    if is_close(db, b.grad / 4):
        fail("db averages over the batch; the bias is used by every example, so its gradient is the sum")
    expect_close(dx, x.grad, "dx", "dx = dout @ W")
    expect_close(dW, W.grad, "dW", "dW = dout.T @ x")
    expect_close(db, b.grad, "db", "db = dout summed over the batch")
    passed("linear_backward: dx, dW and db match PyTorch's autograd")


def check_relu_backward(relu_backward: Callable) -> None:
    x = torch.tensor([[-2.0, -0.5, 0.0, 0.5, 3.0]], dtype=torch.float64)
    dout = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0]], dtype=torch.float64)
    dx = expect_tensor(call(relu_backward, dout, x), "relu_backward(dout, x)", x.shape)
    if dx[0, 2] != 0:
        fail("the gradient at exactly x = 0 must be 0, as in PyTorch: use x > 0, not x >= 0")
    if is_close(dx, (x > 0).double()):
        fail("relu_backward returns the mask only: multiply it by dout")
    expect_close(dx, dout * (x > 0), "relu_backward(dout, x)", "dx = dout where x > 0, else 0")
    passed("relu_backward matches PyTorch")


def _check_ce(softmax_cross_entropy: Callable, logits: torch.Tensor, targets: torch.Tensor, what: str) -> None:
    result = call(softmax_cross_entropy, logits.clone(), targets.clone())
    if not isinstance(result, tuple) or len(result) != 2:
        fail("softmax_cross_entropy must return a tuple (loss, dlogits)")
    loss, dlogits = result
    z = logits.detach().double().requires_grad_()  # the expected loss and gradient: PyTorch's, by autograd
    ref_loss = torch.nn.functional.cross_entropy(z, targets)
    (ref_grad,) = torch.autograd.grad(ref_loss, z)
    ref_loss = ref_loss.detach()
    n = logits.shape[0]
    expect_tensor(loss, f"the loss ({what})", ())
    expect_tensor(dlogits, f"dlogits ({what})", logits.shape)
    if is_close(loss, ref_loss * n, rtol=1e-4):
        fail("the loss is summed over the batch; it must be the mean")
    expect_close(
        loss,
        ref_loss,
        f"the loss ({what})",
        "loss = mean over the batch of logsumexp(row) - row[target]",
        rtol=1e-4,
        atol=1e-5,
    )
    if is_close(dlogits, ref_grad * n, rtol=1e-4, atol=1e-6):
        fail("dlogits is missing the 1/N of the mean")
    expect_close(
        dlogits, ref_grad, f"dlogits ({what})", "dlogits = (softmax - one_hot(targets)) / N", rtol=1e-4, atol=1e-6
    )


def check_softmax_cross_entropy(softmax_cross_entropy: Callable) -> None:
    logits = fixed(6, 4, seed=5, dtype=torch.float32)
    targets = torch.tensor([0, 3, 1, 1, 2, 0])
    _check_ce(softmax_cross_entropy, logits, targets, "small logits")
    passed("softmax_cross_entropy: loss and gradient match torch.nn.functional.cross_entropy")


def check_softmax_cross_entropy_stability(softmax_cross_entropy: Callable) -> None:
    logits = torch.tensor([[1e4, 0.0, -1e4], [-1e4, -1e4 + 3.0, -1e4 + 1.0], [50.0, 100.0, 90.0]])
    targets = torch.tensor([0, 2, 1])
    loss, dlogits = call(softmax_cross_entropy, logits.clone(), targets)
    if not (torch.isfinite(torch.as_tensor(loss)).all() and torch.isfinite(torch.as_tensor(dlogits)).all()):
        fail(
            "NaN or inf for logits of size 1e4: subtract each row's maximum before exp, and never take log of a probability that can be 0"
        )
    _check_ce(softmax_cross_entropy, logits, targets, "logits up to 1e4")
    passed("softmax_cross_entropy is stable for logits of 1e4")


def _check_activation(fn: Callable, name: str, reference: Callable, wrong: dict[str, Callable]) -> None:
    x = torch.cat([torch.linspace(-5, 5, 41, dtype=torch.float64), torch.tensor([-1e4, 1e4], dtype=torch.float64)])
    y = expect_tensor(call(fn, x.clone()), f"{name}(x)", x.shape)
    if y.dtype != x.dtype:
        fail(f"{name} returned {y.dtype} for a {x.dtype} input: keep the input's dtype")
    expected = reference(x)
    if not is_close(y, expected, rtol=1e-6, atol=1e-8):
        for label, candidate in wrong.items():
            if is_close(y, candidate(x), rtol=1e-6, atol=1e-8):
                fail(f"{name} computes {label}")
        expect_close(y, expected, f"{name}(x)", "compare with the formula in the text", rtol=1e-6, atol=1e-8)
    passed(f"{name} matches PyTorch's, including at ±1e4")


def check_gelu(gelu: Callable) -> None:
    _check_activation(
        gelu,
        "gelu",
        torch.nn.functional.gelu,
        {
            "the tanh approximation; this exercise wants the exact erf form": functools.partial(
                torch.nn.functional.gelu, approximate="tanh"
            ),
            "x * sigmoid(x) (that is SiLU)": torch.nn.functional.silu,
            "x * sigmoid(1.702 x), another approximation; use erf": lambda x: x * torch.sigmoid(1.702 * x),
            "x * erf(x / sqrt 2): Phi(x) is (1 + erf(x / sqrt 2)) / 2": lambda x: x * torch.erf(x / math.sqrt(2)),
        },
    )


def check_gelu_tanh(gelu_tanh: Callable) -> None:
    _check_activation(
        gelu_tanh,
        "gelu_tanh",
        functools.partial(torch.nn.functional.gelu, approximate="tanh"),
        {
            "the exact erf GELU; this one is the tanh approximation": torch.nn.functional.gelu,
            "the approximation without the 0.044715 x³ term": lambda x: (
                0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * x))
            ),
            "the approximation with sqrt(pi / 2) instead of sqrt(2 / pi)": lambda x: (
                0.5 * x * (1 + torch.tanh(math.sqrt(math.pi / 2) * (x + 0.044715 * x**3)))
            ),
        },
    )


def check_silu(silu: Callable) -> None:
    _check_activation(
        silu,
        "silu",
        torch.nn.functional.silu,
        {
            "sigmoid(x) alone; SiLU multiplies it by x": torch.sigmoid,
            "x * sigmoid(-x): the sign inside the sigmoid is flipped": lambda x: x * torch.sigmoid(-x),
        },
    )


def check_numerical_gradient(numerical_gradient: Callable) -> None:
    x = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=torch.float32)
    before = x.clone()

    def cube_sum(t):
        return (t**3).sum()

    g = expect_tensor(call(numerical_gradient, cube_sum, x, eps=1e-2), "numerical_gradient(f, x, eps=1e-2)", x.shape)
    if not torch.equal(x, before):
        fail("numerical_gradient changed the caller's x: perturb a float64 copy and restore each entry")
    if g.dtype != torch.float64:
        fail(f"the gradient is {g.dtype}; it must be float64 (compute on a float64 copy of x)")
    x64 = x.double()
    central = 3 * x64**2 + 1e-4  # ((x+e)^3 - (x-e)^3) / 2e = 3x^2 + e^2, exactly
    if is_close(g, 3 * x64**2 + 3 * x64 * 1e-2 + 1e-4, rtol=1e-6):
        fail("this is the forward difference (f(x+eps) - f(x)) / eps; use the central difference")
    if is_close(g, 3 * x64**2, rtol=1e-8, atol=1e-9):
        fail("the result ignores eps: with eps=1e-2 the central difference of x**3 is 3x**2 + eps**2")
    expect_close(
        g,
        central,
        "numerical_gradient(f, x, eps=1e-2)",
        "perturb one entry at a time: (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)",
        rtol=1e-6,
        atol=1e-9,
    )
    g = expect_tensor(
        call(numerical_gradient, lambda t: float((t.sin() * t).sum()), x), "numerical_gradient(f, x)", x.shape
    )
    expect_close(
        g,
        x64.sin() + x64 * x64.cos(),
        "numerical_gradient with the default eps",
        "evaluate f on a float64 copy of x so that x + 1e-6 is accurate",
        rtol=1e-6,
        atol=1e-7,
    )
    passed("numerical_gradient: central differences in float64, x left unchanged")
