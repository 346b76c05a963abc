"""Judges of module 02 (the Transformer), one file per notebook (importing them registers them)."""

from course.checks import submodules

submodules(__name__)
