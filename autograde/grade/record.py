"""Record: results.json, grades.csv and nbgrader's gradebook, from the same results. The first two
cover every module graded into the output folder; the gradebook has one assignment per module.

The gradebook gets an auto score for every graded cell, so `nbgrader formgrader`,
`nbgrader export` and `nbgrader generate_feedback` work on the output folder.
Writing is idempotent: a second run writes the same values.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from autograde.files import atomic_write
from autograde.grade.support.results import NotebookResult, Summary


def write_results(summaries: list[Summary], out: Path) -> Path:
    """OUT/results.json: one row per graded cell of every module graded into OUT."""
    rows = [{"module": s.module, **row} for s in summaries for result in s.results for row in result.rows()]
    path = out / "results.json"
    atomic_write(path, json.dumps(rows, indent=1))
    return path


def write_grades(summaries: list[Summary], notebooks_of: dict[str, list[str]], out: Path) -> Path:
    """OUT/grades.csv, one line per student: points per notebook, then per module (after its
    notebooks), the course total and its maximum."""
    points: dict[str, dict[str, float]] = {}
    notebook_max: dict[str, float] = {}
    for summary in summaries:
        for r in summary.results:
            points.setdefault(r.student, {})[r.notebook] = r.points
            notebook_max[r.notebook] = r.max_points
    columns = [c for s in summaries for c in [*notebooks_of[s.module], s.module]]
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["student", *[c.removesuffix(".ipynb") for c in columns], "total", "max_points"])
    for student in sorted(points):
        own, row = points[student], []
        for s in summaries:
            row += [own.get(n, 0.0) for n in notebooks_of[s.module]] + [
                sum(own.get(n, 0.0) for n in notebooks_of[s.module])
            ]
        writer.writerow(
            [student, *[f"{p:g}" for p in row], f"{sum(own.values()):g}", f"{sum(notebook_max.values()):g}"]
        )
    atomic_write(out / "grades.csv", text.getvalue())
    return out / "grades.csv"


def write_gradebook(results: list[NotebookResult], module: str, db_url: str) -> None:
    """Auto scores into nbgrader's gradebook (students and submissions are created as needed)."""
    import warnings

    from nbgrader.api import Gradebook, InvalidEntry

    warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy autoflush notices inside nbgrader's API
    by_student: dict[str, list[NotebookResult]] = {}
    for result in results:
        by_student.setdefault(result.student, []).append(result)
    with Gradebook(db_url) as gb:
        for student, student_results in sorted(by_student.items()):
            gb.update_or_create_student(student)
            timestamp = next((r.timestamp for r in student_results if r.timestamp), None)
            try:
                gb.update_or_create_submission(module, student, **({"timestamp": timestamp} if timestamp else {}))
            except (InvalidEntry, ValueError):
                gb.update_or_create_submission(module, student)
            for result in student_results:
                notebook_id = result.notebook.removesuffix(".ipynb")
                for cell in result.cells:
                    grade = gb.find_grade(cell.grade_id, notebook_id, module, student)
                    grade.auto_score = (
                        None if cell.status == "manual" and cell.message != "no response" else cell.points
                    )
                    grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None
            gb.db.commit()
