"""Hidden tests of module 01, foundations: kernel-side probes (no expected values here)."""

from __future__ import annotations

from typing import Any, Callable

import torch

from autograde.hidden import answer_probes, attempt, probe, randn

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
    ("a residual connection", lambda a, b, c, z: (lambda d: d + ((d * b).tanh() * 0.5).exp())(a * c)),
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


# -- notebook 2: matrix backprop ---------------------------------------------------------------

NO_AUTOGRAD = ("autograd", "backward", "requires_grad", "requires_grad_", "enable_grad", "grad")


def linear_inputs(g: torch.Generator) -> list[dict]:
    shapes = [(7, 5, 3), (1, 4, 6), (9, 1, 2), (3, 6, 6)]  # (N, d_in, d_out), square last
    return [
        {"x": randn(g, n, i), "W": randn(g, o, i), "b": randn(g, o), "dout": randn(g, n, o)}
        for n, i, o in shapes
    ]


@probe(linear_inputs, label="linear_forward", forbidden_ops=("addmm", "linear"), forbidden_names=("linear", "Linear", "addmm"))
def linear_forward(fn: Callable, cases: list[dict]) -> list[Any]:
    return [attempt(fn, c["x"], c["W"], c["b"]) for c in cases]


@probe(linear_inputs, label="linear_backward", forbidden_names=NO_AUTOGRAD)
def linear_backward(fn: Callable, cases: list[dict]) -> list[Any]:
    with torch.inference_mode():
        return [attempt(fn, c["dout"], c["x"], c["W"]) for c in cases]


def relu_inputs(g: torch.Generator) -> list[dict]:
    cases = []
    for shape in [(5, 8), (2, 3, 4), (17,)]:
        x = randn(g, *shape)
        x.view(-1)[::4] = 0.0  # exact zeros: the derivative there is 0
        cases.append({"x": x, "dout": randn(g, *shape)})
    return cases


@probe(relu_inputs, label="relu_backward", forbidden_names=NO_AUTOGRAD)
def relu_backward(fn: Callable, cases: list[dict]) -> list[Any]:
    with torch.inference_mode():
        return [attempt(fn, c["dout"], c["x"]) for c in cases]


CROSS_ENTROPY_OPS = ("_log_softmax", "_softmax", "log_softmax", "softmax", "nll_loss.*", "cross_entropy_loss", "logsumexp")
CROSS_ENTROPY_NAMES = ("cross_entropy", "log_softmax", "softmax", "nll_loss", "logsumexp", "CrossEntropyLoss", "NLLLoss", "LogSoftmax", "Softmax") + NO_AUTOGRAD


def cross_entropy_inputs(g: torch.Generator) -> list[dict]:
    cases = []
    for n, c, scale in [(8, 5, 1.0), (1, 3, 2.0), (16, 10, 4.0), (5, 2, 0.1)]:
        cases.append({"logits": randn(g, n, c, dtype=torch.float32, scale=scale), "targets": torch.randint(0, c, (n,), generator=g)})
    return cases


def cross_entropy_large_inputs(g: torch.Generator) -> list[dict]:
    cases = []
    for n, c, scale in [(6, 4, 1e4), (4, 7, 3e3), (3, 5, 500.0)]:
        logits = randn(g, n, c, dtype=torch.float32, scale=scale)
        logits[0, 0] = -1e4  # a target with a tiny probability
        targets = torch.randint(0, c, (n,), generator=g)
        targets[0] = 0
        cases.append({"logits": logits, "targets": targets})
    return cases


def _run_cross_entropy(fn: Callable, cases: list[dict]) -> list[Any]:
    with torch.inference_mode():
        return [attempt(fn, c["logits"], c["targets"]) for c in cases]


softmax_cross_entropy = probe(cross_entropy_inputs, label="softmax_cross_entropy", forbidden_ops=CROSS_ENTROPY_OPS, forbidden_names=CROSS_ENTROPY_NAMES, name="softmax_cross_entropy")(_run_cross_entropy)
softmax_cross_entropy_stability = probe(cross_entropy_large_inputs, label="softmax_cross_entropy", forbidden_ops=CROSS_ENTROPY_OPS, forbidden_names=CROSS_ENTROPY_NAMES, name="softmax_cross_entropy_stability")(_run_cross_entropy)


