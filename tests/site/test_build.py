"""The build's notebook stage: data-aware caching, parallel execution, failures (issue: speed).

A tiny project (three trivial templates) exercises the real ``run_notebooks`` so that each
dependency can be changed in turn: only the notebooks that depend on it may re-run.
"""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from conftest import write_template
from oml.site.messages import BuildError
from oml.paths import Layout
from oml.site.runner import cache_key, code_fingerprint, page_stamp, run_notebooks
from oml.site.runs import Run, load_runs
from oml.data.io import file_sha256




@pytest.fixture()
def project(tmp_path):
    root = tmp_path / "proj"
    (root / "notebooks").mkdir(parents=True)
    (root / "oml").mkdir()
    (root / "oml" / "mod.py").write_text("VALUE = 1\n")
    (root / "requirements.txt").write_text("pandas==1\n")
    write_template(root / "notebooks" / "a.ipynb")
    write_template(root / "notebooks" / "b.ipynb")
    data = root / "data.csv"
    data.write_text("x\n1\n")
    (root / "extra.csv").write_text("a\n1\n")
    return root, data


def _runs(x2: int = 2) -> list[Run]:
    return [Run("a.ipynb", "a", "A", {"x": 0}, ["extra.csv"]), Run("b.ipynb", "b1", "B1", {"x": 1}),
            Run("b.ipynb", "b2", "B2", {"x": x2})]


def _build(root: Path, data: Path, runs=None, force: bool = False) -> dict:
    return run_notebooks(runs or _runs(), data, file_sha256(data), Layout(root), force, 2)


def test_first_build_executes_all_then_nothing(project):
    root, data = project
    assert _build(root, data)["executed_pages"] == ["a", "b1", "b2"]
    second = _build(root, data)
    assert second["executed_pages"] == [] and second["reused_pages"] == ["a", "b1", "b2"]
    executed = nbformat.read(root / "book" / "rapport" / "b2.ipynb", as_version=4)
    assert executed.cells[0].source == "# B2"  # the title the build adds
    assert executed.cells[-1].outputs[0]["text"] == "b2 2\n"  # its own parameters, not the template defaults


@pytest.mark.parametrize(
    "change,expected",
    [
        ("template", ["b1", "b2"]),
        ("parameters", ["b2"]),
        ("code", ["a", "b1", "b2"]),
        ("requirements", ["a", "b1", "b2"]),
        ("data", ["a", "b1", "b2"]),
        ("force", ["a", "b1", "b2"]),
        ("input", ["a"]),
    ],
)
def test_only_dependents_rerun(project, change, expected):
    root, data = project
    _build(root, data)
    runs, force = _runs(), False
    if change == "template":
        write_template(root / "notebooks" / "b.ipynb", "print('changed', page, x)")
    elif change == "parameters":
        runs = _runs(x2=3)
    elif change == "code":
        (root / "oml" / "mod.py").write_text("VALUE = 2\n")
    elif change == "requirements":
        (root / "requirements.txt").write_text("pandas==2\n")
    elif change == "data":
        data.write_text("x\n2\n")  # same size, other content: the hash, not the mtime, decides
    elif change == "force":
        force = True
    elif change == "input":
        (root / "extra.csv").write_text("a\n2\n")  # a file only notebook a reads
    result = _build(root, data, runs, force)
    assert result["executed_pages"] == expected
    assert sorted(set(["a", "b1", "b2"]) - set(expected)) == result["reused_pages"]
    again = _build(root, data, runs)
    assert again["executed_pages"] == []


def test_unchanged_outputs_are_not_rewritten(project):
    # Sphinx re-reads a page only when its file changes: a reused page keeps its mtime.
    root, data = project
    _build(root, data)
    page = root / "book" / "rapport" / "a.ipynb"
    before = page.stat().st_mtime_ns
    write_template(root / "notebooks" / "b.ipynb", "print('changed')")
    _build(root, data)
    assert page.stat().st_mtime_ns == before


def test_cache_and_stamps_live_under_build(project):
    root, data = project
    _build(root, data)
    assert sorted(p.name for p in Layout(root).cache.iterdir() if p.is_dir()) == ["a", "b1", "b2"]
    assert sorted(p.name for p in Layout(root).stamps.glob("page-*")) == ["page-a", "page-b1", "page-b2"]


