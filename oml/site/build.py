"""``oml build``: validate the data, execute the notebook templates, build the site.

Stages
------
1. **Data.** The given file, or the default synthetic dataset (written to ``_build/data/``),
   is read and validated once per build by the warm engine (:mod:`oml.site.engine`); invalid
   data stop the build with the full report before anything is written. A validation is
   remembered for the very same bytes and code, so a build with nothing to do reads no data.
2. **Notebooks.** Every run in ``notebooks/runs.toml`` — runs with ``for_each`` expanded into one
   page per value of a data column — is executed by papermill in a fresh fork of the warm
   engine, in parallel, into ``_build/cache/<page>/``. A run is re-executed only when something
   it depends on changed — its template, its parameters, the ``oml`` package source, the pinned
   requirements or the data (content hash); otherwise the cached copy is reused. ``force=True``
   re-executes all. Only when every notebook succeeded are the pages copied into
   ``book/rapport/`` (unchanged files are left untouched, so Sphinx re-reads only what changed).
3. **Site.** Jupyter Book builds with notebook execution off and ``-W -n --keep-going`` into a
   staging folder; only a successful build replaces ``_build/html``. A failed build leaves the
   previous site as it was. When no input of the site changed, Sphinx does not run at all.

This module imports no statistics: a build with nothing to do never loads pandas.
"""
from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

from oml import paths
from oml.site.messages import progress
from oml.site.layout import GENERATED
from oml.site.runner import EngineClient, LazyEngine, mapped_extract, prepare_data, run_notebooks
from oml.site.runs import data_title, expand_runs, load_config, write_listings
from oml.site.sphinx import run_sphinx, site_inputs
from oml.site.stamps import hash_files

def build(data: str | None = None, force: bool = False, jobs: int | None = None, root: Path = paths.ROOT,
          timeout: float | None = None, feedback_demo: bool = True, mapping: str | None = None) -> dict:
    """Run the three stages; raise :class:`BuildError` on any failure. Returns timings."""
    build_dir = root / "_build"
    build_dir.mkdir(exist_ok=True)
    if mapping is not None:  # an extract in its own names and codes -> canonical Parquet (oml.data.mapping)
        data = mapped_extract(data, mapping, build_dir)
    t0 = time.perf_counter()
    progress(f"oml build: data {'(default synthetic)' if data is None else data}")
    runs, settings = load_config(root / "notebooks" / "runs.toml")
    engine = EngineClient(root, build_dir)
    try:
        groups = sorted({r.for_each for r in runs if r.for_each})
        data_ = prepare_data(data, build_dir, groups, lambda: engine, root)
        progress(f"  data valid: {data_.info['rows']:,} pupils ({'synthetic' if data_.info['synthetic'] else 'real'} data), "
             f"sha256 {data_.sha[:12]}")
        runs = [replace(r, title=data_title(r.title, data_.info)) for r in runs]  # "{first_year}" in titles
        expanded, left_out = expand_runs(runs, data_.info.get("groups", {}))
        public = [r for r in expanded if not r.private]
        # Data validated by an earlier build: the engine starts, and reads them once, only if a notebook is stale.
        runner = engine if engine.proc is not None else LazyEngine(engine, data_.path, groups)
        timeout_ = timeout if timeout is not None else settings.timeout
        nb = run_notebooks(public, data_.path, data_.sha, build_dir, force, jobs, root, runner, timeout_)
        from oml.site import unit_reports

        # The school and board reports: a demo of synthetic data, encrypted; never with real data.
        # `--skip-feedback` (quick previews) leaves the demo as the last full build made it.
        demo = (unit_reports.site_demo(expanded, data_, build_dir, root, runner, jobs, timeout_, force)
                if feedback_demo or not data_.info["synthetic"] else None)
        if demo:
            progress(f"  feedback reports: {demo['executed']} executed, {demo['reused']} cached"
                 + (f"; {demo['published']}" if "published" in demo else ""))
    finally:
        engine.close()
    generated = root / "book" / GENERATED
    generated.mkdir(parents=True, exist_ok=True)
    write_listings(expanded, left_out, root)
    for lo in left_out:
        progress(f"  [no page]  {lo.column} = {lo.value}: {lo.reason}")
    info_file = generated / "build-info.json"
    facts = {k: data_.info[k] for k in ("synthetic", "rows", "data_sha256", "data_name")}
    text = json.dumps(facts, indent=1, sort_keys=True)
    if not info_file.exists() or info_file.read_text() != text:
        info_file.write_text(text)
    progress(f"  notebooks: {nb['executed']} executed, {nb['reused']} cached ({nb['seconds']:.1f} s)")
    _versions_page(root, build_dir)
    inputs = site_inputs(root)
    stamp = build_dir / "site-inputs.sha256"
    if (build_dir / "html" / "index.html").exists() and stamp.exists() and stamp.read_text() == inputs:
        _record_build(build_dir, facts, data, root, only_if_stale=True)
        total = time.perf_counter() - t0
        progress(f"  nothing changed: the site is current, Sphinx not run: {build_dir / 'html' / 'index.html'} (total {total:.1f} s)")
        return {"notebooks": nb, "sphinx_seconds": 0.0, "total_seconds": total, "sphinx_ran": False}
    stamp.unlink(missing_ok=True)
    sphinx_seconds = run_sphinx(build_dir, root)
    stamp.write_text(inputs)
    _record_build(build_dir, facts, data, root)  # what `oml release` checks and records
    total = time.perf_counter() - t0
    progress(f"  site built in {sphinx_seconds:.1f} s: {build_dir / 'html' / 'index.html'} (total {total:.1f} s)")
    return {"notebooks": nb, "sphinx_seconds": sphinx_seconds, "total_seconds": total, "sphinx_ran": True}


def _versions_page(root: Path, build_dir: Path) -> None:
    """(Re)write the page "Versies" (:func:`oml.site.editions.page.write_page`) when one of its inputs changed.

    Its inputs: the recorded editions, this build's number manifests and comparisons, the build
    info, the run list and the module itself. Checked by hash, so a build with nothing to do
    imports nothing for it.
    """
    generated = root / "book" / GENERATED
    files = [p for p in (root / "editions").rglob("*") if p.is_file()] if (root / "editions").is_dir() else []
    files += [*generated.glob("files/*.numbers.json"), *generated.glob("files/*-toetsen.csv"),
              generated / "build-info.json", root / "notebooks" / "runs.toml", *(root / "oml" / "site" / "editions").glob("*.py")]
    key = hash_files([f for f in files if f.exists()], root)
    stamp = build_dir / "versies.stamp"
    page = generated / "versies.md"
    if page.exists() and stamp.exists() and stamp.read_text() == key:
        return
    from oml.site.editions.page import write_page

    write_page(root)
    stamp.write_text(key)


def _record_build(build_dir: Path, info: dict, data: str | None, root: Path, only_if_stale: bool = False) -> None:
    """Write the build record ``oml release`` checks (:func:`oml.site.editions.record.write_build_record`).

    After a build that changed nothing, the record is rewritten only when the working tree or the
    data differ from what it records (e.g. a README edit), so ``oml release`` can then go ahead.
    """
    from oml.site.editions import record as editions

    record = build_dir / editions.RECORD
    if only_if_stale and record.exists():
        try:
            old = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        if (old.get("source") == editions.source_fingerprint(root) and old.get("data", {}).get("sha256") == info["data_sha256"]
                and old.get("data", {}).get("default") == (data is None)):
            return
    editions.write_build_record(build_dir, info, data, root)
