"""``oml build``: validate the data, execute the notebook templates, build the site.

Stages
------
1. **Data** (:mod:`oml.site.runner`). The given file, or the default synthetic dataset (written
   to ``_build/data/``), is read and validated once per build by the warm engine
   (:mod:`oml.site.engine`); invalid data stop the build with the full report before anything is
   written. A validation is remembered for the very same bytes and code (:mod:`oml.site.stamps`),
   so a build with nothing to do reads no data.
2. **Notebooks** (:mod:`oml.site.runs`, :mod:`oml.site.runner`). Every run in ``notebooks/runs.toml`` — runs with ``for_each`` expanded into one
   page per value of a data column — is executed by papermill in a fresh fork of the warm
   engine, in parallel, into ``_build/cache/<page>/``. A run is re-executed only when something
   it depends on changed — its template, its parameters, the ``oml`` package source, the pinned
   requirements or the data (content hash); otherwise the cached copy is reused. ``force=True``
   re-executes all. Only when every notebook succeeded are the pages copied into
   ``book/rapport/`` (unchanged files are left untouched, so Sphinx re-reads only what changed).
3. **Site** (:mod:`oml.site.sphinx`, :mod:`oml.site.pdf`). Jupyter Book builds with notebook execution off and ``-W -n --keep-going`` into a
   staging folder; only a successful build replaces ``_build/html``. A failed build leaves the
   previous site as it was. The PDF edition and the encrypted feedback demo are added to the staged
   site before the swap. When no input of the site changed, Sphinx does not run at all.

This module only orchestrates the stages: nothing imports it but the command line and the benchmark.

This module imports no statistics: a build with nothing to do never loads pandas.
"""
from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

from oml import paths
from oml.data.facts import DataFacts
from oml.paths import Layout
from oml.site.messages import progress
from oml.site.runner import EngineClient, LazyEngine, delivered_input, prepare_data, private_folder, run_notebooks
from oml.site.runs import data_title, expand_runs, load_config, write_listings
from oml.site.sphinx import build_pages, publish_site, site_inputs, site_stamp
from oml.site.stamps import Stamp, hash_files


def build(data: str | list[str] | None = None, force: bool = False, jobs: int | None = None, root: Path = paths.ROOT,
          timeout: float | None = None, feedback_demo: bool = True, mapping: str | None = None, pdf: bool = True) -> dict:
    """Run the three stages; raise :class:`~oml.site.messages.BuildError` on any failure. Returns timings.

    ``pdf=False`` (``oml build --no-pdf``) builds everything but the PDF edition; so does a machine
    where WeasyPrint cannot load Pango (:func:`pdf_unavailable`), saying so.
    """
    with private_folder() as private:
        return _build(data, force, jobs, Layout(Path(root)), timeout, feedback_demo, mapping, private, pdf)


def pdf_unavailable() -> str | None:
    """Why the PDF edition cannot be made here (WeasyPrint or its Pango libraries do not load), or None.

    WeasyPrint loads Pango, HarfBuzz and fontconfig when it is imported and lays text out with them:
    a tiny document is rendered to prove both. Without them (a Windows or macOS machine without the
    GTK/Pango libraries) the reason is the library's own message.

    Examples
    --------
    >>> reason = pdf_unavailable()
    >>> reason is None or reason.startswith("WeasyPrint")
    True
    """
    try:
        import weasyprint

        weasyprint.HTML(string="<p>PDF</p>").write_pdf()
    except Exception as err:  # OSError for a missing shared library; anything else it raises, too
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        return f"WeasyPrint cannot lay out a PDF on this machine ({type(err).__name__}: {first[:300]})"
    return None


