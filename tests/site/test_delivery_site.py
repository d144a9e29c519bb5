"""A site built from a delivery as it arrives (tests/realistic_extract.py): a folder of yearly SPSS files and a
mapping. It must print the extract's own words, say what it was built from, and say nothing synthetic."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import copy_project, run_oml
from realistic_extract import MAPPING, NOT_ASKED, STATEMENTS, write_delivery

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def delivered_site(tmp_path_factory):
    base = tmp_path_factory.mktemp("delivered")
    root = copy_project(base / "project")
    folder = base / "levering-vertrouwelijk"
    write_delivery(folder)
    (base / "mapping.toml").write_text(MAPPING, encoding="utf-8")
    proc = run_oml(root, "build", "--data", str(folder), "--mapping", str(base / "mapping.toml"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return root, folder, proc.stdout


def _text(root: Path, page: str) -> str:
    html = (root / "_build" / "html" / page).read_text(encoding="utf-8")
    return " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())


def test_the_build_says_what_it_read(delivered_site):
    _, _, out = delivered_site
    assert "from 9 file(s): oml-groep8-2017.sav" in out
    assert "excluded: 1 row(s) by rule duplicate_rows: dubbel geleverde leerling" in out


def test_the_site_prints_the_extract_s_words_and_nothing_synthetic(delivered_site):
    root, _, _ = delivered_site
    methods = _text(root, "book/rapport/methoden.html")
    for _, wording in STATEMENTS.values():
        assert wording in methods
    assert "De juf/meester behandelt mij eerlijk." not in methods  # the project's illustrative wording
    for page in (root / "_build" / "html" / "book").rglob("*.html"):
        text = page.read_text(encoding="utf-8").lower()
        assert "synthetisch" not in text and "{first_year}" not in text, page
    assert json.loads((root / "_build" / "html" / "numbers.json").read_text(encoding="utf-8"))["synthetic"] is False


def test_the_methods_name_the_delivered_files_the_mapping_and_the_exclusions(delivered_site):
    root, folder, _ = delivered_site
    methods = _text(root, "book/rapport/methoden.html")
    assert all(p.name in methods for p in folder.glob("*.sav"))
    assert "mapping.toml" in methods and "dubbel geleverde leerling" in methods and "school of geslacht ontbreekt" in methods


def test_no_private_path_is_published(delivered_site):
    root, folder, _ = delivered_site
    for page in (root / "_build" / "html").rglob("*"):
        if page.is_file() and page.suffix in (".html", ".ipynb", ".json", ".txt", ".js"):
            assert folder.name not in page.read_text(encoding="utf-8", errors="replace"), page
    assert not any((root / "_build").rglob("oml-mapped-*.parquet"))  # no pupil-level copy left behind


def test_a_statement_not_asked_is_shown_as_not_asked(delivered_site):
    root, _, _ = delivered_site
    column, year = NOT_ASKED
    series = _text(root, "book/rapport/langere-reeks.html")
    assert f"is in {year} niet gevraagd" in series
    assert f"In {year} rust de index op 5 van de 6 stellingen" in series


def test_versies_compares_no_synthetic_edition(delivered_site):
    root, _, _ = delivered_site
    versies = _text(root, "book/rapport/versies.html")
    assert "editie 2025" not in versies.lower() and "Er is nog geen editie gepubliceerd" in versies
