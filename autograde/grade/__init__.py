"""Cohort grading: `grade()` runs the pipeline in autograde/grade/pipeline.py, one file per step
(collect, sanitize, restore, inject, execute, score, record, report); support/ holds what the
steps share.

`grade` is imported on first use: the executor process (`python -m autograde.grade.execute`)
that every notebook starts must not pay for importing the whole grader."""

from __future__ import annotations

from typing import Any

__all__ = ["grade"]


def __getattr__(name: str) -> Any:
    if name == "grade":
        from autograde.grade.pipeline import grade

        return grade
    raise AttributeError(f"module 'autograde.grade' has no attribute {name!r}")
