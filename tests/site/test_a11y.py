"""The built site as a reader meets it, in real headless Chromium (tests/browser.py).

* axe-core (WCAG 2.2 A and AA: tags up to ``wcag22aa``) on every HTML page of the site, in the light and the
  dark theme, at 1280 px and at 375 px: the pages are found by crawling ``_build/html``, so pages added later
  are checked too;
* legible figures: no figure text below 11 CSS px in a 1280-px window, Figure 1 also on a phone;
* no page scrolls sideways at 375 px;
* keyboard: every control reachable with Tab, with a visible focus outline;
* the synthetic notice: one labelled landmark per page, never a live region.

Where Chromium or axe-core is missing, every test here is skipped with a ``NOT RUN`` reason, and
the run ends with a list of the checks that did not run (tests/conftest.py).
"""
from __future__ import annotations

import re

import pytest

import browser

pytestmark = pytest.mark.slow

#: Smallest text in a figure, in CSS px, and the window widths it is measured at.
MIN_TEXT_PX = 11
DESKTOP, PHONE = 1280, 375
#: Nodes that are false positives of one axe rule, with the reason. Keyed "rule-id selector".
AXE_FALSE_POSITIVES: dict[str, str] = {}

# The font size, in CSS px, of every text in every SVG figure on the page: matplotlib draws text as
# glyph paths inside <g id="text_…"><g transform="translate(…) scale(s -s)">, at s = size/100 in SVG
# user units; the <img> shows the viewBox at its rendered width.
_FIGURE_TEXT = r"""
const done = arguments[arguments.length - 1];
// The SVG the browser shows: currentSrc, the phone variant of a <picture> on a narrow screen.
const imgs = Array.from(document.querySelectorAll('figure img')).filter(i => (i.currentSrc || i.src).endsWith('.svg'));
Promise.all(imgs.map(async img => {
  const svg = new DOMParser().parseFromString(await (await fetch(img.currentSrc || img.src)).text(), 'image/svg+xml').documentElement;
  const viewWidth = parseFloat(svg.getAttribute('viewBox').split(/\s+/)[2]);
  const pxPerUnit = img.getBoundingClientRect().width / viewWidth;
  const texts = Array.from(svg.querySelectorAll('g[id^="text_"]')).map(g => {
    const glyphs = Array.from(g.querySelectorAll('g[transform*="scale("]'));
    const sizes = glyphs.map(e => 100 * Math.abs(parseFloat(e.getAttribute('transform').match(/scale\(([-\d.e]+)/)[1])));
    const label = (g.innerHTML.match(/<!--\s*(.*?)\s*-->/) || [null, g.id])[1];
    return sizes.length ? {label: label, px: Math.min(...sizes) * pxPerUnit} : null;
  }).filter(Boolean);
  return {figure: img.closest('figure').id, src: (img.currentSrc || img.src).split('/').pop(), texts: texts};
})).then(done, e => done({error: String(e)}));
"""


@pytest.fixture(scope="module")
def session(site):
    """One browser for the whole module; yields (driver, base URL, page paths).

    Skips (NOT RUN) when Chromium is missing.
    """
    reason = browser.missing()
    if reason:
        pytest.skip(reason)
    html = site / "_build" / "html"
    with browser.serve(html) as base, browser.chromium(DESKTOP, 900) as driver:
        yield driver, base, browser.html_pages(html)


def _report(found: dict[str, list]) -> str:
    lines = []
    for where, violations in found.items():
        for v in violations:
            nodes = ", ".join(n["target"] for n in v["nodes"][:5])
            lines.append(f"{where}: {v['id']} ({v['impact']}, {len(v['nodes'])} nodes): {v['help']} — {nodes}")
    return "\n".join(lines)


def test_every_page_is_found(session, site):
    _, _, pages = session
    chapters = re.findall(r"file: (\S+)", (site / "_toc.yml").read_text(encoding="utf-8"))
    for chapter in chapters:
        assert f"{chapter}.html" in pages, f"{chapter} is not among the crawled pages"


