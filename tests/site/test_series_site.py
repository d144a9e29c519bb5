"""The long series in the built site, and a site built from an extract as it comes (SPSS + mapping).

``factsheet-numbers.json`` holds every ``numbers.json`` entry of the site built from commit
1cef6de, before the earlier years existed (default synthetic data, 2023–2025 only), but three: the
largest non-significant change of Figures 3–5, which the chapters no longer name when it is of
"nauwelijks" size (issue 23; commit 2bb0e26). The three numbers recorded after it on Figure 5's page
keep their texts and values; their keys count one fewer (``difference-0`` for ``difference-1``: a page
numbers its recorded values in order). The default data now carry 2017–2022 as well; the factsheet
pages must not change by one digit.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from conftest import copy_project, run_oml
from oml.site.editions.compare import same_number

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
PAGE = "book/rapport/langere-reeks.html"


def _soup(root: Path, page: str) -> BeautifulSoup:
    return BeautifulSoup((root / "_build" / "html" / page).read_text(encoding="utf-8"), "html.parser")


def test_factsheet_numbers_unchanged_by_the_earlier_years(site):
    # Reference: numbers.json of the site built at commit 1cef6de (tests/site/factsheet-numbers.json).
    before = {e["key"]: e for e in json.loads((HERE / "factsheet-numbers.json").read_text(encoding="utf-8"))}
    now = {e["key"]: e for e in json.loads((site / "_build" / "html" / "numbers.json").read_text(encoding="utf-8"))["numbers"]}
    assert [k for k in before if k not in now] == []
    # The same published number: the same text, and a value within a relative 1e-9. The reference was
    # built on another machine, and floating-point results differ in their last digits between CPUs.
    changed = [k for k in before if not same_number((before[k]["value"], before[k]["text"]), (now[k]["value"], now[k]["text"]))
               or now[k]["page"] != before[k]["page"]]
    assert changed == []
    # On the pages that existed then, only the methods chapter gains numbers (the two scales).
    old_pages = {e["page"] for e in before.values()}
    grown = {now[k]["page"] for k in now if k not in before and now[k]["page"] in old_pages}
    assert grown <= {"book/rapport/methoden.html"}
    assert any(now[k]["page"] == PAGE for k in now)


def test_series_chapter_title_and_years_come_from_the_data(site, default_frame):
    from oml.data.synth import generate

    years = generate()["year"]
    h1 = _soup(site, PAGE).find("h1").get_text()
    assert f"Langere reeks {years.min()}–{years.max()}" in h1
    nav = [a.get_text(strip=True) for a in _soup(site, "book/intro.html").select("nav.bd-links a")]
    assert nav.index(h1.strip("#").strip()) == nav.index("Methoden en gegevens") - 1


def test_series_figures_show_and_explain_the_break(site):
    page = _soup(site, PAGE)
    figures = page.find_all("figure")
    assert len(figures) == 2
    for fig in figures:
        assert "nieuwe antwoordschaal" in fig.find("figcaption").get_text()
        assert "nieuwe antwoordschaal" in fig.find("img")["alt"]
    text = " ".join(page.get_text(" ").split())
    assert "Tussen 2022 en 2023 veranderde de antwoordschaal" in text
    assert "tussen 2017 en 2022" in text and "tussen 2023 en 2025" in text


def test_series_tests_csv_never_crosses_the_break(site):
    from oml.data.scales import period_of

    csv = next((site / "_build" / "html" / "_downloads").rglob("langere-reeks-toetsen.csv"))
    tests = pd.read_csv(csv)
    assert (period_of(tests["year_a"].to_numpy()) == period_of(tests["year_b"].to_numpy())).all()


# --------------------------------------------------------------------------- an extract as it comes
def _write_oml_style_sav(path: Path) -> None:
    """Synthetic pupils written the way an OML SPSS extract looks: Dutch names, numeric codes,
    value labels, and a reverse-worded statement (the mirror of 'gemak' on each year's scale)."""
    import pyreadstat
    import tomllib

    from oml.data.scales import periods
    from oml.data.synth import generate
    from oml.paths import ROOT

    cfg = tomllib.loads((ROOT / "examples" / "oml-extract-mapping.toml").read_text(encoding="utf-8"))
    frame = generate(n=2500, seed=21)
    # Real ids: no synthetic prefix, so the site is built as a real report (no banner).
    frame["pupil_id"] = [f"L{i:06d}" for i in range(len(frame))]
    frame["school_id"] = frame["school_id"].str.replace("SYN-", "BRIN", regex=False)
    mirror = pd.Series(np.nan, index=frame.index)
    for scale, part in periods(frame):
        mirror.loc[part.index] = scale.lowest + scale.highest - part["item_gemak"].astype("float64")
    frame["item_afstand"] = mirror
    to_extract = {dst: src for src, dst in cfg["columns"].items()}
    out = frame.rename(columns=to_extract)
    labels = {}
    for column, table in cfg["recode"].items():
        codes = {value: float(k) for k, value in table.items()}
        out[to_extract[column]] = frame[column].astype(object).map(codes).astype("float64")
        labels[to_extract[column]] = {float(k): v.capitalize() for k, v in table.items()}
    for c in ["meetjaar", *cfg["scale"]["items"]]:
        out[c] = out[c].astype("float64")
    for c in ("leerlingnummer", "brin_vestiging"):
        out[c] = out[c].astype(str)
    pyreadstat.write_sav(out, str(path), variable_value_labels=labels)


def test_site_builds_from_an_spss_extract_with_the_mapping(tmp_path):
    root = copy_project(tmp_path / "project")
    extract = tmp_path / "oml-extract.sav"
    _write_oml_style_sav(extract)
    mapping = root / "examples" / "oml-extract-mapping.toml"
    refused = run_oml(root, "build", "--data", str(extract))
    assert refused.returncode != 0 and "required column is missing" in refused.stderr
    proc = run_oml(root, "build", "--data", str(extract), "--mapping", str(mapping))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # The pupil-level canonical copy of the extract never stays in the project.
    assert not any((root / "_build").rglob("oml-mapped-*.parquet"))
    manifest = json.loads((root / "_build" / "html" / "numbers.json").read_text(encoding="utf-8"))
    assert manifest["synthetic"] is False
    # The codebook carries the reverse mark from the mapping.
    codebook = _soup(root, "book/rapport/methoden.html").find("table", id="tab-codeboek")
    rows = {tr.find_all("td")[0].get_text(strip=True): tr.find_all("td")[-1].get_text(strip=True)
            for tr in codebook.find_all("tr")[1:]}
    assert rows["item_afstand"] == "ja" and rows["item_gemak"] == "nee"
    # Reverse-coded, the mirror item agrees with the others: alpha stays high in both periods.
    alphas = [e["value"] for e in manifest["numbers"] if e["key"].startswith("langere-reeks/alfa/") and e["key"].endswith("/alpha")]
    assert len(alphas) == 2 and min(alphas) > 0.85
    assert "Langere reeks 2017–2025" in _soup(root, PAGE).find("h1").get_text()
