"""Cohort grading, as a pipeline of small named steps:

    collect -> sanitize -> restore -> inject -> execute -> score -> record -> report

`grade()` runs them in that order for one module. Collect and sanitize run here (sanitize also
chooses one file per student and notebook); restore to score run per notebook in worker
processes, one kernel per core; record and report run here once all results are in. Several
modules graded into one OUT share one nbgrader course directory (one assignment per module);
results.json, grades.csv and report.html cover every module graded there so far, and grading a
module again replaces only its own grades. Every finished notebook leaves a result file under
OUT/.autograde/<module>/results, so a run that is killed resumes where it
stopped, and a second run regrades nothing unless a submission, the course or the grader
changed (or `regrade=True`).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

from autograde import notebooks, settings
from autograde.grade import record, report
from autograde.grade.collect import ZIP_PATTERN, collect
from autograde.grade.execute import execute
from autograde.grade.inject import inject
from autograde.grade.restore import restore
from autograde.grade.sanitize import Task, sanitize_all
from autograde.grade.score import score
from autograde.grade.support import processes
from autograde.grade.support.course import Course, prepare_course, run_key
from autograde.grade.support.limits import Limits
from autograde.grade.support.results import CellResult, NotebookResult, Summary, course_summaries
from autograde.grade.support.sandbox import KERNEL_UID_BASE, detect
from autograde.grade.support.status import Status


def grade(
    module: str,
    submissions: Path,
    out: Path,
    workers: int | None = None,
    regrade: bool = False,
    limits: Limits | None = None,
    progress: bool = True,
    sandbox: str = "auto",
    zip_pattern: str = ZIP_PATTERN,
) -> Summary:
    """Grade every submission of `module` found under `submissions`; write everything to `out`.

    sandbox: "auto" (bubblewrap when it works here), "bwrap" (required) or "none".
    zip_pattern: how an LMS archive names files (nbgrader zip_collect's named groups).
    """
    settings.tool_path()
    started = time.monotonic()
    limits = limits or Limits()
    out = out.resolve()
    isolation = detect(sandbox)
    if not isolation.enabled:
        print(
            f"warning: no sandbox ({isolation.reason}); kernels run with your permissions, limited by timeouts, a memory watch and output caps",
            file=sys.stderr,
        )
    course = prepare_course(module, out)
    course.sandbox = isolation.kind
    report.install_mathjax(out)

    found, rejected = collect(submissions.resolve(), module, course.state / "archives", zip_pattern)
    tasks, unmatched = sanitize_all(course, found, run_key(course))
    cached = {} if regrade else {(t.student, t.notebook): _cached(course, t) for t in tasks}
    todo = [t for t in tasks if cached.get((t.student, t.notebook)) is None]
    results = [r for r in cached.values() if r is not None] + _grade_in_workers(course, todo, limits, workers, progress)
    results = _with_missing(
        course,
        results,
        sorted({t.student for t in tasks} | set(unmatched) | {r.student for r in rejected if r.student}),
        unmatched,
    )

    summary = Summary(
        module,
        out,
        results,
        graded=len(todo),
        reused=len(tasks) - len(todo),
        sandbox=isolation.kind if isolation.enabled else f"none: {isolation.reason}",
        rejected=[f"{r.path.name}: {r.reason}" for r in rejected],
    )
    record.write_gradebook(results, module, course.db_url)
    report.write_feedback(course, results)
    summary.seconds = round(time.monotonic() - started, 1)
    summary.save()
    _write_course_outputs(out)
    return summary


def _write_course_outputs(out: Path) -> None:
    """results.json, grades.csv and report.html for every module graded into `out` so far."""
    summaries = course_summaries(out, settings.modules())
    record.write_results(summaries, out)
    record.write_grades(summaries, {s.module: [p.name for p in settings.notebooks(s.module)] for s in summaries}, out)
    report.write_report(out, summaries)


def grade_notebook(course: Course, task: Task, limits: Limits) -> NotebookResult:
    """restore -> inject -> execute -> score for one notebook (runs in a worker process)."""
    started = time.monotonic()
    autograded = None
    if task.submission is None:
        result = unscored(course, task.student, task.notebook, Status.ERROR, task.problem)
    else:
        work = course.state / "work" / task.student / task.notebook.removesuffix(".ipynb")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        restored = restore(
            notebooks.read(task.submission), course.sources[task.notebook], course.releases[task.notebook]
        )
        notebooks.write(inject(restored.nb), work / "restored.ipynb")
        uid = KERNEL_UID_BASE + _worker_slot if course.sandbox == "bwrap" and os.geteuid() == 0 else None
        execution = execute(
            work / "restored.ipynb", work / "executed.ipynb", work, task.seed, limits, course.sandbox, uid
        )
        if (work / "executed.ipynb").exists():
            executed = notebooks.read(work / "executed.ipynb")
            cells, autograded = score(
                executed, execution, restored, course.releases[task.notebook], work / "records", task.seed
            )
            notebooks.write(autograded, course.out / "autograded" / task.student / course.module / task.notebook)
            result = NotebookResult(
                task.student, task.notebook, cells, "; ".join(task.notes + restored.notes + execution.notes)
            )
        else:
            result = unscored(
                course,
                task.student,
                task.notebook,
                Status.ERROR,
                "; ".join(execution.notes) or "the notebook could not be executed",
            )
    report.write_notebook_feedback(course.out, course.module, result, autograded)
    result.seconds = round(time.monotonic() - started, 2)
    result.fingerprint = task.fingerprint
    result.timestamp = task.timestamp
    result.save(_result_path(course, task.student, task.notebook))
    return result


def unscored(course: Course, student: str, notebook: str, status: Status, message: str) -> NotebookResult:
    """A notebook that could not be run: every graded cell gets 0 and the same message."""
    graded = [c for c in course.sources[notebook].cells if notebooks.is_grade(c)]
    return NotebookResult(
        student,
        notebook,
        [CellResult(notebooks.grade_id(c), 0.0, notebooks.points(c), status, message) for c in graded],
        message,
    )


def _with_missing(
    course: Course, results: list[NotebookResult], students: list[str], unmatched: dict[str, list[str]]
) -> list[NotebookResult]:
    """Every student gets every notebook: the ones not submitted score 0 as missing. In course order."""
    have = {(r.student, r.notebook) for r in results}
    for student in students:
        for notebook in course.sources:
            if (student, notebook) not in have:
                why = "notebook not submitted" + (f" ({'; '.join(unmatched[student])})" if student in unmatched else "")
                results.append(unscored(course, student, notebook, Status.MISSING, why))
    order = {name: i for i, name in enumerate(course.sources)}
    return sorted(results, key=lambda r: (r.student, order[r.notebook]))


def _result_path(course: Course, student: str, notebook: str) -> Path:
    return course.state / "results" / student / f"{notebook}.json"


def _cached(course: Course, task: Task) -> NotebookResult | None:
    """The earlier result of this task, when the submission, course and grader are unchanged."""
    path = _result_path(course, task.student, task.notebook)
    if not path.exists():
        return None
    try:
        result = NotebookResult.load(path)
    except (ValueError, KeyError, TypeError):
        return None
    autograded = course.out / "autograded" / task.student / course.module / task.notebook
    if result.fingerprint != task.fingerprint or (task.submission is not None and not autograded.exists()):
        return None
    return result


_worker_slot = 0  # this worker's number: a sandboxed kernel runs as its own user, so that limits are per kernel


def _init_worker(slots) -> None:
    global _worker_slot
    processes.become_subreaper()
    processes.die_with_parent()
    with slots.get_lock():
        _worker_slot = slots.value
        slots.value += 1


def _grade_in_workers(
    course: Course, tasks: list[Task], limits: Limits, workers: int | None, progress: bool
) -> list[NotebookResult]:
    """`grade_notebook` for every task, one worker process per core; a worker that fails scores its notebook 0."""
    if not tasks:
        return []
    from tqdm.auto import tqdm

    workers = max(1, min(workers or os.cpu_count() or 1, len(tasks)))
    results = []
    bar = tqdm(total=len(tasks), desc=f"grading {course.module}", unit="notebook", disable=not progress)
    context = get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(context.Value("i", 0),)
    ) as pool:
        futures = {pool.submit(grade_notebook, course, task, limits): task for task in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                results.append(future.result())
            except Exception as error:  # noqa: BLE001 - one broken notebook never stops the cohort
                results.append(
                    unscored(
                        course,
                        task.student,
                        task.notebook,
                        Status.ERROR,
                        f"the grader failed on this notebook: {type(error).__name__}: {error}",
                    )
                )
            bar.update()
    bar.close()
    return results
