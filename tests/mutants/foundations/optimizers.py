"""Plausible wrong implementations of 03_optimizers.ipynb: each must be rejected by its exercise's
grade cells, and by the hidden tests alone. Keys are solution cells' grade_ids."""

from tests.mutants import Mutant

MUTANTS: dict[str, list[Mutant]] = {
    "SGD": [
        Mutant(
            "momentum as an exponential average, mu b + (1 - mu) g",
            "self.buffers[i].mul_(self.momentum).add_(g)",
            "self.buffers[i].mul_(self.momentum).add_((1 - self.momentum) * g)",
            hint="b = momentum * b + g (no 1 - momentum factor)",
        ),
        Mutant(
            "momentum buffer restarted at every step",
            "                if self.buffers[i] is None:\n                    self.buffers[i] = g.clone()\n                else:\n                    self.buffers[i].mul_(self.momentum).add_(g)\n                g = self.buffers[i]",
            "                g = g.clone()",
            hint="the buffer starts as the first gradient, then b = momentum * b + g",
        ),
        Mutant(
            "weight decay applied after the momentum buffer",
            "            g = p.grad + self.weight_decay * p if self.weight_decay else p.grad",
            "            g = p.grad",
            hint="weight decay is added to the gradient before the momentum buffer",
        ),
        Mutant(
            "weight decay also moves parameters without gradients",
            "            if p.grad is None:\n                continue\n            g = p.grad",
            "            grad = p.grad if p.grad is not None else torch.zeros_like(p)\n            g = grad",
        ),
        Mutant(
            "zero_grad does nothing",
            "        for p in self.params:\n            p.grad = None",
            "        pass",
            hint="zero_grad() must clear every parameter's gradient",
        ),
        Mutant(
            "rebinds the parameter instead of updating it in place",
            "            p.sub_(self.lr * g)",
            "            self.params[i] = p - self.lr * g",
            hint="update them in place (p.sub_(...)), do not rebind them",
        ),
    ],
    "AdamW": [
        Mutant(
            "keeps the parameters' iterator, emptied by building the state",
            "        self.params = list(params)",
            "        self.params = params",
            hint="`params` may be a generator, such as model.parameters(), that can be iterated only once",
        ),
        Mutant(
            "L2 in the gradient (Adam), not decoupled decay",
            '            t, g = state["step"], p.grad\n            p.mul_(1 - self.lr * self.weight_decay)',
            '            t, g = state["step"], p.grad + self.weight_decay * p',
        ),
        Mutant(
            "no bias correction",
            '            m_hat = state["m"] / (1 - beta1**t)\n            v_hat = state["v"] / (1 - beta2**t)',
            '            m_hat = state["m"]\n            v_hat = state["v"]',
        ),
        Mutant(
            "eps inside the square root",
            "p.sub_(self.lr * m_hat / (v_hat.sqrt() + self.eps))",
            "p.sub_(self.lr * m_hat / (v_hat + self.eps).sqrt())",
            hint="eps goes outside the square root: m_hat / (sqrt(v_hat) + eps)",
        ),
        Mutant(
            "weight decay not scaled by the learning rate",
            "p.mul_(1 - self.lr * self.weight_decay)",
            "p.mul_(1 - self.weight_decay)",
        ),
        Mutant("weight decay applied after the Adam step", "            p.mul_(1 - self.lr * self.weight_decay)\n", ""),
    ],
    "LAMB": [
        Mutant(
            "no trust ratio",
            "trust = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0",
            "trust = 1.0",
            hint="with the trust ratio ||p|| / ||u|| it moves by exactly lr * ||p||",
        ),
        Mutant(
            "trust ratio inverted",
            "trust = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0",
            "trust = u_norm / w_norm if w_norm > 0 and u_norm > 0 else 1.0",
            hint="with the trust ratio ||p|| / ||u|| it moves by exactly lr * ||p||",
        ),
        Mutant(
            "no special case for a zero norm",
            "trust = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0",
            "trust = w_norm / u_norm if u_norm > 0 else 1.0",
            hint="a parameter that is all zeros should take a plain step lr * u (trust ratio 1)",
        ),
        Mutant(
            "weight decay outside the trust ratio",
            "            update = m_hat / (v_hat.sqrt() + self.eps) + self.weight_decay * p",
            "            decay = self.weight_decay * p\n            update = m_hat / (v_hat.sqrt() + self.eps)",
            hint="does not point along m_hat / (sqrt(v_hat) + eps) + weight_decay * p",
        ),
        Mutant(
            "one trust ratio for all tensors together",
            None,
            """class LAMB:
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
""",
            hint="with the trust ratio ||p|| / ||u|| it moves by exactly lr * ||p||",
        ),
    ],
    "cosine_lr": [
        Mutant(
            "warmup counts from 1",
            "return max_lr * step / warmup_steps",
            "return max_lr * (step + 1) / warmup_steps",
            hint="the warmup starts from 0 at step 0",
        ),
        Mutant(
            "cosine over total_steps instead of the steps after warmup",
            "progress = (step - warmup_steps) / (total_steps - warmup_steps)",
            "progress = step / total_steps",
            hint="the cosine starts at max_lr when the warmup ends",
        ),
        Mutant(
            "no floor after total_steps",
            "    if step >= total_steps:\n        return min_lr\n",
            "",
            hint="after total_steps the rate stays at min_lr",
        ),
        Mutant(
            "ignores min_lr",
            "return min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi * progress))",
            "return 0.5 * max_lr * (1 + math.cos(math.pi * progress))",
            hint="half-way through the decay the rate is (max_lr + min_lr) / 2",
        ),
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
            hint="each tensor was clipped separately; use one factor for all, from the global norm",
        ),
        Mutant(
            "scales even below max_norm",
            "    if factor < 1:\n        for g in grads:\n            g.mul_(factor)",
            "    for g in grads:\n        g.mul_(factor)",
            hint="leave the gradients unchanged when their norm is below max_norm",
        ),
        Mutant(
            "returns the norm after clipping",
            "    return total",
            "    return torch.sqrt(sum((g ** 2).sum() for g in grads))",
            hint="expected the global norm before clipping",
        ),
        Mutant(
            "sums the tensors' norms instead of their squares",
            "total = torch.sqrt(sum((g.detach() ** 2).sum() for g in grads))",
            "total = sum(g.detach().norm() for g in grads)",
            hint="sqrt of the sum of all squared gradient entries",
        ),
        Mutant(
            "iterates the parameters twice (a generator is empty the second time)",
            None,
            "def clip_grad_norm(params, max_norm):\n"
            "    total = torch.sqrt(sum((p.grad.detach() ** 2).sum() for p in params if p.grad is not None))\n"
            "    factor = max_norm / (total + 1e-6)\n"
            "    if factor < 1:\n"
            "        for p in params:\n"
            "            if p.grad is not None:\n"
            "                p.grad.mul_(factor)\n"
            "    return total\n",
            hint="`params` may be a generator, such as model.parameters(), that can be iterated only once",
        ),
        Mutant(
            "crashes on parameters without a gradient",
            "grads = [p.grad for p in params if p.grad is not None]",
            "grads = [p.grad for p in params]",
        ),
    ],
    "interview_answers": [
        Mutant(
            "Q1: Adam with L2, the penalty's gradient normalized like any other",
            "decaying = AdamW([lone_weight], lr=0.1, weight_decay=0.5)\nfor _ in range(10):\n    lone_weight.grad = torch.zeros(1)",
            "decaying = AdamW([lone_weight], lr=0.1, weight_decay=0.0)\nfor _ in range(10):\n    lone_weight.grad = 0.5 * lone_weight.detach().clone()",
        ),
        Mutant(
            "Q1: the decay without the learning rate",
            "q1_zero_gradient_weight = lone_weight.item()",
            "q1_zero_gradient_weight = 0.5**10",
        ),
        Mutant(
            "Q2: forgets the warmup offset",
            "q2_lr_at_550 = cosine_lr(550, 3e-4, 3e-5, 100, 1000)",
            "q2_lr_at_550 = cosine_lr(550, 3e-4, 3e-5, 0, 1000)",
        ),
        Mutant("Q2: wrong units", "q2_lr_at_550 = cosine_lr(550, 3e-4, 3e-5, 100, 1000)", "q2_lr_at_550 = 1.65"),
        Mutant(
            "Q3: each parameter clipped on its own",
            "q3_clipped_entry = pair[0].grad[0].item()",
            "q3_clipped_entry = 0.3 / pair[0].grad.new_tensor([0.3, -1.2, 2.0]).norm().item()",
        ),
        Mutant("Q3: the entry before clipping", "q3_clipped_entry = pair[0].grad[0].item()", "q3_clipped_entry = 0.3"),
        Mutant(
            "Q3: the returned norm instead of the entry",
            "clip_grad_norm(pair, 1.0)\nq3_clipped_entry = pair[0].grad[0].item()",
            "q3_clipped_entry = clip_grad_norm(pair, 1.0).item()",
        ),
    ],
}
