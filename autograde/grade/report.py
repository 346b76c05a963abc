"""Report: per-student feedback pages and the cohort report, as self-contained HTML.

Feedback shows the student's notebook as graded: their code and outputs, each
grade cell in its student version with the grader's verdict. It never shows
hidden-test source or tracebacks from hidden code. Everything a submission
controls (messages, outputs) is escaped or sanitized before it reaches a page.
"""

from __future__ import annotations

import base64
import copy
import html
import io
from collections import Counter
from pathlib import Path

from nbformat import NotebookNode

from autograde import notebooks
from autograde.files import atomic_write
from autograde.grade.support.results import NotebookResult, Summary

STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}
.pass{color:#1a7f37}.fail,.error,.timeout,.missing{color:#cf222e}.manual{color:#6e7781}
.note{background:#fff8c5;padding:.5rem;border-radius:4px}img{max-width:100%}
.notebook{border-top:2px solid #ccc;margin-top:2rem}pre{white-space:pre-wrap}
.jp-InputArea-editor,.input_area{background:#f6f8fa;border-radius:4px;padding:.2rem .5rem;margin:.5rem 0}
.jp-OutputArea-output pre{background:#fff;border-left:3px solid #ddd;padding-left:.5rem}
"""
MATHJAX = '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js" async></script>'


def _page(title: str, body: str, math: bool = False) -> str:
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style>{MATHJAX if math else ''}</head><body>{body}</body></html>"
    )


def _write(path: Path, text: str) -> Path:
    atomic_write(path, text)
    return path


def _score_table(result: NotebookResult) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(c.grade_id)}</td><td class='{c.status}'>{c.status}</td>"
        f"<td>{c.points:g} / {c.max_points:g}</td><td>{html.escape(c.message)}</td></tr>"
        for c in result.cells
    )
    return f"<table><tr><th>check</th><th>status</th><th>points</th><th>message</th></tr>{rows}</table>"


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


def notebook_feedback(result: NotebookResult, module: str, autograded: NotebookNode | None) -> str:
    from nbconvert import HTMLExporter

    head = (
        f"<h1>{html.escape(result.notebook)} · {result.points:g} / {result.max_points:g} points</h1>"
        f"<p>Student: {html.escape(result.student)} · module {html.escape(module)}</p>"
    )
    if result.message:
        head += f"<p class='note'>{html.escape(result.message)}</p>"
    body = ""
    if autograded is not None:
        exporter = HTMLExporter(template_name="basic", exclude_input_prompt=True, exclude_output_prompt=True)
        body, _ = exporter.from_notebook_node(safe_for_html(autograded))
        body = f"<style>{_highlight_css()}</style><div class='notebook'>{body}</div>"
    return _page(f"{result.student} · {result.notebook}", head + _score_table(result) + body, math=True)


def feedback_path(out: Path, module: str, result: NotebookResult) -> Path:
    """nbgrader's layout: feedback/<student>/<module>/<notebook>.html."""
    return out / "feedback" / result.student / module / f"{result.notebook.removesuffix('.ipynb')}.html"


def write_notebook_feedback(out: Path, module: str, result: NotebookResult, autograded: NotebookNode | None) -> Path:
    return _write(feedback_path(out, module, result), notebook_feedback(result, module, autograded))


def write_feedback(course, results: list[NotebookResult]) -> None:
    """Pages for notebooks not submitted, and one index page per student (workers write the rest)."""
    by_student: dict[str, list[NotebookResult]] = {}
    for result in results:
        by_student.setdefault(result.student, []).append(result)
        if (
            all(c.status == "missing" for c in result.cells)
            or not feedback_path(course.out, course.module, result).exists()
        ):
            write_notebook_feedback(course.out, course.module, result, None)
    for student, own in by_student.items():
        total, best = sum(r.points for r in own), sum(r.max_points for r in own)
        rows = "".join(
            f"<tr><td><a href='{html.escape(r.notebook.removesuffix('.ipynb'))}.html'>{html.escape(r.notebook)}</a></td>"
            f"<td>{r.points:g} / {r.max_points:g}</td><td>{html.escape(r.message)}</td></tr>"
            for r in own
        )
        body = (
            f"<h1>{html.escape(course.module)}: {total:g} / {best:g} points</h1><p>Student: {html.escape(student)}</p>"
            f"<table><tr><th>notebook</th><th>points</th><th>notes</th></tr>{rows}</table>"
        )
        _write(
            course.out / "feedback" / student / course.module / "index.html",
            _page(f"{student} · {course.module}", body),
        )


def _label(text: str) -> str:
    """Text a submission controls, safe as a matplotlib label (a `$` would start mathtext)."""
    return text.replace("$", r"\$")


def _figure(draw, height: float = 3.2) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, height))
    draw(ax)
    fig.tight_layout()
    buffer = io.BytesIO()
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

    def auto(r: NotebookResult) -> tuple[float, float]:
        return sum(c.points for c in r.cells), sum(c.max_points for c in r.cells if c.status != "manual")

    for student, row in sorted(by_student.items()):
        cells = "  ".join(f"{'{:g}/{:g}'.format(*auto(row[n])):>16}" if n in row else f"{'-':>16}" for n in names)
        total = [sum(auto(r)[k] for r in row.values()) for k in (0, 1)]
        lines.append(f"{student:<{width}}  {cells}  {'{:g}/{:g}'.format(*total):>9}")
    manual = {r.notebook: sum(c.max_points for c in r.cells if c.status == "manual") for r in summary.results}
    if sum(manual.values()):
        lines.append(
            f"(autograded points; {sum(manual.values()):g} more points of free-response answers are graded by a person in nbgrader's formgrader)"
        )
    return "\n".join(lines)


def write_report(summary: Summary, course, rejected: list[str]) -> Path:
    """OUT/report.html: pass rates per check, score histogram, common failures, slowest notebooks."""
    results = summary.results
    cells = [(r.notebook, c) for r in results for c in r.cells if c.status != "manual"]
    checks: dict[str, list] = {}
    for notebook, cell in cells:
        checks.setdefault(f"{notebook.removesuffix('.ipynb')}:{cell.grade_id}", []).append(cell)
    rates = {name: sum(c.status == "pass" for c in group) / len(group) for name, group in checks.items()}
    totals: dict[str, float] = {}
    for r in results:
        totals[r.student] = totals.get(r.student, 0.0) + r.points
    max_total = sum({r.notebook: r.max_points for r in results}.values())
    failures = Counter(c.message for _, c in cells if c.status != "pass" and c.message).most_common(10)
    slowest = sorted((r for r in results if r.seconds), key=lambda r: -r.seconds)[:10]

    parts = [
        f"<h1>Cohort report: {html.escape(course.module)}</h1>",
        f"<p>{len(totals)} students · {len(results)} notebooks · mean {sum(totals.values()) / max(len(totals), 1):.1f} / {max_total:g} points"
        f" · {summary.graded} notebooks executed in this run, {summary.reused} reused</p>",
        "<p>Kernels ran "
        + (
            "in a bubblewrap sandbox (no network, read-only system, instructor files hidden)"
            if course.sandbox == "bwrap"
            else "without a sandbox (time, memory, process, disk and output limits only)"
        )
        + ".</p>",
    ]
    if checks:
        names = list(rates)
        parts.append("<h2>Pass rate per check</h2>")
        parts.append(
            _figure(
                lambda ax: (
                    ax.barh(names[::-1], [rates[n] * 100 for n in names[::-1]], color="#4c8bf5"),
                    ax.set_xlabel("% of students passing"),
                    ax.set_xlim(0, 100),
                    ax.tick_params(axis="y", labelsize=8),
                ),
                height=0.8 + 0.2 * len(names),
            )
        )
        parts.append(
            _figure(
                lambda ax: (
                    ax.hist(list(totals.values()), bins=20, color="#4c8bf5"),
                    ax.set_xlabel("total points"),
                    ax.set_ylabel("students"),
                    ax.set_title("score histogram"),
                )
            )
        )
    if failures:
        labels = [_label(m if len(m) <= 70 else m[:67] + "...") for m, _ in failures]
        parts.append("<h2>Most common failure messages</h2>")
        parts.append(
            _figure(
                lambda ax: (
                    ax.barh(labels[::-1], [n for _, n in failures][::-1], color="#e0564c"),
                    ax.set_xlabel("failed cells"),
                    ax.tick_params(axis="y", labelsize=7),
                ),
                height=0.8 + 0.3 * len(failures),
            )
        )
        rows = "".join(f"<tr><td>{n}</td><td>{html.escape(m)}</td></tr>" for m, n in failures)
        parts.append(f"<table><tr><th>count</th><th>message</th></tr>{rows}</table>")
    if slowest:
        parts.append("<h2>Slowest notebooks</h2>")
        parts.append(
            _figure(
                lambda ax: (
                    ax.barh(
                        [_label(f"{r.student}/{r.notebook}") for r in slowest][::-1],
                        [r.seconds for r in slowest][::-1],
                        color="#f5a04c",
                    ),
                    ax.set_xlabel("seconds"),
                    ax.tick_params(axis="y", labelsize=6),
                )
            )
        )
    problems = [f"{r.student}/{r.notebook}: {r.message}" for r in results if r.message] + rejected
    if problems:
        items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
        parts.append(f"<h2>Notes on files</h2><ul>{items}</ul>")
    rows = "".join(
        f"<tr><td><a href='feedback/{html.escape(s)}/{html.escape(course.module)}/index.html'>{html.escape(s)}</a></td><td>{t:g}</td></tr>"
        for s, t in sorted(totals.items())
    )
    parts.append(f"<h2>Scores</h2><table><tr><th>student</th><th>points</th></tr>{rows}</table>")
    return _write(course.out / "report.html", _page(f"Cohort report · {course.module}", "".join(parts)))
