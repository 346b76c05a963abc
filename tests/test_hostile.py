"""A hostile cohort: broken files, tampered notebooks and attacks from inside the kernel.

In every case the grader finishes, the honest student's grade is unaffected, each submission
earns exactly the points its honest parts earn, and its feedback says what happened.
"""

from __future__ import annotations

import copy
import json

import nbformat
import pytest

from autograde import notebooks, settings
from autograde.grade import grade
from autograde.grade.execute import Limits
from autograde.grade.support.sandbox import detect
from autograde.notebooks import solution_text
from tests.helpers import cell

pytestmark = pytest.mark.slow
MODULE, NB = "01_foundations", "01_autograd.ipynb"
VALUE_TESTS = ("value_forward_test", "value_backward_test", "value_graph_test")
ANSWER_TESTS = ("interview_q1_test", "interview_q2_test", "interview_q3_test")
SANDBOXED = detect("auto").enabled
WRONG_VALUE = (
    "class Value:\n    def __init__(self, data, _prev=(), _op=''):\n        self.data, self.grad = float(data), 0.0\n    def __getattr__(self, name):\n        return lambda *a, **k: self\n"
    + "".join(
        f"    def {op}(self, *a):\n        return self\n"
        for op in (
            "__add__",
            "__mul__",
            "__sub__",
            "__truediv__",
            "__pow__",
            "__neg__",
            "__radd__",
            "__rsub__",
            "__rmul__",
            "__rtruediv__",
        )
    )
)


def full(module: str = MODULE, name: str = NB) -> nbformat.NotebookNode:
    """The release notebook with every reference solution filled in."""
    source = notebooks.read(settings.SOURCE / module / name)
    nb = notebooks.read(settings.RELEASE / module / name)
    for c in nb.cells:
        if notebooks.is_solution(c):
            c.source = solution_text(cell(source, notebooks.grade_id(c)).source)
    return nb


def index(nb, grade_id: str) -> int:
    return [notebooks.grade_id(c) for c in nb.cells].index(grade_id)


def with_cell(code: str, after: str = "value_graph_test", nb=None, markdown: bool = False) -> nbformat.NotebookNode:
    nb = nb or full()
    new = nbformat.v4.new_markdown_cell(code) if markdown else nbformat.v4.new_code_cell(code)
    nb.cells.insert(index(nb, after) + 1, new)
    return nb


def wrong_value(nb=None) -> nbformat.NotebookNode:
    nb = nb or full()
    cell(nb, "value").source = WRONG_VALUE
    return nb


