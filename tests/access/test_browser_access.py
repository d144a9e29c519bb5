"""The feedback reports in a real browser: headless Debian Chromium (tests/browser.py), served on 127.0.0.1.

A reader types a code on the index page; the right code shows the report with its figure and numbers,
a wrong code shows a Dutch message (announced with role="alert") and nothing of any report. The report
files also open on their own.

The hardened page: a Content-Security-Policy under which a report's own script, event handlers and
javascript: links do not run; a generic title that never names the school; Back/Forward (a page restored
from the back/forward cache) shows the code form, not the report; a file claiming 10**9 PBKDF2 iterations,
or with a wrong padding, is refused at once.
"""
from __future__ import annotations

import hashlib
import time

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from browser import chromium, serve
from oml.access.codes import display, new_code, normalise, read_codes
from oml.access.crypto import ITERATIONS, PAD_BLOCK, locator
from oml.access.publish import TITLE, index_page, publish_reports, report_page
from sample_reports import SAMPLES, document, documents, markers

pytestmark = pytest.mark.slow  # starts Chromium and runs 600,000-iteration PBKDF2 in it: > 10 s in all

WRONG_CODE = "2345-6789-ABCD-EFGH-JKMN"  # well-formed, but no report has it
OPEN_TIMEOUT = 30  # seconds: PBKDF2 in the browser takes about a second on the shared 2-core machine
DAMAGED = "Dit rapportbestand is beschadigd of heeft een onbekende vorm en wordt niet geopend."

#: A report that tries to run script in every way a document can: it must show, and none of it may run.
HOSTILE = ("school", "SYN-S0199")
HOSTILE_NAME = "Synthetische basisschool De Inbreker"
HOSTILE_HTML = document("school", HOSTILE[1], HOSTILE_NAME, "0,1234", "Een zin.", [0.1, 0.2, 0.3]).replace(
    "<head>", '<head><meta http-equiv="refresh" content="0;url=elders.html"><base href="https://example.org/">'
              "<script>window.__omlRan = 'head script'; document.title = 'GEKAAPT';</script>"
).replace("<main>", "<main><script>window.__omlRan = 'body script';</script>"
                    '<img id="oml-test-img" alt="" src="data:," onerror="window.__omlRan = \'onerror\'">'
                    '<svg onload="window.__omlRan = \'onload\'" width="1" height="1"></svg>'
                    '<iframe srcdoc="<script>parent.__omlRan = \'iframe\'</script>"></iframe>'
                    '<p><a id="oml-test-link" href="javascript:window.__omlRan = \'link\'">klik</a></p>'
                    '<meta http-equiv="refresh" content="0;url=elders.html"><base href="https://example.org/">')


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    publish_reports({**documents(), HOSTILE: HOSTILE_HTML}, tmp / "private" / "CODES.csv", tmp / "site", synthetic=True)
    (tmp / "site" / "elders.html").write_text('<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8">'
                                              "<title>Elders</title></head><body><p>Een andere pagina.</p></body></html>")
    codes = read_codes(tmp / "private" / "CODES.csv")
    assert WRONG_CODE.replace("-", "") not in codes.values()
    with serve(tmp / "site") as url:
        yield url, codes


@pytest.fixture(scope="module")
def driver():
    with chromium() as d:
        yield d


