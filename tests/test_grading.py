"""The grader end to end, with real kernels: the demo cohort through `make demo`, agreement with
nbgrader autograde, re-runs and a run killed half-way. Hostile submissions: test_hostile.py;
mutants through the grader: test_grader_mutants.py."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from autograde import notebooks, settings
from autograde.baseline import nbgrader_autograde, our_cell_points
from autograde.demo import expected_points
from autograde.grade import grade
from autograde.grade.support import processes

pytestmark = pytest.mark.slow
MODULE = "01_foundations"
DEMO_OUT = settings.WORKSPACE / "demo" / "graded"  # every module's demo cohort, one course folder
DEMO_SUBMISSIONS = settings.WORKSPACE / "demo" / "submissions" / MODULE


@pytest.fixture(scope="module")
def demo_output():
    """`make demo`, as a user runs it: release check, demo cohort, grading, score table."""
    run = subprocess.run(["make", "demo"], cwd=settings.ROOT, capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run.stdout


@pytest.mark.parametrize("module", settings.modules())
def test_make_demo_reports_the_expected_scores(demo_output, module):
    assert f"release/{module}: equals a fresh generation from source" in demo_output
    assert "report:" in demo_output and str(DEMO_OUT / "report.html") in demo_output
    rows = [r for r in json.loads((DEMO_OUT / "results.json").read_text()) if r["module"] == module]
    totals: dict[str, float] = {}
    for row in rows:
        totals[row["student"]] = totals.get(row["student"], 0.0) + row["points"]
        assert set(row) == {"module", "student", "notebook", "grade_id", "points", "max_points", "status", "message"}
    assert totals == expected_points(module)
    statuses = {(r["student"], r["status"]) for r in rows}
    assert ("full-marks", "fail") not in statuses and ("full-marks", "error") not in statuses
    partial = {(r["notebook"], r["grade_id"]): r["status"] for r in rows if r["student"] == "partial"}
    assert "error" in partial.values() and "pass" in partial.values(), "the stubs left in earn nothing, the rest passes"


def test_demo_gradebook_agrees_with_results(demo_output):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{DEMO_OUT / 'gradebook.db'}") as gb:
        scores = {s.student.id: s.score for s in gb.assignment_submissions(MODULE)}
    assert scores == expected_points(MODULE)
    csv_lines = (DEMO_OUT / "grades.csv").read_text().splitlines()
    assert csv_lines[0].startswith("student,01_autograd,") and len(csv_lines) == 1 + len(expected_points(MODULE))


def test_feedback_hides_hidden_tests(demo_output):
    pages = list((DEMO_OUT / "feedback").glob(f"*/{MODULE}/*.html"))
    assert len(pages) == 3 * 4 + 3  # one per notebook, one index per student
    hidden_source = [
        line
        for path in (settings.ROOT / "autograde" / "hidden" / "foundations").glob("*.py")
        for line in path.read_text().splitlines()
    ]
    needles = ["BEGIN HIDDEN TESTS", "autograde.hidden", "from autograde"] + [
        line.strip() for line in hidden_source if line.strip().startswith(("def ", "return [", "lambda "))
    ]
    for page in pages:
        text = page.read_text()
        for needle in needles:
            assert needle not in text, f"{page.relative_to(DEMO_OUT)} shows {needle!r}"
        assert "Traceback (most recent call last)" not in text and "site-packages" not in text
    for autograded in (DEMO_OUT / "autograded").rglob("*.ipynb"):
        assert "BEGIN HIDDEN TESTS" not in autograded.read_text()


def test_a_second_run_changes_nothing(demo_output):
    before = (DEMO_OUT / "results.json").read_bytes()
    summary = grade(MODULE, DEMO_SUBMISSIONS, DEMO_OUT, progress=False)
    assert summary.graded == 0 and summary.reused == 12
    assert (DEMO_OUT / "results.json").read_bytes() == before


def test_a_run_killed_half_way_resumes_to_the_results_of_an_uninterrupted_one(demo_output, tmp_path):
    out = tmp_path / "out"
    (out / ".autograde").mkdir(parents=True)
    shutil.copyfile(DEMO_OUT / ".autograde" / "key", out / ".autograde" / "key")  # the demo run's hidden-test inputs
    finished = out / ".autograde" / MODULE / "results"
    run = subprocess.Popen(
        [sys.executable, "-m", "autograde", "grade", MODULE, str(DEMO_SUBMISSIONS), "--out", str(out)],
        cwd=settings.ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 600
    while len(list(finished.rglob("*.json"))) < 3:
        assert run.poll() is None and time.monotonic() < deadline, "the grader ended before it could be killed"
        time.sleep(0.1)
    tree = processes.descendants(run.pid)
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    assert len(list(finished.rglob("*.json"))) < 12, "killed half-way"
    time.sleep(2)
    survivors = [
        pid
        for pid in tree
        if os.path.exists(f"/proc/{pid}") and "Z" not in open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    ]
    assert not survivors, "workers, executors and kernels die with the grader"

    summary = grade(MODULE, DEMO_SUBMISSIONS, out, progress=False)
    assert summary.reused >= 3 and summary.graded + summary.reused == 12
    demo_rows = [r for r in json.loads((DEMO_OUT / "results.json").read_text()) if r["module"] == MODULE]
    assert json.loads((out / "results.json").read_text()) == demo_rows
    assert _module_grades(out, MODULE) == _module_grades(DEMO_OUT, MODULE)
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        cells = [
            (s.student.id, n.name, g.name, g.score)
            for s in gb.assignment_submissions(MODULE)
            for n in s.notebooks
            for g in n.grades
        ]
    assert len(cells) == len(set(cells)) == len(json.loads((out / "results.json").read_text())), (
        "no lost or duplicated grades"
    )


def _module_grades(out, module: str) -> list[list[str]]:
    """grades.csv's student column and one module's columns (its notebooks, then its total)."""
    import csv

    rows = list(csv.reader((out / "grades.csv").read_text().splitlines()))
    names = [p.stem for p in settings.notebooks(module)] + [module]
    keep = [0] + [rows[0].index(n) for n in names]
    return [[row[i] for i in keep] for row in rows]


def test_scores_agree_with_nbgrader_autograde_on_honest_submissions(demo_output, tmp_path):
    theirs, _ = nbgrader_autograde(MODULE, DEMO_SUBMISSIONS, tmp_path / "nbgrader")
    ours = our_cell_points([r for r in json.loads((DEMO_OUT / "results.json").read_text()) if r["module"] == MODULE])
    assert set(ours) == set(theirs)
    disagreements = {cell: (points, theirs[cell]) for cell, points in ours.items() if points != theirs[cell]}
    assert not disagreements, f"(ours, nbgrader's) differ: {disagreements}"


# -- what a student sees ----------------------------------------------------------------------------


def test_stubs_show_one_line_errors(demo_output):
    """In a real kernel, a stub called by a check or by an experiment shows `implement X first`
    in one line, not a traceback (the partial student leaves the second half of each notebook)."""
    executed = list((DEMO_OUT / ".autograde" / MODULE / "work" / "partial").rglob("executed.ipynb"))
    assert len(executed) == 4
    seen = 0
    for path in executed:
        for c in notebooks.read(path).cells:
            for out in c.get("outputs", []):
                if out.get("output_type") == "error" and out["ename"] in ("NotImplementedError", "CheckFailure"):
                    assert len(out["traceback"]) == 1 and "implement `" in out["traceback"][0], out["traceback"]
                    seen += 1
    assert seen >= 3
