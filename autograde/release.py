"""Release: source notebooks -> student notebooks, with nbgrader's generate_assignment.

Placeholders in source are filled from pyproject's [tool.course] first (badges,
the Colab install URL), so that the checksums nbgrader writes match what the
student receives. The result is written in nbformat's canonical layout with no
outputs; `check` regenerates into a temporary folder and compares.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import quote

from nbformat import NotebookNode
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from autograde import notebooks, settings

BADGES_MARK = "<!-- badges -->"
PIP_URL_MARK = "{{ course_pip_url }}"


def pip_url() -> str:
    """What the Colab setup cell installs: the `course` package from the published repository."""
    s = settings.course_settings()
    return f"git+{s['repository']}@{s['branch']}"


def github_repo() -> str:
    """The published student repository as "owner/name"."""
    return settings.course_settings()["repository"].rstrip("/").removesuffix(".git").split("github.com/", 1)[-1]


def badges(module: str, notebook: str) -> str:
    """The "Open in Colab" and "Launch Binder" badges of release/<module>/<notebook> in the published repository."""
    repo, branch = github_repo(), settings.course_settings()["branch"]
    path = f"release/{module}/{notebook}"
    colab = f"https://colab.research.google.com/github/{repo}/blob/{branch}/{path}"
    binder = f"https://mybinder.org/v2/gh/{repo}/{branch}?labpath={quote(path, safe='')}"
    return (
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab}) "
        f"[![Launch Binder](https://mybinder.org/badge_logo.svg)]({binder})"
    )


def render(nb: NotebookNode, module: str, notebook: str) -> NotebookNode:
    """Fill the source's placeholders: the badge line and the Colab install URL."""
    for cell in nb.cells:
        cell.source = cell.source.replace(BADGES_MARK, badges(module, notebook)).replace(PIP_URL_MARK, pip_url())
    return nb


def nbgrader_config(root: Path) -> Config:
    """The course's nbgrader_config.py, pointed at another course directory `root`."""
    config = PyFileConfigLoader(settings.NBGRADER_CONFIG.name, path=str(settings.NBGRADER_CONFIG.parent)).load_config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    for name in ("submitted", "autograded", "feedback"):
        config.CourseDirectory[f"{name}_directory"] = name
    config.Exchange.root = str(root)  # unused, but nbgrader complains when it is not writable
    return config


def generate_into(module: str, root: Path) -> Path:
    """Render source/<module> into course directory `root` and run generate_assignment there.

    Returns root/release/<module>. The gradebook at root/gradebook.db then knows the assignment.
    """
    from nbgrader.apps import NbGraderAPI

    settings.tool_path()
    for path in settings.notebooks(module):
        notebooks.write(render(notebooks.read(path), module, path.name), root / "source" / module / path.name)
    config = nbgrader_config(root)
    result = NbGraderAPI(config=config).generate_assignment(module, force=True, create=True)
    if not result["success"]:
        raise RuntimeError(f"nbgrader generate_assignment failed for {module}:\n{result.get('error') or result['log']}")
    return root / "release" / module


def generate(module: str, dest: Path) -> list[Path]:
    """Write the student notebooks of `module` into `dest` (replacing what was there)."""
    with tempfile.TemporaryDirectory(prefix="release-") as tmp:
        generated = generate_into(module, Path(tmp))
        dest.mkdir(parents=True, exist_ok=True)
        for stale in dest.glob("*.ipynb"):
            stale.unlink()
        written = []
        for path in sorted(generated.glob("*.ipynb")):
            nb = notebooks.strip_outputs(notebooks.read(path))
            notebooks.write(nb, dest / path.name)
            written.append(dest / path.name)
    return written


def release(module: str) -> list[Path]:
    return generate(module, settings.RELEASE / module)


def check(module: str, generated: Path | None = None) -> list[str]:
    """Differences between release/<module> and a fresh generation ([] when equal). `generated`:
    a folder nbgrader just generated the module into (a grading run's OUT/release/<module>),
    instead of generating it again."""
    committed = settings.RELEASE / module
    with tempfile.TemporaryDirectory(prefix="release-check-") as tmp:
        fresh = generated or generate_into(module, Path(tmp))
        names = sorted({p.name for p in fresh.glob("*.ipynb")} | {p.name for p in committed.glob("*.ipynb")})
        problems = []
        for name in names:
            a, b = committed / name, fresh / name
            if not a.exists():
                problems.append(f"release/{module}/{name} is missing")
            elif not b.exists():
                problems.append(f"release/{module}/{name} has no source notebook")
            elif a.read_text(encoding="utf-8") != notebooks.dumps(notebooks.strip_outputs(notebooks.read(b))):
                problems.append(f"release/{module}/{name} differs from a fresh generation of source/{module}/{name}")
        return problems
