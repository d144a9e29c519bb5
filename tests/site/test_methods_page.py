"""The methods chapter's checks of the conclusions (issue 24 points 2–4), in a built site.

On the default synthetic data (the shared ``site`` build) and on a dataset where parental education "onbekend"
is a matter of the school (45 % of the schools deliver none) and the weakest schools miss the last year (a
trend made by participation only), so that a figure page must carry the mark of a fragile conclusion.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup

import browser
from conftest import copy_project, run_oml

METHODS = "book/rapport/methoden.html"


def _html(root: Path, page: str) -> BeautifulSoup:
    return BeautifulSoup((root / "_build" / "html" / page).read_text(encoding="utf-8"), "html.parser")


def _text(root: Path, page: str) -> str:
    return " ".join(_html(root, page).get_text(" ").split())


def school_matter_data() -> pd.DataFrame:
    """The default synthetic data (all years), "onbekend" a matter of the school, the weakest schools gone in the last year."""
    from oml.data.synth import generate
    from oml.stats.index import add_index
    from school_matter import unknown_by_school

    out = unknown_by_school(generate())
    last = out["year"].max()
    current = add_index(out[out["year"] >= 2023])
    means = current.groupby("school_id", observed=True)["index"].mean()
    weak = means.index[means <= means.quantile(0.35)]
    return out[~((out["year"] == last) & out["school_id"].isin(weak))].reset_index(drop=True)


def test_default_site_methods_page(site):
    text = _text(site, METHODS)
    assert "Houden de conclusies stand?" in text and "Hangen de conclusies af van de keuze?" in text
    assert "Geen enkele conclusie verandert" in text
    assert "Dekking van de intervallen bij de gepubliceerde conclusies, gesimuleerd vanuit deze gegevens" in text
    soup = _html(site, METHODS)
    for table in ("tab-robuustheid", "tab-gevoeligheid", "tab-dekking-eigen"):
        assert soup.find(id=table) is not None, table
    files = site / "_build" / "html" / "_downloads"
    names = {p.name for p in files.rglob("*.csv")}
    assert {"methoden-robuustheid.csv", "methoden-gevoeligheid.csv", "methoden-dekking-eigen.csv"} <= names
    numbers = {e["key"]: e for e in json.loads((site / "_build" / "html" / "numbers.json").read_text(encoding="utf-8"))["numbers"]}
    assert numbers["methoden/robuustheid_conclusies"]["value"] == 25
    assert numbers["methoden/dekking_eigen_herhalingen"]["value"] == 1000
    for page in ("verschillen-jaar", "verschillen-geslacht", "verschillen-opleiding-ouders", "verschillen-regio"):
        assert not _html(site, f"book/rapport/{page}.html").select(".oml-fragile"), page  # nothing fragile here


@pytest.fixture(scope="module")
def school_site(tmp_path_factory):
    from oml.data.io import save

    base = tmp_path_factory.mktemp("school-onbekend")
    root = copy_project(base / "project")
    path = base / "scholen-onbekend.parquet"
    save(school_matter_data(), path)
    proc = run_oml(root, "build", "--data", str(path))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return root


@pytest.mark.slow
def test_school_matter_site(school_site):
    text = _text(school_site, METHODS)
    assert "veel meer scholen dan toeval" in text  # the "onbekend" section: a matter of the school
    assert "Hangen de conclusies af van de keuze?" in text and "Imputatie" in text
    assert "verandert het oordeel onder ten minste één controle" in text
    year = _html(school_site, "book/rapport/verschillen-jaar.html")
    box = year.select_one(".oml-fragile")
    assert box is not None
    words = " ".join(box.get_text(" ").split())
    assert "trend binnen scholen, met vaste schooleffecten: gelijk gebleven" in words
    link = box.find("a", href=True)
    assert link is not None and "methoden.html#methoden-robuustheid" in link["href"]


@pytest.mark.slow
@pytest.mark.parametrize("width", [375, 1280])
def test_methods_page_on_screen(school_site, width, tmp_path):
    """The methods page at phone and desktop width: no sideways scrolling of the page; a screenshot to look at."""
    browser.require()
    with browser.serve(school_site / "_build" / "html") as url, browser.chromium(width=width, phone=width < 500) as driver:
        browser.load(driver, f"{url}/{METHODS}")
        element = driver.find_element("id", "methoden-robuustheid")
        driver.execute_script("arguments[0].scrollIntoView()", element)
        overflow = driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1
        driver.save_screenshot(str(tmp_path / f"methoden-{width}.png"))
