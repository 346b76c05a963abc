"""Release notebooks: generated from source, nothing leaks, no free points, friendly stubs."""

from __future__ import annotations

import re

import pytest

from autograde import interview, notebooks, release, settings
from autograde.hidden import PROBES
from autograde.judge import JUDGES, load
from course.checks import CheckFailure
from tests.helpers import base_namespace, cell, grade_cells_of, run_cell, source_notebooks, without_hidden

MODULES = settings.modules()
SECTION = re.compile(r"^## \d+\..*$", re.M)  # a numbered section's heading
MINUTES = re.compile(r"about (\d+) minutes")
TOTAL = re.compile(r"about (\d+) minutes of work")
LEAKS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "autograde", "{{ course_pip_url }}", "<!-- badges -->")


@pytest.mark.parametrize("module", MODULES)
def test_release_equals_a_fresh_generation(module):
    assert release.check(module) == []


def release_notebooks():
    return [settings.RELEASE / p.parent.name / p.name for p in source_notebooks()]


@pytest.mark.parametrize("path", release_notebooks(), ids=lambda p: p.name)
def test_release_leaks_nothing_and_has_no_outputs(path):
    raw = path.read_text()
    for marker in LEAKS:
        assert marker not in raw, f"{path.name} contains {marker!r}"
    nb = notebooks.read(path)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    source = notebooks.read(settings.SOURCE / path.parent.name / path.name)
    for src, rel in zip(source.cells, nb.cells):
        if notebooks.is_solution(src) and src.cell_type == "code":
            assert "raise NotImplementedError()" in rel.source
            body = [line for line in src.source.splitlines() if line.strip() and "SOLUTION" not in line]
            solution_only = [line for line in body if line not in rel.source.splitlines()]
            assert solution_only, f"{notebooks.grade_id(src)}: the stub equals the solution"


@pytest.mark.parametrize("path", release_notebooks(), ids=lambda p: p.name)
def test_release_starts_with_badges_and_the_colab_setup_cell(path):
    """Both badges in the title cell; the first code cell is the setup cell that tests/test_launch.py
    runs as Colab would (the same text in every notebook), installing from [tool.course]'s repository."""
    nb = notebooks.read(path)
    assert release.badges(path.parent.name, path.name) in nb.cells[0].source
    setup = next(c for c in nb.cells if c.cell_type == "code")
    assert notebooks.grade_id(setup) == "setup"
    assert (
        setup.source == cell(notebooks.read(settings.RELEASE / "01_foundations" / "01_autograd.ipynb"), "setup").source
    )
    assert f'%pip install -q "{release.pip_url()}"' in setup.source


@pytest.mark.parametrize("path", source_notebooks(), ids=lambda p: p.name)
def test_stubs_earn_no_points_and_checks_say_implement_first(path):
    """With the release's stubs, every grade cell (as restored at grading) fails; the visible
    check fails with one line naming what to implement, not a traceback."""
    source = notebooks.read(path)
    released = notebooks.read(settings.RELEASE / path.parent.name / path.name)
    namespace = base_namespace(source, solutions=False)
    for stub in (c for c in released.cells if notebooks.is_solution(c) and c.cell_type == "code"):
        run_cell(stub.source, namespace)  # defines functions whose bodies raise NotImplementedError
    for solution in (c for c in source.cells if notebooks.is_solution(c) and c.cell_type == "code"):
        for grade_cell in grade_cells_of(source, notebooks.grade_id(solution)):
            assert run_cell(grade_cell.source, namespace) is not None, (
                f"{notebooks.grade_id(grade_cell)} passes with the stubs"
            )
            visible = run_cell(without_hidden(grade_cell.source), namespace)
            if notebooks.grade_id(solution) != "interview_answers":
                assert isinstance(visible, CheckFailure), f"{notebooks.grade_id(grade_cell)}: {visible!r}"
                assert str(visible).startswith("implement `"), str(visible)
                assert visible._render_traceback_() == [f"\x1b[31m✗ {visible}\x1b[0m"]


