"""Visible checks of 02_positions.ipynb (module 02, the Transformer): positions."""

from __future__ import annotations

from collections.abc import Callable

import torch

from course.checks import call, expect_close, expect_tensor, fail, fixed, fixture, is_close, passed


def check_sinusoidal_positions(sinusoidal_positions: Callable) -> None:
    T, d = 6, 8
    pe = expect_tensor(call(sinusoidal_positions, T, d), "sinusoidal_positions(6, 8)", (T, d))
    if not pe.is_floating_point():
        fail("sinusoidal_positions should return a float tensor")
    seven, sixteen = fixture("sinusoidal_positions(7, 8)"), fixture("sinusoidal_positions(6, 16)")
    expected = seven[:T]
    if not is_close(pe, expected, rtol=0, atol=1e-5):
        odd_exponent = expected.clone()
        odd_exponent[:, 1::2] = sixteen[:, 3::4]  # cos of the pairs 1, 3, 5, 7 of d = 16: exponents (2i+1)/8
        for mistake, message in (
            (
                expected.view(T, d // 2, 2).flip(-1).reshape(T, d),
                "sin and cos swapped: sin goes on even dimensions (PE[t, 2i]), cos on odd ones (PE[t, 2i+1])",
            ),
            (
                torch.cat([expected[:, 0::2], expected[:, 1::2]], dim=1),
                "first half sin, second half cos (the tensor2tensor layout); this course interleaves them: sin on dimension 2i, cos on dimension 2i+1",
            ),
            (
                sixteen[:, :d],
                "frequencies use i/d instead of 2i/d: the pair (2i, 2i+1) has wavelength 10000**(2i/d) times 2π",
            ),
            (
                odd_exponent,
                "dimensions 2i and 2i+1 must share one frequency, 1 / 10000**(2i/d); your cos dimensions use the exponent (2i+1)/d",
            ),
            (
                fixture("sinusoidal_positions(6, 8), t * 10000**(2i/d)"),
                "the angle is t / 10000**(2i/d) (t times a frequency that shrinks with i), not t * 10000**(2i/d)",
            ),
            (seven[1:], "positions start at t = 0: the first row should be [0, 1, 0, 1, ...]"),
        ):
            if is_close(pe, mistake, rtol=0, atol=1e-5):
                fail(message)
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
        fixture("sinusoidal_positions(40, 32)"),
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


def check_apply_rope(apply_rope: Callable) -> None:
    x = fixed(2, 5, 8, seed=21)
    positions = torch.tensor([3, 0, 7, 7, 12])
    before = x.clone()
    y = expect_tensor(call(apply_rope, x, positions), "apply_rope(x, positions)", x.shape)
    if not torch.equal(x, before):
        fail("apply_rope changed its input x in place; return a new tensor and leave x as it was")
    expected, theta_100 = fixture("apply_rope(x, positions)"), fixture("apply_rope(x, positions, theta=100)")
    if not is_close(y, expected, rtol=1e-4, atol=1e-5):
        for mistake, message in (
            (
                "apply_rope(x, positions), halves",
                "RoPE rotates the two halves (x[i], x[i + d/2]) (the GPT-NeoX layout); this course rotates interleaved pairs (x[2i], x[2i+1])",
            ),
            (
                "apply_rope(x, -positions)",
                "rotation in the wrong direction: the pair becomes (x[2i] cos - x[2i+1] sin, x[2i] sin + x[2i+1] cos)",
            ),
            (  # 10000**(-i/d) = 100**(-2i/d)
                "apply_rope(x, positions, theta=100)",
                "frequencies use i/d instead of 2i/d: pair i rotates with frequency theta**(-2i/d)",
            ),
            (
                "apply_rope(x, 0..T-1)",
                "the positions you were given are ignored (you used 0..T-1): token t rotates by positions[t] times the frequency",
            ),
        ):
            if is_close(y, fixture(mistake), rtol=1e-4, atol=1e-5):
                fail(message)
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
        theta_100,
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
        fixture("apply_rope(x32, positions / 2)"),
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


def check_alibi_slopes(alibi_slopes: Callable) -> None:
    for n in (8, 4, 16, 1):
        slopes = expect_tensor(call(alibi_slopes, n), f"alibi_slopes({n})", (n,))
        if not slopes.is_floating_point():
            fail(f"alibi_slopes({n}) should return a float tensor, got {slopes.dtype}")
        expected = fixture(f"alibi_slopes({n})")
        if is_close(slopes, expected, rtol=1e-6, atol=0):
            continue
        if is_close(slopes, expected.flip(0), rtol=1e-6, atol=0):
            fail(
                f"alibi_slopes({n}) is in reverse order: head 1 gets the largest slope 2**(-8/n), the last head 2**(-8)"
            )
        if is_close(slopes, expected / expected[0], rtol=1e-6, atol=0):
            fail(f"alibi_slopes({n}): heads are numbered i = 1..n, so the first slope is 2**(-8/n), not 1")
        if is_close(slopes, 0.5 ** torch.arange(1, n + 1, dtype=torch.float64), rtol=1e-6, atol=0):
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
    six = fixture("alibi_slopes(6)")  # 1/4, 1/16, 1/64, 1/256 (4 heads), then 1/2, 1/8 (8 heads [0::2][:2])
    slopes = expect_tensor(call(alibi_slopes, 6), "alibi_slopes(6)", (6,))
    if not is_close(slopes, six, rtol=1e-6, atol=0):
        powers = slopes.double()[0] ** torch.arange(1, 7, dtype=torch.float64)
        if is_close(slopes, powers, rtol=1e-6, atol=0) and is_close(slopes[-1], 2**-8, rtol=1e-6, atol=0):
            fail(
                "slopes for a non-power-of-two head count follow the ALiBi paper's interleaving rule, not 2**(-8i/n): the m = 2**floor(log2 n) slopes of m heads, then every other slope of 2m heads"
            )
        if is_close(slopes, six.sort(descending=True).values, rtol=1e-6, atol=0):
            fail(
                "alibi_slopes(6) is sorted; keep the paper's order: the 4 slopes of 4 heads first, then the 2 extra ones from 8 heads"
            )
        if is_close(slopes, torch.cat([six[:4], six[:2]]), rtol=1e-6, atol=0):
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
        expect_close(
            call(alibi_slopes, n),
            fixture(f"alibi_slopes({n})"),
            f"alibi_slopes({n})",
            "m = 2**floor(log2 n) slopes of m heads, then every other slope of 2m heads ([0::2]) for the n - m remaining heads",
            rtol=1e-6,
            atol=0,
        )
    passed("alibi_slopes follows the ALiBi paper for 3, 6 and 12 heads")


def check_alibi_bias(alibi_bias: Callable) -> None:
    for n_heads, T in ((4, 5), (6, 3)):
        slopes = fixture(f"alibi_slopes({n_heads})")
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
