"""The feedback report's content (:mod:`oml.report.unit_report`): what it says, and what it never shows."""
from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from oml.report import unit_report as fr
from oml.report.plotting import set_theme
from oml.stats import units as fs

MIN_CELL = 10


@pytest.fixture(scope="module", autouse=True)
def theme():
    set_theme()


# `small_frame` (a small synthetic dataset with the index, about 40 schools) comes from conftest.py.


def _school(frame: pd.DataFrame, rank: int = 0) -> str:
    counts = frame.groupby(["school_id", "year"], observed=True).size().unstack(fill_value=0)
    return sorted(counts.index[(counts >= 15).all(axis=1)])[rank]


def _visible_text(document: str) -> str:
    """The document's text outside the figures (the figures' own text is checked separately)."""
    body = re.sub(r"<svg.*?</svg>", " ", document, flags=re.S)
    body = re.sub(r"<style>.*?</style>", " ", body, flags=re.S)
    return re.sub(r"<[^>]+>", " ", body)


@pytest.fixture(scope="module")
def school_report(small_frame, tmp_path_factory):
    unit = _school(small_frame)
    out = tmp_path_factory.mktemp("report")
    html = fr.report_html(small_frame, "school", unit, min_cell=MIN_CELL, synthetic=True, out_dir=out)
    manifest = json.loads((out / "files" / f"{unit}.feedback.json").read_text(encoding="utf-8"))
    return unit, html, manifest


# --------------------------------------------------------------------------- the document
def test_document_is_self_contained_dutch_and_printable(school_report):
    _, html, _ = school_report
    assert html.startswith("<!DOCTYPE html>") and '<html lang="nl">' in html
    assert "@media print" in html and html.count("<svg") == 2
    # No external requests: no src/link/import/url() to anything, only one plain hyperlink (the NRO guideline).
    assert not re.search(r"\bsrc\s*=|<link\b|@import|url\((?!#)", html)
    assert re.findall(r'href="(http[^"]+)"', html) == [fr.LEIDRAAD]
    assert "Synthetische gegevens" in html
    assert "Volgende stap" in html and "NRO" in html


def test_no_other_school_appears(small_frame, school_report):
    unit, html, manifest = school_report
    others = small_frame[small_frame["school_id"] != unit]
    for school in others["school_id"].unique():
        assert school not in html
    for name in others["school_name"].unique():
        assert name not in html
    assert fr.display_name(small_frame, "school", unit) in html
    # Every recorded number is the unit's own, its region's or Limburg's.
    groups = {e["key"].split("/")[2] for e in manifest if e["key"].split("/")[1] == "index"}
    assert groups <= {"unit", "region", "limburg"}
    # Markers are <use> elements: the funnel has exactly the unit's point and its legend key, no other school's
    # dot; the diamond figure has the unit, region and Limburg per year plus three legend keys.
    diamond, funnel = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    assert len(re.findall(r"<use ", funnel)) == 2
    assert len(re.findall(r"<use ", diamond)) == 3 * small_frame["year"].nunique() + 3


def test_every_number_in_the_text_is_a_recorded_number(school_report):
    _, html, manifest = school_report
    recorded = {e["text"] for e in manifest}
    shown = set(re.findall(r"−?\d+,\d\d\b", _visible_text(html)))
    assert shown and shown <= recorded


def test_other_schools_means_are_not_recorded(small_frame, school_report):
    unit, _, manifest = school_report
    values = [e["value"] for e in manifest if isinstance(e["value"], float)]
    other = _school(small_frame, 1)
    theirs = fs.adjusted_unit_means(small_frame, "school", other).period("unit").estimate
    assert not any(np.isclose(v, theirs, rtol=0, atol=1e-12) for v in values)


def test_manifest_is_private(school_report, tmp_path):
    pub = fr.PrivatePublisher("x", tmp_path)
    pub.number("a", 1.5, 1)
    pub.save()
    # The site collects files/*.numbers.json into the public numbers.json; a report's numbers never match it.
    assert list((tmp_path / "files").glob("*.numbers.json")) == []
    assert (tmp_path / "files" / "x.feedback.json").is_file()


# --------------------------------------------------------------------------- sentences follow the tests
@pytest.mark.parametrize("shift, word", [(1.0, "significant hoger dan"), (-1.0, "significant lager dan"),
                                         (0.0, None)])
