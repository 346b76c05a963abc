"""Command line: python -m autograde {release,publish,grade,demo,bench} ..."""

from __future__ import annotations

import argparse
import sys

from autograde import settings
from autograde.grade.collect import ZIP_PATTERN
from autograde.grade.support.limits import Limits


def cmd_release(args: argparse.Namespace) -> int:
    from autograde import interview, release

    problems = interview.problems()
    for problem in problems:
        print(f"interview index: {problem}", file=sys.stderr)
    if problems:
        return 1
    if args.check and interview.INDEX.read_text(encoding="utf-8") != interview.index():
        print("docs/interview.md is out of date: run `python -m autograde release`")
        return 1
    if not args.check:
        print(f"wrote {interview.write().relative_to(settings.ROOT)}")
    for module in args.modules or settings.modules():
        if args.check:
            problems = release.check(module)
            for problem in problems:
                print(problem)
            if problems:
                print(f"release/{module} is out of date: run `python -m autograde release {module}`")
                return 1
            print(f"release/{module} equals a fresh generation from source/{module}")
        else:
            for path in release.release(module):
                print(f"wrote {path.relative_to(settings.ROOT)}")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from pathlib import Path

    from autograde import publish

    out = Path(args.out_dir)
    try:
        publish.check_out_dir(out.expanduser().resolve())
        print("checking that release/ equals a fresh generation from source/ ...", flush=True)
        files = publish.publish(out)
    except publish.PublishError as error:
        print(f"publish: {error}", file=sys.stderr)
        return 2
    size = sum(len(data) for data in files.values())
    course = settings.course_settings()
    print(
        f"wrote {len(files)} files ({size / 1e6:.1f} MB) into {args.out_dir}: release/ ({', '.join(publish.released_modules())}), course/, README.md, pyproject.toml, environment.yml, postBuild"
    )
    print(
        f"push it to branch {course['branch']} of {course['repository']}: the badges and the Colab setup cell point there"
    )
    return 0


def cmd_grade(args: argparse.Namespace) -> int:
    from pathlib import Path

    from autograde.grade import grade
    from autograde.grade.report import score_table

    if args.module not in settings.modules():
        print(f"unknown module {args.module!r}; modules: {', '.join(settings.modules())}")
        return 2
    limits = Limits(cell_timeout=args.cell_timeout, notebook_timeout=args.notebook_timeout, memory_mb=args.memory_mb)
    summary = grade(
        args.module,
        Path(args.submissions),
        Path(args.out),
        workers=args.workers,
        regrade=args.regrade,
        limits=limits,
        sandbox=args.sandbox,
        zip_pattern=args.zip_pattern,
    )
    print(score_table(summary))
    print(
        f"\n{summary.graded} notebooks graded, {summary.reused} unchanged since the last run, {summary.seconds:.0f} s"
    )
    out = summary.out
    print(
        f"report:   {out / 'report.html'}\nresults:  {out / 'results.json'}\ngrades:   {out / 'grades.csv'}\nfeedback: {out / 'feedback'}"
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from autograde.demo import run_demo

    unknown = [m for m in args.module if m not in settings.modules()]
    if unknown:
        print(f"unknown module {unknown[0]!r}; modules: {', '.join(settings.modules())}")
        return 2
    return run_demo(args.module or None, workers=args.workers)


def cmd_bench(args: argparse.Namespace) -> int:
    from autograde.bench import run_bench

    return run_bench(workers=args.workers, students=args.students)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograde", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("release", help="generate release/<module> from source/<module> with nbgrader")
    p.add_argument("modules", nargs="*", help="modules to release (default: all)")
    p.add_argument("--check", action="store_true", help="only compare release/ with a fresh generation")
    p.set_defaults(run=cmd_release)

    p = sub.add_parser(
        "publish",
        help="write the student repository (release notebooks, course package, Binder files, README) into OUT_DIR",
    )
    p.add_argument(
        "out_dir",
        metavar="OUT_DIR",
        help="a new or empty folder, or one an earlier publish wrote (its files are replaced)",
    )
    p.set_defaults(run=cmd_publish)

    p = sub.add_parser("grade", help="grade a cohort's submissions of one module")
    p.add_argument("module", help="e.g. 01_foundations")
    p.add_argument(
        "submissions", help="folder of <student>/<notebook>.ipynb, an nbgrader course/submitted folder, or an LMS .zip"
    )
    p.add_argument("--out", required=True, help="output folder (results, gradebook, feedback, report)")
    p.add_argument("--workers", type=int, default=None, help="notebooks graded in parallel (default: one per core)")
    p.add_argument("--regrade", action="store_true", help="grade again even notebooks that have not changed")
    limits = Limits()
    for flag, field, what in (
        ("--cell-timeout", "cell_timeout", "seconds per cell"),
        ("--timeout", "notebook_timeout", "seconds per notebook"),
        ("--memory-mb", "memory_mb", "memory of one notebook's kernel, in MB"),
    ):
        default = getattr(limits, field)
        metavar = flag.lstrip("-").upper().replace("-", "_")
        p.add_argument(
            flag, dest=field, metavar=metavar, type=type(default), default=default, help=f"{what} (default {default:g})"
        )
    p.add_argument(
        "--sandbox",
        choices=["auto", "bwrap", "none"],
        default="auto",
        help="isolate kernels with bubblewrap (auto: when it works here)",
    )
    p.add_argument(
        "--zip-pattern",
        default=ZIP_PATTERN,
        help="for an LMS .zip: regular expression with the groups student_id, file_id[, timestamp] (nbgrader zip_collect's)",
    )
    p.set_defaults(run=cmd_grade)

    p = sub.add_parser(
        "demo", help="check the release, grade each module's demo cohort into workspace/demo/graded, print the scores"
    )
    p.add_argument("module", nargs="*", help="modules to grade (default: all, into a fresh folder)")
    p.add_argument("--workers", type=int, default=None)
    p.set_defaults(run=cmd_demo)

    p = sub.add_parser(
        "bench",
        help="time and measure each reference notebook, the demo cohort's grading, and ours against nbgrader autograde",
    )
    p.add_argument("--workers", type=int, default=None)
    p.add_argument(
        "--students",
        type=int,
        default=40,
        help="submissions in the side-by-side run with nbgrader autograde (0: skip it)",
    )
    p.set_defaults(run=cmd_bench)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
