"""The demo cohort, built from source at demo time, and the `demo` command.

Students: `full-marks` (the reference solutions), `partial` (the first half of each
notebook's exercises; the rest are the release's stubs, which must earn nothing) and
`one-bug` (the reference with the module's one mutant marked `demo` in tests/mutants).
`expected_points` says what each must score; the test suite checks it. Three students a
module keep the course-wide demo within its budget (docs/testing.md).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from nbformat import NotebookNode

from autograde import notebooks, settings


def demo_mutant(module: str) -> tuple:
    """(notebook, solution grade_id, mutant): the one-bug student's mistake, the module's mutant
    marked `demo` in the repository's tests/mutants."""
    if str(settings.ROOT) not in sys.path:
        sys.path.insert(0, str(settings.ROOT))
    from tests.mutants import demo_mutant as marked

    return marked(module)


def _fill(release_nb: NotebookNode, source_nb: NotebookNode, keep) -> NotebookNode:
    """The release notebook with the reference answer in every solution cell for which keep(cell) is true."""
    solutions = {notebooks.grade_id(c): c for c in source_nb.cells if notebooks.is_solution(c)}
    for cell in release_nb.cells:
        gid = notebooks.grade_id(cell)
        if gid in solutions and keep(gid):
            cell.source = notebooks.solution_text(solutions[gid].source)
    return release_nb


def _solution_ids(source_nb: NotebookNode) -> list[str]:
    return [notebooks.grade_id(c) for c in source_nb.cells if notebooks.is_solution(c)]


def build_cohort(module: str, dest: Path) -> Path:
    """Write <student>/<notebook>.ipynb for the three demo students of `module`."""
    shutil.rmtree(dest, ignore_errors=True)
    for path in settings.notebooks(module):
        source_nb = notebooks.read(path)
        ids = _solution_ids(source_nb)
        first_half = set(ids[: (len(ids) + 1) // 2])
        students = {
            "full-marks": _fill(notebooks.read(settings.RELEASE / module / path.name), source_nb, lambda gid: True),
            "partial": _fill(
                notebooks.read(settings.RELEASE / module / path.name), source_nb, lambda gid: gid in first_half
            ),
            "one-bug": _fill(notebooks.read(settings.RELEASE / module / path.name), source_nb, lambda gid: True),
        }
        notebook, cell_id, mutant = demo_mutant(module)
        if path.name == notebook:
            cell = next(c for c in students["one-bug"].cells if notebooks.grade_id(c) == cell_id)
            assert mutant.old in cell.source, f"the demo mutant no longer applies to {notebook}:{cell_id}"
            cell.source = cell.source.replace(mutant.old, mutant.new)
        for student, nb in students.items():
            notebooks.write(nb, dest / student / path.name)
    return dest


def expected_points(module: str) -> dict[str, float]:
    """What each demo student must score (autograded points only; free answers await a person)."""
    expected = {"full-marks": 0.0, "partial": 0.0, "one-bug": 0.0}
    bug_notebook, _, bug = demo_mutant(module)
    for path in settings.notebooks(module):
        nb = notebooks.read(path)
        ids = _solution_ids(nb)
        first_half = set(ids[: (len(ids) + 1) // 2])
        current = None
        for cell in nb.cells:
            if notebooks.is_solution(cell):
                current = notebooks.grade_id(cell)
            if not notebooks.is_autograded(cell):
                continue
            pts = notebooks.points(cell)
            expected["full-marks"] += pts
            expected["partial"] += pts if current in first_half else 0.0
            broken = path.name == bug_notebook and notebooks.grade_id(cell) in bug.demo
            expected["one-bug"] += 0.0 if broken else pts
    return expected


DEMO = settings.WORKSPACE / "demo"


def run_demo(modules: list[str] | None = None, workers: int | None = None) -> int:
    """Check the release, build each module's demo cohort, grade it into one course folder
    (workspace/demo/graded), print each module's scores and the course totals.

    With every module, the folder starts fresh; with some, only their grades are replaced."""
    from autograde import release
    from autograde.grade import grade
    from autograde.grade.report import course_table, score_table
    from autograde.grade.support.results import course_summaries

    out = DEMO / "graded"
    if modules is None:
        modules = settings.modules()
        if out.exists():
            shutil.rmtree(out)  # a fresh course folder; a folder that cannot be removed is an error
    status = 0
    for module in modules:
        submissions = build_cohort(module, DEMO / "submissions" / module)
        summary = grade(module, submissions, out, workers=workers, regrade=True)
        problems = release.check(module, out / "release" / module)  # grading generated it afresh
        print(f"release/{module}: " + ("equals a fresh generation from source" if not problems else "OUT OF DATE"))
        for problem in problems:
            print(f"  {problem}")
        status |= bool(problems)
        print(f"\n{module}: graded {summary.graded} notebooks in {summary.seconds:.0f} s\n")
        print(score_table(summary))
        expected = expected_points(module)
        totals = {s: sum(r.points for r in summary.results if r.student == s) for s in expected}
        for student, want in expected.items():
            if totals.get(student) != want:
                print(f"  unexpected: {student} scored {totals.get(student)}, expected {want:g}")
                status = 1
    print("\ncourse totals (autograded points of every module graded so far)\n")
    print(course_table(course_summaries(out, settings.modules())))
    print(
        f"\nreport:   {out / 'report.html'}\nresults:  {out / 'results.json'}\ngrades:   {out / 'grades.csv'}\nfeedback: {out / 'feedback'}\n"
    )
    return status
