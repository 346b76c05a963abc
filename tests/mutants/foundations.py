"""Plausible wrong implementations of module 01's exercises.

MUTANTS maps a notebook and a solution cell's grade_id to mutants of its
reference solution. Each one must be rejected by the exercise's grade cells,
and by the hidden tests alone.
"""

from tests.helpers import Mutant

BFS_BACKWARD = '''        self.grad = 1.0
        queue, seen = [self], {id(self)}
        while queue:
            node = queue.pop(0)
            node._backward()
            for child in node._prev:
                if id(child) not in seen:
                    seen.add(id(child))
                    queue.append(child)
'''

MUTANTS: dict[str, dict[str, list[Mutant]]] = {}

MUTANTS["01_autograd.ipynb"] = {
    "value": [
        Mutant("tanh derivative 1 - t instead of 1 - t**2", "self.grad += (1 - out.data**2) * out.grad", "self.grad += (1 - out.data) * out.grad"),
        Mutant("addition assigns gradients instead of accumulating", "self.grad += out.grad\n            other.grad += out.grad", "self.grad = out.grad\n            other.grad = out.grad"),
        Mutant("multiplication assigns gradients instead of accumulating", "self.grad += other.data * out.grad\n            other.grad += self.data * out.grad", "self.grad = other.data * out.grad\n            other.grad = self.data * out.grad"),
        Mutant("reflected subtraction computes self - other", "return (-self) + other", "return self - other"),
        Mutant("reflected division computes self / other", "return self**-1 * other", "return self / other"),
        Mutant("power rule without the -1", "self.grad += k * self.data ** (k - 1) * out.grad", "self.grad += k * self.data**k * out.grad"),
        Mutant("relu derivative 1 at exactly 0", "self.grad += (self.data > 0) * out.grad", "self.grad += (self.data >= 0) * out.grad"),
        Mutant("sigmoid derivative s instead of s(1 - s)", "self.grad += s * (1 - s) * out.grad", "self.grad += s * out.grad"),
        Mutant("log derivative without the chain rule", "self.grad += out.grad / self.data", "self.grad += 1 / self.data"),
        Mutant("multiplication uses its own value as the local derivative", "self.grad += other.data * out.grad", "self.grad += self.data * out.grad"),
        Mutant("sigmoid overflows for large negative inputs", "s = 1 / (1 + math.exp(-self.data)) if self.data >= 0 else math.exp(self.data) / (1 + math.exp(self.data))", "s = 1 / (1 + math.exp(-self.data))"),
        Mutant("backward walks the nodes in creation order", "for node in reversed(order):", "for node in order:"),
        Mutant(
            "backward walks breadth-first instead of in topological order",
            "        order, visited = [], set()",
            BFS_BACKWARD + "        return\n        order, visited = [], set()",
        ),
    ],
    "interview_answers": [
        Mutant("Q1: any visiting order", 'q1_reverse_order = "b"', 'q1_reverse_order = "a"'),
        Mutant("Q1: recursion depth", 'q1_reverse_order = "b"', 'q1_reverse_order = "c"'),
        Mutant("Q2: quadratic cost", 'q2_backward_cost = "a"', 'q2_backward_cost = "b"'),
        Mutant("Q3: forgets the second term", "q3_df_da = -2.0", "q3_df_da = -3.0"),
        Mutant("Q3: a string instead of a number", "q3_df_da = -2.0", 'q3_df_da = "-2"'),
    ],
}

