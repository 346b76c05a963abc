"""Score: decide each graded cell in the grader's process, from evidence the kernel cannot fake.

A code grade cell earns its points iff it ran without error output, the
hidden tests it calls left records while it ran, every record passes its
judge (inputs regenerated here from the seed, references computed here) and
the exercise's solution cell does not name a forbidden PyTorch shortcut.
Markdown answers are left to a person (status "manual").

The same step writes the autograded notebook that the gradebook and the
feedback use: grade cells show their student version (no hidden tests) and
the grader's verdict instead of tracebacks.
"""

from __future__ import annotations

import ast
import copy
from functools import lru_cache
from pathlib import Path

import torch
from nbformat import NotebookNode
from nbformat.v4 import new_output

from autograde import notebooks
from autograde.grade.execute import Execution
from autograde.grade.restore import Restored
from autograde.grade.support.results import CellResult
from autograde.grade.support.status import CellRun, Status
from autograde.hidden import PROBES
from autograde.judge import judge_record, load

MAX_RECORD_BYTES = 16 * 1024 * 1024
FAILED_CHECK = {"CheckFailure", "HiddenTestFailure", "AssertionError"}


def _load_record(path: Path):
    if not path.is_file() or path.stat().st_size > MAX_RECORD_BYTES:
        return None
    try:
        return torch.load(path, weights_only=True)
    except Exception:  # noqa: BLE001 - a corrupt or forged file is just a missing record
        return None


def _first_line(text: str, limit: int = 200) -> str:
    line = next((s for s in str(text).strip().splitlines() if s.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _error_verdict(outputs: list) -> tuple[Status, str] | None:
    """(status, message) from the first error output of a cell, None when there is none."""
    for out in outputs:
        if out.get("output_type") == "error":
            ename, evalue = str(out.get("ename", "")), str(out.get("evalue", ""))
            if ename == "NotImplementedError":
                return Status.ERROR, "not implemented yet (the code still raises NotImplementedError)"
            if ename in FAILED_CHECK:
                return Status.FAIL, _first_line(evalue) or "a check failed"
            return Status.ERROR, _first_line(f"{ename}: {evalue}")
    return None


def forbidden_mentions(code: str, names: tuple[str, ...]) -> list[str]:
    """Forbidden attribute or imported names in `code` (e.g. `F.gelu`, `from torch... import gelu`)."""
    if not names:
        return []
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in names:
            found.add(node.attr)
        elif isinstance(node, ast.ImportFrom):
            found.update(alias.name for alias in node.names if alias.name in names)
    return sorted(found)


def _judge_cell(cell: NotebookNode, records: Path, seed: str, solution_code: str) -> tuple[Status, str]:
    """(status, message) of a code grade cell that ran without an error output."""
    calls = notebooks.hidden_calls(cell.source)
    for name in calls:
        load(name.split(".")[0])
        spec = PROBES.get(name)
        record = _load_record(records / f"{name}.pt")
        if record is None:
            return (
                Status.FAIL,
                f"{spec.label if spec else name}: the hidden test left no result (was the check tampered with?)",
            )
        message = judge_record(name, seed, record)
        if message is not None:
            return Status.FAIL, message
        if spec is not None:
            shortcuts = forbidden_mentions(solution_code, spec.forbidden.names)
            if shortcuts:
                return (
                    Status.FAIL,
                    f"{spec.label} uses PyTorch's {', '.join(shortcuts)}, which this exercise asks you to implement yourself",
                )
    return Status.PASS, ""


@lru_cache(maxsize=1)
def _hidden_lines() -> frozenset[str]:
    """Distinctive lines of the hidden tests' source: none may reach a feedback page."""
    import autograde.hidden

    folder = Path(autograde.hidden.__file__).parent
    lines = (line.strip() for path in folder.rglob("*.py") for line in path.read_text().splitlines())
    return frozenset(line for line in lines if len(line) >= 20)


def _without_hidden_lines(text: str) -> str:
    hidden = _hidden_lines()
    kept = [line for line in text.split("\n") if line.strip() not in hidden]
    return (
        "\n".join(kept)
        if len(kept) == len(text.split("\n"))
        else "\n".join(kept) + "\n[lines of the grader's hidden tests removed]\n"
    )


def scrub(nb: NotebookNode) -> NotebookNode:
    """No hidden-test source and no traceback from the grader's code in any cell's outputs:
    such tracebacks shrink to one line, printed hidden-test lines are removed."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and any("autograde" in line for line in out.get("traceback", [])):
                out["traceback"] = [f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"[:300]]
            if out.get("output_type") == "stream":
                out["text"] = _without_hidden_lines(out.get("text", ""))
            for key in ("text/plain", "text/html", "text/markdown"):
                if isinstance(out.get("data", {}).get(key), str):
                    out["data"][key] = _without_hidden_lines(out["data"][key])
    return nb


def score(
    executed: NotebookNode,
    execution: Execution,
    restored: Restored,
    release: NotebookNode,
    records_dir: Path,
    seed: str,
) -> tuple[list[CellResult], NotebookNode]:
    """Results per graded cell, and the autograded notebook (student view with verdicts)."""
    results: list[CellResult] = []
    autograded = copy.deepcopy(executed)
    solution_code = ""
    for index, cell in enumerate(autograded.cells):
        source_index = restored.source_index.get(cell.get("id"))
        if source_index is None:
            continue
        if notebooks.is_solution(cell) and cell.cell_type == "code":
            solution_code = cell.source
        if not notebooks.is_grade(cell):
            continue
        gid, max_points = notebooks.grade_id(cell), notebooks.points(cell)
        if cell.cell_type == "markdown":
            unanswered = cell.source.strip() == release.cells[source_index].source.strip()
            results.append(
                CellResult(
                    gid, 0.0, max_points, Status.MANUAL, "no response" if unanswered else "graded by your instructor"
                )
            )
            continue
        run = execution.statuses.get(index, CellRun.NOT_RUN)
        if run != CellRun.RAN:
            status, message = run.status, run.sentence
        else:
            status, message = _error_verdict(cell.get("outputs", [])) or _judge_cell(
                cell, records_dir / str(index), seed, solution_code
            )
        results.append(CellResult(gid, max_points if status == Status.PASS else 0.0, max_points, status, message))
        cell.source = release.cells[source_index].source
        cell.outputs = [
            o for o in cell.get("outputs", []) if o.get("output_type") == "stream" and o.get("name") == "stdout"
        ]
        if status != Status.PASS:
            cell.outputs.append(
                new_output("error", ename=status.value.capitalize(), evalue=message, traceback=[f"✗ {message}"])
            )
    return results, scrub(autograded)
