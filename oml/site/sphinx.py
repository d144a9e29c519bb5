"""Stage 3 of the build: the strict Jupyter Book build into a staging folder, and the swap that publishes it.

:func:`build_pages` runs Sphinx into ``_build/stage``; the build then adds the PDF edition and the
feedback demo to the staged site, and :func:`publish_site` swaps it in. A failure anywhere before
the swap leaves the previous site as it was.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from oml import paths
from oml.paths import Layout
from oml.site.guard import check_site
from oml.site.messages import BuildError
from oml.site.stamps import Stamp, hash_files


def _machinery_stamp(layout: Layout) -> Stamp:
    return Stamp(layout.stamp("sphinx-machinery"))


def site_stamp(layout: Layout) -> Stamp:
    """The stamp of the published site: the hash of every input of the Sphinx build (:func:`site_inputs`)."""
    return Stamp(layout.stamp("site-inputs"))


def restore_interrupted_swap(layout: Layout) -> None:
    """Put the last good site back when a build died between the two renames of the swap."""
    if layout.html_old.exists() and not layout.html.exists():
        layout.html_old.rename(layout.html)


def build_pages(layout: Layout, pdf: bool = True) -> float:
    """Strict Jupyter Book build (``-W -n --keep-going``) into the staging folder; returns its seconds.

    Sphinx re-reads changed pages by itself, but not when the book's machinery changes (the site
    extension, the configuration, the table of contents, the bibliography, the run list, the kind of
    data, whether the site has its PDFs): then the stage starts from scratch, so no page keeps an old
    rendering. Otherwise it starts from the current site, so Sphinx rewrites only changed pages.
    ``pdf=False``: the PDF editions will not be made, so the pages link to none (``OML_PDF=0`` for the
    site extension, which leaves out the sidebar link and every element of class ``oml-needs-pdf``).
    """
    restore_interrupted_swap(layout)
    machinery = _machinery_stamp(layout)
    key = sphinx_fingerprint(layout) + ("" if pdf else "\nno PDF")
    fresh = not machinery.matches(key)
    if fresh and layout.stage.exists():
        shutil.rmtree(layout.stage)
    machinery.clear()
    if layout.stage_html.exists():
        shutil.rmtree(layout.stage_html)
    if layout.html.exists() and not fresh:
        stage_from_site(layout)
    start = time.perf_counter()
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(layout.root), "--path-output", str(layout.stage),
           "-W", "-n", "--keep-going", "--quiet"]
    env = {**os.environ, "OML_ROOT": str(layout.root), "OML_PDF": "1" if pdf else "0"}
    proc = subprocess.run(cmd, cwd=layout.root, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    log = proc.stdout + proc.stderr
    layout.sphinx_log.write_text(log, encoding="utf-8")
    if proc.returncode != 0 or not (layout.stage_html / "index.html").exists():
        problems = [line for line in log.splitlines() if any(k in line for k in ("WARNING", "ERROR", "Error", "Exception"))]
        shown = "\n".join(problems[:30]) or log[-3000:]
        raise BuildError(f"the Jupyter Book build failed (warnings are errors); the previous site is unchanged. "
                         f"Full log: {layout.sphinx_log}\n{shown}")
    machinery.record(key)
    return seconds


def stage_from_site(layout: Layout) -> None:
    """Start the staging folder from the published site, without its feedback reports demo.

    Sphinx then rewrites only the pages whose sources changed (the copies keep their times). The demo
    (``paths.SITE_REPORTS``, about two hundred pages) is not Sphinx's: :func:`publish_site` puts it back
    after the build. Left in the stage, the site extension would read its pages as the site's own, and an
    incremental build would differ from a fresh one (the style sheet bundle keeps the classes they use).

    Examples
    --------
    >>> import tempfile
    >>> layout = Layout(Path(tempfile.mkdtemp()))
    >>> for name in ("index.html", "book/intro.html", f"{paths.SITE_REPORTS}/index.html"):
    ...     (layout.html / name).parent.mkdir(parents=True, exist_ok=True)
    ...     _ = (layout.html / name).write_text("<p>x</p>")
    >>> stage_from_site(layout)
    >>> sorted(p.relative_to(layout.stage_html).as_posix() for p in layout.stage_html.rglob("*.html"))
    ['book/intro.html', 'index.html']
    """
    def demo(folder: str, names: list[str]) -> list[str]:
        return [paths.SITE_REPORTS] if Path(folder) == layout.html else []

    shutil.copytree(layout.html, layout.stage_html, copy_function=shutil.copy2, ignore=demo)


def publish_site(layout: Layout) -> None:
    """Add the feedback demo to the staged site, check it holds nothing private, and swap it in.

    The feedback reports demo (synthetic data only) is not a Sphinx page: it is copied in as it is.
    A site built from real data never keeps one, not even from an earlier build. The check
    (:func:`oml.site.guard.check_site`) refuses any access code, salt, key or encrypted report that is
    not the synthetic demo's.
    """
    reports = layout.stage_html / paths.SITE_REPORTS
    shutil.rmtree(reports, ignore_errors=True)
    demo = layout.report_demo / paths.SITE_REPORTS
    if demo.is_dir():
        shutil.copytree(demo, reports)
    check_site(layout.stage_html, layout)  # no real code, salt, key or report is ever published
    if layout.html_old.exists():
        shutil.rmtree(layout.html_old)
    if layout.html.exists():
        layout.html.rename(layout.html_old)
    layout.stage_html.rename(layout.html)
    if layout.html_old.exists():
        shutil.rmtree(layout.html_old)


def sphinx_fingerprint(layout: Layout) -> str:
    """Hash of what every page's rendering depends on besides its own source.

    The site extension and static files, ``_config.yml``, ``_toc.yml``, the bibliography,
    the run list and the build info (synthetic or real data). A change means a fresh Sphinx build.
    """
    files = [p for folder in (layout.book / "_ext", layout.book / "_static") if folder.exists()
             for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    files += [layout.book_config, layout.toc, layout.bibliography, layout.runs_config, layout.build_info]
    return hash_files([f for f in files if f.exists()], layout.root)


def site_inputs(layout: Layout) -> str:
    """Hash of every input of the published site: the whole book folder, the book's configuration, the reports demo.

    When it equals the hash recorded after the last successful swap (:func:`site_stamp`), the site is current.
    """
    files = [p for p in layout.book.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    files += [p for p in layout.report_demo.rglob("*") if p.is_file()]
    files += [layout.book_config, layout.toc, layout.runs_config]
    return hash_files([f for f in files if f.exists()], layout.root)