def cohort(subs) -> dict[str, tuple[str, float | None, str]]:
    """Write the cohort; return what each student must get: (how, autograded points of NB, word in the notes)."""
    F = sum(notebooks.points(c) for c in full().cells if notebooks.is_autograded(c))
    V = sum(notebooks.points(c) for c in full().cells if notebooks.grade_id(c) in VALUE_TESTS)
    # a wrong Value fails its own tests and Q3, whose answer is computed with it
    W = V + sum(  # Q1 and Q3 are computed with the student's Value
        notebooks.points(c) for c in full().cells if notebooks.grade_id(c) in ("interview_q1_test", "interview_q3_test")
    )
    A = sum(notebooks.points(c) for c in full().cells if notebooks.grade_id(c) in ANSWER_TESTS)
    expected = {}

    def put(student, nb_or_bytes, points, note="", name=NB):
        path = subs / student / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(nb_or_bytes, bytes):
            path.write_bytes(nb_or_bytes)
        else:
            notebooks.write(nb_or_bytes, path)
        expected[student] = (points, note)

    # -- files ------------------------------------------------------------------------------------
    put("honest", full(), F)
    put("corrupt", b'{"cells": [{"cell_type": "code", "sou', 0, "not valid JSON")
    put("empty", b"", 0, "empty")
    put("latin1", "café".encode("latin-1") + b" {}", 0, "not UTF-8")
    put("nbformat3", nbformat.writes(nbformat.convert(full(), 3), version=3).encode(), F)
    put("deep", b"[" * 200_000 + b"]" * 200_000, 0, "nested too deeply")
    foreign = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "x = 1", metadata={"nbgrader": {"grade_id": "another_course", "grade": True, "points": 50}}
            )
        ]
    )
    put("foreign", foreign, 0, "none of its cells")
    put("misnamed", full(), F, "graded as", name="01_autograd (1).ipynb")
    huge = subs / "huge" / NB
    huge.parent.mkdir(parents=True)
    with open(huge, "wb") as f:
        f.truncate(300 * 2**20)  # 300 MB, sparse: the grader must not read it
    expected["huge"] = (0, "limit")

    # -- tampering with cells and metadata --------------------------------------------------------
    edited = full()
    for gid in VALUE_TESTS:
        cell(edited, gid).source = "pass"
        cell(edited, gid).metadata["nbgrader"]["points"] = 1000
    cell(edited, "interview_q1_test").metadata["nbgrader"]["grade"] = False
    edited.cells.insert(
        3,
        nbformat.v4.new_code_cell(
            "print('bonus')",
            metadata={
                "nbgrader": {"grade": True, "grade_id": "bonus", "points": 99, "solution": False, "locked": True}
            },
        ),
    )
    put("editor", edited, F)
    put("forger", wrong_value(copy.deepcopy(edited)), F - W)
    reordered = full()
    moved = [c for c in reordered.cells if notebooks.grade_id(c) in (*VALUE_TESTS, "value")]
    reordered.cells = moved[::-1] + [c for c in reordered.cells if c not in moved]
    put("reorderer", reordered, F)
    retyped = full()
    for gid in VALUE_TESTS:
        c = cell(retyped, gid)
        retyped.cells[retyped.cells.index(c)] = nbformat.v4.new_markdown_cell(c.source, metadata=c.metadata)
    put("retyper", retyped, F)
    deleter = full()
    deleter.cells = [
        c for c in deleter.cells if notebooks.grade_id(c) not in (*VALUE_TESTS, *ANSWER_TESTS, "interview_answers")
    ]
    put("deleter", deleter, V, "restored")
    duplicated = full()
    second = copy.deepcopy(cell(duplicated, "value"))
    second.source = WRONG_VALUE
    duplicated.cells.insert(index(duplicated, "value") + 1, second)
    put("duplicator", duplicated, F - W, "duplicated")

    # -- attacks from inside the kernel ----------------------------------------------------------------
    patches = patches_all()
    put("patcher", with_cell(patches, after="imports", nb=wrong_value()), F - W)
    hide_errors = "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)"
    put("error_hider", with_cell(hide_errors, after="imports", nb=wrong_value()), F - W)
    hijack = "import autograde.hidden.foundations as h\nfor name in ('value_forward', 'value_backward', 'value_graph'):\n    setattr(h, name, lambda student: None)"
    put("hijacker", with_cell(hijack, after="imports", nb=wrong_value()), F - W)
    forge = (
        "import os, torch\nfor name in ('value_forward', 'value_backward', 'value_graph'):\n"
        "    torch.save({'probe': 'foundations.' + name, 'cases': [], 'forbidden': []}, os.path.join(os.environ['AUTOGRADE_RECORD_DIR'], f'foundations.{name}.pt'))"
    )
    put("record_forger", with_cell(forge, after="value", nb=wrong_value()), F - W)
    steal = (
        "import glob\nstolen = {}\ntry:\n    import autograde.judge.foundations as j\n    stolen = {'q1_forward_order_grad': 1.0, 'q2_backward_cost': 'a', 'q3_df_da': -2.0}\nexcept Exception:\n    pass\n"
        "for path in glob.glob('/work/**/source/**/01_autograd.ipynb', recursive=True) + glob.glob('/**/gradebook.db', recursive=False):\n    stolen = {'q1_forward_order_grad': 1.0, 'q2_backward_cost': 'a', 'q3_df_da': -2.0}\n"
    )
    thief = with_cell(steal, after="imports")
    cell(
        thief, "interview_answers"
    ).source = "q1_forward_order_grad = stolen.get('q1_forward_order_grad', 7.0)\nq2_backward_cost = stolen.get('q2_backward_cost', 'c')\nq3_df_da = stolen.get('q3_df_da', 7.0)"
    put("thief", thief, F - A if SANDBOXED else None)
    put("exiter", with_cell("import os\nos._exit(3)"), F, "crashed")
    put("segfaulter", with_cell("import ctypes\nctypes.string_at(0)"), F, "crashed")
    put("looper", with_cell("while True:\n    pass"), F, "time limit")
    stubborn = (
        "import time\nwhile True:\n    try:\n        time.sleep(100)\n    except KeyboardInterrupt:\n        pass"
    )
    put("stubborn", with_cell(stubborn), F, "skipped and the notebook run again")  # ignores the interrupt
    hang = full()
    cell(hang, "value").source = solution_text(
        cell(notebooks.read(settings.SOURCE / MODULE / NB), "value").source
    ).replace(
        "        other = other if isinstance(other, Value) else Value(other)\n        out = Value(self.data + other.data",
        "        while True:\n            pass\n        out = Value(self.data + other.data",
        1,
    )
    put("hanger", hang, F - W, "time limit")
    put(
        "forker", with_cell("import os\nwhile True:\n    os.fork()"), F, ("processes", "memory")
    )  # whichever a fork bomb reaches first
    put("hog", with_cell("hoard = []\nwhile True:\n    hoard.append(bytearray(50 * 2**20))"), F, "memory")
    put("flooder", with_cell("while True:\n    print('spam' * 10000)"), F, ("time limit", "memory"))
    sockets = "import socket\nfor address in [('1.1.1.1', 80), ('127.0.0.1', 22)]:\n    try:\n        socket.create_connection(address, timeout=1)\n        print('connected', address)\n    except OSError as error:\n        print('blocked', address, error)"
    put("networker", with_cell(sockets), F)
    escape = "import os, glob\nfor path in ['/work/main/pwned.txt', '/tmp/../work/pwned.txt']:\n    try:\n        open(path, 'w').write('x')\n    except OSError as error:\n        print('refused', path)\nprint(glob.glob('/work/**/results.json', recursive=True))"
    put("escaper", with_cell(escape), F)
    noisy = full()
    cell(noisy, "value").source = "import sys\n" + solution_text(
        cell(notebooks.read(settings.SOURCE / MODULE / NB), "value").source
    ).replace(
        '    def __add__(self, other) -> "Value":\n',
        "    def __add__(self, other) -> \"Value\":\n        print('warning: adding', file=sys.stderr)\n",
        1,
    )
    put("warner", noisy, F)
    xss = with_cell("<script>alert('xss')</script> <img src=x onerror=alert(1)>", markdown=True)
    xss = with_cell(
        "from IPython.display import HTML, display\ndisplay(HTML(\"<script>alert('out')</script>\"))\nimport inspect, autograde.hidden.foundations as h\nprint(inspect.getsource(h))",
        nb=xss,
    )
    put("xss", xss, F)
    return expected


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    expected = cohort(root / "subs")
    summary = grade(
        MODULE,
        root / "subs",
        root / "out",
        progress=False,
        limits=Limits(cell_timeout=10, notebook_timeout=120, memory_mb=1024),
    )
    return root, expected, summary


