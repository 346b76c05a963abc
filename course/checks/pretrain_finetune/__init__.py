"""Visible checks of module 03 (pretraining and fine-tuning), one file per notebook: grade cells call `checks.check_x(...)` on this package."""

from course.checks import check_choice, check_number, export_submodules

__all__ = ["check_choice", "check_number", *export_submodules(__name__, globals())]