def test_period_sentence_follows_the_test(small_frame, shift, word):
    unit = _school(small_frame, 2)
    data = small_frame.copy()
    data.loc[data["school_id"] == unit, "index"] += shift
    um = fs.adjusted_unit_means(data, "school", unit)
    row = um.comparisons[(um.comparisons["family"] == "period") & (um.comparisons["group_b"] == "limburg")].iloc[0]
    sentence = fr.period_sentence(um, "limburg", "uw school", "2023–2025", lambda k, v, d=0: fr.nl_number(v, d))
    expected = word or ("niet significant verschillend van" if not row.significant
                        else ("significant hoger dan" if row.estimate > 0 else "significant lager dan"))
    assert f"is de index van uw school {expected} het gemiddelde van Limburg" in sentence
    assert fr.nl_number(row.estimate, 2) in sentence


def test_yearly_and_trend_sentences_follow_the_tests(small_frame):
    unit = _school(small_frame, 2)
    data = small_frame.copy()
    later = (data["school_id"] == unit) & (data["year"] == 2025)
    data.loc[later, "index"] += 1.5  # a planted jump in the last year only
    um = fs.adjusted_unit_means(data, "school", unit)
    c = um.comparisons
    yearly = fr.yearly_sentence(um, "limburg", "uw school")
    sig = c[(c["family"] == "limburg") & c["significant"]]
    assert 2025 in set(sig["year_a"])
    assert re.search(r"in 2025 significant hoger dan", yearly)
    calm = sorted(set(c.loc[c["family"] == "limburg", "year_a"]) - set(sig["year_a"]))
    if calm:
        assert f"in {fr.nl_list([str(y) for y in calm])} niet significant verschillend van" in yearly
    trend = fr.trend_sentence(um, "uw school")
    fl = c[c["family"] == "first_last"].iloc[0]
    assert ("significant gestegen" in trend) == bool(fl.significant and fl.estimate > 0)


# --------------------------------------------------------------------------- disclosure in the report
def _shrink(frame, school, year, keep):
    rows = frame.index[(frame["school_id"] == school) & (frame["year"] == year) & frame["index"].notna()]
    return frame.drop(rows[keep:])


def test_pooled_year_is_announced_and_not_shown(small_frame):
    unit = _school(small_frame)
    data = _shrink(small_frame, unit, 2024, 4)
    html = fr.report_html(data, "school", unit, min_cell=MIN_CELL)
    text = " ".join(_visible_text(html).split())
    assert "In 2024 was het aantal leerlingen van uw school kleiner dan 10" in text
    assert "niet apart getoond" in text
    um = fs.adjusted_unit_means(data, "school", unit)
    row = re.search(r"<tr><th scope=\"row\">2024</th>(.*?)</tr>", html).group(1)
    assert row.startswith(f"<td>{fr.SUPPRESSED}</td>")  # the school's cell of 2024
    assert fr.nl_number(um.period("unit").n) in text


def test_school_below_threshold_report_says_so_and_shows_only_references(small_frame):
    unit = _school(small_frame)
    data = small_frame
    for year in (2023, 2024, 2025):
        data = _shrink(data, unit, year, 3)
    html = fr.report_html(data, "school", unit, min_cell=MIN_CELL)
    text = " ".join(_visible_text(html).split())
    assert "minder dan 10 leerlingen van uw school" in text
    assert "Waar staat" not in text and html.count("<svg") == 1  # no funnel, only the references' diamond figure
    assert "Uw school" not in text  # no column, legend or label of the school's own numbers
    region = fs.unit_region(data, data["school_id"] == unit)
    assert region in text and "Limburg" in text


# --------------------------------------------------------------------------- board report
def test_board_report_has_the_board_and_a_part_per_school(small_frame):
    sizes = small_frame.drop_duplicates("school_id").groupby("board_id").size()
    board = sizes.idxmax()
    html = fr.report_html(small_frame, "board", board, min_cell=MIN_CELL, synthetic=True)
    text = " ".join(_visible_text(html).split())
    mine = small_frame[small_frame["board_id"] == board]
    assert fr.display_name(small_frame, "board", board) in text
    for name in mine["school_name"].unique():
        assert f"<h2>{fr._e(name)}</h2>" in html
    for name in small_frame.loc[small_frame["board_id"] != board, "school_name"].unique():
        assert name not in html
    assert "Uw bestuur" in text and "Deze school" in text
    assert "Noord-Limburg" not in text or mine["region"].astype(str).eq("Noord-Limburg").any()


