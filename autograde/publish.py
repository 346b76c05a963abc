"""Publish: write the student repository, the one students clone or open on Binder and Colab.

It holds release/<module>/ for every released module, the `course` package with its assets,
what Binder reads (environment.yml, then postBuild installs `course`), a pyproject.toml that
installs `course` alone (what the Colab setup cell pip-installs) and a README with badges.
It is assembled from those parts only, so no source notebook, solution, hidden test or
instructor code can reach it. Publishing again into the same folder replaces exactly the
files the last publish wrote (its manifest lists them) and writes the same bytes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

from autograde import notebooks, release, settings

MANIFEST = ".published-files"
EXECUTABLE = {"postBuild"}

POSTBUILD = """\
#!/bin/bash
# Binder runs this after it has built environment.yml: install the `course` package the notebooks import.
set -euo pipefail
pip install --no-deps --quiet .
"""

GITIGNORE = """\
__pycache__/
.ipynb_checkpoints/
*.egg-info/
build/
.venv/
"""

README = """\
# LLM engineering: the notebooks

{description}
Each notebook is 30-45 minutes of work: read the explanation, fill in the cells marked
`YOUR CODE HERE`, run the check cell below each one.

{binder_badge} opens all of them in JupyterLab, nothing to install.

| notebook | open it |
|---|---|
{table}

## Three ways in

1. **Colab**: click *Open in Colab* next to a notebook, then run its cells from the top. The
   first code cell installs the `course` package, only on Colab, once, quietly:
   `{pip_url}`. Save a copy in your Drive (*File → Save a copy in Drive*) so that your
   work persists.
2. **Binder**: click *Launch Binder*. Binder builds the environment from `environment.yml`
   and installs `course` with `postBuild`; the first start takes a few minutes. Every notebook
   stays well under 1.5 GB of memory, inside Binder's 2 GB. Binder forgets your work when the
   session ends: download your notebooks (*File → Download*) before you leave.
3. **Locally** (Python 3.10+, no GPU needed):

   ```bash
   git clone {repository} && cd {folder}
   python -m venv .venv && source .venv/bin/activate
   pip install {torch} --index-url {torch_index}   # PyTorch, CPU build
   pip install -e ".[lab]"   # the course package and JupyterLab
   jupyter lab release/
   ```

   With conda instead: `conda env create -f environment.yml`, `conda activate {env_name}`,
   `pip install --no-deps -e .`, `jupyter lab release/`.

## Checks

A line starting with ✓ means the visible check passed; a failed check names the likely mistake;
a check run before you implement the exercise says `implement X first`. When your notebook is
graded, hidden tests call the same functions on other inputs, so make them right in general.
Submit the `.ipynb` files as your instructor asks, keeping the cells you were given.
"""


class PublishError(Exception):
    """The output folder cannot be published into, or release/ is out of date."""


def released_modules() -> list[str]:
    """Modules with notebooks in release/: what students get."""
    folders = settings.RELEASE.iterdir() if settings.RELEASE.is_dir() else []
    return sorted(p.name for p in folders if p.is_dir() and any(p.glob("*.ipynb")))


def _toml(value: object) -> str:
    """A string, a list of strings or a table of them as TOML (JSON strings are TOML strings)."""
    if isinstance(value, list):
        return "[\n" + "".join(f"    {_toml(item)},\n" for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{key} = {_toml(item)}" for key, item in value.items()) + " }"
    return json.dumps(value)


def student_pyproject() -> str:
    """pyproject.toml of the student repository: the `course` package with its assets, and the
    course's own student dependencies (copied from its pyproject, never retyped)."""
    main = settings.pyproject()
    project = main["project"]
    fields = {
        "name": f"{project['name']}-student",
        "version": project["version"],
        "description": project["description"],
        "readme": "README.md",
        "requires-python": project["requires-python"],
        "license": project["license"],
        "dependencies": project["dependencies"],
    }
    lines = [
        "# Written by the course's publish command from the course repository's pyproject.toml.",
        '# Installs the `course` package the notebooks import: `pip install -e .`, or `-e ".[lab]"` with JupyterLab.',
        "[build-system]",
        *(f"{key} = {_toml(value)}" for key, value in main["build-system"].items()),
        "",
        "[project]",
        *(f"{key} = {_toml(value)}" for key, value in fields.items()),
        "",
        "[project.optional-dependencies]",
        f"lab = {_toml(project['optional-dependencies']['lab'])}",
        "",
        "[tool.setuptools.packages.find]",
        'include = ["course*"]',
        "",
        "[tool.setuptools.package-data]",
        'course = ["assets/*"]',
    ]
    return "\n".join(lines) + "\n"


def environment_yml() -> str:
    """The course's environment.yml without its leading comments (they speak of the course repository)."""
    lines = (settings.ROOT / "environment.yml").read_text().splitlines()
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "# The Binder / conda environment of the notebooks; Binder then runs postBuild.\n" + "\n".join(lines) + "\n"


