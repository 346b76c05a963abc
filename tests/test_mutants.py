"""Every mutant of every graded exercise is rejected by its grade cells, and by the hidden
tests alone (run in-process here; tests/test_grading.py runs them through the real grader)."""

from __future__ import annotations

import importlib

import pytest

from autograde import notebooks, settings
from autograde.demo import solution_text
from autograde.grade.score import forbidden_mentions
from autograde.hidden import PROBES
from tests.helpers import Mutant, apply_mutant, base_namespace, cell, grade_cells_of, only_hidden, run_cell

MODULES = settings.modules()


def catalog(module: str) -> dict[str, dict[str, list[Mutant]]]:
    return importlib.import_module(f"tests.mutants.{settings.hidden_module(module)}").MUTANTS


def rejected(nb, solution_id: str, code: str, hidden_only: bool) -> bool:
    """True when at least one grade cell of the exercise fails with `code` as the solution."""
    namespace = base_namespace(nb)
    error = run_cell(code, namespace)
    assert error is None, f"the mutant itself does not run ({error!r}): mutants must be plausible, runnable code"
    for grade_cell in grade_cells_of(nb, solution_id):
        test_code = only_hidden(grade_cell.source) if hidden_only else grade_cell.source
        if run_cell(test_code, namespace) is not None:
            return True
        if any(forbidden_mentions(code, PROBES[name].forbidden_names) for name in notebooks.hidden_calls(grade_cell.source)):
            return True  # the grader's static check of the solution cell
    return False


@pytest.mark.parametrize("module", MODULES)
def test_every_graded_exercise_has_three_mutants(module):
    mutants = catalog(module)
    for path in settings.notebooks(module):
        nb = notebooks.read(path)
        solutions = [notebooks.grade_id(c) for c in nb.cells if notebooks.is_solution(c) and c.cell_type == "code"]
        for solution_id in solutions:
            count = len(mutants.get(path.name, {}).get(solution_id, []))
            assert count >= 3, f"{path.name}:{solution_id} has {count} mutants; every graded exercise needs at least 3"


@pytest.mark.parametrize("module", MODULES)
def test_every_mutant_is_rejected(module, capsys):
    survivors, total, by_hidden = [], 0, 0
    for notebook, exercises in catalog(module).items():
        nb = notebooks.read(settings.SOURCE / module / notebook)
        for solution_id, mutants in exercises.items():
            reference = solution_text(cell(nb, solution_id).source)
            for mutant in mutants:
                total += 1
                code = apply_mutant(reference, mutant)
                if not rejected(nb, solution_id, code, hidden_only=False):
                    survivors.append(f"{notebook}:{solution_id}: {mutant.description} (grade cells)")
                if rejected(nb, solution_id, code, hidden_only=True):
                    by_hidden += 1
                else:
                    survivors.append(f"{notebook}:{solution_id}: {mutant.description} (hidden tests alone)")
    with capsys.disabled():
        print(f"\n{module}: grade cells reject {total - sum('(grade cells)' in s for s in survivors)}/{total} mutants; hidden tests alone reject {by_hidden}/{total}")
    assert not survivors, "mutants not rejected:\n" + "\n".join(survivors)


@pytest.mark.parametrize("module", MODULES)
def test_reference_solutions_pass_in_process(module):
    """The reference solution of every exercise passes its grade cells (fast check of the same path)."""
    for path in settings.notebooks(module):
        nb = notebooks.read(path)
        namespace = base_namespace(nb)
        for solution in (c for c in nb.cells if notebooks.is_solution(c) and c.cell_type == "code"):
            for grade_cell in grade_cells_of(nb, notebooks.grade_id(solution)):
                error = run_cell(grade_cell.source, namespace)
                assert error is None, f"{path.name}:{notebooks.grade_id(grade_cell)} fails with the reference: {error!r}"
