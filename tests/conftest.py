"""Shared fixtures: the default synthetic data, and full site builds in throw-away copies of the repo.

A site build runs the real ``oml build`` CLI in a copy of the project (``OML_ROOT`` points
the build there), so the suite never touches the developer's own ``_build/``.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
COPY_IGNORE = shutil.ignore_patterns(".venv", "_build", ".git", ".cache", "rapport", "__pycache__", "*.egg-info", ".pytest_cache", "results")


def copy_project(dest: Path) -> Path:
    """A copy of the project sources (no venv, no build output) to build in."""
    shutil.copytree(REPO, dest, ignore=COPY_IGNORE)
    return dest


def run_oml(root: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run the ``oml`` CLI with the project root at ``root``."""
    # PYTHONPATH: the notebook kernels import the copy's `oml`, not the editable install's.
    env = {**os.environ, "OML_ROOT": str(root), "PYTHONPATH": str(root)}
    return subprocess.run([sys.executable, "-m", "oml.cli", *args], cwd=root, env=env, capture_output=True,
                          text=True, timeout=timeout)


def tree_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (relative path -> digest)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def default_frame():
    from oml.data.synth import generate

    return generate(history=False)


@pytest.fixture(scope="session")
def frame(default_frame):
    """The default synthetic data with the standardised index (tests may override per module)."""
    from oml.stats.index import add_index

    return add_index(default_frame)


@pytest.fixture(scope="session")
def means(frame) -> dict:
    """Adjusted means of every figure on the default data."""
    from oml.stats.models import BREAKDOWNS, adjusted_means

    return {by: adjusted_means(frame, by) for by in BREAKDOWNS}


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """A full strict build of the default synthetic report; returns the project copy's root."""
    root = copy_project(tmp_path_factory.mktemp("site") / "project")
    proc = run_oml(root, "build")
    assert proc.returncode == 0, f"oml build failed:\n{proc.stdout}\n{proc.stderr}"
    return root


def pytest_terminal_summary(terminalreporter):
    """End the run with the browser and PDF checks that did NOT run (Chromium, axe-core or poppler missing).

    Such checks are skipped with a reason starting ``NOT RUN``; they must never look like a pass.
    """
    not_run = []
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if "NOT RUN" in reason:
            not_run.append(f"{report.nodeid}: {reason.removeprefix('Skipped: ')}")
    if not_run:
        terminalreporter.section("CHECKS NOT RUN", sep="!", red=True, bold=True)
        for line in not_run:
            terminalreporter.write_line(line, red=True)
        terminalreporter.write_line(f"{len(not_run)} browser/PDF checks did NOT run: this run does not show the site "
                                    "is accessible or that the PDF is right.", red=True, bold=True)


def write_template(path: Path, body: str = "print(page, x)", parameters: str = 'data = None\npage = "p"\nx = 0') -> None:
    """A tiny notebook template: a papermill parameters cell (default: data, page, x) and one code cell."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    for i, c in enumerate(nb.cells):
        c.id = f"c{i}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
