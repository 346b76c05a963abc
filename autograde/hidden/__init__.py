"""Hidden tests, kernel side.

A hidden test is a *probe*: `inputs(gen)` builds fresh random inputs from a
seeded generator and `run(student, inputs)` exercises the student's function
or class on them and returns plain outputs (tensors, numbers, strings, lists,
dicts). Nothing here knows the expected values.

The grade cell of an exercise calls a probe, e.g. `hidden.gelu(gelu)`:

* in a grading run (the grader sets AUTOGRADE_RECORD_DIR), the outputs are
  saved to that folder and judged afterwards by `autograde.judge` in the
  grader's own process, which regenerates the inputs from the seed. Code in
  the submission shares the kernel with this module, so nothing it can do
  here (patching torch, faking an exception handler) changes that verdict;
* otherwise (running a source notebook, `nbgrader autograde`), the outputs
  are judged right here and a failure raises `HiddenTestFailure`.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch.utils._python_dispatch import TorchDispatchMode

RECORD_DIR_ENV = "AUTOGRADE_RECORD_DIR"
SEED_ENV = "AUTOGRADE_SEED"
MAX_MESSAGE = 200


class HiddenTestFailure(AssertionError):
    """A hidden test failed; the message is generic and IPython shows it without a traceback."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[31m✗ hidden test: {self}\x1b[0m"]


@dataclass(frozen=True)
class Probe:
    """One hidden test: how to build its inputs and how to exercise the student's code."""

    name: str  # "<module>.<test>", e.g. "foundations.gelu"
    label: str  # what the student implemented, as named in failure messages
    inputs: Callable[[torch.Generator], Any]
    run: Callable[[Any, Any], Any]
    forbidden_ops: tuple[str, ...] = ()  # regexes on ATen op names the student's code must not call
    forbidden_names: tuple[str, ...] = ()  # attribute names the solution cell must not mention (torch shortcuts)


PROBES: dict[str, Probe] = {}


def probe(
    inputs: Callable[[torch.Generator], Any],
    label: str,
    forbidden_ops: tuple[str, ...] = (),
    forbidden_names: tuple[str, ...] = (),
    name: str | None = None,
    module: str | None = None,
) -> Callable[[Callable[[Any, Any], Any]], Callable[[Any], None]]:
    """Register `run` as a probe called `name` (default: the function's name) of `module`
    (default: the module `run` is defined in).

    The returned function is what a grade cell calls with the student's object.
    """

    def register(run: Callable[[Any, Any], Any]) -> Callable[[Any], None]:
        test_name = name or run.__name__
        course_module = (module or run.__module__).rsplit(".", 1)[-1]
        spec = Probe(f"{course_module}.{test_name}", label, inputs, run, tuple(forbidden_ops), tuple(forbidden_names))
        PROBES[spec.name] = spec

        def hidden_test(student: Any) -> None:
            _execute(spec, student)

        hidden_test.__name__ = hidden_test.__qualname__ = test_name
        hidden_test.__doc__ = run.__doc__
        hidden_test.probe = spec  # type: ignore[attr-defined]
        return hidden_test

    return register


def _as_given(answer: Any, _: None) -> Any:
    return answer


def answer_probes(module: str, *names: str) -> list[Callable[[Any], None]]:
    """Probes for interview answers `q<N>_<topic>`: each records the answer as given; the
    module's judge compares it with the key."""
    return [probe(lambda g: None, label=name.split("_")[0].upper(), name=name, module=module)(_as_given) for name in names]


def generator(name: str, seed: str | None = None) -> torch.Generator:
    """The generator a probe's inputs come from: a function of the run's seed and the probe's name."""
    base = seed if seed is not None else os.environ.get(SEED_ENV, "0")
    digest = hashlib.sha256(f"{base}/{name}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little"))


def randn(g: torch.Generator, *shape: int, dtype: torch.dtype = torch.float64, scale: float = 1.0) -> torch.Tensor:
    """Fresh random inputs for a probe."""
    return scale * torch.randn(*shape, generator=g, dtype=dtype)


def raised(error: BaseException) -> dict[str, str]:
    """How an exception from the student's code appears in outputs: one line, bounded."""
    return {"raised": f"{type(error).__name__}: {error}"[:MAX_MESSAGE]}


def attempt(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call student code; an exception becomes a `raised(...)` entry instead of ending the probe."""
    try:
        return fn(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - any failure of student code is data here
        return raised(error)


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
    """Outputs reduced to types a record can hold: tensors, numbers, strings, lists, dicts."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu").as_subclass(torch.Tensor).clone()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return f"<unsupported {type(value).__name__}>"


def observe(spec: Probe, student: Any, inputs: Any) -> dict[str, Any]:
    """Run the probe on copies of `inputs`; the record of what the student's code did."""
    monitor = _OpMonitor(spec.forbidden_ops) if spec.forbidden_ops else None
    outputs, error = None, None
    try:
        if monitor is not None:
            with monitor:
                outputs = spec.run(student, copy.deepcopy(inputs))
        else:
            outputs = spec.run(student, copy.deepcopy(inputs))
    except Exception as exc:  # noqa: BLE001 - the record says what went wrong
        error = raised(exc)["raised"]
    return {
        "probe": spec.name,
        "outputs": plain(outputs),
        "raised": error,
        "forbidden": sorted(monitor.seen) if monitor is not None else [],
    }


def _execute(spec: Probe, student: Any) -> None:
    inputs = spec.inputs(generator(spec.name))
    record = observe(spec, student, inputs)
    record_dir = os.environ.get(RECORD_DIR_ENV)
    if record_dir:
        path = Path(record_dir) / f"{spec.name}.pt"
        torch.save(record, path.with_suffix(".tmp"))
        os.replace(path.with_suffix(".tmp"), path)
        return
    from autograde.judge import verdict

    message = verdict(spec, inputs, record)
    if message is not None:
        raise HiddenTestFailure(message)
