"""Plausible wrong implementations of every graded exercise, one file per notebook
(tests/mutants/<module>/<notebook>.py, as in the other mirrored roots). Each file's MUTANTS maps a
solution cell's grade_id to mutants of its reference solution."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from autograde import settings


@dataclass(frozen=True)
class Mutant:
    """A plausible wrong implementation: `old` replaced by `new` in the reference solution
    (old=None: `new` is the whole cell).

    hint: text the exercise's visible check must print for this mistake (tests/test_mutants.py
    asserts it), tying each named mistake in a check to a mutant that makes it.
    demo: the grade cells this mutant fails; set on exactly one mutant per module, the mistake
    of the demo cohort's "one-bug" student.
    """

    description: str
    old: str | None
    new: str
    hint: str = ""
    demo: tuple[str, ...] = ()


def catalog(module: str) -> dict[str, dict[str, list[Mutant]]]:
    """notebook file name -> solution grade_id -> mutants, for one course module."""
    return {
        path.name: importlib.import_module(f"tests.mutants.{settings.notebook_module(path)}").MUTANTS
        for path in settings.notebooks(module)
    }


def demo_mutant(module: str) -> tuple[str, str, Mutant]:
    """(notebook, solution grade_id, mutant) of the module's one mutant marked for the demo."""
    marked = [
        (nb, sid, m)
        for nb, exercises in catalog(module).items()
        for sid, mutants in exercises.items()
        for m in mutants
        if m.demo
    ]
    if len(marked) != 1:
        raise LookupError(
            f"{module} has {len(marked)} mutants marked for the demo; mark exactly one (Mutant(..., demo=(<grade cells it fails>)))"
        )
    return marked[0]
