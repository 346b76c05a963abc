"""Inject: papermill parameters for grading (FAST = True shrinks the demos, never the graded cells)."""

from __future__ import annotations

from nbformat import NotebookNode
from papermill.parameterize import parameterize_notebook

GRADING_PARAMETERS = {"FAST": True}


def inject(nb: NotebookNode, parameters: dict | None = None) -> NotebookNode:
    """A copy of `nb` with an `injected-parameters` cell after its `parameters` cell."""
    nb.metadata.setdefault("papermill", {"default_parameters": {}, "parameters": {}, "environment_variables": {}})
    for cell in nb.cells:
        cell.metadata.setdefault("tags", [])
        cell.metadata.setdefault("papermill", {})
    return parameterize_notebook(nb, parameters or GRADING_PARAMETERS, kernel_name="python3", language="python")
