"""Sandbox: run a grading kernel under bubblewrap, seeing only what it needs.

Inside the sandbox a kernel has: the system (/usr, /etc, read-only), the Python
installation and the virtual environment (read-only), the `course` package and
the kernel-side half of `autograde` (read-only; `autograde.judge`, where the
expected values are computed, is replaced by an empty folder), a private,
size-limited working directory (/submission), a folder for hidden-test records
(/records) and the folder of its own connection sockets. No network (a network
namespace with loopback only: the grader talks to the kernel over Unix sockets),
its own process tree (killing the sandbox kills everything in it), no other
student's files, no source notebooks, no output folder.

When the grader runs as root, the kernel also drops to an unprivileged user of its
own, which gives it a process-count limit (RLIMIT_NPROC counts per user).

Where bubblewrap is missing or does not work (not Linux, user namespaces off), the
grader says so once and runs kernels without isolation, with the limits that do
not need it (timeouts, memory watch, output caps, process-tree kill).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

INSIDE_WORKDIR = "/submission"
INSIDE_RECORDS = "/records"
WORKDIR_MB = 512  # the private working directory is a tmpfs of this size
KERNEL_UID_BASE = 61000  # kernels run as uid KERNEL_UID_BASE + worker slot when the grader is root


@dataclass(frozen=True)
class Sandbox:
    kind: str  # "bwrap" or "none"
    reason: str = ""  # why there is no sandbox

    @property
    def enabled(self) -> bool:
        return self.kind == "bwrap"


def _probe_bwrap() -> str:
    """'' when bubblewrap can build the sandbox we need here, else the reason it cannot."""
    if not sys.platform.startswith("linux"):
        return f"bubblewrap is Linux-only (this is {sys.platform})"
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"
    probe = [
        "bwrap",
        *_system_binds(),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--unshare-all",
        "--die-with-parent",
        "--",
        "true",
    ]
    try:
        run = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap does not run here ({error})"
    if run.returncode != 0:
        return f"bubblewrap cannot create namespaces here ({run.stderr.strip()[:200]})"
    return ""


def detect(requested: str = "auto") -> Sandbox:
    """requested: "auto" (bwrap when it works), "bwrap" (required) or "none"."""
    if requested == "none":
        return Sandbox("none", "disabled with --sandbox none")
    reason = _probe_bwrap()
    if reason and requested == "bwrap":
        raise SystemExit(f"--sandbox bwrap: {reason}")
    return Sandbox("none", reason) if reason else Sandbox("bwrap")


def _system_binds() -> list[str]:
    args: list[str] = []
    for path in ("/usr", "/etc", "/bin", "/lib", "/lib64", "/lib32", "/sbin", "/sys"):
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args


def _code_binds() -> list[str]:
    """Python, the virtual environment and the project's packages, read-only; the judges hidden."""
    import autograde
    import autograde.judge
    import course

    args: list[str] = []
    for path in {sys.base_prefix, sys.prefix, str(Path(course.__file__).parent), str(Path(autograde.__file__).parent)}:
        args += ["--ro-bind", path, path]
    return args + ["--tmpfs", str(Path(autograde.judge.__file__).parent)]


def _traversable_parents(binds: list[str]) -> list[str]:
    """bubblewrap creates missing parents of mount points as 0700 root; create them 0755 instead,
    so that an unprivileged kernel can reach what is mounted below them."""
    targets = [binds[i + 2] for i, arg in enumerate(binds) if arg in ("--ro-bind", "--bind")] + [
        binds[i + 1] for i, arg in enumerate(binds) if arg == "--tmpfs"
    ]
    parents = sorted(
        {str(p) for t in targets for p in Path(t).parents if str(p) not in ("/", "/tmp")}, key=lambda p: p.count("/")
    )
    return [arg for parent in parents for arg in ("--perms", "0755", "--dir", parent)]


def kernel_command(
    kernel_argv: list[str], records: Path, runtime: Path, env: dict[str, str], switch_user: bool
) -> list[str]:
    """Wrap a kernel's command line in bubblewrap. `records` and `runtime` are writable inside
    (records at /records, runtime at its own path, where the kernel's sockets live).

    switch_user (the grader runs as root and the launcher will switch users): no user namespace,
    so that the kernel's own uid is real, and every capability dropped but the three needed to
    switch. Otherwise a user namespace, which is also what lets bubblewrap run unprivileged.
    """
    if switch_user:
        namespaces = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
        namespaces += [
            "--cap-drop",
            "ALL",
            "--cap-add",
            "CAP_SETUID",
            "--cap-add",
            "CAP_SETGID",
            "--cap-add",
            "CAP_CHOWN",
        ]
    else:
        namespaces = ["--unshare-all"]
    args = ["bwrap", *namespaces, "--die-with-parent", "--new-session", "--clearenv"]
    args += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--perms",
        "1777",
        "--tmpfs",
        "/tmp",
        "--perms",
        "1777",
        "--tmpfs",
        "/dev/shm",
    ]
    binds = (
        _system_binds() + _code_binds() + ["--bind", str(records), INSIDE_RECORDS, "--bind", str(runtime), str(runtime)]
    )
    args += _traversable_parents(binds) + binds
    args += ["--perms", "1777", "--size", str(WORKDIR_MB * 2**20), "--tmpfs", INSIDE_WORKDIR, "--chdir", INSIDE_WORKDIR]
    for key, value in env.items():
        args += ["--setenv", key, value]
    return args + ["--", *kernel_argv]
