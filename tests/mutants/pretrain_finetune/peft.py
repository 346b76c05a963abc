"""Plausible wrong implementations of 04_peft.ipynb: each must be rejected by its exercise's grade cells,
and by the hidden tests alone. Keys are solution cells' grade_ids."""

from tests.mutants import Mutant

INIT_A = "        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))"
ZEROS_B = "        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r, **like))"
FORWARD = "        return self.base(x) + self.dropout(x) @ self.lora_A.T @ self.lora_B.T * self.scaling"
MERGE = "            merged.weight.copy_(base.weight + self.scaling * self.lora_B @ self.lora_A)"
MATCH = '        if isinstance(module, nn.Linear) and any(name == t or name.endswith("." + t) for t in targets)'
COUNT = "    return sum(r * (d_out + d_in) for d_out, d_in in shapes)"
MEMORY = "    return n_params * weight_bytes + n_trainable * (grad_bytes + optimizer_bytes)"
ADAPTER = "        return x + self.up(F.gelu(self.down(x)))"
SCORES = "    scores = q @ keys.transpose(-2, -1) / math.sqrt(q.shape[-1])"
VISIBLE = "        visible = torch.cat([mask.new_ones(*mask.shape[:-1], P), mask], dim=-1)"
KEYS = "    keys = torch.cat([prefix_k.expand(*batch, P, k.shape[-1]), k], dim=-2)"
VALUES = "    values = torch.cat([prefix_v.expand(*batch, P, v.shape[-1]), v], dim=-2)"
PROMPT = "    return torch.cat([prompt.expand(B, P, d), embeddings], dim=1)"
Q1 = "q1_lora_13b_gb = finetune_memory_bytes(13_015_864_320, q1_trainable) / 1e9"
Q2 = 'q2_target_trainable = add_lora(load_pretrained("tinygpt-target"), ["W_q", "W_v", "W2"], 4, 8)'

