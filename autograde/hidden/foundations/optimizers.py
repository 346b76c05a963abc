"""Hidden tests of 03_optimizers.ipynb: SGD, AdamW, LAMB, the cosine schedule, gradient clipping
(no expected values here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from autograde.hidden import Case, Forbidden, answers, probe, randint, randn

SHAPES = [(4, 3), (3,), (2, 2, 2)]
CHECKPOINTS = (1, 2, 5, 10, 25, 50, 100)
OPTIM = Forbidden(names=("optim", "SGD", "Adam", "AdamW", "_functional", "_single_tensor_adamw", "_multi_tensor_adamw"))


def checkpoints(steps: int) -> list[int]:
    """The steps after which a run of `steps` steps records the parameters: the checkpoints, and the last step."""
    return sorted({s for s in CHECKPOINTS if s <= steps} | {steps})


@dataclass
class Trajectory:
    snapshots: list[list[torch.Tensor]]  # the parameters after each of checkpoints(steps)
    frozen: torch.Tensor  # a parameter that never gets a gradient, afterwards: must not move
    cleared: bool  # zero_grad() cleared every gradient


def _run_optimizer(optimizer_class: type, c: Case) -> Trajectory:
    """Feed the case's gradients step by step; the parameters at the checkpoints, zero_grad's effect.
    The parameters come as a one-shot iterator, as model.parameters() gives them."""
    params = [p.requires_grad_() for p in c.extra["params"]]
    frozen = c.extra["frozen"].requires_grad_()
    optimizer = optimizer_class(iter([*params, frozen]), **c.kwargs)
    grads = c.extra["grads"]
    marks, snapshots = checkpoints(len(grads)), []
    for step, step_grads in enumerate(grads, start=1):
        for p, grad in zip(params, step_grads, strict=True):
            p.grad = grad.clone()
        optimizer.step()
        if step in marks:
            snapshots.append([p.detach().clone() for p in params])
    optimizer.zero_grad()
    cleared = all(p.grad is None or not bool(p.grad.any()) for p in params)
    return Trajectory(snapshots, frozen.detach().clone(), cleared)


def _optimizer_case(
    g: torch.Generator, kwargs: dict, steps: int, note: str = "", scale: float = 1.0, zero_param: bool = False
) -> Case:
    """Parameters of SHAPES (the second all zeros with `zero_param`), `steps` gradients of size `scale`."""
    params = [randn(g, *shape) for shape in SHAPES]
    if zero_param:
        params[1] = torch.zeros(SHAPES[1], dtype=torch.float64)
    grads = [[randn(g, *shape, scale=scale) for shape in SHAPES] for _ in range(steps)]
    extra = {"params": params, "grads": grads, "frozen": randn(g, 3)}
    settings = ", ".join(f"{k}={v}" for k, v in kwargs.items()) or "defaults"
    return Case(f"{settings}, {steps} steps" + (f", {note}" if note else ""), kwargs=kwargs, extra=extra)


@probe("SGD", run=_run_optimizer, output=Trajectory, forbidden=OPTIM)
def sgd(g: torch.Generator) -> list[Case]:
    configs = [
        {"lr": 0.1},
        {"lr": 0.05, "momentum": 0.9},
        {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.05},
        {"lr": 0.02, "weight_decay": 0.2},
    ]
    return [_optimizer_case(g, kwargs, 25) for kwargs in configs]


@probe("AdamW", run=_run_optimizer, output=Trajectory, forbidden=OPTIM)
def adamw(g: torch.Generator) -> list[Case]:
    return [
        _optimizer_case(g, {}, 100),
        _optimizer_case(g, {"lr": 1e-2, "betas": (0.8, 0.99), "eps": 1e-1, "weight_decay": 0.1}, 100),
        _optimizer_case(g, {"lr": 3e-3, "weight_decay": 0.0}, 50, "gradients of size 1e-7 (eps placement)", scale=1e-7),
    ]


@probe("LAMB", run=_run_optimizer, output=Trajectory, forbidden=OPTIM)
def lamb(g: torch.Generator) -> list[Case]:
    decayed = {"lr": 1e-2, "betas": (0.9, 0.999), "eps": 1e-6, "weight_decay": 0.01}
    undecayed = {"lr": 5e-3, "betas": (0.8, 0.99), "eps": 1e-3, "weight_decay": 0.0}
    strongly_decayed = {"lr": 2e-2, "betas": (0.9, 0.9), "eps": 1e-6, "weight_decay": 0.5}
    return [
        _optimizer_case(g, decayed, 30, "an all-zero parameter", zero_param=True),
        _optimizer_case(g, undecayed, 30, "gradients of size 10", scale=10.0),
        _optimizer_case(g, strongly_decayed, 10, "gradients of size 0.01", scale=0.01),
    ]


def _schedule(cosine_lr: Any, c: Case) -> list[Any]:
    """The learning rate at each of the case's steps."""
    return [cosine_lr(step, *c.args) for step in c.extra["steps"]]


