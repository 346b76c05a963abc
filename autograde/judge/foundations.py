"""Judges of module 01, foundations: references from PyTorch and closed forms."""

from __future__ import annotations

import math
from typing import Any

import torch

from autograde.hidden import foundations as hidden
from autograde.judge import Choice, Mismatch, Number, answer_key, close_number, expect, expect_close, judge, not_raised, paired

# -- notebook 1: scalar autograd ------------------------------------------------------------


def _torch_reference(expression: hidden.Expression, leaves: list[float], backward: bool) -> list[float]:
    nodes = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in leaves]
    out = expression(*nodes)
    if not backward:
        return [out.item()]
    out.backward()
    return [out.item()] + [n.grad.item() if n.grad is not None else 0.0 for n in nodes]


def _judge_expressions(expressions: list[tuple[str, hidden.Expression]], leaves: list[list[float]], outputs: Any, backward: bool) -> None:
    for ((label, expression), values), got in paired(list(zip(expressions, leaves)), outputs):
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


# -- notebook 2: matrix backprop ---------------------------------------------------------------


def _pair(value: Any, n: int, what: str) -> list:
    not_raised(value, what)
    expect(isinstance(value, (list, tuple)) and len(value) == n, f"{what}: should return a tuple of {n} tensors")
    return list(value)


@judge(hidden.linear_forward)
def judge_linear_forward(cases: list[dict], outputs: Any) -> None:
    for i, (c, y) in enumerate(paired(cases, outputs)):
        what = "wrong result on a square weight matrix (is W transposed?)" if i == len(cases) - 1 else f"case {i + 1}"
        expect_close(y, torch.nn.functional.linear(c["x"], c["W"], c["b"]), what, rtol=1e-9, atol=1e-9)


@judge(hidden.linear_backward)
def judge_linear_backward(cases: list[dict], outputs: Any) -> None:
    for i, (c, out) in enumerate(paired(cases, outputs)):
        x, W, b = (c[k].clone().requires_grad_() for k in ("x", "W", "b"))
        torch.nn.functional.linear(x, W, b).backward(c["dout"])
        dx, dW, db = _pair(out, 3, f"case {i + 1}")
        for name, got, ref in (("dx", dx, x.grad), ("dW", dW, W.grad), ("db", db, b.grad)):
            expect_close(got, ref, f"{name} in case {i + 1}", rtol=1e-9, atol=1e-9)


@judge(hidden.relu_backward)
def judge_relu_backward(cases: list[dict], outputs: Any) -> None:
    for i, (c, dx) in enumerate(paired(cases, outputs)):
        x = c["x"].clone().requires_grad_()
        torch.relu(x).backward(c["dout"])
        expect_close(dx, x.grad, f"case {i + 1} (inputs include exact zeros)", rtol=1e-12, atol=0)


def _judge_cross_entropy(cases: list[dict], outputs: Any, what: str) -> None:
    for i, (c, out) in enumerate(paired(cases, outputs)):
        loss, dlogits = _pair(out, 2, f"{what}, case {i + 1}")
        z = c["logits"].double().requires_grad_()
        ref = torch.nn.functional.cross_entropy(z, c["targets"])
        ref.backward()
        expect_close(loss, ref.detach(), f"loss, {what}, case {i + 1}", rtol=1e-4, atol=1e-4)
        expect_close(dlogits, z.grad, f"dlogits, {what}, case {i + 1}", rtol=1e-4, atol=1e-6)


@judge(hidden.softmax_cross_entropy)
def judge_softmax_cross_entropy(cases: list[dict], outputs: Any) -> None:
    _judge_cross_entropy(cases, outputs, "ordinary logits")


@judge(hidden.softmax_cross_entropy_stability)
def judge_softmax_cross_entropy_stability(cases: list[dict], outputs: Any) -> None:
    _judge_cross_entropy(cases, outputs, "logits up to 1e4")


def _judge_activation(xs: list[torch.Tensor], outputs: Any, reference) -> None:
    labels = ["random inputs", "a float32 3-D tensor", "large and tiny inputs (float64)", "large and tiny inputs (float32)"]
    for (x, y), label in zip(paired(xs, outputs), labels):
        not_raised(y, label)
        expect(isinstance(y, torch.Tensor) and y.dtype == x.dtype, f"{label}: the result must keep the input's dtype")
        tolerance = 1e-5 if x.dtype == torch.float32 else 1e-9
        expect_close(y, reference(x.double()).to(x.dtype), label, rtol=tolerance, atol=tolerance)


