"""The published student repository: what it holds, what it never holds, and a publish that cannot hurt."""

from __future__ import annotations

import ast
import gzip
import lzma
import re
import sys
import textwrap
from pathlib import Path
from urllib.parse import unquote

import nbformat
import pytest

from autograde import notebooks, publish, release, settings
from autograde.__main__ import main
from course.data import stdlib_files
from tests.helpers import source_notebooks

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TOP_LEVEL = {"README.md", "pyproject.toml", "environment.yml", "postBuild", ".gitignore", publish.MANIFEST}
MARKERS = (
    "autograde",
    "BEGIN SOLUTION",
    "END SOLUTION",
    "BEGIN HIDDEN TESTS",
    "END HIDDEN TESTS",
    "{{ course_pip_url }}",
    "<!-- badges -->",
)

# Solution lines the student runtime ships on purpose, with the reason. Keep this short: never a
# whole solution a student could import or copy.
KNOWN_PUBLIC: dict[str, str] = {}  # solution lines that may appear in what students get, with the reason


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under root (hidden ones and .git included): relative path -> (bytes, permission bits)."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mode & 0o777)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def readable(name: str, data: bytes) -> str:
    """A file's text as a reader would see it: notebooks as their cells' sources, .gz decompressed,
    anything else decoded byte for byte."""
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    if name.endswith(".xz"):
        data = lzma.decompress(data)
    if name.endswith(".ipynb"):
        return "\n".join(c.source for c in nbformat.reads(data.decode(), as_version=4).cells)
    return data.decode("latin-1")


def distinctive(line: str) -> bool:
    """Long enough not to occur by chance, and not an import or a comment."""
    return len(line) >= 30 and not line.startswith(("#", "import ", "from "))


def solution_lines(cell) -> list[str]:
    """A solution cell's lines between nbgrader's markers (every line of a markdown answer)."""
    if cell.cell_type != "code":
        return cell.source.splitlines()
    inside, lines = False, []
    for line in cell.source.splitlines():
        if line.strip() in ("### BEGIN SOLUTION", "### END SOLUTION"):
            inside = line.strip() == "### BEGIN SOLUTION"
        elif inside:
            lines.append(line)
    return lines


def secrets() -> dict[str, str]:
    """Text that must never reach a student -> where it comes from: distinctive lines of every
    source notebook's solutions, its hidden-test regions, and the hidden tests and judges. A line
    of a hidden test or judge that students see anyway (a shared idiom of the course package or a
    release notebook) gives nothing away."""
    found = {}
    for path in source_notebooks():
        for cell in notebooks.read(path).cells:
            where = f"{path.parent.name}/{path.name}, cell {notebooks.grade_id(cell)}"
            if notebooks.is_solution(cell):
                found.update(
                    {s: f"solution of {where}" for s in map(str.strip, solution_lines(cell)) if distinctive(s)}
                )
            found.update(
                {
                    s: f"hidden test of {where}"
                    for s in map(str.strip, notebooks.hidden_region(cell.source).splitlines())
                    if s
                }
            )
    seen = [p.read_text() for p in (settings.ROOT / "course").rglob("*.py")]
    seen += [c.source for p in settings.RELEASE.rglob("*.ipynb") for c in notebooks.read(p).cells]
    seen += list(stdlib_files().values())  # the corpus: Python's own source, public anyway
    public = {line.strip() for text in seen for line in text.splitlines()}
    for folder in ("hidden", "judge"):
        for path in sorted((settings.ROOT / "autograde" / folder).rglob("*.py")):
            lines = map(str.strip, path.read_text().splitlines())
            where = path.relative_to(settings.ROOT).as_posix()
            found.update({s: where for s in lines if distinctive(s) and s not in public})
    return found


# Published code that implements graded exercises on purpose, fenced at run time (autograde.fence):
# TinyGPT, and the script that trained it (its warmup-cosine schedule is the optimizers exercise).
SHIPS_IMPLEMENTATIONS = ("course/models.py", "course/train.py")
MIN_BODY = 120  # characters of AST dump: shorter bodies (a single return of a call) are idioms