@probe("cosine_lr", run=_schedule, forbidden=Forbidden(names=("lr_scheduler", "CosineAnnealingLR", "LambdaLR")))
def cosine_lr(g: torch.Generator) -> list[Case]:
    """(max_lr, min_lr, warmup_steps, total_steps), queried at the phase boundaries and at one random step
    strictly inside each phase (the warmup only where it has an inside): the same steps' phases for every seed."""
    cases = []
    for max_lr, min_lr, w, t in [(1e-3, 1e-4, 10, 100), (0.5, 0.0, 0, 50), (3e-4, 3e-5, 200, 1000), (2.0, 0.5, 1, 7)]:
        boundaries = sorted({0, 1, max(w - 1, 0), w, w + 1, (w + t) // 2, t - 1, t, t + 3, 5 * t})
        inside = [(2, w - 2)] if w >= 4 else []  # the warmup, between its boundary steps
        inside += [(w + 2, t - 2), (t + 1, 5 * t - 1)]  # the cosine decay, after total_steps
        steps = sorted(boundaries + [randint(g, low, high) for low, high in inside])
        label = f"max_lr={max_lr}, min_lr={min_lr}, warmup_steps={w}, total_steps={t}"
        cases.append(Case(label, (max_lr, min_lr, w, t), extra={"steps": steps}))
    return cases


@dataclass
class Clipped:
    norm: Any  # what clip_grad_norm returned
    grads: list[torch.Tensor | None]  # the parameters' gradients afterwards


def _clip(clip_grad_norm: Any, c: Case) -> Clipped:
    """Parameters holding the case's gradients, one of them (extra["none_index"]) without a gradient,
    passed as a one-shot iterator, as model.parameters() gives them."""
    params = [torch.zeros(grad.shape, dtype=grad.dtype, requires_grad=True) for grad in c.extra["grads"]]
    for i, (p, grad) in enumerate(zip(params, c.extra["grads"], strict=True)):
        p.grad = None if i == c.extra["none_index"] else grad
    norm = clip_grad_norm(iter(params), *c.args)
    return Clipped(norm, [None if p.grad is None else p.grad.clone() for p in params])


CLIP = Forbidden(names=("clip_grad_norm_", "clip_grad_norm", "clip_grads_with_norm_", "get_total_norm", "utils"))


@probe("clip_grad_norm", run=_clip, output=Clipped, forbidden=CLIP)
def clip_grad_norm(g: torch.Generator) -> list[Case]:
    """Gradients rescaled to a total norm (over the parameters that have one) of 3 to 6 times `scale`, so that
    the first and third cases are clipped and the others not whatever the seed; each parameter in turn has none."""
    cases = []
    for max_norm, scale, none_index in [(1.0, 1.0, 0), (50.0, 1.0, 1), (0.5, 1e3, 2), (2.0, 1e-3, 0)]:
        grads = [randn(g, *shape) for shape in SHAPES]
        norm = torch.cat([grad.flatten() for i, grad in enumerate(grads) if i != none_index]).norm()
        target = scale * (3.0 + 3.0 * torch.rand(1, generator=g, dtype=torch.float64).item())
        grads = [grad * (target / norm) for grad in grads]
        state = "clipped" if target > max_norm else "below max_norm"
        label = f"max_norm={max_norm}, gradients of size {scale:g} ({state}), parameter {none_index} without a gradient"
        cases.append(Case(label, (max_norm,), extra={"grads": grads, "none_index": none_index}))
    return cases


q1_zero_gradient_weight, q2_lr_at_550, q3_clipped_entry = answers(
    __name__, "q1_zero_gradient_weight", "q2_lr_at_550", "q3_clipped_entry"
)