@pytest.mark.parametrize("path", source_notebooks(), ids=lambda p: p.name)
def test_source_follows_the_exercise_contract(path):
    nb = notebooks.read(path)
    ids = [notebooks.grade_id(c) for c in nb.cells]
    assert all(ids), "every source cell carries nbgrader metadata with a grade_id (restore matches cells by it)"
    assert len(ids) == len(set(ids)), "grade_ids are unique"
    assert "<!-- badges -->" in nb.cells[0].source and nb.cells[0].source.startswith("# "), (
        "title cell with the badge marker"
    )
    assert "google.colab" in cell(nb, "setup").source
    assert "parameters" in cell(nb, "parameters").metadata.get("tags", [])
    assert "FAST = False" in cell(nb, "parameters").source and "SEED = 0" in cell(nb, "parameters").source
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "outputs are stripped in source/"
    module = settings.hidden_module(path.parent.name)
    load(module)
    solutions = [notebooks.grade_id(c) for c in nb.cells if notebooks.is_solution(c) and c.cell_type == "code"]
    for solution_id in solutions:
        graded = grade_cells_of(nb, solution_id)
        assert graded, f"{solution_id} has no grade cell"
        for grade_cell in graded:
            calls = notebooks.hidden_calls(grade_cell.source)
            assert calls, f"{notebooks.grade_id(grade_cell)} has no hidden test"
            assert "checks." in without_hidden(grade_cell.source), (
                f"{notebooks.grade_id(grade_cell)} has no visible check"
            )
            for name in calls:
                assert name in PROBES and name in JUDGES, f"{name} has no probe or no judge"
                home = f"autograde.hidden.{settings.notebook_module(path)}"
                assert PROBES[name].home == home, f"{name} is called by {path.name}, so it belongs in {home}"
    markdown_before = {notebooks.grade_id(nb.cells[i + 1]): nb.cells[i] for i in range(len(nb.cells) - 1)}
    for solution_id in solutions:
        if solution_id != "interview_answers":
            intro = markdown_before[solution_id]
            assert intro.cell_type == "markdown", f"{solution_id} has no explanation before it"
    difficulty = [c for c in nb.cells if c.cell_type == "markdown" and "★" in c.source]
    assert len(difficulty) >= 1, "exercises state their difficulty and time"
    sections = [line for c in nb.cells if c.cell_type == "markdown" for line in SECTION.findall(c.source)]
    timed = [int(m) for line in sections for m in MINUTES.findall(line)]
    assert len(timed) == len(sections), (
        f"a numbered section states no time: {[s for s in sections if not MINUTES.search(s)]}"
    )
    (total,) = TOTAL.findall(nb.cells[0].source)
    assert int(total) == sum(timed), (
        f"the title says about {total} minutes of work, the sections add up to {sum(timed)}"
    )


def test_hidden_inputs_come_from_the_seed_alone_and_change_with_it():
    for module in MODULES:
        load(settings.hidden_module(module))
    from autograde.hidden import generator

    for name, spec in PROBES.items():
        assert name in JUDGES, f"{name} has no judge"
        a, b = spec.cases(generator(name, "seed-1")), spec.cases(generator(name, "seed-1"))
        assert _equal(a, b), f"{name}: inputs depend on more than the seed"
        if any(c.args or c.kwargs or c.extra for c in a):  # interview answers have no inputs
            assert not _equal(a, spec.cases(generator(name, "seed-2"))), f"{name}: inputs ignore the seed"


def _equal(a, b) -> bool:
    import dataclasses

    import torch

    if dataclasses.is_dataclass(a):
        return type(a) is type(b) and _equal(vars(a), vars(b))
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return a == b


def test_every_interview_question_of_the_course_is_answered_and_indexed():
    """Each notebook cites known ids of docs/interview_bank.md, every id of a module in source/ is cited by
    one of its notebooks, and docs/interview.md is the index generated from those citations."""
    assert interview.problems() == []
    assert interview.INDEX.read_text(encoding="utf-8") == interview.index(), (
        "docs/interview.md is out of date: run `python -m autograde release`"
    )
    cited = interview.citations()
    assert all(cited.values()), f"a title cell cites no id: {[p.name for p, ids in cited.items() if not ids]}"
