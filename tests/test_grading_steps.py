"""The grading pipeline's steps on their own, without kernels: collect, sanitize, restore,
score's helpers, and judges facing malformed records."""

from __future__ import annotations

import copy
import json

import nbformat
import pytest
import torch

from autograde import notebooks, settings
from autograde.grade.collect import Submission, collect
from autograde.grade.restore import restore
from autograde.grade.sanitize import sanitize
from autograde.grade.score import forbidden_mentions
from autograde.grade.support.limits import MAX_SUBMISSION_BYTES
from autograde.hidden import PROBES, generator
from autograde.judge import judge_record, load, verdict
from tests.helpers import cell

MODULE = "01_foundations"
NOTEBOOK = "01_autograd.ipynb"


@pytest.fixture(scope="module")
def sources():
    return {p.name: notebooks.read(p) for p in settings.notebooks(MODULE)}


@pytest.fixture(scope="module")
def released():
    return notebooks.read(settings.RELEASE / MODULE / NOTEBOOK)


def write(folder, name, content: bytes | str):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


# -- collect ------------------------------------------------------------------------------------


def test_collect_reads_both_layouts_and_never_follows_links(tmp_path):
    write(tmp_path / "flat", "ann/01_autograd.ipynb", "{}")
    write(tmp_path / "flat", "bad name!/01_autograd.ipynb", "{}")
    write(tmp_path / "flat", "stray.ipynb", "{}")
    (tmp_path / "flat" / "eve").mkdir()
    (tmp_path / "flat" / "eve" / "01_autograd.ipynb").symlink_to(settings.SOURCE / MODULE / NOTEBOOK)
    (tmp_path / "flat" / "mallory").symlink_to(settings.SOURCE / MODULE)
    found, rejected = collect(tmp_path / "flat", MODULE, tmp_path / "scratch")
    assert [(s.student, s.path.name) for s in found] == [("ann", "01_autograd.ipynb")]
    assert {r.path.name for r in rejected} == {"bad name!", "stray.ipynb", "01_autograd.ipynb", "mallory", "eve"}
    assert all("symbolic link" in r.reason for r in rejected if r.path.name in ("01_autograd.ipynb", "mallory"))

    write(tmp_path / "course", f"submitted/bob/{MODULE}/02_backprop_mlp.ipynb", "{}")
    write(tmp_path / "course", f"submitted/bob/{MODULE}/timestamp.txt", "2026-11-20 10:00:00 UTC\n")
    found, _ = collect(tmp_path / "course", MODULE, tmp_path / "scratch")
    assert [(s.student, s.path.name, s.timestamp) for s in found] == [
        ("bob", "02_backprop_mlp.ipynb", "2026-11-20 10:00:00 UTC")
    ]


def test_collect_reads_lms_archives_defensively(tmp_path):
    import stat
    import zipfile

    archive = tmp_path / "downloaded.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ps1_ann_attempt_2026-11-20-10-00-00_01_autograd.ipynb", "{}")
        zf.writestr("ps1_ann_attempt_2026-11-21-09-30-00_01_autograd.ipynb", '{"later": 1}')
        zf.writestr("ps1_bob_attempt_2026-11-20-11-00-00_02_backprop_mlp.ipynb", "{}")
        zf.writestr("../../escape_attempt_2026-11-20-11-00-00_x.ipynb", "{}")
        link = zipfile.ZipInfo("ps1_eve_attempt_2026-11-20-11-00-00_01_autograd.ipynb")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, str(settings.SOURCE / MODULE / NOTEBOOK))
        zf.writestr(
            "ps1_zed_attempt_2026-11-20-11-00-00_01_autograd.ipynb",
            b"0" * (MAX_SUBMISSION_BYTES + 5_000_000),
            compress_type=zipfile.ZIP_DEFLATED,
        )
        zf.writestr("notes.txt", "ignored")
    found, rejected = collect(archive, MODULE, tmp_path / "scratch")
    got = {(s.student, s.notebook_name, s.timestamp) for s in found}
    assert got == {
        ("ann", "01_autograd.ipynb", "2026-11-21 09:30:00"),
        ("bob", "02_backprop_mlp.ipynb", "2026-11-20 11:00:00"),
        ("zed", "01_autograd.ipynb", "2026-11-20 11:00:00"),
    }
    ann = next(s for s in found if s.student == "ann")
    assert ann.path.read_text() == '{"later": 1}'
    zed = next(s for s in found if s.student == "zed")
    assert MAX_SUBMISSION_BYTES < zed.path.stat().st_size <= MAX_SUBMISSION_BYTES + 2**20, (
        "extraction stops just past the size limit"
    )
    reasons = " / ".join(r.reason for r in rejected)
    assert "unsafe path" in reasons and "symbolic link" in reasons and "earlier attempt" in reasons
    assert not (tmp_path / "escape_attempt_2026-11-20-11-00-00_x.ipynb").exists()
    assert all(tmp_path / "scratch" in p.parents for p in (tmp_path / "scratch").rglob("*"))


