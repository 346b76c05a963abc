"""Record: results.json, grades.csv and nbgrader's gradebook, from the same results.

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
from autograde.grade.support.results import NotebookResult


def write_results(results: list[NotebookResult], out: Path) -> Path:
    rows = [row for result in results for row in result.rows()]
    path = out / "results.json"
    atomic_write(path, json.dumps(rows, indent=1))
    return path


def write_grades(results: list[NotebookResult], notebook_names: list[str], out: Path) -> Path:
    """One line per student: points per notebook, total and maximum."""
    by_student: dict[str, dict[str, NotebookResult]] = {}
    for result in results:
        by_student.setdefault(result.student, {})[result.notebook] = result
    path = out / "grades.csv"
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["student", *[n.removesuffix(".ipynb") for n in notebook_names], "total", "max_points"])
    for student in sorted(by_student):
        row = by_student[student]
        points = [row[n].points if n in row else 0.0 for n in notebook_names]
        max_points = sum(row[n].max_points for n in notebook_names if n in row)
        writer.writerow([student, *[f"{p:g}" for p in points], f"{sum(points):g}", f"{max_points:g}"])
    atomic_write(path, text.getvalue())
    return path


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
