"""Every mutant of every graded exercise is rejected by its grade cells, and by the hidden tests
alone, failing the same cells whatever the seed (run in-process here; tests/test_grading.py runs
them through the real grader); the hidden cases have the same structure for every seed; a mutant's
hint is what the visible check prints for it; the exercise code of every notebook is mirrored."""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from autograde import notebooks, settings
from autograde.grade.score import forbidden_mentions
from autograde.hidden import PROBES, SEED_ENV, Case, generator
from course.checks import CheckFailure
from tests.helpers import (
    apply_mutant,
    base_namespace,
    cell,
    grade_cells_of,
    only_hidden,
    run_cell,
    source_notebooks,
    without_hidden,
)
from tests.mutants import Mutant, catalog, demo_mutant

NOTEBOOKS = source_notebooks()
ROOTS = ("course/checks", "autograde/hidden", "autograde/judge", "tests/mutants")
# The grader derives each student's hidden inputs from a secret seed, and the same code must earn
# the same points whatever it is: the seed may change the numbers of a hidden test, never which
# cases it runs. On each of these seeds the hidden tests alone must reject every mutant and fail
# exactly the same grade cells, and the reference must pass (tests/test_grading.py runs a sample
# of the mutants through the real grader, on its own seeds).
SEEDS = ("0", *(f"mutants-{i}" for i in range(1, 10)))


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """One torch thread, as in the grader's kernels (OMP_NUM_THREADS=1): the hidden tests' tensors are
    tiny, and a thread pool only waits on cores that other work keeps busy."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _ids(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def _mutants(path: Path) -> dict[str, list[Mutant]]:
    return catalog(path.parent.name)[path.name]


def _solutions(nb) -> list[str]:
    return [notebooks.grade_id(c) for c in nb.cells if notebooks.is_solution(c) and c.cell_type == "code"]


def test_exercise_code_is_mirrored_one_file_per_notebook():
    """source/NN_module/KK_name.ipynb <-> <root>/<module>/<name>.py in each root, nothing orphaned."""
    expected = {settings.notebook_module(p).replace(".", "/") + ".py" for p in NOTEBOOKS}
    for root in ROOTS:
        folder = settings.ROOT / root
        found = {str(p.relative_to(folder)) for p in folder.glob("*/*.py") if p.name != "__init__.py"}
        assert found == expected, f"{root}: missing {sorted(expected - found)}, orphaned {sorted(found - expected)}"
        for module in {settings.hidden_module(p.parent.name) for p in NOTEBOOKS}:
            assert (folder / module / "__init__.py").is_file(), f"{root}/{module} has no __init__.py"


def failing_cells(nb, solution_id: str, code: str, hidden_only: bool = False, seed: str = "0") -> Iterator[str]:
    """The grade cells of the exercise that fail with `code` as the solution, one by one (`next` stops
    at the first): their visible checks and hidden tests, or the hidden tests alone, drawing their
    inputs from `seed`, and the grader's static check of the solution cell."""
    os.environ[SEED_ENV] = seed
    namespace = base_namespace(nb)
    error = run_cell(code, namespace)
    assert error is None, f"the code itself does not run ({error!r}): mutants must be plausible, runnable code"
    for grade_cell in grade_cells_of(nb, solution_id):
        test_code = only_hidden(grade_cell.source) if hidden_only else grade_cell.source
        if run_cell(test_code, namespace) is not None or any(
            forbidden_mentions(code, PROBES[name].forbidden.names) for name in notebooks.hidden_calls(grade_cell.source)
        ):
            yield notebooks.grade_id(grade_cell)


def hidden_verdicts(nb, solution_id: str, code: str) -> dict[frozenset[str], list[str]]:
    """The grade cells the hidden tests alone fail with `code`, each set with the seeds that give it."""
    verdicts: dict[frozenset[str], list[str]] = {}
    for seed in SEEDS:
        cells = frozenset(failing_cells(nb, solution_id, code, hidden_only=True, seed=seed))
        verdicts.setdefault(cells, []).append(seed)
    return verdicts