# -- sanitize -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"", "empty"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b'{"cells": [', "not valid JSON"),
        (b"[1, 2, 3]", "not a Jupyter notebook"),
        (b'{"cells": "nope", "nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "not"),
    ],
)
def test_sanitize_explains_unreadable_files(tmp_path, sources, content, problem):
    found = write(tmp_path, f"s/{NOTEBOOK}", content)
    result = sanitize(_submission(found), sources, MODULE)
    assert result.nb is None and problem in result.problem
    assert result.notebook == NOTEBOOK  # still attributed to its notebook, which then scores 0


def test_sanitize_rejects_oversized_files_without_reading_them(tmp_path, sources):
    path = tmp_path / NOTEBOOK
    with open(path, "wb") as f:
        f.truncate(MAX_SUBMISSION_BYTES + 1)  # sparse: no memory or disk used
    result = sanitize(_submission(path), sources, MODULE)
    assert result.nb is None and "limit" in result.problem


def test_sanitize_identifies_misnamed_and_foreign_notebooks(tmp_path, sources, released):
    misnamed = write(tmp_path, "01_autograd (1).ipynb", nbformat.writes(released))
    result = sanitize(_submission(misnamed), sources, MODULE)
    assert result.notebook == NOTEBOOK and "graded as 01_autograd.ipynb" in result.notes[0]

    swapped = write(tmp_path, "02_backprop_mlp.ipynb", nbformat.writes(released))
    assert sanitize(_submission(swapped), sources, MODULE).notebook == NOTEBOOK

    foreign = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("print(1)", metadata={"nbgrader": {"grade_id": "some_other_course"}})]
    )
    result = sanitize(_submission(write(tmp_path, NOTEBOOK, nbformat.writes(foreign))), sources, MODULE)
    assert result.nb is None and "none of its cells" in result.problem


def test_sanitize_upgrades_nbformat_3(tmp_path, sources, released):
    v3 = nbformat.convert(copy.deepcopy(released), 3)
    result = sanitize(_submission(write(tmp_path, NOTEBOOK, nbformat.writes(v3, version=3))), sources, MODULE)
    assert result.nb is not None and result.notebook == NOTEBOOK


def _submission(path):
    return Submission("someone", path)


# -- restore ------------------------------------------------------------------------------------


def student_notebook(released, sources):
    """The release with the reference solution typed into the Value cell."""
    from autograde.notebooks import solution_text

    nb = copy.deepcopy(released)
    cell(nb, "value").source = solution_text(cell(sources[NOTEBOOK], "value").source)
    return nb


def test_restore_takes_grade_and_locked_cells_from_source(released, sources):
    source = sources[NOTEBOOK]
    nb = student_notebook(released, sources)
    cell(nb, "value_forward_test").source = "pass  # nothing to see here"
    cell(nb, "value_forward_test").metadata["nbgrader"]["points"] = 100
    cell(nb, "imports").source = "import os"
    forged = nbformat.v4.new_code_cell(
        "print('free points')",
        metadata={"nbgrader": {"grade": True, "grade_id": "bonus", "points": 50, "solution": False, "locked": True}},
    )
    nb.cells.insert(5, forged)
    restored = restore(nb, source, released)
    assert cell(restored.nb, "value_forward_test").source == cell(source, "value_forward_test").source
    assert (
        cell(restored.nb, "value_forward_test").metadata["nbgrader"]["points"]
        == cell(source, "value_forward_test").metadata["nbgrader"]["points"]
    )
    assert cell(restored.nb, "imports").source == cell(source, "imports").source
    added = [c for c in restored.nb.cells if c["id"].startswith("student-")]
    assert [c.source for c in added] == ["print('free points')"] and added[0].metadata == {}
    assert sum(notebooks.points(c) for c in restored.nb.cells) == sum(notebooks.points(c) for c in source.cells)