def statements(source: str) -> list[list[str]]:
    """The bodies in `source` as lists of normalized statements (the AST of each, so whitespace,
    comments, docstrings and line breaks do not count): every function's, and the top level's."""
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return []
    bodies = [tree.body] + [n.body for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    normalized = []
    for body in bodies:
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # the docstring
        normalized.append([ast.dump(s, annotate_fields=False) for s in body])
    return normalized


def secret_bodies() -> dict[tuple[str, ...], str]:
    """Normalized bodies that must never reach a student -> where from: every solution, and every
    function of autograde/judge (the references and the judges)."""
    found = {}
    for path in source_notebooks():
        for cell in notebooks.read(path).cells:
            if notebooks.is_solution(cell) and cell.cell_type == "code":
                for body in statements("\n".join(solution_lines(cell)))[:1]:
                    found[tuple(body)] = f"solution of {path.parent.name}/{path.name}, cell {notebooks.grade_id(cell)}"
    for path in sorted((settings.ROOT / "autograde" / "judge").rglob("*.py")):
        for body in statements(path.read_text())[1:]:
            found[tuple(body)] = path.relative_to(settings.ROOT).as_posix()
    return {body: where for body, where in found.items() if sum(map(len, body)) >= MIN_BODY}


def code_chunks(name: str, data: bytes) -> list[str]:
    """A file's Python: a notebook's code cells one by one (a magic only spoils its own cell)."""
    if name.endswith(".ipynb"):
        return [c.source for c in nbformat.reads(data.decode(), as_version=4).cells if c.cell_type == "code"]
    return [data.decode()]


def contains(body: list[str], part: tuple[str, ...]) -> bool:
    return any(tuple(body[i : i + len(part)]) == part for i in range(len(body) - len(part) + 1))


@pytest.mark.slow
def test_published_repository_has_the_student_files_only(published):
    names = set(snapshot(published))
    released = {
        f"release/{p.parent.name}/{p.name}"
        for m in publish.released_modules()
        for p in (settings.RELEASE / m).glob("*.ipynb")
    }
    runtime = {p.relative_to(settings.ROOT).as_posix() for p in publish.course_files()}
    assert names == released | runtime | TOP_LEVEL | set(publish.DOCS)
    assert released and any(n.startswith("course/assets/") for n in names), (
        "notebooks and the course's checkpoints and corpus"
    )
    for name in released | runtime | set(publish.DOCS):
        assert (published / name).read_bytes() == (settings.ROOT / name).read_bytes(), f"{name} is not a copy"
    assert (published / "postBuild").stat().st_mode & 0o111, "postBuild is executable"


@pytest.mark.slow
def test_published_repository_holds_no_solution_hidden_test_or_instructor_code(published):
    raw = {name: data for name, (data, _) in snapshot(published).items()}
    texts = {name: readable(name, data) for name, data in raw.items()}
    for name, data in raw.items():
        for marker in MARKERS:
            assert marker.encode() not in data and marker not in texts[name], f"{name} contains {marker!r}"
    secret = secrets()
    stale = set(KNOWN_PUBLIC) - set(secret)
    assert not stale, f"KNOWN_PUBLIC lists lines that are no longer secret, remove them: {stale}"
    assert len(secret) > 200, "the scan has something to look for"
    leaks = [
        f"{name} has a line of the {where}: {line!r}"
        for line, where in secret.items()
        if line not in KNOWN_PUBLIC
        for name, text in texts.items()
        if line in text
    ]
    assert not leaks, "\n".join(leaks)
    # the same code reformatted, recommented or split differently is found by its statements
    code = {
        name: [body for chunk in code_chunks(name, raw[name]) for body in statements(chunk)]
        for name in raw
        if name.endswith((".py", ".ipynb")) and name not in SHIPS_IMPLEMENTATIONS
    }
    bodies = secret_bodies()
    assert len(bodies) > 50, "the scan has bodies to look for"
    copies = [
        f"{name} holds the code of the {where}"
        for part, where in bodies.items()
        for name, found in code.items()
        if any(contains(body, part) for body in found)
    ]
    assert not copies, "\n".join(copies)


@pytest.mark.slow
def test_student_pyproject_installs_course_alone_with_the_course_dependencies(published):
    student = tomllib.loads((published / "pyproject.toml").read_text())
    course = settings.pyproject()
    assert student["project"]["dependencies"] == course["project"]["dependencies"]
    assert student["project"]["optional-dependencies"] == {"lab": course["project"]["optional-dependencies"]["lab"]}
    assert student["build-system"] == course["build-system"]
    assert student["tool"]["setuptools"]["packages"]["find"]["include"] == ["course*"]
    assert student["tool"]["setuptools"]["package-data"]["course"] == ["assets/*"]
    assert "scripts" not in student["project"]


@pytest.mark.slow
def test_every_notebooks_badges_open_that_notebook_in_the_published_repository(published):
    course = settings.course_settings()
    repo = course["repository"].removeprefix("https://github.com/")
    colab = re.compile(
        rf"\(https://colab\.research\.google\.com/github/{re.escape(repo)}/blob/{course['branch']}/([^)]+)\)"
    )
    binder = re.compile(rf"\(https://mybinder\.org/v2/gh/{re.escape(repo)}/{course['branch']}\?labpath=([^)]+)\)")
    notebooks_published = sorted(published.glob("release/*/*.ipynb"))
    assert notebooks_published
    for path in notebooks_published:
        title = notebooks.read(path).cells[0].source
        name = path.relative_to(published).as_posix()
        assert colab.findall(title) == [name], f"{name}: Open in Colab badge"
        assert [unquote(p) for p in binder.findall(title)] == [name], f"{name}: Launch Binder badge"


@pytest.mark.slow
def test_student_readme_has_every_notebooks_badges(published):
    readme = (published / "README.md").read_text()
    for module in publish.released_modules():
        for path in (settings.RELEASE / module).glob("*.ipynb"):
            assert release.badges(module, path.name) in readme
    assert release.pip_url() in readme and "environment.yml" in readme and "2 GB" in readme


def test_publishing_again_replaces_exactly_its_own_files_with_the_same_bytes(published, tmp_path, monkeypatch):
    monkeypatch.setattr(release, "check", lambda module: [])  # the session's `published` fixture checked it
    out = tmp_path / "student-repo"
    publish.publish(out)
    assert snapshot(out) == snapshot(published), "two publishes of the same course give the same bytes"
    (out / ".git").mkdir()
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (out / "my-notes.md").write_text("a student's file")
    (out / "release" / "99_gone").mkdir()
    (out / "release" / "99_gone" / "old.ipynb").write_text("{}")
    with (out / publish.MANIFEST).open("a") as manifest:
        manifest.write("release/99_gone/old.ipynb\n../outside.txt\n")
    (tmp_path / "outside.txt").write_text("not publish's")
    publish.publish(out)
    after = snapshot(out)
    assert after.pop(".git/HEAD") and after.pop("my-notes.md"), "files publish did not write are kept"
    assert after == snapshot(published), "a file of the last publish that is gone from the course is removed"
    assert not (out / "release" / "99_gone").exists()
    assert (tmp_path / "outside.txt").exists(), "a manifest line pointing outside OUT_DIR is ignored"


@pytest.mark.parametrize(
    "where, message",
    [
        (lambda tmp: settings.SOURCE / "01_foundations" / "published", "inside the course repository"),
        (lambda tmp: settings.ROOT, "is or contains the course repository"),
        (lambda tmp: tmp / "someone-elses-work", "not empty and was not written by publish"),
        (lambda tmp: tmp / "someone-elses-work" / "notes.txt", "is a file"),
    ],
    ids=["inside-source", "the-repository", "non-empty-folder", "a-file"],
)
def test_publish_refuses_a_folder_it_could_damage(where, message, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(release, "check", lambda module: pytest.fail("publish went on after refusing"))
    (tmp_path / "someone-elses-work").mkdir()
    (tmp_path / "someone-elses-work" / "notes.txt").write_text("precious")
    before = snapshot(tmp_path), sorted(p for p in settings.SOURCE.rglob("*"))
    out = where(tmp_path)
    assert main(["publish", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert (snapshot(tmp_path), sorted(p for p in settings.SOURCE.rglob("*"))) == before, (
        "nothing was written or deleted"
    )


def test_publish_refuses_an_out_of_date_release(tmp_path, monkeypatch):
    monkeypatch.setattr(release, "check", lambda module: [f"release/{module}/x.ipynb differs from a fresh generation"])
    with pytest.raises(publish.PublishError, match="release/ is out of date"):
        publish.publish(tmp_path / "student-repo")
    assert not (tmp_path / "student-repo").exists()
