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
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import torch

from autograde.hidden import PROBES, Case, HiddenTest, Probe, generator


class Mismatch(AssertionError):
    """The student's outputs disagree with the reference; the message is safe to show."""


Judge = Callable[[Case, Any], None]
JUDGES: dict[str, Judge] = {}


def judge(*hidden_tests: HiddenTest) -> Callable[[Judge], Judge]:
    """Register the decorated `fn(case, output)` as the judge of each of `hidden_tests`: it is
    called once per case with what the student's code returned there (the probe's `output`
    dataclass when it declares one) and raises `Mismatch` when that is wrong."""

    def register(fn: Judge) -> Judge:
        for test in hidden_tests:
            JUDGES[test.probe.name] = fn
        return fn

    return register


def probes_for(judge_module: str) -> ModuleType:
    """The probes a judge file judges: for autograde.judge.<module>.<notebook>, the module
    autograde.hidden.<module>.<notebook> (by name: its package re-exports the probes, and a probe
    may share its notebook's name)."""
    return importlib.import_module(judge_module.replace("autograde.judge.", "autograde.hidden.", 1))


def load(module: str) -> None:
    """Import the probes and judges of one course module (e.g. "foundations")."""
    importlib.import_module(f"autograde.judge.{module}")


def _where(spec: Probe, c: Case) -> str:
    return f"{spec.label}, {c.label}" if c.label else spec.label


def verdict(spec: Probe, cases: list[Case], record: Any) -> str | None:
    """None when the record passes every case; otherwise a one-line message for the student."""
    if not isinstance(record, dict) or record.get("probe") != spec.name:
        return f"{spec.label}: no valid result was recorded for this check"
    if not all(isinstance(record.get(key), list) for key in ("forbidden", "fenced", "tampered")):
        return f"{spec.label}: no valid result was recorded for this check"
    if record["tampered"]:
        what = "; ".join(str(t) for t in record["tampered"])[:120]
        return f"{spec.label}: the submission interfered with the grading ({what}), so no result can be trusted"
    if record["fenced"]:
        names = ", ".join(str(n).removeprefix("course.") for n in record["fenced"])[:100]
        return f"{spec.label} uses the course's own implementation ({names}); this exercise asks for yours"
    if record.get("forbidden"):
        ops = ", ".join(str(op) for op in record["forbidden"])[:100]
        return f"{spec.label} calls PyTorch's built-in ({ops}); this exercise asks you to implement it yourself"
    results = record.get("cases")
    if not isinstance(results, list) or len(results) != len(cases) or not all(isinstance(r, dict) for r in results):
        return f"{spec.label}: no valid result was recorded for this check"
    load(spec.name.split(".")[0])
    for c, result in zip(cases, results):
        where = _where(spec, c)
        if result.get("raised"):
            return f"{where}: raised {result['raised']}"[:300]
        try:
            JUDGES[spec.name](c, spec.decode(result.get("value")))
        except Mismatch as failure:
            return f"{where}: {failure}"[:300]
        except Exception:  # noqa: BLE001 - malformed outputs must never crash the grader
            return f"{where}: returned outputs of the wrong type or structure"[:300]
    return None


def judge_record(name: str, seed: str, record: Any) -> str | None:
    """Grader entry point: regenerate the probe's cases from `seed` and judge `record`."""
    try:
        load(name.split(".")[0])
    except ModuleNotFoundError:
        return f"unknown hidden test {name!r}"
    spec = PROBES.get(name)
    if spec is None:
        return f"unknown hidden test {name!r}"
    return verdict(spec, spec.cases(generator(name, seed)), record)


# -- helpers for judges ---------------------------------------------------------------------


def expect_close(
    actual: Any,
    expected: Any,
    what: str,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    dtype: torch.dtype | None = None,
) -> None:
    """Fail unless `actual` (tensor or number) matches `expected` in shape and values."""
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


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Mismatch(message)


@dataclass(frozen=True)
class Choice:
    """Answer key of a multiple-choice question: one letter."""

    key: str

    def __call__(self, _: Case, answer: Any) -> None:
        expect(isinstance(answer, str) and answer.strip().lower() == self.key, "incorrect answer")


@dataclass(frozen=True)
class Number:
    """Answer key of a numeric question, with its tolerance."""

    key: float
    rel: float = 1e-3
    abs: float = 1e-9

    def __call__(self, _: Case, answer: Any) -> None:
        expect(close_number(answer, self.key, rel=self.rel, abs_=self.abs), "incorrect answer")


@dataclass(frozen=True)
class Computed:
    """Answer key of a numeric question whose key takes seconds to compute (training a tokenizer):
    `compute` runs when the first answer is judged, and should cache its result."""

    compute: Callable[[], float]
    rel: float = 1e-3
    abs: float = 1e-9

    def __call__(self, c: Case, answer: Any) -> None:
        Number(self.compute(), self.rel, self.abs)(c, answer)


def answer_key(hidden_module: Any, keys: dict[str, Choice | Number | Computed]) -> None:
    """Register the key of every interview answer probed in `hidden_module`."""
    for name, key in keys.items():
        judge(getattr(hidden_module, name))(key)


def close_number(actual: Any, expected: float, rel: float = 1e-6, abs_: float = 1e-9) -> bool:
    """True when `actual` is a real number (not a bool) within tolerance of `expected`."""
    if isinstance(actual, torch.Tensor) and actual.numel() == 1:
        actual = actual.item()
    return (
        isinstance(actual, (int, float))
        and not isinstance(actual, bool)
        and math.isclose(actual, expected, rel_tol=rel, abs_tol=abs_)
    )
