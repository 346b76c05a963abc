"""Reading, writing and inspecting notebooks (nbgrader metadata, hidden-test calls)."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from autograde.files import atomic_write

BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def read(path: Path) -> NotebookNode:
    return nbformat.read(str(path), as_version=4)


def dumps(nb: NotebookNode) -> str:
    """nbformat's canonical text of a notebook, exactly as `write` puts it on disk."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def write(nb: NotebookNode, path: Path) -> None:
    """Write atomically, in nbformat's canonical layout (stable diffs)."""
    atomic_write(path, dumps(nb))


def solution_text(source: str) -> str:
    """A solution cell's source without nbgrader's solution markers: what a student would write."""
    return "\n".join(
        line for line in source.splitlines() if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")
    )


def strip_outputs(nb: NotebookNode) -> NotebookNode:
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in ("execution", "papermill", "collapsed", "scrolled"):
            cell.metadata.pop(key, None)
    return nb


def meta(cell: NotebookNode) -> dict:
    """The cell's nbgrader metadata ({} when it has none)."""
    value = cell.get("metadata", {}).get("nbgrader", {})
    return value if isinstance(value, dict) else {}


def grade_id(cell: NotebookNode) -> str | None:
    value = meta(cell).get("grade_id")
    return value if isinstance(value, str) else None


def is_solution(cell: NotebookNode) -> bool:
    return bool(meta(cell).get("solution"))


def is_grade(cell: NotebookNode) -> bool:
    return bool(meta(cell).get("grade"))


def is_autograded(cell: NotebookNode) -> bool:
    """A code grade cell: scored by running it (not by a person)."""
    return is_grade(cell) and cell.cell_type == "code"


def points(cell: NotebookNode) -> float:
    return float(meta(cell).get("points", 0) or 0)


def hidden_region(source: str) -> str:
    """The code between the hidden-test markers ('' when there is none)."""
    if BEGIN_HIDDEN not in source:
        return ""
    return source.split(BEGIN_HIDDEN, 1)[1].split(END_HIDDEN, 1)[0]


def hidden_calls(source: str) -> list[str]:
    """Probe names a grade cell calls, e.g. ["foundations.gelu"], in order.

    Recognises `from autograde.hidden import <module> as <alias>` followed by
    `<alias>.<test>(...)`, the form every hidden-test region uses.
    """
    tree = ast.parse(hidden_region(source))
    aliases = {
        alias.asname or alias.name: alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "autograde.hidden"
        for alias in node.names
    }
    return [
        f"{aliases[node.func.value.id]}.{node.func.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in aliases
    ]
