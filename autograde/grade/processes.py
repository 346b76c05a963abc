"""Process-tree control on Linux: adopt orphans, measure and kill a whole tree."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from pathlib import Path

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


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def descendants(pid: int | None = None) -> list[int]:
    """All processes below `pid` (default: this process), from /proc; [] off Linux."""
    if not Path("/proc").is_dir():
        return []
    children = _children_map()
    found, todo = [], [pid or os.getpid()]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _status_bytes(pids: list[int], field: str) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(field):
                    total += int(line.split()[1]) * 1024
                    break
        except OSError:
            pass
    return total


def memory_bytes(pids: list[int]) -> int:
    """Memory of `pids` together, counting pages they share once (PSS; RSS where PSS is unknown).
    Forked processes share most of their pages: summing RSS would count them many times."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
                    break
        except OSError:
            total += _status_bytes([pid], "VmRSS:")
    return total


def peak_rss_bytes(pids: list[int]) -> int:
    """The sum of each process's own peak resident memory so far (VmHWM)."""
    return _status_bytes(pids, "VmHWM:")


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
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
