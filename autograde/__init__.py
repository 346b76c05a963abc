"""Instructor toolchain: release generation, hidden tests, judging and cohort grading.

Never shipped to students. Kept free of imports: grading kernels import
`autograde.fence` and `autograde.hidden` and must not load anything else from here.
"""