def activation_inputs(g: torch.Generator) -> list[torch.Tensor]:
    extremes = torch.tensor([-1e4, -60.0, -20.0, -1e-3, 0.0, 1e-3, 20.0, 60.0, 1e4])
    return [
        randn(g, 64, scale=3.0),
        randn(g, 2, 3, 5, dtype=torch.float32, scale=2.0),
        extremes.to(torch.float64),
        extremes.to(torch.float32),
    ]


def _run_activation(fn: Callable, xs: list[torch.Tensor]) -> list[Any]:
    return [attempt(fn, x) for x in xs]


gelu = probe(activation_inputs, label="gelu", forbidden_ops=("gelu",), forbidden_names=("gelu", "GELU"), name="gelu")(_run_activation)
gelu_tanh = probe(activation_inputs, label="gelu_tanh", forbidden_ops=("gelu",), forbidden_names=("gelu", "GELU"), name="gelu_tanh")(_run_activation)
silu = probe(activation_inputs, label="silu", forbidden_ops=("silu",), forbidden_names=("silu", "SiLU"), name="silu")(_run_activation)


def numerical_gradient_inputs(g: torch.Generator) -> list[dict]:
    return [
        {"x": randn(g, 3, 4, dtype=torch.float32), "eps": None, "f": "cube"},
        {"x": randn(g, 5), "eps": 1e-2, "f": "cube"},
        {"x": randn(g, 2, 3, dtype=torch.float32), "eps": 1e-3, "f": "cube_float"},
        {"x": randn(g, 4, 2), "eps": None, "f": "sin_x"},
        {"x": randn(g, 6), "eps": 1e-3, "f": "square_of_sum"},
    ]


NUMERICAL_FUNCTIONS: dict[str, Callable[[torch.Tensor], Any]] = {
    "cube": lambda t: (t**3).sum(),  # returns a 0-dim tensor
    "cube_float": lambda t: float((t**3).sum()),  # returns a Python float
    "sin_x": lambda t: (t.sin() * t).sum() * 2.0,
    "square_of_sum": lambda t: t.sum() ** 2,  # couples the entries: each partial depends on all of them
}


@probe(numerical_gradient_inputs, label="numerical_gradient", forbidden_names=NO_AUTOGRAD + ("functional",))
def numerical_gradient(fn: Callable, cases: list[dict]) -> list[Any]:
    results = []
    with torch.inference_mode():
        for case in cases:
            x = case["x"].clone()
            f = NUMERICAL_FUNCTIONS[case["f"]]
            grad = attempt(fn, f, x) if case["eps"] is None else attempt(fn, f, x, eps=case["eps"])
            results.append({"grad": grad, "x_after": x})
    return results


# -- notebook 3: optimizers -------------------------------------------------------------------

SHAPES = [(4, 3), (3,), (2, 2, 2)]
CHECKPOINTS = (1, 2, 5, 10, 25, 50, 100)


def _optimizer_case(g: torch.Generator, kwargs: dict, steps: int, scale: float = 1.0, zero_param: bool = False) -> dict:
    params = [randn(g, *shape) for shape in SHAPES]
    if zero_param:
        params[1] = torch.zeros(SHAPES[1], dtype=torch.float64)
    grads = [[randn(g, *shape, scale=scale) for shape in SHAPES] for _ in range(steps)]
    return {"kwargs": kwargs, "params": params, "frozen": randn(g, 3), "grads": grads}


def sgd_inputs(g: torch.Generator) -> list[dict]:
    configs = [{"lr": 0.1}, {"lr": 0.05, "momentum": 0.9}, {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.05}, {"lr": 0.02, "weight_decay": 0.2}]
    return [_optimizer_case(g, kwargs, 25) for kwargs in configs]


def adamw_inputs(g: torch.Generator) -> list[dict]:
    return [
        _optimizer_case(g, {}, 100),
        _optimizer_case(g, {"lr": 1e-2, "betas": (0.8, 0.99), "eps": 1e-1, "weight_decay": 0.1}, 100),
        _optimizer_case(g, {"lr": 3e-3, "weight_decay": 0.0}, 50, scale=1e-7),  # tiny gradients: eps placement matters
    ]


def lamb_inputs(g: torch.Generator) -> list[dict]:
    return [
        _optimizer_case(g, {"lr": 1e-2, "betas": (0.9, 0.999), "eps": 1e-6, "weight_decay": 0.01}, 30, zero_param=True),
        _optimizer_case(g, {"lr": 5e-3, "betas": (0.8, 0.99), "eps": 1e-3, "weight_decay": 0.0}, 30, scale=10.0),
        _optimizer_case(g, {"lr": 2e-2, "betas": (0.9, 0.9), "eps": 1e-6, "weight_decay": 0.5}, 10, scale=0.01),
    ]


