"""Light pages, measured in real Chromium (tests/browser.py): what every page loads, how soon a phone on a slow
network shows its text, and that nothing is fetched from another host.

* Every page in the site's reading order (the theme's "next" links, as the PDF edition reads them) loads at most
  300 kB in all: the document and every resource, uncompressed (Resource Timing's body sizes; images fetched
  as if the reader scrolled to the end).
* A typical text page shows its first text (first contentful paint) within 1,5 s on slow 4G (1,6 Mbit/s down,
  150 ms round trip; DevTools network emulation, empty cache).
* No icon font and no Font Awesome script: no page loads a font file or names a Font Awesome class, and no icon
  drawn in CSS asks for Font Awesome's font. The search index is loaded on the search page only, and a search
  from the search box finds pages.
* Every page requests nothing from another host, and nothing it asks for is missing (a favicon, no 404).
* Every page has a favicon, a Dutch description and Open Graph tags for a link preview.

Where Chromium is missing, the browser tests here are skipped with a ``NOT RUN`` reason.
"""
from __future__ import annotations

import re
import statistics
from urllib.parse import urlsplit

import pytest

import browser

pytestmark = pytest.mark.slow

MAX_PAGE_BYTES, MAX_FIRST_TEXT_MS, TEXT_PAGE = browser.MAX_PAGE_BYTES, browser.MAX_FIRST_TEXT_MS, browser.TEXT_PAGE


def _reading_order(html) -> list[str]:
    from oml.site.pdf import reading_order

    return [p.relative_to(html.resolve()).as_posix() for p in reading_order(html.resolve())]


@pytest.fixture(scope="module")
def weighed(site):
    """(driver with a network log, base URL, site folder); skips (NOT RUN) when Chromium is missing."""
    reason = browser.missing()
    if reason:
        pytest.skip(reason)
    html = site / "_build" / "html"
    with browser.serve(html) as base, browser.chromium(1280, 900, network_log=True) as driver:
        yield driver, base, html


def test_every_page_in_reading_order_weighs_at_most_300_kb(weighed):
    driver, base, html = weighed
    pages = _reading_order(html)
    assert len(pages) >= 20 and pages[0] == "book/rapport/start.html", pages  # the root: the start page
    heavy, fonts, totals = [], [], {}
    for page in pages:
        items = browser.page_weight(driver, f"{base}/{page}")
        assert items[0]["type"] == "document" and items[0]["bytes"] > 1000, (page, items[0])
        total = sum(item["bytes"] for item in items)
        totals[page] = total
        if total > MAX_PAGE_BYTES:
            largest = sorted(items, key=lambda i: -i["bytes"])[:6]
            heavy.append(f"{page}: {total / 1000:.0f} kB — " + ", ".join(
                f"{urlsplit(i['url']).path.rsplit('/', 1)[-1]} {i['bytes'] / 1000:.0f} kB" for i in largest))
        fonts += [f"{page}: {i['url']}" for i in items if re.search(r"\.(woff2?|ttf|otf|eot)(\?|$)", i["url"])]
        loaded = " ".join(i["url"] for i in items)
        assert "searchindex.js" not in loaded and "fontawesome" not in loaded and "bootstrap.js" not in loaded, (page, loaded)
    assert not heavy, f"pages over {MAX_PAGE_BYTES / 1000:.0f} kB:\n" + "\n".join(heavy)
    assert not fonts, "pages load a font file (an icon font?):\n" + "\n".join(fonts)
    print("page weight (kB):", {p: round(t / 1000) for p, t in totals.items()})


def test_first_text_within_1_5_s_on_slow_4g(weighed):
    driver, base, _ = weighed
    times = [browser.first_text_ms(driver, f"{base}/{TEXT_PAGE}") for _ in range(3)]
    first_text = statistics.median(times)
    assert first_text <= MAX_FIRST_TEXT_MS, f"{TEXT_PAGE}: first text after {first_text:.0f} ms on slow 4G ({times})"


