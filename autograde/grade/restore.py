"""Restore: rebuild the notebook to execute from the source, keeping only the student's work.

The executed notebook is the source notebook, cell for cell and in source
order, with hidden tests in place. Only two things come from the submission:
the text of each solution cell (matched by nbgrader grade_id) and the cells the
student added, which run right after the cell they followed. So edited,
deleted, moved, duplicated or re-typed grade cells, and tampered metadata
(points, grade flags, ids, checksums), change nothing.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import nbformat
from nbformat import NotebookNode

from autograde import notebooks


@dataclass
class Restored:
    nb: NotebookNode
    source_index: dict[str, int]  # executed cell id -> index of its source cell (student-added cells: absent)
    notes: list[str] = field(default_factory=list)


def _match(
    submission: NotebookNode, wanted: set[str]
) -> tuple[dict[str, NotebookNode], dict[str | None, list[NotebookNode]], int]:
    """The submission's first cell of each course grade_id; its other cells by the course cell
    they follow (None: before any); how many course cells it duplicated."""
    matched: dict[str, NotebookNode] = {}
    added_after: dict[str | None, list[NotebookNode]] = {}
    anchor: str | None = None
    duplicates = 0
    for cell in submission.cells:
        gid = notebooks.grade_id(cell)
        if gid in wanted and gid not in matched:
            matched[gid] = cell
            anchor = gid
            continue
        duplicates += gid in wanted
        added_after.setdefault(anchor, []).append(cell)
    return matched, added_after, duplicates


def _student_cell(cell: NotebookNode, number: int) -> NotebookNode:
    """A cell the student added: its source only, under an id that marks it as theirs."""
    new = {"cell_type": cell.cell_type, "id": f"student-{number}", "metadata": {}, "source": cell.source}
    if cell.cell_type == "code":
        new.update(outputs=[], execution_count=None)
    return nbformat.from_dict(new)


def restore(submission: NotebookNode, source: NotebookNode, release: NotebookNode) -> Restored:
    """The notebook to grade: `source` with the student's solutions and added cells.

    `release` is the student version of `source` (same cells): it provides the
    metadata students' notebooks carry (checksums) and the stubs that replace
    a deleted solution cell.
    """
    if [notebooks.grade_id(c) for c in source.cells] != [notebooks.grade_id(c) for c in release.cells]:
        raise ValueError("the release notebook does not match its source: regenerate the release")
    matched, added_after, duplicates = _match(submission, {notebooks.grade_id(c) for c in source.cells})
    notes, missing = [], []
    out = copy.deepcopy(source)
    out.cells = []
    source_index: dict[str, int] = {}

    def add_student_cells(after: str | None) -> None:
        for cell in added_after.get(after, []):
            if cell.cell_type in ("code", "markdown"):
                out.cells.append(_student_cell(cell, sum(c["id"].startswith("student-") for c in out.cells)))

    add_student_cells(None)
    for index, (src, rel) in enumerate(zip(source.cells, release.cells)):
        gid = notebooks.grade_id(src)
        cell = copy.deepcopy(src)
        cell.metadata = copy.deepcopy(rel.metadata)
        cell["id"] = rel.get("id") or f"cell-{index}"
        if notebooks.is_solution(src):
            if gid in matched:
                cell.source = matched[gid].source
                if matched[gid].cell_type != src.cell_type:
                    notes.append(
                        f"cell {gid} had been turned into a {matched[gid].cell_type} cell; it was graded as {src.cell_type}"
                    )
            else:
                cell.source = rel.source
                missing.append(gid)
        elif gid not in matched:
            missing.append(gid)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        out.cells.append(cell)
        source_index[cell["id"]] = index
        add_student_cells(gid)
    if missing:
        shown = ", ".join(missing[:5]) + ("..." if len(missing) > 5 else "")
        notes.append(f"{len(missing)} cell(s) missing from the submission were restored from the course: {shown}")
    if duplicates:
        notes.append(f"{duplicates} duplicated course cell(s) were treated as your own added cells")
    return Restored(out, source_index, notes)