@judge(hidden.gelu)
def judge_gelu(xs: list[torch.Tensor], outputs: Any) -> None:
    _judge_activation(xs, outputs, torch.nn.functional.gelu)


@judge(hidden.gelu_tanh)
def judge_gelu_tanh(xs: list[torch.Tensor], outputs: Any) -> None:
    _judge_activation(xs, outputs, lambda x: torch.nn.functional.gelu(x, approximate="tanh"))


@judge(hidden.silu)
def judge_silu(xs: list[torch.Tensor], outputs: Any) -> None:
    _judge_activation(xs, outputs, torch.nn.functional.silu)


def _central_difference(case: dict) -> torch.Tensor:
    """Closed forms of the central difference with step eps (not the exact derivative)."""
    x, eps = case["x"].double(), case["eps"] or 1e-6
    if case["f"] in ("cube", "cube_float"):
        return 3 * x**2 + eps**2  # ((x+e)^3 - (x-e)^3) / 2e
    if case["f"] == "square_of_sum":
        return torch.full_like(x, 2 * x.sum().item())  # ((S+e)^2 - (S-e)^2) / 2e = 2S
    # d/dx [2 x sin x]; the central difference differs from it by O(eps^2) = 1e-12
    return 2 * (x.sin() + x * x.cos())


@judge(hidden.numerical_gradient)
def judge_numerical_gradient(cases: list[dict], outputs: Any) -> None:
    for i, (case, out) in enumerate(paired(cases, outputs)):
        what = f"case {i + 1}" + (f" (eps={case['eps']})" if case["eps"] else " (default eps)")
        expect(isinstance(out, dict) and "grad" in out, f"{what}: malformed result")
        expect_close(out["x_after"], case["x"], f"{what}: the caller's x was modified", rtol=0, atol=0)
        tolerance = 1e-8 if case["eps"] else 1e-5
        expect_close(out["grad"], _central_difference(case), what, rtol=tolerance, atol=tolerance, dtype=torch.float64)


# -- notebook 3: optimizers -------------------------------------------------------------------


def _reference_trajectory(case: dict, make_step) -> list[list[torch.Tensor]]:
    """Parameters at the probe's checkpoints; make_step(params) returns step(grads)."""
    params = [p.clone().requires_grad_() for p in case["params"]]
    step = make_step(params)
    snapshots = []
    for i, grads in enumerate(case["grads"], start=1):
        step(grads)
        if i in hidden.CHECKPOINTS or i == len(case["grads"]):
            snapshots.append([p.detach().clone() for p in params])
    return snapshots


def _torch_steps(optimizer_class, kwargs: dict):
    def make_step(params):
        optimizer = optimizer_class(params, **kwargs)

        def step(grads):
            for p, g in zip(params, grads):
                p.grad = g.clone()
            optimizer.step()

        return step

    return make_step


def _lamb_steps(kwargs: dict):
    """LAMB from PyTorch's Adam direction: Adam with lr=1 on a dummy copy moves by exactly
    -m_hat / (sqrt(v_hat) + eps); add the decay, rescale by ||p|| / ||u|| (You et al., Alg. 2)."""

    def make_step(params):
        dummies = [torch.zeros_like(p, requires_grad=True) for p in params]
        adam = torch.optim.Adam(dummies, lr=1.0, betas=kwargs["betas"], eps=kwargs["eps"])

        @torch.no_grad()
        def step(grads):
            before = [d.detach().clone() for d in dummies]
            for d, g in zip(dummies, grads):
                d.grad = g.clone()
            adam.step()
            for p, d, b in zip(params, dummies, before):
                u = (b - d) + kwargs["weight_decay"] * p
                w_norm, u_norm = p.norm(), u.norm()
                ratio = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
                p.sub_(kwargs["lr"] * ratio * u)

        return step

    return make_step