def test_restore_puts_back_deleted_cells_and_keeps_the_student_order(released, sources):
    source = sources[NOTEBOOK]
    nb = student_notebook(released, sources)
    nb.cells = [c for c in nb.cells if notebooks.grade_id(c) not in ("value_graph_test", "interview_answers")]
    value = next(c for c in nb.cells if notebooks.grade_id(c) == "value")
    nb.cells.remove(value)
    nb.cells.append(value)  # moved to the end
    helper = nbformat.v4.new_code_cell("HELPER = 1")
    nb.cells.insert(nb.cells.index(next(c for c in nb.cells if notebooks.grade_id(c) == "imports")) + 1, helper)
    restored = restore(nb, source, released)
    order = [notebooks.grade_id(c) or c["id"] for c in restored.nb.cells]
    assert order.index("value") < order.index("value_forward_test"), "solution cells run at their source position"
    assert order[order.index("imports") + 1] == "student-0", "an added cell runs after the cell it followed"
    assert cell(restored.nb, "value_graph_test").source == cell(source, "value_graph_test").source
    assert "raise NotImplementedError()" in cell(restored.nb, "interview_answers").source
    assert any("missing" in note for note in restored.notes)


def test_restore_treats_duplicates_as_student_cells(released, sources):
    nb = student_notebook(released, sources)
    copy_of_value = copy.deepcopy(cell(nb, "value"))
    copy_of_value.source = "class Value:\n    pass  # a second attempt"
    nb.cells.insert(nb.cells.index(cell(nb, "value")) + 1, copy_of_value)
    restored = restore(nb, sources[NOTEBOOK], released)
    index = [notebooks.grade_id(c) for c in restored.nb.cells].index("value")
    assert restored.nb.cells[index + 1].source.endswith("a second attempt"), (
        "the later definition runs after, as in the student's notebook"
    )
    assert restored.nb.cells[index + 1].metadata == {}


# -- score helpers and judges ---------------------------------------------------------------------


def test_hidden_calls_and_forbidden_mentions():
    grade_source = cell(notebooks.read(settings.SOURCE / MODULE / "02_backprop_mlp.ipynb"), "gelu_test").source
    assert notebooks.hidden_calls(grade_source) == ["foundations.gelu"]
    assert forbidden_mentions("y = F.gelu(x)", ("gelu",)) == ["gelu"]
    assert forbidden_mentions("from torch.nn.functional import gelu as g", ("gelu",)) == ["gelu"]
    assert forbidden_mentions("def gelu(x):\n    return x  # F.gelu in a comment", ("gelu",)) == []
    assert forbidden_mentions("this is not python (", ("gelu",)) == []


GARBAGE = [None, 0, "text", [], {}, {"probe": "wrong"}, {"cases": None}, [1, [2, {"x": torch.zeros(3)}]]]


@pytest.mark.parametrize("junk", GARBAGE, ids=repr)
def test_judges_reject_malformed_records_without_crashing(junk):
    load("foundations")
    load("transformer")
    for name, spec in PROBES.items():
        cases = spec.cases(generator(name, "s"))
        per_case = [{"value": junk, "raised": None} for _ in cases]
        for record in (
            junk,
            {"probe": name, "cases": junk, "forbidden": [], "fenced": [], "tampered": []},
            {"probe": name, "cases": per_case, "forbidden": [], "fenced": [], "tampered": []},
        ):
            message = verdict(spec, cases, record)
            assert isinstance(message, str) and message, f"{name} accepted {record!r}"


