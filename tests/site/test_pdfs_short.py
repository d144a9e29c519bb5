"""The short PDFs (issue 23, point 6): the factsheet as a handout of 4–8 pages and one PDF per region page.

Read back with poppler from the session build (``site``): stable file names next to the site's
``index.html``, a cover that dates and traces them, the factsheet's own sections, no text off a page,
and each laid out again only when its own pages change. Without poppler-utils the checks that read
a PDF are skipped with a ``NOT RUN`` reason.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from oml.paths import Layout
from pdf_text import off_page, page_texts
from oml.site.pdf import FACTSHEET_PDF, OML_CONTACT, build_pdf, documents, region_pdf_name, Cover

pytestmark = pytest.mark.slow


def _html(site: Path) -> Path:
    return site / "_build" / "html"


def _pages(pdf: Path) -> list[str]:
    return [" ".join(p.replace("\u00ad", "").split()) for p in page_texts(pdf)]


def _region_pages(site: Path) -> list[str]:
    return sorted(p.relative_to(_html(site)).with_suffix("").as_posix()
                  for p in (_html(site) / "book" / "rapport").glob("regio-*.html"))


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


def test_only_the_pdfs_of_a_changed_page_are_laid_out_again(site, tmp_path):
    # A project copy with the built site: change one region page, and only the PDFs that print it are
    # laid out again (the whole report and that region's), each by its own stamp.
    root = tmp_path / "proj"
    shutil.copytree(site, root, ignore=shutil.ignore_patterns(".venv", ".cache", "cache", "data", "notebooks", "tests"))
    html = _html(root)
    before = {p.name: p.stat().st_mtime_ns for p in html.glob("*.pdf")}
    build_pdf(Layout(root), html)  # everything current: nothing laid out
    assert {p.name: p.stat().st_mtime_ns for p in html.glob("*.pdf")} == before
    page = html / f"{_region_pages(root)[0]}.html"
    page.write_text(page.read_text(encoding="utf-8").replace("</article>", "<p>Een extra zin.</p></article>", 1),
                    encoding="utf-8")
    build_pdf(Layout(root), html)
    after = {p.name: p.stat().st_mtime_ns for p in html.glob("*.pdf")}
    changed = sorted(name for name in after if after[name] != before[name])
    assert changed == sorted(["sociale-relaties-met-leraren.pdf", region_pdf_name(_region_pages(root)[0])])
    assert "Een extra zin." in " ".join(_pages(html / region_pdf_name(_region_pages(root)[0])))