def run_optimizer(optimizer_class: Callable, case: dict) -> dict:
    """Feed fixed gradients for len(grads) steps; parameters at the checkpoints, zero_grad's effect."""
    params = [p.clone().requires_grad_() for p in case["params"]]
    frozen = case["frozen"].clone().requires_grad_()  # never receives a gradient: must not move
    optimizer = optimizer_class([*params, frozen], **case["kwargs"])
    snapshots = []
    for step, grads in enumerate(case["grads"], start=1):
        for p, grad in zip(params, grads):
            p.grad = grad.clone()
        optimizer.step()
        if step in CHECKPOINTS or step == len(case["grads"]):
            snapshots.append([p.detach().clone() for p in params])
    optimizer.zero_grad()
    cleared = all(p.grad is None or not bool(p.grad.any()) for p in params)
    return {"snapshots": snapshots, "frozen": frozen.detach().clone(), "cleared": cleared}


def _run_optimizers(optimizer_class: Callable, cases: list[dict]) -> list[Any]:
    return [attempt(run_optimizer, optimizer_class, case) for case in cases]


OPTIM_NAMES = ("optim", "SGD", "Adam", "AdamW", "_functional", "_single_tensor_adamw", "_multi_tensor_adamw")
sgd = probe(sgd_inputs, label="SGD", forbidden_names=OPTIM_NAMES, name="sgd")(_run_optimizers)
adamw = probe(adamw_inputs, label="AdamW", forbidden_names=OPTIM_NAMES, name="adamw")(_run_optimizers)
lamb = probe(lamb_inputs, label="LAMB", forbidden_names=OPTIM_NAMES, name="lamb")(_run_optimizers)


