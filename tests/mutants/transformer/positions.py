"""Plausible wrong implementations of 02_positions.ipynb: each must be rejected by its exercise's
grade cells, and by the hidden tests alone. Keys are solution cells' grade_ids."""

from tests.mutants import Mutant

ROPE_PAIRS = "    even, odd = x[..., 0::2], x[..., 1::2]                                # (..., T, d/2) each\n    rotated = torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1)  # (..., T, d/2, 2)\n    return rotated.flatten(-2)"
SIN_COS = "    pe[:, 0::2] = torch.sin(angles)\n    pe[:, 1::2] = torch.cos(angles)"

MUTANTS: dict[str, list[Mutant]] = {
    "sinusoidal_positions": [
        Mutant(
            "sin and cos swapped",
            SIN_COS,
            "    pe[:, 0::2] = torch.cos(angles)\n    pe[:, 1::2] = torch.sin(angles)",
            hint="sin goes on even dimensions (PE[t, 2i]), cos on odd ones (PE[t, 2i+1])",
        ),
        Mutant(
            "exponent i/d instead of 2i/d",
            "angles = t / 10000 ** (2 * i / d)",
            "angles = t / 10000 ** (i / d)",
            hint="the pair (2i, 2i+1) has wavelength 10000**(2i/d) times 2π",
        ),
        Mutant(
            "cos dimensions use the exponent (2i+1)/d",
            "    pe[:, 1::2] = torch.cos(angles)",
            "    pe[:, 1::2] = torch.cos(t / 10000 ** ((2 * i + 1) / d))",
            hint="dimensions 2i and 2i+1 must share one frequency, 1 / 10000**(2i/d)",
        ),
        Mutant(
            "first half sin, second half cos",
            SIN_COS,
            "    pe[:, : d // 2] = torch.sin(angles)\n    pe[:, d // 2 :] = torch.cos(angles)",
            hint="first half sin, second half cos (the tensor2tensor layout)",
        ),
        Mutant(
            "multiplies t by 10000**(2i/d)",
            "angles = t / 10000 ** (2 * i / d)",
            "angles = t * 10000 ** (2 * i / d)",
            hint="the angle is t / 10000**(2i/d) (t times a frequency that shrinks with",
        ),
        Mutant(
            "positions start at 1",
            "t = torch.arange(T, dtype=torch.float64)[:, None]",
            "t = torch.arange(1, T + 1, dtype=torch.float64)[:, None]",
            hint="the first row should be [0, 1, 0, 1, ...]",
        ),
    ],
    "apply_rope": [
        Mutant(
            "rotates the two halves (GPT-NeoX layout)",
            ROPE_PAIRS,
            "    even, odd = x[..., : d // 2], x[..., d // 2 :]\n    return torch.cat([even * cos - odd * sin, even * sin + odd * cos], dim=-1)",
            hint="RoPE rotates the two halves (x[i], x[i + d/2]) (the GPT-NeoX layout)",
        ),
        Mutant(
            "rotation in the wrong direction (negative angle)",
            "angles = positions.to(x.device, torch.float64)[..., None] * freqs",
            "angles = -positions.to(x.device, torch.float64)[..., None] * freqs",
            hint="the pair becomes (x[2i] cos - x[2i+1] sin, x[2i] sin + x[2i+1] cos)",
        ),
        Mutant(
            "ignores theta",
            "freqs = theta ** (-2 * i / d)",
            "freqs = 10000.0 ** (-2 * i / d)",
            hint="apply_rope(x, positions, theta=100.0) ignores theta",
        ),
        Mutant(
            "frequencies theta**(-i/d)",
            "freqs = theta ** (-2 * i / d)",
            "freqs = theta ** (-i / d)",
            hint="pair i rotates with frequency theta**(-2i/d)",
        ),
        Mutant(
            "ignores the positions (uses 0..T-1)",
            "angles = positions.to(x.device, torch.float64)[..., None] * freqs",
            "angles = torch.arange(x.shape[-2], dtype=torch.float64)[:, None] * freqs",
            hint="the positions you were given are ignored (you used 0..T-1)",
        ),
        Mutant(
            "returns float64 for float32 inputs",
            "cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)",
            "cos, sin = angles.cos(), angles.sin()",
            hint="return x's dtype (cast cos and sin with .to(x.dtype))",
        ),
        Mutant(
            "rotates x in place",
            ROPE_PAIRS,
            "    even, odd = x[..., 0::2].clone(), x[..., 1::2].clone()\n    x[..., 0::2] = even * cos - odd * sin\n    x[..., 1::2] = even * sin + odd * cos\n    return x",
            hint="return a new tensor and leave x as it was",
        ),
        Mutant(
            "not a rotation: sign error in the second component", "even * sin + odd * cos", "even * sin - odd * cos"
        ),
        Mutant(
            "adds the angle instead of rotating",
            ROPE_PAIRS,
            "    return x + torch.stack([sin, cos], dim=-1).flatten(-2)",
        ),
        Mutant(
            "calls TinyGPT's rope",
            "    d = x.shape[-1]\n",
            "    from course import models\n    return models.rope(x, positions, theta)\n    d = x.shape[-1]\n",
        ),
    ],
    "alibi_slopes": [
        Mutant(
            "2**(-8i/n) for every head count",
            "slopes = power_of_two(m) + power_of_two(2 * m)[0::2][: n_heads - m]",
            "slopes = power_of_two(n_heads)",
            hint="slopes for a non-power-of-two head count follow the ALiBi paper's",
        ),
        Mutant(
            "slopes in reverse order",
            "for i in range(1, n + 1)]",
            "for i in range(n, 0, -1)]",
            hint="head 1 gets the largest slope 2**(-8/n), the last head 2**(-8)",
        ),
        Mutant(
            "heads numbered from 0",
            "for i in range(1, n + 1)]",
            "for i in range(n)]",
            hint="heads are numbered i = 1..n, so the first slope is 2**(-8/n), not 1",
        ),
        Mutant(
            "exponent -i instead of -8i/n",
            "2.0 ** (-8.0 * i / n)",
            "2.0 ** (-i)",
            hint="the slopes always go down to 2**(-8) = 1/256",
        ),
        Mutant(
            "extra slopes from the odd positions [1::2]",
            "[0::2]",
            "[1::2]",
            hint="the extra slopes are every other slope of 2m heads starting from the",
        ),
        Mutant(
            "slopes sorted",
            "return torch.tensor(slopes)",
            "return torch.tensor(sorted(slopes, reverse=True))",
            hint="the 4 slopes of 4 heads first, then the 2 extra ones from 8 heads",
        ),
        Mutant(
            "extra slopes are the first ones of m heads again",
            "power_of_two(2 * m)[0::2][: n_heads - m]",
            "power_of_two(m)[: n_heads - m]",
            hint="the extra slopes are every other slope of 2m heads starting from the",
        ),
    ],
    "alibi_bias": [
        Mutant(
            "bias sign (i - j)",
            "distance = positions[None, :] - positions[:, None]",
            "distance = positions[:, None] - positions[None, :]",
            hint="slope * (j - i) is <= 0 for past keys (j < i), so the further back a",
        ),
        Mutant(
            "slope * j (row-shifted, as in the ALiBi repository)",
            "distance = positions[None, :] - positions[:, None]",
            "distance = positions[None, :].expand(T, T)",
            hint="bias is slope * j (the ALiBi repository's shortcut, equal after",
        ),
        Mutant(
            "symmetric -|j - i|",
            "distance = positions[None, :] - positions[:, None]",
            "distance = -(positions[None, :] - positions[:, None]).abs()",
            hint="future keys (j > i) should hold slope * (j - i) > 0, not -slope * |j",
        ),
        Mutant(
            "masks the future with -inf",
            "return slopes[:, None, None] * distance",
            "return (slopes[:, None, None] * distance).masked_fill(distance > 0, float('-inf'))",
            hint="do not mask here, the causal mask handles j > i",
        ),
        Mutant(
            "heads in reverse order",
            "slopes = alibi_slopes(n_heads)",
            "slopes = alibi_slopes(n_heads).flip(0)",
            hint="head h uses alibi_slopes(n_heads)[h]",
        ),
        Mutant(
            "slopes 2**(-8i/n) for every head count",
            "slopes = alibi_slopes(n_heads)",
            "slopes = 2.0 ** (-8.0 * torch.arange(1, n_heads + 1) / n_heads)",
            hint="alibi_bias(6, 3) has the right shape slope_h * (j - i) but the wrong",
        ),
    ],
    "interview_answers": [
        Mutant(
            "Q1: 2^(-8i/n) for 12 heads",
            "q1_alibi_slope = alibi_slopes(12)[9].item()",
            "q1_alibi_slope = 2 ** (-8 * 10 / 12)",
        ),
        Mutant(
            "Q1: head 9 (off by one)",
            "q1_alibi_slope = alibi_slopes(12)[9].item()",
            "q1_alibi_slope = alibi_slopes(12)[8].item()",
        ),
        Mutant(
            "Q1: the slopes sorted",
            "q1_alibi_slope = alibi_slopes(12)[9].item()",
            "q1_alibi_slope = alibi_slopes(12).sort(descending=True).values[9].item()",
        ),
        Mutant(
            "Q1: a string instead of a number",
            "q1_alibi_slope = alibi_slopes(12)[9].item()",
            "q1_alibi_slope = str(alibi_slopes(12)[9].item())",
        ),
        Mutant(
            "Q2: the positions swapped (an offset of -3)",
            "torch.tensor([1000]))\nrotated_key = apply_rope(torch.ones(1, 8), torch.tensor([997]))",
            "torch.tensor([997]))\nrotated_key = apply_rope(torch.ones(1, 8), torch.tensor([1000]))",
        ),
        Mutant(
            "Q2: the score before rotation",
            "q2_rope_score = (rotated_query * rotated_key).sum().item()",
            "q2_rope_score = (torch.arange(1.0, 9.0) * torch.ones(8)).sum().item()",
        ),
        Mutant("Q3: RoPE extrapolates as trained", 'q3_rope_long_context = "c"', 'q3_rope_long_context = "a"'),
        Mutant("Q3: interpolation needs no fine-tuning", 'q3_rope_long_context = "c"', 'q3_rope_long_context = "b"'),
    ],
}
