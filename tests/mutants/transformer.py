"""Plausible wrong implementations of module 02's exercises.

MUTANTS maps a notebook and a solution cell's grade_id to mutants of its
reference solution. Each one must be rejected by the exercise's grade cells,
and by the hidden tests alone.
"""

from tests.helpers import Mutant

MUTANTS: dict[str, dict[str, list[Mutant]]] = {}

# == notebook 1: attention and masks ==========================================================

MUTANTS["01_attention.ipynb"] = {
    "softmax": [
        Mutant("no max subtraction (overflows)", "shifted = x - x.amax(dim=dim, keepdim=True)", "shifted = x"),
        Mutant("subtracts the global maximum instead of each slice's", "shifted = x - x.amax(dim=dim, keepdim=True)", "shifted = x - x.max()"),
        Mutant("always normalizes over the last axis", "dim=dim", "dim=-1"),
        Mutant("sums over every element", "e / e.sum(dim=dim, keepdim=True)", "e / e.sum()"),
        Mutant("forgets keepdim in the sum", "e / e.sum(dim=dim, keepdim=True)", "e / e.sum(dim=dim)"),
        Mutant("forgets keepdim in the max", "x.amax(dim=dim, keepdim=True)", "x.amax(dim=dim)"),
        Mutant("calls torch.softmax", "return e / e.sum(dim=dim, keepdim=True)", "return torch.softmax(x, dim=dim)"),
    ],
    "scaled_dot_product_attention": [
        Mutant("no 1/sqrt(d) scale", "scores = q @ k.transpose(-2, -1) / math.sqrt(d)", "scores = q @ k.transpose(-2, -1)"),
        Mutant("scales by 1/d instead of 1/sqrt(d)", "/ math.sqrt(d)", "/ d"),
        Mutant("mask inverted (True = hidden)", "scores.masked_fill(~mask,", "scores.masked_fill(mask,"),
        Mutant("-inf fill: NaN on fully masked rows", "torch.finfo(scores.dtype).min", 'float("-inf")'),
        Mutant("fully masked rows become uniform", "weights = weights * mask", "weights = weights"),
        Mutant("mask ignored", "if mask is not None:\n        scores", "if False:\n        scores"),
        Mutant("k.T instead of k.transpose(-2, -1)", "k.transpose(-2, -1)", "k.T"),
        Mutant("scale from the values' dimension", "d = q.shape[-1]", "d = v.shape[-1]"),
        Mutant("queries and keys swapped", "q @ k.transpose(-2, -1)", "k @ q.transpose(-2, -1)"),
        Mutant("calls torch's fused attention", "return weights @ v, weights", "return torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask), weights"),
        # last, beyond the softmax mutants: in tests/test_grading.py's cohort it would otherwise meet the
        # softmax mutant "always normalizes over the last axis", which cancels it
        Mutant("softmax over the queries (dim=-2)", "weights = softmax(scores, dim=-1)", "weights = softmax(scores, dim=-2)"),
    ],
    "masks": [
        Mutant("causal mask j < i (no diagonal)", "torch.tril(torch.ones(T, T, dtype=torch.bool))", "torch.tril(torch.ones(T, T, dtype=torch.bool), diagonal=-1)"),
        Mutant("causal mask transposed (upper triangle)", "torch.tril(torch.ones(T, T, dtype=torch.bool))", "torch.triu(torch.ones(T, T, dtype=torch.bool))"),
        Mutant("causal mask of floats", "torch.tril(torch.ones(T, T, dtype=torch.bool))", "torch.tril(torch.ones(T, T))"),
        Mutant("padding mask of shape (B, T)", "(j[None, :] < lengths[:, None])[:, None, None, :]", "j[None, :] < lengths[:, None]"),
        Mutant("padding mask j <= lengths", "j[None, :] < lengths[:, None]", "j[None, :] <= lengths[:, None]"),
        Mutant("padding mask inverted (True on padding)", "j[None, :] < lengths[:, None]", "j[None, :] >= lengths[:, None]"),
        Mutant("padding mask of shape (B, 1, T, 1)", "[:, None, None, :]", "[:, None, :, None]"),
        Mutant("prefix LM without the causal part", "return causal_mask(T) | (j < prefix_len)[None, :]", "return (j < prefix_len)[None, :].expand(T, T)"),
        Mutant("prefix LM j <= prefix_len", "(j < prefix_len)[None, :]", "(j <= prefix_len)[None, :]"),
        Mutant("prefix queries see everything instead of prefix keys", "(j < prefix_len)[None, :]", "(j < prefix_len)[:, None]"),
    ],
    "multi_head_attention": [
        Mutant("GQA maps query head h to kv head h % n_kv_heads", "repeat_interleave(group, dim=1)", "repeat(1, group, 1, 1)"),
        Mutant("forgets the output projection W_o", "return out @ W_o.T", "return out"),
        Mutant("merges heads without transposing back", "out = out.transpose(1, 2).reshape(B, T, d_model)", "out = out.reshape(B, T, d_model)"),
        Mutant(
            "splits heads with view(B, n_heads, T, d_head), no transpose",
            "q = (x @ W_q.T).view(B, T, n_heads, d_head).transpose(1, 2)",
            "q = (x @ W_q.T).view(B, n_heads, T, d_head)",
        ),
        Mutant(
            "splits heads as (d_head, n_heads): strided features per head",
            "view(B, T, n_heads, d_head).transpose(1, 2)",
            "view(B, T, d_head, n_heads).permute(0, 3, 1, 2)",
        ),
        Mutant("an implicit causal mask", "out, _ = scaled_dot_product_attention(q, k, v, mask)", "out, _ = scaled_dot_product_attention(q, k, v, causal_mask(T) if mask is None else mask)"),
        Mutant("mask ignored", "out, _ = scaled_dot_product_attention(q, k, v, mask)", "out, _ = scaled_dot_product_attention(q, k, v)"),
        Mutant("projects with W instead of W.T", "return out @ W_o.T", "return out @ W_o"),
        Mutant("values projected with W_k", "v = (x @ W_v.T)", "v = (x @ W_k.T)"),
    ],
    "interview_answers": [
        Mutant("Q1: cheaper to compute", 'q1_scale_sqrt_dk = "b"', 'q1_scale_sqrt_dk = "a"'),
        Mutant("Q1: makes rows sum to 1", 'q1_scale_sqrt_dk = "b"', 'q1_scale_sqrt_dk = "c"'),
        Mutant("Q2: linear growth", "q2_scores_when_t_doubles = 4", "q2_scores_when_t_doubles = 2"),
        Mutant("Q2: a string instead of a number", "q2_scores_when_t_doubles = 4", 'q2_scores_when_t_doubles = "4"'),
        Mutant("Q3: fewer parameters", 'q3_attention_parallel = "c"', 'q3_attention_parallel = "a"'),
        Mutant("Q3: RNNs cannot use GPUs", 'q3_attention_parallel = "c"', 'q3_attention_parallel = "b"'),
    ],
}


