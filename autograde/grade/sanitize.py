"""Sanitize: turn each submitted file into a clean notebook of this module, or a clear reason why not.

Checks, in order: size, empty, UTF-8, JSON, nbformat (version 3 is upgraded),
and which notebook of the module it is: by its cells' grade ids, so that a
misnamed file (`01_autograd (1).ipynb`) is still graded, and another module's
notebook is not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
from nbformat import NotebookNode

from autograde import notebooks
from autograde.grade.support.course import Course, digest
from autograde.grade.support.limits import MAX_SUBMISSION_BYTES

if TYPE_CHECKING:
    from autograde.grade.collect import Submission


@dataclass
class Sanitized:
    submission: Submission
    notebook: str | None  # name of the course notebook it is, e.g. "01_autograd.ipynb"
    nb: NotebookNode | None
    problem: str = ""  # why it cannot be graded ("" when it can)
    notes: list[str] = field(default_factory=list)


def _parse(raw: bytes) -> NotebookNode:
    if not raw.strip():
        raise ValueError("the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"the file is not UTF-8 text (byte {error.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"the file is not valid JSON (line {error.lineno}): was it saved completely?") from None
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        raise ValueError("the file is JSON but not a Jupyter notebook")
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as error:  # noqa: BLE001 - nbformat raises many kinds
        raise ValueError(f"the file is not a readable Jupyter notebook ({type(error).__name__})") from None
    cells = []
    for cell in nb.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            continue
        source = cell.get("source", "")
        cell["source"] = "".join(source) if isinstance(source, list) else str(source)
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = {}
        cells.append(cell)
    nb.cells = cells
    return nb


def identify(nb: NotebookNode, sources: dict[str, NotebookNode]) -> str | None:
    """The course notebook whose graded and solution cells `nb` shares most, if any."""
    ids = {notebooks.grade_id(c) for c in nb.cells} - {None}
    best, best_overlap = None, 0
    for name, source in sources.items():
        keys = {notebooks.grade_id(c) for c in source.cells if notebooks.is_solution(c) or notebooks.is_grade(c)}
        overlap = len(ids & keys)
        if overlap > best_overlap:
            best, best_overlap = name, overlap
    return best


def sanitize(submission: Submission, sources: dict[str, NotebookNode], module: str) -> Sanitized:
    path, submitted_as = submission.path, submission.notebook_name
    known = submitted_as if submitted_as in sources else None
    try:
        size = path.stat().st_size
        if size > MAX_SUBMISSION_BYTES:
            raise ValueError(
                f"the file is {size / 1e6:.0f} MB, over the {MAX_SUBMISSION_BYTES / 1e6:.0f} MB limit (clear the outputs and submit again)"
            )
        nb = _parse(path.read_bytes())
    except (OSError, ValueError, RecursionError, MemoryError) as error:
        reason = (
            str(error)
            if isinstance(error, (OSError, ValueError))
            else "the file is nested too deeply or too large to read"
        )
        return Sanitized(submission, known, None, reason)
    name = identify(nb, sources)
    if name is None:
        return Sanitized(submission, known, None, f"none of its cells belong to a notebook of {module}")
    notes = [] if name == submitted_as else [f"graded as {name} (the file was named {submitted_as})"]
    return Sanitized(submission, name, nb, "", notes)


@dataclass
class Task:
    """One notebook of one student, ready for the workers."""

    student: str
    notebook: str
    submission: Path | None  # the sanitized copy under OUT/submitted (None: nothing gradable)
    problem: str
    notes: list[str]
    fingerprint: str
    timestamp: str | None
    seed: str


def _choose(candidates: list[Sanitized], notebook: str) -> tuple[Sanitized, list[str]]:
    """One file per student and notebook: the exact name if present, else the newest."""
    ranked = sorted(
        candidates,
        key=lambda s: (s.problem == "", s.submission.notebook_name == notebook, s.submission.path.stat().st_mtime),
    )
    chosen = ranked[-1]
    ignored = [
        f"{s.submission.notebook_name} was ignored: {chosen.submission.notebook_name} was graded as {notebook}"
        for s in ranked[:-1]
    ]
    return chosen, ignored


def sanitize_all(course: Course, found: list[Submission], key: str) -> tuple[list[Task], dict[str, list[str]]]:
    """One task per (student, notebook) with a gradable file, its clean copy written where nbgrader
    keeps submissions (OUT/submitted); notes for the files that matched no notebook."""
    by_notebook: dict[tuple[str, str], list[Sanitized]] = {}
    unmatched: dict[str, list[str]] = {}
    for submission in found:
        checked = sanitize(submission, course.sources, course.module)
        if checked.notebook is None:
            unmatched.setdefault(submission.student, []).append(f"{submission.notebook_name}: {checked.problem}")
            continue
        by_notebook.setdefault((submission.student, checked.notebook), []).append(checked)
    tasks = []
    for (student, notebook), candidates in sorted(by_notebook.items()):
        chosen, ignored = _choose(candidates, notebook)
        copy_path = None
        raw = b""
        if chosen.nb is not None:
            copy_path = course.out / "submitted" / student / course.module / notebook
            if chosen.submission.path.resolve() != copy_path.resolve():
                notebooks.write(chosen.nb, copy_path)
            raw = copy_path.read_bytes()
        tasks.append(
            Task(
                student,
                notebook,
                copy_path,
                chosen.problem,
                chosen.notes + ignored,
                digest(course.fingerprint.encode(), raw, chosen.problem.encode()),
                chosen.submission.timestamp,
                f"{key}/{student}/{notebook}",
            )
        )
    return tasks, unmatched