def cosine_inputs(g: torch.Generator) -> list[dict]:
    configs = [
        {"max_lr": 1e-3, "min_lr": 1e-4, "warmup_steps": 10, "total_steps": 100},
        {"max_lr": 0.5, "min_lr": 0.0, "warmup_steps": 0, "total_steps": 50},
        {"max_lr": 3e-4, "min_lr": 3e-5, "warmup_steps": 200, "total_steps": 1000},
        {"max_lr": 2.0, "min_lr": 0.5, "warmup_steps": 1, "total_steps": 7},
    ]
    cases = []
    for c in configs:
        w, t = c["warmup_steps"], c["total_steps"]
        random_steps = torch.randint(0, 2 * t, (6,), generator=g).tolist()
        steps = sorted({0, 1, max(w - 1, 0), w, w + 1, (w + t) // 2, t - 1, t, t + 3, 5 * t, *random_steps})
        cases.append({**c, "steps": steps})
    return cases


@probe(cosine_inputs, label="cosine_lr", forbidden_names=("lr_scheduler", "CosineAnnealingLR", "LambdaLR"))
def cosine_lr(fn: Callable, cases: list[dict]) -> list[Any]:
    return [[attempt(fn, s, c["max_lr"], c["min_lr"], c["warmup_steps"], c["total_steps"]) for s in c["steps"]] for c in cases]


def clip_inputs(g: torch.Generator) -> list[dict]:
    cases = []
    for max_norm, scale in [(1.0, 1.0), (50.0, 1.0), (0.5, 1e3), (2.0, 1e-3)]:
        grads = [randn(g, *shape, scale=scale) for shape in SHAPES]
        cases.append({"max_norm": max_norm, "grads": grads, "none_index": int(torch.randint(0, 3, (1,), generator=g))})
    return cases


@probe(clip_inputs, label="clip_grad_norm", forbidden_names=("clip_grad_norm_", "clip_grad_norm", "clip_grads_with_norm_", "get_total_norm", "utils"))
def clip_grad_norm(fn: Callable, cases: list[dict]) -> list[Any]:
    results = []
    for case in cases:
        params = [torch.zeros(g.shape, dtype=g.dtype, requires_grad=True) for g in case["grads"]]
        for i, (p, grad) in enumerate(zip(params, case["grads"])):
            p.grad = None if i == case["none_index"] else grad.clone()
        norm = attempt(fn, params, case["max_norm"])
        results.append({"norm": norm, "grads": [None if p.grad is None else p.grad.clone() for p in params]})
    return results


# -- notebook 4: normalization, recurrent cells, convolution ------------------------------------


def layer_norm_inputs(g: torch.Generator) -> list[dict]:
    cases = []
    for shape, dtype, eps, offset in [((4, 8), torch.float64, None, 0.0), ((2, 3, 16), torch.float32, None, 5.0), ((5, 1), torch.float64, None, 0.0), ((3, 7), torch.float64, 0.5, 1.0)]:
        d = shape[-1]
        cases.append({"x": randn(g, *shape, dtype=dtype, scale=3.0) + offset, "weight": randn(g, d, dtype=dtype), "bias": randn(g, d, dtype=dtype), "eps": eps})
    return cases


@probe(layer_norm_inputs, label="layer_norm", forbidden_ops=("native_layer_norm", "layer_norm"), forbidden_names=("layer_norm", "LayerNorm"))
def layer_norm(fn: Callable, cases: list[dict]) -> list[Any]:
    return [attempt(fn, c["x"], c["weight"], c["bias"]) if c["eps"] is None else attempt(fn, c["x"], c["weight"], c["bias"], eps=c["eps"]) for c in cases]


def _bn_case(g: torch.Generator, shape: tuple[int, ...], momentum: float | None, eps: float | None, batches: int) -> dict:
    c = shape[1]
    return {
        "xs": [randn(g, *shape, scale=2.0) + 3.0 * randn(g, 1, c, *([1] * (len(shape) - 2))) for _ in range(batches)],
        "weight": randn(g, c),
        "bias": randn(g, c),
        "running_mean": randn(g, c),
        "running_var": randn(g, c).abs() + 0.5,
        "momentum": momentum,
        "eps": eps,
    }


def batch_norm_train_inputs(g: torch.Generator) -> list[dict]:
    return [_bn_case(g, (16, 5), None, None, 2), _bn_case(g, (6, 4, 7), 0.3, None, 2), _bn_case(g, (3, 2, 5), 0.05, 1e-2, 3), _bn_case(g, (2, 6), None, None, 1)]


def batch_norm_eval_inputs(g: torch.Generator) -> list[dict]:
    return [_bn_case(g, (8, 5), None, None, 1), _bn_case(g, (4, 3, 6), 0.3, 0.5, 1)]


def _run_batch_norm(fn: Callable, cases: list[dict], training: bool) -> list[Any]:
    """Each case: its batches in sequence through the same running statistics."""
    results = []
    for case in cases:
        running_mean, running_var = case["running_mean"].clone(), case["running_var"].clone()
        kwargs = {k: case[k] for k in ("momentum", "eps") if case[k] is not None}
        outputs = [attempt(fn, x, case["weight"], case["bias"], running_mean, running_var, training, **kwargs) for x in case["xs"]]
        results.append({"outputs": outputs, "running_mean": running_mean, "running_var": running_var})
    return results


BATCH_NORM_OPS = ("native_batch_norm", "_native_batch_norm_legit.*", "batch_norm", "_batch_norm_impl_index", "cudnn_batch_norm")
BATCH_NORM_NAMES = ("batch_norm", "BatchNorm1d", "BatchNorm2d", "_BatchNorm")


@probe(batch_norm_train_inputs, label="batch_norm (training)", forbidden_ops=BATCH_NORM_OPS, forbidden_names=BATCH_NORM_NAMES)
def batch_norm_train(fn: Callable, cases: list[dict]) -> list[Any]:
    return _run_batch_norm(fn, cases, training=True)


@probe(batch_norm_eval_inputs, label="batch_norm (inference)", forbidden_ops=BATCH_NORM_OPS, forbidden_names=BATCH_NORM_NAMES)
def batch_norm_eval(fn: Callable, cases: list[dict]) -> list[Any]:
    return _run_batch_norm(fn, cases, training=False)


def _cell_case(g: torch.Generator, gates: int, b: int, d: int, h: int, scale: float) -> dict:
    return {
        "x": randn(g, b, d, scale=scale),
        "h": randn(g, b, h),
        "c": randn(g, b, h),
        "W_ih": randn(g, gates * h, d, scale=0.5),
        "W_hh": randn(g, gates * h, h, scale=0.5),
        "b_ih": randn(g, gates * h),
        "b_hh": randn(g, gates * h),
    }


def lstm_inputs(g: torch.Generator) -> list[dict]:
    return [_cell_case(g, 4, 3, 5, 4, 1.0), _cell_case(g, 4, 1, 2, 6, 1.0), _cell_case(g, 4, 4, 3, 3, 5.0)]


def gru_inputs(g: torch.Generator) -> list[dict]:
    return [_cell_case(g, 3, 3, 5, 4, 1.0), _cell_case(g, 3, 1, 2, 6, 1.0), _cell_case(g, 3, 4, 3, 3, 5.0)]


@probe(lstm_inputs, label="lstm_cell", forbidden_ops=("unsafe_split", "_thnn_fused_lstm_cell"), forbidden_names=("lstm_cell", "LSTMCell", "LSTM", "_VF", "lstm"))
def lstm_cell(fn: Callable, cases: list[dict]) -> list[Any]:
    return [attempt(fn, c["x"], c["h"], c["c"], c["W_ih"], c["W_hh"], c["b_ih"], c["b_hh"]) for c in cases]


@probe(gru_inputs, label="gru_cell", forbidden_ops=("unsafe_split", "_thnn_fused_gru_cell"), forbidden_names=("gru_cell", "GRUCell", "GRU", "_VF", "gru"))
def gru_cell(fn: Callable, cases: list[dict]) -> list[Any]:
    return [attempt(fn, c["x"], c["h"], c["W_ih"], c["W_hh"], c["b_ih"], c["b_hh"]) for c in cases]


def _conv_case(g: torch.Generator, x_shape, w_shape, bias: bool, stride: int, padding: int) -> dict:
    return {"x": randn(g, *x_shape), "weight": randn(g, *w_shape), "bias": randn(g, w_shape[0]) if bias else None, "stride": stride, "padding": padding}


def conv_inputs(g: torch.Generator) -> list[dict]:
    return [
        _conv_case(g, (2, 3, 7, 6), (4, 3, 3, 3), True, 1, 0),
        _conv_case(g, (1, 1, 5, 5), (2, 1, 2, 2), False, 1, 0),
        _conv_case(g, (3, 2, 6, 8), (3, 2, 2, 3), True, 1, 0),
        _conv_case(g, (1, 4, 4, 4), (1, 4, 1, 1), True, 1, 0),
    ]


def conv_stride_padding_inputs(g: torch.Generator) -> list[dict]:
    return [
        _conv_case(g, (2, 3, 7, 7), (4, 3, 3, 3), True, 2, 1),
        _conv_case(g, (1, 2, 8, 9), (2, 2, 3, 3), True, 3, 0),
        _conv_case(g, (2, 1, 6, 5), (3, 1, 5, 5), False, 1, 2),
        _conv_case(g, (1, 3, 9, 7), (2, 3, 2, 3), True, 2, 2),
    ]


def _run_conv(fn: Callable, cases: list[dict]) -> list[Any]:
    return [attempt(fn, c["x"], c["weight"], c["bias"], stride=c["stride"], padding=c["padding"]) for c in cases]


CONV_OPS = ("convolution.*", "_convolution.*", "conv2d.*", "mkldnn_convolution", "_slow_conv2d.*", "thnn_conv2d.*", "conv_depthwise2d.*", "_nnpack_spatial_convolution.*")
CONV_NAMES = ("conv2d", "Conv2d", "convolution", "_conv_forward")
conv2d = probe(conv_inputs, label="conv2d", forbidden_ops=CONV_OPS, forbidden_names=CONV_NAMES, name="conv2d")(_run_conv)
conv2d_stride_padding = probe(conv_stride_padding_inputs, label="conv2d (stride, padding)", forbidden_ops=CONV_OPS, forbidden_names=CONV_NAMES, name="conv2d_stride_padding")(_run_conv)


# -- interview answers: recorded as given, judged against the key in autograde.judge ------------

q1_reverse_order, q2_backward_cost, q3_df_da = answer_probes(__name__, "q1_reverse_order", "q2_backward_cost", "q3_df_da")
q1_max_subtraction, q2_initial_loss, q3_gradient_fan_out = answer_probes(__name__, "q1_max_subtraction", "q2_initial_loss", "q3_gradient_fan_out")
q1_adamw, q2_lr_at_550, q3_warmup = answer_probes(__name__, "q1_adamw", "q2_lr_at_550", "q3_warmup")
q1_layernorm, q2_lstm, q3_transformer = answer_probes(__name__, "q1_layernorm", "q2_lstm", "q3_transformer")
