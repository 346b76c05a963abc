"""Judges of module 03 (pretraining and fine-tuning), one file per notebook (importing them registers them)."""

from course.checks import submodules

submodules(__name__)
