"""The feedback reports in a real browser: headless Debian Chromium (tests/browser.py), served on 127.0.0.1.

A reader types a code on the index page; the right code shows the report with its figure and numbers,
a wrong code shows a Dutch message (announced with role="alert") and nothing of any report. The report
files also open on their own.
"""
from __future__ import annotations

import pytest

from browser import chromium, serve
from oml.access.codes import display, read_codes
from oml.access.crypto import locator
from oml.access.publish import publish_reports
from sample_reports import SAMPLES, documents, markers

pytestmark = pytest.mark.slow  # starts Chromium and runs 600,000-iteration PBKDF2 in it: > 10 s in all

WRONG_CODE = "2345-6789-ABCD-EFGH-JKMN"  # well-formed, but no report has it
OPEN_TIMEOUT = 30  # seconds: PBKDF2 in the browser takes about a second on the shared 2-core machine


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    publish_reports(documents(), tmp / "private" / "CODES.csv", tmp / "site", synthetic=True)
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