MUTANTS: dict[str, list[Mutant]] = {
    "lora_linear": [
        Mutant(
            "A and B swapped: A zeros, B random",
            INIT_A + "\n",
            "        nn.init.zeros_(self.lora_A)\n        nn.init.kaiming_uniform_(self.lora_B, a=math.sqrt(5))\n",
            hint="lora_B should start at zero",
        ),
        Mutant(
            "A drawn from a standard normal",
            INIT_A,
            "        nn.init.normal_(self.lora_A)",
            hint="lora_A should be initialized like nn.Linear's weight",
        ),
        Mutant(
            "Kaiming uniform with its default a=0 (bound sqrt(6 / d_in))",
            INIT_A,
            "        nn.init.kaiming_uniform_(self.lora_A)",
            hint="nn.init.kaiming_uniform_(lora_A, a=math.sqrt(5))",
        ),
        Mutant(
            "scaling = alpha",
            "        self.scaling = alpha / r",
            "        self.scaling = alpha",
            hint="scaling should be alpha / r",
        ),
        Mutant(
            "scaling = r / alpha",
            "        self.scaling = alpha / r",
            "        self.scaling = r / alpha",
            hint="scaling should be alpha / r",
        ),
        Mutant(
            "the base layer left trainable",
            "        self.base = base.requires_grad_(False)",
            "        self.base = base",
            hint="the base layer should be frozen",
        ),
        Mutant(
            "A and B in the default dtype (float32)",
            '        like = {"dtype": base.weight.dtype, "device": base.weight.device}',
            '        like = {"device": base.weight.device}',
            hint="create lora_A and lora_B with the base layer's dtype",
        ),
        Mutant(
            "the update not scaled in forward",
            FORWARD,
            "        return self.base(x) + self.dropout(x) @ self.lora_A.T @ self.lora_B.T",
            hint="multiply the update by scaling = alpha / r",
        ),
        Mutant(
            "the parameters' values used without autograd (.data)",
            FORWARD,
            "        return self.base(x) + self.dropout(x) @ self.lora_A.data.T @ self.lora_B.data.T * self.scaling",
            hint="no gradient reached lora_A or lora_B",
        ),
        Mutant(
            "dropout on the whole output",
            FORWARD,
            "        return self.dropout(self.base(x) + x @ self.lora_A.T @ self.lora_B.T * self.scaling)",
            hint="dropout acts on x in the LoRA branch only",
        ),
        Mutant(
            "dropout on the LoRA branch's output",
            FORWARD,
            "        return self.base(x) + self.dropout(x @ self.lora_A.T @ self.lora_B.T) * self.scaling",
        ),
        Mutant(
            "no dropout at all",
            FORWARD,
            "        return self.base(x) + x @ self.lora_A.T @ self.lora_B.T * self.scaling",
            hint="with dropout=1.0 in train mode the output should be base(x) exactly",
        ),
        Mutant(
            "merge adds the update into the base layer in place and returns it",
            "        merged = nn.Linear(\n",
            "        with torch.no_grad():\n"
            "            base.weight += self.scaling * self.lora_B @ self.lora_A\n"
            "        return base\n"
            "        merged = nn.Linear(\n",
            hint="merge() changed the module itself",
        ),
        Mutant(
            "merge without the scaling",
            MERGE,
            "            merged.weight.copy_(base.weight + self.lora_B @ self.lora_A)",
            hint="its weight is W + scaling * lora_B @ lora_A",
        ),
        Mutant(
            "merge drops the bias",
            "            if base.bias is not None:\n                merged.bias.copy_(base.bias)\n",
            "            if base.bias is not None:\n                merged.bias.zero_()\n",
            hint="the merged layer keeps the base layer's bias",
        ),
    ],
    "add_lora": [
        Mutant(
            "a target matches as a substring of the name",
            MATCH,
            "        if isinstance(module, nn.Linear) and any(t in name for t in targets)",
            hint="a target is not a substring",
        ),
        Mutant(
            "a target matches the end of the name without the dot",
            MATCH,
            "        if isinstance(module, nn.Linear) and any(name.endswith(t) for t in targets)",
            hint="'blocks.10.attn.W_q' ends with '0.attn.W_q' but not with '.0.attn.W_q'",
        ),
        Mutant(
            "only exact names match",
            MATCH,
            "        if isinstance(module, nn.Linear) and name in targets",
            hint="a target matches every nn.Linear whose name ends with '.' + target",
        ),
        Mutant(
            "matches on the last part of the name only",
            MATCH,
            '        if isinstance(module, nn.Linear) and name.rpartition(".")[2] in targets',
            hint="'blocks.10.attn.W_q' ends with '0.attn.W_q' but not with '.0.attn.W_q'",
        ),
        Mutant(
            "any module with a matching name, not only nn.Linear",
            MATCH,
            '        if name and any(name == t or name.endswith("." + t) for t in targets)',
        ),
        Mutant(
            "the rest of the model left trainable",
            "    model.requires_grad_(False)\n",
            "",
            hint="freeze everything but the LoRA parameters",
        ),
        Mutant(
            "the model frozen after the LoRA layers are in: nothing trainable",
            "    return sum(p.numel() for p in model.parameters() if p.requires_grad)",
            "    model.requires_grad_(False)\n    return sum(p.numel() for p in model.parameters() if p.requires_grad)",
            hint="a target matches every nn.Linear whose name ends with '.' + target",
        ),
        Mutant(
            "the LoRA layer registered on the model under its dotted name, not in its parent",
            "        setattr(owner, child, LoRALinear(getattr(owner, child), r, alpha))",
            "        setattr(model, name, LoRALinear(getattr(owner, child), r, alpha))",
            hint="the LoRA layers are not where the model calls W_q and W_v",
        ),
        Mutant(
            "returns the model's parameter count",
            "    return sum(p.numel() for p in model.parameters() if p.requires_grad)",
            "    return sum(p.numel() for p in model.parameters())",
        ),
    ],
    "lora_param_count": [
        Mutant(
            "r d_out d_in per matrix",
            COUNT,
            "    return sum(r * d_out * d_in for d_out, d_in in shapes)",
            hint="a rank-r factorization stores r (d_out + d_in) numbers",
        ),
        Mutant(
            "square matrices assumed: 2 r d_out",
            COUNT,
            "    return sum(2 * r * d_out for d_out, d_in in shapes)",
            hint="d_out and d_in differ",
        ),
        Mutant("only lora_A counted", COUNT, "    return sum(r * d_in for d_out, d_in in shapes)"),
    ],
    "finetune_memory_bytes": [
        Mutant(
            "gradients and optimizer states of every parameter",
            MEMORY,
            "    return n_params * (weight_bytes + grad_bytes + optimizer_bytes)",
            hint="gradients and optimizer states are kept for the trainable parameters only",
        ),
        Mutant(
            "the frozen weights forgotten",
            MEMORY,
            "    return n_trainable * (weight_bytes + grad_bytes + optimizer_bytes)",
            hint="the weights of every parameter are kept",
        ),
        Mutant(
            "the optimizer's bytes fixed at 12",
            MEMORY,
            "    return n_params * weight_bytes + n_trainable * (grad_bytes + 12)",
            hint="use the byte sizes given",
        ),
        Mutant(
            "in GB rather than bytes",
            MEMORY,
            "    return (n_params * weight_bytes + n_trainable * (grad_bytes + optimizer_bytes)) / 1e9",
            hint="2 (weights) + 2 (gradients) + 12 (optimizer states) bytes per parameter",
        ),
    ],
    "adapter": [
        Mutant("ReLU", ADAPTER, "        return x + self.up(F.relu(self.down(x)))", hint="GELU (F.gelu), not ReLU"),
        Mutant(
            "GELU's tanh approximation",
            ADAPTER,
            '        return x + self.up(F.gelu(self.down(x), approximate="tanh"))',
            hint="GELU exact",
        ),
        Mutant("no residual", ADAPTER, "        return self.up(F.gelu(self.down(x)))", hint="keep the residual"),
        Mutant(
            "up left at nn.Linear's random initialization",
            "        nn.init.zeros_(self.up.weight)\n        nn.init.zeros_(self.up.bias)\n",
            "",
            hint="up (weight and bias) should start at zero",
        ),
        Mutant(
            "only up's weight zeroed",
            "        nn.init.zeros_(self.up.bias)\n",
            "",
            hint="up (weight and bias) should start at zero",
        ),
        Mutant(
            "no biases",
            "        self.down = nn.Linear(d_model, bottleneck)\n        self.up = nn.Linear(bottleneck, d_model)\n"
            "        nn.init.zeros_(self.up.weight)\n        nn.init.zeros_(self.up.bias)\n",
            "        self.down = nn.Linear(d_model, bottleneck, bias=False)\n"
            "        self.up = nn.Linear(bottleneck, d_model, bias=False)\n        nn.init.zeros_(self.up.weight)\n",
            hint="an nn.Linear with bias",
        ),
    ],
    "prefix_attention": [
        Mutant(
            "the prefix after the sequence's keys and values",
            KEYS + "\n" + VALUES + "\n" + SCORES + "\n    if mask is not None:\n" + VISIBLE,
            "    keys = torch.cat([k, prefix_k.expand(*batch, P, k.shape[-1])], dim=-2)\n"
            "    values = torch.cat([v, prefix_v.expand(*batch, P, v.shape[-1])], dim=-2)\n"
            + SCORES
            + "\n    if mask is not None:\n"
            "        visible = torch.cat([mask, mask.new_ones(*mask.shape[:-1], P)], dim=-1)",
            hint="the prefix comes first",
        ),
        Mutant(
            "the mask extended on the wrong side",
            VISIBLE,
            "        visible = torch.cat([mask, mask.new_ones(*mask.shape[:-1], P)], dim=-1)",
            hint="the mask's True columns for them go first",
        ),
        Mutant(
            "scaled by sqrt(d_v)",
            SCORES,
            "    scores = q @ keys.transpose(-2, -1) / math.sqrt(v.shape[-1])",
            hint="softmax(q keys^T / sqrt(d))",
        ),
        Mutant(
            "the prefix masked like the first key",
            VISIBLE,
            "        visible = torch.cat([mask[..., :1].expand(*mask.shape[:-1], P), mask], dim=-1)",
        ),
        Mutant("softmax over the queries", "torch.softmax(scores, dim=-1)", "torch.softmax(scores, dim=-2)"),
        Mutant(
            "the mask ignored",
            '        scores = scores.masked_fill(~visible, float("-inf"))',
            "        scores = scores",
        ),
    ],
    "prepend_soft_prompt": [
        Mutant(
            "the prompt appended",
            PROMPT,
            "    return torch.cat([embeddings, prompt.expand(B, P, d)], dim=1)",
            hint="the prompt comes first",
        ),
        Mutant(
            "the prompt detached",
            PROMPT,
            "    return torch.cat([prompt.detach().expand(B, P, d), embeddings], dim=1)",
            hint="the gradient should reach the prompt",
        ),
        Mutant(
            "the prompt added to the first P embeddings",
            PROMPT,
            "    return torch.cat([embeddings[:, :P] + prompt, embeddings[:, P:]], dim=1)",
        ),
        Mutant(
            "expanded along the wrong dimension, then reshaped",
            PROMPT,
            "    return torch.cat([prompt[:, None].expand(P, B, d).reshape(B, P, d), embeddings], dim=1)",
            hint="the same P vectors before every sequence of the batch",
        ),
    ],
    "interview_answers": [
        Mutant(
            "Q1: r=8", "lora_param_count([(5120, 5120)] * 4 * 40, 16)", "lora_param_count([(5120, 5120)] * 4 * 40, 8)"
        ),
        Mutant(
            "Q1: full fine-tuning", Q1, "q1_lora_13b_gb = finetune_memory_bytes(13_015_864_320, 13_015_864_320) / 1e9"
        ),
        Mutant("Q1: two projections", "[(5120, 5120)] * 4 * 40", "[(5120, 5120)] * 2 * 40"),
        Mutant("Q1: in GiB", "/ 1e9", "/ 2**30"),
        Mutant("Q2: tinygpt-draft", '"tinygpt-target"', '"tinygpt-draft"'),
        Mutant("Q2: all parameters", Q2, 'q2_target_trainable = load_pretrained("tinygpt-target").num_parameters()'),
        Mutant("Q2: W_q and W_v only", '["W_q", "W_v", "W2"]', '["W_q", "W_v"]'),
        Mutant("Q3: (a), new knowledge", 'q3_prompt_tuning = "b"', 'q3_prompt_tuning = "a"'),
        Mutant("Q3: (c), whenever memory is the limit", 'q3_prompt_tuning = "b"', 'q3_prompt_tuning = "c"'),
        Mutant("Q4: (b), overfitting", 'q4_unstable = "a"', 'q4_unstable = "b"'),
        Mutant("Q4: (c), train longer", 'q4_unstable = "a"', 'q4_unstable = "c"'),
    ],
}
