"""Judging hidden-test records against independent references.

A judge takes a probe's inputs and the outputs the student's code produced,
computes the expected values itself (PyTorch, closed forms, published numbers)
and raises `Mismatch` with a generic message on disagreement. Messages name
the behaviour that is wrong ("wrong values for large |x|"), never an expected
value or a line of test code.

In a grading run judges execute in the grader's process, on inputs the grader
regenerates from the seed; a submission never sees this package there. Outside
a grading run, `autograde.hidden` calls `verdict` inside the kernel.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from typing import Any, Callable

import torch

from autograde.hidden import PROBES, Probe, generator


class Mismatch(AssertionError):
    """The student's outputs disagree with the reference; the message is safe to show."""


JUDGES: dict[str, Callable[[Any, Any], None]] = {}


def judge(hidden_test: Callable[[Any], None]) -> Callable[[Callable[[Any, Any], None]], Callable[[Any, Any], None]]:
    """Register the decorated `fn(inputs, outputs)` as the judge of `hidden_test`."""

    def register(fn: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
        JUDGES[hidden_test.probe.name] = fn  # type: ignore[attr-defined]
        return fn

    return register


def load(module: str) -> None:
    """Import the probes and judges of one course module (e.g. "foundations")."""
    importlib.import_module(f"autograde.judge.{module}")


def verdict(spec: Probe, inputs: Any, record: Any) -> str | None:
    """None when the record passes; otherwise a one-line message for the student."""
    if not isinstance(record, dict) or record.get("probe") != spec.name:
        return f"{spec.label}: no valid result was recorded for this check"
    if record.get("raised"):
        return f"{spec.label} raised {record['raised']} on hidden inputs"[:300]
    if record.get("forbidden"):
        ops = ", ".join(str(op) for op in record["forbidden"])[:100]
        return f"{spec.label} calls PyTorch's built-in ({ops}); this exercise asks you to implement it yourself"
    load(spec.name.split(".")[0])
    try:
        JUDGES[spec.name](inputs, record.get("outputs"))
    except Mismatch as failure:
        return f"{spec.label}: {failure}"[:300]
    except Exception:  # noqa: BLE001 - malformed outputs must never crash the grader
        return f"{spec.label}: returned outputs of the wrong type or structure on hidden inputs"
    return None


def judge_record(name: str, seed: str, record: Any) -> str | None:
    """Grader entry point: regenerate the probe's inputs from `seed` and judge `record`."""
    module = name.split(".")[0]
    try:
        load(module)
    except ModuleNotFoundError:
        return f"unknown hidden test {name!r}"
    spec = PROBES.get(name)
    if spec is None:
        return f"unknown hidden test {name!r}"
    return verdict(spec, spec.inputs(generator(name, seed)), record)


# -- helpers for judges ---------------------------------------------------------------------


def not_raised(value: Any, what: str) -> Any:
    """Fail when a case's output is an exception record from `autograde.hidden.attempt`."""
    if isinstance(value, dict) and "raised" in value:
        raise Mismatch(f"{what}: raised {value['raised']}")
    return value


def expect_close(
    actual: Any,
    expected: Any,
    what: str,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    dtype: torch.dtype | None = None,
) -> None:
    """Fail unless `actual` (tensor or number) matches `expected` in shape and values."""
    not_raised(actual, what)
    if dtype is not None and (not isinstance(actual, torch.Tensor) or actual.dtype != dtype):
        raise Mismatch(f"{what}: should be a {dtype} tensor")
    if isinstance(actual, bool) or not isinstance(actual, (torch.Tensor, int, float)):
        raise Mismatch(f"{what}: should be a tensor or a number")
    actual_t = torch.as_tensor(actual).detach().to(torch.float64)
    expected_t = torch.as_tensor(expected).detach().to(torch.float64)
    if actual_t.shape != expected_t.shape:
        raise Mismatch(f"{what}: wrong shape {tuple(actual_t.shape)}")
    if not torch.isfinite(actual_t[torch.isfinite(expected_t)]).all():
        raise Mismatch(f"{what}: NaN or inf where a finite value was expected")
    if not torch.allclose(actual_t, expected_t, rtol=rtol, atol=atol, equal_nan=True):
        raise Mismatch(f"{what}: wrong values")


def paired(cases: list, outputs: Any) -> list[tuple[Any, Any]]:
    """(case, output) pairs; fails unless there is exactly one output per case."""
    expect(isinstance(outputs, list) and len(outputs) == len(cases), "wrong number of results")
    return list(zip(cases, outputs))


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Mismatch(message)


@dataclass(frozen=True)
class Choice:
    """Answer key of a multiple-choice question: one letter."""

    key: str

    def __call__(self, _: None, answer: Any) -> None:
        expect(isinstance(answer, str) and answer.strip().lower() == self.key, "incorrect answer")


@dataclass(frozen=True)
class Number:
    """Answer key of a numeric question, with its tolerance."""

    key: float
    rel: float = 1e-3
    abs: float = 1e-9

    def __call__(self, _: None, answer: Any) -> None:
        expect(close_number(answer, self.key, rel=self.rel, abs_=self.abs), "incorrect answer")


def answer_key(hidden_module: Any, keys: dict[str, Choice | Number]) -> None:
    """Register the key of every interview answer probed in `hidden_module`."""
    for name, key in keys.items():
        judge(getattr(hidden_module, name))(key)


def close_number(actual: Any, expected: float, rel: float = 1e-6, abs_: float = 1e-9) -> bool:
    """True when `actual` is a real number (not a bool) within tolerance of `expected`."""
    if isinstance(actual, torch.Tensor) and actual.numel() == 1:
        actual = actual.item()
    return isinstance(actual, (int, float)) and not isinstance(actual, bool) and math.isclose(actual, expected, rel_tol=rel, abs_tol=abs_)
