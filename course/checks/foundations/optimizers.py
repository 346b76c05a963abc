"""Visible checks of 03_optimizers.ipynb (module 01, foundations): optimizers."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from course.checks import call, fail, is_close, passed

ONCE = "`params` may be a generator, such as model.parameters(), that can be iterated only once: start with params = list(params)"


def _parameters(seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [
        torch.randn(3, 2, generator=g, dtype=torch.float64).requires_grad_(),
        torch.randn(2, generator=g, dtype=torch.float64).requires_grad_(),
    ]


def _gradients(steps: int, seed: int = 1, scale: float = 1.0) -> list[list[torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    return [
        [
            scale * torch.randn(3, 2, generator=g, dtype=torch.float64),
            scale * torch.randn(2, generator=g, dtype=torch.float64),
        ]
        for _ in range(steps)
    ]


def _trajectory(make: Callable, params: list[torch.Tensor], grads: list[list[torch.Tensor]]) -> list[torch.Tensor]:
    """Run an optimizer, given its parameters as a one-shot iterator (as model.parameters() is), over fixed
    gradients; the parameters after each step, flattened."""
    optimizer = call(make, iter(params))
    after = []
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = g.clone()
        try:
            call(optimizer.step)
        except RuntimeError as error:
            if "leaf Variable" in str(error) or "in-place" in str(error):
                fail("step() updates a leaf tensor that requires grad: put the body of step() under torch.no_grad()")
            raise
        after.append(torch.cat([p.detach().reshape(-1).clone() for p in params]))
    return after


def _compare_trajectories(mine: list[torch.Tensor], theirs: list[torch.Tensor], name: str, hint: str) -> None:
    for step, (a, b) in enumerate(zip(mine, theirs), start=1):
        if not is_close(a, b, rtol=1e-7, atol=1e-10):
            fail(f"{name}: the parameters differ from PyTorch's after step {step}: {hint}")


def _one_step(optimizer_class: type, as_iterator: bool, **kwargs: Any) -> tuple[Any, list[torch.Tensor], bool]:
    """One step on gradients of ones, the parameters given as a list or a one-shot iterator:
    (the optimizer, its parameters, whether any of them moved)."""
    params = _parameters()
    before = [p.detach().clone() for p in params]
    optimizer = call(optimizer_class, iter(params) if as_iterator else params, **kwargs)
    for p in params:
        p.grad = torch.ones_like(p)
    call(optimizer.step)
    return optimizer, params, any(not torch.equal(p.detach(), b) for p, b in zip(params, before))


def _check_in_place(optimizer_class: type, name: str, **kwargs: Any) -> None:
    optimizer, params, moved = _one_step(optimizer_class, True, **kwargs)
    if not moved:
        if _one_step(optimizer_class, False, **kwargs)[2]:
            fail(f"{name}.step() did not change parameters given as a generator: {ONCE}")
        fail(f"{name}.step() did not change the parameters: update them in place (p.sub_(...)), do not rebind them")
    call(optimizer.zero_grad)
    if any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in params):
        fail(f"{name}.zero_grad() must clear every parameter's gradient (set .grad to None)")


def check_sgd(SGD: type) -> None:
    _check_in_place(SGD, "SGD", lr=0.1)
    for kwargs, hint in [
        ({"lr": 0.1}, "plain SGD is p -= lr * grad"),
        (
            {"lr": 0.1, "momentum": 0.9},
            "the buffer starts as the first gradient, then b = momentum * b + g (no 1 - momentum factor)",
        ),
        (
            {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1},
            "weight decay is added to the gradient before the momentum buffer: g = grad + weight_decay * p",
        ),
    ]:
        grads = _gradients(6)
        mine = _trajectory(lambda ps: SGD(ps, **kwargs), _parameters(), grads)
        theirs = _trajectory(lambda ps: torch.optim.SGD(ps, **kwargs), _parameters(), grads)
        _compare_trajectories(mine, theirs, f"SGD({', '.join(f'{k}={v}' for k, v in kwargs.items())})", hint)
    passed("SGD matches torch.optim.SGD with and without momentum and weight decay")


def check_adamw(AdamW: type) -> None:
    _check_in_place(AdamW, "AdamW")
    cases = [
        ({}, 1.0, "compare with the update rule in the text: bias-corrected moments, eps outside the square root"),
        (
            {"lr": 1e-2, "weight_decay": 0.5},
            1.0,
            "decay the weights directly, p -= lr * weight_decay * p, before the Adam step; do not add it to the gradient",
        ),
        ({"lr": 1e-2, "eps": 0.1}, 0.1, "eps goes outside the square root: m_hat / (sqrt(v_hat) + eps)"),
    ]
    for kwargs, scale, hint in cases:
        grads = _gradients(20, scale=scale)
        mine = _trajectory(lambda ps: AdamW(ps, **kwargs), _parameters(), grads)
        theirs = _trajectory(lambda ps: torch.optim.AdamW(ps, **kwargs), _parameters(), grads)
        if not is_close(mine[0], theirs[0], rtol=1e-7, atol=1e-10):
            no_correction = torch.cat([p.detach().reshape(-1) for p in _parameters()])
            if (mine[0] - no_correction).abs().max() < 0.5 * (theirs[0] - no_correction).abs().max():
                fail("AdamW's first step is far too small: divide m by (1 - beta1**t) and v by (1 - beta2**t)")
        _compare_trajectories(mine, theirs, f"AdamW({', '.join(f'{k}={v}' for k, v in kwargs.items())})", hint)
    passed("AdamW matches torch.optim.AdamW over 20 steps, default and custom hyperparameters")


def check_lamb(LAMB: type) -> None:
    _check_in_place(LAMB, "LAMB", lr=0.01)
    g = torch.Generator().manual_seed(3)
    params = [
        torch.randn(4, 3, generator=g, dtype=torch.float64).requires_grad_(),
        torch.zeros(3, dtype=torch.float64, requires_grad=True),
    ]
    before = [p.detach().clone() for p in params]
    optimizer = call(LAMB, params, lr=0.01, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.1)
    for p in params:
        p.grad = 100 * torch.randn(p.shape, generator=g, dtype=torch.float64)
    call(optimizer.step)
    moved = [(p.detach() - b) for p, b in zip(params, before)]
    if not all(torch.isfinite(m).all() for m in moved):
        fail("LAMB produced NaN or inf: when ||p|| or ||update|| is 0, use a trust ratio of 1")
    expected = 0.01 * before[0].norm()
    if not is_close(moved[0].norm(), expected, rtol=1e-6):
        fail(
            f"after one step the weight matrix moved by {moved[0].norm().item():.4g}; with the trust ratio ||p|| / ||u|| it moves by exactly lr * ||p|| = {expected.item():.4g}"
        )
    adam_direction = torch.sign(params[0].grad) + 0.1 * before[0]  # first step: m_hat / sqrt(v_hat) = sign(g)
    cosine = torch.nn.functional.cosine_similarity(-moved[0].reshape(-1), adam_direction.reshape(-1), dim=0)
    if cosine < 0.999:
        fail("LAMB's update does not point along m_hat / (sqrt(v_hat) + eps) + weight_decay * p")
    zero_move = moved[1].norm()
    if not is_close(zero_move, 0.01 * torch.sign(params[1].grad).norm(), rtol=1e-4):
        fail("a parameter that is all zeros should take a plain step lr * u (trust ratio 1)")
    passed("LAMB: every tensor moves by lr * ||p|| along Adam's direction; zero tensors take a plain step")


def check_cosine_lr(cosine_lr: Callable) -> None:
    kwargs = dict(max_lr=1.0, min_lr=0.1, warmup_steps=10, total_steps=110)
    cases = [
        (0, 0.0, "the warmup starts from 0 at step 0"),
        (5, 0.5, "the warmup is linear: max_lr * step / warmup_steps"),
        (10, 1.0, "the cosine starts at max_lr when the warmup ends"),
        (
            60,
            0.55,
            "half-way through the decay the rate is (max_lr + min_lr) / 2: the cosine runs over total_steps - warmup_steps",
        ),
        (110, 0.1, "at total_steps the rate is min_lr"),
        (500, 0.1, "after total_steps the rate stays at min_lr"),
    ]
    for step, expected, hint in cases:
        got = call(cosine_lr, step, **kwargs)
        if not is_close(got, expected, rtol=1e-9, atol=1e-12):
            fail(
                f"cosine_lr(step={step}, max_lr=1, min_lr=0.1, warmup_steps=10, total_steps=110) = {got}, expected {expected}: {hint}"
            )
    if not is_close(call(cosine_lr, 25, 1.0, 0.0, 0, 100), 0.5 * (1 + math.cos(math.pi * 0.25))):
        fail("with warmup_steps=0 there is no warmup: the cosine starts at step 0")
    passed("cosine_lr: linear warmup from 0, cosine to min_lr, constant afterwards")


def check_clip_grad_norm(clip_grad_norm: Callable) -> None:
    for max_norm, hint in [
        (1.0, "scale every gradient by max_norm / (total_norm + 1e-6) when total_norm > max_norm"),
        (100.0, "leave the gradients unchanged when their norm is below max_norm"),
    ]:
        g = torch.Generator().manual_seed(4)
        mine = [torch.zeros(3, 2, dtype=torch.float64, requires_grad=True) for _ in range(3)]
        theirs = [torch.zeros(3, 2, dtype=torch.float64, requires_grad=True) for _ in range(3)]
        for a, b, scale in zip(mine, theirs, (1.0, 5.0, 0.0)):
            grad = scale * torch.randn(3, 2, generator=g, dtype=torch.float64)
            a.grad, b.grad = grad.clone(), grad.clone()
        mine[2].grad = theirs[2].grad = None  # a parameter without gradient is skipped
        backup = [None if a.grad is None else a.grad.clone() for a in mine]
        norm = call(clip_grad_norm, iter(mine), max_norm)
        ref = torch.nn.utils.clip_grad_norm_(theirs, max_norm)
        if is_close(norm, ref, rtol=1e-7) and not all(
            a.grad is None or is_close(a.grad, b.grad, rtol=1e-7, atol=1e-12) for a, b in zip(mine, theirs)
        ):
            for a, grad in zip(mine, backup):
                a.grad = grad
            call(clip_grad_norm, list(mine), max_norm)
            if all(a.grad is None or is_close(a.grad, b.grad, rtol=1e-7, atol=1e-12) for a, b in zip(mine, theirs)):
                fail(f"the gradients were not clipped when the parameters came as a generator: {ONCE}")
        if not is_close(norm, ref, rtol=1e-7):
            fail(
                f"returned norm {float(norm):.6g}, expected the global norm before clipping, {ref.item():.6g}: sqrt of the sum of all squared gradient entries"
            )
        for a, b in zip(mine[:2], theirs[:2]):
            if not is_close(a.grad, b.grad, rtol=1e-7, atol=1e-12):
                per_tensor = all(is_close(x.grad.norm(), max_norm, rtol=1e-4) for x in mine[:2])
                fail(
                    "each tensor was clipped separately; use one factor for all, from the global norm"
                    if per_tensor
                    else hint
                )
    passed("clip_grad_norm matches torch.nn.utils.clip_grad_norm_")
