"""Cohort grading: `grade()` runs the pipeline in autograde/grade/pipeline.py, one file per step
(collect, sanitize, restore, inject, execute, score, record, report); support/ holds what the
steps share."""

from autograde.grade.pipeline import grade

__all__ = ["grade"]
