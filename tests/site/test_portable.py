"""A full build where researchers work: no fork (Windows, macOS) and no Pango (no PDF).

One full ``oml build`` of the default report runs in a copy of the project on a simulated platform
without ``os.fork`` and ``signal.sigtimedwait`` (a ``sitecustomize`` on the engine's path removes
them, in the build, the engine and every worker) and where WeasyPrint cannot load Pango (a stand-in
``weasyprint`` package that fails as a missing library does). The engine then chooses the spawn engine
by itself (:mod:`oml.site.engine`). Its published numbers and the text of every page must equal
the fork build's (the shared ``site`` fixture); the PDF is skipped with a clear line, and everything
else is built.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import copy_project, shared_build

#: A platform without fork, and without Pango, as Python sees it (sitecustomize.py and a weasyprint stand-in).
NO_FORK = """import os, signal
for module, name in ((os, "fork"), (os, "forkpty"), (signal, "sigtimedwait")):
    if hasattr(module, name):
        delattr(module, name)
"""
NO_PANGO = """raise OSError("cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot open shared object file: "
              "No such file or directory (stand-in of tests/site/test_portable.py)")
"""


def _build_portable(folder: Path) -> Path:
    root = copy_project(folder / "project")
    shim = folder / "platform"
    (shim / "weasyprint").mkdir(parents=True)
    (shim / "sitecustomize.py").write_text(NO_FORK, encoding="utf-8")
    (shim / "weasyprint" / "__init__.py").write_text(NO_PANGO, encoding="utf-8")
    env = {**os.environ, "OML_ROOT": str(root), "PYTHONPATH": os.pathsep.join([str(shim), str(root)])}
    env.pop("OML_ENGINE", None)  # the engine must choose spawn by itself
    proc = subprocess.run([sys.executable, "-m", "oml.cli", "build"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=1800)
    assert proc.returncode == 0, f"oml build without fork and Pango failed:\n{proc.stdout}\n{proc.stderr}"
    (folder / "build.out").write_text(proc.stdout, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def portable(tmp_path_factory):
    """The full build without fork and Pango: (project root, its progress output)."""
    root = shared_build(tmp_path_factory, "portable-site", _build_portable)
    return root, (root.parent / "build.out").read_text(encoding="utf-8")


def _numbers(root: Path) -> dict:
    data = json.loads((root / "_build" / "html" / "numbers.json").read_text(encoding="utf-8"))
    return {n["key"]: n for n in data["numbers"]}


def _page_texts(root: Path) -> dict[str, str]:
    """The visible text of every page's article (what a reader reads), by page."""
    from bs4 import BeautifulSoup

    html = root / "_build" / "html"
    texts = {}
    for page in sorted(html.rglob("*.html")):
        if "_static" in page.parts or "terugkoppeling" in page.parts:
            continue  # theme files; the encrypted demo is checked by its own tests
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for link in soup.select(".oml-needs-pdf, .oml-pdf-link"):
            link.decompose()  # the links to the PDFs, which a site without them leaves out (tested below)
        article = soup.find("article") or soup.body
        texts[page.relative_to(html).as_posix()] = " ".join(article.get_text(" ").split()) if article else ""
    return texts


@pytest.mark.slow
def test_the_build_without_fork_uses_the_spawn_engine_and_skips_only_the_pdf(portable):
    root, out = portable
    assert "notebooks run in spawned worker processes (this platform has no os.fork, signal.sigtimedwait)" in out
    assert "PDF edition SKIPPED: WeasyPrint cannot lay out a PDF on this machine (OSError: cannot load library" in out
    html = root / "_build" / "html"
    assert (html / "index.html").exists() and (html / "numbers.json").exists()
    assert not list(html.glob("*.pdf"))
    assert (html / "terugkoppeling" / "index.html").exists()  # the feedback demo, also through the spawn engine


def _pdf_links(html: Path) -> list[tuple[str, str, bool]]:
    """Every link of the site's pages to a PDF: (page, href, whether the file exists)."""
    from bs4 import BeautifulSoup

    links = []
    for page in sorted(html.rglob("*.html")):
        if "_static" in page.parts or "terugkoppeling" in page.parts:
            continue
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for a in soup.find_all("a", href=True):
            href = a["href"].split("#", 1)[0]
            if href.lower().endswith(".pdf") and "://" not in href:
                links.append((page.relative_to(html).as_posix(), href, (page.parent / href).resolve().is_file()))
    return links


@pytest.mark.slow
def test_a_site_without_its_pdfs_links_to_none_and_one_with_them_to_each(portable, site):
    # Without Pango (or with --no-pdf) the sidebar link, the start page's buttons and each region's
    # "Deze regio als pdf" are left out rather than leading nowhere; with the PDFs every such link resolves.
    assert _pdf_links(portable[0] / "_build" / "html") == []
    from oml.paths import FACTSHEET_PDF, REPORT_PDF

    links = _pdf_links(site / "_build" / "html")
    assert {Path(h).name for _, h, _ in links} >= {REPORT_PDF, FACTSHEET_PDF} and len(links) > 25
    assert [link for link in links if not link[2]] == []


@pytest.mark.slow
def test_the_spawn_build_publishes_the_same_numbers_as_the_fork_build(portable, site):
    spawned, forked = _numbers(portable[0]), _numbers(site)
    assert spawned.keys() == forked.keys() and len(forked) > 100
    for key, number in forked.items():
        other = spawned[key]
        assert (other["text"], other.get("page")) == (number["text"], number.get("page")), key
        if isinstance(number.get("value"), float):
            # Same machine, same code: equal up to floating-point noise (never compared bit-exact).
            assert math.isclose(other["value"], number["value"], rel_tol=1e-9, abs_tol=1e-12), key
        else:
            assert other.get("value") == number.get("value"), key


@pytest.mark.slow
def test_the_spawn_build_pages_read_the_same_as_the_fork_build(portable, site):
    spawned, forked = _page_texts(portable[0]), _page_texts(site)
    assert spawned.keys() == forked.keys()
    different = [page for page in forked if spawned[page] != forked[page]]
    assert not different, f"pages whose text differs between the spawn and the fork build: {different}"


@pytest.mark.slow
def test_a_template_run_by_plain_papermill_shows_its_figures_and_tables(tmp_path, monkeypatch):
    # Outside the build (a kernel process, as in Jupyter), on the default data: one line says the data are
    # synthetic, and every figure and table is also an ordinary output (SVG image, HTML table) beside the MyST.
    import nbformat
    import papermill

    from oml.paths import ROOT
    from oml.report.notebook import IN_BUILD, SYNTHETIC_NOTE

    monkeypatch.delenv(IN_BUILD, raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    out = tmp_path / "algemeen-beeld.ipynb"
    papermill.execute_notebook(str(ROOT / "notebooks" / "algemeen_beeld.ipynb"), str(out), kernel_name="python3",
                               parameters={"page": "algemeen-beeld"}, cwd=str(tmp_path), progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    streams = [o.text for o in outputs if o.output_type == "stream"]
    kinds = [k for o in outputs for k in o.get("data", {})]
    assert streams and streams[0].strip() == SYNTHETIC_NOTE and "".join(streams).count(SYNTHETIC_NOTE) == 1
    assert "image/svg+xml" in kinds and "text/html" in kinds and "text/markdown" in kinds
    figures = [c for o in outputs for k, c in o.get("data", {}).items() if k == "image/svg+xml"]
    assert all("<svg" in f for f in figures)
