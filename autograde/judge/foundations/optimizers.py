"""Judges of 03_optimizers.ipynb: torch.optim's SGD and AdamW, LAMB from Adam's direction (You et al.),
the closed-form cosine schedule, torch.nn.utils.clip_grad_norm_."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from autograde.hidden import Case
from autograde.judge import Number, answer_key, close_number, expect, expect_close, judge, probes_for

hidden = probes_for(__name__)

Step = Callable[[list[torch.Tensor]], None]  # one optimizer step on the given gradients
MakeStep = Callable[[list[torch.Tensor], dict], Step]  # (parameters, hyperparameters) -> step


def _torch_optimizer(optimizer_class: type) -> MakeStep:
    def make_step(params: list[torch.Tensor], kwargs: dict) -> Step:
        optimizer = optimizer_class(params, **kwargs)

        def step(grads: list[torch.Tensor]) -> None:
            for p, grad in zip(params, grads, strict=True):
                p.grad = grad.clone()
            optimizer.step()

        return step

    return make_step


def _lamb(params: list[torch.Tensor], kwargs: dict) -> Step:
    """LAMB from PyTorch's Adam direction: Adam with lr=1 on a dummy copy moves by exactly
    -m_hat / (sqrt(v_hat) + eps); add the decay, rescale by ||p|| / ||u|| (You et al., Alg. 2)."""
    dummies = [torch.zeros_like(p, requires_grad=True) for p in params]
    adam = torch.optim.Adam(dummies, lr=1.0, betas=kwargs["betas"], eps=kwargs["eps"])

    @torch.no_grad()
    def step(grads: list[torch.Tensor]) -> None:
        before = [d.detach().clone() for d in dummies]
        for d, grad in zip(dummies, grads, strict=True):
            d.grad = grad.clone()
        adam.step()
        for p, d, b in zip(params, dummies, before, strict=True):
            u = (b - d) + kwargs["weight_decay"] * p
            w_norm, u_norm = p.norm(), u.norm()
            ratio = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
            p.sub_(kwargs["lr"] * ratio * u)

    return step


def _reference_snapshots(c: Case, make_step: MakeStep) -> list[list[torch.Tensor]]:
    """The reference optimizer's parameters at the checkpoints, on the case's gradients."""
    params = [p.clone().requires_grad_() for p in c.extra["params"]]
    step = make_step(params, c.kwargs)
    marks, snapshots = hidden.checkpoints(len(c.extra["grads"])), []
    for i, grads in enumerate(c.extra["grads"], start=1):
        step(grads)
        if i in marks:
            snapshots.append([p.detach().clone() for p in params])
    return snapshots


def _judge_trajectory(c: Case, out: hidden.Trajectory, make_step: MakeStep) -> None:
    marks = hidden.checkpoints(len(c.extra["grads"]))
    for step, got, want in zip(marks, out.snapshots, _reference_snapshots(c, make_step), strict=True):
        for mine, theirs in zip(got, want, strict=True):
            expect_close(mine, theirs, f"parameters after step {step}", rtol=1e-7, atol=1e-10)
    expect_close(out.frozen, c.extra["frozen"], "a parameter without a gradient was changed", rtol=0, atol=0)
    expect(out.cleared is True, "zero_grad() did not clear the gradients")


@judge(hidden.sgd)
def judge_sgd(c: Case, out: hidden.Trajectory) -> None:
    _judge_trajectory(c, out, _torch_optimizer(torch.optim.SGD))


@judge(hidden.adamw)
def judge_adamw(c: Case, out: hidden.Trajectory) -> None:
    _judge_trajectory(c, out, _torch_optimizer(torch.optim.AdamW))


@judge(hidden.lamb)
def judge_lamb(c: Case, out: hidden.Trajectory) -> None:
    _judge_trajectory(c, out, _lamb)


def _cosine(step: int, max_lr: float, min_lr: float, warmup: int, total: int) -> float:
    if step < warmup:
        return max_lr * step / warmup
    if step >= total:
        return min_lr
    return min_lr + (max_lr - min_lr) * (1 + math.cos(math.pi * (step - warmup) / (total - warmup))) / 2


@judge(hidden.cosine_lr)
def judge_cosine_lr(c: Case, values: Any) -> None:
    _, _, warmup, total = c.args
    for step, value in zip(c.extra["steps"], values, strict=True):
        phase = "warmup" if step < warmup else "after total_steps" if step >= total else "cosine decay"
        expect(
            close_number(value, _cosine(step, *c.args), rel=1e-9, abs_=1e-15),
            f"wrong learning rate at step {step} ({phase})",
        )


@judge(hidden.clip_grad_norm)
def judge_clip_grad_norm(c: Case, out: hidden.Clipped) -> None:
    (max_norm,) = c.args
    params = [torch.zeros(grad.shape, dtype=grad.dtype, requires_grad=True) for grad in c.extra["grads"]]
    for i, (p, grad) in enumerate(zip(params, c.extra["grads"], strict=True)):
        p.grad = None if i == c.extra["none_index"] else grad.clone()
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    state = "clipped" if norm > max_norm else "below max_norm"
    expect_close(out.norm, norm, f"returned norm ({state})", rtol=1e-6, atol=1e-12)
    for p, got in zip(params, out.grads, strict=True):
        if p.grad is None:
            expect(got is None, "a missing gradient was created")
        else:
            expect_close(got, p.grad, f"gradients after clipping ({state})", rtol=1e-6, atol=1e-12)


def _zero_gradient_weight() -> float:
    """A weight of 1 after 10 steps of torch.optim.AdamW (lr 0.1, weight decay 0.5) with a zero gradient."""
    weight = torch.ones(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.AdamW([weight], lr=0.1, weight_decay=0.5)
    for _ in range(10):
        weight.grad = torch.zeros(1, dtype=torch.float64)
        optimizer.step()
    return weight.item()


def _clipped_entry() -> float:
    """The first gradient entry after torch.nn.utils.clip_grad_norm_ at 1.0 of [0.3, -1.2, 2.0] and [[4.1, -0.7]]."""
    params = [torch.zeros(3, dtype=torch.float64), torch.zeros(1, 2, dtype=torch.float64)]
    params[0].grad = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64)
    params[1].grad = torch.tensor([[4.1, -0.7]], dtype=torch.float64)
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    return params[0].grad[0].item()


answer_key(
    hidden,
    {
        "q1_zero_gradient_weight": Number(_zero_gradient_weight()),
        "q2_lr_at_550": Number(_cosine(550, 3e-4, 3e-5, 100, 1000)),
        "q3_clipped_entry": Number(_clipped_entry()),
    },
)