def test_judge_record_reports_unknown_tests_and_forbidden_calls():
    assert "unknown hidden test" in judge_record("nosuchmodule.x", "s", {})
    assert "unknown hidden test" in judge_record("foundations.nosuchtest", "s", {})
    clean = {"probe": "foundations.gelu", "cases": [], "forbidden": [], "fenced": [], "tampered": []}
    assert "implement it yourself" in judge_record("foundations.gelu", "s", {**clean, "forbidden": ["gelu"]})
    fenced = judge_record("foundations.gelu", "s", {**clean, "fenced": ["course.models.RMSNorm"]})
    assert "uses the course's own implementation (models.RMSNorm)" in fenced
    tampered = judge_record("foundations.gelu", "s", {**clean, "tampered": ["replaced the code of rope"]})
    assert "interfered with the grading (replaced the code of rope)" in tampered
    for key in ("forbidden", "fenced", "tampered"):  # a record without the watch's results is no record
        incomplete = {k: v for k, v in clean.items() if k != key}
        assert "no valid result" in judge_record("foundations.gelu", "s", incomplete)


# what the record holds when the student's code raised, and when a runner returned the exception
EXCEPTIONS = [
    {"value": None, "raised": "RuntimeError: not implemented"},
    {"value": "<unsupported RuntimeError>", "raised": None},
]


@pytest.mark.parametrize("outcome", EXCEPTIONS, ids=("raised", "returned"))
def test_no_judge_accepts_an_exception_as_an_answer(outcome):
    """Every case of every probe (property-based ones included) an exception: every judge fails it."""
    load("foundations")
    load("transformer")
    for name, spec in PROBES.items():
        cases = spec.cases(generator(name, "s"))
        record = {"probe": name, "cases": [outcome] * len(cases), "forbidden": [], "fenced": [], "tampered": []}
        assert verdict(spec, cases, record), f"{name} accepts a record whose every output is an exception"


def test_hidden_messages_never_carry_expected_values():
    """A failing record's message names the behaviour, not the numbers the judge computed."""
    load("foundations")
    spec = PROBES["foundations.gelu"]
    cases = spec.cases(generator(spec.name, "s"))
    wrong = [{"value": c.args[0] * 0 + 0.123456, "raised": None} for c in cases]
    message = verdict(spec, cases, {"probe": spec.name, "cases": wrong, "forbidden": [], "fenced": [], "tampered": []})
    expected = torch.nn.functional.gelu(cases[0].args[0])
    assert message and not any(f"{v:.3f}" in message for v in expected[:5].tolist())
    assert json.dumps(message)  # a plain string


def _reference_records():
    """(probe name, spec, cases, correct record) for every probe, from the reference solutions."""
    import ast
    import io

    from autograde.hidden import observe
    from tests.helpers import base_namespace, only_hidden, source_notebooks

    for path in source_notebooks():
        module = settings.hidden_module(path.parent.name)
        load(module)
        nb = notebooks.read(path)
        namespace = base_namespace(nb)
        for grade_cell in (c for c in nb.cells if notebooks.is_autograded(c)):
            tree = ast.parse(only_hidden(grade_cell.source))
            for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)):
                name = f"{module}.{call.func.attr}"
                spec = PROBES[name]
                student = namespace[call.args[0].id]
                cases = spec.cases(generator(name, "forgery"))
                buffer = io.BytesIO()  # as the grader reads it: saved by the kernel, loaded with weights_only
                torch.save(observe(spec, student, cases), buffer)
                buffer.seek(0)
                yield name, spec, cases, torch.load(buffer, weights_only=True)


def _forgeries(value, path=()):
    """Copies of `value` with one nested list shortened, or one tensor or number nudged."""
    if isinstance(value, list):
        if value:
            yield path + ("shortened",), value[:-1]
        for i, item in enumerate(value):
            for where, forged in _forgeries(item, path + (i,)):
                yield where, value[:i] + [forged] + value[i + 1 :]
    elif isinstance(value, dict):
        for key, item in value.items():
            for where, forged in _forgeries(item, path + (key,)):
                yield where, {**value, key: forged}
    elif isinstance(value, torch.Tensor) and value.numel() and value.is_floating_point():
        nudged = value.clone().contiguous()
        nudged.view(-1)[0] += 0.01 * (1 + nudged.view(-1)[0].abs())
        yield path, nudged
    elif isinstance(value, float):
        yield path, value + 0.01 * (1 + abs(value))


