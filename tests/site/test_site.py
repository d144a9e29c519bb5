"""The built site, read as a reader and a reviewer meet it (issue: the book).

One strict build of the default synthetic report (session fixture ``site``), then checks on
the HTML, the downloads and ``numbers.json``; nbval re-executes the executed notebooks.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from oml.paths import Layout
from oml.site.runs import load_runs

pytestmark = pytest.mark.slow

CHAPTERS = {
    "book/intro.html": "Introductie",
    "book/rapport/in-deze-factsheet.html": "In deze factsheet",
    "book/rapport/resultaten-in-het-kort.html": "Resultaten in het kort",
    "book/rapport/algemeen-beeld.html": "Algemeen beeld",
    "book/rapport/verschillen-jaar.html": "Verschillen naar jaar",
    "book/rapport/verschillen-geslacht.html": "Verschillen naar geslacht",
    "book/rapport/verschillen-opleiding-ouders.html": "Verschillen naar opleiding ouders",
    "book/rapport/verschillen-regio.html": "Verschillen naar regio",
    "book/aanbevelingen.html": "Aanbevelingen voor de schoolpraktijk",
    "book/onderzoek.html": "Wat 70 jaar onderzoek zegt",
    "book/rapport/methoden.html": "Methoden en gegevens",
    "book/bronnen.html": "Bronnen",
}
FIGURE_PAGES = {  # figure number -> page
    1: "book/rapport/algemeen-beeld.html",
    2: "book/rapport/verschillen-jaar.html",
    3: "book/rapport/verschillen-geslacht.html",
    4: "book/rapport/verschillen-opleiding-ouders.html",
    5: "book/rapport/verschillen-regio.html",
}
BY = {2: None, 3: "sex", 4: "parent_education", 5: "region"}


def html(site: Path) -> Path:
    return site / "_build" / "html"


def soup(site: Path, page: str) -> BeautifulSoup:
    return BeautifulSoup((html(site) / page).read_text(encoding="utf-8"), "html.parser")


def content_pages(site: Path) -> list[Path]:
    return [p for p in html(site).rglob("*.html") if not p.name.startswith(("genindex", "search"))]


def test_build_was_strict_and_clean(site):
    log = (site / "_build" / "sphinx.log").read_text(encoding="utf-8")
    assert "WARNING" not in log and "ERROR" not in log
    assert (html(site) / "index.html").exists()


@pytest.mark.parametrize("page,title", CHAPTERS.items())
def test_every_chapter_present_with_its_title(site, page, title):
    h1 = soup(site, page).find("h1")
    assert h1 is not None and title in h1.get_text()


def test_chapters_in_factsheet_order(site):
    nav = [a.get_text(strip=True) for a in soup(site, "book/intro.html").select("nav.bd-links a")]
    expected = list(CHAPTERS.values())[1:]
    assert [t for t in nav if t in expected] == expected


def test_table1_equals_published_counts(site):
    # Reference: OML factsheet "Sociale relaties met leraren" (2025), Tabel 1 — the published counts
    # and percentages, in Dutch number format as the factsheet prints them.
    published = {
        "Jongens": ("6.055", "49,79"), "Meisjes": ("6.106", "50,21"),
        "Mbo of lager": ("1.572", "12,93"), "Hbo": ("1.917", "15,76"), "Wo": ("1.061", "8,72"),
        "Onbekend": ("7.611", "62,59"), "Noord-Limburg": ("2.710", "22,28"), "Midden-Limburg": ("2.129", "17,51"),
        "Sittard-Geleen": ("1.643", "13,51"), "Maastricht-Heuvelland": ("2.389", "19,64"),
        "Parkstad Limburg": ("3.290", "27,05"), "Totaal": ("12.161", ""),
    }
    table = soup(site, "book/rapport/algemeen-beeld.html").find("table", id="tab-algemeen-beeld")
    assert table is not None
    assert "Tabel 1" in table.find("caption").get_text()
    rows = {}
    for tr in table.find_all("tr")[1:]:
        cells = [td.get_text(strip=True) for td in tr.find_all("td")]
        if cells[1]:
            rows[cells[0]] = (cells[1], cells[2])
    assert rows == published


def test_five_numbered_figures_with_alt_text(site):
    for number, page in FIGURE_PAGES.items():
        figures = soup(site, page).find_all("figure")
        assert len(figures) == 1, page
        fig = figures[0]
        assert f"Figuur {number}" in fig.find("figcaption").get_text()
        alt = fig.find("img")["alt"]
        assert len(alt) > 80 and re.search(r"\d", alt), alt  # states what it shows, with numbers from the data
        assert (html(site) / page).parent.joinpath(fig.find("img")["src"]).resolve().exists()


def test_reading_guide_names_the_controls_of_each_figure(site):
    controls = {2: "geslacht, leeftijd, opleiding ouders en regio", 3: "leeftijd, opleiding ouders en regio",
                4: "geslacht, leeftijd en regio", 5: "geslacht, leeftijd en opleiding ouders"}
    for number, expected in controls.items():
        text = soup(site, FIGURE_PAGES[number]).get_text(" ")
        assert "Leeswijzer" in text and f"gecontroleerd voor {expected}" in text


def test_no_unresolved_glue_or_figure_placeholders(site):
    for page in content_pages(site):
        text = page.read_text(encoding="utf-8")
        for bad in ("<Figure size", "{glue", "glue:", "{numref}", "{download}", "{cite", "??"):
            assert bad not in text, f"{bad!r} in {page}"


def test_synthetic_banner_on_every_page(site):
    pages = [p for p in html(site).rglob("*.html") if "_static" not in p.parts]
    assert len(pages) >= len(CHAPTERS)
    for page in pages:
        text = page.read_text(encoding="utf-8")
        if text.startswith('<meta http-equiv="Refresh"'):  # index.html only redirects to the first page
            continue
        assert "oml-synthetic-banner" in text, page


def _download(site: Path, page: str, label: str) -> Path:
    """The file behind the provenance link ``label`` under the page's figure."""
    box = soup(site, page).find("figure").find_next(class_="oml-provenance")
    link = next(a for a in box.find_all("a") if a.get_text(strip=True) == label)
    return ((html(site) / page).parent / link["href"]).resolve()