def test_failed_notebook_fails_the_stage_and_publishes_nothing(project):
    root, data = project
    _build(root, data)
    published = {p.name: p.read_bytes() for p in (root / "book" / "rapport").glob("*.ipynb")}
    write_template(root / "notebooks" / "a.ipynb", "raise ValueError('broken on purpose')")
    write_template(root / "notebooks" / "b.ipynb", "print('b changed too', page, x)")
    with pytest.raises(BuildError, match=r"a\.ipynb \(a\) failed: cell In \[3\]: ValueError: broken on purpose"):
        _build(root, data)
    # Nothing reached the book: not the failed page, not the pages that did run.
    assert {p.name: p.read_bytes() for p in (root / "book" / "rapport").glob("*.ipynb")} == published
    assert not page_stamp(Layout(root), "a").path.exists()  # a failure is never cached


def test_forced_run_is_not_cached_until_it_succeeds(project, monkeypatch):
    import oml.site.runner as runner

    root, data = project
    _build(root, data)

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt  # the build is stopped while the notebooks run
        yield  # a generator, like the real one

    monkeypatch.setattr(runner.EngineClient, "execute", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _build(root, data, force=True)
    monkeypatch.undo()
    # The next build must not take the interrupted pages for cached ones.
    assert _build(root, data)["executed_pages"] == ["a", "b1", "b2"]


def test_removed_run_leaves_no_files(project):
    root, data = project
    _build(root, data)
    (root / "book" / "rapport" / "files").mkdir(exist_ok=True)
    (root / "book" / "rapport" / "files" / "b2-figuur.csv").write_text("x\n")
    _build(root, data, runs=_runs()[:2])
    names = {p.name for p in (root / "book" / "rapport").rglob("*") if p.is_file()}
    assert "b2.ipynb" not in names and "b2-figuur.csv" not in names
    assert "a.ipynb" in names and "b1.ipynb" in names


@pytest.mark.parametrize("text,message", [
    ("[[run]\n", r"cannot read the run configuration"),
    ('[[run]]\ntemplate = "a.ipynb"\npage = "a"\n', r"run 1: missing title"),
    ('[[run]]\ntemplate = "a.ipynb"\npage = "a"\ntitle = "A"\n[[run]]\ntemplate = "b.ipynb"\npage = "a"\ntitle = "B"\n',
     r"page 'a' appears more than once"),
])
def test_bad_run_config_is_a_clear_error(tmp_path, text, message):
    config = tmp_path / "runs.toml"
    config.write_text(text)
    with pytest.raises(BuildError, match=message):
        load_runs(config)


def test_cache_key_covers_every_dependency(project):
    root, _ = project
    run = _runs()[0]
    base = cache_key(run, "d", code_fingerprint(Layout(root)), Layout(root))
    assert cache_key(run, "other-data", code_fingerprint(Layout(root)), Layout(root)) != base
    assert cache_key(Run("a.ipynb", "a", "A", {"x": 9}, ["extra.csv"]), "d", code_fingerprint(Layout(root)), Layout(root)) != base
    assert cache_key(Run("a.ipynb", "a", "Other title", {"x": 0}, ["extra.csv"]), "d", code_fingerprint(Layout(root)), Layout(root)) != base
    assert cache_key(Run("a.ipynb", "a", "A", {"x": 0}), "d", code_fingerprint(Layout(root)), Layout(root)) != base
    (root / "oml" / "new.py").write_text("")
    assert cache_key(run, "d", code_fingerprint(Layout(root)), Layout(root)) != base


def test_runs_config_has_one_template_for_four_breakdowns():
    runs = load_runs()
    breakdowns = [r for r in runs if r.template == "verschillen.ipynb"]
    assert sorted(r.parameters["by"] for r in breakdowns) == ["none", "parent_education", "region", "sex"]
    assert all("level" in r.parameters and "min_cell" in r.parameters for r in runs)
    assert len({r.page for r in runs}) == len(runs)
    json.dumps([r.parameters for r in runs])  # papermill gets them as JSON
