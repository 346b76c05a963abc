"""Every mutant of every graded exercise is rejected by its grade cells, and by the hidden tests
alone (run in-process here; tests/test_grading.py runs them through the real grader); a mutant's
hint is what the visible check prints for it; the exercise code of every notebook is mirrored."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autograde import notebooks, settings
from autograde.grade.score import forbidden_mentions
from autograde.hidden import PROBES, SEED_ENV
from course.checks import CheckFailure
from tests.helpers import (
    apply_mutant,
    base_namespace,
    cell,
    grade_cells_of,
    only_hidden,
    run_cell,
    source_notebooks,
    without_hidden,
)
from tests.mutants import Mutant, catalog, demo_mutant

NOTEBOOKS = source_notebooks()
ROOTS = ("course/checks", "autograde/hidden", "autograde/judge", "tests/mutants")
# The grader derives each student's hidden inputs from a secret seed: the hidden tests alone
# must reject every mutant whatever the seed, here three of them (tests/test_grading.py runs a
# sample of the mutants through the real grader, on its own seeds).
SEEDS = ("0", "mutants-1", "mutants-2")


def _ids(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def _mutants(path: Path) -> dict[str, list[Mutant]]:
    return catalog(path.parent.name)[path.name]


def _solutions(nb) -> list[str]:
    return [notebooks.grade_id(c) for c in nb.cells if notebooks.is_solution(c) and c.cell_type == "code"]


def test_exercise_code_is_mirrored_one_file_per_notebook():
    """source/NN_module/KK_name.ipynb <-> <root>/<module>/<name>.py in each root, nothing orphaned."""
    expected = {settings.notebook_module(p).replace(".", "/") + ".py" for p in NOTEBOOKS}
    for root in ROOTS:
        folder = settings.ROOT / root
        found = {str(p.relative_to(folder)) for p in folder.glob("*/*.py") if p.name != "__init__.py"}
        assert found == expected, f"{root}: missing {sorted(expected - found)}, orphaned {sorted(found - expected)}"
        for module in {settings.hidden_module(p.parent.name) for p in NOTEBOOKS}:
            assert (folder / module / "__init__.py").is_file(), f"{root}/{module} has no __init__.py"


def rejected(nb, solution_id: str, code: str, hidden_only: bool, seed: str = "0") -> bool:
    """True when at least one grade cell of the exercise fails with `code` as the solution, the
    hidden tests drawing their inputs from `seed`."""
    os.environ[SEED_ENV] = seed
    namespace = base_namespace(nb)
    error = run_cell(code, namespace)
    assert error is None, f"the mutant itself does not run ({error!r}): mutants must be plausible, runnable code"
    for grade_cell in grade_cells_of(nb, solution_id):
        test_code = only_hidden(grade_cell.source) if hidden_only else grade_cell.source
        if run_cell(test_code, namespace) is not None:
            return True
        if any(
            forbidden_mentions(code, PROBES[name].forbidden.names) for name in notebooks.hidden_calls(grade_cell.source)
        ):
            return True  # the grader's static check of the solution cell
    return False


def check_messages(nb, solution_id: str, code: str) -> list[str]:
    """What the exercise's visible checks (hidden tests left out) say about `code`."""
    namespace = base_namespace(nb)
    run_cell(code, namespace)
    errors = [run_cell(without_hidden(c.source), namespace) for c in grade_cells_of(nb, solution_id)]
    return [str(e) for e in errors if isinstance(e, CheckFailure)]


def failing_cells(nb, solution_id: str, code: str) -> set[str]:
    namespace = base_namespace(nb)
    run_cell(code, namespace)
    return {notebooks.grade_id(c) for c in grade_cells_of(nb, solution_id) if run_cell(c.source, namespace) is not None}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_every_graded_exercise_has_three_mutants(path):
    mutants = _mutants(path)
    solutions = _solutions(notebooks.read(path))
    for solution_id in solutions:
        count = len(mutants.get(solution_id, []))
        assert count >= 3, f"{path.name}:{solution_id} has {count} mutants; every graded exercise needs at least 3"
    assert set(mutants) <= set(solutions), (
        f"{path.name}: mutants of unknown solution cells {sorted(set(mutants) - set(solutions))}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_every_mutant_is_rejected(path, capsys, monkeypatch):
    monkeypatch.setenv(SEED_ENV, "0")
    nb = notebooks.read(path)
    survivors, total, by_hidden, hinted = [], 0, 0, 0
    for solution_id, mutants in _mutants(path).items():
        reference = notebooks.solution_text(cell(nb, solution_id).source)
        for mutant in mutants:
            total += 1
            code = apply_mutant(reference, mutant)
            where = f"{path.name}:{solution_id}: {mutant.description}"
            if not rejected(nb, solution_id, code, hidden_only=False):
                survivors.append(f"{where} (grade cells)")
            missed = [seed for seed in SEEDS if not rejected(nb, solution_id, code, hidden_only=True, seed=seed)]
            if missed:
                survivors.append(f"{where} (hidden tests alone, seeds {missed})")
            else:
                by_hidden += 1
            if mutant.hint:
                hinted += 1
                messages = check_messages(nb, solution_id, code)
                if not any(mutant.hint in m for m in messages):
                    survivors.append(f"{where}: the visible check should say {mutant.hint!r}, it says {messages}")
    with capsys.disabled():
        print(
            f"\n{_ids(path)}: grade cells reject {total - sum('(grade cells)' in s for s in survivors)}/{total} mutants; hidden tests alone reject {by_hidden}/{total} on seeds {', '.join(SEEDS)}; {hinted} hints checked"
        )
    assert not survivors, "mutants not rejected:\n" + "\n".join(survivors)


@pytest.mark.parametrize("module", settings.modules())
def test_demo_mutant_fails_exactly_its_cells(module):
    """The demo's one-bug student scores what `autograde.demo.expected_points` says."""
    notebook, solution_id, mutant = demo_mutant(module)
    nb = notebooks.read(settings.SOURCE / module / notebook)
    code = apply_mutant(notebooks.solution_text(cell(nb, solution_id).source), mutant)
    assert failing_cells(nb, solution_id, code) == set(mutant.demo)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_reference_solutions_pass_in_process(path):
    """The reference solution of every exercise passes its grade cells (fast check of the same path)."""
    nb = notebooks.read(path)
    namespace = base_namespace(nb)
    for solution_id in _solutions(nb):
        for grade_cell in grade_cells_of(nb, solution_id):
            error = run_cell(grade_cell.source, namespace)
            assert error is None, f"{path.name}:{notebooks.grade_id(grade_cell)} fails with the reference: {error!r}"
