"""Cohort grading, as a pipeline of small named steps:

    collect -> sanitize -> restore -> inject -> execute -> score -> record -> report

`grade()` runs it. Collect and sanitize run here; restore to score run per
notebook in worker processes, one kernel per core; record and report run here
once all results are in. Every finished notebook leaves a result file under
OUT/.autograde/results, so a run that is killed resumes where it stopped, and
a second run regrades nothing unless a submission, the course or the grader
changed (or `regrade=True`).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from nbformat import NotebookNode

from autograde import notebooks, settings
from autograde.grade.collect import ZIP_PATTERN, Submission, collect
from autograde.grade.execute import Limits
from autograde.grade.results import CellResult, NotebookResult, Summary
from autograde.grade.sanitize import Sanitized, sanitize

GRADER_VERSION = "1"


@dataclass
class Course:
    """One module prepared as an nbgrader course directory inside OUT."""

    module: str
    out: Path
    sources: dict[str, NotebookNode]  # notebook name -> source (rendered, with hidden tests)
    releases: dict[str, NotebookNode]  # notebook name -> what students received
    fingerprint: str
    sandbox: str = "none"  # how kernels are isolated: "bwrap" or "none"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.out / 'gradebook.db'}"

    @property
    def state(self) -> Path:
        return self.out / ".autograde"


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


def prepare_course(module: str, out: Path) -> Course:
    """OUT as an nbgrader course directory: rendered source, release and gradebook for `module`."""
    from autograde import release

    out.mkdir(parents=True, exist_ok=True)
    rendered = {p.name: notebooks.dumps(release.render(notebooks.read(p), module, p.name)) for p in settings.notebooks(module)}
    source_dir, release_dir = out / "source" / module, out / "release" / module
    current = {p.name: p.read_text(encoding="utf-8") for p in source_dir.glob("*.ipynb")} if source_dir.is_dir() else {}
    if current != rendered or not (out / "gradebook.db").exists() or {p.name for p in release_dir.glob("*.ipynb")} != set(rendered):
        _check_same_notebooks(out, module, set(rendered))
        shutil.rmtree(source_dir, ignore_errors=True)
        shutil.rmtree(release_dir, ignore_errors=True)
        release.generate_into(module, out)
    (out / "nbgrader_config.py").write_text(
        "# nbgrader settings for this grading output: run nbgrader's own commands from this folder.\n"
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.root = {str(out)!r}\n"
        f"c.CourseDirectory.db_url = {('sqlite:///' + str(out / 'gradebook.db'))!r}\n"
    )
    grader_code = [p.read_bytes() for p in sorted((settings.ROOT / "autograde").rglob("*.py"))]
    names = sorted(rendered)
    return Course(
        module,
        out,
        {n: notebooks.read(source_dir / n) for n in names},
        {n: notebooks.read(release_dir / n) for n in names},
        _digest(GRADER_VERSION.encode(), *[rendered[n].encode() for n in names], *grader_code),
    )


def _check_same_notebooks(out: Path, module: str, names: set[str]) -> None:
    """nbgrader cannot add or remove notebooks of an assignment that has submissions: say so plainly."""
    if not (out / "gradebook.db").exists():
        return
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        try:
            assignment = gb.find_assignment(module)
        except MissingEntry:
            return
        graded = {f"{n.name}.ipynb" for n in assignment.notebooks}
        if assignment.submissions and graded != names:
            raise SystemExit(
                f"{out} was graded when {module} had the notebooks {sorted(graded)}; it now has {sorted(names)}. "
                "nbgrader cannot change the notebooks of an assignment that has submissions, so grade into a new "
                "--out folder (the gradebook and any manual grades in this one stay as they are)."
            )


def run_key(course: Course) -> str:
    """This output folder's secret, created once: hidden-test inputs derive from it."""
    path = course.state / "key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(16))
    return path.read_text().strip()


@dataclass
class Task:
    """One notebook of one student, ready for the workers."""

    student: str
    notebook: str
    submission: Path | None  # the sanitized copy under OUT/submitted (None: nothing gradable)
    problem: str
    notes: list[str]
    fingerprint: str
    timestamp: str | None
    seed: str


def _choose(candidates: list[Sanitized], notebook: str) -> tuple[Sanitized, list[str]]:
    """One file per student and notebook: the exact name if present, else the newest."""
    ranked = sorted(candidates, key=lambda s: (s.problem == "", s.submission.notebook_name == notebook, s.submission.path.stat().st_mtime))
    chosen = ranked[-1]
    ignored = [f"{s.submission.notebook_name} was ignored: {chosen.submission.notebook_name} was graded as {notebook}" for s in ranked[:-1]]
    return chosen, ignored


def plan(course: Course, found: list[Submission], key: str) -> tuple[list[Task], dict[str, list[str]]]:
    """Tasks for every (student, notebook) with a file; notes for files that matched nothing."""
    by_notebook: dict[tuple[str, str], list[Sanitized]] = {}
    unmatched: dict[str, list[str]] = {}
    for submission in found:
        checked = sanitize(submission, course.sources, course.module)
        if checked.notebook is None:
            unmatched.setdefault(submission.student, []).append(f"{submission.notebook_name}: {checked.problem}")
            continue
        by_notebook.setdefault((submission.student, checked.notebook), []).append(checked)
    tasks = []
    for (student, notebook), candidates in sorted(by_notebook.items()):
        chosen, ignored = _choose(candidates, notebook)
        copy_path = None
        raw = b""
        if chosen.nb is not None:
            copy_path = course.out / "submitted" / student / course.module / notebook
            if chosen.submission.path.resolve() != copy_path.resolve():
                notebooks.write(chosen.nb, copy_path)
            raw = copy_path.read_bytes()
        tasks.append(
            Task(
                student,
                notebook,
                copy_path,
                chosen.problem,
                chosen.notes + ignored,
                _digest(course.fingerprint.encode(), raw, chosen.problem.encode()),
                chosen.submission.timestamp,
                f"{key}/{student}/{notebook}",
            )
        )
    return tasks, unmatched