def _judge_optimizer(cases: list[dict], outputs: Any, reference, what: str) -> None:
    for i, (case, out) in enumerate(paired(cases, outputs)):
        label = f"{what} case {i + 1}"
        not_raised(out, label)
        expect(isinstance(out, dict) and isinstance(out.get("snapshots"), list), f"{label}: malformed result")
        expected = _reference_trajectory(case, reference(case["kwargs"]))
        expect(len(out["snapshots"]) == len(expected), f"{label}: malformed result")
        steps = sorted({s for s in hidden.CHECKPOINTS if s <= len(case["grads"])} | {len(case["grads"])})
        for step, got, want in zip(steps, out["snapshots"], expected):
            expect(isinstance(got, list) and len(got) == len(want), f"{label}: malformed result")
            for g_, w_ in zip(got, want):
                expect_close(g_, w_, f"{label}: parameters differ from the reference after step {step}", rtol=1e-7, atol=1e-10)
        expect_close(out["frozen"], case["frozen"], f"{label}: a parameter without a gradient was changed", rtol=0, atol=0)
        expect(out["cleared"] is True, f"{label}: zero_grad() did not clear the gradients")


@judge(hidden.sgd)
def judge_sgd(cases: list[dict], outputs: Any) -> None:
    _judge_optimizer(cases, outputs, lambda kwargs: _torch_steps(torch.optim.SGD, kwargs), "SGD")


@judge(hidden.adamw)
def judge_adamw(cases: list[dict], outputs: Any) -> None:
    _judge_optimizer(cases, outputs, lambda kwargs: _torch_steps(torch.optim.AdamW, kwargs), "AdamW")


@judge(hidden.lamb)
def judge_lamb(cases: list[dict], outputs: Any) -> None:
    _judge_optimizer(cases, outputs, _lamb_steps, "LAMB")


def _cosine(step: int, max_lr: float, min_lr: float, warmup: int, total: int) -> float:
    if step < warmup:
        return max_lr * step / warmup
    if step >= total:
        return min_lr
    return min_lr + (max_lr - min_lr) * (1 + math.cos(math.pi * (step - warmup) / (total - warmup))) / 2


@judge(hidden.cosine_lr)
def judge_cosine_lr(cases: list[dict], outputs: Any) -> None:
    for i, (case, values) in enumerate(paired(cases, outputs)):
        expect(isinstance(values, list) and len(values) == len(case["steps"]), "malformed result")
        for step, value in zip(case["steps"], values):
            not_raised(value, f"schedule {i + 1}")
            phase = "warmup" if step < case["warmup_steps"] else "after total_steps" if step >= case["total_steps"] else "cosine decay"
            want = _cosine(step, case["max_lr"], case["min_lr"], case["warmup_steps"], case["total_steps"])
            expect(close_number(value, want, rel=1e-9, abs_=1e-15), f"wrong learning rate in schedule {i + 1} ({phase})")


@judge(hidden.clip_grad_norm)
def judge_clip_grad_norm(cases: list[dict], outputs: Any) -> None:
    for i, (case, out) in enumerate(paired(cases, outputs)):
        params = [torch.zeros(g.shape, dtype=g.dtype, requires_grad=True) for g in case["grads"]]
        for k, (p, g) in enumerate(zip(params, case["grads"])):
            p.grad = None if k == case["none_index"] else g.clone()
        norm = torch.nn.utils.clip_grad_norm_(params, case["max_norm"])
        label = f"case {i + 1} ({'clipped' if norm > case['max_norm'] else 'below max_norm'})"
        expect(isinstance(out, dict), f"{label}: malformed result")
        expect_close(out["norm"], norm, f"{label}: returned norm", rtol=1e-6, atol=1e-12)
        for p, got in paired(params, out.get("grads")):
            if p.grad is None:
                expect(got is None, f"{label}: a missing gradient was created")
            else:
                expect_close(got, p.grad, f"{label}: gradients after clipping", rtol=1e-6, atol=1e-12)


# -- notebook 4: normalization, recurrent cells, convolution ------------------------------------


def _tolerance(x: torch.Tensor) -> float:
    return 1e-5 if x.dtype == torch.float32 else 1e-9


@judge(hidden.layer_norm)
def judge_layer_norm(cases: list[dict], outputs: Any) -> None:
    labels = ["random inputs", "a float32 3-D input", "a feature dimension of 1", "a custom eps"]
    for (c, y), label in zip(paired(cases, outputs), labels):
        ref = torch.nn.functional.layer_norm(c["x"], c["x"].shape[-1:], c["weight"], c["bias"], eps=c["eps"] or 1e-5)
        expect_close(y, ref, label, rtol=_tolerance(c["x"]) * 10, atol=_tolerance(c["x"]) * 10)


