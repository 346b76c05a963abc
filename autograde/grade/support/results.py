"""What grading produces: one row per student, notebook and graded cell."""

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
        raw["cells"] = [CellResult(**c) for c in raw["cells"]]
        return cls(**raw)


@dataclass
class Summary:
    """A whole grading run."""

    module: str
    out: Path
    results: list[NotebookResult] = field(default_factory=list)
    graded: int = 0  # notebooks executed in this run
    reused: int = 0  # notebooks whose earlier result was still valid
    seconds: float = 0.0
    sandbox: str = ""  # how kernels were isolated