@pytest.mark.parametrize("theme, width", [("light", DESKTOP), ("dark", DESKTOP), ("light", PHONE), ("dark", PHONE)])
def test_no_axe_violations(session, theme, width):
    reason = browser.axe_missing()
    if reason:
        pytest.skip(reason)
    driver, base, pages = session
    driver.set_window_size(width, 900)
    browser.set_theme(driver, f"{base}/{pages[0]}", theme)
    found, notices = {}, {}
    for page in pages:
        browser.load(driver, f"{base}/{page}")
        assert driver.execute_script("return document.documentElement.dataset.theme") == theme, page
        violations = browser.axe(driver, AXE_FALSE_POSITIVES)
        if violations:
            found[f"{page} [{theme}, {width} px]"] = violations
        notices[page] = driver.execute_script(
            "const live = Array.from(document.querySelectorAll('[role=alert], [role=status], [aria-live]'))"
            "  .filter(e => e.getAttribute('aria-live') !== 'off' && e.textContent.includes('synthetisch'));"
            "const marks = Array.from(document.querySelectorAll('.oml-synthetic-banner'));"
            "return {live: live.length, banners: marks.length,"
            "  landmark: marks.map(m => m.closest('aside[aria-label]')).filter(Boolean).map(a => a.getAttribute('aria-label'))};")
    assert not found, "axe-core WCAG 2.2 A/AA violations:\n" + _report(found)
    # The synthetic notice: on every page once, in a landmark with a Dutch name, never a live region
    # (a screen reader then reads it once in the page, instead of interrupting with it).
    for page, notice in notices.items():
        assert notice == {"live": 0, "banners": 1, "landmark": ["Let op: synthetische gegevens"]}, (page, notice)


def test_figure_text_legible(session):
    driver, base, pages = session
    checked = {DESKTOP: 0, PHONE: 0}
    small = []
    for width in (DESKTOP, PHONE):
        driver.set_window_size(width, 900)
        for page in pages:
            browser.load(driver, f"{base}/{page}")
            for figure in driver.execute_async_script(_FIGURE_TEXT):
                assert "error" not in figure, figure
                # On a phone too: Figure 1 fits the column, every other figure has a narrow variant (a <picture>).
                assert figure["texts"], f"{page}: no text found in {figure['src']}"
                checked[width] += 1
                small += [f"{page} {figure['src']} at {width} px: '{t['label']}' {t['px']:.1f} px"
                          for t in figure["texts"] if t["px"] < MIN_TEXT_PX]
    assert checked[DESKTOP] >= 5 and checked[PHONE] == checked[DESKTOP], checked
    assert not small, "figure text smaller than 11 CSS px:\n" + "\n".join(small)


def test_no_sideways_scroll_on_a_phone(session):
    driver, base, pages = session
    driver.set_window_size(PHONE, 900)
    wide = []
    for page in pages:
        browser.load(driver, f"{base}/{page}")
        # clientWidth: the window less Chromium's classic scroll bar, stricter than a phone's overlay bars.
        scroll, inner = driver.execute_script("return [document.scrollingElement.scrollWidth, "
                                              "document.documentElement.clientWidth]")
        if scroll > inner:
            wide.append(f"{page}: {scroll} px wide in a {inner}-px viewport")
    assert not wide, "\n".join(wide)


# Every control a keyboard user must reach; visible and not hidden from keyboard users by the theme.
_CONTROLS = r"""
const visible = e => { const r = e.getBoundingClientRect(), s = getComputedStyle(e);
  return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && !e.closest('[inert], dialog:not([open])')
    && !e.closest('details:not([open]) > :not(summary)'); };  // hG: inside a closed <details> nothing is shown
return Array.from(document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]'))
  .filter(e => !e.disabled && visible(e) && e.tabIndex >= 0 && !e.closest('.d-none'));
"""
_FOCUS = r"""
const e = document.activeElement, s = getComputedStyle(e);
const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 1;
return [e, outline || (s.boxShadow && s.boxShadow !== 'none'), e.outerHTML.slice(0, 120)];
"""