def _judge_batch_norm(cases: list[dict], outputs: Any, training: bool) -> None:
    for i, (case, out) in enumerate(paired(cases, outputs)):
        label = f"case {i + 1} ({tuple(case['xs'][0].shape)}, {len(case['xs'])} batch{'es' if len(case['xs']) > 1 else ''})"
        expect(isinstance(out, dict) and isinstance(out.get("outputs"), list), f"{label}: malformed result")
        running_mean, running_var = case["running_mean"].clone(), case["running_var"].clone()
        kwargs = {"momentum": case["momentum"] or 0.1, "eps": case["eps"] or 1e-5}
        for k, (x, y) in enumerate(paired(case["xs"], out["outputs"])):
            ref = torch.nn.functional.batch_norm(x, running_mean, running_var, case["weight"], case["bias"], training=training, **kwargs)
            expect_close(y, ref, f"{label}: output for batch {k + 1}", rtol=1e-8, atol=1e-9)
        expect_close(out["running_mean"], running_mean, f"{label}: running_mean afterwards", rtol=1e-8, atol=1e-10)
        expect_close(out["running_var"], running_var, f"{label}: running_var afterwards", rtol=1e-8, atol=1e-10)


@judge(hidden.batch_norm_train)
def judge_batch_norm_train(cases: list[dict], outputs: Any) -> None:
    _judge_batch_norm(cases, outputs, training=True)


@judge(hidden.batch_norm_eval)
def judge_batch_norm_eval(cases: list[dict], outputs: Any) -> None:
    _judge_batch_norm(cases, outputs, training=False)


@judge(hidden.lstm_cell)
def judge_lstm_cell(cases: list[dict], outputs: Any) -> None:
    for i, (c, out) in enumerate(paired(cases, outputs)):
        label = f"case {i + 1}" + (" (saturated gates)" if i == 2 else "")
        h, cell = _pair(out, 2, label)
        ref_h, ref_c = torch.lstm_cell(c["x"], (c["h"], c["c"]), c["W_ih"], c["W_hh"], c["b_ih"], c["b_hh"])
        expect_close(cell, ref_c, f"{label}: c_next", rtol=1e-9, atol=1e-9)
        expect_close(h, ref_h, f"{label}: h_next", rtol=1e-9, atol=1e-9)


@judge(hidden.gru_cell)
def judge_gru_cell(cases: list[dict], outputs: Any) -> None:
    for i, (c, h) in enumerate(paired(cases, outputs)):
        ref = torch.gru_cell(c["x"], c["h"], c["W_ih"], c["W_hh"], c["b_ih"], c["b_hh"])
        expect_close(h, ref, f"case {i + 1}" + (" (saturated gates)" if i == 2 else ""), rtol=1e-9, atol=1e-9)


def _judge_conv(cases: list[dict], outputs: Any) -> None:
    for i, (c, out) in enumerate(paired(cases, outputs)):
        ref = torch.nn.functional.conv2d(c["x"], c["weight"], c["bias"], stride=c["stride"], padding=c["padding"])
        label = f"case {i + 1} (kernel {tuple(c['weight'].shape[2:])}, stride {c['stride']}, padding {c['padding']}{', no bias' if c['bias'] is None else ''})"
        expect_close(out, ref, label, rtol=1e-9, atol=1e-9)


@judge(hidden.conv2d)
def judge_conv2d(cases: list[dict], outputs: Any) -> None:
    _judge_conv(cases, outputs)


@judge(hidden.conv2d_stride_padding)
def judge_conv2d_stride_padding(cases: list[dict], outputs: Any) -> None:
    _judge_conv(cases, outputs)


# -- interview answers ----------------------------------------------------------------------

answer_key(
    hidden,
    {
        "q1_reverse_order": Choice("b"),
        "q2_backward_cost": Choice("a"),
        "q3_df_da": Number(-3.0 + 1),  # d(ab + a)/da = b + 1 at a = 2, b = -3
        "q1_max_subtraction": Choice("b"),
        "q2_initial_loss": Number(math.log(3), rel=0, abs=0.03),  # uniform over 3 classes: -log(1/3)
        "q3_gradient_fan_out": Choice("b"),
        "q1_adamw": Choice("b"),
        "q2_lr_at_550": Number(_cosine(550, 3e-4, 3e-5, 100, 1000)),
        "q3_warmup": Choice("a"),
        "q1_layernorm": Choice("b"),
        "q2_lstm": Choice("a"),
        "q3_transformer": Choice("a"),
    },
)