def _build(data, force, jobs, layout: Layout, timeout, feedback_demo, mapping, private: Path, pdf: bool = True) -> dict:
    layout.build.mkdir(exist_ok=True)
    # A delivery (several files, a mapping) -> one canonical Parquet file (oml.data.extract), in the private folder.
    data = delivered_input(data, mapping, private)
    t0 = time.perf_counter()
    progress(f"oml build: data {'(default synthetic)' if data is None else data}")
    runs, settings = load_config(layout.runs_config)
    engine = EngineClient(layout)
    try:
        groups = sorted({r.for_each for r in runs if r.for_each})
        data_ = prepare_data(data, layout, groups, lambda: engine)
        facts = data_.facts
        progress(f"  data valid: {facts.rows:,} pupils ({'synthetic' if facts.synthetic else 'real'} data), "
                 f"sha256 {facts.sha256[:12]}")
        for line in _delivery_lines(facts) + _board_lines(facts):
            progress(line)
        runs = [replace(r, title=data_title(r.title, facts.first_year, facts.last_year)) for r in runs]
        expanded, left_out = expand_runs(runs, facts.groups, facts.schools)
        public = [r for r in expanded if not r.private]
        # Data validated by an earlier build: the engine starts, and reads them once, only if a notebook is stale.
        runner = engine if engine.proc is not None else LazyEngine(engine, data_.path, groups)
        timeout_ = timeout if timeout is not None else settings.timeout
        nb = run_notebooks(public, data_.path, facts.sha256, layout, force, jobs, runner, timeout_)
        from oml.site import unit_reports

        # The school and board reports: a demo of synthetic data, encrypted; never with real data.
        # `--skip-feedback` (quick previews) leaves the demo as the last full build made it.
        demo = (unit_reports.site_demo(expanded, data_, layout, runner, jobs, timeout_, force)
                if feedback_demo or not facts.synthetic else None)
        if demo:
            progress(f"  feedback reports: {demo['executed']} executed, {demo['reused']} cached"
                     + (f"; {demo['published']}" if "published" in demo else ""))
    finally:
        engine.close()
    layout.generated.mkdir(parents=True, exist_ok=True)
    write_listings(expanded, left_out, layout)
    for lo in left_out:
        progress(f"  [no page]  {lo.column} = {lo.value}: {lo.reason}")
    text = json.dumps(facts.build_info(), indent=1, sort_keys=True)
    if not layout.build_info.exists() or layout.build_info.read_text(encoding="utf-8") != text:
        layout.build_info.write_text(text, encoding="utf-8")
    progress(f"  notebooks: {nb['executed']} executed, {nb['reused']} cached ({nb['seconds']:.1f} s)")
    _versions_page(layout)
    stamp = site_stamp(layout)
    # A site without its PDF is another site (its stamp says "no PDF"): a later build with the PDF builds again.
    # Whether WeasyPrint works here is tried only when the site with its PDF is not current already.
    skipped = None if pdf else "--no-pdf asked for a site without it"
    if skipped is None and not ((layout.html / "index.html").exists() and stamp.matches(site_inputs(layout))):
        skipped = pdf_unavailable()
    inputs = site_inputs(layout) + ("" if skipped is None else "\nno PDF")
    if (layout.html / "index.html").exists() and stamp.matches(inputs):
        _record_build(layout, facts, data, only_if_stale=True)
        total = time.perf_counter() - t0
        progress(f"  nothing changed: the site is current, Sphinx not run: {layout.html / 'index.html'} (total {total:.1f} s)")
        return {"notebooks": nb, "sphinx_seconds": 0.0, "total_seconds": total, "sphinx_ran": False}
    stamp.clear()
    sphinx_seconds = build_pages(layout, pdf=skipped is None)
    # The PDF edition, linked from every page, made from the staged site: a failure (a BuildError)
    # leaves the previous site and its PDF as they were.
    if skipped is None:
        from oml.site.pdf import build_pdf

        pdf_start = time.perf_counter()
        build_pdf(layout, layout.stage_html)
        progress(f"  PDF edition: {time.perf_counter() - pdf_start:.1f} s")
    else:
        progress(f"  PDF edition SKIPPED: {skipped}. Everything else is built; the pages link to no PDF until a "
                 f"build with the PDF (README: platforms)." if pdf else f"  PDF edition skipped: {skipped}.")
    publish_site(layout)
    stamp.record(inputs)
    _record_build(layout, facts, data)  # what `oml release` checks and records
    total = time.perf_counter() - t0
    progress(f"  site built in {sphinx_seconds:.1f} s: {layout.html / 'index.html'} (total {total:.1f} s)")
    return {"notebooks": nb, "sphinx_seconds": sphinx_seconds, "total_seconds": total, "sphinx_ran": True}


def _delivery_lines(facts: DataFacts) -> list[str]:
    """The build's report of a delivery: its files and what the mapping's rules excluded."""
    if not facts.delivery:
        return []
    lines = [f"  from {len(facts.delivery['files'])} file(s): " + ", ".join(f["name"] for f in facts.delivery["files"])]
    lines += [f"  excluded: {e['rows']:,} row(s) by rule {e['rule']}: {e['reason']}" for e in facts.delivery["exclusions"]]
    return lines


def _board_lines(facts: DataFacts) -> list[str]:
    """A warning when the boards were left out: the public build goes on, `oml reports` would refuse."""
    if not facts.boards_left_out:
        return []
    return [f"  WARNING: the board columns are left out of this build (they serve only the school and board reports; "
            f"`oml reports` needs them right): {facts.boards_left_out}"]


def _versions_page(layout: Layout) -> None:
    """(Re)write the page "Versies" (:func:`oml.site.editions.page.write_page`) when one of its inputs changed.

    Its inputs: the recorded editions, this build's number manifests and comparisons, the build
    info, the run list and the editions code. Checked by hash, so a build with nothing to do
    imports nothing for it.
    """
    files = [p for p in layout.editions.rglob("*") if p.is_file()] if layout.editions.is_dir() else []
    files += [*layout.fragments.glob("*.numbers.json"), *layout.fragments.glob("*-toetsen.csv"),
              layout.build_info, layout.runs_config, *(layout.package / "site" / "editions").glob("*.py")]
    key = hash_files([f for f in files if f.exists()], layout.root)
    stamp = Stamp(layout.stamp("versies"))
    if layout.versions_page.exists() and stamp.matches(key):
        return
    stamp.clear()
    from oml.site.editions.page import write_page

    write_page(layout.root)
    stamp.record(key)


def _record_build(layout: Layout, facts: DataFacts, data: str | None, only_if_stale: bool = False) -> None:
    """Write the build record ``oml release`` checks (:func:`oml.site.editions.record.write_build_record`).

    After a build that changed nothing, the record is rewritten only when the working tree or the
    data differ from what it records (e.g. a README edit), so ``oml release`` can then go ahead.
    """
    from oml.site.editions import record as editions

    if only_if_stale and layout.record.exists():
        try:
            old = json.loads(layout.record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        if (old.get("source") == editions.source_fingerprint(layout.root) and old.get("data", {}).get("sha256") == facts.sha256
                and old.get("data", {}).get("default") == (data is None)):
            return
    editions.write_build_record(layout, facts, data)
