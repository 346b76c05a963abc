"""Visible checks: the machinery every module's checks share.

A check takes the student's function or class, runs it on small fixed inputs,
compares the result with an independent reference (PyTorch, a property, or
expected values stored in assets/check_fixtures.json: no check ships a working
implementation of an exercise) and either prints one line starting with a check
mark or raises `CheckFailure` with a message that names the likely mistake.
Checks return None: a grade cell must not end in a value (nbgrader would read
it as a score).
"""

from __future__ import annotations

import functools
import importlib
import json
import math
import pkgutil
from importlib import resources
from types import ModuleType, TracebackType
from typing import Any

import torch


def submodules(package: str) -> list[ModuleType]:
    """Every submodule of `package` (one per notebook), imported, in name order."""
    path = importlib.import_module(package).__path__
    return [
        importlib.import_module(f"{package}.{info.name}")
        for info in sorted(pkgutil.iter_modules(path), key=lambda i: i.name)
    ]


def export_submodules(package: str, namespace: dict[str, Any], kind: type | None = None) -> list[str]:
    """Import every submodule of `package` (one per notebook) and put into `namespace` (the
    package's own) the public functions and classes each defines, or, with `kind`, its public
    instances of `kind`: a notebook's grade cells keep calling `checks.check_x(...)` or
    `hidden.x(...)` on the module's package. Two notebooks that define one name are an error."""
    origin: dict[str, str] = {}
    for module in submodules(package):
        for name, value in vars(module).items():
            if name.startswith("_"):
                continue
            if kind is not None:
                if not isinstance(value, kind):
                    continue
            elif getattr(value, "__module__", None) != module.__name__ or not callable(value):
                continue
            if name in origin and namespace[name] is not value:
                raise ImportError(f"{package}: {name} is defined in both {origin[name]} and {module.__name__}")
            origin.setdefault(name, module.__name__)
            namespace[name] = value
    return sorted(origin)


class CheckFailure(AssertionError):
    """A visible check failed; IPython shows the message alone, without a traceback."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[31m✗ {self}\x1b[0m"]


def fail(message: str) -> None:
    raise CheckFailure(message)


def passed(message: str) -> None:
    print(f"✓ {message}")


def stub_name(tb: TracebackType | None) -> str:
    """The qualified name of the function where a traceback ends (the stub that raised)."""
    name = "this exercise"
    while tb is not None:
        code = tb.tb_frame.f_code
        name = getattr(code, "co_qualname", code.co_name)
        tb = tb.tb_next
    return name


def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call the student's `fn`; a stub gives a one-line `implement X first` instead of a traceback."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as error:
        raise CheckFailure(
            f"implement `{stub_name(error.__traceback__)}` first (it still raises NotImplementedError)"
        ) from None


def expect_tensor(value: Any, what: str, shape: tuple[int, ...] | torch.Size | None = None) -> torch.Tensor:
    """Fail unless `value` is a tensor (of `shape`, when given) with no NaN or inf."""
    if not isinstance(value, torch.Tensor):
        fail(f"{what} should be a torch.Tensor, got {type(value).__name__}")
    if shape is not None and tuple(value.shape) != tuple(shape):
        fail(f"{what} has shape {tuple(value.shape)}, expected {tuple(shape)}")
    if value.is_floating_point() and not torch.isfinite(value).all():
        fail(f"{what} contains NaN or inf: is a step numerically unstable (exp of a large number, division by zero)?")
    return value


def is_close(actual: Any, expected: Any, rtol: float = 1e-5, atol: float = 1e-6) -> bool:
    """True when `actual` is a tensor or number equal to `expected` within tolerance."""
    try:
        actual_t = torch.as_tensor(actual, dtype=torch.float64)
        expected_t = torch.as_tensor(expected, dtype=torch.float64)
        return actual_t.shape == expected_t.shape and torch.allclose(actual_t, expected_t, rtol=rtol, atol=atol)
    except (TypeError, ValueError, RuntimeError):
        return False


def expect_close(actual: Any, expected: Any, what: str, hint: str = "", rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """Fail with `hint` unless `actual` matches `expected` (shape first, then values)."""
    if isinstance(expected, torch.Tensor):
        expect_tensor(actual, what, expected.shape)
    if not is_close(actual, expected, rtol, atol):
        fail(f"{what} is wrong" + (f": {hint}" if hint else ""))


def fixed(*shape: int, seed: int = 0, scale: float = 1.0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """A fixed random tensor for a visible check (same values on every machine)."""
    return scale * torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


SIGMAS = 6.0  # statistical tolerance: a correct solution fails one binomial test with probability 2e-9


def sigmas_off(count: int, n: int, p: float) -> float:
    """How many standard deviations `count` successes in `n` trials lie from the mean n·p of a
    binomial(n, p): the statistic every test of a random exercise compares with SIGMAS."""
    sd = math.sqrt(n * p * (1 - p))
    if sd == 0:
        return 0.0 if count == n * p else math.inf
    return abs(count - n * p) / sd


def first_difference(got: list, expected: list) -> int | None:
    """The first index where two sequences differ (the shorter one's length when one is a prefix of the
    other), or None when they are equal."""
    k = next((k for k, (a, b) in enumerate(zip(got, expected)) if a != b), None)
    return k if k is not None or len(got) == len(expected) else min(len(got), len(expected))


FIXTURES = "check_fixtures.json"  # in course/assets; generated from the grader's references


@functools.cache
def _stored() -> dict[str, Any]:
    return json.loads((resources.files("course") / "assets" / FIXTURES).read_text())


def fixture(name: str) -> Any:
    """A stored expected value for a visible check's fixed inputs, generated from the grader's
    references: a float64 tensor for a list, else the number or string."""
    value = _stored()[name]
    return torch.tensor(value, dtype=torch.float64) if isinstance(value, list) else value


def check_choice(answer: Any, name: str, options: str = "abc") -> None:
    """Format check only: a multiple-choice answer is one of the option letters."""
    if not isinstance(answer, str) or answer.strip().lower() not in options:
        fail(f"{name} should be one of {', '.join(repr(o) for o in options)}, got {answer!r}")
    passed(f"{name}: answer recorded")


def check_number(answer: Any, name: str) -> None:
    """Format check only: a numeric answer is a finite int or float."""
    if isinstance(answer, bool) or not isinstance(answer, (int, float)) or not math.isfinite(answer):
        fail(f"{name} should be a number, got {answer!r}")
    passed(f"{name}: answer recorded")
