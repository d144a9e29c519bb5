"""Figures that fit every screen, with their values as a table, and one colour per entity (issue 22, points 2 and 3).

* Phone (Chromium's mobile emulation, 375 × 800, touch): on every page every figure lies inside the window,
  no page scrolls sideways, and the smallest text of every figure is at least 11 CSS px, measured on the SVG
  the browser chose (``currentSrc``: the phone variant where there is one) at the size it is drawn.
* Every figure has a "Toon als tabel" under it; a tap opens it, and its table holds the figure's values: for a
  diamond figure exactly the estimates and intervals of the figure's CSV (its provenance link), rounded as shown.
* Every table that is wider than its column scrolls inside its own box (never the page) and its caption stays
  within the window.
* The colour map is identical across pages: every SVG figure of the site draws each entity
  (``oml-entity-*``) in the one colour of :data:`oml.report.plotting.ENTITY_STYLES`.

Where Chromium is missing, the browser tests are skipped with a ``NOT RUN`` reason.
"""
from __future__ import annotations

import csv
import re
import time

import pytest

import browser

pytestmark = pytest.mark.slow

MIN_TEXT_PX = 11

# Every figure: where it is drawn, and the CSS px of each text in the SVG the browser shows (its currentSrc):
# font size in SVG user units times the drawn width over the viewBox width.
_FIGURES = r"""
const done = arguments[arguments.length - 1];
(async () => {
  const out = [];
  for (const img of document.querySelectorAll('.bd-article figure img')) {
    const r = img.getBoundingClientRect();
    const src = img.currentSrc || img.src;
    const entry = {figure: img.closest('figure').id, src: src.split('/').pop(), left: r.left, right: r.right,
                   width: r.width, texts: []};
    if (src.endsWith('.svg')) {
      const svg = new DOMParser().parseFromString(await (await fetch(src)).text(), 'image/svg+xml').documentElement;
      const scale = r.width / parseFloat(svg.getAttribute('viewBox').split(/\s+/)[2]);
      // matplotlib draws text as glyph paths in <g transform="translate(…) scale(s -s)">, s = size/100 in SVG units.
      for (const g of svg.querySelectorAll('g[id^="text_"]')) {
        const sizes = Array.from(g.querySelectorAll('g[transform*="scale("]')).map(
          e => 100 * Math.abs(parseFloat(e.getAttribute('transform').match(/scale\(([-\d.e]+)/)[1])));
        const label = (g.innerHTML.match(/<!--\s*(.*?)\s*-->/) || [null, g.id])[1];
        if (sizes.length) entry.texts.push({label: label, px: Math.min(...sizes) * scale});
      }
    }
    out.push(entry);
  }
  return out;
})().then(done, e => done([{error: String(e)}]));
"""


def _figure_pages(html) -> list[str]:
    return [p for p in browser.html_pages(html) if "<figure" in (html / p).read_text(encoding="utf-8")]


def test_every_figure_fits_a_phone_with_legible_text(phone):
    driver, base, html = phone
    pages = _figure_pages(html)
    assert len(pages) >= 10, pages
    problems, figures = [], 0
    for page in pages:
        browser.load(driver, f"{base}/{page}")
        width = driver.execute_script("return document.documentElement.clientWidth")
        assert width <= 400, f"not a phone window: {width} px"
        wide = driver.execute_script("return document.documentElement.scrollWidth")
        if wide > width:
            problems.append(f"{page}: the page scrolls sideways ({wide} > {width} px)")
        for f in driver.execute_async_script(_FIGURES):
            assert "error" not in f, f
            figures += 1
            if f["left"] < 0 or f["right"] > width + 0.5:
                problems.append(f"{page} {f['figure']}: outside the window ({f['left']:.0f}–{f['right']:.0f} px of {width})")
            assert f["texts"], f"{page}: no text found in {f['src']}"
            small = min(f["texts"], key=lambda t: t["px"])
            if small["px"] < MIN_TEXT_PX:
                problems.append(f"{page} {f['src']}: '{small['label']}' {small['px']:.1f} px")
    assert figures >= 15
    assert not problems, "\n".join(problems)


def test_a_phone_gets_the_portrait_variant_of_every_diamond_figure(phone):
    driver, base, html = phone
    for page in ["book/rapport/verschillen-regio.html", "book/rapport/langere-reeks.html"]:
        browser.load(driver, f"{base}/{page}")
        shown = [f["src"] for f in driver.execute_async_script(_FIGURES)]
        assert shown and all(src.endswith("-smal.svg") for src in shown), (page, shown)


