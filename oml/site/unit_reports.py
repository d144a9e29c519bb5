"""School and board feedback reports through the build's engine: execute, render, encrypt.

The report template (``notebooks/terugkoppeling.ipynb``) is a *private* fan-out run in
``notebooks/runs.toml``: one execution per school (``school_id``) and per board (``board_id``),
through the same warm engine as the public pages, never a page of the book. Each executed
notebook becomes one self-contained HTML document (:func:`oml.report.unit_report.render_document`),
which :mod:`oml.access.publish` encrypts under the unit's access code.

* ``oml build`` on synthetic data publishes the demo into ``_build/html/terugkoppeling/`` with the
  committed demo codes; on real data no report is made and none stays in the site.
* ``oml reports --data … --codes … --out …`` makes the reports of any data into a folder outside
  the site (:func:`render_reports`, then :func:`oml.access.publish.publish_reports`).
"""
from __future__ import annotations

import shutil
from pathlib import Path

from oml import paths
from oml.paths import Layout
from oml.site.messages import BuildError
from oml.site.runner import (Data, EngineClient, LazyEngine, delivered_input, executed_notebook, page_stamp, prepare_data,
                             private_folder, run_notebooks)
from oml.site.runs import Run, expand_runs, load_config
from oml.site.stamps import Stamp, fingerprint, hash_files


def private_runs(runs: list[Run]) -> list[Run]:
    """The runs that make feedback reports (``private = true`` in runs.toml)."""
    return [r for r in runs if r.private]


def documents(runs: list[Run], data: Data, layout: Layout, runner, jobs: int | None, timeout: float,
              force: bool = False) -> tuple[dict, dict]:
    """Execute the report runs (cached like every page) and render one HTML document per unit.

    Returns ``({(kind, id): html}, run_notebooks summary)``.
    """
    summary = run_notebooks(runs, data.path, data.sha, layout, force, jobs, runner, timeout, publish=False)
    return _render(runs, layout), summary


def _render(runs: list[Run], layout: Layout) -> dict:
    """``{(kind, id): html}``: each executed report notebook in the cache as its self-contained document."""
    from oml.report.unit_report import render_document

    return {entry: render_document(executed_notebook(layout, run.page))
            for entry, run in zip(report_entries(runs), runs)}


def _demo_key(runs: list[Run], layout: Layout) -> str:
    """What the published demo depends on: every report's cache key, the demo codes and salts, the access code."""
    keys = [page_stamp(layout, r.page).path.read_text(encoding="utf-8") for r in runs]
    codes = layout.demo_codes
    files = [codes, codes.with_name(codes.stem + ".salts.csv")]
    files += [p for p in (layout.package / "access").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return fingerprint(keys, hash_files([f for f in files if f.exists()], layout.root))


def site_demo(runs: list[Run], data: Data, layout: Layout, runner, jobs: int | None, timeout: float,
              force: bool = False) -> dict | None:
    """Make the demo of the feedback reports for the site (synthetic data only); None when there is none.

    The encrypted files go to ``_build/feedback-site/terugkoppeling/``; the Sphinx stage copies that
    folder into the site. With real data the folder is removed: reports never go into the site.
    """
    folder = layout.report_demo
    runs = private_runs(runs)
    if not data.facts.synthetic or not runs:
        shutil.rmtree(folder, ignore_errors=True)
        return None
    from oml.access.codes import AccessError
    from oml.access.publish import publish_site_demo, start_site_demo_keys

    try:
        return _site_demo(runs, data, layout, runner, jobs, timeout, force, folder, publish_site_demo, start_site_demo_keys)
    except AccessError as err:  # e.g. the demo codes file holds a real id: a message, never a traceback
        raise BuildError(f"the feedback reports demo cannot be published: {err}") from None


def _site_demo(runs, data, layout, runner, jobs, timeout, force, folder, publish_site_demo, start_site_demo_keys):
    # The keys depend on the codes only: derived on idle cores while the reports execute.
    keys = start_site_demo_keys(report_entries(runs), synthetic=True, root=layout.root, jobs=jobs)
    try:
        summary = run_notebooks(runs, data.path, data.sha, layout, force, jobs, runner, timeout, publish=False)
        stamp = Stamp(layout.stamp("feedback-demo"))
        key = _demo_key(runs, layout)
        if summary["executed"] == 0 and stamp.matches(key) and (folder / paths.SITE_REPORTS).exists():
            keys.cancel()
            return summary
        stamp.clear()
        result = publish_site_demo(_render(runs, layout), folder, synthetic=True, root=layout.root, jobs=jobs, keys=keys)
    except BaseException:
        keys.cancel()
        raise
    stamp.record(key)
    return {**summary, "published": result.summary()}


def report_entries(runs: list[Run]) -> list[tuple[str, str]]:
    """``(kind, id)`` of every report the expanded private runs make."""
    return [(run.parameters["kind"], str(run.value)) for run in runs]


def render_reports(data: str | list[str] | None = None, jobs: int | None = None, root: Path = paths.ROOT,
                   timeout: float | None = None, before_execute=None, mapping: str | None = None) -> dict:
    """Every school's and board's report of ``data`` as ``{(kind, id): html}`` (what ``oml reports`` encrypts).

    The same engine and template as ``oml build``: the data are read and validated once, one fork per
    report, up to ``jobs`` at a time. ``before_execute``, when given, is called with the ``(kind, id)``
    of every report once they are known and before any executes (``oml reports`` begins the keys there).

    Everything private of the run — the executed report notebooks, their number manifests, the
    engine's log, a delivery's canonical copy — lives in a 0700 folder outside the repository
    (:func:`oml.site.runner.private_folder`) and is removed before this returns: only the documents
    (in memory) leave it, to be encrypted.
    """
    with private_folder() as private:
        return _render_reports(data, jobs, Layout(Path(root), build_dir=private), timeout, before_execute, mapping, private)


def _render_reports(data, jobs, layout: Layout, timeout, before_execute, mapping, private: Path) -> dict:
    layout.build.mkdir(exist_ok=True)
    # The same delivery and mapping as `oml build`; the reports need the boards right (never left out).
    data = delivered_input(data, mapping, private, boards_optional=False)
    runs, settings = load_config(layout.runs_config)
    runs = private_runs(runs)
    if not runs:
        raise BuildError("notebooks/runs.toml has no private (feedback report) runs")
    engine = EngineClient(layout)
    try:
        groups = sorted({r.for_each for r in runs if r.for_each})
        data_ = prepare_data(data, layout, groups, lambda: engine, boards_optional=False)
        expanded, _ = expand_runs(runs, data_.facts.groups, data_.facts.schools)
        if before_execute is not None:
            before_execute(report_entries(expanded))
        runner = engine if engine.proc is not None else LazyEngine(engine, data_.path, groups, boards_optional=False)
        docs, _ = documents(expanded, data_, layout, runner, jobs,
                            timeout if timeout is not None else settings.timeout)
    finally:
        engine.close()
    return docs
