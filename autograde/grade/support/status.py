"""The grader's one status vocabulary.

`Status` is what a graded cell scored (results.json's `status`, the gradebook, the report).
`CellRun` is what happened to a cell when its notebook executed; each way a cell can stop a
notebook has one student-facing sentence and the status its grade cells get.
"""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    """A graded cell's result."""

    PASS = "pass"  # ran without error and every hidden test's record passed its judge
    FAIL = "fail"  # a visible check or a hidden test failed
    ERROR = "error"  # the cell raised, or the kernel crashed, ran out of memory, processes or disk
    TIMEOUT = "timeout"  # the cell, or the notebook before it, ran out of time
    MISSING = "missing"  # the notebook was not submitted
    MANUAL = "manual"  # a free-response answer, left to a person

    def __str__(self) -> str:
        return self.value


class CellRun(str, Enum):
    """What happened to one cell during execution."""

    RAN = "ran"
    NOT_RUN = "not_run"
    TIMEOUT = "timeout"
    CRASHED = "crashed"
    MEMORY = "memory"
    PROCESSES = "processes"
    DISK = "disk"

    def __str__(self) -> str:
        return self.value

    @property
    def what_it_did(self) -> str:
        """The end of "this cell ...", for feedback, notes and a skipped cell's error."""
        return _WHAT_IT_DID[self]

    @property
    def sentence(self) -> str:
        """The student-facing sentence for a grade cell that stopped this way."""
        return f"this cell {self.what_it_did}"

    @property
    def status(self) -> Status:
        """What a grade cell that stopped this way scores."""
        return Status.TIMEOUT if self in (CellRun.TIMEOUT, CellRun.NOT_RUN) else Status.ERROR


_WHAT_IT_DID = {
    CellRun.RAN: "ran",
    CellRun.NOT_RUN: "was not reached: the notebook ran out of time or stopped earlier",
    CellRun.TIMEOUT: "exceeded the per-cell time limit",
    CellRun.CRASHED: "crashed the kernel",
    CellRun.MEMORY: "exceeded the memory limit",
    CellRun.PROCESSES: "started too many processes",
    CellRun.DISK: "wrote too much to disk",
}