def _rows(driver, details) -> list[list[str]]:
    return driver.execute_script(
        "return Array.from(arguments[0].querySelectorAll('tbody tr')).map("
        "tr => Array.from(tr.children).map(c => c.textContent.trim()))", details)


def _figure_csv(html, page: str, figure_id: str) -> list[dict]:
    from bs4 import BeautifulSoup

    doc = BeautifulSoup((html / page).read_text(encoding="utf-8"), "html.parser")
    box = doc.find(id=figure_id).find_next(class_="oml-provenance")
    href = [a["href"] for a in box.find_all("a") if a["href"].endswith(".csv")][0]
    with (html / page).parent.joinpath(href).resolve().open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_every_figure_opens_as_a_table_by_tap_with_its_values(phone):
    from selenium.webdriver.common.by import By

    from oml.report.text import group_label, nl_number

    driver, base, html = phone
    checked = 0
    for page in _figure_pages(html):
        browser.load(driver, f"{base}/{page}")
        for figure in driver.find_elements(By.CSS_SELECTOR, ".bd-article figure"):
            fid = figure.get_attribute("id")
            details = driver.execute_script(
                "let e = arguments[0].nextElementSibling; while (e && !e.matches('details.oml-figure-table, figure')) "
                "e = e.nextElementSibling; return e && e.matches('details') ? e : null;", figure)
            assert details is not None, f"{page}: no 'Toon als tabel' under {fid}"
            summary = details.find_element(By.TAG_NAME, "summary")
            assert summary.text.strip() == "Toon als tabel"
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", summary)
            time.sleep(0.1)
            browser.tap(driver, summary)
            assert driver.execute_script("return arguments[0].open", details), f"{page}: a tap did not open the table of {fid}"
            table = details.find_element(By.TAG_NAME, "table")
            assert table.is_displayed() and table.find_element(By.TAG_NAME, "caption").text
            rows = _rows(driver, details)
            assert rows and all(all(cell for cell in row) for row in rows), (page, fid, rows[:3])
            if "Afwijking (sd)" in table.text:
                # A diamond figure: the same estimates and intervals as its CSV, as shown (two decimals).
                expected = [[r["year"], group_label(r["group"]),
                             *[nl_number(float(r[c]), 2) if r[c] else "•" for c in ("estimate", "ci_low", "ci_high")]]
                            for r in _figure_csv(html, page, fid)]
                assert rows == expected, (page, fid)
            checked += 1
    assert checked >= 15


def test_wide_tables_scroll_inside_themselves_and_keep_their_caption(phone):
    driver, base, html = phone
    problems = []
    for page in browser.html_pages(html):
        if "<table" not in (html / page).read_text(encoding="utf-8"):
            continue
        browser.load(driver, f"{base}/{page}")
        driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
        found = driver.execute_script(r"""
            const w = document.documentElement.clientWidth, out = [];
            for (const t of document.querySelectorAll('.bd-article table')) {
              const box = t.closest('.pst-scrollable-table-container, .oml-table-scroll');
              const r = (box || t).getBoundingClientRect();
              if (r.right > w + 0.5 || r.left < -0.5) out.push('box outside the window: ' + (t.id || t.className));
              if (t.scrollWidth > (box || t).clientWidth + 1 && (!box || getComputedStyle(box).overflowX !== 'auto'))
                out.push('does not scroll inside itself: ' + (t.id || t.className));
              const c = t.querySelector('caption');
              if (c) { const cr = c.getBoundingClientRect(); if (cr.right > w + 0.5) out.push('caption clipped: ' + c.textContent.slice(0, 40)); }
            }
            return out;""")
        problems += [f"{page}: {p}" for p in found]
    assert not problems, "\n".join(problems)


def test_the_colour_map_is_identical_across_pages(site):
    from oml.report import plotting

    images = site / "_build" / "html" / "_images"
    seen: dict[str, set[str]] = {}
    svgs = sorted(images.glob("*.svg"))
    for path in svgs:
        text = path.read_text(encoding="utf-8")
        for gid, body in re.findall(r'<g id="(oml-entity-[^"]+)">(.*?)</g>', text, flags=re.S):
            # matplotlib leaves out a black fill (SVG's default).
            fills = set(re.findall(r"fill:\s*(#[0-9a-fA-F]{6})", body)) or {"#000000"}
            seen.setdefault(gid, set()).update(f.upper() for f in fills)
    expected = {plotting.entity_id(g): c.upper() for g, (c, _) in plotting.ENTITY_STYLES.items()}
    assert len(seen) >= 12, sorted(seen)
    wrong = {gid: colours for gid, colours in seen.items() if colours != {expected.get(gid)}}
    assert not wrong, wrong
