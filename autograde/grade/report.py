"""Report: per-student feedback pages and the cohort report, as self-contained HTML from the Jinja2
templates in autograde/grade/templates (autoescaped: nothing a submission controls becomes markup).

Feedback shows the student's notebook as graded: their code and outputs, each grade cell in its
student version with the grader's verdict, the notebook's LaTeX rendered by a local MathJax copy
(OUT/feedback/mathjax, from the jupyter_server_mathjax package: no network). It never shows
hidden-test source or tracebacks from hidden code. The cohort report covers every module graded
into the output folder so far.
"""

from __future__ import annotations

import base64
import copy
import html
import io
import shutil
import warnings
from collections import Counter
from functools import lru_cache
from pathlib import Path

import jinja2
from nbformat import NotebookNode

from autograde import notebooks
from autograde.files import atomic_write
from autograde.grade.support.results import NotebookResult, Summary
from autograde.grade.support.status import Status

MATHJAX_DIR = "mathjax"  # under OUT/feedback


@lru_cache(maxsize=1)
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _render(template: str, path: Path, **context) -> Path:
    atomic_write(path, _templates().get_template(template).render(**context))
    return path


def install_mathjax(out: Path) -> str | None:
    """Copy MathJax into OUT/feedback once; None when the package is not installed (math then
    shows as LaTeX source)."""
    try:
        import jupyter_server_mathjax
    except ImportError:
        return None
    target = out / "feedback" / MATHJAX_DIR
    if not (target / "MathJax.js").is_file():
        shutil.copytree(Path(jupyter_server_mathjax.__file__).parent / "static", target, dirs_exist_ok=True)
    return MATHJAX_DIR


SAFE_OUTPUT_TYPES = ("text/plain", "image/png", "image/jpeg")


def safe_for_html(nb: NotebookNode) -> NotebookNode:
    """A copy in which nothing the submission controls can inject markup or scripts into a page:
    rich outputs keep only text and bitmaps; the student's markdown (answers, added cells) is escaped."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and (
            str(cell.get("id", "")).startswith("student-") or notebooks.is_solution(cell)
        ):
            cell.source = html.escape(cell.source, quote=False)
        for out in cell.get("outputs", []):
            if "data" in out:
                out["data"] = {k: v for k, v in out["data"].items() if k in SAFE_OUTPUT_TYPES}
    return nb


def _highlight_css() -> str:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter().get_style_defs(".highlight")


def feedback_path(out: Path, module: str, result: NotebookResult) -> Path:
    """nbgrader's layout: feedback/<student>/<module>/<notebook>.html."""
    return out / "feedback" / result.student / module / f"{result.notebook.removesuffix('.ipynb')}.html"


def write_notebook_feedback(out: Path, module: str, result: NotebookResult, autograded: NotebookNode | None) -> Path:
    """One notebook's feedback page: score table, then the notebook as graded."""
    notebook_html = ""
    if autograded is not None:
        from nbconvert import HTMLExporter

        exporter = HTMLExporter(template_name="basic", exclude_input_prompt=True, exclude_output_prompt=True)
        notebook_html, _ = exporter.from_notebook_node(safe_for_html(autograded))
    mathjax = (out / "feedback" / MATHJAX_DIR / "MathJax.js").is_file()
    return _render(
        "notebook.html.j2",
        feedback_path(out, module, result),
        title=f"{result.student} · {result.notebook}",
        result=result,
        module=module,
        notebook_html=notebook_html,
        highlight_css=_highlight_css(),
        mathjax=f"../../{MATHJAX_DIR}/MathJax.js" if mathjax and notebook_html else None,
    )


def write_feedback(course, results: list[NotebookResult]) -> None:
    """Pages for notebooks not submitted, and one index page per student (workers write the rest)."""
    by_student: dict[str, list[NotebookResult]] = {}
    for result in results:
        by_student.setdefault(result.student, []).append(result)
        if (
            all(c.status == Status.MISSING for c in result.cells)
            or not feedback_path(course.out, course.module, result).exists()
        ):
            write_notebook_feedback(course.out, course.module, result, None)
    for student, own in by_student.items():
        _render(
            "index.html.j2",
            course.out / "feedback" / student / course.module / "index.html",
            title=f"{student} · {course.module}",
            mathjax=None,
            module=course.module,
            student=student,
            results=own,
            total=sum(r.points for r in own),
            best=sum(r.max_points for r in own),
        )


def _label(text: str) -> str:
    """Text a submission controls, safe as a matplotlib label (a `$` would start mathtext)."""
    return text.replace("$", r"\$")


def _figure(draw, height: float = 3.2) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, height))
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # labels quote submissions: characters the font lacks are drawn as boxes
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
        draw(ax)
        fig.tight_layout()
        fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return f"<img alt='plot' src='data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}'>"


def score_table(summary: Summary) -> str:
    """Plain-text table: one line per student, autograded points per notebook, total."""
    names = list(dict.fromkeys(r.notebook for r in summary.results))
    width = max([len("student")] + [len(r.student) for r in summary.results])
    header = (
        f"{'student':<{width}}  " + "  ".join(f"{n.removesuffix('.ipynb')[:16]:>16}" for n in names) + "      total"
    )
    lines = [header, "-" * len(header)]
    by_student: dict[str, dict[str, NotebookResult]] = {}
    for r in summary.results:
        by_student.setdefault(r.student, {})[r.notebook] = r

    for student, row in sorted(by_student.items()):
        cells = "  ".join(
            f"{'{:g}/{:g}'.format(*_autograded(row[n])):>16}" if n in row else f"{'-':>16}" for n in names
        )
        total = [sum(_autograded(r)[k] for r in row.values()) for k in (0, 1)]
        lines.append(f"{student:<{width}}  {cells}  {'{:g}/{:g}'.format(*total):>9}")
    manual = {r.notebook: sum(c.max_points for c in r.cells if c.status == "manual") for r in summary.results}
    if sum(manual.values()):
        lines.append(
            f"(autograded points; {sum(manual.values()):g} more points of free-response answers are graded by a person in nbgrader's formgrader)"
        )
    return "\n".join(lines)


