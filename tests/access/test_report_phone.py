"""The feedback reports on a phone and on a desktop, in real Chromium (tests/browser.py), opened with their code.

Real reports (``oml.report.unit_report.report_html``) of a small, a middle and a large school and of a board are
encrypted, served on 127.0.0.1 and opened on the code page as a reader does, at 375 px (chromedriver's phone
emulation: a mobile viewport and touch) and at 1280 px. In the page (under its Content-Security-Policy, with the
report's own CSS moved in):

* the page never scrolls sideways: ``scrollWidth`` of the document is at most the window's width;
* no text of a figure is drawn smaller than 11 CSS px: each SVG ``<text>``'s font size times its scale on the
  screen (``getScreenCTM``); and none lies outside its figure (cut off);
* every Limburg column of every table is on the screen or reachable: inside a box that scrolls sideways by
  itself, and on the screen once that box is scrolled; on a phone the wide answers table says so in a line;
* the first paragraph comes right after the title.

Where Chromium is missing, every test here is skipped with a ``NOT RUN`` reason.
"""
from __future__ import annotations

import pytest

from browser import chromium, serve
from oml.access.codes import display, read_codes
from oml.access.publish import publish_reports
from oml.report import unit_report as fr
from oml.report.plotting import set_theme

pytestmark = pytest.mark.slow  # Chromium and a 600,000-iteration PBKDF2 per report opened

OPEN_TIMEOUT = 60  # seconds: PBKDF2 in the browser on a busy 2-core machine
MIN_TEXT_PX = 11

# Smallest rendered size of the figures' text, in CSS px: font size times the SVG's scale on the screen.
SMALLEST_SVG_TEXT = """
let smallest = Infinity, count = 0;
for (const t of document.querySelectorAll('main svg text')) {
  const m = t.getScreenCTM(); if (!m) continue;
  const size = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
  if (t.getBoundingClientRect().width > 0) { smallest = Math.min(smallest, size); count++; }
}
return [smallest, count];
"""
# Figure text drawn outside its figure (cut off on the screen): [text, px outside].
CUT_SVG_TEXT = """
const out = [];
for (const svg of document.querySelectorAll('main svg')) {
  const box = svg.getBoundingClientRect();
  for (const t of svg.querySelectorAll('text')) {
    const r = t.getBoundingClientRect();
    const outside = Math.max(box.left - r.left, r.right - box.right, box.top - r.top, r.bottom - box.bottom);
    if (r.width > 0 && outside > 1) out.push([t.textContent, outside]);
  }
}
return out;
"""
# Every table header naming Limburg: [text, on screen as laid out, reachable by scrolling its own box].
LIMBURG_COLUMNS = """
const out = [];
for (const th of document.querySelectorAll('main table thead th')) {
  if (!th.textContent.includes('Limburg')) continue;
  const onScreen = () => { const r = th.getBoundingClientRect(); return r.left >= -1 && r.right <= innerWidth + 1 && r.width > 0; };
  const box = th.closest('.oml-scroll');
  let reachable = onScreen();
  if (!reachable && box && getComputedStyle(box).overflowX === 'auto' && box.scrollWidth > box.clientWidth) {
    th.scrollIntoView({block: 'nearest', inline: 'nearest'});
    reachable = onScreen() && document.documentElement.scrollLeft === 0;
    box.scrollLeft = 0;
  }
  out.push([th.textContent, onScreen(), reachable]);
}
return out;
"""


def _units(frame) -> list[tuple[str, str]]:
    counts = frame[frame["index"].notna()].groupby("school_id", observed=True).size()
    shown = counts[counts >= 30].sort_values()  # schools whose years are shown
    schools = [shown.index[0], shown.index[len(shown) // 2], shown.index[-1]]
    boards = frame.drop_duplicates("school_id").groupby("board_id", observed=True).size()
    return [("school", str(s)) for s in schools] + [("board", str(boards.idxmax()))]


@pytest.fixture(scope="module")
def published(small_frame, tmp_path_factory):
    set_theme()
    tmp = tmp_path_factory.mktemp("phone")
    units = _units(small_frame)
    # The middle school's last year lifted: its figure then marks a significant difference (the longest legend).
    data = small_frame.copy()
    data.loc[(data["school_id"] == units[1][1]) & (data["year"] == data["year"].max()), "index"] += 1.0
    docs = {(kind, unit): fr.report_html(data, kind, unit, synthetic=True) for kind, unit in units}
    assert "* significant verschil" in docs[units[1]]
    publish_reports(docs, tmp / "private" / "CODES.csv", tmp / "site", synthetic=True)
    codes = read_codes(tmp / "private" / "CODES.csv")
    with serve(tmp / "site") as url:
        yield url, codes, units


def _open(driver, url: str, code: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{url}/index.html")
    field = driver.find_element(By.ID, "oml-code")
    field.send_keys(display(code))
    field.send_keys(Keys.ENTER)
    WebDriverWait(driver, OPEN_TIMEOUT).until(lambda d: d.find_elements(By.CSS_SELECTOR, "main.oml-feedback"))
    driver.execute_script("return document.fonts.ready")


@pytest.mark.parametrize("phone, width", [(True, 375), (False, 1280)], ids=["phone-375", "desktop-1280"])
def test_reports_read_on_a_phone_and_a_desktop(published, phone, width):
    url, codes, units = published
    with chromium(width=width, height=900, phone=phone) as driver:
        for kind, unit in units:
            _open(driver, url, codes[(kind, unit)])
            where = f"{kind} {unit} at {width} px"
            assert driver.execute_script("return innerWidth") == width, where  # the page's own viewport, as laid out
            overflow = driver.execute_script("return document.documentElement.scrollWidth - innerWidth")
            assert overflow <= 0, f"{where}: the page scrolls sideways by {overflow} px"
            smallest, count = driver.execute_script(SMALLEST_SVG_TEXT)
            assert count > 10, f"{where}: no figure text found"
            assert smallest >= MIN_TEXT_PX, f"{where}: figure text drawn at {smallest:.1f} px"
            assert driver.execute_script(CUT_SVG_TEXT) == [], f"{where}: figure text cut off"
            columns = driver.execute_script(LIMBURG_COLUMNS)
            assert columns, f"{where}: no Limburg column"
            for text, _on_screen, reachable in columns:
                assert reachable, f"{where}: the column {text!r} can neither be seen nor scrolled to"
            first = driver.execute_script(
                "const h = document.querySelector('main header'); return h.nextElementSibling.className")
            assert first == "oml-message", where
            swipe = driver.execute_script(
                "const s = document.querySelector('.oml-swipe'); return s ? getComputedStyle(s).display : null")
            assert swipe == ("block" if phone else "none"), where