def _environment_pin(pattern: str) -> str:
    match = re.search(pattern, (settings.ROOT / "environment.yml").read_text(), re.MULTILINE)
    if match is None:
        raise PublishError(f"environment.yml has no line matching {pattern!r}")
    return match.group(1)


def student_readme(modules: list[str]) -> str:
    """README.md of the student repository: badges for every notebook and the three ways in."""
    course = settings.course_settings()
    repo, branch = release.github_repo(), course["branch"]
    rows = []
    for module in modules:
        for path in sorted((settings.RELEASE / module).glob("*.ipynb")):
            title = notebooks.read(path).cells[0].source.splitlines()[0].removeprefix("# ").strip()
            rows.append(f"| {title} (`{module}/{path.name}`) | {release.badges(module, path.name)} |")
    binder = f"https://mybinder.org/v2/gh/{repo}/{branch}?urlpath={quote('lab/tree/release', safe='')}"
    return README.format(
        description=settings.pyproject()["project"]["description"],
        binder_badge=f"[![Launch Binder](https://mybinder.org/badge_logo.svg)]({binder})",
        table="\n".join(rows),
        pip_url=f'%pip install -q "{release.pip_url()}"',
        repository=course["repository"],
        folder=repo.split("/")[-1],
        torch=_environment_pin(r"^\s*-\s*(torch==\S+)\s*$"),
        torch_index=_environment_pin(r"--extra-index-url\s+(\S+)"),
        env_name=_environment_pin(r"^name:\s*(\S+)"),
    )


# What the notebooks link to besides themselves: the pretrained models' documentation, the interview index.
DOCS = ("docs/tinygpt.md", "docs/tinygpt_learning_curves.png", "docs/interview.md", "docs/interview_bank.md")


def course_files() -> list[Path]:
    """The files of the `course` package, without caches."""
    root = settings.ROOT / "course"
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix != ".pyc"
        and not any(part == "__pycache__" or part.startswith(".") for part in p.relative_to(root).parts)
    )


def contents() -> dict[str, bytes]:
    """Every file of the student repository: relative path -> bytes."""
    modules = released_modules()
    if not modules:
        raise PublishError("release/ holds no notebooks: run `python -m autograde release MODULE` first")
    files = {}
    for module in modules:
        for path in sorted((settings.RELEASE / module).glob("*.ipynb")):
            files[f"release/{module}/{path.name}"] = path.read_bytes()
    for path in course_files():
        files[path.relative_to(settings.ROOT).as_posix()] = path.read_bytes()
    for name in DOCS:
        files[name] = (settings.ROOT / name).read_bytes()
    files["environment.yml"] = environment_yml().encode()
    files["postBuild"] = POSTBUILD.encode()
    files["pyproject.toml"] = student_pyproject().encode()
    files["README.md"] = student_readme(modules).encode()
    files[".gitignore"] = GITIGNORE.encode()
    return files


def check_out_dir(out: Path) -> None:
    """Refuse a folder that publishing could damage: a file, the course repository or a part of it
    (workspace/ excepted), or a non-empty folder that an earlier publish did not write."""
    root = settings.ROOT.resolve()
    if out.exists() and not out.is_dir():
        raise PublishError(f"{out} is a file, not a folder")
    if root.is_relative_to(out):
        raise PublishError(f"{out} is or contains the course repository {root}: choose a folder of its own")
    if out.is_relative_to(root) and not out.is_relative_to(settings.WORKSPACE.resolve()):
        raise PublishError(
            f"{out} is inside the course repository (next to source/, release/, autograde/): publish to a folder outside it, or under workspace/ (git-ignored)"
        )
    if out.is_dir() and not (out / MANIFEST).is_file() and any(p.name != ".git" for p in out.iterdir()):
        raise PublishError(
            f"{out} is not empty and was not written by publish (it has no {MANIFEST}): choose a new or empty folder"
        )


def _remove_previous(out: Path) -> None:
    """Delete the files the last publish wrote (and folders they leave empty), nothing else."""
    manifest = out / MANIFEST
    if not manifest.is_file():
        return
    folders = set()
    for line in manifest.read_text().splitlines():
        path = out / line
        if not line or line.startswith("#") or ".git" in Path(line).parts or not path.resolve().is_relative_to(out):
            continue
        if path.is_file() and not path.is_symlink():
            path.unlink()
            folders.update(p for p in path.parents if p.is_relative_to(out) and p != out)
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def publish(out: Path) -> dict[str, bytes]:
    """Write the student repository into `out` after checking that release/ is up to date; return its files."""
    out = out.expanduser().resolve()
    check_out_dir(out)
    problems = [problem for module in released_modules() for problem in release.check(module)]
    if problems:
        raise PublishError(
            "\n".join(problems) + "\nrelease/ is out of date: run `python -m autograde release MODULE` first"
        )
    files = contents()
    _remove_previous(out)
    for name, data in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o755 if name in EXECUTABLE else 0o644)
    header = "# Written by the course's publish command: publishing again replaces exactly these files.\n"
    (out / MANIFEST).write_text(header + "".join(f"{name}\n" for name in sorted(files)))
    return files
