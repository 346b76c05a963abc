"""The students' ways in, on the published repository: Binder's environment, Colab's setup cell,
JupyterLab in a real browser, and nbgrader's student-side `validate`."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from nbformat import NotebookNode

from autograde import notebooks, release, settings
from autograde.notebooks import solution_text
from tests.helpers import cell

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

pytestmark = pytest.mark.slow

NOTEBOOK = "release/01_foundations/01_autograd.ipynb"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PIP_PROGRESS = ("Collecting", "Downloading", "Installing collected", "Successfully installed", "Requirement already")

# Runs cells the way Colab's kernel does: IPython (so `%pip` works), google.colab imported first.
COLAB_KERNEL = """\
import json, sys
import google.colab
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()
for source in json.load(open(sys.argv[1])):
    print("=== cell ===", flush=True)
    shell.run_cell(source)
    sys.stdout.flush()
"""


def run(command: list, **kwargs) -> subprocess.CompletedProcess:
    """Run a command; fail the test with its output when it fails."""
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=900, **kwargs)
    assert result.returncode == 0, (
        f"{' '.join(map(str, command))} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result


def pip_part() -> list[str]:
    """environment.yml's pip requirements, options (the CPU index) included."""
    env = yaml.safe_load((settings.ROOT / "environment.yml").read_text())
    return next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)


@pytest.fixture(scope="session")
def binder_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with environment.yml's pip part installed, the CPU torch first
    (any other order lets pip resolve torch to the CUDA build); `course` is not installed."""
    folder = tmp_path_factory.mktemp("binder")
    venv = folder / "venv"
    run([sys.executable, "-m", "venv", venv])
    options, requirements = (
        [r for r in pip_part() if r.startswith("-")],
        [r for r in pip_part() if not r.startswith("-")],
    )
    torch = [r for r in requirements if r.startswith("torch==")]
    assert torch, "environment.yml pins torch"
    pip = [venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--retries", "0", "--timeout", "15"]
    for name, lines in (("torch.txt", options + torch), ("requirements.txt", options + requirements)):
        (folder / name).write_text("\n".join(lines) + "\n")
        run(pip + ["-r", folder / name])
    return venv


def copy_of(published: Path, tmp_path: Path) -> Path:
    repo = tmp_path / "student-repo"
    shutil.copytree(published, repo)
    return repo


def test_colab_setup_cell_installs_course_once_quietly_then_checks_say_implement_first(
    binder_venv, published, tmp_path
):
    """Colab, simulated: a Python with torch and Jupyter but no `course`, a fake google.colab, and
    the release's setup cell pointed at a local git clone of the published repository."""
    started = time.perf_counter()
    python = binder_venv / "bin" / "python"
    distribution = tomllib.loads((published / "pyproject.toml").read_text())["project"]["name"]
    run([python, "-m", "pip", "uninstall", "--yes", "--quiet", distribution])  # in case the Binder test ran first
    repo = copy_of(published, tmp_path)
    branch = settings.course_settings()["branch"]
    git = ["git", "-C", repo, "-c", "user.name=course", "-c", "user.email=course@example.org"]
    run(git[:3] + ["init", "--quiet", "--initial-branch", branch])
    run(git[:3] + ["add", "--all"])
    run(git + ["commit", "--quiet", "--message", "publish"])

    nb = notebooks.read(repo / NOTEBOOK)
    setup = cell(nb, "setup").source
    assert f'%pip install -q "{release.pip_url()}"' in setup, "the release installs from the configured repository"
    local_setup = setup.replace(release.pip_url(), f"git+file://{repo}@{branch}")
    code = [c for c in nb.cells if c.cell_type == "code"]
    first_check = next(i for i, c in enumerate(code) if notebooks.is_autograded(c))
    cells = [local_setup, local_setup] + [c.source for c in code[1 : first_check + 1]]
    (tmp_path / "cells.json").write_text(json.dumps(cells))
    (tmp_path / "kernel.py").write_text(COLAB_KERNEL)
    (tmp_path / "fake" / "google" / "colab").mkdir(parents=True)
    (tmp_path / "fake" / "google" / "colab" / "__init__.py").write_text('"""Stands in for Colab\'s module."""\n')
    (tmp_path / "content").mkdir()  # Colab's working directory: no repository there
    env = {
        **os.environ,
        "PYTHONPATH": str(tmp_path / "fake"),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }
    result = subprocess.run(
        [python, tmp_path / "kernel.py", tmp_path / "cells.json"],
        cwd=tmp_path / "content",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=900,
    )
    outputs = result.stdout.split("=== cell ===\n")[1:]
    assert result.returncode == 0 and len(outputs) == len(cells), result.stdout[-3000:]
    first_setup, second_setup, check = outputs[0], outputs[1], outputs[-1]
    assert "you may need to restart the kernel" in first_setup, f"the first run installs:\n{first_setup}"
    assert not any(word in first_setup for word in PIP_PROGRESS), f"the install is quiet:\n{first_setup}"
    assert second_setup == "", f"the second run installs nothing:\n{second_setup}"
    assert "✗ implement `Value.__add__` first" in check and "Traceback" not in check, check
    assert "Traceback" not in "".join(outputs[:-1]), result.stdout[-3000:]
    where = run([python, "-c", "import course; print(course.__file__)"], cwd=tmp_path / "content").stdout
    assert str(binder_venv) in where, f"course is installed in the environment, not found elsewhere: {where}"
    print(f"\nColab simulation: {time.perf_counter() - started:.1f} s")


