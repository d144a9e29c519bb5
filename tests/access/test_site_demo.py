"""The demo in the built site (one full strict build, the ``site`` fixture): the Terugkoppeling page lists the
committed demo codes, and ``_build/html/terugkoppeling/`` holds the encrypted synthetic reports, which open in
a real browser with a listed code and hold no code themselves."""
from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from browser import chromium, serve
from oml import paths
from oml.access.codes import display, read_codes
from oml.access.crypto import locator
from oml.access.publish import TITLE

pytestmark = pytest.mark.slow


def _demo_folder(site):
    folder = site / "_build" / "html" / paths.SITE_REPORTS
    assert (folder / "index.html").exists(), "make book must publish the encrypted demo reports"
    return folder


def test_terugkoppeling_page_lists_every_demo_code_and_links_the_reports(site):
    page = BeautifulSoup((site / "_build" / "html" / "book" / "terugkoppeling.html").read_text(encoding="utf-8"), "html.parser")
    article = page.find("article") or page
    text = article.get_text(" ")
    codes = read_codes(site / paths.DEMO_CODES.relative_to(paths.ROOT))
    for (_kind, id_), code in codes.items():
        assert display(code) in text and id_ in text
    assert "600.000" in text  # rendered from oml.access.crypto.ITERATIONS, Dutch formatting
    hrefs = [a.get("href") for a in article.find_all("a")]
    assert f"../{paths.SITE_REPORTS}/index.html" in hrefs


def test_demo_reports_hold_no_code_and_open_in_the_browser(site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    folder = _demo_folder(site)
    codes = read_codes(site / paths.DEMO_CODES.relative_to(paths.ROOT))
    everything = b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())
    for code in codes.values():
        assert code.encode() not in everything and display(code).encode() not in everything
    school = sorted(k for k in codes if k[0] == "school")[0]
    with serve(site / "_build" / "html") as url, chromium() as driver:
        driver.get(f"{url}/{paths.SITE_REPORTS}/index.html")
        assert driver.find_element(By.CSS_SELECTOR, 'meta[http-equiv="Content-Security-Policy"]')
        field = driver.find_element(By.ID, "oml-code")
        field.send_keys(display(codes[school]))
        field.send_keys(Keys.ENTER)
        WebDriverWait(driver, 60).until(lambda d: not d.find_elements(By.ID, "oml-form"))
        text = driver.find_element(By.TAG_NAME, "body").text
        assert school[1] in text  # the real report, rendered under the page's policy
        assert driver.execute_script("return document.querySelectorAll('main svg').length") > 0
        assert driver.title == TITLE  # the report's own title (the school's name) is never used


def test_demo_reports_of_a_kind_are_one_size(site):
    folder = _demo_folder(site)
    codes = read_codes(site / paths.DEMO_CODES.relative_to(paths.ROOT))
    sizes = {kind: {(folder / f"{locator(code)}.html").stat().st_size for (k, _), code in codes.items() if k == kind
                    and (folder / f"{locator(code)}.html").exists()} for kind in ("school", "board")}
    assert len(sizes["school"]) == 1 and len(sizes["board"]) == 1, sizes