def test_no_request_to_another_host_and_none_missing(weighed):
    driver, base, html = weighed
    host = urlsplit(base).netloc
    pages = [*browser.html_pages(html), "search.html?q=leraar"]
    browser.requests(driver)  # forget what the browser did before
    outside, missing = [], []
    for page in pages:
        browser.load(driver, f"{base}/{page}")
        for request in browser.requests(driver):
            url = urlsplit(request["url"])
            if url.scheme in ("data", "blob", "about", "chrome"):  # inline data, and the browser's own pages
                continue
            if url.netloc != host:
                outside.append(f"{page}: {request['url']}")
            elif request["status"] is not None and request["status"] >= 400:
                missing.append(f"{page}: {request['url']} ({request['status']})")
    assert not outside, "requests to other hosts:\n" + "\n".join(outside)
    assert not missing, "requests that failed:\n" + "\n".join(missing)


def test_search_loads_its_index_only_when_the_reader_searches(weighed):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    driver, base, _ = weighed
    browser.load(driver, f"{base}/{TEXT_PAGE}")
    browser.requests(driver)
    driver.find_element(By.CSS_SELECTOR, ".bd-sidebar-primary .search-button-field").click()
    field = WebDriverWait(driver, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, "#pst-search-dialog input[name=q]"))
    assert field == driver.switch_to.active_element, "the search box does not get the focus"
    field.send_keys("leraar", Keys.ENTER)
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results li a"))
    assert urlsplit(driver.current_url).path == "/search.html"
    assert any(r["url"].split("?")[0].endswith("/searchindex.js") for r in browser.requests(driver))


def test_no_icon_font(site, weighed):
    html = site / "_build" / "html"
    for name in ("_static/scripts/fontawesome.js", "_static/vendor/fontawesome", "_static/scripts/bootstrap.js"):
        assert not (html / name).exists(), f"{name} is still in the site"
    for page in browser.html_pages(html):
        text = (html / page).read_text(encoding="utf-8")
        assert not re.search(r'class="[^"]*\bfa[srb]?-', text), f"{page}: a Font Awesome icon class is left"
        assert "fontawesome" not in text.lower(), page
    # The icons the theme draws in CSS (download links, an admonition's title …) do not ask for Font Awesome's font.
    driver, base, _ = weighed
    for page in ("book/rapport/algemeen-beeld.html", "book/rapport/versies.html", "book/intro.html"):
        browser.load(driver, f"{base}/{page}")
        found = driver.execute_script(r"""
            const out = [];
            for (const e of document.querySelectorAll('*')) for (const pseudo of ['::before', '::after']) {
              const s = getComputedStyle(e, pseudo);
              if (s.content !== 'none' && s.content !== 'normal' && /awesome/i.test(s.fontFamily))
                out.push(e.tagName + '.' + e.className + pseudo);
            }
            return out;""")
        assert not found, f"{page}: CSS icons drawn with Font Awesome's font: {found[:5]}"


def test_every_page_has_a_favicon_a_description_and_open_graph_tags(site):
    from bs4 import BeautifulSoup

    html = site / "_build" / "html"
    for page in browser.html_pages(html):
        doc = BeautifulSoup((html / page).read_text(encoding="utf-8"), "html.parser")
        icon = doc.find("link", rel="icon")
        assert icon and (html / page).parent.joinpath(icon["href"]).resolve().is_file(), f"{page}: no favicon"
        title = re.split(r" [—-] ", doc.title.get_text())[0].strip()
        meta = {m.get("name") or m.get("property"): m.get("content", "") for m in doc.find_all("meta")}
        description = meta.get("description", "")
        assert 50 <= len(description) and "leerlingen" in description, f"{page}: description {description!r}"
        if page != "book/rapport/start.html":  # the home page is described by the site's own title
            assert description.startswith(title), f"{page}: description {description!r} lacks {title!r}"
            assert meta.get("og:title", "").startswith(title), (page, meta.get("og:title"))
        assert meta.get("og:title", "").endswith(meta.get("og:site_name") or "?"), (page, meta.get("og:title"))
        assert meta.get("og:description") == description, page
        assert meta.get("og:type") in ("website", "article") and meta.get("og:locale") == "nl_NL", page


def test_make_bench_reports_page_weight_and_first_text(site):
    # bench/page_weight.py is what `make bench` reports; run here so that it cannot rot.
    import subprocess
    import sys

    reason = browser.missing()
    if reason:
        pytest.skip(reason)
    proc = subprocess.run([sys.executable, str(browser.REPO / "bench" / "page_weight.py"), str(site)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"heaviest \S+ \d+ kB \(limit 300 kB\) over \d+ pages; first text of \S+ on slow 4G \d+ ms",
                     proc.stdout), proc.stdout