def _submit(driver, url: str, code: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(url)
    field = driver.find_element(By.ID, "oml-code")
    field.send_keys(code)
    field.send_keys(Keys.ENTER)  # the keyboard alone opens a report


def _wait_report(driver) -> None:
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
    from selenium.webdriver.common.by import By

    WebDriverWait(driver, OPEN_TIMEOUT).until(EC.presence_of_element_located((By.ID, "rapport-id")))


def _wait_error(driver) -> str:
    from selenium.webdriver.support.ui import WebDriverWait
    from selenium.webdriver.common.by import By

    WebDriverWait(driver, OPEN_TIMEOUT).until(lambda d: d.find_element(By.ID, "oml-error").text.strip())
    return driver.find_element(By.ID, "oml-error").text


def _shows_no_report(driver) -> None:
    source = driver.page_source
    for sample in SAMPLES:
        for marker in markers(sample):
            assert marker not in source, f"{marker!r} visible after a wrong code"


@pytest.mark.parametrize("sample", [SAMPLES[0], SAMPLES[3]], ids=["school", "board"])
def test_right_code_opens_the_report_with_figure_and_numbers(driver, published, sample):
    from selenium.webdriver.common.by import By

    url, codes = published
    kind, id_, name, number, sentence, values = sample
    typed = display(codes[(kind, id_)]).lower().replace("-", " ")  # as a reader might type it
    _submit(driver, f"{url}/index.html", typed)
    _wait_report(driver)
    assert driver.find_element(By.ID, "rapport-id").text == id_
    assert driver.find_element(By.ID, "rapport-naam").text == name
    assert number in driver.find_element(By.ID, "kerncijfer").text
    figure = driver.find_element(By.CSS_SELECTOR, "#figuur svg")
    assert figure.is_displayed() and figure.size["width"] > 100
    labels = [t.text for t in driver.find_elements(By.CSS_SELECTOR, "#figuur svg text")]
    assert labels == [str(v).replace(".", ",") for v in values]
    # Only this report: no other report's id, name or number is on the page.
    for other in SAMPLES:
        if other != sample:
            for marker in markers(other)[:4]:
                assert marker not in driver.page_source


def test_wrong_code_gives_a_dutch_message_and_no_number(driver, published):
    from selenium.webdriver.common.by import By

    url, _ = published
    _submit(driver, f"{url}/index.html", WRONG_CODE)
    message = _wait_error(driver)
    assert message == "Deze code opent geen rapport. Controleer de code en probeer het opnieuw."
    assert driver.find_element(By.ID, "oml-error").get_attribute("role") == "alert"
    assert driver.find_element(By.ID, "oml-code").get_attribute("aria-invalid") == "true"
    assert driver.switch_to.active_element == driver.find_element(By.ID, "oml-code")  # focus back to the field
    assert driver.find_elements(By.ID, "rapport-id") == []
    _shows_no_report(driver)


def test_malformed_code_is_explained(driver, published):
    url, _ = published
    _submit(driver, f"{url}/index.html", "ABCD-EFGH-IJKL")  # too short, and I and L are no code symbols
    assert "20 tekens" in _wait_error(driver)
    _shows_no_report(driver)


def test_report_file_opens_on_its_own_and_refuses_another_code(driver, published):
    from selenium.webdriver.common.by import By

    url, codes = published
    kind, id_ = SAMPLES[1][:2]
    page = f"{url}/{locator(codes[(kind, id_)])}.html"
    # Another report's code on this file: the GCM tag fails, the same message, nothing shown.
    _submit(driver, page, display(codes[SAMPLES[2][:2]]))
    assert _wait_error(driver).startswith("Deze code opent geen rapport")
    _shows_no_report(driver)
    _submit(driver, page, display(codes[(kind, id_)]))
    _wait_report(driver)
    assert driver.find_element(By.ID, "rapport-id").text == id_


def test_index_page_is_accessible_by_structure(driver, published):
    from selenium.webdriver.common.by import By

    url, _ = published
    driver.get(f"{url}/index.html")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "nl"
    assert "synthetische" in driver.find_element(By.CLASS_NAME, "oml-synthetic-banner").text
    field = driver.find_element(By.ID, "oml-code")
    label = driver.find_element(By.CSS_SELECTOR, "label[for='oml-code']")
    assert label.text == "Toegangscode"
    assert "oml-error" in field.get_attribute("aria-describedby")
    # Visible focus: from a freshly loaded page, Tab reaches the field first and draws an outline.
    driver.get(f"{url}/index.html")
    field = driver.find_element(By.ID, "oml-code")
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(Keys.TAB).perform()
    assert driver.switch_to.active_element == field
    outline = driver.execute_script("return getComputedStyle(arguments[0]).outlineStyle", field)
    assert outline not in ("none", "")


# ---------------------------------------------------------------------------------------------- the hardened page

def _csp(driver) -> str:
    from selenium.webdriver.common.by import By

    metas = driver.find_elements(By.CSS_SELECTOR, 'meta[http-equiv="Content-Security-Policy"]')
    assert len(metas) == 1, "no Content-Security-Policy on the page"
    return metas[0].get_attribute("content")


def test_every_page_has_the_csp_and_a_generic_title(driver, published):
    url, codes = published
    for page in ("index.html", f"{locator(codes[SAMPLES[0][:2]])}.html"):
        driver.get(f"{url}/{page}")
        policy = _csp(driver)
        assert policy.startswith("default-src 'none'; script-src 'sha256-") and "connect-src 'self'" in policy
        assert driver.title == TITLE
        # The page's own script runs under it (the form works): a malformed code is explained.
        _submit(driver, f"{url}/{page}", "ABCD")
        assert "20 tekens" in _wait_error(driver)


def test_a_report_runs_no_script_and_never_names_the_school_in_the_title(driver, published):
    from selenium.webdriver.common.by import By

    url, codes = published
    _submit(driver, f"{url}/index.html", display(codes[HOSTILE]))
    _wait_report(driver)
    assert driver.find_element(By.ID, "rapport-naam").text == HOSTILE_NAME  # the report is shown ...
    assert driver.find_element(By.CSS_SELECTOR, "#figuur svg").is_displayed()
    driver.find_element(By.ID, "oml-test-link").click()  # ... a javascript: link does nothing ...
    time.sleep(0.5)  # room for any handler, refresh or frame to fire
    assert driver.execute_script("return window.__omlRan") is None  # ... and none of its scripts ran
    # A script added to the page now (as an injected report could try) is refused by the policy as well.
    driver.execute_script("const s = document.createElement('script'); s.textContent = 'window.__omlRan = \\'late\\'';"
                          "document.body.appendChild(s);")
    assert driver.execute_script("return window.__omlRan") is None
    assert driver.title == TITLE and HOSTILE_NAME not in driver.title
    assert driver.current_url == f"{url}/index.html"  # no refresh to elsewhere, no <base> taken over
    assert _csp(driver).startswith("default-src 'none'")  # the report's head did not replace the policy
    assert "Content Security Policy" in " ".join(e["message"] for e in driver.get_log("browser"))


def test_back_and_forward_show_the_code_form_not_the_report(driver, published):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, codes = published
    kind, id_, name = SAMPLES[0][:3]
    _submit(driver, f"{url}/index.html", display(codes[(kind, id_)]))
    assert driver.title == TITLE
    _wait_report(driver)
    assert driver.title == TITLE and name not in driver.title
    driver.execute_script("window.__omlSamePage = true")  # survives only if the page comes from the bfcache
    driver.get(f"{url}/elders.html")
    for step in (driver.back, driver.forward, driver.back):
        step()
        WebDriverWait(driver, OPEN_TIMEOUT).until(lambda d: d.execute_script("return document.readyState") == "complete")
        if driver.current_url.endswith("/elders.html"):
            assert driver.title == "Elders"
            continue
        # Restored from the back/forward cache: the same page object, wiped on pagehide to the code form.
        assert driver.execute_script("return window.__omlSamePage") is True, "the page was not kept in the bfcache"
        assert driver.find_elements(By.ID, "oml-form") and not driver.find_elements(By.ID, "rapport-id")
        assert driver.find_element(By.ID, "oml-code").get_attribute("value") == ""
        assert driver.title == TITLE
        for marker in markers(SAMPLES[0]):
            assert marker not in driver.page_source
    # The restored form still opens a report.
    field = driver.find_element(By.ID, "oml-code")
    field.send_keys(display(codes[(kind, id_)]))
    from selenium.webdriver.common.keys import Keys

    field.send_keys(Keys.ENTER)
    _wait_report(driver)
    assert driver.find_element(By.ID, "rapport-id").text == id_ and driver.title == TITLE


def _forged_page(code: str, blob_header_iterations: int = ITERATIONS, plaintext: bytes | None = None) -> str:
    """A report page whose blob is built by hand for ``code``: any iteration count in the header, any padding."""
    salt = bytes(range(16))
    header = b"OMLR\x01" + blob_header_iterations.to_bytes(4, "big") + salt
    key = hashlib.pbkdf2_hmac("sha256", normalise(code).encode(), salt, ITERATIONS, dklen=32)
    nonce = bytes(12)
    plain = plaintext if plaintext is not None else b"<p>x</p>\x80" + bytes(PAD_BLOCK - 9)
    return report_page(header + nonce + AESGCM(key).encrypt(nonce, plain, header), synthetic=True)


@pytest.mark.parametrize("case", ["10**9 iterations", "2**32-1 iterations", "no padding marker", "not a 16 KiB multiple"])
def test_a_hostile_or_damaged_file_is_refused_at_once(driver, tmp_path, case):
    code = display(new_code())
    page = {
        "10**9 iterations": lambda: _forged_page(code, 10**9),
        "2**32-1 iterations": lambda: _forged_page(code, 2**32 - 1),
        "no padding marker": lambda: _forged_page(code, plaintext=b"<p>x</p>" + bytes(PAD_BLOCK - 8)),
        "not a 16 KiB multiple": lambda: _forged_page(code, plaintext=b"<p>x</p>\x80"),
    }[case]()
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(index_page(synthetic=True), encoding="utf-8")
    (site / f"{locator(code)}.html").write_text(page, encoding="utf-8")
    with serve(site) as base:
        for opened in ("index.html", f"{locator(code)}.html"):  # found by the code, and opened on its own
            started = time.perf_counter()
            _submit(driver, f"{base}/{opened}", code)
            assert _wait_error(driver) == DAMAGED
            if "iterations" in case:  # refused before deriving: 10**9 iterations would take minutes
                assert time.perf_counter() - started < 10
            _shows_no_report(driver)
