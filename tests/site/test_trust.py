"""Trust: bad input never harms, disclosure control, no pupil-level data, reproducible builds.

Builds run the real CLI in throw-away copies of the project (see ``conftest.py``).
"""
from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from conftest import copy_project, run_oml, tree_digest
from oml.data.io import save
from oml.data.synth import generate

pytestmark = pytest.mark.slow


# ----------------------------------------------------------------------------- bad input
def _csv_with(tmp_path, name, edit):
    frame = generate(n=300, seed=11, history=False)
    raw = frame.astype(object).astype(str)
    raw = raw.replace({"<NA>": ""})
    edit(raw)
    path = tmp_path / name
    raw.to_csv(path, index=False)
    return path


BAD_INPUTS = {
    "non-existent path": (lambda tmp: tmp / "nope.csv", r"file does not exist"),
    "empty file": (lambda tmp: (tmp / "empty.csv").write_text("") and None or tmp / "empty.csv", r"the file is empty"),
    "header only": (lambda tmp: (tmp / "header.csv").write_text("pupil_id,school_id,year,sex,age,parent_education,region,item_a,item_b\n") and tmp / "header.csv",
                    r"no data rows"),
    "binary garbage": (lambda tmp: (tmp / "garbage.parquet").write_bytes(bytes(range(256)) * 40) and tmp / "garbage.parquet",
                       r"cannot be read as Parquet"),
    "wrong extension": (lambda tmp: (tmp / "data.xlsx").write_text("a,b\n1,2\n") and tmp / "data.xlsx", r"unsupported file type '\.xlsx'"),
    "unknown category": (lambda tmp: _csv_with(tmp, "cat.csv", lambda r: r.__setitem__("region", r["region"].where(r.index != 4, "Venlo"))),
                         r"column 'region': must be one of .*'Venlo': 1 row \(rows 5\)"),
    "out-of-range answer": (lambda tmp: _csv_with(tmp, "range.csv", lambda r: r.__setitem__("item_gemak", r["item_gemak"].where(r.index > 2, "7"))),
                            r"column 'item_gemak': must lie between 1 and 5 \(the 5-point scale of 2023 onwards\): 3 rows \(rows 1, 2, 3\)"),
    "duplicate ids": (lambda tmp: _csv_with(tmp, "dup.csv", lambda r: r.__setitem__("pupil_id", r["pupil_id"].where(r.index != 9, r["pupil_id"][8]))),
                      r"column 'pupil_id': must be unique .*2 rows \(rows 9, 10\)"),
    "wrong type": (lambda tmp: _csv_with(tmp, "type.csv", lambda r: r.__setitem__("year", r["year"].where(r.index != 0, "twee"))),
                   r"column 'year': must be a number \(found text\): 1 row \(rows 1\)"),
    "implausible age": (lambda tmp: _csv_with(tmp, "age.csv", lambda r: r.__setitem__("age", r["age"].where(r.index != 6, "41"))),
                        r"column 'age': must lie between 10 and 15: 1 row \(rows 7\)"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_refused_and_the_site_stays_byte_identical(site_copy, tmp_path, case):
    site = site_copy
    make, message = BAD_INPUTS[case]
    path = make(tmp_path)
    before = tree_digest(site / "_build" / "html")
    for command in (["validate", str(path)], ["build", "--data", str(path)]):
        proc = run_oml(site, *command)
        assert proc.returncode != 0
        assert "Traceback" not in proc.stderr + proc.stdout
        assert re.search(message, proc.stderr), proc.stderr
    assert tree_digest(site / "_build" / "html") == before


def _broken_build_leaves_previous_site(site, path, edit, expected: list[str], args: tuple = ()) -> None:
    """Break one source file of ``site`` (a private copy), build, expect a clean failure naming ``expected``;
    the site must not change."""
    before = tree_digest(site / "_build" / "html")
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    proc = run_oml(site, "build", *args)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert all(word in proc.stderr for word in expected), proc.stderr
    assert tree_digest(site / "_build" / "html") == before


def test_failed_notebook_leaves_previous_site(site_copy):
    site = site_copy
    _broken_build_leaves_previous_site(
        site, site / "notebooks" / "resultaten.ipynb",
        lambda text: text.replace("results = breakdowns(", "raise RuntimeError('stop here')\\nresults = breakdowns("),
        ["resultaten", "stop here"])


def test_hung_notebook_is_stopped_and_leaves_previous_site(site_copy):
    site = site_copy
    _broken_build_leaves_previous_site(
        site, site / "notebooks" / "resultaten.ipynb",
        lambda text: text.replace("results = breakdowns(", "import time; time.sleep(300)\\nresults = breakdowns("),
        ["resultaten", "did not finish within the time limit of 3 s"], ("--timeout", "3"))


def test_sphinx_warning_fails_and_leaves_previous_site(site_copy):
    site = site_copy
    _broken_build_leaves_previous_site(
        site, site / "book" / "aanbevelingen.md", lambda text: text + "\nZie {numref}`fig-bestaat-niet`.\n",
        ["fig-bestaat-niet"])


def test_build_recovers_from_a_swap_interrupted_between_renames(site_copy):
    site = site_copy
    html, old = site / "_build" / "html", site / "_build" / "html.old"
    before = tree_digest(html)
    html.rename(old)  # what a crash between the two renames of the swap leaves behind
    proc = run_oml(site, "build")
    assert proc.returncode == 0, proc.stderr
    assert (html / "index.html").exists() and not old.exists()
    assert tree_digest(html).keys() == before.keys()


def test_change_to_the_site_extension_rebuilds_every_page(site_copy):
    site = site_copy
    ext = site / "book" / "_ext" / "oml_site.py"
    ext.write_text(ext.read_text(encoding="utf-8").replace("(nagemaakte) gegevens", "(nagemaakte, test) gegevens"),
                   encoding="utf-8")
    proc = run_oml(site, "build")
    assert proc.returncode == 0, proc.stderr
    for page in ("book/intro.html", "book/bronnen.html", "book/rapport/methoden.html"):
        assert "(nagemaakte, test) gegevens" in (site / "_build" / "html" / page).read_text(encoding="utf-8")


def test_noop_rebuild_reuses_every_notebook(site_copy):
    site = site_copy
    proc = run_oml(site, "build")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"notebooks: 0 executed, \d+ cached", proc.stdout), proc.stdout


# ----------------------------------------------------------------------------- no pupil-level data
def test_no_pupil_level_data_in_the_site(site, default_frame):
    out = site / "_build" / "html"
    ids = set(default_frame["pupil_id"].sample(200, random_state=1))
    for path in out.rglob("*"):
        if not path.is_file() or path.suffix in (".png", ".woff", ".woff2", ".ttf", ".eot", ".ico"):
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        # The column name may be documented (methods: data contract), but no pupil id appears anywhere, and
        # no school id either — except on the Terugkoppeling page, which lists the synthetic demo schools
        # with their demo codes (aggregate reports, encrypted; no pupil data).
        assert not re.search(r"SYN-\d{4,}", text), path
        if path.name != "terugkoppeling.html":
            assert not re.search(r"SYN-S\d{4,}", text), path
        assert not any(i in text for i in ids), path
        if path.suffix == ".csv":
            # An aggregate table, never a row per pupil, never an id column.
            csv = pd.read_csv(path)
            assert "pupil_id" not in csv.columns and "school_id" not in csv.columns, path
            assert len(csv) < 500, path
    for page in out.rglob("*.html"):
        if page.name == "terugkoppeling.html":  # the list of demo codes: one row per synthetic school and board
            continue
        for table in BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").find_all("table"):
            assert len(table.find_all("tr")) < 60, page


def test_executed_notebooks_show_no_data_rows(site):
    for nb in (site / "book" / "rapport").glob("*.ipynb"):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            for output in cell.get("outputs", []):
                html = "".join(output.get("data", {}).get("text/html", ""))
                assert "dataframe" not in html, nb  # no DataFrame is displayed, let alone pupil rows


# ----------------------------------------------------------------------------- reproducible
def test_two_clean_builds_are_byte_identical(site, tmp_path):
    other = copy_project(tmp_path / "again")
    # The published pages, figures, CSVs and notebooks; the encrypted reports' determinism is tested with them
    # (tests/access), so this second clean build leaves the ~200 reports out.
    proc = run_oml(other, "build", "--skip-feedback")
    assert proc.returncode == 0, proc.stderr

    def published(root):
        html = root / "_build" / "html"
        files = [html / "numbers.json", *html.glob("_downloads/**/*.csv"), *html.glob("_images/*.svg"),
                 *html.glob("_downloads/**/*.ipynb")]
        return {str(p.relative_to(html)): p.read_bytes() for p in files}

    first, second = published(site), published(other)
    assert len(first) >= 1 + 7 + 5
    assert first.keys() == second.keys()
    different = [k for k in first if first[k] != second[k]]
    assert not different, different


# ----------------------------------------------------------------------------- disclosure control
@pytest.fixture(scope="module")
def small_cells_site(tmp_path_factory):
    """A 'real-looking' dataset (ids without the synthetic prefix) with cells under 10 pupils."""
    root = copy_project(tmp_path_factory.mktemp("small") / "project")
    frame = generate(n=3000, seed=5, history=False)
    frame["pupil_id"] = [f"P{i:06d}" for i in range(len(frame))]
    frame["school_id"] = frame["school_id"].str.replace("SYN-", "SCH-")
    # Only 6 pupils with wo-educated parents; Sittard-Geleen has only 7 pupils in the last year.
    rng = np.random.default_rng(0)
    wo = frame.index[frame["parent_education"] == "wo"]
    frame.loc[wo[6:], "parent_education"] = "hbo"
    last = frame["year"].max()
    sg_last = frame.index[(frame["region"] == "Sittard-Geleen") & (frame["year"] == last)]
    frame.loc[rng.permutation(sg_last)[7:], "region"] = "Noord-Limburg"
    frame["school_id"] = frame["school_id"] + "-" + frame["region"].astype(str).str[:3]  # schools stay within a region
    path = root / "small.csv"
    save(frame, path)
    proc = run_oml(root, "build", "--data", str(path), "--mapping", str(_wording_mapping(root, frame)))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


def _wording_mapping(root, frame):
    """A mapping that only gives every statement a wording: real data print the extract's own words."""
    items = [c for c in frame.columns if c.startswith("item_")]
    path = root / "words.toml"
    path.write_text("[scale]\nitems = [" + ", ".join(f'"{c}"' for c in items) + "]\n\n[wording]\n"
                    + "".join(f'{c} = "Stelling {c.removeprefix("item_")} van de echte vragenlijst."\n' for c in items),
                    encoding="utf-8")
    return path


def test_a_real_build_refuses_statements_whose_wording_it_does_not_know(tmp_path):
    # Real ids, the project's illustrative wordings only: the build must not print them as the extract's.
    root = copy_project(tmp_path / "project")
    frame = generate(n=2000, seed=5, history=False)
    frame["pupil_id"] = [f"P{i:06d}" for i in range(len(frame))]
    frame["school_id"] = frame["school_id"].str.replace("SYN-", "SCH-")
    save(frame, root / "real.csv")
    proc = run_oml(root, "build", "--data", str(root / "real.csv"), "--skip-feedback")
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    assert "statements have no wording" in proc.stderr and "item_eerlijk" in proc.stderr and "[wording]" in proc.stderr
    assert not (root / "_build" / "html").exists()
    # The same data with the wording given in a mapping build.
    ok = run_oml(root, "build", "--data", str(root / "real.csv"), "--mapping", str(_wording_mapping(root, frame)),
                 "--skip-feedback")
    assert ok.returncode == 0, ok.stdout[-2000:] + ok.stderr[-2000:]
    codebook = (root / "_build" / "html" / "book" / "rapport" / "methoden.html").read_text(encoding="utf-8")
    assert "Stelling eerlijk van de echte vragenlijst." in codebook and "De juf/meester behandelt mij eerlijk." not in codebook


def test_small_cells_are_suppressed_in_table1_with_secondary_suppression(small_cells_site):
    page = small_cells_site / "_build" / "html" / "book" / "rapport" / "algemeen-beeld.html"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    rows = {tr.find_all("td")[0].get_text(strip=True): [td.get_text(strip=True) for td in tr.find_all("td")[1:]]
            for tr in soup.find("table", id="tab-algemeen-beeld").find_all("tr")[1:]}
    assert rows["Wo"] == ["•", "•"]
    hidden = [k for k in ("Mbo of lager", "Hbo", "Onbekend") if rows[k] == ["•", "•"]]
    assert len(hidden) == 1  # secondary: the wo count cannot be recovered from the total
    assert "minder dan 10 leerlingen" in soup.get_text()


def test_small_cells_are_empty_in_csv_and_manifest(small_cells_site):
    html = small_cells_site / "_build" / "html"
    csv = next(p for p in html.glob("_downloads/**/verschillen-regio-figuur.csv"))
    table = pd.read_csv(csv)
    last = table["year"].max()
    sg = table[(table["group"] == "Sittard-Geleen") & (table["year"] == last)].iloc[0]
    assert sg[["estimate", "se", "ci_low", "ci_high", "n"]].isna().all()
    # Secondary suppression: one more region of that year is hidden (the year total is published in
    # Figure 2), the other years are complete.
    assert table[table["year"] == last]["estimate"].isna().sum() == 2
    assert table[table["year"] != last]["estimate"].notna().all()
    manifest = json.loads((html / "numbers.json").read_text(encoding="utf-8"))
    entry = next(e for e in manifest["numbers"] if e["key"] == f"verschillen-regio/figuur/{last}/Sittard-Geleen/estimate")
    assert entry["value"] is None and entry["text"] == "•"
    assert all(e["value"] is None or e["text"] != "•" for e in manifest["numbers"])
    # Every published count (Table 1, cells) is at least 10, or suppressed.
    for e in manifest["numbers"]:
        if re.search(r"/(tabel-1/(?!totaal).*|figuur/.*)/n$", e["key"]) and e["value"] is not None:
            assert e["value"] >= 10, e


def test_suppressed_cells_left_out_of_comparisons(small_cells_site):
    html = small_cells_site / "_build" / "html"
    tests = pd.read_csv(next(html.glob("_downloads/**/verschillen-regio-toetsen.csv")))
    last = tests["year_b"].max()
    involved = ((tests["group_a"] == "Sittard-Geleen") & (tests["year_a"] == last)) | (
        (tests["group_b"] == "Sittard-Geleen") & (tests["year_b"] == last))
    assert not involved.any()


def test_real_data_has_no_synthetic_banner(small_cells_site):
    html = small_cells_site / "_build" / "html"
    for page in html.rglob("*.html"):
        assert "oml-synthetic-banner" not in page.read_text(encoding="utf-8"), page
    assert json.loads((html / "numbers.json").read_text())["synthetic"] is False
    assert "geen echte OML-resultaten" not in (html / "book" / "intro.html").read_text(encoding="utf-8")


def test_switch_from_synthetic_to_real_data_rereads_every_page(small_cells_site):
    # The same project, built again on synthetic data: the notice comes back on unchanged pages.
    # (The feedback reports demo is not what this is about: skipped to keep the suite quick.)
    proc = run_oml(small_cells_site, "build", "--skip-feedback")
    assert proc.returncode == 0, proc.stderr
    intro = (small_cells_site / "_build" / "html" / "book" / "intro.html").read_text(encoding="utf-8")
    assert "geen echte OML-resultaten" in intro and "oml-synthetic-banner" in intro


def test_methods_state_suppression_rule_and_data_quality(site):
    text = BeautifulSoup((site / "_build" / "html" / "book" / "rapport" / "methoden.html").read_text(encoding="utf-8"),
                         "html.parser").get_text(" ")
    assert "minder dan 10 leerlingen" in " ".join(text.split())
    assert "secundaire onderdrukking" in text
    assert "Datakwaliteit" in text and "12.161" in text