def test_forged_records_fail_their_judges():
    """Any shortened list or nudged value in a correct record makes its judge fail: judges check
    the structure and every number, so a record cannot pass by leaving things out."""
    checked = 0
    for name, spec, cases, record in _reference_records():
        assert verdict(spec, cases, record) is None, f"{name}: the reference solution fails its own judge"
        if spec.name.split(".")[1].startswith("q"):
            continue  # interview answers: checked by the mutants
        for where, forged in _forgeries(record["cases"]):
            if where and where[-1] == "cleared":
                continue
            assert verdict(spec, cases, {**record, "cases": forged}) is not None, (
                f"{name}: a record forged at {where} passes"
            )
            checked += 1
    assert checked > 500


def test_cohort_report_survives_what_submissions_control(tmp_path):
    """Student names and exception messages reach the report's plots and tables: `$` (matplotlib
    mathtext) and markup must neither crash the report nor inject anything."""
    from autograde.grade.report import write_report
    from autograde.grade.support.results import CellResult, NotebookResult, Summary

    hostile = "raised ValueError: $\\frac{1}{$ <script>alert(1)</script>"
    results = [
        NotebookResult(
            f"student$_{i}",
            "01_autograd.ipynb",
            [CellResult("value_test", 0.0, 2.0, "fail", hostile), CellResult("gelu_test", 1.0, 1.0, "pass")],
            seconds=1.0 + i,
        )
        for i in range(3)
    ]
    page = write_report(tmp_path, [Summary(MODULE, tmp_path, results, graded=3, sandbox="none")]).read_text()
    assert page.count("data:image/png") == 4, "pass rates, histogram, failure messages, slowest notebooks"
    assert "<script>alert" not in page and "without a sandbox" in page


def test_modules_graded_into_one_folder_make_one_course(tmp_path):
    """grades.csv: a column per notebook and per module and the course total; results.json and
    report.html cover every module; grading a module again replaces only its grades."""
    import csv

    from autograde.grade.pipeline import _write_course_outputs
    from autograde.grade.support.results import CellResult, NotebookResult, Summary

    def summary(module: str, points: float) -> Summary:
        results = [
            NotebookResult(student, p.name, [CellResult("x_test", points, 2.0, "pass" if points == 2.0 else "fail")])
            for student in ("ann", "bob")
            for p in settings.notebooks(module)
        ]
        return Summary(module, tmp_path, results, sandbox="none")

    first, second = settings.modules()[:2]
    summary(first, 2.0).save()
    summary(second, 1.0).save()
    _write_course_outputs(tmp_path)
    rows = list(csv.reader((tmp_path / "grades.csv").read_text().splitlines()))
    n1, n2 = len(settings.notebooks(first)), len(settings.notebooks(second))
    assert rows[0] == [
        "student",
        *[p.stem for p in settings.notebooks(first)],
        first,
        *[p.stem for p in settings.notebooks(second)],
        second,
        "total",
        "max_points",
    ]
    assert rows[1] == ["ann", *["2"] * n1, str(2 * n1), *["1"] * n2, str(n2), str(2 * n1 + n2), str(2 * (n1 + n2))]
    assert {r["module"] for r in json.loads((tmp_path / "results.json").read_text())} == {first, second}
    report = (tmp_path / "report.html").read_text()
    assert "Course totals" in report and f"<h2>{first}</h2>" in report and f"<h2>{second}</h2>" in report

    summary(second, 2.0).save()  # the second module graded again
    _write_course_outputs(tmp_path)
    rows = list(csv.reader((tmp_path / "grades.csv").read_text().splitlines()))
    assert rows[1][1 : n1 + 2] == [*["2"] * n1, str(2 * n1)] and rows[1][n1 + 2 :] == [
        *["2"] * n2,
        str(2 * n2),
        str(2 * (n1 + n2)),
        str(2 * (n1 + n2)),
    ]
