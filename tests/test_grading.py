"""The grader end to end, with real kernels: the demo cohort through `make demo`, every mutant
through `autograde grade`, broken and hostile submissions, and re-runs."""

from __future__ import annotations

import copy
import importlib
import json
import subprocess

import nbformat
import pytest

from autograde import notebooks, settings
from autograde.demo import expected_points, solution_text
from autograde.grade import grade
from autograde.grade.execute import Limits
from tests.helpers import apply_mutant, cell, grade_cells_of

pytestmark = pytest.mark.slow
MODULE = "01_foundations"
DEMO_OUT = settings.WORKSPACE / "demo" / MODULE / "graded"


@pytest.fixture(scope="module")
def demo_output():
    """`make demo`, as a user runs it: release check, demo cohort, grading, score table."""
    run = subprocess.run(["make", "demo"], cwd=settings.ROOT, capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run.stdout


def test_make_demo_reports_the_expected_scores(demo_output):
    assert "equals a fresh generation from source" in demo_output
    assert "report:" in demo_output and str(DEMO_OUT / "report.html") in demo_output
    rows = json.loads((DEMO_OUT / "results.json").read_text())
    totals: dict[str, float] = {}
    for row in rows:
        totals[row["student"]] = totals.get(row["student"], 0.0) + row["points"]
        assert set(row) == {"student", "notebook", "grade_id", "points", "max_points", "status", "message"}
    assert totals == expected_points(MODULE)
    statuses = {(r["student"], r["status"]) for r in rows}
    assert ("full-marks", "fail") not in statuses and ("full-marks", "error") not in statuses
    assert {s for st, s in statuses if st == "untouched"} <= {"error", "fail", "manual"}


def test_demo_gradebook_agrees_with_results(demo_output):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{DEMO_OUT / 'gradebook.db'}") as gb:
        scores = {s.student.id: s.score for s in gb.assignment_submissions(MODULE)}
    assert scores == expected_points(MODULE)
    csv_lines = (DEMO_OUT / "grades.csv").read_text().splitlines()
    assert csv_lines[0].startswith("student,01_autograd,") and len(csv_lines) == 5


def test_feedback_hides_hidden_tests(demo_output):
    pages = list((DEMO_OUT / "feedback").rglob("*.html"))
    assert len(pages) == 4 * 4 + 4  # one per notebook, one index per student
    hidden_source = (settings.ROOT / "autograde" / "hidden" / "foundations.py").read_text().splitlines()
    needles = ["BEGIN HIDDEN TESTS", "autograde.hidden", "from autograde"] + [line.strip() for line in hidden_source if line.strip().startswith(("def ", "return [", "lambda "))]
    for page in pages:
        text = page.read_text()
        for needle in needles:
            assert needle not in text, f"{page.relative_to(DEMO_OUT)} shows {needle!r}"
        assert "Traceback (most recent call last)" not in text and "site-packages" not in text
    for autograded in (DEMO_OUT / "autograded").rglob("*.ipynb"):
        assert "BEGIN HIDDEN TESTS" not in autograded.read_text()


def test_a_second_run_changes_nothing(demo_output):
    before = (DEMO_OUT / "results.json").read_bytes()
    summary = grade(MODULE, settings.WORKSPACE / "demo" / MODULE / "submissions", DEMO_OUT, progress=False)
    assert summary.graded == 0 and summary.reused == 16
    assert (DEMO_OUT / "results.json").read_bytes() == before


# -- every mutant, through the real grader ----------------------------------------------------------


def mutant_cohort(dest) -> dict[tuple[str, str], dict[str, list[str]]]:
    """Student k submits every notebook with the k-th mutant of each exercise in it. Returns, per
    (student, notebook), the grade cells of each mutated exercise (one of them must lose points)."""
    catalog = importlib.import_module(f"tests.mutants.{settings.hidden_module(MODULE)}").MUTANTS
    expectations = {}
    for notebook, exercises in catalog.items():
        source = notebooks.read(settings.SOURCE / MODULE / notebook)
        released = notebooks.read(settings.RELEASE / MODULE / notebook)
        for k in range(max(len(m) for m in exercises.values())):
            nb = copy.deepcopy(released)
            for c in nb.cells:
                if notebooks.is_solution(c):
                    c.source = solution_text(cell(source, notebooks.grade_id(c)).source)
            student = f"mutant-{k:02d}"
            expectations[(student, notebook)] = {}
            for solution_id, mutants in exercises.items():
                if k < len(mutants):
                    cell(nb, solution_id).source = apply_mutant(solution_text(cell(source, solution_id).source), mutants[k])
                    expectations[(student, notebook)][f"{solution_id}: {mutants[k].description}"] = [
                        notebooks.grade_id(g) for g in grade_cells_of(source, solution_id)
                    ]
            notebooks.write(nb, dest / student / notebook)
    return expectations


def test_every_mutant_loses_points_in_the_grader(tmp_path, capsys):
    expectations = mutant_cohort(tmp_path / "submissions")
    summary = grade(MODULE, tmp_path / "submissions", tmp_path / "out", progress=False, limits=Limits(cell_timeout=30, notebook_timeout=240))
    points = {(r.student, r.notebook, c.grade_id): (c.points, c.max_points) for r in summary.results for c in r.cells}
    survivors = [
        f"{student}/{notebook}: {mutant}"
        for (student, notebook), mutated in expectations.items()
        for mutant, grade_ids in mutated.items()
        if all(points[(student, notebook, gid)][0] == points[(student, notebook, gid)][1] for gid in grade_ids)
    ]
    total = sum(len(m) for m in expectations.values())
    with capsys.disabled():
        print(f"\n{MODULE}: the grader (real kernels) takes points from {total - len(survivors)}/{total} mutants")
    assert not survivors, "mutants that kept all their points:\n" + "\n".join(survivors)


# -- broken and hostile submissions ------------------------------------------------------------------


def full_notebook(notebook: str) -> nbformat.NotebookNode:
    source = notebooks.read(settings.SOURCE / MODULE / notebook)
    nb = notebooks.read(settings.RELEASE / MODULE / notebook)
    for c in nb.cells:
        if notebooks.is_solution(c):
            c.source = solution_text(cell(source, notebooks.grade_id(c)).source)
    return nb


def test_broken_and_hostile_submissions(tmp_path):
    nb1 = "01_autograd.ipynb"
    full = full_notebook(nb1)
    full_points = sum(notebooks.points(c) for c in full.cells if notebooks.is_autograded(c))
    subs = tmp_path / "submissions"

    notebooks.write(full, subs / "honest" / nb1)
    (subs / "corrupt").mkdir(parents=True)
    (subs / "corrupt" / nb1).write_text('{"cells": [')
    (subs / "empty").mkdir()
    (subs / "empty" / nb1).write_bytes(b"")
    notebooks.write(full, subs / "misnamed" / "01_autograd (1).ipynb")
    foreign = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {"grade_id": "other"}})])
    notebooks.write(foreign, subs / "foreign" / nb1)

    tampered = copy.deepcopy(full)
    cell(tampered, "value").source = "class Value:\n    pass"
    for gid in ("value_forward_test", "value_backward_test", "value_graph_test"):
        cell(tampered, gid).source = "pass"
        cell(tampered, gid).metadata["nbgrader"]["points"] = 100
    tampered.cells.append(nbformat.v4.new_code_cell("print('bonus')", metadata={"nbgrader": {"grade": True, "grade_id": "bonus", "points": 99, "locked": True, "solution": False}}))
    notebooks.write(tampered, subs / "tamperer" / nb1)

    def with_cell_after(gid: str, code: str) -> nbformat.NotebookNode:
        nb = copy.deepcopy(full)
        index = [notebooks.grade_id(c) for c in nb.cells].index(gid)
        nb.cells.insert(index + 1, nbformat.v4.new_code_cell(code))
        return nb

    notebooks.write(with_cell_after("value_graph_test", "import os\nos._exit(1)"), subs / "crasher" / nb1)
    notebooks.write(with_cell_after("value_graph_test", "while True:\n    pass"), subs / "looper" / nb1)
    notebooks.write(with_cell_after("value_graph_test", "for _ in range(10**9):\n    print('spam' * 1000)"), subs / "flooder" / nb1)
    patcher = with_cell_after("imports", "import torch\ntorch.allclose = lambda *a, **k: True\nimport math\nmath.isclose = lambda *a, **k: True")
    cell(patcher, "value").source = "class Value:\n    def __init__(self, data, _prev=(), _op=''):\n        self.data, self.grad = float(data), 0.0\n    def __getattr__(self, name):\n        return lambda *a, **k: self\n    __add__ = __mul__ = __sub__ = __truediv__ = __pow__ = __neg__ = __radd__ = __rsub__ = __rmul__ = __rtruediv__ = lambda self, *a: self"
    notebooks.write(patcher, subs / "patcher" / nb1)

    summary = grade(MODULE, subs, tmp_path / "out", progress=False, limits=Limits(cell_timeout=10, notebook_timeout=120))
    by = {(r.student, r.notebook): r for r in summary.results}
    value_points = sum(notebooks.points(c) for c in full.cells if notebooks.grade_id(c) in ("value_forward_test", "value_backward_test", "value_graph_test"))

    assert by[("honest", nb1)].points == full_points
    assert by[("misnamed", nb1)].points == full_points and "graded as" in by[("misnamed", nb1)].message
    for student, words in [("corrupt", "not valid JSON"), ("empty", "empty"), ("foreign", "none of its cells")]:
        result = by[(student, nb1)]
        assert result.points == 0 and all(words in c.message for c in result.cells if c.status != "manual"), (student, result.cells)
    assert by[("tamperer", nb1)].points == full_points - value_points
    assert by[("tamperer", nb1)].max_points == by[("honest", nb1)].max_points
    assert by[("patcher", nb1)].points == full_points - value_points
    for student in ("crasher", "looper", "flooder"):
        result = by[(student, nb1)]
        assert result.points == full_points, (student, [(c.grade_id, c.status, c.message) for c in result.cells])
        assert result.message, f"{student}: the notebook-level note says what happened"
    assert "crashed" in by[("crasher", nb1)].message and "time limit" in by[("looper", nb1)].message
    for other in ("02_backprop_mlp.ipynb", "03_optimizers.ipynb", "04_norms_rnn_conv.ipynb"):
        assert all(c.status == "missing" for c in by[("honest", other)].cells)


def test_untouched_notebooks_show_one_line_errors(demo_output):
    """In a real kernel, a stub called by a check or by an experiment shows `implement X first`
    in one line, not a traceback."""
    executed = list((DEMO_OUT / ".autograde" / "work" / "untouched").rglob("executed.ipynb"))
    assert len(executed) == 4
    seen = 0
    for path in executed:
        for c in notebooks.read(path).cells:
            for out in c.get("outputs", []):
                if out.get("output_type") == "error" and out["ename"] in ("NotImplementedError", "CheckFailure"):
                    assert len(out["traceback"]) == 1 and "implement `" in out["traceback"][0], out["traceback"]
                    seen += 1
    assert seen >= 20
