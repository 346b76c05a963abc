"""A sample of the mutants through `autograde grade`, with real kernels: records, the grader-side
judges, restore and the sandbox. tests/test_mutants.py rejects every mutant in-process, on
ten seeds; here the first GRADER_SAMPLE mutants of each exercise lose points in the grader."""

from __future__ import annotations

import copy

import pytest

from autograde import notebooks, settings
from autograde.grade import grade
from autograde.grade.support.limits import Limits
from autograde.notebooks import solution_text
from tests.helpers import apply_mutant, cell, grade_cells_of
from tests.mutants import catalog

pytestmark = pytest.mark.slow
GRADER_SAMPLE = 2


def mutant_cohort(module: str, dest) -> dict[tuple[str, str], dict[str, list[str]]]:
    """Student k submits every notebook with the k-th mutant of each exercise in it (k below
    GRADER_SAMPLE). Returns, per (student, notebook), the grade cells of each mutated exercise
    (one of them must lose points)."""
    expectations = {}
    for notebook, exercises in catalog(module).items():
        source = notebooks.read(settings.SOURCE / module / notebook)
        released = notebooks.read(settings.RELEASE / module / notebook)
        for k in range(min(GRADER_SAMPLE, max(len(m) for m in exercises.values()))):
            nb = copy.deepcopy(released)
            for c in nb.cells:
                if notebooks.is_solution(c):
                    c.source = solution_text(cell(source, notebooks.grade_id(c)).source)
            student = f"mutant-{k:02d}"
            expectations[(student, notebook)] = {}
            for solution_id, mutants in exercises.items():
                if k < len(mutants):
                    cell(nb, solution_id).source = apply_mutant(
                        solution_text(cell(source, solution_id).source), mutants[k]
                    )
                    expectations[(student, notebook)][f"{solution_id}: {mutants[k].description}"] = [
                        notebooks.grade_id(g) for g in grade_cells_of(source, solution_id)
                    ]
            notebooks.write(nb, dest / student / notebook)
    return expectations


@pytest.mark.parametrize("module", settings.modules())
def test_mutants_lose_points_in_the_grader(module, tmp_path, capsys):
    expectations = mutant_cohort(module, tmp_path / "submissions")
    summary = grade(
        module,
        tmp_path / "submissions",
        tmp_path / "out",
        progress=False,
        limits=Limits(cell_timeout=30, notebook_timeout=240),
    )
    points = {(r.student, r.notebook, c.grade_id): (c.points, c.max_points) for r in summary.results for c in r.cells}
    survivors = [
        f"{student}/{notebook}: {mutant}"
        for (student, notebook), mutated in expectations.items()
        for mutant, grade_ids in mutated.items()
        if all(points[(student, notebook, gid)][0] == points[(student, notebook, gid)][1] for gid in grade_ids)
    ]
    total = sum(len(m) for m in expectations.values())
    with capsys.disabled():
        print(f"\n{module}: the grader (real kernels) takes points from {total - len(survivors)}/{total} mutants")
    assert not survivors, "mutants that kept all their points:\n" + "\n".join(survivors)