# == end of notebook 1 ==

# == notebook 2: positions ====================================================================

ROPE_PAIRS = "    even, odd = x[..., 0::2], x[..., 1::2]                                # (..., T, d/2) each\n    rotated = torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1)  # (..., T, d/2, 2)\n    return rotated.flatten(-2)"
SIN_COS = "    pe[:, 0::2] = torch.sin(angles)\n    pe[:, 1::2] = torch.cos(angles)"

MUTANTS["02_positions.ipynb"] = {
    "sinusoidal_positions": [
        Mutant("sin and cos swapped", SIN_COS, "    pe[:, 0::2] = torch.cos(angles)\n    pe[:, 1::2] = torch.sin(angles)"),
        Mutant("exponent i/d instead of 2i/d", "angles = t / 10000 ** (2 * i / d)", "angles = t / 10000 ** (i / d)"),
        Mutant("cos dimensions use the exponent (2i+1)/d", "    pe[:, 1::2] = torch.cos(angles)", "    pe[:, 1::2] = torch.cos(t / 10000 ** ((2 * i + 1) / d))"),
        Mutant("first half sin, second half cos", SIN_COS, "    pe[:, : d // 2] = torch.sin(angles)\n    pe[:, d // 2 :] = torch.cos(angles)"),
        Mutant("multiplies t by 10000**(2i/d)", "angles = t / 10000 ** (2 * i / d)", "angles = t * 10000 ** (2 * i / d)"),
        Mutant("positions start at 1", "t = torch.arange(T, dtype=torch.float64)[:, None]", "t = torch.arange(1, T + 1, dtype=torch.float64)[:, None]"),
    ],
    "apply_rope": [
        Mutant(
            "rotates the two halves (GPT-NeoX layout)",
            ROPE_PAIRS,
            "    even, odd = x[..., : d // 2], x[..., d // 2 :]\n    return torch.cat([even * cos - odd * sin, even * sin + odd * cos], dim=-1)",
        ),
        Mutant("rotation in the wrong direction (negative angle)", "angles = positions.to(x.device, torch.float64)[..., None] * freqs", "angles = -positions.to(x.device, torch.float64)[..., None] * freqs"),
        Mutant("ignores theta", "freqs = theta ** (-2 * i / d)", "freqs = 10000.0 ** (-2 * i / d)"),
        Mutant("frequencies theta**(-i/d)", "freqs = theta ** (-2 * i / d)", "freqs = theta ** (-i / d)"),
        Mutant("ignores the positions (uses 0..T-1)", "angles = positions.to(x.device, torch.float64)[..., None] * freqs", "angles = torch.arange(x.shape[-2], dtype=torch.float64)[:, None] * freqs"),
        Mutant("returns float64 for float32 inputs", "cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)", "cos, sin = angles.cos(), angles.sin()"),
        Mutant(
            "rotates x in place",
            ROPE_PAIRS,
            "    even, odd = x[..., 0::2].clone(), x[..., 1::2].clone()\n    x[..., 0::2] = even * cos - odd * sin\n    x[..., 1::2] = even * sin + odd * cos\n    return x",
        ),
        Mutant("not a rotation: sign error in the second component", "even * sin + odd * cos", "even * sin - odd * cos"),
        Mutant("adds the angle instead of rotating", ROPE_PAIRS, "    return x + torch.stack([sin, cos], dim=-1).flatten(-2)"),
        Mutant("calls TinyGPT's rope", "    d = x.shape[-1]\n", "    from course import models\n    return models.rope(x, positions, theta)\n    d = x.shape[-1]\n"),
    ],
    "alibi_slopes": [
        Mutant("2**(-8i/n) for every head count", "slopes = power_of_two(m) + power_of_two(2 * m)[0::2][: n_heads - m]", "slopes = power_of_two(n_heads)"),
        Mutant("slopes in reverse order", "for i in range(1, n + 1)]", "for i in range(n, 0, -1)]"),
        Mutant("heads numbered from 0", "for i in range(1, n + 1)]", "for i in range(n)]"),
        Mutant("exponent -i instead of -8i/n", "2.0 ** (-8.0 * i / n)", "2.0 ** (-i)"),
        Mutant("extra slopes from the odd positions [1::2]", "[0::2]", "[1::2]"),
        Mutant("slopes sorted", "return torch.tensor(slopes)", "return torch.tensor(sorted(slopes, reverse=True))"),
        Mutant("extra slopes are the first ones of m heads again", "power_of_two(2 * m)[0::2][: n_heads - m]", "power_of_two(m)[: n_heads - m]"),
    ],
    "alibi_bias": [
        Mutant("bias sign (i - j)", "distance = positions[None, :] - positions[:, None]", "distance = positions[:, None] - positions[None, :]"),
        Mutant("slope * j (row-shifted, as in the ALiBi repository)", "distance = positions[None, :] - positions[:, None]", "distance = positions[None, :].expand(T, T)"),
        Mutant("symmetric -|j - i|", "distance = positions[None, :] - positions[:, None]", "distance = -(positions[None, :] - positions[:, None]).abs()"),
        Mutant("masks the future with -inf", "return slopes[:, None, None] * distance", "return (slopes[:, None, None] * distance).masked_fill(distance > 0, float('-inf'))"),
        Mutant("heads in reverse order", "slopes = alibi_slopes(n_heads)", "slopes = alibi_slopes(n_heads).flip(0)"),
        Mutant("slopes 2**(-8i/n) for every head count", "slopes = alibi_slopes(n_heads)", "slopes = 2.0 ** (-8.0 * torch.arange(1, n_heads + 1) / n_heads)"),
    ],
    "interview_answers": [
        Mutant("Q1: 3/8 (linear slopes)", "q1_alibi_head3 = 1 / 8", "q1_alibi_head3 = 3 / 8"),
        Mutant("Q1: counted from the other end", "q1_alibi_head3 = 1 / 8", "q1_alibi_head3 = 1 / 64"),
        Mutant("Q1: a string instead of a number", "q1_alibi_head3 = 1 / 8", 'q1_alibi_head3 = "1/8"'),
        Mutant("Q2: an added offset vector", 'q2_rope_relative = "c"', 'q2_rope_relative = "a"'),
        Mutant("Q2: learned angles", 'q2_rope_relative = "c"', 'q2_rope_relative = "b"'),
        Mutant("Q3: same wavelength everywhere", 'q3_wavelengths = "a"', 'q3_wavelengths = "b"'),
    ],
}