def check_messages(nb, solution_id: str, code: str) -> list[str]:
    """What the exercise's visible checks (hidden tests left out) say about `code`."""
    namespace = base_namespace(nb)
    run_cell(code, namespace)
    errors = [run_cell(without_hidden(c.source), namespace) for c in grade_cells_of(nb, solution_id)]
    return [str(e) for e in errors if isinstance(e, CheckFailure)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_every_graded_exercise_has_three_mutants(path):
    mutants = _mutants(path)
    solutions = _solutions(notebooks.read(path))
    for solution_id in solutions:
        count = len(mutants.get(solution_id, []))
        assert count >= 3, f"{path.name}:{solution_id} has {count} mutants; every graded exercise needs at least 3"
    assert set(mutants) <= set(solutions), (
        f"{path.name}: mutants of unknown solution cells {sorted(set(mutants) - set(solutions))}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_every_mutant_is_rejected(path, capsys, monkeypatch):
    monkeypatch.setenv(SEED_ENV, "0")
    nb = notebooks.read(path)
    survivors, total, by_hidden, hinted = [], 0, 0, 0
    for solution_id, mutants in _mutants(path).items():
        reference = notebooks.solution_text(cell(nb, solution_id).source)
        for mutant in mutants:
            total += 1
            code = apply_mutant(reference, mutant)
            where = f"{path.name}:{solution_id}: {mutant.description}"
            if next(failing_cells(nb, solution_id, code), None) is None:
                survivors.append(f"{where} (grade cells)")
            verdicts = hidden_verdicts(nb, solution_id, code)
            if len(verdicts) > 1:
                by_seed = "; ".join(f"seeds {seeds}: {sorted(cells) or 'none'}" for cells, seeds in verdicts.items())
                survivors.append(f"{where} (hidden tests alone fail different cells on different seeds: {by_seed})")
            elif not next(iter(verdicts)):
                survivors.append(f"{where} (hidden tests alone, on every seed)")
            else:
                by_hidden += 1
            if mutant.hint:
                hinted += 1
                messages = check_messages(nb, solution_id, code)
                if not any(mutant.hint in m for m in messages):
                    survivors.append(f"{where}: the visible check should say {mutant.hint!r}, it says {messages}")
    with capsys.disabled():
        print(
            f"\n{_ids(path)}: grade cells reject {total - sum('(grade cells)' in s for s in survivors)}/{total} mutants; hidden tests alone reject {by_hidden}/{total}, failing the same cells on each of {len(SEEDS)} seeds; {hinted} hints checked"
        )
    assert not survivors, "mutants not rejected:\n" + "\n".join(survivors)


@pytest.mark.parametrize("module", settings.modules())
def test_demo_mutant_fails_exactly_its_cells(module, monkeypatch):
    """The demo's one-bug student scores what `autograde.demo.expected_points` says."""
    monkeypatch.setenv(SEED_ENV, "0")
    notebook, solution_id, mutant = demo_mutant(module)
    nb = notebooks.read(settings.SOURCE / module / notebook)
    code = apply_mutant(notebooks.solution_text(cell(nb, solution_id).source), mutant)
    assert set(failing_cells(nb, solution_id, code)) | set(downstream_failures(nb, solution_id, code)) == set(
        mutant.demo
    )


def downstream_failures(nb, solution_id: str, code: str) -> Iterator[str]:
    """The grade cells after the exercise's own that fail when `code` is the solution and the later
    reference solutions run again on top of it (an interview answer computed with the student's function)."""
    namespace = base_namespace(nb)
    assert run_cell(code, namespace) is None
    own = {notebooks.grade_id(c) for c in grade_cells_of(nb, solution_id)}
    after = False
    for c in nb.cells:
        if notebooks.grade_id(c) == solution_id:
            after = True
        elif after and notebooks.is_solution(c) and c.cell_type == "code":
            run_cell(notebooks.solution_text(c.source), namespace)
        elif after and notebooks.is_autograded(c) and notebooks.grade_id(c) not in own:
            if run_cell(c.source, namespace) is not None:
                yield notebooks.grade_id(c)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_reference_solutions_pass_in_process(path, monkeypatch):
    """The reference solution of every exercise passes its grade cells (fast check of the same path), and
    its hidden tests alone on every seed."""
    monkeypatch.setenv(SEED_ENV, "0")
    nb = notebooks.read(path)
    namespace = base_namespace(nb)
    for solution_id in _solutions(nb):
        for grade_cell in grade_cells_of(nb, solution_id):
            error = run_cell(grade_cell.source, namespace)
            assert error is None, f"{path.name}:{notebooks.grade_id(grade_cell)} fails with the reference: {error!r}"
        reference = notebooks.solution_text(cell(nb, solution_id).source)
        verdicts = hidden_verdicts(nb, solution_id, reference)
        failed = {seed: sorted(cells) for cells, seeds in verdicts.items() if cells for seed in seeds}
        assert not failed, f"{path.name}: the hidden tests fail the reference of {solution_id} on some seeds: {failed}"


def _shape(value: object) -> object:
    """What a case's input is made of, without its values or sizes: types, a tensor's dtype, rank and
    contiguity, a list's length and items, a dict's keys and values."""
    if isinstance(value, torch.Tensor):
        return ("tensor", value.dtype, value.dim(), value.is_contiguous())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_shape(v) for v in value])
    if isinstance(value, dict):
        return ("dict", {k: _shape(v) for k, v in value.items()})
    return type(value).__name__


def _structure(c: Case) -> tuple:
    """A case as the same case on every seed: its label with the numbers left out, its args, kwargs and extra."""
    return (re.sub(r"\d+(\.\d+)?(e-?\d+)?", "#", c.label), _shape(c.args), _shape(c.kwargs), _shape(c.extra))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_hidden_cases_have_the_same_structure_on_every_seed(path):
    """The seed draws a probe's numbers, never its cases: on every seed, the same cases (their labels up
    to the numbers in them), with as many arguments of the same types, tensor dtypes and ranks, the same
    kwargs and extra keys. Edge cases (a size of 1, a full context, a masked row) are cases of their own."""
    home = f"autograde.hidden.{settings.notebook_module(path)}"
    importlib.import_module(home)
    for name, spec in ((n, s) for n, s in PROBES.items() if s.home == home):
        first, *others = [[_structure(c) for c in spec.cases(generator(name, seed))] for seed in SEEDS]
        for seed, structure in zip(SEEDS[1:], others, strict=True):
            assert len(structure) == len(first), (
                f"{name}: {len(first)} cases on seed {SEEDS[0]}, {len(structure)} on {seed}"
            )
            for a, b in zip(first, structure, strict=True):
                assert a == b, f"{name}: a case differs in structure between seeds {SEEDS[0]} and {seed}:\n{a}\n{b}"