def _autograded(r: NotebookResult) -> tuple[float, float]:
    """(points, max points) without the free-response cells a person grades."""
    return sum(c.points for c in r.cells), sum(c.max_points for c in r.cells if c.status != Status.MANUAL)


def course_table(summaries: list[Summary]) -> str:
    """Plain-text table: one line per student, autograded points per module, course total."""
    modules = [s.module for s in summaries]
    points: dict[str, dict[str, tuple[float, float]]] = {}
    for s in summaries:
        for r in s.results:
            got, best = points.setdefault(r.student, {}).get(s.module, (0.0, 0.0))
            p, m = _autograded(r)
            points[r.student][s.module] = (got + p, best + m)
    width = max([len("student")] + [len(st) for st in points])
    header = f"{'student':<{width}}  " + "  ".join(f"{m[:16]:>16}" for m in modules) + "      total"
    lines = [header, "-" * len(header)]
    for student, row in sorted(points.items()):
        cells = "  ".join(f"{'{:g}/{:g}'.format(*row[m]):>16}" if m in row else f"{'-':>16}" for m in modules)
        total = [sum(v[k] for v in row.values()) for k in (0, 1)]
        lines.append(f"{student:<{width}}  {cells}  {'{:g}/{:g}'.format(*total):>9}")
    return "\n".join(lines)


def _bars(labels: list[str], values: list[float], color: str, xlabel: str, size: int, xlim: float | None = None) -> str:
    """A horizontal bar chart, first label on top (labels escaped for matplotlib's mathtext)."""

    def draw(ax) -> None:
        ax.barh([_label(t) for t in labels[::-1]], values[::-1], color=color)
        ax.set_xlabel(xlabel)
        ax.tick_params(axis="y", labelsize=size)
        if xlim is not None:
            ax.set_xlim(0, xlim)

    return _figure(draw, height=max(3.2, 0.8 + 0.25 * len(labels)))


def _section(summary: Summary) -> dict:
    """What the report shows for one module: counts, plots, common failures, notes."""
    results = summary.results
    cells = [(r.notebook, c) for r in results for c in r.cells if c.status != Status.MANUAL]
    checks: dict[str, list] = {}
    for notebook, cell in cells:
        checks.setdefault(f"{notebook.removesuffix('.ipynb')}:{cell.grade_id}", []).append(cell)
    rates = {name: 100 * sum(c.status == Status.PASS for c in group) / len(group) for name, group in checks.items()}
    totals: dict[str, float] = {}
    for r in results:
        totals[r.student] = totals.get(r.student, 0.0) + r.points
    failures = Counter(c.message for _, c in cells if c.status != Status.PASS and c.message).most_common(10)
    slowest = sorted((r for r in results if r.seconds), key=lambda r: -r.seconds)[:10]

    def histogram(ax) -> None:
        ax.hist(list(totals.values()), bins=20, color="#4c8bf5")
        ax.set(xlabel="total points", ylabel="students", title="score histogram")

    short = [m if len(m) <= 70 else m[:67] + "..." for m, _ in failures]
    figures = {
        "rates": checks and _bars(list(rates), list(rates.values()), "#4c8bf5", "% of students passing", 8, xlim=100),
        "histogram": checks and _figure(histogram),
        "failures": failures and _bars(short, [n for _, n in failures], "#e0564c", "failed cells", 7),
        "slowest": slowest
        and _bars(
            [f"{r.student}/{r.notebook}" for r in slowest], [r.seconds for r in slowest], "#f5a04c", "seconds", 6
        ),
    }
    return {
        "module": summary.module,
        "students": len(totals),
        "notebooks": len(results),
        "mean": sum(totals.values()) / max(len(totals), 1),
        "max_total": sum({r.notebook: r.max_points for r in results}.values()),
        "graded": summary.graded,
        "reused": summary.reused,
        "sandbox": summary.sandbox,
        "figures": figures,
        "failures": failures,
        "problems": [f"{r.student}/{r.notebook}: {r.message}" for r in results if r.message] + summary.rejected,
        "totals": sorted(totals.items()),
    }


def write_report(out: Path, summaries: list[Summary]) -> Path:
    """OUT/report.html: course totals, then per module pass rates per check, score histogram,
    common failures, slowest notebooks and notes on files."""
    modules = [s.module for s in summaries]
    course_totals: dict[str, dict[str, float]] = {}
    for s in summaries:
        for r in s.results:
            course_totals.setdefault(r.student, {})[s.module] = (
                course_totals.get(r.student, {}).get(s.module, 0.0) + r.points
            )
    module_max = {s.module: sum({r.notebook: r.max_points for r in s.results}.values()) for s in summaries}
    return _render(
        "report.html.j2",
        out / "report.html",
        title=f"Cohort report · {', '.join(modules)}",
        mathjax=None,
        modules=modules,
        course_totals=sorted(course_totals.items()),
        module_max=module_max,
        sections=[_section(s) for s in summaries],
    )