# == end of notebook 2 ==

# == notebook 3: blocks and a GPT =============================================================

MUTANTS["03_gpt.ipynb"] = {
    "rms_norm": [
        Mutant("subtracts the mean (LayerNorm)", "return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps) * weight", "x = x - x.mean(dim=-1, keepdim=True)\n    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps) * weight"),
        Mutant("eps outside the square root", "return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps) * weight", "return x / (x.pow(2).mean(dim=-1, keepdim=True).sqrt() + eps) * weight"),
        Mutant("root of the sum instead of the mean", "x.pow(2).mean(dim=-1, keepdim=True)", "x.pow(2).sum(dim=-1, keepdim=True)"),
        Mutant("ignores the eps argument", "+ eps)", "+ 1e-5)"),
        Mutant("no gain", " * weight", ""),
    ],
    "swiglu": [
        Mutant("silu on the up projection instead of the gate", "return (F.silu(x @ W1.T) * (x @ W3.T)) @ W2.T", "return (F.silu(x @ W3.T) * (x @ W1.T)) @ W2.T"),
        Mutant("relu instead of silu", "F.silu(", "F.relu("),
        Mutant("no gate", "return (F.silu(x @ W1.T) * (x @ W3.T)) @ W2.T", "return F.silu(x @ W1.T) @ W2.T"),
        Mutant("sigmoid instead of silu", "F.silu(", "torch.sigmoid("),
    ],
    "transformer_block": [
        Mutant("post-norm", "x = x + self.attn[\"W_o\"](out.transpose(1, 2).reshape(B, T, c.n_heads * c.d_head))", "x = rms_norm(x + self.attn[\"W_o\"](out.transpose(1, 2).reshape(B, T, c.n_heads * c.d_head)), self.attn_norm[\"weight\"], c.norm_eps)"),
        Mutant("attention is not causal", "is_causal=True", "is_causal=False"),
        Mutant("GQA maps query head h to key/value head h % n_kv_heads", "k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)", "k, v = k.repeat(1, group, 1, 1), v.repeat(1, group, 1, 1)"),
        Mutant("no rotary positions", "q, k = rope(q, positions, c.rope_theta), rope(k, positions, c.rope_theta)", "pass"),
        Mutant("the feed-forward has no residual", "return x + swiglu(", "return swiglu("),
        Mutant("the feed-forward reads the un-normalized stream", "return x + swiglu(n,", "return x + swiglu(x,"),
        Mutant("rope rotates the values too", "group = c.n_heads // c.n_kv_heads", "v = rope(v, positions, c.rope_theta)\n        group = c.n_heads // c.n_kv_heads"),
    ],
    "gpt": [
        Mutant("no final norm", "return rms_norm(x, self.norm[\"weight\"], self.config.norm_eps) @ self.embed.weight.T", "return x @ self.embed.weight.T"),
        Mutant("blocks run in reverse order", "for block in self.blocks:", "for block in reversed(self.blocks):"),
        Mutant("an extra residual around each block", "x = block(x, positions)", "x = x + block(x, positions)"),
        Mutant("only the last block", "for block in self.blocks:\n            x = block(x, positions)", "x = self.blocks[-1](x, positions)"),
    ],
    "interview_answers": [
        Mutant("Q1: residuals halve the parameters", 'q1_residual = "b"', 'q1_residual = "a"'),
        Mutant("Q2: post-norm", 'q2_pre_norm = "b"', 'q2_pre_norm = "a"'),
        Mutant("Q3: two matrices counted", "q3_swiglu_params = 132096", "q3_swiglu_params = 88064"),
    ],
}

