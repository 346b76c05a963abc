"""Where the course lives and how it is configured (pyproject's [tool.course])."""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(os.environ.get("COURSE_ROOT", Path(__file__).resolve().parent.parent))
SOURCE = ROOT / "source"
RELEASE = ROOT / "release"
WORKSPACE = ROOT / "workspace"
NBGRADER_CONFIG = ROOT / "nbgrader_config.py"


def modules() -> list[str]:
    """Course modules: the folders of source/, e.g. ["01_foundations", ...]."""
    return sorted(p.name for p in SOURCE.iterdir() if p.is_dir() and not p.name.startswith("."))


def notebooks(module: str) -> list[Path]:
    """The source notebooks of a module, in order."""
    folder = SOURCE / module
    if not folder.is_dir():
        raise SystemExit(f"unknown module {module!r}; modules: {', '.join(modules())}")
    return sorted(folder.glob("*.ipynb"))


def hidden_module(module: str) -> str:
    """The name under autograde.hidden / autograde.judge: "01_foundations" -> "foundations"."""
    return module.split("_", 1)[1]


def notebook_module(path: Path) -> str:
    """Where a notebook's exercise code lives in each mirrored root (course/checks,
    autograde/hidden, autograde/judge, tests/mutants):
    source/02_transformer/02_positions.ipynb -> "transformer.positions"."""
    return f"{hidden_module(path.parent.name)}.{path.stem.split('_', 1)[1]}"


@lru_cache(maxsize=1)
def pyproject() -> dict:
    """The course's pyproject.toml, parsed."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def course_settings() -> dict[str, Any]:
    """[tool.course] of pyproject.toml: URL and branch of the published student repository, modules in progress."""
    return pyproject()["tool"]["course"]


def tool_path() -> None:
    """Put this interpreter's scripts first on PATH (nbgrader runs `alembic` from there)."""
    scripts = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != scripts:
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")