def unscored(course: Course, student: str, notebook: str, status: str, message: str) -> NotebookResult:
    """A notebook that could not be run: every graded cell gets 0 and the same message."""
    graded = [c for c in course.sources[notebook].cells if notebooks.is_grade(c)]
    return NotebookResult(student, notebook, [CellResult(notebooks.grade_id(c), 0.0, notebooks.points(c), status, message) for c in graded], message)


def grade_task(course: Course, task: Task, limits: Limits) -> NotebookResult:
    """restore -> inject -> execute -> score for one notebook (runs in a worker process)."""
    from autograde.grade.execute import execute
    from autograde.grade.sandbox import KERNEL_UID_BASE
    from autograde.grade.inject import inject
    from autograde.grade.report import write_notebook_feedback
    from autograde.grade.restore import restore
    from autograde.grade.score import score

    started = time.monotonic()
    autograded = None
    if task.submission is None:
        result = unscored(course, task.student, task.notebook, "error", task.problem)
    else:
        work = course.state / "work" / task.student / task.notebook.removesuffix(".ipynb")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        restored = restore(notebooks.read(task.submission), course.sources[task.notebook], course.releases[task.notebook])
        notebooks.write(inject(restored.nb), work / "restored.ipynb")
        uid = KERNEL_UID_BASE + _worker_slot if course.sandbox == "bwrap" and os.geteuid() == 0 else None
        execution = execute(work / "restored.ipynb", work / "executed.ipynb", work, task.seed, limits, course.sandbox, uid)
        if (work / "executed.ipynb").exists():
            executed = notebooks.read(work / "executed.ipynb")
            cells, autograded = score(executed, execution, restored, course.releases[task.notebook], work / "records", task.seed)
            notebooks.write(autograded, course.out / "autograded" / task.student / course.module / task.notebook)
            result = NotebookResult(task.student, task.notebook, cells, "; ".join(task.notes + restored.notes + execution.notes))
        else:
            result = unscored(course, task.student, task.notebook, "error", "; ".join(execution.notes) or "the notebook could not be executed")
    write_notebook_feedback(course.out, course.module, result, autograded)
    result.seconds = round(time.monotonic() - started, 2)
    result.fingerprint = task.fingerprint
    result.timestamp = task.timestamp
    result.save(_result_path(course, task.student, task.notebook))
    return result


def _result_path(course: Course, student: str, notebook: str) -> Path:
    return course.state / "results" / student / f"{notebook}.json"


def _cached(course: Course, task: Task) -> NotebookResult | None:
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
    from autograde.grade import processes

    global _worker_slot
    processes.become_subreaper()
    processes.die_with_parent()
    with slots.get_lock():
        _worker_slot = slots.value
        slots.value += 1


def _run_tasks(course: Course, tasks: list[Task], limits: Limits, workers: int, progress: bool) -> list[NotebookResult]:
    from tqdm.auto import tqdm

    results = []
    bar = tqdm(total=len(tasks), desc=f"grading {course.module}", unit="notebook", disable=not progress)
    context = get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(context.Value("i", 0),)) as pool:
        futures = {pool.submit(grade_task, course, task, limits): task for task in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                results.append(future.result())
            except Exception as error:  # noqa: BLE001 - one broken notebook never stops the cohort
                results.append(unscored(course, task.student, task.notebook, "error", f"the grader failed on this notebook: {type(error).__name__}: {error}"))
            bar.update()
    bar.close()
    return results


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
    from autograde.grade import record, report
    from autograde.grade.sandbox import detect

    settings.tool_path()
    started = time.monotonic()
    limits = limits or Limits()
    out = out.resolve()
    isolation = detect(sandbox)
    if not isolation.enabled:
        print(f"warning: no sandbox ({isolation.reason}); kernels run with your permissions, limited by timeouts, a memory watch and output caps", file=sys.stderr)
    course = prepare_course(module, out)
    course.sandbox = isolation.kind
    found, rejected = collect(submissions.resolve(), module, course.state / "archives", zip_pattern)
    tasks, unmatched = plan(course, found, run_key(course))

    cached = {} if regrade else {(t.student, t.notebook): _cached(course, t) for t in tasks}
    todo = [t for t in tasks if cached.get((t.student, t.notebook)) is None]
    workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
    results = [r for r in cached.values() if r is not None] + (_run_tasks(course, todo, limits, workers, progress) if todo else [])

    students = sorted({t.student for t in tasks} | set(unmatched) | {r.student for r in rejected if r.student})
    have = {(r.student, r.notebook) for r in results}
    for student in students:
        for notebook in course.sources:
            if (student, notebook) not in have:
                why = "notebook not submitted" + (f" ({'; '.join(unmatched[student])})" if student in unmatched else "")
                results.append(unscored(course, student, notebook, "missing", why))
    order = {name: i for i, name in enumerate(course.sources)}
    results.sort(key=lambda r: (r.student, order[r.notebook]))

    summary = Summary(module, out, results, graded=len(todo), reused=len(tasks) - len(todo), sandbox=isolation.kind if isolation.enabled else f"none: {isolation.reason}")
    record.write_results(results, out)
    record.write_grades(results, list(course.sources), out)
    record.write_gradebook(results, module, course.db_url)
    report.write_feedback(course, results)
    report.write_report(summary, course, [f"{r.path.name}: {r.reason}" for r in rejected])
    summary.seconds = round(time.monotonic() - started, 1)
    return summary
