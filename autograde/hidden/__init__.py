"""Hidden tests, kernel side.

A hidden test is a *probe*: a function `cases(g) -> list[Case]` builds fresh
random inputs from a seeded generator, and a runner calls the student's
function or class once per case and returns plain outputs (tensors, numbers,
strings, lists, dicts, or the probe's declared `output` dataclass). Nothing
here knows the expected values. Probes live in `autograde/hidden/<module>/<notebook>.py`
and are registered with the `probe` decorator on their case builder:

    @probe("softmax", forbidden=SOFTMAX)
    def softmax_stability(g):
        return [case("scores near 1e4", randn(g, 4, 6) + 1e4, -1), ...]

The grade cell of an exercise calls it, e.g. `hidden.softmax_stability(softmax)`:

* in a grading run (the grader sets AUTOGRADE_RECORD_DIR), the outputs are
  saved to that folder and judged afterwards by `autograde.judge` in the
  grader's own process, which regenerates the cases from the seed. Code in
  the submission shares the kernel with this module, so nothing it can do
  here (patching torch, faking an exception handler) changes that verdict;
* otherwise (running a source notebook, `nbgrader autograde`), the outputs
  are judged right here and a failure raises `HiddenTestFailure`.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from autograde import fence
from autograde.files import atomic_write

RECORD_DIR_ENV = fence.RECORD_DIR_ENV  # set by the grader: save records there, judge nothing here
SEED_ENV = "AUTOGRADE_SEED"
MAX_MESSAGE = 200


class HiddenTestFailure(AssertionError):
    """A hidden test failed; the message is generic and IPython shows it without a traceback."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[31m✗ hidden test: {self}\x1b[0m"]


@dataclass(frozen=True)
class Case:
    """One call of the student's code, `fn(*args, **kwargs)`, named `label` in failure messages.

    `extra` carries what a custom runner or the judge needs beyond the call (an expression to
    evaluate, gradients to feed); it never reaches the student's code unless a runner passes it.
    """

    label: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


def case(label: str, *args: Any, **kwargs: Any) -> Case:
    """`Case(label, args, kwargs)`: the usual way to write a case."""
    return Case(label, args, kwargs)


@dataclass(frozen=True)
class Forbidden:
    """Library shortcuts an exercise must not call: ATen op names (regexes, watched while the
    student's code runs) and attribute or imported names (read in the solution cell)."""

    ops: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    def __add__(self, other: Forbidden) -> Forbidden:
        return Forbidden(self.ops + other.ops, self.names + other.names)


Runner = Callable[[Any, Case], Any]


def call(student: Any, c: Case) -> Any:
    """The default runner: the student's function on the case's arguments."""
    return student(*c.args, **c.kwargs)


def call_without_autograd(student: Any, c: Case) -> Any:
    """The student's function under `torch.inference_mode()`: a manual gradient may not use autograd."""
    with torch.inference_mode():
        return student(*c.args, **c.kwargs)


@dataclass(frozen=True)
class Probe:
    """One hidden test: how to build its cases, how to run one, what a run returns."""

    name: str  # "<module>.<test>", e.g. "foundations.gelu"
    home: str  # the file that defines it, autograde.hidden.<module>.<notebook>
    label: str  # what the student implemented, as named in failure messages
    cases: Callable[[torch.Generator], list[Case]]
    run: Runner = call
    output: type | None = None  # a dataclass when a run returns several named values
    forbidden: Forbidden = Forbidden()
    allowed: tuple[str, ...] = ()  # course code the exercise may call (prefixes of fence names)

    def decode(self, value: Any) -> Any:
        """A recorded output as the judge reads it: the `output` dataclass rebuilt and checked
        field by field (a malformed record raises ValueError), or the value itself."""
        if self.output is None:
            return value
        names = [f.name for f in dataclasses.fields(self.output)]
        if not isinstance(value, dict) or sorted(value) != sorted(names):
            raise ValueError(f"expected the fields {names}")
        return self.output(**value)


PROBES: dict[str, Probe] = {}


def _course_module(python_module: str) -> str:
    """ "autograde.hidden.transformer.positions" -> "transformer"."""
    parts = python_module.split(".")
    if parts[:2] != ["autograde", "hidden"] or len(parts) < 3:
        raise ValueError(f"probes live in autograde.hidden.<module>.<notebook>, not in {python_module}")
    return parts[2]


class HiddenTest:
    """What a grade cell calls with the student's object: `hidden.<name>(student)`."""

    def __init__(self, spec: Probe):
        self.probe = spec
        self.__name__ = self.__qualname__ = spec.name.split(".", 1)[1]

    def __call__(self, student: Any) -> None:
        _execute(self.probe, student)

    def __repr__(self) -> str:
        return f"<hidden test {self.probe.name}>"