MUTANTS["02_backprop_mlp.ipynb"] = {
    "linear_forward": [
        Mutant("multiplies by W instead of W.T", "return x @ W.T + b", "return x @ W + b"),
        Mutant("forgets the bias", "return x @ W.T + b", "return x @ W.T"),
        Mutant("broadcasts the bias along the batch axis", "return x @ W.T + b", "return x @ W.T + b[:, None]"),
        Mutant("calls torch.nn.functional.linear", "return x @ W.T + b", "return torch.nn.functional.linear(x, W, b)"),
    ],
    "linear_backward": [
        Mutant("dW in the (d_in, d_out) layout", "return dout @ W, dout.T @ x, dout.sum(dim=0)", "return dout @ W, x.T @ dout, dout.sum(dim=0)"),
        Mutant("db averages over the batch", "return dout @ W, dout.T @ x, dout.sum(dim=0)", "return dout @ W, dout.T @ x, dout.mean(dim=0)"),
        Mutant("dx multiplies by W.T", "return dout @ W, dout.T @ x, dout.sum(dim=0)", "return dout @ W.T, dout.T @ x, dout.sum(dim=0)"),
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
        Mutant("passes the gradient at exactly 0", "return dout * (x > 0).to(dout.dtype)", "return dout * (x >= 0).to(dout.dtype)"),
        Mutant("returns the mask without dout", "return dout * (x > 0).to(dout.dtype)", "return (x > 0).to(dout.dtype)"),
        Mutant("masks with dout instead of x", "return dout * (x > 0).to(dout.dtype)", "return dout * (dout > 0).to(dout.dtype)"),
    ],
    "softmax_cross_entropy": [
        Mutant("no max subtraction: overflows for large logits", "shifted = logits - logits.max(dim=1, keepdim=True).values", "shifted = logits"),
        Mutant("log of softmax probabilities, which underflow to 0", "log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()", "log_probs = (shifted.exp() / shifted.exp().sum(dim=1, keepdim=True)).log()"),
        Mutant("loss summed over the batch", "loss = -log_probs[rows, targets].mean()", "loss = -log_probs[rows, targets].sum()"),
        Mutant("gradient not divided by N", "return loss, dlogits / n", "return loss, dlogits"),
        Mutant("gradient forgets to subtract the one-hot targets", "    dlogits[rows, targets] -= 1\n", ""),
        Mutant("calls torch.nn.functional.cross_entropy for the loss", "loss = -log_probs[rows, targets].mean()", "loss = torch.nn.functional.cross_entropy(logits, targets)"),
    ],
    "gelu": [
        Mutant("the tanh approximation", "return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))", "return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))"),
        Mutant("the sigmoid approximation x sigma(1.702 x)", "return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))", "return x * torch.sigmoid(1.702 * x)"),
        Mutant("x erf(x / sqrt 2) without the 1/2 (1 + .)", "return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))", "return x * torch.erf(x / math.sqrt(2.0))"),
        Mutant("casts to float32", "return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))", "x = x.float()\n    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))"),
        Mutant("calls torch.nn.functional.gelu", "return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))", "return torch.nn.functional.gelu(x)"),
    ],
    "gelu_tanh": [
        Mutant("no cubic term", "(x + 0.044715 * x**3)", "x"),
        Mutant("sqrt(pi / 2) instead of sqrt(2 / pi)", "math.sqrt(2.0 / math.pi)", "math.sqrt(math.pi / 2.0)"),
        Mutant("x squared instead of cubed", "0.044715 * x**3", "0.044715 * x**2"),
        Mutant("the exact erf form", "return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))", "return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))"),
    ],
    "silu": [
        Mutant("sigmoid alone", "return x * torch.sigmoid(x)", "return torch.sigmoid(x)"),
        Mutant("sign flipped inside the sigmoid", "return x * torch.sigmoid(x)", "return x * torch.sigmoid(-x)"),
        Mutant("x e^x / (1 + e^x), which overflows", "return x * torch.sigmoid(x)", "return x * torch.exp(x) / (1 + torch.exp(x))"),
        Mutant("calls torch.nn.functional.silu", "return x * torch.sigmoid(x)", "return torch.nn.functional.silu(x)"),
    ],
    "numerical_gradient": [
        Mutant("forward difference", "flat_grad[i] = (f_plus - f_minus) / (2 * eps)", "flat_grad[i] = (f_plus - float(f(point))) / eps"),
        Mutant("evaluates f in the input's dtype", "point = x.detach().to(torch.float64).clone()", "point = x.detach().clone()"),
        Mutant("does not restore the perturbed entry", "        flat[i] = original\n        flat_grad", "        flat_grad"),
        Mutant("ignores eps", "    point = x.detach()", "    eps = 1e-6\n    point = x.detach()"),
        Mutant(
            "perturbs every entry at once",
            None,
            "def numerical_gradient(f, x, eps=1e-6):\n"
            "    point = x.detach().to(torch.float64)\n"
            "    slope = (float(f(point + eps)) - float(f(point - eps))) / (2 * eps)\n"
            "    return torch.full_like(point, slope)\n",
        ),
    ],
    "interview_answers": [
        Mutant("Q1: calibration", 'q1_max_subtraction = "b"', 'q1_max_subtraction = "a"'),
        Mutant("Q2: a probability instead of a loss", "q2_initial_loss = 1.10", "q2_initial_loss = 0.33"),
        Mutant("Q2: log of 10 classes", "q2_initial_loss = 1.10", "q2_initial_loss = 2.30"),
        Mutant("Q3: averaged", 'q3_gradient_fan_out = "b"', 'q3_gradient_fan_out = "a"'),
    ],
}

