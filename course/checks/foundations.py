"""Visible checks for module 01, foundations.

Each check runs the student's code on small fixed inputs, compares with PyTorch
or a closed form, and names the likely mistake when something is off.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch

from course.checks import call, check_choice, check_number, expect_close, expect_tensor, fail, fixed, is_close, passed  # noqa: F401 - notebooks call checks.check_choice

# -- notebook 1: scalar autograd ------------------------------------------------------------

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
    ("(b * 300).sigmoid()", lambda a, b: (b * 300).sigmoid(), "math.exp overflows above ~709: for negative x use exp(x) / (1 + exp(x))"),
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
            fail(f"`{expr}` with a = {A}, b = {B} gives {out.data:.6g}, expected {expected:.6g}" + (f": {hint}" if hint else ""))
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
            fail(f"after ({expr}).backward() every gradient is still 0: set the output's grad to 1 and call each node's _backward")
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
    ("a * a", lambda a, b: a * a, "a is used twice and must receive both contributions: accumulate with +=, never assign"),
    ("a + a", lambda a, b: a + a, "a is used twice and must receive both contributions: accumulate with +=, never assign"),
    ("d = a * b; d + d.exp()", lambda a, b: (lambda d: d + d.exp())(a * b), "d feeds two nodes: it must collect both gradients before passing them on"),
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
                fail(f"in `{expr}`, d out/d{name} = {leaf.grad:.6g}, PyTorch says {expected:.6g}" + (f": {hint}" if hint else ""))
    x = Value(0.5)
    out = x
    for _ in range(300):
        out = out * 1.001 + 0.001
    try:
        call(out.backward)
    except RecursionError:
        fail("backward() hit Python's recursion limit on a chain of 600 nodes: build the topological order with an explicit stack")
    if not is_close(x.grad, 1.001**300, rtol=1e-9):
        fail(f"on a chain of 600 nodes, d out/dx = {x.grad:.6g}, expected {1.001 ** 300:.6g}")
    passed("Value graphs: shared nodes, diamonds and a 600-node chain agree with PyTorch")


# -- notebook 2: matrix backprop ---------------------------------------------------------------


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


def _ce_reference(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    z = logits.detach().double().requires_grad_()
    loss = torch.nn.functional.cross_entropy(z, targets)
    loss.backward()
    return loss.detach(), z.grad


def _check_ce(softmax_cross_entropy: Callable, logits: torch.Tensor, targets: torch.Tensor, what: str) -> None:
    result = call(softmax_cross_entropy, logits.clone(), targets.clone())
    if not isinstance(result, tuple) or len(result) != 2:
        fail("softmax_cross_entropy must return a tuple (loss, dlogits)")
    loss, dlogits = result
    ref_loss, ref_grad = _ce_reference(logits, targets)
    n = logits.shape[0]
    expect_tensor(loss, f"the loss ({what})", ())
    expect_tensor(dlogits, f"dlogits ({what})", logits.shape)
    if is_close(loss, ref_loss * n, rtol=1e-4):
        fail("the loss is summed over the batch; it must be the mean")
    expect_close(loss, ref_loss, f"the loss ({what})", "loss = mean over the batch of logsumexp(row) - row[target]", rtol=1e-4, atol=1e-5)
    if is_close(dlogits, ref_grad * n, rtol=1e-4, atol=1e-6):
        fail("dlogits is missing the 1/N of the mean")
    expect_close(dlogits, ref_grad, f"dlogits ({what})", "dlogits = (softmax - one_hot(targets)) / N", rtol=1e-4, atol=1e-6)


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
        fail("NaN or inf for logits of size 1e4: subtract each row's maximum before exp, and never take log of a probability that can be 0")
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


def _gelu_tanh_ref(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.gelu(x, approximate="tanh")


def check_gelu(gelu: Callable) -> None:
    _check_activation(gelu, "gelu", torch.nn.functional.gelu, {
        "the tanh approximation; this exercise wants the exact erf form": _gelu_tanh_ref,
        "x * sigmoid(x) (that is SiLU)": torch.nn.functional.silu,
        "x * sigmoid(1.702 x), another approximation; use erf": lambda x: x * torch.sigmoid(1.702 * x),
        "x * erf(x / sqrt 2): Phi(x) is (1 + erf(x / sqrt 2)) / 2": lambda x: x * torch.erf(x / math.sqrt(2)),
    })


def check_gelu_tanh(gelu_tanh: Callable) -> None:
    _check_activation(gelu_tanh, "gelu_tanh", _gelu_tanh_ref, {
        "the exact erf GELU; this one is the tanh approximation": torch.nn.functional.gelu,
        "the approximation without the 0.044715 x³ term": lambda x: 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * x)),
        "the approximation with sqrt(pi / 2) instead of sqrt(2 / pi)": lambda x: 0.5 * x * (1 + torch.tanh(math.sqrt(math.pi / 2) * (x + 0.044715 * x**3))),
    })


def check_silu(silu: Callable) -> None:
    _check_activation(silu, "silu", torch.nn.functional.silu, {
        "sigmoid(x) alone; SiLU multiplies it by x": torch.sigmoid,
        "x * sigmoid(-x): the sign inside the sigmoid is flipped": lambda x: x * torch.sigmoid(-x),
    })


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
    expect_close(g, central, "numerical_gradient(f, x, eps=1e-2)", "perturb one entry at a time: (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)", rtol=1e-6, atol=1e-9)
    g = expect_tensor(call(numerical_gradient, lambda t: float((t.sin() * t).sum()), x), "numerical_gradient(f, x)", x.shape)
    expect_close(g, x64.sin() + x64 * x64.cos(), "numerical_gradient with the default eps", "evaluate f on a float64 copy of x so that x + 1e-6 is accurate", rtol=1e-6, atol=1e-7)
    passed("numerical_gradient: central differences in float64, x left unchanged")


# -- notebook 3: optimizers -------------------------------------------------------------------


def _parameters(seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(3, 2, generator=g, dtype=torch.float64).requires_grad_(), torch.randn(2, generator=g, dtype=torch.float64).requires_grad_()]


def _gradients(steps: int, seed: int = 1, scale: float = 1.0) -> list[list[torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    return [[scale * torch.randn(3, 2, generator=g, dtype=torch.float64), scale * torch.randn(2, generator=g, dtype=torch.float64)] for _ in range(steps)]


def _trajectory(make: Callable, params: list[torch.Tensor], grads: list[list[torch.Tensor]]) -> list[torch.Tensor]:
    """Run an optimizer over fixed gradients; the parameters after each step, flattened."""
    optimizer = call(make, params)
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


def _check_in_place(optimizer_class: type, name: str, **kwargs: Any) -> None:
    params = _parameters()
    before = [p.detach().clone() for p in params]
    optimizer = call(optimizer_class, params, **kwargs)
    for p in params:
        p.grad = torch.ones_like(p)
    call(optimizer.step)
    if all(torch.equal(p.detach(), b) for p, b in zip(params, before)):
        fail(f"{name}.step() did not change the parameters: update them in place (p.sub_(...)), do not rebind them")
    call(optimizer.zero_grad)
    if any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in params):
        fail(f"{name}.zero_grad() must clear every parameter's gradient (set .grad to None)")


def check_sgd(SGD: type) -> None:
    _check_in_place(SGD, "SGD", lr=0.1)
    for kwargs, hint in [
        ({"lr": 0.1}, "plain SGD is p -= lr * grad"),
        ({"lr": 0.1, "momentum": 0.9}, "the buffer starts as the first gradient, then b = momentum * b + g (no 1 - momentum factor)"),
        ({"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1}, "weight decay is added to the gradient before the momentum buffer: g = grad + weight_decay * p"),
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
        ({"lr": 1e-2, "weight_decay": 0.5}, 1.0, "decay the weights directly, p -= lr * weight_decay * p, before the Adam step; do not add it to the gradient"),
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
    params = [torch.randn(4, 3, generator=g, dtype=torch.float64).requires_grad_(), torch.zeros(3, dtype=torch.float64, requires_grad=True)]
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
        fail(f"after one step the weight matrix moved by {moved[0].norm().item():.4g}; with the trust ratio ||p|| / ||u|| it moves by exactly lr * ||p|| = {expected.item():.4g}")
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
        (60, 0.55, "half-way through the decay the rate is (max_lr + min_lr) / 2: the cosine runs over total_steps - warmup_steps"),
        (110, 0.1, "at total_steps the rate is min_lr"),
        (500, 0.1, "after total_steps the rate stays at min_lr"),
    ]
    for step, expected, hint in cases:
        got = call(cosine_lr, step, **kwargs)
        if not is_close(got, expected, rtol=1e-9, atol=1e-12):
            fail(f"cosine_lr(step={step}, max_lr=1, min_lr=0.1, warmup_steps=10, total_steps=110) = {got}, expected {expected}: {hint}")
    if not is_close(call(cosine_lr, 25, 1.0, 0.0, 0, 100), 0.5 * (1 + math.cos(math.pi * 0.25))):
        fail("with warmup_steps=0 there is no warmup: the cosine starts at step 0")
    passed("cosine_lr: linear warmup from 0, cosine to min_lr, constant afterwards")


def check_clip_grad_norm(clip_grad_norm: Callable) -> None:
    for max_norm, hint in [(1.0, "scale every gradient by max_norm / (total_norm + 1e-6) when total_norm > max_norm"), (100.0, "leave the gradients unchanged when their norm is below max_norm")]:
        g = torch.Generator().manual_seed(4)
        mine = [torch.zeros(3, 2, dtype=torch.float64, requires_grad=True) for _ in range(3)]
        theirs = [torch.zeros(3, 2, dtype=torch.float64, requires_grad=True) for _ in range(3)]
        for a, b, scale in zip(mine, theirs, (1.0, 5.0, 0.0)):
            grad = scale * torch.randn(3, 2, generator=g, dtype=torch.float64)
            a.grad, b.grad = grad.clone(), grad.clone()
        mine[2].grad = theirs[2].grad = None  # a parameter without gradient is skipped
        norm = call(clip_grad_norm, mine, max_norm)
        ref = torch.nn.utils.clip_grad_norm_(theirs, max_norm)
        if not is_close(norm, ref, rtol=1e-7):
            fail(f"returned norm {float(norm):.6g}, expected the global norm before clipping, {ref.item():.6g}: sqrt of the sum of all squared gradient entries")
        for a, b in zip(mine[:2], theirs[:2]):
            if not is_close(a.grad, b.grad, rtol=1e-7, atol=1e-12):
                per_tensor = all(is_close(x.grad.norm(), max_norm, rtol=1e-4) for x in mine[:2])
                fail("each tensor was clipped separately; use one factor for all, from the global norm" if per_tensor else hint)
    passed("clip_grad_norm matches torch.nn.utils.clip_grad_norm_")


# -- notebook 4: normalization, recurrent cells, convolution ------------------------------------


def check_layer_norm(layer_norm: Callable) -> None:
    x = fixed(3, 6, seed=6, scale=3.0) + 2.0
    weight, bias = fixed(6, seed=7), fixed(6, seed=8)
    y = expect_tensor(call(layer_norm, x, weight, bias), "layer_norm(x, weight, bias)", x.shape)
    expected = torch.nn.functional.layer_norm(x, (6,), weight, bias)
    if not is_close(y, expected, rtol=1e-6, atol=1e-7):
        var = x.var(dim=-1, keepdim=True)  # unbiased
        if is_close(y, (x - x.mean(-1, keepdim=True)) / torch.sqrt(var + 1e-5) * weight + bias, rtol=1e-6):
            fail("layer_norm uses the unbiased variance (divide by D - 1); LayerNorm divides by D (unbiased=False)")
        if is_close(y, torch.nn.functional.layer_norm(x.T, (3,)).T * weight + bias, rtol=1e-6):
            fail("layer_norm normalizes over the batch dimension; normalize each example over its last dimension")
        expect_close(y, expected, "layer_norm(x, weight, bias)", "(x - mean) / sqrt(var + eps) * weight + bias, statistics over the last dimension", rtol=1e-6, atol=1e-7)
    y = call(layer_norm, x, weight, bias, eps=10.0)
    expect_close(y, torch.nn.functional.layer_norm(x, (6,), weight, bias, eps=10.0), "layer_norm with eps=10", "eps goes inside the square root and must be the argument you receive", rtol=1e-6, atol=1e-7)
    passed("layer_norm matches torch.nn.functional.layer_norm")


def _bn_inputs(shape: tuple[int, ...], seed: int) -> dict[str, torch.Tensor]:
    c = shape[1]
    return {
        "x": fixed(*shape, seed=seed, scale=2.0) + 1.0,
        "weight": fixed(c, seed=seed + 1),
        "bias": fixed(c, seed=seed + 2),
        "running_mean": fixed(c, seed=seed + 3),
        "running_var": fixed(c, seed=seed + 4).abs() + 0.5,
    }


def check_batch_norm_train(batch_norm: Callable) -> None:
    momentum = 0.2
    for shape, what in (((8, 3), "(N, C)"), ((4, 3, 5), "(N, C, L)")):
        mine, ref, start = _bn_inputs(shape, 10), _bn_inputs(shape, 10), _bn_inputs(shape, 10)
        y = call(batch_norm, mine["x"], mine["weight"], mine["bias"], mine["running_mean"], mine["running_var"], True, momentum=momentum)
        expected = torch.nn.functional.batch_norm(ref["x"], ref["running_mean"], ref["running_var"], ref["weight"], ref["bias"], training=True, momentum=momentum)
        expect_tensor(y, f"batch_norm output for {what}", shape)
        expect_close(y, expected, f"batch_norm output for {what}", "normalize each channel with statistics over every dimension except 1, biased variance", rtol=1e-6, atol=1e-7)
        values = start["x"].transpose(0, 1).reshape(shape[1], -1)  # (C, n): every value of each channel
        if torch.equal(mine["running_mean"], start["running_mean"]):
            fail("running_mean was not updated in place: running_mean.mul_(1 - momentum).add_(momentum * batch_mean)")
        if is_close(mine["running_mean"], momentum * start["running_mean"] + (1 - momentum) * values.mean(1)):
            fail("the momentum weights are swapped: new = (1 - momentum) * running + momentum * batch")
        expect_close(mine["running_mean"], ref["running_mean"], f"running_mean after a {what} batch", "running = (1 - momentum) * running + momentum * batch_mean", rtol=1e-6, atol=1e-8)
        if is_close(mine["running_var"], (1 - momentum) * start["running_var"] + momentum * values.var(1, unbiased=False)):
            fail(f"running_var uses the biased variance; the running estimate uses the unbiased one (times n / (n - 1), n = {values.shape[1]})")
        expect_close(mine["running_var"], ref["running_var"], f"running_var after a {what} batch", "running = (1 - momentum) * running + momentum * unbiased batch variance", rtol=1e-6, atol=1e-8)
    passed("batch_norm (training): output and in-place running statistics match PyTorch for (N, C) and (N, C, L)")


def check_batch_norm_eval(batch_norm: Callable) -> None:
    mine, ref = _bn_inputs((6, 4, 3), 20), _bn_inputs((6, 4, 3), 20)
    y = call(batch_norm, mine["x"], mine["weight"], mine["bias"], mine["running_mean"], mine["running_var"], False)
    expected = torch.nn.functional.batch_norm(ref["x"], ref["running_mean"], ref["running_var"], ref["weight"], ref["bias"], training=False)
    if not is_close(mine["running_mean"], ref["running_mean"]) or not is_close(mine["running_var"], ref["running_var"]):
        fail("with training=False the running statistics must not change")
    expect_close(y, expected, "batch_norm output with training=False", "normalize with running_mean and running_var, not the batch's statistics", rtol=1e-6, atol=1e-7)
    passed("batch_norm (inference): uses and keeps the running statistics")


def _cell_weights(gates: int, d: int, h: int, seed: int) -> list[torch.Tensor]:
    return [fixed(gates * h, d, seed=seed), fixed(gates * h, h, seed=seed + 1), fixed(gates * h, seed=seed + 2), fixed(gates * h, seed=seed + 3)]


def check_lstm_cell(lstm_cell: Callable) -> None:
    b, d, h = 3, 4, 5
    x, h0, c0 = fixed(b, d, seed=30), fixed(b, h, seed=31), fixed(b, h, seed=32)
    W_ih, W_hh, b_ih, b_hh = _cell_weights(4, d, h, 33)
    result = call(lstm_cell, x, h0, c0, W_ih, W_hh, b_ih, b_hh)
    if not isinstance(result, tuple) or len(result) != 2:
        fail("lstm_cell must return a tuple (h_next, c_next)")
    h1, c1 = result
    ref_h, ref_c = torch.lstm_cell(x, (h0, c0), W_ih, W_hh, b_ih, b_hh)
    expect_tensor(h1, "h_next", (b, h))
    expect_tensor(c1, "c_next", (b, h))
    if not is_close(c1, ref_c, rtol=1e-6):
        i, f, g, o = (x @ W_ih.T + b_ih + h0 @ W_hh.T + b_hh).chunk(4, dim=1)
        if is_close(c1, torch.sigmoid(f) * c0 + torch.sigmoid(i) * torch.tanh(o), rtol=1e-6):
            fail("the gate order looks like i, f, o, g; PyTorch's is i, f, g, o")
        fail("c_next differs from torch.nn.LSTMCell: c' = sigmoid(f) * c + sigmoid(i) * tanh(g), gates in the order i, f, g, o")
    if is_close(h1, torch.sigmoid((x @ W_ih.T + b_ih + h0 @ W_hh.T + b_hh).chunk(4, dim=1)[3]) * ref_c, rtol=1e-6):
        fail("h_next = sigmoid(o) * tanh(c_next): the tanh is missing")
    expect_close(h1, ref_h, "h_next", "h' = sigmoid(o) * tanh(c')", rtol=1e-6)
    passed("lstm_cell matches torch.nn.LSTMCell")


def check_gru_cell(gru_cell: Callable) -> None:
    b, d, h = 3, 4, 5
    x, h0 = fixed(b, d, seed=40), fixed(b, h, seed=41)
    W_ih, W_hh, b_ih, b_hh = _cell_weights(3, d, h, 42)
    h1 = expect_tensor(call(gru_cell, x, h0, W_ih, W_hh, b_ih, b_hh), "gru_cell(...)", (b, h))
    ref = torch.gru_cell(x, h0, W_ih, W_hh, b_ih, b_hh)
    if not is_close(h1, ref, rtol=1e-6):
        # The two classic mistakes, as PyTorch's own cell with altered weights: negating the z rows turns z into 1 - z;
        # moving b_hn into b_in takes the bias out of the reset gate's product.
        z_rows = slice(h, 2 * h)
        flipped = [t.clone() for t in (W_ih, W_hh, b_ih, b_hh)]
        for t in flipped:
            t[z_rows] *= -1
        if is_close(h1, torch.gru_cell(x, h0, *flipped), rtol=1e-6):
            fail("z and 1 - z are swapped: in PyTorch h' = (1 - z) * n + z * h")
        n_rows = slice(2 * h, 3 * h)
        moved_ih, moved_hh = b_ih.clone(), b_hh.clone()
        moved_ih[n_rows] += b_hh[n_rows]
        moved_hh[n_rows] = 0
        if is_close(h1, torch.gru_cell(x, h0, W_ih, W_hh, moved_ih, moved_hh), rtol=1e-6):
            fail("the reset gate must multiply h @ W_hn.T + b_hn including the bias b_hn (PyTorch's variant)")
        fail("h_next differs from torch.nn.GRUCell: gates in the order r, z, n, see the formulas above")
    passed("gru_cell matches torch.nn.GRUCell")


def _check_conv(conv2d: Callable, shape: tuple[int, ...], kernel: tuple[int, ...], stride: int, padding: int, with_bias: bool, what: str) -> None:
    x = fixed(*shape, seed=50)
    weight = fixed(*kernel, seed=51)
    bias = fixed(kernel[0], seed=52) if with_bias else None
    out = call(conv2d, x, weight, bias, stride=stride, padding=padding)
    expected = torch.nn.functional.conv2d(x, weight, bias, stride=stride, padding=padding)
    if isinstance(out, torch.Tensor) and out.shape != expected.shape:
        fail(f"conv2d {what}: output shape {tuple(out.shape)}, expected {tuple(expected.shape)}: H_out = (H + 2 padding - k) // stride + 1")
    expect_tensor(out, f"conv2d {what}", expected.shape)
    if not is_close(out, expected, rtol=1e-6, atol=1e-8):
        flipped = torch.nn.functional.conv2d(x, weight.flip(2, 3), bias, stride=stride, padding=padding)
        if is_close(out, flipped, rtol=1e-6, atol=1e-8):
            fail(f"conv2d {what}: the kernel is flipped (true convolution); PyTorch computes a cross-correlation")
        expect_close(out, expected, f"conv2d {what}", "out[n, o, i, j] = b[o] + sum over c, u, v of x_pad[n, c, i*s + u, j*s + v] * w[o, c, u, v]", rtol=1e-6, atol=1e-8)


def check_conv2d(conv2d: Callable) -> None:
    _check_conv(conv2d, (2, 3, 6, 7), (4, 3, 3, 2), 1, 0, True, "(2x3x6x7 input, 3x2 kernel)")
    _check_conv(conv2d, (1, 2, 5, 5), (3, 2, 2, 2), 1, 0, False, "without bias")
    passed("conv2d matches torch.nn.functional.conv2d")


def check_conv2d_stride_padding(conv2d: Callable) -> None:
    _check_conv(conv2d, (2, 2, 7, 6), (3, 2, 3, 3), 2, 1, True, "with stride=2, padding=1")
    _check_conv(conv2d, (1, 1, 8, 9), (2, 1, 3, 3), 3, 0, True, "with stride=3")
    passed("conv2d with stride and padding matches PyTorch")


# -- interview answers ------------------------------------------------------------------------