def probe(
    label: str,
    *,
    run: Runner = call,
    output: type | None = None,
    forbidden: Forbidden = Forbidden(),
    allowed: tuple[str, ...] = (),
) -> Callable[[Callable[[torch.Generator], list[Case]]], HiddenTest]:
    """Register the decorated case builder as the probe named after it (in its course module).

    `allowed`: fenced course code the exercise is meant to call, e.g. ("course.models.TinyGPT",)
    for an exercise that uses the pretrained model as a black box (see `fence`)."""

    def register(cases: Callable[[torch.Generator], list[Case]]) -> HiddenTest:
        spec = Probe(
            f"{_course_module(cases.__module__)}.{cases.__name__}",
            cases.__module__,
            label,
            cases,
            run,
            output,
            forbidden,
            allowed,
        )
        if spec.name in PROBES and PROBES[spec.name].home != spec.home:
            raise ValueError(f"two probes are named {spec.name}")
        PROBES[spec.name] = spec
        return HiddenTest(spec)

    return register


def _single(_: torch.Generator) -> list[Case]:
    return [Case("")]


def _as_given(answer: Any, _: Case) -> Any:
    return answer


def answers(python_module: str, *names: str) -> list[HiddenTest]:
    """Probes for interview answers `q<N>_<topic>`: each records the answer as given; the
    notebook's judge compares it with the key."""
    tests = []
    for name in names:
        spec = Probe(
            f"{_course_module(python_module)}.{name}", python_module, name.split("_")[0].upper(), _single, _as_given
        )
        PROBES[spec.name] = spec
        tests.append(HiddenTest(spec))
    return tests


def generator(name: str, seed: str | None = None) -> torch.Generator:
    """The generator a probe's cases come from: a function of the run's seed and the probe's name."""
    base = seed if seed is not None else os.environ.get(SEED_ENV, "0")
    digest = hashlib.sha256(f"{base}/{name}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little"))


def randn(g: torch.Generator, *shape: int, dtype: torch.dtype = torch.float64, scale: float = 1.0) -> torch.Tensor:
    """Fresh random inputs for a probe."""
    return scale * torch.randn(*shape, generator=g, dtype=dtype)


def randint(g: torch.Generator, low: int, high: int) -> int:
    """A random int in [low, high]."""
    return int(torch.randint(low, high + 1, (1,), generator=g).item())


def _one_line(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:MAX_MESSAGE]


class _OpMonitor(TorchDispatchMode):
    """Records ATen ops whose names match the forbidden patterns."""

    def __init__(self, patterns: tuple[str, ...]):
        super().__init__()
        self.pattern = re.compile("|".join(f"(?:{p})" for p in patterns))
        self.seen: set[str] = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        if self.pattern.fullmatch(name):
            self.seen.add(name)
        return func(*args, **(kwargs or {}))


def plain(value: Any) -> Any:
    """Outputs reduced to types a record can hold: tensors, numbers, strings, lists, dicts
    (a dataclass becomes the dict of its fields)."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu").as_subclass(torch.Tensor).clone()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return f"<unsupported {type(value).__name__}>"


def _run_case(spec: Probe, student: Any, c: Case) -> dict[str, Any]:
    """{"value": output, "raised": None} or {"value": None, "raised": "<one line>"}."""
    try:
        return {"value": plain(spec.run(student, copy.deepcopy(c))), "raised": None}
    except Exception as error:  # noqa: BLE001 - any failure of student code is data here
        return {"value": None, "raised": _one_line(error)}


def observe(spec: Probe, student: Any, cases: list[Case]) -> dict[str, Any]:
    """Run the probe's cases on copies of their inputs: the record of what the student's code did,
    with the forbidden ops it called, the course functions it executed (`fence`) and what it did
    to defeat that watch."""
    monitor = _OpMonitor(spec.forbidden.ops) if spec.forbidden.ops else contextlib.nullcontext()
    with fence.watching(spec.allowed) as watch, monitor:
        results = [_run_case(spec, student, c) for c in cases]
    return {
        "probe": spec.name,
        "cases": results,
        "forbidden": sorted(monitor.seen) if spec.forbidden.ops else [],
        "fenced": watch.hits,
        "tampered": watch.tampering,
    }


def _execute(spec: Probe, student: Any) -> None:
    cases = spec.cases(generator(spec.name))
    record = observe(spec, student, cases)
    record_dir = os.environ.get(RECORD_DIR_ENV)
    if record_dir:
        atomic_write(Path(record_dir) / f"{spec.name}.pt", lambda tmp: torch.save(record, tmp))
        return
    from autograde.judge import verdict

    message = verdict(spec, cases, record)
    if message is not None:
        raise HiddenTestFailure(message)


__all__ = ["Case", "Forbidden", "HiddenTest", "Probe", "answers", "call", "case", "probe", "randn", "randint"]
