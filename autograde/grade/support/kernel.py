"""Kernel launcher for grading: set resource limits, drop privileges, start an IPython kernel.

Run as a script, never imported (the grading kernel must not load the grader's code; the fence
is installed before this script runs, by autograde/boot/sitecustomize.py):

    python kernel.py [--address-space-mb N] [--cpu-seconds S] [--uid U --max-processes P] -f CONNECTION_FILE

--uid (only when started as root, inside the sandbox) switches to that user, which makes
--max-processes a per-kernel limit; the connection file, readable only by root, is copied
for that user first.
"""

import os
import resource
import shutil
import sys


def limit(kind: int, value: int) -> None:
    soft, hard = resource.getrlimit(kind)
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(kind, (value, value))


def main() -> None:
    options, args = {}, sys.argv[1:]
    while args and args[0].startswith("--"):
        options[args[0]], args = int(args[1]), args[2:]
    limit(
        resource.RLIMIT_AS, options.get("--address-space-mb", 8192) * 2**20
    )  # backstop: the executor watches resident memory
    limit(resource.RLIMIT_CPU, options.get("--cpu-seconds", 3600))
    limit(resource.RLIMIT_FSIZE, 64 * 2**20)  # no file larger than 64 MB
    limit(resource.RLIMIT_CORE, 0)
    if "--uid" in options:
        uid = options["--uid"]
        connection = args[args.index("-f") + 1]
        private = "/tmp/kernel-connection.json"
        shutil.copyfile(connection, private)
        os.chown(private, uid, uid)
        args[args.index("-f") + 1] = private
        limit(resource.RLIMIT_NPROC, options.get("--max-processes", 128))
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    sys.argv = [sys.argv[0], *args]
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
