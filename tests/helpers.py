"""Shared helpers of the test suite: run a source notebook's exercises in-process."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from nbformat import NotebookNode

from autograde import notebooks, settings
from autograde.notebooks import solution_text
from tests.mutants import Mutant


def source_notebooks() -> list[Path]:
    return [p for module in settings.modules() for p in settings.notebooks(module)]


def cell(nb: NotebookNode, grade_id: str) -> NotebookNode:
    return next(c for c in nb.cells if notebooks.grade_id(c) == grade_id)


def grade_cells_of(nb: NotebookNode, solution_id: str) -> list[NotebookNode]:
    """The code grade cells between solution cell `solution_id` and the next solution cell."""
    found, inside = [], False
    for c in nb.cells:
        if notebooks.is_solution(c):
            inside = notebooks.grade_id(c) == solution_id
        elif inside and notebooks.is_autograded(c):
            found.append(c)
    return found


def without_hidden(source: str) -> str:
    return source.split(notebooks.BEGIN_HIDDEN)[0]


def only_hidden(source: str) -> str:
    return notebooks.hidden_region(source)


def run_cell(code: str, namespace: dict) -> BaseException | None:
    """Execute `code` quietly; return the exception it raised, if any."""
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            exec(compile(code, "<cell>", "exec"), namespace)
        except Exception as error:  # noqa: BLE001
            return error
    return None


def base_namespace(nb: NotebookNode, solutions: bool = True) -> dict:
    """A namespace with the notebook's parameters and imports cells (and every reference solution) executed."""
    namespace: dict = {}
    for gid in ("parameters", "imports"):
        error = run_cell(cell(nb, gid).source, namespace)
        assert error is None, f"{gid} cell failed: {error!r}"
    for solution in (c for c in nb.cells if solutions and notebooks.is_solution(c) and c.cell_type == "code"):
        error = run_cell(solution_text(solution.source), namespace)
        assert error is None, f"reference solution {notebooks.grade_id(solution)} failed: {error!r}"
    return namespace


def apply_mutant(reference: str, mutant: Mutant) -> str:
    if mutant.old is None:
        return mutant.new
    assert mutant.old in reference, (
        f"mutant {mutant.description!r} no longer applies: {mutant.old!r} is not in the solution"
    )
    return reference.replace(mutant.old, mutant.new)