def _board_with_small_school_and_hidden_year(frame):
    a, b, c = sorted(_schools_every_year(frame))[:3]
    data = frame.copy()
    data.loc[data["school_id"].isin([a, b, c]), "board_id"] = "SYN-B900"
    data.loc[data["school_id"].isin([a, b, c]), "board_name"] = "Synthetisch testbestuur"
    for year in (2023, 2024, 2025):
        data = _shrink(data, b, year, 2)
    return _shrink(data, c, 2024, 4), a, b, c


def _schools_every_year(frame):
    counts = frame.groupby(["school_id", "year"], observed=True).size().unstack(fill_value=0)
    return counts.index[(counts >= 15).all(axis=1)]


def test_board_report_says_what_its_figures_count(small_frame):
    data, a, b, c = _board_with_small_school_and_hidden_year(small_frame)
    html = fr.report_html(data, "board", "SYN-B900", min_cell=MIN_CELL)
    text = " ".join(_visible_text(html).split())
    name = {s: fr.display_name(data, "school", s) for s in (a, b, c)}
    hidden = sorted([2024, *fs.adjusted_unit_means(data, "school", c).protecting_years])
    assert "De cijfers van uw bestuur tellen precies wat de rapporten van zijn scholen laten zien" in text
    assert f"{name[b]} telt niet mee (minder dan 10 leerlingen over 2023–2025)." in text
    assert (f"Alleen in de cijfers over de hele periode, niet in die van het jaar zelf, tellen mee: "
            f"{fr.nl_list([str(y) for y in hidden])} van {name[c]}.") in text
    assert "tellen wel mee" not in text and "Deze school telt ook niet mee in de cijfers van het bestuur" in text
    assert "De antwoorden van uw bestuur tellen de scholen met een eigen deel samen" in text
    # The board's own table: each year the shown school-years, the period every pupil of the shown schools.
    um = fs.adjusted_unit_means(data, "board", "SYN-B900")
    row = re.search(r'<tr><th scope="row">2023–2025</th>(.*?)</tr>', html).group(1)
    assert row.endswith(f"<td>{fr.nl_number(um.period('unit').n)}</td>")


def test_board_of_small_schools_shows_only_limburg(small_frame):
    data, a, b, c = _board_with_small_school_and_hidden_year(small_frame)
    data = data[data["school_id"] != a]
    for year in (2023, 2024, 2025):
        data = _shrink(data, c, year, 3)
    html = fr.report_html(data, "board", "SYN-B900", min_cell=MIN_CELL)
    text = " ".join(_visible_text(html).split())
    assert "Geen school van uw bestuur heeft over 2023–2025 genoeg leerlingen (minstens 10) voor eigen cijfers" in text
    assert "Uw bestuur" not in text and "Limburg" in text


def test_names_fall_back_to_ids(small_frame):
    unit = _school(small_frame)
    data = small_frame.drop(columns=["school_name", "board_name"])
    assert fr.display_name(data, "school", unit) == unit
    html = fr.report_html(data, "school", unit)
    assert f"Sociale relaties met leraren: {unit}" in html


# --------------------------------------------------------------------------- render_document
def test_render_document_collects_marked_outputs_only(tmp_path):
    nb = {"cells": [
        {"cell_type": "code", "outputs": [
            {"output_type": "display_data", "data": {"text/html": ["<p>een</p>"]}, "metadata": {fr.MARK: {"part": 0, "title": "T"}}},
            {"output_type": "display_data", "data": {"text/html": "<p>los</p>"}, "metadata": {}},
            {"output_type": "display_data", "data": {"text/html": "<p>twee</p>"}, "metadata": {fr.MARK: {"part": 1}}},
        ]}]}
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    doc = fr.render_document(path)
    assert "<p>een</p>\n<p>twee</p>" in doc and "los" not in doc and "<title>T</title>" in doc
    path.write_text(json.dumps({"cells": []}), encoding="utf-8")
    with pytest.raises(ValueError, match="no feedback-report blocks"):
        fr.render_document(path)