def test_binder_environment_installs_and_postbuild_makes_course_importable(binder_venv, published, tmp_path):
    """Binder builds environment.yml (its pip part, here in a fresh venv), then runs postBuild."""
    python = binder_venv / "bin" / "python"
    run([python, "-m", "pip", "check"])
    repo = copy_of(published, tmp_path)
    env = {**os.environ, "PATH": f"{binder_venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    run(["bash", repo / "postBuild"], cwd=repo, env=env)
    imports = cell(notebooks.read(repo / NOTEBOOK), "imports").source
    probe = f"SEED = 0\n{imports}\nimport course, importlib.resources\nprint(course.__file__)\nprint(sorted(p.name for p in importlib.resources.files('course').joinpath('assets').iterdir()))"
    out = run([python, "-c", probe], cwd=repo / Path(NOTEBOOK).parent).stdout
    assert str(binder_venv) in out, out
    assert all(p.name in out for p in (settings.ROOT / "course" / "assets").iterdir()), (
        f"the checkpoints and corpus are installed: {out}"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lab_settings(folder: Path) -> Path:
    """JupyterLab user settings: render every cell (no virtual scrolling), no news pop-up."""
    for name, values in {
        "notebook-extension/tracker": {"windowingMode": "none"},
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    }.items():
        path = folder / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    return folder


def wait_for_server(url: str, server: subprocess.Popen, log: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, f"JupyterLab exited:\n{log.read_text()[-3000:]}"
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer in {seconds} s:\n{log.read_text()[-3000:]}")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs it: apt-get install chromium)")
def test_jupyterlab_runs_a_release_notebook_in_a_real_browser(published, tmp_path):
    """JupyterLab on the published repository, the notebook run with Run All Cells in headless
    Chromium: the plot renders and the first check says what to implement, without a traceback."""
    from playwright.sync_api import sync_playwright

    started = time.perf_counter()
    repo = copy_of(published, tmp_path)  # JupyterLab writes checkpoints and saves the notebook
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "PYTHONPATH": str(repo),  # the kernel imports the published `course`
        "JUPYTERLAB_SETTINGS_DIR": str(lab_settings(tmp_path / "settings")),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    log = tmp_path / "jupyterlab.log"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={repo}",
        "--allow-root",
    ]
    with log.open("w") as log_file:
        server = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_server(f"{base}/api/status?token={token}", server, log)
        screenshot = settings.WORKSPACE / "screenshots" / "jupyterlab-01_autograd.png"
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
            page.get_by_text(re.compile(r"^Python 3.* \| Idle$")).first.wait_for(
                timeout=120_000
            )  # status bar: kernel started
            page.keyboard.press("Control+b")  # hide the file browser: more room for the notebook
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            check = page.locator(".jp-CodeCell", has_text="checks.check_value_forward(Value)").locator(
                ".jp-OutputArea-output"
            )
            try:
                check.wait_for(timeout=180_000)
            except Exception:
                page.screenshot(path=str(screenshot.with_suffix(".failed.png")), full_page=True)
                raise
            message = check.inner_text()
            plot_cell = page.locator(".jp-CodeCell", has_text="torch.sigmoid(xs)")
            plot = plot_cell.locator(".jp-OutputArea-output img")
            plot.wait_for(timeout=30_000)
            plot_width = plot.evaluate("img => img.complete ? img.naturalWidth : 0")
            page.set_viewport_size({"width": 1280, "height": 2700})  # the plot and the check's message in one picture
            plot_cell.evaluate("cell => cell.scrollIntoView({block: 'start'})")
            page.screenshot(path=str(screenshot))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert message.strip() == "✗ implement `Value.__add__` first (it still raises NotImplementedError)", message
    assert plot_width > 100, "the plot is a rendered image"
    print(f"\nscreenshot: {screenshot}\nJupyterLab in Chromium: {time.perf_counter() - started:.1f} s")


def reference_filled(path: Path, source: Path) -> NotebookNode:
    """The release notebook with every solution cell replaced by the reference answer."""
    nb = notebooks.read(path)
    answers = {
        notebooks.grade_id(c): solution_text(c.source) for c in notebooks.read(source).cells if notebooks.is_solution(c)
    }
    for c in nb.cells:
        if notebooks.grade_id(c) in answers:
            c.source = answers[notebooks.grade_id(c)]
    return nb


def test_nbgrader_validate_reports_an_untouched_release_and_passes_the_reference(published, tmp_path):
    untouched = tmp_path / "untouched" / Path(NOTEBOOK).name
    untouched.parent.mkdir()
    shutil.copy(published / NOTEBOOK, untouched)
    filled = tmp_path / "filled" / Path(NOTEBOOK).name
    notebooks.write(
        reference_filled(published / NOTEBOOK, settings.SOURCE / "01_foundations" / Path(NOTEBOOK).name), filled
    )
    env = {**os.environ, "PYTHONPATH": str(published)}
    validate = [sys.executable, "-m", "nbgrader", "validate"]
    failed = run(validate + [untouched.name], cwd=untouched.parent, env=env).stdout
    assert "VALIDATION FAILED ON" in failed and "✗ implement `Value.__add__` first" in failed, failed[-3000:]
    passed = run(validate + [filled.name], cwd=filled.parent, env=env).stdout
    assert "Success! Your notebook passes all the tests." in passed, passed[-3000:]