MUTANTS["03_optimizers.ipynb"] = {
    "SGD": [
        Mutant("momentum as an exponential average, mu b + (1 - mu) g", "self.buffers[i].mul_(self.momentum).add_(g)", "self.buffers[i].mul_(self.momentum).add_((1 - self.momentum) * g)"),
        Mutant("momentum buffer restarted at every step", "                if self.buffers[i] is None:\n                    self.buffers[i] = g.clone()\n                else:\n                    self.buffers[i].mul_(self.momentum).add_(g)\n                g = self.buffers[i]", "                g = g.clone()"),
        Mutant(
            "weight decay applied after the momentum buffer",
            "            g = p.grad + self.weight_decay * p if self.weight_decay else p.grad",
            "            g = p.grad",
        ),
        Mutant("weight decay also moves parameters without gradients", "            if p.grad is None:\n                continue\n            g = p.grad", "            grad = p.grad if p.grad is not None else torch.zeros_like(p)\n            g = grad"),
        Mutant("zero_grad does nothing", "        for p in self.params:\n            p.grad = None", "        pass"),
        Mutant("rebinds the parameter instead of updating it in place", "            p.sub_(self.lr * g)", "            self.params[i] = p - self.lr * g"),
    ],
    "AdamW": [
        Mutant("L2 in the gradient (Adam), not decoupled decay", "            t, g = state[\"step\"], p.grad\n            p.mul_(1 - self.lr * self.weight_decay)", "            t, g = state[\"step\"], p.grad + self.weight_decay * p"),
        Mutant("no bias correction", "            m_hat = state[\"m\"] / (1 - beta1**t)\n            v_hat = state[\"v\"] / (1 - beta2**t)", "            m_hat = state[\"m\"]\n            v_hat = state[\"v\"]"),
        Mutant("eps inside the square root", "p.sub_(self.lr * m_hat / (v_hat.sqrt() + self.eps))", "p.sub_(self.lr * m_hat / (v_hat + self.eps).sqrt())"),
        Mutant("weight decay not scaled by the learning rate", "p.mul_(1 - self.lr * self.weight_decay)", "p.mul_(1 - self.weight_decay)"),
        Mutant(
            "weight decay applied after the Adam step",
            "            p.mul_(1 - self.lr * self.weight_decay)\n",
            "",
        ),
    ],
    "LAMB": [
        Mutant("no trust ratio", "trust = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0", "trust = 1.0"),
        Mutant("trust ratio inverted", "trust = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0", "trust = u_norm / w_norm if w_norm > 0 and u_norm > 0 else 1.0"),
        Mutant("no special case for a zero norm", "trust = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0", "trust = w_norm / u_norm if u_norm > 0 else 1.0"),
        Mutant("weight decay outside the trust ratio", "            update = m_hat / (v_hat.sqrt() + self.eps) + self.weight_decay * p", "            decay = self.weight_decay * p\n            update = m_hat / (v_hat.sqrt() + self.eps)"),
        Mutant(
            "one trust ratio for all tensors together",
            None,
            '''class LAMB:
    def __init__(self, params, lr, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0):
        self.params = list(params)
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.state = [{"step": 0, "m": torch.zeros_like(p), "v": torch.zeros_like(p)} for p in self.params]

    @torch.no_grad()
    def step(self):
        beta1, beta2 = self.betas
        updates = []
        for p, state in zip(self.params, self.state):
            if p.grad is None:
                continue
            state["step"] += 1
            t, g = state["step"], p.grad
            state["m"].mul_(beta1).add_(g, alpha=1 - beta1)
            state["v"].mul_(beta2).addcmul_(g, g, value=1 - beta2)
            m_hat, v_hat = state["m"] / (1 - beta1**t), state["v"] / (1 - beta2**t)
            updates.append((p, m_hat / (v_hat.sqrt() + self.eps) + self.weight_decay * p))
        w_norm = sum(float(p.norm() ** 2) for p, _ in updates) ** 0.5
        u_norm = sum(float(u.norm() ** 2) for _, u in updates) ** 0.5
        trust = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
        for p, u in updates:
            p.sub_(self.lr * trust * u)

    def zero_grad(self):
        for p in self.params:
            p.grad = None
''',
        ),
    ],
    "cosine_lr": [
        Mutant("warmup counts from 1", "return max_lr * step / warmup_steps", "return max_lr * (step + 1) / warmup_steps"),
        Mutant("cosine over total_steps instead of the steps after warmup", "progress = (step - warmup_steps) / (total_steps - warmup_steps)", "progress = step / total_steps"),
        Mutant("no floor after total_steps", "    if step >= total_steps:\n        return min_lr\n", ""),
        Mutant("ignores min_lr", "return min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi * progress))", "return 0.5 * max_lr * (1 + math.cos(math.pi * progress))"),
        Mutant("divides by zero without warmup", "    if step < warmup_steps:", "    if step <= warmup_steps:"),
    ],
    "clip_grad_norm": [
        Mutant(
            "clips each tensor separately",
            None,
            "def clip_grad_norm(params, max_norm):\n"
            "    grads = [p.grad for p in params if p.grad is not None]\n"
            "    total = torch.sqrt(sum((g ** 2).sum() for g in grads))\n"
            "    for g in grads:\n"
            "        norm = g.norm()\n"
            "        if norm > max_norm:\n"
            "            g.mul_(max_norm / (norm + 1e-6))\n"
            "    return total\n",
        ),
        Mutant("scales even below max_norm", "    if factor < 1:\n        for g in grads:\n            g.mul_(factor)", "    for g in grads:\n        g.mul_(factor)"),
        Mutant("returns the norm after clipping", "    return total", "    return torch.sqrt(sum((g ** 2).sum() for g in grads))"),
        Mutant("sums the tensors' norms instead of their squares", "total = torch.sqrt(sum((g.detach() ** 2).sum() for g in grads))", "total = sum(g.detach().norm() for g in grads)"),
        Mutant("crashes on parameters without a gradient", "grads = [p.grad for p in params if p.grad is not None]", "grads = [p.grad for p in params]"),
    ],
    "interview_answers": [
        Mutant("Q1: same algorithm", 'q1_adamw = "b"', 'q1_adamw = "a"'),
        Mutant("Q2: forgets the warmup offset", "q2_lr_at_550 = cosine_lr(550, 3e-4, 3e-5, 100, 1000)", "q2_lr_at_550 = cosine_lr(550, 3e-4, 3e-5, 0, 1000)"),
        Mutant("Q2: wrong units", "q2_lr_at_550 = cosine_lr(550, 3e-4, 3e-5, 100, 1000)", "q2_lr_at_550 = 1.65"),
        Mutant("Q3: compute", 'q3_warmup = "a"', 'q3_warmup = "b"'),
    ],
}

