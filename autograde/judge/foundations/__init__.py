"""Judges of module 01 (foundations), one file per notebook (importing them registers them)."""

from course.checks import submodules

submodules(__name__)