def test_every_hostile_submission_gets_exactly_its_honest_points(graded):
    root, expected, summary = graded
    assert_honest_points(summary, {(student, NB): want for student, want in expected.items()})


def assert_honest_points(summary, expected: dict[tuple[str, str], tuple[float | None, str]]) -> None:
    """Each (student, notebook) earned exactly its points, and its feedback carries its note."""
    by = {(r.student, r.notebook): r for r in summary.results}
    problems = []
    for (student, name), (points, note) in expected.items():
        result = by[(student, name)]
        detail = f"{student}: {result.points:g} points, {[(c.grade_id, c.status, c.message[:80]) for c in result.cells if c.status != 'pass']}, note {result.message!r}"
        if points is not None and result.points != points:
            problems.append(f"expected {points:g}; " + detail)
        text = result.message + " ".join(c.message for c in result.cells)
        if note and not any(n in text for n in ((note,) if isinstance(note, str) else note)):
            problems.append(f"expected a note with {note!r}; " + detail)
        assert result.max_points == by[("honest", name)].max_points, f"{student}: max points changed"
    assert not problems, "\n".join(problems)


def test_nobody_loses_grades_and_nothing_escapes(graded):
    root, expected, summary = graded
    rows = json.loads((root / "out" / "results.json").read_text())
    students = {r["student"] for r in rows}
    assert students == set(expected)
    per_student = {s: sum(1 for r in rows if r["student"] == s) for s in students}
    assert len(set(per_student.values())) == 1, "every student has one row per graded cell of every notebook"
    assert not (settings.ROOT / "pwned.txt").exists() and not (settings.ROOT.parent / "pwned.txt").exists()
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'out' / 'gradebook.db'}") as gb:
        scores = {s.student.id: s.score for s in gb.assignment_submissions(MODULE)}
    totals = {s: sum(r["points"] for r in rows if r["student"] == s) for s in students}
    assert scores == totals, "the gradebook agrees with results.json (stderr in a passing cell costs nothing)"


