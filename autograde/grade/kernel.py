"""Kernel launcher for grading: set resource limits, then start an IPython kernel.

Run as a script (`python kernel.py --address-space-mb N -f CONNECTION_FILE`), never
imported: the grading kernel must not load the grader's code.
"""

import os
import resource
import sys


def limit(kind: int, value: int) -> None:
    soft, hard = resource.getrlimit(kind)
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(kind, (value, value))


def main() -> None:
    args = sys.argv[1:]
    mb = 8192
    if args[:1] == ["--address-space-mb"]:
        mb, args = int(args[1]), args[2:]
    limit(resource.RLIMIT_AS, mb * 1024 * 1024)  # backstop; the executor watches resident memory
    limit(resource.RLIMIT_FSIZE, 256 * 1024 * 1024)  # no file larger than 256 MB
    limit(resource.RLIMIT_CORE, 0)
    sys.argv = [sys.argv[0], *args]
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