MUTANTS["04_norms_rnn_conv.ipynb"] = {
    "layer_norm": [
        Mutant("unbiased variance", "var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)", "var = x.var(dim=-1, keepdim=True)"),
        Mutant("eps outside the square root", "return (x - mean) / torch.sqrt(var + eps) * weight + bias", "return (x - mean) / (torch.sqrt(var) + eps) * weight + bias"),
        Mutant("statistics over the first dimension", "mean = x.mean(dim=-1, keepdim=True)\n    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)", "mean = x.mean(dim=0, keepdim=True)\n    var = ((x - mean) ** 2).mean(dim=0, keepdim=True)"),
        Mutant("ignores the eps argument", "torch.sqrt(var + eps)", "torch.sqrt(var + 1e-5)"),
    ],
    "batch_norm": [
        Mutant("running variance biased", "momentum * var * n / (n - 1)", "momentum * var"),
        Mutant("momentum weights swapped", "running_mean.mul_(1 - momentum).add_(momentum * mean)\n            running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))", "running_mean.mul_(momentum).add_((1 - momentum) * mean)\n            running_var.mul_(momentum).add_((1 - momentum) * var * n / (n - 1))"),
        Mutant("running statistics rebound instead of updated in place", "running_mean.mul_(1 - momentum).add_(momentum * mean)\n            running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))", "running_mean = (1 - momentum) * running_mean + momentum * mean\n            running_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)"),
        Mutant("running statistics used in training too", "    else:\n        mean, var = running_mean, running_var\n", "    mean, var = running_mean, running_var\n"),
        Mutant("statistics over the batch dimension only", "    dims = [0] + list(range(2, x.dim()))", "    dims = [0]"),
        Mutant("unbiased variance for normalizing", "var = x.var(dim=dims, unbiased=False)", "var = x.var(dim=dims, unbiased=True)"),
    ],
    "lstm_cell": [
        Mutant("gate order i, f, o, g", "i, f, g, o = gates.chunk(4, dim=1)", "i, f, o, g = gates.chunk(4, dim=1)"),
        Mutant("no tanh on the new cell state", "h_next = torch.sigmoid(o) * torch.tanh(c_next)", "h_next = torch.sigmoid(o) * c_next"),
        Mutant("sigmoid on the candidate", "torch.sigmoid(i) * torch.tanh(g)", "torch.sigmoid(i) * torch.sigmoid(g)"),
        Mutant("hidden bias dropped", "gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh", "gates = x @ W_ih.T + b_ih + h @ W_hh.T"),
    ],
    "gru_cell": [
        Mutant("z weights the new state", "return (1 - z) * n + z * h", "return z * n + (1 - z) * h"),
        Mutant("reset gate outside the hidden bias (the paper's variant)", "h_r, h_z, h_n = (h @ W_hh.T + b_hh).chunk(3, dim=1)\n    r = torch.sigmoid(x_r + h_r)\n    z = torch.sigmoid(x_z + h_z)\n    n = torch.tanh(x_n + r * h_n)", "h_r, h_z, h_n = (h @ W_hh.T + b_hh).chunk(3, dim=1)\n    b_hn = b_hh.chunk(3)[2]\n    r = torch.sigmoid(x_r + h_r)\n    z = torch.sigmoid(x_z + h_z)\n    n = torch.tanh(x_n + r * (h_n - b_hn) + b_hn)"),
        Mutant("gate order z, r, n", "x_r, x_z, x_n = (x @ W_ih.T + b_ih).chunk(3, dim=1)\n    h_r, h_z, h_n", "x_z, x_r, x_n = (x @ W_ih.T + b_ih).chunk(3, dim=1)\n    h_z, h_r, h_n"),
        Mutant("reset gate applied to h before the matrix product, without the bias split", "n = torch.tanh(x_n + r * h_n)", "n = torch.tanh(x_n + ((r * h) @ W_hh.T.chunk(3, dim=1)[2]) + b_hh.chunk(3)[2])"),
    ],
    "conv2d": [
        Mutant("flips the kernel (true convolution)", 'out = torch.einsum("nchwuv,ocuv->nohw", windows, weight)', 'out = torch.einsum("nchwuv,ocuv->nohw", windows, weight.flip(2, 3))'),
        Mutant("ignores the stride", "windows = x.unfold(2, k_h, stride).unfold(3, k_w, stride)", "windows = x.unfold(2, k_h, 1).unfold(3, k_w, 1)"),
        Mutant("ignores the padding", "    if padding:\n        x = torch.nn.functional.pad(x, (padding, padding, padding, padding))\n", ""),
        Mutant("swaps the kernel's height and width", "k_h, k_w = weight.shape[2:]", "k_w, k_h = weight.shape[2:]"),
        Mutant("calls torch.nn.functional.conv2d", 'out = torch.einsum("nchwuv,ocuv->nohw", windows, weight)', "out = torch.nn.functional.conv2d(x, weight)"),
        Mutant("sums over input channels before weighting", 'out = torch.einsum("nchwuv,ocuv->nohw", windows, weight)', 'out = torch.einsum("nhwuv,ouv->nohw", windows.sum(1), weight.sum(1))'),
    ],
    "interview_answers": [
        Mutant("Q1: fewer parameters", 'q1_layernorm = "b"', 'q1_layernorm = "a"'),
        Mutant("Q2: fewer parameters", 'q2_lstm = "a"', 'q2_lstm = "b"'),
        Mutant("Q2: no backprop through time", 'q2_lstm = "a"', 'q2_lstm = "c"'),
        Mutant("Q3: bigger state", 'q3_transformer = "a"', 'q3_transformer = "b"'),
    ],
}