# --------------------------------------------------------------------------- one verdict per comparison (issue 21)
def _difference_rows(html: str) -> dict:
    """The table of differences: (row label, reference column) -> (estimate, low, high, verdict) as shown."""
    table = re.search(r'<table class="oml-table oml-differences">(.*?)</table>', html, flags=re.S).group(1)
    refs = re.findall(r'<th scope="col">Verschil met ([^<]+)</th>', table)
    out = {}
    for label, cells in re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', table):
        values = re.findall(r"<td>((?:[^<]|<span[^>]*>|</span>)*)</td><td>([^<]*)</td>", cells)
        for ref, (value, verdict) in zip(refs, values):
            value = re.sub(r"<[^>]+>", "", value)  # the interval is wrapped so that it never breaks inside
            m = re.fullmatch(r"(\S+) \((\S+) tot (\S+)\)", value)
            out[(label, ref)] = (*m.groups(), verdict) if m else (value, None, None, verdict)
    return out


@pytest.mark.parametrize("shift", [0.0, 0.6])
def test_difference_table_shows_the_tests_of_the_sentences(small_frame, shift):
    unit = _school(small_frame, 2)
    data = small_frame.copy()
    data.loc[data["school_id"] == unit, "index"] += shift
    html = fr.report_html(data, "school", unit, min_cell=MIN_CELL)
    um = fs.adjusted_unit_means(data, "school", unit)
    shown = _difference_rows(html)
    labels = {"limburg": "Limburg", "region": um.region}
    c = um.comparisons
    for r in c[c["family"].isin(["limburg", "region", "period"])].itertuples(index=False):
        label = "2023–2025" if r.year_a == "totaal" else str(r.year_a)
        est, low, high, verdict = shown[(label, labels[r.group_b])]
        # The interval shown is the test's own: it leaves out 0 exactly when the verdict is "hoger" or "lager".
        assert (est, low, high) == tuple(fr.nl_number(v, 2) for v in (r.estimate, r.ci_low, r.ci_high))
        assert verdict == ("niet significant" if not r.significant else "hoger" if r.estimate > 0 else "lager")
        assert r.significant == (r.ci_low > 0 or r.ci_high < 0)
    text = " ".join(_visible_text(html).split())
    period = c[(c["family"] == "period") & (c["group_b"] == "limburg")].iloc[0]
    low, high = fr.nl_number(period.ci_low, 2), fr.nl_number(period.ci_high, 2)
    assert f"95%-betrouwbaarheidsinterval {low} tot {high})" in text  # the sentence's interval is the table's
    if shift:
        assert period.significant and "significant hoger dan het gemiddelde van Limburg" in text


def test_no_comparison_is_called_significant_and_chance(small_frame):
    """No 'significant' next to 'past bij toeval' or 'geen duidelijk verschil' for the same comparison: the funnel
    sentence follows the period test against Limburg."""
    limits = fs.funnel_limits(0.0, 1.0, [40], between_var=0.04)
    for position in ("inside", "between", "outside"):
        for significant in (True, False):
            pos = fs.FunnelPosition(40, 0.5, 0.0, 1.0, limits, position, fr.HIGHER, 0.04)
            sentence = fr.funnel_sentence(pos, "uw school", pd.Series({"estimate": 0.5, "significant": significant}))
            assert "toeval" not in sentence and "geen duidelijk verschil" not in sentence
            assert ("niet significant" in sentence) == (not significant and position != "inside"), sentence
            if significant and position == "inside":
                assert "wel significant hoger" in sentence
    for school in sorted(small_frame["school_id"].unique())[:6]:
        text = " ".join(_visible_text(fr.report_html(small_frame, "school", school)).split())
        assert "toeval kunt verwachten" not in text and "geen duidelijk verschil" not in text


def test_years_not_shown_are_worded_right(small_frame):
    unit = _school(small_frame)
    data = _shrink(_shrink(small_frame, unit, 2023, 4), unit, 2024, 3)
    text = " ".join(_visible_text(fr.report_html(data, "school", unit, min_cell=MIN_CELL)).split())
    assert "waren het aantal" not in text
    assert ("In 2023 en 2024 was het aantal leerlingen van uw school telkens kleiner dan 10; die leerlingen tellen mee in "
            "de cijfers over de hele periode, maar die jaren worden niet apart getoond.") in text


def test_board_report_says_what_its_tests_ask(small_frame):
    sizes = small_frame.drop_duplicates("school_id").groupby("board_id").size()
    html = fr.report_html(small_frame, "board", sizes.idxmax(), min_cell=MIN_CELL)
    text = " ".join(_visible_text(html).split())
    assert fr.BOARD_TESTS in text
    assert "Holm" not in text and "Bonferroni" in text
    assert "Overlappen twee lijnen, dan is het verschil" not in text  # the overlap rule of thumb is not offered
