"""Benchmark: each reference notebook's wall time and peak memory (full and FAST mode), the time
to grade the demo cohort, and the same cohort copied to `students` students graded side by side by
nbgrader autograde and by ours. Budgets (DESIGN.md): <= 60 s full, <= 20 s FAST, <= 1.5 GB;
ours <= 0.6 x nbgrader's wall time."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from autograde import notebooks, release, settings
from autograde.grade.execute import Execution, execute
from autograde.grade.inject import inject
from autograde.grade.support.limits import Limits

BUDGET_FULL_S, BUDGET_FAST_S, BUDGET_MB, BUDGET_RATIO, BUDGET_LOAD_S = 60.0, 20.0, 1536.0, 0.6, 2.0


def run_reference(module: str, name: str, fast: bool) -> tuple[Execution, int]:
    """Execute a source notebook (reference solutions, hidden tests judged in the kernel)."""
    path = settings.SOURCE / module / name
    work = settings.WORKSPACE / "bench" / module / f"{path.stem}-{'fast' if fast else 'full'}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    nb = inject(release.render(notebooks.read(path), module, name), {"FAST": fast})
    notebooks.write(nb, work / "in.ipynb")
    limits = Limits(cell_timeout=300, notebook_timeout=600, memory_mb=4096)
    execution = execute(
        work / "in.ipynb", work / "out.ipynb", work, "bench", limits, sandbox="none", record=False
    )  # trusted code; judged in the kernel
    executed = notebooks.read(work / "out.ipynb")
    errors = sum(o.get("output_type") == "error" for c in executed.cells for o in c.get("outputs", []))
    return execution, errors


def copied_cohort(module: str, dest: Path, students: int) -> Path:
    """The demo cohort's profiles (full marks, partial, one bug) in turn, `students` times."""
    from autograde.demo import build_cohort

    demo = build_cohort(module, dest.with_name(dest.name + "-demo"))
    profiles = sorted(p.name for p in demo.iterdir())
    shutil.rmtree(dest, ignore_errors=True)
    for i in range(students):
        shutil.copytree(demo / profiles[i % len(profiles)], dest / f"{profiles[i % len(profiles)]}-{i:03d}")
    return dest


def versus_nbgrader(module: str, students: int, workers: int | None) -> bool:
    """Grade one cohort with nbgrader autograde and with ours; print both wall times and the ratio."""
    from autograde.baseline import nbgrader_autograde, our_cell_points
    from autograde.grade import grade

    work = settings.WORKSPACE / "bench" / module
    submissions = copied_cohort(module, work / "cohort", students)
    theirs, nbgrader_seconds = nbgrader_autograde(module, submissions, work / "nbgrader")
    out = work / "ours"
    shutil.rmtree(out, ignore_errors=True)
    started = time.monotonic()
    summary = grade(module, submissions, out, workers=workers, progress=False)
    ours_seconds = time.monotonic() - started
    ours = our_cell_points([row for r in summary.results for row in r.rows()])
    disagree = sum(ours.get(cell) != points for cell, points in theirs.items())
    ratio = ours_seconds / nbgrader_seconds
    n = len(summary.results)
    print(
        f"{module}: {students} submissions ({n} notebooks): nbgrader autograde {nbgrader_seconds:.0f} s, ours {ours_seconds:.0f} s "
        f"({workers or os.cpu_count()} workers): ratio {ratio:.2f} (target <= {BUDGET_RATIO}); cells scored differently: {disagree} of {len(theirs)}"
    )
    return ratio <= BUDGET_RATIO and not disagree


def time_checkpoints() -> bool:
    """Load each pretrained TinyGPT in a fresh process (torch already imported): the course promises under 2 s."""
    import subprocess
    import sys

    from course.models import PRETRAINED

    ok = True
    for name in PRETRAINED:
        code = f"import time; from course.models import load_pretrained; t = time.perf_counter(); load_pretrained({name!r}); print(time.perf_counter() - t)"
        seconds = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        ok &= seconds <= BUDGET_LOAD_S
        print(
            f"{name}: load_pretrained takes {seconds:.2f} s in a fresh process, after `import torch` (budget {BUDGET_LOAD_S:g} s)"
        )
    print()
    return ok


def time_fence() -> None:
    """What the fence costs: a fenced call (TinyGPT's `rope` on a tiny tensor) and a pure-Python
    loop, each inside and outside a watch. The student's own code is never traced."""
    import timeit

    import torch

    from autograde import fence
    from course.models import rope

    fence.install()
    x, positions = torch.ones(1, 2, 4), torch.arange(2)

    def loop() -> int:  # the shape of a BPE merge or a block allocator: Python only
        return sum(i % 7 for i in range(200_000))

    def seconds(fn, number: int) -> float:
        return min(timeit.repeat(fn, number=number, repeat=5)) / number

    call, pure = seconds(lambda: rope(x, positions, 10000.0), 2000), seconds(loop, 5)
    with fence.watching():
        call_watched, pure_watched = seconds(lambda: rope(x, positions, 10000.0), 2000), seconds(loop, 5)
    print(
        f"fence: a fenced call {call * 1e6:.1f} us (watched {call_watched * 1e6:.1f} us); "
        f"a pure-Python loop {pure * 1e3:.1f} ms (watched {pure_watched * 1e3:.1f} ms)\n"
    )


def run_bench(workers: int | None = None, students: int = 40, versus_module: str = "01_foundations") -> int:
    from autograde.demo import build_cohort
    from autograde.grade import grade

    settings.tool_path()
    status = 0
    print(
        f"machine: {os.cpu_count()} cores; budgets: full <= {BUDGET_FULL_S:g} s, FAST <= {BUDGET_FAST_S:g} s, peak <= {BUDGET_MB:g} MB\n"
    )
    status |= not time_checkpoints()
    time_fence()
    print(f"{'notebook':40s} {'full s':>7s} {'FAST s':>7s} {'peak MB':>8s}  errors  verdict")
    for module in settings.modules():
        for path in settings.notebooks(module):
            full, full_errors = run_reference(module, path.name, fast=False)
            fast, fast_errors = run_reference(module, path.name, fast=True)
            peak = max(full.peak_mb, fast.peak_mb)
            ok = (
                full.seconds <= BUDGET_FULL_S
                and fast.seconds <= BUDGET_FAST_S
                and peak <= BUDGET_MB
                and not (full_errors or fast_errors)
            )
            status |= not ok
            print(
                f"{module + '/' + path.name:40s} {full.seconds:7.1f} {fast.seconds:7.1f} {peak:8.0f}  {full_errors + fast_errors:6d}  {'ok' if ok else 'OVER BUDGET'}"
            )
        submissions = build_cohort(module, settings.WORKSPACE / "bench" / module / "submissions")
        out = settings.WORKSPACE / "bench" / module / "graded"
        shutil.rmtree(out, ignore_errors=True)
        started = time.monotonic()
        summary = grade(module, submissions, out, workers=workers, progress=False)
        seconds = time.monotonic() - started
        n = len(summary.results)
        each = sum(r.seconds for r in summary.results) / n
        print(
            f"\n{module}: grading the demo cohort ({n} notebooks, {workers or os.cpu_count()} workers) took {seconds:.1f} s wall, {seconds / n:.1f} s per notebook; one notebook takes {each:.1f} s in a worker"
        )
        if students and module == versus_module:
            status |= not versus_nbgrader(module, students, workers)
        print()
    return status