@pytest.mark.parametrize("page", ["book/intro.html", "book/rapport/algemeen-beeld.html", "book/bronnen.html"])
def test_keyboard_reaches_every_control_with_visible_focus(session, page):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    driver, base, _ = session
    driver.set_window_size(DESKTOP, 900)
    browser.load(driver, f"{base}/{page}")
    controls = driver.execute_script(_CONTROLS)
    assert len(controls) >= 10, page
    reached, unfocused = [], []
    for _ in range(len(controls) + 20):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        element, visible, html = driver.execute_script(_FOCUS)
        if element in reached or element.tag_name == "body":
            break  # round the page once: focus went back to the start or out to the browser
        reached.append(element)
        if not visible:
            unfocused.append(html)
    missing = [c.get_attribute("outerHTML")[:120] for c in controls if c not in reached]
    assert not missing, f"{page}: not reachable with Tab:\n" + "\n".join(missing)
    assert not unfocused, f"{page}: focus not visible on:\n" + "\n".join(unfocused)


def test_every_page_declares_dutch_and_speaks_it(site):
    from bs4 import BeautifulSoup

    html = site / "_build" / "html"
    english = re.compile(r"\b(Skip|Back to|Toggle|Search|Link to|previous|next|Main|Page|navigation|On this|Color|Announcement)\b")
    for page in browser.html_pages(html):
        text = (html / page).read_text(encoding="utf-8")
        assert re.search(r'<html lang="nl"', text), page
        # What a screen reader announces besides the content: labels, tooltips, placeholders, the skip link.
        doc = BeautifulSoup(text, "html.parser")
        names = [tag.get(attr) for attr in ("aria-label", "title", "placeholder") for tag in doc.find_all(attrs={attr: True})]
        names += [a.get_text(strip=True) for a in doc.select(".skip-link a, #pst-back-to-top")]
        spoken_english = sorted({n for n in names if english.search(n)})
        assert not spoken_english, f"{page}: English interface text: {spoken_english}"


def test_every_figure_has_data_alt_text_and_a_link_to_its_data(site):
    from bs4 import BeautifulSoup

    html = site / "_build" / "html"
    figures = 0
    for page in browser.html_pages(html):
        for figure in BeautifulSoup((html / page).read_text(encoding="utf-8"), "html.parser").find_all("figure"):
            figures += 1
            alt = figure.find("img").get("alt", "")
            assert len(alt) > 80 and re.search(r"\d", alt), f"{page}: alt text does not describe the data: {alt!r}"
            # The provenance box right under the figure (before any next figure) links the CSV of its numbers.
            box = figure.find_next(class_="oml-provenance")
            assert box is not None and box.find_previous("figure") is figure, f"{page}: no provenance under {figure['id']}"
            csv = [a["href"] for a in box.find_all("a", href=True) if a["href"].endswith(".csv")]
            assert csv and (html / page).parent.joinpath(csv[0]).resolve().exists(), f"{page}: {figure['id']} has no data link"
    assert figures >= 5


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_feedback_demo_pages_and_opened_reports_have_no_axe_violations(session, site, width):
    # The encrypted demo is not a Sphinx page (no theme): its code form, an encrypted report's frame, and a
    # school's and a board's report as a reader sees them after typing the code.
    reason = browser.axe_missing()
    if reason:
        pytest.skip(reason)
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    from oml import paths
    from oml.access.codes import display, read_codes

    driver, base, _ = session
    driver.set_window_size(width, 900)
    pages = browser.feedback_pages(site / "_build" / "html")
    assert pages and pages[0] == "terugkoppeling/index.html"
    found = {}
    for page in pages:
        browser.load(driver, f"{base}/{page}")
        if violations := browser.axe(driver, AXE_FALSE_POSITIVES):
            found[f"{page} [{width} px]"] = violations
    codes = read_codes(site / paths.DEMO_CODES.relative_to(paths.ROOT))
    for kind in ("school", "board"):
        key = sorted(k for k in codes if k[0] == kind)[0]
        browser.load(driver, f"{base}/terugkoppeling/index.html")
        field = driver.find_element(By.ID, "oml-code")
        field.send_keys(display(codes[key]))
        field.send_keys(Keys.ENTER)
        WebDriverWait(driver, 60).until(lambda d: not d.find_elements(By.ID, "oml-form"))
        if violations := browser.axe(driver, AXE_FALSE_POSITIVES):
            found[f"{kind} report {key[1]} (opened) [{width} px]"] = violations
        scroll = driver.execute_script("return [document.scrollingElement.scrollWidth, document.documentElement.clientWidth]")
        assert scroll[0] <= scroll[1], (kind, width, scroll)
    assert not found, "axe-core WCAG 2.2 A/AA violations:\n" + _report(found)
