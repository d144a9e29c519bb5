"""The PDF edition (oml/site/pdf.py), read back with poppler: what a school leader prints and forwards.

Uses the session build (``site``): ``oml build`` writes the PDF next to the site and every page
links it. Without poppler-utils the text checks are skipped with a ``NOT RUN`` reason.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from oml.paths import Layout
from pdf_text import off_page, page_texts, poppler
from oml.site.pdf import OML_CONTACT, PdfError, build_pdf, compose, linked_pdf, SITE_ONLY_PAGES, pdf_order, reading_order

pytestmark = pytest.mark.slow


def _html(site: Path) -> Path:
    return site / "_build" / "html"


@pytest.fixture(scope="module")
def pdf(site) -> Path:
    path = linked_pdf(_html(site))
    assert path.parent == _html(site).resolve() and path.suffix == ".pdf" and path.exists()
    return path


@pytest.fixture(scope="module")
def pages_text(pdf) -> list[str]:
    """The text of every page (pdftotext separates pages with a form feed)."""
    return page_texts(pdf)


def _titles(site: Path) -> list[str]:
    """Every chapter's title as the site shows it, in the PDF's order (the site's, with Bronnen moved to the end)."""
    titles = []
    for page in pdf_order(_html(site)):
        h1 = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").select_one("article.bd-article h1")
        h1.find("a", class_="headerlink").decompose()
        titles.append(" ".join(h1.get_text(" ", strip=True).split()))
    return titles


def _flat(text: str) -> str:
    return " ".join(text.replace("\u00ad", "").split())


def test_every_page_of_the_site_links_the_pdf(site, pdf):
    html = _html(site)
    for page in html.rglob("*.html"):
        if "_static" in page.parts or page.read_text(encoding="utf-8").startswith('<meta http-equiv="Refresh"'):
            continue
        if "terugkoppeling" in page.relative_to(html).parts:
            continue  # the encrypted feedback demo: private reports, not pages of the report
        link = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").select_one(".oml-pdf-link a[href]")
        assert link is not None, page
        assert (page.parent / link["href"]).resolve() == pdf, page


def test_all_chapters_in_order_with_a_table_of_contents(site, pages_text):
    titles = _titles(site)
    assert len(titles) >= 12 and titles[0] == "Introductie" and titles[-1] == "Bronnen"
    # every page of the site once, but the start page (a landing page; the cover takes its place)
    assert len(titles) == len(reading_order(_html(site))) - len(SITE_ONLY_PAGES)
    assert "Sociale relaties met leraren" not in titles
    titles.append("Technische bijlage: herkomst van de cijfers")  # after Bronnen, at the very end
    toc = next(i for i, p in enumerate(pages_text) if "Inhoud" in p)
    contents = _flat(" ".join(pages_text[toc:toc + 4]))  # the contents take a few pages
    chapter_pages = []
    for title in titles:
        # The contents line ends with the chapter's page number, and that page starts the chapter.
        found = re.search(re.escape(title) + r" ?\.*\s*(\d+)", contents)
        assert found, f"'{title}' not in the table of contents"
        number = int(found.group(1))
        assert title in _flat(pages_text[number - 1]), f"'{title}' is not on page {number}"
        chapter_pages.append(number)
    assert chapter_pages == sorted(chapter_pages) and len(set(chapter_pages)) == len(chapter_pages)


def test_page_numbers_and_synthetic_notice_on_every_page(pages_text):
    assert len(pages_text) >= 15
    for number, text in enumerate(pages_text, start=1):
        assert f"Pagina {number} van {len(pages_text)}" in text, number
        assert "synthetische" in text and "geen resultaten van de OnderwijsMonitor Limburg" in _flat(text), number
        # The running head speaks of the printed document, not of "deze site".
        assert "in dit document" in _flat(text) and "op deze site zijn berekend" not in _flat(text), number


def test_cover_dates_cites_and_traces_the_edition(pages_text):
    cover = _flat(pages_text[0])
    assert "Sociale relaties met leraren" in cover
    assert "Levend rapport naar de factsheet ‘Sociale relaties met leraren’ van de OnderwijsMonitor Limburg" in cover
    assert re.search(r"Editie (E|e)ditie \d{4}|Editie bijgewerkte versie na editie \d{4}", cover), cover
    assert re.search(r"Datum \d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|"
                     r"december) \d{4}", cover), cover
    assert "Website " in cover and f"Contact OnderwijsMonitor Limburg, {OML_CONTACT}" in cover


def test_no_text_runs_off_a_page(pdf):
    # Every word poppler finds lies on the page: nothing beyond its width (the git commands of Versies,
    # a sha256, a long file name) or below its foot.
    assert off_page(pdf) == []


def test_table_captions_stay_with_their_tables(site, pages_text):
    # A caption is never the last thing on its page: the table's header row follows it on the same page.
    checked = 0
    for page in pdf_order(_html(site)):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for table in soup.select("article.bd-article table"):
            caption, header = table.find("caption"), table.find("th")
            if caption is None or header is None or caption.find(class_="caption-number") is None:
                continue
            number = _flat(caption.find(class_="caption-number").get_text())
            words = _flat(caption.find(class_="caption-text").get_text()).split()[:4]
            start = f"{number} {' '.join(words)}"
            where = [i for i, text in enumerate(pages_text) if start in _flat(text)]
            assert where, f"caption '{start}' not in the PDF"
            text = _flat(pages_text[where[0]])
            assert _flat(header.get_text()) in text[text.index(start):], f"'{start}' is split from its table"
            checked += 1
    assert checked >= 5


def test_provenance_is_a_numbered_note_in_the_technical_appendix(site, pages_text):
    text = _flat(" ".join(pages_text))
    assert "Herkomst van deze cijfers" not in text and "Bron en data:" not in text  # no box per figure
    # The appendix is the last chapter (the contents name it too), after Bronnen.
    appendix = min(i for i, p in enumerate(pages_text) if "Elke figuur en tabel in dit rapport is berekend" in _flat(p))
    bronnen = max(i for i, p in enumerate(pages_text) if re.search(r"^\s*Bronnen\s*$", p, re.M))
    assert bronnen <= appendix and appendix >= len(pages_text) - 6
    notes = _flat(" ".join(pages_text[appendix:]))
    blocks = sum(len(BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser").select("article .oml-provenance"))
                 for p in pdf_order(_html(site)))
    assert blocks >= 20
    for number in (1, blocks):
        assert re.search(rf"(?<!\d){number}\. ", notes), f"note {number} missing"
    for number in (1, blocks):  # the caption of its figure or table, or a line where the block stood
        assert f"(herkomst: noot {number})" in text or f"Herkomst: noot {number} in de technische bijlage" in text
    assert "oml.stats.tables.table1" in notes and "algemeen-beeld.ipynb" in notes and "in cel [" in notes
    assert re.search(r"Tabel 1 \(Algemeen beeld\) \(pagina \d+\)", notes)


def test_table1_and_figures_numbered_with_dutch_numbers(site, pages_text):
    text = _flat(" ".join(pages_text))
    manifest = json.loads((_html(site) / "numbers.json").read_text(encoding="utf-8"))
    table1 = [e["text"] for e in manifest["numbers"] if "/tabel-1/" in e["key"] and e["text"]]
    assert "12.161" in table1 and "49,79" in table1
    for number in table1:
        assert re.search(rf"(?<![\d.,]){re.escape(number)}(?![\d,]|\.\d)", text), f"Table 1's {number} not in the PDF"
    assert "Tabel 1 Leerlingen in de gegevens" in text
    for number in range(1, 6):
        assert f"Figuur {number} " in text, number


def test_figures_are_vector(pdf):
    # pdfimages lists raster images: the SVG figures must be drawn as vector paths, so there are none.
    listing = subprocess.run([poppler("pdfimages"), "-list", str(pdf)], capture_output=True, text=True,
                             check=True).stdout.splitlines()
    assert listing[2:] == []
    fonts = subprocess.run([poppler("pdffonts"), str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Liberation" in fonts or "DejaVu" in fonts  # real text, searchable


def test_pdf_is_dutch_and_reused_when_nothing_changed(site, pdf):
    info = subprocess.run([poppler("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Sociale relaties met leraren" in info and "Pages:" in info
    assert re.search(r"Tagged:\s+yes", info)  # PDF/UA: structure and alt texts for screen readers
    before = pdf.stat().st_mtime_ns
    assert build_pdf(Layout(site), _html(site)) == pdf
    assert pdf.stat().st_mtime_ns == before  # nothing changed: not rewritten


def test_pdf_is_deterministic(site, pdf, tmp_path):
    stamp = Layout(site).stamp("pdf").read_bytes()
    again = build_pdf(Layout(site), _html(site), tmp_path / "again.pdf")
    assert again.read_bytes() == pdf.read_bytes()
    # A PDF written elsewhere leaves the site's own stamp alone: its next build still reuses its PDF.
    assert Layout(site).stamp("pdf").read_bytes() == stamp


def test_weasyprint_warning_is_an_error(site, tmp_path):
    # A figure that does not exist: WeasyPrint warns, and the PDF must not be written.
    html = tmp_path / "html"
    shutil.copytree(_html(site), html)
    (html / "_images" / "verschillen-jaar-figuur.svg").unlink()
    out = tmp_path / "out.pdf"
    with pytest.raises(PdfError, match="WeasyPrint warned"):
        build_pdf(Layout(site), html, out)
    assert not out.exists()


def test_no_notice_in_the_pdf_of_real_data(site, tmp_path):
    # The PDF shows the notice exactly when the site does: without the site's banner, no notice.
    html = tmp_path / "html"
    shutil.copytree(_html(site), html)
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        page.write_text(re.sub(r'<div class="oml-synthetic-banner">.*?</div>', "", text, flags=re.S), encoding="utf-8")
    synthetic = compose(_html(site), "T", "A")
    real = compose(html, "T", "A")
    assert 'class="oml-running-notice"' in synthetic and "synthetische" in synthetic
    assert 'class="oml-running-notice"' not in real and 'class="oml-synthetic-banner"' not in real


def test_demo_codes_stay_on_the_site_and_out_of_the_pdf(site, pages_text):
    # The Terugkoppeling page lists every demo code on screen; printed, they are useless (they open
    # reports on the site only), so the PDF says where they are instead of printing the long table.
    from oml.access.codes import display, read_codes
    from oml.paths import DEMO_CODES, ROOT

    page = _html(site) / "book" / "terugkoppeling.html"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    assert soup.select_one("table.oml-demo-codes.oml-screen-only") is not None
    codes = [display(c) for c in read_codes(site / DEMO_CODES.relative_to(ROOT)).values()]
    assert codes and all(c in page.read_text(encoding="utf-8") for c in codes[:3])
    text = _flat(" ".join(pages_text))
    assert not [c for c in codes if c in text]
    assert ("De tabel met codes staat niet in deze pdf: de codes openen alleen rapporten op de website, en daar staat "
            "de tabel op deze pagina.") in text
