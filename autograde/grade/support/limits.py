"""What one submission may use. The command line's options default to these values."""

from __future__ import annotations

from dataclasses import dataclass

MAX_SUBMISSION_BYTES = 20 * 1024 * 1024  # a notebook file (or an archive member) larger than this gets 0 unread


@dataclass
class Limits:
    """Per-notebook limits of a grading run."""

    cell_timeout: float = 60.0  # seconds per cell
    notebook_timeout: float = 300.0  # seconds for the whole notebook, retries included
    memory_mb: int = 2048  # resident memory of the kernel and its children
    output_kb_per_cell: int = 512
    output_mb_total: int = 16
    attempts: int = 8  # runs of the notebook, each skipping the cells that failed before (the deadline still applies)
    max_processes: int = (
        64  # processes in one kernel's tree (threads: twice that, enforced by the system when sandboxed as root)
    )
    disk_mb: int = 256  # files one notebook may write (records, and the working directory without a sandbox)
