"""The nbgrader course directory a grading run writes into OUT, and what identifies its contents."""

from __future__ import annotations

import hashlib
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from nbformat import NotebookNode

from autograde import notebooks, settings

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
        """The grader's own files for this module (results per notebook, work folders, summary)."""
        return self.out / ".autograde" / self.module


def digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


def prepare_course(module: str, out: Path) -> Course:
    """OUT as an nbgrader course directory: rendered source, release and gradebook for `module`."""
    from autograde import release

    out.mkdir(parents=True, exist_ok=True)
    rendered = {
        p.name: notebooks.dumps(release.render(notebooks.read(p), module, p.name)) for p in settings.notebooks(module)
    }
    source_dir, release_dir = out / "source" / module, out / "release" / module
    current = {p.name: p.read_text(encoding="utf-8") for p in source_dir.glob("*.ipynb")} if source_dir.is_dir() else {}
    if (
        current != rendered
        or {p.name for p in release_dir.glob("*.ipynb")} != set(rendered)
        or not _gradebook_knows(out, module)
    ):
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
        digest(GRADER_VERSION.encode(), *[rendered[n].encode() for n in names], *grader_code),
    )


def _gradebook_knows(out: Path, module: str) -> bool:
    """True when OUT's gradebook exists and has `module` as an assignment."""
    if not (out / "gradebook.db").exists():
        return False
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        try:
            gb.find_assignment(module)
        except MissingEntry:
            return False
    return True


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
    path = course.out / ".autograde" / "key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(16))
    return path.read_text().strip()
