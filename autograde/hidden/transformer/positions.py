"""Hidden tests of 02_positions.ipynb: sinusoidal positions, RoPE, ALiBi (no expected values here)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from autograde.hidden import Case, Forbidden, answers, case, probe, randint, randn

ROPE = Forbidden(names=("rope",))  # course.models.rope, TinyGPT's own rotary helper


@probe("sinusoidal_positions")
def sinusoidal_positions(g: torch.Generator) -> list[Case]:
    sizes = [(1, 2), (7, 16), (3, 6), (50, 64), (randint(g, 20, 119), 2 * randint(g, 5, 39)), (128, 32)]
    return [case(f"T={T}, d={d}", T, d) for T, d in sizes]


@dataclass
class Rotated:
    y: torch.Tensor  # apply_rope's result
    x_after: torch.Tensor  # its input afterwards: must be unchanged


def _rotate(apply_rope, c: Case) -> Rotated:
    return Rotated(apply_rope(*c.args, **c.kwargs), c.args[0])


def _rope_case(label: str, x: torch.Tensor, positions: torch.Tensor, theta: float | None) -> Case:
    return Case(f"{label}: x {tuple(x.shape)} {x.dtype}", (x, positions), {} if theta is None else {"theta": theta})


@probe("apply_rope", run=_rotate, output=Rotated, forbidden=ROPE)
def apply_rope(g: torch.Generator) -> list[Case]:
    def unsorted_repeated(high: int) -> torch.Tensor:
        """Five positions in [0, high): four distinct ones, out of order, the smallest twice."""
        p0, p1, p2, p3 = torch.randperm(high, generator=g)[:4].sort().values.tolist()
        return torch.tensor([p2, p0, p3, p0, p1])

    return [
        _rope_case("one sequence", randn(g, 7, 8), torch.arange(7), None),
        _rope_case("batch and heads", randn(g, 2, 3, 9, 16, dtype=torch.float32), torch.arange(9), None),
        _rope_case("unsorted, repeated positions", randn(g, 4, 5, 12), unsorted_repeated(60), 500.0),
        _rope_case(
            "non-contiguous x, fractional positions",
            randn(g, 6, 3, 10).transpose(0, 1),
            torch.arange(6, dtype=torch.float32) * 0.25 + 3.0,
            1e6,
        ),
        _rope_case("one pair", randn(g, 1, 2, 2), torch.randint(1, 20, (2,), generator=g), 10.0),
        _rope_case(
            "a far position in float64",
            randn(g, 2, 1, 8, dtype=torch.float32),
            torch.tensor([300.0], dtype=torch.float64),
            None,
        ),
        _rope_case("non-contiguous positions", randn(g, 3, 2, 4, 6), torch.arange(0, 24, 3)[::2], 50.0),
    ]


@dataclass
class Shifted:
    q: torch.Tensor  # apply_rope(q, positions)
    k: torch.Tensor
    q_shifted: torch.Tensor  # apply_rope(q, positions + shift)
    k_shifted: torch.Tensor


def _rotate_and_shift(apply_rope, c: Case) -> Shifted:
    q, k, positions = c.args
    shifted = positions + c.extra["shift"]
    return Shifted(apply_rope(q, positions), apply_rope(k, positions), apply_rope(q, shifted), apply_rope(k, shifted))


@probe("apply_rope", run=_rotate_and_shift, output=Shifted, forbidden=ROPE)
def rope_relative(g: torch.Generator) -> list[Case]:
    cases = []
    for shape, dtype, shift in (
        ((9, 16), torch.float64, randint(g, 1, 500)),
        ((2, 3, 6, 8), torch.float32, randint(g, 1, 50)),
        ((5, 4), torch.float64, 7),
    ):
        q, k = randn(g, *shape, dtype=dtype), randn(g, *shape, dtype=dtype)
        positions = torch.randint(0, 40, (shape[-2],), generator=g)
        cases.append(
            Case(
                f"q and k {shape} {dtype}, every position shifted by {shift}", (q, k, positions), extra={"shift": shift}
            )
        )
    return cases


@probe("alibi_slopes")
def alibi_slopes(g: torch.Generator) -> list[Case]:
    counts = [1, 2, 4, 16, 32] + [2 ** randint(g, 6, 8) for _ in range(4)]  # then 64 to 256 heads
    return [case(f"{n} heads", n) for n in counts]


@probe("alibi_slopes")
def alibi_slopes_any_count(g: torch.Generator) -> list[Case]:
    others = [n for n in range(3, 49) if n & (n - 1)]
    counts = [3, 6, 12, 20, 24] + [others[randint(g, 0, len(others) - 1)] for _ in range(5)]
    return [case(f"{n} heads", n) for n in counts]


@probe("alibi_bias")
def alibi_bias(g: torch.Generator) -> list[Case]:
    sizes = [(8, 6), (1, 1), (6, 9), (12, 4), (16, randint(g, 10, 39))]
    return [case(f"{n} heads, T={T}", n, T) for n, T in sizes]


q1_alibi_slope, q2_rope_score, q3_rope_long_context = answers(
    __name__, "q1_alibi_slope", "q2_rope_score", "q3_rope_long_context"
)