def test_feedback_leaks_no_hidden_source_and_runs_no_script(graded):
    root, _, _ = graded
    hidden_source = [
        line
        for path in (settings.ROOT / "autograde" / "hidden").rglob("*.py")
        for line in path.read_text().splitlines()
    ]
    distinctive = [line.strip() for line in hidden_source if len(line.strip()) > 30]
    for page in (root / "out" / "feedback").rglob("*.html"):
        text = page.read_text()
        assert "<script>alert" not in text and "<img src=x" not in text, page  # escaped text is harmless
        leaked = [line for line in distinctive if line in text]
        assert not leaked, f"{page.name} shows hidden test source: {leaked[:2]}"
    report = (root / "out" / "report.html").read_text()
    assert "<script>alert" not in report


@pytest.mark.skipif(not SANDBOXED, reason="bubblewrap is not available here")
def test_sandboxed_kernels_see_nothing_of_the_instructor(graded):
    root, expected, summary = graded

    def outputs(student: str) -> str:
        executed = notebooks.read(
            root / "out" / ".autograde" / MODULE / "work" / student / "01_autograd" / "executed.ipynb"
        )
        return json.dumps([c.get("outputs", []) for c in executed.cells])

    assert "blocked" in outputs("networker") and "connected" not in outputs("networker")
    assert "refused" in outputs("escaper") and "results.json" not in outputs("escaper")


# -- borrowing the course's own implementations -------------------------------------------------------
# Students install `course`: TinyGPT's components, the training schedule and the visible checks'
# helpers compute answers. Reached by any spelling, in any process, they earn nothing.
TRANSFORMER, POSITIONS, GPT, OPTIMIZERS = "02_transformer", "02_positions.ipynb", "03_gpt.ipynb", "03_optimizers.ipynb"
ROPE_TESTS, BLOCK_TESTS = (
    ("apply_rope_test", "apply_rope_relative_test"),
    ("transformer_block_causal_test", "transformer_block_test", "transformer_block_gqa_test"),
)
OBFUSCATED = 'import importlib\n_m = importlib.import_module("course." + "mod" + "els")\n'
BORROWED_ROPE = {
    "plain": "from course.models import rope as _r\n\ndef apply_rope(x, positions, theta=10000.0):\n    return _r(x, positions, theta)",
    "obfuscated": OBFUSCATED
    + 'def apply_rope(x, positions, theta=10000.0):\n    return getattr(_m, "ro" + "pe")(x, positions, theta)',
    "aliased": OBFUSCATED
    + 'spin = vars(_m)["".join(reversed("epor"))]\n\ndef apply_rope(x, positions, theta=10000.0):\n    return spin(x, positions, theta)',
    # in a worker process, forked or spawned, which imports the course afresh
    "forked": 'import multiprocessing as _mp\n\ndef _rotate(x, positions, theta):\n    import importlib\n    return getattr(importlib.import_module("course." + "models"), "ro" + "pe")(x, positions, theta)\n\ndef apply_rope(x, positions, theta=10000.0):\n    with _mp.get_context("fork").Pool(1) as pool:\n        return pool.apply(_rotate, (x, positions, theta))',
    # attempts to turn the watch off first: tracers cleared, the module reloaded, its code recompiled
    "unwatched": OBFUSCATED
    + 'import sys, inspect\nsys.settrace(None)\nsys.setprofile(None)\n_m = importlib.reload(_m)\n_fresh = {}\nexec(compile(inspect.getsource(_m), _m.__file__, "exec"), _fresh)\n_m.rope.__code__ = _fresh["rope"].__code__\n\ndef apply_rope(x, positions, theta=10000.0):\n    return _m.rope(x, positions, theta)',
}
BORROWED_SCHEDULE = {
    "plain": "from course.train import Schedule\n\ndef cosine_lr(step, max_lr, min_lr, warmup_steps, total_steps):\n    if step >= total_steps:\n        return min_lr\n    return Schedule(steps=total_steps, lr=max_lr, min_lr=min_lr, warmup=warmup_steps).lr_at(step)",
    "obfuscated": 'import importlib\n\ndef cosine_lr(step, max_lr, min_lr, warmup_steps, total_steps):\n    if step >= total_steps:\n        return min_lr\n    plan = getattr(importlib.import_module("course." + "train"), "Sched" + "ule")\n    return plan(steps=total_steps, lr=max_lr, min_lr=min_lr, warmup=warmup_steps).lr_at(step)',
}
BORROWED_GPT = {
    "norm": OBFUSCATED
    + 'def rms_norm(x, weight, eps=1e-5):\n    norm = getattr(_m, "RMS" + "Norm")(x.shape[-1], eps).to(x.dtype)\n    norm.weight.data = weight\n    return norm(x).detach()',
    "block": OBFUSCATED + 'TransformerBlock = getattr(_m, "Bl" + "ock")',
}


