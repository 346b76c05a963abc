"""Plausible wrong implementations of 03_gpt.ipynb: each must be rejected by its exercise's
grade cells, and by the hidden tests alone. Keys are solution cells' grade_ids."""

from tests.mutants import Mutant

MUTANTS: dict[str, list[Mutant]] = {
    "rms_norm": [
        Mutant(
            "subtracts the mean (LayerNorm)",
            "return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps) * weight",
            "x = x - x.mean(dim=-1, keepdim=True)\n    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps) * weight",
            hint="rms_norm subtracts the mean",
        ),
        Mutant(
            "eps outside the square root",
            "return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps) * weight",
            "return x / (x.pow(2).mean(dim=-1, keepdim=True).sqrt() + eps) * weight",
            hint="eps is added outside the square root",
        ),
        Mutant(
            "root of the sum instead of the mean",
            "x.pow(2).mean(dim=-1, keepdim=True)",
            "x.pow(2).sum(dim=-1, keepdim=True)",
        ),
        Mutant("ignores the eps argument", "+ eps)", "+ 1e-5)", hint="use the eps argument you receive"),
        Mutant("no gain", " * weight", "", hint="the result is not multiplied by weight"),
    ],
    "swiglu": [
        Mutant(
            "silu on the up projection instead of the gate",
            "return (F.silu(x @ W1.T) * (x @ W3.T)) @ W2.T",
            "return (F.silu(x @ W3.T) * (x @ W1.T)) @ W2.T",
            hint="silu is applied to W3 x",
        ),
        Mutant("relu instead of silu", "F.silu(", "F.relu(", hint="SwiGLU uses silu(z) = z * sigmoid(z)"),
        Mutant(
            "no gate",
            "return (F.silu(x @ W1.T) * (x @ W3.T)) @ W2.T",
            "return F.silu(x @ W1.T) @ W2.T",
            hint="the gated product is incomplete",
        ),
        Mutant("sigmoid instead of silu", "F.silu(", "torch.sigmoid("),
    ],
    "transformer_block": [
        Mutant(
            "post-norm",
            'x = x + self.attn["W_o"](out.transpose(1, 2).reshape(B, T, c.n_heads * c.d_head))',
            'x = rms_norm(x + self.attn["W_o"](out.transpose(1, 2).reshape(B, T, c.n_heads * c.d_head)), self.attn_norm["weight"], c.norm_eps)',
        ),
        Mutant("attention is not causal", "is_causal=True", "is_causal=False", hint="the attention is not causal"),
        Mutant(
            "GQA maps query head h to key/value head h % n_kv_heads",
            "k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)",
            "k, v = k.repeat(1, group, 1, 1), v.repeat(1, group, 1, 1)",
        ),
        Mutant(
            "no rotary positions",
            "q, k = rope(q, positions, c.rope_theta), rope(k, positions, c.rope_theta)",
            "pass",
            hint="rotate q and k with rope(..., positions, config.rope_theta)",
        ),
        Mutant("the feed-forward has no residual", "return x + swiglu(", "return swiglu("),
        Mutant("the feed-forward reads the un-normalized stream", "return x + swiglu(n,", "return x + swiglu(x,"),
        Mutant(
            "rope rotates the values too",
            "group = c.n_heads // c.n_kv_heads",
            "v = rope(v, positions, c.rope_theta)\n        group = c.n_heads // c.n_kv_heads",
        ),
    ],
    "gpt": [
        Mutant(
            "no final norm",
            'return rms_norm(x, self.norm["weight"], self.config.norm_eps) @ self.embed.weight.T',
            "return x @ self.embed.weight.T",
            hint="the final RMSNorm is missing",
        ),
        Mutant("blocks run in reverse order", "for block in self.blocks:", "for block in reversed(self.blocks):"),
        Mutant("an extra residual around each block", "x = block(x, positions)", "x = x + block(x, positions)"),
        Mutant(
            "only the last block",
            "for block in self.blocks:\n            x = block(x, positions)",
            "x = self.blocks[-1](x, positions)",
        ),
    ],
    "interview_answers": [
        Mutant("Q1: residuals keep the scale", 'q1_residual = "b"', 'q1_residual = "a"'),
        Mutant("Q1: residuals let blocks be skipped", 'q1_residual = "b"', 'q1_residual = "c"'),
        Mutant("Q2: post-norm", 'q2_pre_norm = "b"', 'q2_pre_norm = "a"'),
        Mutant("Q2: no difference", 'q2_pre_norm = "b"', 'q2_pre_norm = "c"'),
        Mutant(
            "Q3: the RMSNorm gains forgotten",
            "q3_block_params = sum(p.numel() for p in TransformerBlock(",
            "q3_block_params = -2 * 96 + sum(p.numel() for p in TransformerBlock(",
        ),
        Mutant(
            "Q3: as many K/V heads as query heads",
            "n_heads=6, n_kv_heads=2, d_ff=256",
            "n_heads=6, n_kv_heads=6, d_ff=256",
        ),
        Mutant(
            "Q3: tinygpt-draft's block",
            "TinyGPTConfig(d_model=96, n_heads=6, n_kv_heads=2, d_ff=256)",
            "TinyGPTConfig(d_model=192, n_heads=6, n_kv_heads=2, d_ff=512)",
        ),
    ],
}