def test_provenance_under_every_figure_and_table(site):
    for page in list(FIGURE_PAGES.values()):
        boxes = soup(site, page).select(".oml-provenance")
        assert boxes, page
        for box in boxes:
            text = box.get_text(" ")
            assert "oml." in text  # the function that computed it
            links = {a.get_text(strip=True): a["href"] for a in box.find_all("a")}
            assert any(k.endswith(".ipynb") for k in links), links
    nb = _download(site, FIGURE_PAGES[3], "verschillen-geslacht.ipynb")
    assert json.loads(nb.read_text(encoding="utf-8"))["cells"]  # the executed notebook itself


@pytest.mark.parametrize("number", [2, 3, 4, 5])
def test_figure_csv_equals_statistics_output(site, default_frame, number):
    from oml.stats.index import add_index
    from oml.stats.results import breakdown

    csv = pd.read_csv(_download(site, FIGURE_PAGES[number], "CSV"))
    assert list(csv.columns) == ["year", "group", "estimate", "se", "ci_low", "ci_high", "n"]
    expected = breakdown(add_index(default_frame), BY[number]).table.drop(columns="suppressed")
    pd.testing.assert_frame_equal(csv, expected.reset_index(drop=True), check_dtype=False, rtol=0, atol=1e-12)


def test_figure1_csv_equals_answer_distribution(site, default_frame):
    from oml.stats.distribution import answer_distribution

    csv = pd.read_csv(_download(site, FIGURE_PAGES[1], "CSV"), dtype={"period": str})
    expected = answer_distribution(default_frame)
    assert len(csv) == len(expected)
    assert csv["percent"].to_numpy() == pytest.approx(expected["percent"].to_numpy(), abs=1e-12)


def test_numbers_json_is_complete(site):
    manifest = json.loads((html(site) / "numbers.json").read_text(encoding="utf-8"))
    entries = manifest["numbers"]
    assert manifest["count"] == len(entries) and manifest["synthetic"] is True
    keys = [e["key"] for e in entries]
    assert len(keys) == len(set(keys))
    for e in entries:
        assert set(e) == {"key", "value", "text", "page"}
        assert (html(site) / e["page"]).exists()
    by_page = {}
    for e in entries:
        by_page.setdefault(e["page"], []).append(e)
    # Every number glued into prose or shown in a table appears on its page as shown.
    for page, items in by_page.items():
        text = " ".join(soup(site, page).get_text(" ").split())
        shown = [e for e in items if not re.search(r"/(figuur[-\w]*|dekking)/", e["key"]) and "/se" not in e["key"]]
        missing = [e for e in shown if " ".join(e["text"].split()) not in text]
        assert not missing, missing[:5]
    # Table 1 complete: 11 groups x (n, percent) + total.
    assert sum(1 for k in keys if "/tabel-1/" in k) == 2 * 11 + 1
    # Every drawn cell of every diamond figure is there, exact.
    for number in (2, 3, 4, 5):
        page = FIGURE_PAGES[number].split("/")[-1].removesuffix(".html")
        assert any(k.startswith(f"{page}/figuur/") and k.endswith("/estimate") for k in keys)


def test_summary_sentences_are_rendered_from_findings(site):
    text = soup(site, "book/rapport/resultaten-in-het-kort.html").get_text(" ")
    assert "Maastricht-Heuvelland betere sociale relaties met leraren dan leerlingen in Sittard-Geleen" in text
    assert "gelijk gebleven" in text


def test_nbval_on_executed_notebooks(site_copy):
    site = site_copy  # the notebooks write their figures and CSVs again as they run
    from oml.site.runs import expand_runs

    notebooks = sorted((site / "book" / "rapport").glob("*.ipynb"))
    facts = json.loads(Layout(site).stamp("data-validation").read_text(encoding="utf-8"))["payload"]
    pages, _ = expand_runs(load_runs(), facts["groups"], facts["schools"])
    assert len(notebooks) == len([r for r in pages if not r.private])
    proc = subprocess.run([sys.executable, "-m", "pytest", "--nbval", "-q", "-o", "addopts=",
                           "-W", "error", "--nbval-sanitize-with", str(Path(__file__).with_name("nbval-sanitize.cfg")),
                           *map(str, notebooks)], cwd=site / "book" / "rapport", capture_output=True,
                          text=True, timeout=900,
                          # Re-run as the build ran them: outside it, nb.show also gives Jupyter's SVG/HTML outputs.
                          env={**os.environ, "OML_ROOT": str(site), "OML_IN_BUILD": "1"})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
