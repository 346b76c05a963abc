"""Visible checks of 02_positions.ipynb (module 02, the Transformer): positions."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from course.checks import call, expect_close, expect_tensor, fail, fixed, is_close, passed


def _pe_closed_form(
    T: int, d: int, base: float = 10000.0, pair_exponent: float = 2.0, column_exponent: bool = False, offset: int = 0
) -> torch.Tensor:
    """PE[t, 2i] = sin(t / base**(2i/d)), PE[t, 2i+1] = cos(same), and variants of it (float64)."""
    t = torch.arange(offset, offset + T, dtype=torch.float64)[:, None]
    i = torch.arange(d // 2, dtype=torch.float64)
    pe = torch.empty(T, d, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(t / base ** (pair_exponent * i / d))
    odd_exponent = (2 * i + 1) if column_exponent else pair_exponent * i
    pe[:, 1::2] = torch.cos(t / base ** (odd_exponent / d))
    return pe


def check_sinusoidal_positions(sinusoidal_positions: Callable) -> None:
    T, d = 6, 8
    pe = expect_tensor(call(sinusoidal_positions, T, d), "sinusoidal_positions(6, 8)", (T, d))
    if not pe.is_floating_point():
        fail("sinusoidal_positions should return a float tensor")
    expected = _pe_closed_form(T, d)
    if not is_close(pe, expected, rtol=0, atol=1e-5):
        swapped = expected.view(T, d // 2, 2).flip(-1).reshape(T, d)
        halves = torch.cat([expected[:, 0::2], expected[:, 1::2]], dim=1)
        if is_close(pe, swapped, rtol=0, atol=1e-5):
            fail("sin and cos swapped: sin goes on even dimensions (PE[t, 2i]), cos on odd ones (PE[t, 2i+1])")
        if is_close(pe, halves, rtol=0, atol=1e-5):
            fail(
                "first half sin, second half cos (the tensor2tensor layout); this course interleaves them: sin on dimension 2i, cos on dimension 2i+1"
            )
        if is_close(pe, _pe_closed_form(T, d, pair_exponent=1.0), rtol=0, atol=1e-5):
            fail("frequencies use i/d instead of 2i/d: the pair (2i, 2i+1) has wavelength 10000**(2i/d) times 2π")
        if is_close(pe, _pe_closed_form(T, d, column_exponent=True), rtol=0, atol=1e-5):
            fail(
                "dimensions 2i and 2i+1 must share one frequency, 1 / 10000**(2i/d); your cos dimensions use the exponent (2i+1)/d"
            )
        if is_close(pe, _pe_closed_form(T, d, base=1e-4), rtol=0, atol=1e-5):
            fail("the angle is t / 10000**(2i/d) (t times a frequency that shrinks with i), not t * 10000**(2i/d)")
        if is_close(pe, _pe_closed_form(T, d, offset=1), rtol=0, atol=1e-5):
            fail("positions start at t = 0: the first row should be [0, 1, 0, 1, ...]")
        expect_close(
            pe,
            expected,
            "sinusoidal_positions(6, 8)",
            "PE[t, 2i] = sin(t / 10000**(2i/d)), PE[t, 2i+1] = cos(t / 10000**(2i/d)), t = 0..T-1",
            rtol=0,
            atol=1e-5,
        )
    pe = expect_tensor(call(sinusoidal_positions, 40, 32), "sinusoidal_positions(40, 32)", (40, 32))
    expect_close(
        pe,
        _pe_closed_form(40, 32),
        "sinusoidal_positions(40, 32)",
        "compute the frequencies from the d you receive",
        rtol=0,
        atol=1e-4,
    )
    pe = expect_tensor(call(sinusoidal_positions, 1, 2), "sinusoidal_positions(1, 2)", (1, 2))
    expect_close(
        pe,
        torch.tensor([[0.0, 1.0]]),
        "sinusoidal_positions(1, 2)",
        "one position (t = 0) and one pair: [sin 0, cos 0]",
        rtol=0,
        atol=1e-6,
    )
    passed("sinusoidal_positions matches the formula of 'Attention Is All You Need'")


def _rope_closed_form(
    x: torch.Tensor,
    positions: torch.Tensor,
    theta: float,
    exponent: float = 2.0,
    sign: float = 1.0,
    halves: bool = False,
) -> torch.Tensor:
    """Rotate the pairs (x[2i], x[2i+1]) (or, with halves=True, (x[i], x[i + d/2])) by sign * p * theta**(-exponent*i/d)."""
    x = x.to(torch.float64)
    d = x.shape[-1]
    i = torch.arange(d // 2, dtype=torch.float64)
    angles = sign * positions.to(torch.float64)[:, None] * theta ** (-exponent * i / d)
    cos, sin = angles.cos(), angles.sin()
    if halves:
        a, b = x[..., : d // 2], x[..., d // 2 :]
        return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)
    a, b = x[..., 0::2], x[..., 1::2]
    return torch.stack([a * cos - b * sin, a * sin + b * cos], dim=-1).flatten(-2)


def check_apply_rope(apply_rope: Callable) -> None:
    x = fixed(2, 5, 8, seed=21)
    positions = torch.tensor([3, 0, 7, 7, 12])
    before = x.clone()
    y = expect_tensor(call(apply_rope, x, positions), "apply_rope(x, positions)", x.shape)
    if not torch.equal(x, before):
        fail("apply_rope changed its input x in place; return a new tensor and leave x as it was")
    expected = _rope_closed_form(x, positions, 10000.0)
    if not is_close(y, expected, rtol=1e-4, atol=1e-5):
        if is_close(y, _rope_closed_form(x, positions, 10000.0, halves=True), rtol=1e-4, atol=1e-5):
            fail(
                "RoPE rotates the two halves (x[i], x[i + d/2]) (the GPT-NeoX layout); this course rotates interleaved pairs (x[2i], x[2i+1])"
            )
        if is_close(y, _rope_closed_form(x, positions, 10000.0, sign=-1.0), rtol=1e-4, atol=1e-5):
            fail("rotation in the wrong direction: the pair becomes (x[2i] cos - x[2i+1] sin, x[2i] sin + x[2i+1] cos)")
        if is_close(y, _rope_closed_form(x, positions, 10000.0, exponent=1.0), rtol=1e-4, atol=1e-5):
            fail("frequencies use i/d instead of 2i/d: pair i rotates with frequency theta**(-2i/d)")
        if is_close(y, _rope_closed_form(x, torch.arange(5), 10000.0), rtol=1e-4, atol=1e-5):
            fail(
                "the positions you were given are ignored (you used 0..T-1): token t rotates by positions[t] times the frequency"
            )
        expect_close(
            y,
            expected,
            "apply_rope(x, positions)",
            "pair i of token t rotates by the angle positions[t] * theta**(-2i/d)",
            rtol=1e-4,
            atol=1e-5,
        )
    zero = call(apply_rope, x, torch.zeros(5, dtype=torch.long))
    expect_close(
        zero,
        x,
        "apply_rope at position 0",
        "position 0 is a rotation by angle 0: x comes back unchanged",
        rtol=1e-6,
        atol=1e-7,
    )
    y = call(apply_rope, x, positions, theta=100.0)
    if is_close(y, expected, rtol=1e-4, atol=1e-5):
        fail("apply_rope(x, positions, theta=100.0) ignores theta: the frequencies are theta**(-2i/d)")
    expect_close(
        y,
        _rope_closed_form(x, positions, 100.0),
        "apply_rope with theta=100",
        "the frequencies are theta**(-2i/d) with the theta you receive",
        rtol=1e-4,
        atol=1e-5,
    )
    x32 = fixed(3, 4, 6, seed=22, dtype=torch.float32)
    y = expect_tensor(
        call(apply_rope, x32, torch.arange(4) * 0.5), "apply_rope on float32 x with float positions", x32.shape
    )
    if y.dtype != torch.float32:
        fail(f"apply_rope returned {y.dtype} for a float32 x; return x's dtype (cast cos and sin with .to(x.dtype))")
    expect_close(
        y,
        _rope_closed_form(x32, torch.arange(4) * 0.5, 10000.0),
        "apply_rope on float32 x with float positions",
        "positions may be fractional",
        rtol=1e-4,
        atol=1e-5,
    )
    passed("apply_rope rotates interleaved pairs as in RoFormer")


def check_rope_relative(apply_rope: Callable) -> None:
    q, k = fixed(6, 8, seed=23), fixed(6, 8, seed=24)
    positions = torch.tensor([0, 1, 2, 5, 9, 10])
    q_rot, k_rot = call(apply_rope, q, positions), call(apply_rope, k, positions)
    expect_tensor(q_rot, "apply_rope(q, positions)", q.shape)
    if not is_close(q_rot.norm(dim=-1), q.norm(dim=-1), rtol=1e-6, atol=1e-8):
        fail(
            "apply_rope changes the lengths of the vectors; a rotation preserves them: ‖RoPE(x)‖ = ‖x‖ for every token"
        )
    for shift in (1, 37, 1000):
        q_shift, k_shift = call(apply_rope, q, positions + shift), call(apply_rope, k, positions + shift)
        if not is_close(q_shift @ k_shift.T, q_rot @ k_rot.T, rtol=1e-3, atol=1e-3):  # float32 angles are fine
            fail(
                f"shifting every position by {shift} changed the scores q_m · k_n; with R(m) a rotation by m θ_i, R(m)ᵀR(n) = R(n - m) depends only on the offset"
            )
    passed("RoPE scores q_m · k_n depend only on m - n, and lengths are preserved")


def _alibi_power_of_two(n: int) -> torch.Tensor:
    return torch.tensor([2.0 ** (-8.0 * i / n) for i in range(1, n + 1)], dtype=torch.float64)


def check_alibi_slopes(alibi_slopes: Callable) -> None:
    for n in (8, 4, 16, 1):
        slopes = expect_tensor(call(alibi_slopes, n), f"alibi_slopes({n})", (n,))
        if not slopes.is_floating_point():
            fail(f"alibi_slopes({n}) should return a float tensor, got {slopes.dtype}")
        expected = _alibi_power_of_two(n)
        if is_close(slopes, expected, rtol=1e-6, atol=0):
            continue
        if is_close(slopes, expected.flip(0), rtol=1e-6, atol=0):
            fail(
                f"alibi_slopes({n}) is in reverse order: head 1 gets the largest slope 2**(-8/n), the last head 2**(-8)"
            )
        if is_close(
            slopes, torch.tensor([2.0 ** (-8.0 * i / n) for i in range(n)], dtype=torch.float64), rtol=1e-6, atol=0
        ):
            fail(f"alibi_slopes({n}): heads are numbered i = 1..n, so the first slope is 2**(-8/n), not 1")
        if is_close(slopes, torch.tensor([2.0**-i for i in range(1, n + 1)], dtype=torch.float64), rtol=1e-6, atol=0):
            fail(f"alibi_slopes({n}): the exponent is -8i/n, not -i; the slopes always go down to 2**(-8) = 1/256")
        expect_close(
            slopes,
            expected,
            f"alibi_slopes({n})",
            "head i = 1..n gets 2**(-8i/n): 1/2, 1/4, ..., 1/256 for 8 heads",
            rtol=1e-6,
            atol=0,
        )
    passed("alibi_slopes is right for 1, 4, 8 and 16 heads")


def check_alibi_slopes_any_count(alibi_slopes: Callable) -> None:
    six = torch.tensor(
        [1 / 4, 1 / 16, 1 / 64, 1 / 256, 1 / 2, 1 / 8], dtype=torch.float64
    )  # 4 heads, then 8 heads [0::2][:2]
    slopes = expect_tensor(call(alibi_slopes, 6), "alibi_slopes(6)", (6,))
    if not is_close(slopes, six, rtol=1e-6, atol=0):
        if is_close(slopes, _alibi_power_of_two(6), rtol=1e-6, atol=0):
            fail(
                "slopes for a non-power-of-two head count follow the ALiBi paper's interleaving rule, not 2**(-8i/n): the m = 2**floor(log2 n) slopes of m heads, then every other slope of 2m heads"
            )
        if is_close(slopes, six.sort(descending=True).values, rtol=1e-6, atol=0):
            fail(
                "alibi_slopes(6) is sorted; keep the paper's order: the 4 slopes of 4 heads first, then the 2 extra ones from 8 heads"
            )
        if is_close(
            slopes,
            torch.tensor([1 / 4, 1 / 16, 1 / 64, 1 / 256, 1 / 4, 1 / 16], dtype=torch.float64),
            rtol=1e-6,
            atol=0,
        ):
            fail(
                "the extra slopes are every other slope of 2m heads starting from the first ([0::2]: 1/2, 1/8, ...), the ones between the slopes you already have"
            )
        expect_close(
            slopes,
            six,
            "alibi_slopes(6)",
            "4 heads give 1/4, 1/16, 1/64, 1/256; then take every other slope of 8 heads (1/2, 1/8, ...) for the 2 remaining heads",
            rtol=1e-6,
            atol=0,
        )
    for n in (3, 12):
        m = 2 ** int(math.floor(math.log2(n)))
        expected = torch.cat([_alibi_power_of_two(m), _alibi_power_of_two(2 * m)[0::2][: n - m]])
        expect_close(
            call(alibi_slopes, n),
            expected,
            f"alibi_slopes({n})",
            "m = 2**floor(log2 n) slopes of m heads, then every other slope of 2m heads ([0::2]) for the n - m remaining heads",
            rtol=1e-6,
            atol=0,
        )
    passed("alibi_slopes follows the ALiBi paper for 3, 6 and 12 heads")


def check_alibi_bias(alibi_bias: Callable) -> None:
    six = torch.tensor([1 / 4, 1 / 16, 1 / 64, 1 / 256, 1 / 2, 1 / 8], dtype=torch.float64)
    for n_heads, T, slopes in ((4, 5, _alibi_power_of_two(4)), (6, 3, six)):
        bias = call(alibi_bias, n_heads, T)
        if isinstance(bias, torch.Tensor) and bias.is_floating_point() and torch.isinf(bias).any():
            fail(
                "alibi_bias contains -inf: do not mask here, the causal mask handles j > i; the bias is slope * (j - i) everywhere"
            )
        expect_tensor(bias, f"alibi_bias({n_heads}, {T})", (n_heads, T, T))
        if not bias.is_floating_point():
            fail("alibi_bias should return a float tensor")
        offsets = (torch.arange(T)[None, :] - torch.arange(T)[:, None]).to(torch.float64)  # j - i
        expected = slopes[:, None, None] * offsets
        if is_close(bias, expected, rtol=1e-6, atol=1e-9):
            continue
        if is_close(bias, -expected, rtol=1e-6, atol=1e-9):
            fail(
                "bias sign: slope * (j - i) is <= 0 for past keys (j < i), so the further back a key, the lower its score"
            )
        if is_close(
            bias,
            slopes[:, None, None] * torch.arange(T, dtype=torch.float64).expand(n_heads, T, T),
            rtol=1e-6,
            atol=1e-9,
        ):
            fail(
                "bias is slope * j (the ALiBi repository's shortcut, equal after softmax because it differs by a constant per row); this exercise asks for slope * (j - i), 0 on the diagonal"
            )
        if is_close(bias, -expected.abs(), rtol=1e-6, atol=1e-9):
            fail(
                "future keys (j > i) should hold slope * (j - i) > 0, not -slope * |j - i|; the causal mask removes them later"
            )
        if is_close(bias, expected.flip(0), rtol=1e-6, atol=1e-9):
            fail("heads in reverse order: head h uses alibi_slopes(n_heads)[h]")
        ratio = bias.to(torch.float64)[:, 1, 0] * -1.0  # slope_h * (0 - 1)
        if is_close(bias, ratio[:, None, None] * offsets, rtol=1e-6, atol=1e-9):
            fail(
                f"alibi_bias({n_heads}, {T}) has the right shape slope_h * (j - i) but the wrong slopes: use alibi_slopes(n_heads)"
            )
        expect_close(
            bias,
            expected,
            f"alibi_bias({n_heads}, {T})",
            "bias[h, i, j] = alibi_slopes(n_heads)[h] * (j - i)",
            rtol=1e-6,
            atol=1e-9,
        )
    passed("alibi_bias is slope_h * (j - i) for every head")