def points_of(nb: nbformat.NotebookNode, grade_ids=None) -> float:
    return sum(
        notebooks.points(c)
        for c in nb.cells
        if notebooks.is_autograded(c) and (grade_ids is None or notebooks.grade_id(c) in grade_ids)
    )


def borrowing_cohort(subs) -> dict[tuple[str, str], tuple[float, str]]:
    expected = {}

    def put(
        student: str, module: str, name: str, nb: nbformat.NotebookNode, lost: tuple[str, ...], note: str = ""
    ) -> None:
        path = subs / module / student / name
        path.parent.mkdir(parents=True, exist_ok=True)
        notebooks.write(nb, path)
        expected[(module, student, name)] = (points_of(nb) - points_of(nb, lost), note)

    def borrowing(module: str, name: str, solution: str, code: str) -> nbformat.NotebookNode:
        nb = full(module, name)
        cell(nb, solution).source = code
        return nb

    for module, name in ((MODULE, OPTIMIZERS), (TRANSFORMER, POSITIONS), (TRANSFORMER, GPT)):
        put("honest", module, name, full(module, name), ())
    for how, code in BORROWED_ROPE.items():
        note = "interfered with the grading" if how == "unwatched" else "uses the course's own implementation"
        put(
            f"rope_{how}",
            TRANSFORMER,
            POSITIONS,
            borrowing(TRANSFORMER, POSITIONS, "apply_rope", code),
            ROPE_TESTS,
            note,
        )
    for how, code in BORROWED_SCHEDULE.items():
        put(
            f"schedule_{how}",
            MODULE,
            OPTIMIZERS,
            borrowing(MODULE, OPTIMIZERS, "cosine_lr", code),
            ("cosine_lr_test",),
            "uses the course's own",
        )
    # the block calls the borrowed norm, the GPT the borrowed block: they borrow too
    put(
        "norm",
        TRANSFORMER,
        GPT,
        borrowing(TRANSFORMER, GPT, "rms_norm", BORROWED_GPT["norm"]),
        ("rms_norm_test", *BLOCK_TESTS, "gpt_test"),
        "RMSNorm",
    )
    put(
        "block",
        TRANSFORMER,
        GPT,
        borrowing(TRANSFORMER, GPT, "transformer_block", BORROWED_GPT["block"]),
        (*BLOCK_TESTS, "gpt_test"),
        "Block",
    )
    # the untouched release with every comparison patched to succeed: stubs raise, nothing is earned
    patched = notebooks.read(settings.RELEASE / TRANSFORMER / POSITIONS)
    patched = with_cell(patches_all(), after="imports", nb=patched)
    put("comparison_patcher", TRANSFORMER, POSITIONS, patched, tuple(notebooks.grade_id(c) for c in patched.cells))
    return expected


def patches_all() -> str:
    return "import builtins, math, torch, numpy\ntorch.allclose = torch.equal = lambda *a, **k: True\nmath.isclose = lambda *a, **k: True\nnumpy.allclose = numpy.array_equal = lambda *a, **k: True\nbuiltins.abs = lambda x: 0"


@pytest.fixture(scope="module")
def graded_borrowers(tmp_path_factory):
    root = tmp_path_factory.mktemp("borrowers")
    expected = borrowing_cohort(root / "subs")
    limits = Limits(cell_timeout=60, notebook_timeout=300, memory_mb=2048)
    summaries = {
        module: grade(module, root / "subs" / module, root / "out", progress=False, limits=limits)
        for module in (MODULE, TRANSFORMER)
    }
    return expected, summaries


def test_answers_borrowed_from_the_course_earn_nothing(graded_borrowers):
    expected, summaries = graded_borrowers
    for module, summary in summaries.items():
        own = {(student, name): want for (m, student, name), want in expected.items() if m == module}
        assert_honest_points(summary, own)
