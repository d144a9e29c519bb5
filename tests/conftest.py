"""Shared fixtures: the synthetic data the test files share (read only), and full site builds in throw-away
copies of the repo.

A site build runs the real ``oml build`` CLI in a copy of the project (``OML_ROOT`` points
the build there), so the suite never touches the developer's own ``_build/``.
"""
from __future__ import annotations

import collections
import fcntl
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


def _read_only(name: str, data):
    """Yield a session's shared ``data``; when the session ends, fail if a test changed it in place.

    The data fixtures are shared by every test of a worker, so a test that changes the data changes a
    ``.copy()``: otherwise the tests after it would see other data, depending on the order they run in.
    """
    import numpy as np
    import pandas as pd

    def fingerprint(f):
        return list(f.columns), [repr(t) for t in f.dtypes], pd.util.hash_pandas_object(f).to_numpy().copy(), dict(f.attrs)

    before = fingerprint(data)
    yield data
    after = fingerprint(data)
    same = before[:2] == after[:2] and np.array_equal(before[2], after[2]) and before[3] == after[3]
    assert same, f"a test changed the shared fixture {name!r} in place: a test that changes the data must change a .copy()"


# The generated data every test file shares (session scope, read only). A file keeps its own fixture only where its
# data really differ (other size, seed or changes), and says why.
@pytest.fixture(scope="session")
def default_frame():
    """The default synthetic data of the factsheet period: config N and seed, 2023–2025, ``generate(history=False)``."""
    from oml.data.synth import generate

    yield from _read_only("default_frame", generate(history=False))


@pytest.fixture(scope="session")
def frame(default_frame):
    """The default synthetic data with the standardised index: ``add_index(default_frame)``."""
    from oml.stats.index import add_index

    yield from _read_only("frame", add_index(default_frame))


@pytest.fixture(scope="session")
def long_data():
    """The long default synthetic data: the factsheet period and the earlier years 2017–2022, ``generate()``."""
    from oml.data.synth import generate

    yield from _read_only("long_data", generate())


@pytest.fixture(scope="session")
def long_frame(long_data):
    """The long default data with the index, standardised within each answer-scale period: ``add_index(long_data)``."""
    from oml.stats.index import add_index

    yield from _read_only("long_frame", add_index(long_data))


@pytest.fixture(scope="session")
def small_frame():
    """A small synthetic dataset with the index (3,000 pupils, seed 11, about 40 schools), for the feedback reports."""
    from oml.data.synth import generate
    from oml.stats.index import add_index

    yield from _read_only("small_frame", add_index(generate(n=3000, seed=11, history=False)))


@pytest.fixture(scope="session")
def means(frame) -> dict:
    """Adjusted means of every figure on the default data."""
    from oml.stats.models import BREAKDOWNS, adjusted_means

    return {by: adjusted_means(frame, by) for by in BREAKDOWNS}


def shared_build(tmp_path_factory, name: str, make) -> Path:
    """``make(folder)`` once per test run, also when pytest-xdist runs the suite on several workers.

    A full build takes about a minute: the first worker that needs it builds it under a file lock in
    the folder all workers' temporary folders share (pytest-xdist's documented pattern), the others
    wait for it and use the same build. Tests may only read such a build; a test that edits or
    rebuilds it takes a private copy (``site_copy``). A failed build fails every test that needs it,
    with the build's message, without building again.
    """
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        return make(tmp_path_factory.mktemp(name))
    folder = tmp_path_factory.getbasetemp().parent / name
    with open(folder.with_name(f"{name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        done, failed = folder.with_name(f"{name}.done"), folder.with_name(f"{name}.failed")
        if failed.exists():
            pytest.fail(failed.read_text(encoding="utf-8"))
        if not done.exists():
            try:
                shutil.rmtree(folder, ignore_errors=True)  # what a worker killed while building left
                folder.mkdir()
                root = make(folder)
            except BaseException as error:
                failed.write_text(f"shared build {name!r} failed:\n{error}", encoding="utf-8")
                raise
            done.write_text(str(root), encoding="utf-8")
        return Path(done.read_text(encoding="utf-8"))


def _build_site(folder: Path) -> Path:
    root = copy_project(folder / "project")
    proc = run_oml(root, "build")
    assert proc.returncode == 0, f"oml build failed:\n{proc.stdout}\n{proc.stderr}"
    return root


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """A full strict build of the default synthetic report; returns the project copy's root. Read only."""
    return shared_build(tmp_path_factory, "site", _build_site)


@pytest.fixture
def site_copy(site, tmp_path):
    """A private copy of the built ``site`` (sources, build and caches), for a test that edits or rebuilds it.

    The build's stamps hold no absolute paths, so the copy is current: ``oml build`` in it is a no-op
    until the test changes something.
    """
    copy = Path(shutil.copytree(site, tmp_path / "project", symlinks=True))
    yield copy
    shutil.rmtree(copy, ignore_errors=True)  # about 80 MB each; a test's own files in tmp_path stay


@pytest.fixture(scope="module")
def served(site):
    """(base URL, site folder) of the shared build on 127.0.0.1 for the browser tests; skips (NOT RUN) when
    Chromium is missing. Here, not in a tests/site/conftest.py: a second module named ``conftest`` would
    shadow this one for every ``from conftest import …``."""
    import browser

    reason = browser.missing()
    if reason:
        pytest.skip(reason)
    html = site / "_build" / "html"
    with browser.serve(html) as base:
        yield base, html


@pytest.fixture(scope="module")
def phone(served):
    """(Chromium emulating a 375 px touch phone, base URL, site folder)."""
    import browser

    base, html = served
    with browser.chromium(phone=True) as driver:
        yield driver, base, html


def pytest_collection_modifyitems(items):
    """Order the run so that two workers rarely wait for the shared site build, and finish together.

    pytest-xdist (``-n 2 --dist loadfile --no-loadscope-reorder`` in pyproject) hands out whole files
    in this order. The largest file that reads the session ``site`` goes first, so one worker builds the
    site at once and goes on with that file; the files that do not need the site follow, and keep the
    other worker busy meanwhile; the other files that read the site come last. Within each part, files
    with more tests go first (what pytest-xdist does by default), so the run does not end on one long
    file; within a file the order stays as written.
    """
    uses_site = {item.path for item in items if "site" in getattr(item, "fixturenames", ())}
    count = collections.Counter(item.path for item in items)
    first = max(uses_site, key=lambda path: (count[path], str(path)), default=None)

    def key(item):
        part = 0 if item.path == first else 2 if item.path in uses_site else 1
        return part, -count[item.path], str(item.path)

    items.sort(key=key)  # stable: a file's tests keep their order


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
