"""The short PDFs (issue 23, point 6): the factsheet as a handout of 4–8 pages and one PDF per region page.

Read back with poppler from the session build (``site``): stable file names next to the site's
``index.html``, a cover that dates and traces them, the factsheet's own sections, no text off a page,
and each laid out again only when its own pages change. Without poppler-utils the checks that read
a PDF are skipped with a ``NOT RUN`` reason.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import run_oml
from oml.paths import SITE_REPORTS
from oml.report.text import CONTROLS_LEAD
from pdf_text import off_page, page_texts
from oml.site.pdf import FACTSHEET_PDF, OML_CONTACT, Cover, compose, documents, region_pdf_name

pytestmark = pytest.mark.slow


def _html(site: Path) -> Path:
    return site / "_build" / "html"


def _pages(pdf: Path) -> list[str]:
    return [" ".join(p.replace("\u00ad", "").split()) for p in page_texts(pdf)]


def _region_pages(site: Path) -> list[str]:
    return sorted(p.relative_to(_html(site)).with_suffix("").as_posix()
                  for p in (_html(site) / "book" / "rapport").glob("regio-*.html"))


def _search_index(html: Path) -> dict:
    text = (html / "searchindex.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("(") + 1:text.rindex(")")])


def _check_cover(first_page: str) -> None:
    assert not re.search(r"\b(het|dit|deze) levend rapport\b", first_page)  # 'het levende rapport' (test_copy's rule)
    assert "Sociale relaties met leraren" in first_page and "OnderwijsMonitor Limburg" in first_page
    assert re.search(r"Editie \S", first_page) and re.search(r"Datum \d{1,2} [a-z]+ \d{4}", first_page)
    assert "Website " in first_page and OML_CONTACT in first_page


def test_short_pdfs_have_stable_names_next_to_the_site(site):
    names = sorted(p.name for p in _html(site).glob("*.pdf"))
    regions = [region_pdf_name(p) for p in _region_pages(site)]
    assert len(regions) == 5
    assert names == sorted(["sociale-relaties-met-leraren.pdf", FACTSHEET_PDF, *regions])
    assert FACTSHEET_PDF == "sociale-relaties-met-leraren-factsheet.pdf"
    assert "sociale-relaties-met-leraren-regio-noord-limburg.pdf" in regions


def test_each_region_page_links_its_own_short_pdf_on_screen_only(site):
    from bs4 import BeautifulSoup

    for page in _region_pages(site):
        path = _html(site) / f"{page}.html"
        links = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").select(".oml-screen-only a[href$='.pdf']")
        assert [a.get_text(strip=True) for a in links] == ["Deze regio als pdf"], page
        assert (path.parent / links[0]["href"]).resolve() == (_html(site) / region_pdf_name(page)).resolve(), page
        assert (_html(site) / region_pdf_name(page)).is_file()


def test_factsheet_pdf_is_a_handout_with_the_factsheets_sections(site):
    pdf = _html(site) / FACTSHEET_PDF
    pages = _pages(pdf)
    assert 4 <= len(pages) <= 8, f"{len(pages)} pages"
    _check_cover(pages[0])
    assert "factsheet" in pages[0]
    text = " ".join(pages)
    sections = ["In deze factsheet", "Resultaten in het kort", "Algemeen beeld", "Tabel 1 ", "Figuur 1 ", "Figuur 2 ",
                "Figuur 3 ", "Figuur 4 ", "Figuur 5 ", "Aanbevelingen voor de schoolpraktijk", "Bronnen"]
    assert [s for s in sections if s not in text] == []
    # In the factsheet's order: the results first, the recommendations after the figures, the sources last.
    assert text.index("Resultaten in het kort") < text.index("Figuur 5 ") < text.rindex("Aanbevelingen voor de schoolpraktijk")
    assert text.rindex("Aanbevelingen voor de schoolpraktijk") < text.rindex("Bronnen")
    # The site's own apparatus stays out of the handout: no contents, no provenance, no reading guide to the site.
    assert "Inhoud" not in pages[0] and "Herkomst" not in text and "Bron en data" not in text
    assert "Leeswijzer voor deze site" not in text
    # The reading guide of the diamond figures once, under Figure 2; under Figures 3-5 only what their means are
    # controlled for (the guide's last sentence), so the handout keeps each figure's own controls. Read from the
    # composed HTML: in the PDF's text a line may break inside a word.
    factsheet = documents(_html(site), "Sociale relaties met leraren — levend rapport", Cover())[1]
    html = BeautifulSoup(compose(_html(site), factsheet.title, "", factsheet.paths(_html(site)), factsheet.cover, True),
                         "html.parser").get_text(" ")
    html = " ".join(html.split())
    assert html.count("Leeswijzer.") == 1 and html.index("Figuur 2") < html.index("Leeswijzer.") < html.index("Figuur 3")
    assert html.count(CONTROLS_LEAD) == 4
    site_text = " ".join((_html(site) / f"{page}.html").read_text(encoding="utf-8") for page in factsheet.pages)
    assert site_text.count("<strong>Leeswijzer.</strong>") == 4  # the site keeps every guide whole
    for number, page in enumerate(pages, start=1):
        assert f"Pagina {number} van {len(pages)}" in page
        assert "synthetische" in page and "geen resultaten van de OnderwijsMonitor Limburg" in page
    assert off_page(pdf) == []


@pytest.mark.parametrize("index", range(5))
def test_one_short_pdf_per_region(site, index):
    page = _region_pages(site)[index]
    pdf = _html(site) / region_pdf_name(page)
    pages = _pages(pdf)
    assert 2 <= len(pages) <= 8, f"{pdf.name}: {len(pages)} pages"
    _check_cover(pages[0])
    title = BeautifulSoup((_html(site) / f"{page}.html").read_text(encoding="utf-8"), "html.parser").find("h1")
    region = " ".join(title.get_text(" ").replace("#", "").split())
    assert region.startswith("Regio ")
    cover = re.sub(r"-\s+", "-", pages[0])  # "Maastricht-Heuvelland" may break at its hyphen
    assert f"Sociale relaties met leraren — {region} Regiopagina uit het levende rapport" in cover
    assert cover.count(region) == 2  # the cover's title and the page's heading
    assert "rest van Limburg" in " ".join(pages)
    assert off_page(pdf) == []


def test_documents_name_the_factsheet_pages_in_order(site):
    docs = documents(_html(site), "Sociale relaties met leraren — levend rapport", Cover())
    assert [d.name for d in docs[:2]] == ["sociale-relaties-met-leraren.pdf", FACTSHEET_PDF]
    factsheet = docs[1]
    assert factsheet.short and factsheet.pages[0] == "book/intro" and factsheet.pages[-1] == "book/bronnen"
    assert "book/rapport/methoden" not in factsheet.pages and "book/rapport/versies" not in factsheet.pages
    assert [d.pages for d in docs[2:]] == [(p,) for p in _region_pages(site)]


def test_a_markdown_edit_lays_out_only_its_pdfs_and_keeps_the_style_sheet(site_copy):
    # What an author does (issue 23, point 7): change one sentence of a Markdown page and run `oml build` again.
    # Only the PDFs that print the page are laid out again (the whole report and the factsheet; no region's),
    # Sphinx writes only what changed, and the site stays as a fresh build makes it: the style sheet kept as it was,
    # the search index whole.
    root = site_copy
    html = _html(root)
    page = root / "book" / "aanbevelingen.md"

    def edit(sentence: str) -> None:
        page.write_text(page.read_text(encoding="utf-8") + f"\n{sentence}\n", encoding="utf-8")
        proc = run_oml(root, "build")
        assert proc.returncode == 0, proc.stdout + proc.stderr

    # A first edit: Sphinx's stored environment names the folder the session's site was built in, so in this copy
    # it starts afresh and writes every page once. From then on the copy rebuilds as an author's project does.
    edit("Een eerste extra zin.")
    before = {p.name: p.stat().st_mtime_ns for p in html.glob("*.pdf")}
    untouched = (html / "book" / "begrippen.html").stat().st_mtime_ns
    bundle = html / "_static" / "oml-site.css"
    bundle_before = (bundle.read_bytes(), bundle.stat().st_mtime_ns)
    demo_before = sorted(p.name for p in (html / SITE_REPORTS).iterdir())
    index_before = _search_index(html)
    edit("Een extra zin voor de test.")
    after = {p.name: p.stat().st_mtime_ns for p in html.glob("*.pdf")}
    changed = sorted(name for name in after if after[name] != before[name])
    assert changed == sorted(["sociale-relaties-met-leraren.pdf", FACTSHEET_PDF])
    assert "Een extra zin voor de test." in " ".join(_pages(html / FACTSHEET_PDF))
    assert (html / "book" / "begrippen.html").stat().st_mtime_ns == untouched  # Sphinx did not write it again
    assert (bundle.read_bytes(), bundle.stat().st_mtime_ns) == bundle_before
    # The search index is the fresh build's with the new words (Sphinx alone would lose the terms of Begrippen,
    # sphinx-doc/sphinx#12599; book/_ext/oml_search.py), so a reader still finds "Holm-correctie" by name.
    index = _search_index(html)
    assert index_before["indexentries"] and index["indexentries"] == index_before["indexentries"]
    assert {k: index[k] for k in ("alltitles", "titles", "docnames")} == {k: index_before[k] for k in ("alltitles", "titles", "docnames")}
    assert set(index_before["terms"]) <= set(index["terms"])
    # The feedback demo stays out of the staged build (oml.site.sphinx.stage_from_site) and is back when published.
    assert sorted(p.name for p in (html / SITE_REPORTS).iterdir()) == demo_before
