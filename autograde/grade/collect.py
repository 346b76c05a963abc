"""Collect: find the submitted notebooks of one module.

Accepted layouts of SUBMISSIONS:
* `<student>/<notebook>.ipynb` (one folder per student);
* nbgrader's `submitted/<student>/<module>/<notebook>.ipynb` (pass the course
  directory or its `submitted/` folder); `timestamp.txt` beside the notebooks
  is kept as the submission time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path  # the submitted file, as found
    timestamp: str | None = None


@dataclass(frozen=True)
class Rejected:
    """Something in SUBMISSIONS that cannot be graded, and the student it belongs to, if any."""

    path: Path
    reason: str
    student: str | None = None


def _notebook_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix == ".ipynb" and not p.name.startswith("."))


def collect(path: Path, module: str) -> tuple[list[Submission], list[Rejected]]:
    """Submissions found under `path`, and what was skipped with the reason."""
    if not path.is_dir():
        raise SystemExit(f"{path} is not a folder of submissions")
    if (path / "submitted").is_dir():
        path = path / "submitted"
    submissions, rejected = [], []
    for folder in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not STUDENT_ID.match(folder.name):
            rejected.append(Rejected(folder, "folder name is not a valid student id (letters, digits, . _ @ + -)"))
            continue
        notebook_folder = folder / module if (folder / module).is_dir() else folder
        stamp = notebook_folder / "timestamp.txt"
        timestamp = stamp.read_text(errors="replace").strip()[:64] if stamp.is_file() else None
        files = _notebook_files(notebook_folder)
        if not files:
            rejected.append(Rejected(folder, f"no .ipynb file for {module}", folder.name))
        submissions += [Submission(folder.name, f, timestamp) for f in files]
    for stray in sorted(p for p in path.iterdir() if p.is_file() and p.suffix == ".ipynb"):
        rejected.append(Rejected(stray, "notebook outside a student folder: put it in <student>/"))
    return submissions, rejected
