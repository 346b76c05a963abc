"""nbgrader's own `autograde` on a folder of submissions: the reference our grader must agree
with on honest notebooks, and the baseline of the speed benchmark."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from autograde import release

CellPoints = dict[tuple[str, str, str], float]  # (student, notebook file, grade_id) -> points


def nbgrader_autograde(module: str, submissions: Path, root: Path) -> tuple[CellPoints, float]:
    """Grade `submissions` (<student>/<notebook>.ipynb) with nbgrader autograde in a fresh course
    directory `root`. Returns the points of every autograded code cell and the wall time of grading."""
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI

    shutil.rmtree(root, ignore_errors=True)
    release.generate_into(module, root)
    students = sorted(p.name for p in submissions.iterdir() if p.is_dir())
    for student in students:
        for path in (submissions / student).glob("*.ipynb"):
            dest = root / "submitted" / student / module / path.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
    api = NbGraderAPI(config=release.nbgrader_config(root))
    started = time.monotonic()
    for student in students:
        outcome = api.autograde(module, student, force=True, create=True)
        if not outcome["success"]:
            raise RuntimeError(f"nbgrader autograde failed for {student}:\n{outcome.get('error') or outcome['log']}")
    seconds = time.monotonic() - started
    points: CellPoints = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for submission in gb.assignment_submissions(module):
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    if grade.cell.cell_type == "code":  # free answers: a person's (nbgrader zeroes unchanged ones)
                        points[(submission.student.id, f"{notebook.name}.ipynb", grade.name)] = grade.score
    return points, seconds


def our_cell_points(rows: list[dict]) -> CellPoints:
    """The same mapping from our results.json rows (manual and missing cells left out)."""
    return {
        (r["student"], r["notebook"], r["grade_id"]): r["points"]
        for r in rows
        if r["status"] not in ("manual", "missing")
    }
