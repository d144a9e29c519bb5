"""The start page (issue 22 point 4) and the summary with numbers (issue 23 point 1), on a built site.

The start page is the root of the book: the report's title and edition, key results with their numbers
(each one recorded in numbers.json), every region against the rest of Limburg in words and in a table
that links its page, "Nieuw in deze editie" from the edition comparison, and the two buttons.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from oml.paths import FACTSHEET_PDF
from oml.site.runs import slug

pytestmark = pytest.mark.slow

START = "book/rapport/start.html"
SUMMARY = "book/rapport/resultaten-in-het-kort.html"
REPO = Path(__file__).resolve().parents[2]


def _html(site: Path) -> Path:
    return site / "_build" / "html"


def _article(site: Path, page: str):
    doc = BeautifulSoup((_html(site) / page).read_text(encoding="utf-8"), "html.parser")
    return doc, doc.select_one("article") or doc.body


def _numbers(site: Path, page: str) -> list[dict]:
    manifest = json.loads((_html(site) / "numbers.json").read_text(encoding="utf-8"))["numbers"]
    return [e for e in manifest if e["page"] == page]


def test_the_root_of_the_book_is_the_start_page(site):
    index = (_html(site) / "index.html").read_text(encoding="utf-8")
    assert f"url={START}" in index
    doc, article = _article(site, START)
    assert "Sociale relaties met leraren" in article.find("h1").get_text()
    assert "oml-synthetic-banner" in str(doc), "the start page lost the synthetic-data notice"


def test_the_start_page_names_the_edition_and_the_data(site):
    from oml.site.editions.compare import load_editions

    _, article = _article(site, START)
    text = " ".join(article.get_text(" ").split())
    latest = load_editions(site)[-1].name
    assert f"Laatste editie: {latest}" in text
    assert re.search(r"\d{4}–\d{4}: [\d.]+ leerlingen van [\d.]+ scholen", text), text[:400]


def test_key_results_carry_numbers_that_numbers_json_records(site):
    _, article = _article(site, START)
    section = article.find(id="de-belangrijkste-resultaten")
    items = section.find_all("li")
    assert 3 <= len(items) <= 5, [li.get_text() for li in items]
    shown = {e["text"] for e in _numbers(site, START)}
    for li in items:
        # "groep 8" names the pupils' year group: a label, not a result.
        numbers = re.findall(r"−?\d+(?:[.,]\d+)*(?:\xa0%)?", li.get_text().replace("groep 8", "groep"))
        numbers = [n for n in numbers if not re.fullmatch(r"20\d\d", n)]  # years are labels, not results
        assert numbers, f"a key result without a number: {li.get_text()!r}"
        assert set(numbers) <= shown | {"0"} | {n.split("\xa0")[0] for n in shown}, (li.get_text(), shown)


def test_every_region_is_in_the_overview_with_a_link_to_its_page(site):
    _, article = _article(site, START)
    table = article.find("table")
    assert table is not None, "the start page has no region table"
    rows = table.find("tbody").find_all("tr")
    regions = [r.find("td").get_text(strip=True) for r in rows]
    pages = sorted(p.name for p in (_html(site) / "book" / "rapport").glob("regio-*.html"))
    assert sorted(f"regio-{slug(r)}.html" for r in regions) == pages
    for row in rows:
        link = row.find("td").find("a")
        assert link is not None and (_html(site) / "book" / "rapport" / link["href"].split("#")[0]).is_file()
        verdict = row.find_all("td")[-1].get_text()
        assert verdict.startswith(("hoger", "lager", "geen significant verschil", "niet te vergelijken")), verdict


def _after_heading(article, pattern: str) -> list:
    """The elements after the heading whose id matches ``pattern``, up to the next heading of its level.

    Headings inside a notebook's output are rubrics (an ``h2`` without a section), so the part of the page
    under one is its following siblings.
    """
    heading = article.find(["h2", "h3"], id=re.compile(pattern))
    assert heading is not None, f"no heading {pattern!r}"
    out = []
    for el in heading.find_next_siblings():
        if el.name == heading.name:
            break
        out.append(el)
    return out


def test_the_region_findings_are_in_the_summary_too(site):
    _, article = _article(site, SUMMARY)
    part = _after_heading(article, "rest-van-limburg")
    linked = {a["href"].split("#")[0] for el in part for a in el.find_all("a") if "regio-" in a.get("href", "")}
    pages = {p.name for p in (_html(site) / "book" / "rapport").glob("regio-*.html")}
    assert linked == pages


def test_the_summary_opens_with_the_headline_shares_and_puts_sizes_into_words(site):
    _, article = _article(site, SUMMARY)
    text = article.get_text(" ")
    assert "Niets hiervan is met de hand geschreven" not in text
    shares = [e["text"] for e in _numbers(site, SUMMARY) if e["key"].endswith(("agree_praten", "agree_gemak"))]
    assert len(shares) == 2 and all(s in text for s in shares), shares
    first = _after_heading(article, "hoe-ervaren")[0].get_text()
    assert all(s in first for s in shares), "the summary does not open with the headline shares"
    assert re.search(r"\b(nauwelijks van betekenis|klein|middelgroot|groot)\b", text)
    assert "ook die is niet significant" not in text


def test_new_in_this_edition_comes_from_the_edition_comparison(site):
    _, article = _article(site, START)
    section = article.find(id="nieuw-in-deze-editie")
    assert section is not None
    text = section.get_text(" ")
    assert "Editie" in text or "editie" in text
    assert section.find("a", href=re.compile(r"versies\.html"))


def test_the_buttons_lead_to_the_pdf_and_the_feedback_page(site):
    _, article = _article(site, START)
    buttons = {a.get_text(strip=True): a["href"] for a in article.select("a.oml-button")}
    assert set(buttons) == {"Download het rapport (PDF)", "De factsheet in het kort (PDF)", "Open het rapport van uw school"}
    base = _html(site) / "book" / "rapport"
    assert (base / buttons["Open het rapport van uw school"]).resolve().is_file()
    assert (base / buttons["De factsheet in het kort (PDF)"]).resolve() == _html(site) / FACTSHEET_PDF
    assert (_html(site) / FACTSHEET_PDF).is_file()
    doc, _ = _article(site, START)
    sidebar = doc.select_one(".oml-pdf-link a")  # the PDF link every page has (book/_ext/oml_site.py)
    assert sidebar is not None
    assert (base / buttons["Download het rapport (PDF)"]).resolve() == (base / sidebar["href"]).resolve()


def test_readability_is_measured_and_meets_its_targets(site):
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "readability.py"), str(site), "--check"],
                          capture_output=True, text=True)
    assert "samenvatting" in proc.stdout and "startpagina" in proc.stdout, proc.stdout + proc.stderr
    assert "schoolrapport" in proc.stdout
    assert proc.returncode == 0, proc.stdout + proc.stderr
