"""What grading produces: one row per student, notebook and graded cell; one summary per module
graded into an output folder (OUT/.autograde/<module>/summary.json), from which the course-wide
results, grades and report are written."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograde.files import atomic_write
from autograde.grade.support.status import Status


@dataclass
class CellResult:
    """One graded cell and its `Status`."""

    grade_id: str
    points: float
    max_points: float
    status: Status
    message: str = ""

    def __post_init__(self) -> None:
        self.status = Status(self.status)


@dataclass
class NotebookResult:
    """One student's notebook: its graded cells, plus what happened to the file as a whole."""

    student: str
    notebook: str
    cells: list[CellResult]
    message: str = ""  # notebook-level note: corrupt file, misnamed, cells restored, kernel crashed...
    seconds: float = 0.0
    fingerprint: str = ""  # submission + course sources: a changed file is graded again
    timestamp: str | None = None

    @property
    def points(self) -> float:
        return sum(c.points for c in self.cells)

    @property
    def max_points(self) -> float:
        return sum(c.max_points for c in self.cells)

    def rows(self) -> list[dict]:
        return [{"student": self.student, "notebook": self.notebook, **asdict(cell)} for cell in self.cells]

    def save(self, path: Path) -> None:
        atomic_write(path, json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: Path) -> NotebookResult:
        raw = json.loads(path.read_text())
        return cls(**{**raw, "cells": [CellResult(**c) for c in raw["cells"]]})


@dataclass
class Summary:
    """The latest grading run of one module."""

    module: str
    out: Path
    results: list[NotebookResult] = field(default_factory=list)
    graded: int = 0  # notebooks executed in this run
    reused: int = 0  # notebooks whose earlier result was still valid
    seconds: float = 0.0
    sandbox: str = ""  # how kernels were isolated
    rejected: list[str] = field(default_factory=list)  # files that were not graded, and why

    @staticmethod
    def path(out: Path, module: str) -> Path:
        return out / ".autograde" / module / "summary.json"

    def save(self) -> None:
        data = asdict(self)
        data["out"] = str(self.out)
        atomic_write(self.path(self.out, self.module), json.dumps(data, indent=1))

    @classmethod
    def load(cls, out: Path, module: str) -> Summary:
        raw = json.loads(cls.path(out, module).read_text())
        raw["out"] = out
        raw["results"] = [
            NotebookResult(**{**r, "cells": [CellResult(**c) for c in r["cells"]]}) for r in raw["results"]
        ]
        return cls(**raw)


def course_summaries(out: Path, modules: list[str]) -> list[Summary]:
    """The summary of every module of `modules` graded into `out` so far, in course order."""
    return [Summary.load(out, m) for m in modules if Summary.path(out, m).is_file()]
