"""Process-tree control: adopt orphans and die with the parent (Linux's prctl), measure and
kill a whole tree (psutil)."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from pathlib import Path

import psutil

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Orphaned descendants (a kernel's forks) are re-parented to this process, not to init,
    so that `descendants` still finds them. False where the platform cannot do it."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent() -> None:
    """In a child process (Popen's preexec_fn, a worker's initializer): get SIGKILL when the
    parent dies, so that killing the grader takes its workers, executors and kernels along."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass


def descendants(pid: int | None = None) -> list[int]:
    """All processes below `pid` (default: this process); [] when it is gone."""
    try:
        return [child.pid for child in psutil.Process(pid or os.getpid()).children(recursive=True)]
    except psutil.Error:
        return []


def memory_bytes(pids: list[int]) -> int:
    """Memory of `pids` together, counting pages they share once (PSS; RSS where PSS is unknown).
    Forked processes share most of their pages: summing RSS would count them many times."""
    total = 0
    for pid in pids:
        try:
            process = psutil.Process(pid)
            try:
                total += process.memory_full_info().pss
            except (psutil.AccessDenied, AttributeError):
                total += process.memory_info().rss
        except psutil.Error:
            pass
    return total


def peak_rss_bytes(pids: list[int]) -> int:
    """The sum of each process's own peak resident memory so far (Linux's VmHWM, which psutil
    does not report); 0 where /proc does not have it."""
    total = 0
    for pid in pids:
        try:
            line = next(
                line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmHWM:")
            )
            total += int(line.split()[1]) * 1024
        except (OSError, StopIteration):
            pass
    return total


def folder_bytes(folder: Path) -> int:
    """Total size of the files under `folder` (0 when it does not exist)."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def kill_tree(pid: int | None = None) -> int:
    """SIGKILL every descendant of `pid` (default: this process), repeatedly until none is
    left (a fork bomb keeps forking while it is being killed), and reap our own zombies."""
    killed = 0
    for _ in range(50):
        pids = descendants(pid)
        alive = [p for p in pids if not _is_zombie(p)]
        if not alive:
            break
        for p in alive:
            try:
                os.kill(p, signal.SIGKILL)
                killed += 1
            except (ProcessLookupError, PermissionError):
                pass
        _reap()
    _reap()
    return killed


def _is_zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
