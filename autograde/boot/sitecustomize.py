"""Run by every Python process that starts with this folder on its PYTHONPATH: the grading kernels
and whatever they start. In a grading run (the record folder is set) it installs the fence
(`autograde.fence`) before any other code, so that no process of a submission runs unfenced."""

import os

if os.environ.get("AUTOGRADE_RECORD_DIR"):
    from autograde import fence

    fence.install()