# == end of notebook 3 ==

# == notebook 4: accounting ===================================================================

MUTANTS["04_accounting.ipynb"] = {
    "gpt2_param_count": [
        Mutant("counts a separate output head", "return embeddings + n_layers * block + layer_norm", "return embeddings + n_layers * block + layer_norm + vocab * d"),
        Mutant(
            "forgets the biases of the Linear layers",
            "attention = (d * 3 * d + 3 * d) + (d * d + d)  # qkv and output projections, with biases\n    mlp = (d * d_ff + d_ff) + (d_ff * d + d)",
            "attention = (d * 3 * d) + (d * d)\n    mlp = (d * d_ff) + (d_ff * d)",
        ),
        Mutant("forgets the MLP biases", "mlp = (d * d_ff + d_ff) + (d_ff * d + d)", "mlp = (d * d_ff) + (d_ff * d)"),
        Mutant("forgets the final LayerNorm", "return embeddings + n_layers * block + layer_norm", "return embeddings + n_layers * block"),
        Mutant("LayerNorm without a bias", "layer_norm = 2 * d  # weight and bias", "layer_norm = d"),
        Mutant("one LayerNorm per block", "block = 2 * layer_norm + attention + mlp", "block = layer_norm + attention + mlp"),
        Mutant("forgets the position embeddings", "embeddings = vocab * d + context * d", "embeddings = vocab * d"),
        Mutant("qkv projection d -> d", "attention = (d * 3 * d + 3 * d) + (d * d + d)", "attention = (d * d + d) + (d * d + d)"),
        Mutant("ignores an explicit d_ff", "    if d_ff is None:\n        d_ff = 4 * d\n", "    d_ff = 4 * d\n"),
        Mutant("d_ff defaults to d_model", "d_ff = 4 * d\n", "d_ff = d\n"),
        Mutant("returns a float", "return embeddings + n_layers * block + layer_norm", "return float(embeddings + n_layers * block + layer_norm)"),
    ],
    "forward_flops_per_token": [
        Mutant("forgets the factor 2 on N", "return 2 * n_params + 2 * n_layers * context * d_model", "return n_params + 2 * n_layers * context * d_model"),
        Mutant("forgets the attention term", "return 2 * n_params + 2 * n_layers * context * d_model", "return 2 * n_params"),
        Mutant("attention term without the factor 2", "return 2 * n_params + 2 * n_layers * context * d_model", "return 2 * n_params + n_layers * context * d_model"),
        Mutant("training cost 6N", "return 2 * n_params + 2 * n_layers * context * d_model", "return 6 * n_params + 2 * n_layers * context * d_model"),
        Mutant("attention term quadratic in the context", "return 2 * n_params + 2 * n_layers * context * d_model", "return 2 * n_params + 2 * n_layers * context**2 * d_model"),
        Mutant("counts multiply-adds", "return 2 * n_params + 2 * n_layers * context * d_model", "return n_params + n_layers * context * d_model"),
    ],
    "interview_answers": [
        Mutant("Q1: the complement (the blocks' share)", "q1_embedding_share = 0.32", "q1_embedding_share = 0.68"),
        Mutant("Q1: a percentage", "q1_embedding_share = 0.32", "q1_embedding_share = 31.6"),
        Mutant("Q1: the token embedding alone, rounded down", "q1_embedding_share = 0.32", "q1_embedding_share = 0.31"),
        Mutant("Q1: a string", "q1_embedding_share = 0.32", 'q1_embedding_share = "0.32"'),
        Mutant("Q2: GPT for embeddings", 'q2_model_for_job = "a"', 'q2_model_for_job = "b"'),
        Mutant("Q2: BERT for chat", 'q2_model_for_job = "a"', 'q2_model_for_job = "c"'),
        Mutant("Q3: Adam's extra passes", 'q3_training_6n = "c"', 'q3_training_6n = "a"'),
        Mutant("Q3: longer contexts", 'q3_training_6n = "c"', 'q3_training_6n = "b"'),
    ],
}

# == end of notebook 4 ==
