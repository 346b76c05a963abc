"""Plausible wrong implementations of 02_backprop_mlp.ipynb: each must be rejected by its exercise's
grade cells, and by the hidden tests alone. Keys are solution cells' grade_ids."""

from tests.mutants import Mutant

MUTANTS: dict[str, list[Mutant]] = {
    "linear_forward": [
        Mutant("multiplies by W instead of W.T", "return x @ W.T + b", "return x @ W + b"),
        Mutant("forgets the bias", "return x @ W.T + b", "return x @ W.T", hint="linear_forward ignores the bias b"),
        Mutant("broadcasts the bias along the batch axis", "return x @ W.T + b", "return x @ W.T + b[:, None]"),
        Mutant("calls torch.nn.functional.linear", "return x @ W.T + b", "return torch.nn.functional.linear(x, W, b)"),
    ],
    "linear_backward": [
        Mutant(
            "dW in the (d_in, d_out) layout",
            "return dout @ W, dout.T @ x, dout.sum(dim=0)",
            "return dout @ W, x.T @ dout, dout.sum(dim=0)",
            hint="it must have W's shape (d_out, d_in)",
        ),
        Mutant(
            "db averages over the batch",
            "return dout @ W, dout.T @ x, dout.sum(dim=0)",
            "return dout @ W, dout.T @ x, dout.mean(dim=0)",
            hint="db averages over the batch",
        ),
        Mutant(
            "dx multiplies by W.T",
            "return dout @ W, dout.T @ x, dout.sum(dim=0)",
            "return dout @ W.T, dout.T @ x, dout.sum(dim=0)",
        ),
        Mutant(
            "asks autograd for the gradients",
            None,
            "def linear_backward(dout, x, W):\n"
            "    with torch.enable_grad():\n"
            "        x, W = x.clone().requires_grad_(), W.clone().requires_grad_()\n"
            "        b = torch.zeros(W.shape[0], dtype=W.dtype, requires_grad=True)\n"
            "        return torch.autograd.grad((x @ W.T + b) * dout, (x, W, b), torch.ones_like(dout))\n",
        ),
    ],
    "relu_backward": [
        Mutant(
            "passes the gradient at exactly 0",
            "return dout * (x > 0).to(dout.dtype)",
            "return dout * (x >= 0).to(dout.dtype)",
            hint="the gradient at exactly x = 0 must be 0",
        ),
        Mutant(
            "returns the mask without dout",
            "return dout * (x > 0).to(dout.dtype)",
            "return (x > 0).to(dout.dtype)",
            hint="relu_backward returns the mask only",
        ),
        Mutant(
            "masks with dout instead of x",
            "return dout * (x > 0).to(dout.dtype)",
            "return dout * (dout > 0).to(dout.dtype)",
        ),
    ],
    "softmax_cross_entropy": [
        Mutant(
            "no max subtraction: overflows for large logits",
            "shifted = logits - logits.max(dim=1, keepdim=True).values",
            "shifted = logits",
            hint="subtract each row's maximum before exp",
        ),
        Mutant(
            "log of softmax probabilities, which underflow to 0",
            "log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()",
            "log_probs = (shifted.exp() / shifted.exp().sum(dim=1, keepdim=True)).log()",
        ),
        Mutant(
            "loss summed over the batch",
            "loss = -log_probs[rows, targets].mean()",
            "loss = -log_probs[rows, targets].sum()",
            hint="the loss is summed over the batch",
        ),
        Mutant(
            "gradient not divided by N",
            "return loss, dlogits / n",
            "return loss, dlogits",
            hint="dlogits is missing the 1/N of the mean",
        ),
        Mutant("gradient forgets to subtract the one-hot targets", "    dlogits[rows, targets] -= 1\n", ""),
        Mutant(
            "calls torch.nn.functional.cross_entropy for the loss",
            "loss = -log_probs[rows, targets].mean()",
            "loss = torch.nn.functional.cross_entropy(logits, targets)",
        ),
    ],
    "gelu": [
        Mutant(
            "the tanh approximation",
            "return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))",
            "return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))",
            hint="gelu computes the tanh approximation",
        ),
        Mutant(
            "the sigmoid approximation x sigma(1.702 x)",
            "return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))",
            "return x * torch.sigmoid(1.702 * x)",
            hint="gelu computes x * sigmoid(1.702 x)",
        ),
        Mutant(
            "x erf(x / sqrt 2) without the 1/2 (1 + .)",
            "return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))",
            "return x * torch.erf(x / math.sqrt(2.0))",
            hint="gelu computes x * erf(x / sqrt 2)",
        ),
        Mutant(
            "casts to float32",
            "return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))",
            "x = x.float()\n    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))",
            hint="keep the input's dtype",
        ),
        Mutant(
            "calls torch.nn.functional.gelu",
            "return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))",
            "return torch.nn.functional.gelu(x)",
        ),
    ],
    "gelu_tanh": [
        Mutant("no cubic term", "(x + 0.044715 * x**3)", "x", hint="without the 0.044715 x³ term"),
        Mutant(
            "sqrt(pi / 2) instead of sqrt(2 / pi)",
            "math.sqrt(2.0 / math.pi)",
            "math.sqrt(math.pi / 2.0)",
            hint="with sqrt(pi / 2) instead of sqrt(2 / pi)",
        ),
        Mutant("x squared instead of cubed", "0.044715 * x**3", "0.044715 * x**2"),
        Mutant(
            "the exact erf form",
            "return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))",
            "return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))",
            hint="gelu_tanh computes the exact erf GELU",
        ),
    ],
    "silu": [
        Mutant(
            "sigmoid alone",
            "return x * torch.sigmoid(x)",
            "return torch.sigmoid(x)",
            hint="silu computes sigmoid(x) alone",
        ),
        Mutant(
            "sign flipped inside the sigmoid",
            "return x * torch.sigmoid(x)",
            "return x * torch.sigmoid(-x)",
            hint="the sign inside the sigmoid is flipped",
        ),
        Mutant(
            "x e^x / (1 + e^x), which overflows",
            "return x * torch.sigmoid(x)",
            "return x * torch.exp(x) / (1 + torch.exp(x))",
            hint="numerically unstable (exp of a large number",
        ),
        Mutant("calls torch.nn.functional.silu", "return x * torch.sigmoid(x)", "return torch.nn.functional.silu(x)"),
    ],
    "numerical_gradient": [
        Mutant(
            "forward difference",
            "flat_grad[i] = (f_plus - f_minus) / (2 * eps)",
            "flat_grad[i] = (f_plus - float(f(point))) / eps",
            hint="this is the forward difference",
        ),
        Mutant(
            "evaluates f in the input's dtype",
            "point = x.detach().to(torch.float64).clone()",
            "point = x.detach().clone()",
            hint="it must be float64",
        ),
        Mutant(
            "does not restore the perturbed entry", "        flat[i] = original\n        flat_grad", "        flat_grad"
        ),
        Mutant(
            "ignores eps",
            "    point = x.detach()",
            "    eps = 1e-6\n    point = x.detach()",
            hint="the result ignores eps",
        ),
        Mutant(
            "perturbs every entry at once",
            None,
            "def numerical_gradient(f, x, eps=1e-6):\n"
            "    point = x.detach().to(torch.float64)\n"
            "    slope = (float(f(point + eps)) - float(f(point - eps))) / (2 * eps)\n"
            "    return torch.full_like(point, slope)\n",
            hint="perturb one entry at a time",
        ),
    ],
    "interview_answers": [
        Mutant(
            "Q1: the loss of the largest logit's class",
            "torch.tensor([[1000.0, 1001.0, 1002.0]]), torch.tensor([0])",
            "torch.tensor([[1000.0, 1001.0, 1002.0]]), torch.tensor([2])",
        ),
        Mutant(
            "Q1: the probability instead of the loss",
            "torch.tensor([[1000.0, 1001.0, 1002.0]]), torch.tensor([0]))[0].item()",
            "torch.tensor([[1000.0, 1001.0, 1002.0]]), torch.tensor([0]))[0].neg().exp().item()",
        ),
        Mutant(
            "Q2: the printed 3-class value",
            "q2_initial_loss = softmax_cross_entropy(torch.zeros(4, 10), torch.tensor([0, 3, 7, 9]))[0].item()",
            "q2_initial_loss = 1.10",
        ),
        Mutant(
            "Q2: a probability instead of a loss",
            "q2_initial_loss = softmax_cross_entropy(torch.zeros(4, 10), torch.tensor([0, 3, 7, 9]))[0].item()",
            "q2_initial_loss = 0.1",
        ),
        Mutant(
            "Q2: base-10 logarithm",
            "q2_initial_loss = softmax_cross_entropy(torch.zeros(4, 10), torch.tensor([0, 3, 7, 9]))[0].item()",
            "q2_initial_loss = 1.0",
        ),
        Mutant(
            "Q3: averaged",
            "q3_gradient_fan_out = (dh_first + dh_second)[0, 0].item()",
            "q3_gradient_fan_out = ((dh_first + dh_second) / 2)[0, 0].item()",
        ),
        Mutant(
            "Q3: overwritten by the last layer",
            "q3_gradient_fan_out = (dh_first + dh_second)[0, 0].item()",
            "q3_gradient_fan_out = dh_second[0, 0].item()",
        ),
    ],
}
