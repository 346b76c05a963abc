"""The set-up path: environment.yml agrees with pyproject, and every install path pins torch first."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from autograde import settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def pyproject() -> dict:
    return tomllib.loads((settings.ROOT / "pyproject.toml").read_text())


def test_environment_yml_matches_the_student_dependencies():
    project = pyproject()["project"]
    wanted = {
        Requirement(r).name: Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["lab"]
    }
    env = yaml.safe_load((settings.ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    listed = {Requirement(r).name: Requirement(r) for r in pip_section if not r.startswith("-")}
    assert set(listed) == set(wanted), f"environment.yml lists {sorted(listed)}, pyproject {sorted(wanted)}"
    for name, requirement in wanted.items():
        if name == "torch":
            pinned = next(iter(listed[name].specifier)).version
            assert requirement.specifier.contains(pinned), (
                f"environment.yml pins torch {pinned}, outside pyproject's {requirement.specifier}"
            )
        else:
            assert listed[name].specifier == requirement.specifier, (
                f"{name}: {listed[name].specifier} vs {requirement.specifier}"
            )


def test_install_paths_put_the_cpu_torch_first():
    makefile = (settings.ROOT / "Makefile").read_text()
    assert makefile.index("torch==2.13.0") < makefile.index('-e ".[dev]"')
    env = (settings.ROOT / "environment.yml").read_text()
    assert env.index("download.pytorch.org/whl/cpu") < env.index("torch==2.13.0")


def test_readme_and_ci_use_the_two_commands():
    readme = (settings.ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (settings.ROOT / ".ci" / "run").read_text()


@pytest.mark.skipif(
    not Path("/etc/debian_version").exists(), reason=".ci/run installs packages with apt on Debian only"
)
def test_ci_installs_sandbox_and_browser_best_effort_then_runs_make_test(tmp_path):
    """.ci/run as root on Debian, with an apt-get that fails: it says so and still runs `make test`."""
    (tmp_path / ".ci").mkdir()
    shutil.copy(settings.ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    fakes = {
        "id": "echo 0",
        "apt-get": f'echo "apt-get $*" >> {log}; [ "$1" = update ] || exit 100',
        "make": f'echo "make $*" >> {log}',
    }
    for name, body in fakes.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(["bash", tmp_path / ".ci" / "run"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert log.read_text().splitlines() == [
        "apt-get update -qq",
        "apt-get install -y -qq bubblewrap chromium",
        "make test",
    ]
    assert "could not install bubblewrap and chromium" in result.stderr


def test_instructor_toolchain_is_not_imported_by_the_student_runtime():
    for path in (settings.ROOT / "course").rglob("*.py"):
        text = path.read_text()
        assert "autograde" not in text, f"{path.relative_to(settings.ROOT)} mentions autograde"
