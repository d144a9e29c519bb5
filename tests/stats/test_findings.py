"""The factsheet's findings come out of the pipeline on the default synthetic data.

What the factsheet says (2025 edition, /work/shared/reference/facts.md section 1): the index
did not change 2023->2025; no sex difference in 2025 and both sexes stable; no significant
parental-education differences and all stable; in 2025 Maastricht-Heuvelland significantly
above Sittard-Geleen; all regions stable. The generator is calibrated to reproduce this,
so these tests check the whole chain index -> model -> comparisons -> findings -> text.
Years are taken from the data, never typed.
"""
from __future__ import annotations

import pandas as pd
import pytest

from oml.stats.findings import HIGHER, LOWER, STABLE, Findings, findings
from oml.stats.models import BREAKDOWNS
from oml.stats.results import breakdown
from oml.report.text import summary_sentences


# `frame` (the default synthetic data with the index) comes from conftest.py.


@pytest.fixture(scope="module")
def years(frame) -> tuple[int, int]:
    return int(frame["year"].min()), int(frame["year"].max())


@pytest.fixture(scope="module")
def figures(frame) -> dict:
    return {by: breakdown(frame, by) for by in BREAKDOWNS}


@pytest.mark.parametrize("by", BREAKDOWNS)
def test_years_come_from_the_data(by, figures, years):
    f = figures[by].findings
    assert (f.first_year, f.last_year) == years
    assert all((t.first_year, t.last_year) == years for t in f.trends)
    assert all(d.year == years[1] for d in f.differences)


def test_overall_stable(figures, years):
    f = figures[None].findings
    assert len(f.trends) == 1 and f.trends[0].group == "totaal"
    assert f.trends[0].direction == STABLE
    assert f.differences == []
    sentence = summary_sentences(f)[0]
    assert f"tussen {years[0]} en {years[1]} gelijk gebleven" in sentence


def test_sex_no_difference_both_stable(figures, years):
    f = figures["sex"].findings
    assert f.differences == []
    assert sorted(t.group for t in f.trends) == ["jongen", "meisje"]
    assert f.all_stable
    difference, trend = summary_sentences(f)
    assert difference.startswith(f"In {years[1]} verschillen de ervaren sociale relaties met leraren niet significant tussen jongens en meisjes")
    assert f"tussen {years[0]} en {years[1]} gelijk gebleven" in trend and "jongens als meisjes" in trend


def test_parent_education_no_differences_all_stable(frame, figures, years):
    f = figures["parent_education"].findings
    assert f.differences == []
    # "onbekend" is drawn but not a group of parents: no trend, no difference, named apart.
    assert sorted(t.group for t in f.trends) == sorted(g for g in frame["parent_education"].cat.categories if g != "onbekend")
    assert f.not_compared == ["onbekend"] and f.untested_trend == [] and f.untested_between == []
    assert f.all_stable
    difference, trend = summary_sentences(f)
    assert f"In {years[1]} verschillen de ervaren sociale relaties met leraren niet significant" in difference
    assert f"tussen {years[0]} en {years[1]} gelijk gebleven" in trend


def test_region_maastricht_above_sittard_all_stable(frame, figures, years):
    fig = figures["region"]
    f = fig.findings
    assert ("Maastricht-Heuvelland", "Sittard-Geleen") in [(d.higher, d.lower) for d in f.differences]
    d = next(d for d in f.differences if (d.higher, d.lower) == ("Maastricht-Heuvelland", "Sittard-Geleen"))
    assert d.year == years[1] and d.estimate > 0 and d.p_holm < 0.05
    # The difference is the gap between the two published cells of the last year
    t = fig.table.set_index(["year", "group"])
    gap = t.loc[(years[1], "Maastricht-Heuvelland"), "estimate"] - t.loc[(years[1], "Sittard-Geleen"), "estimate"]
    assert d.estimate == pytest.approx(gap, abs=1e-12)
    assert sorted(t.group for t in f.trends) == sorted(frame["region"].cat.categories)
    assert f.all_stable
    difference, trend = summary_sentences(f)
    assert difference.startswith(f"In {years[1]} ervaren leerlingen in Maastricht-Heuvelland betere sociale relaties")
    assert "dan leerlingen in Sittard-Geleen" in difference
    assert trend.startswith("In alle regio's") and f"tussen {years[0]} en {years[1]} gelijk gebleven" in trend


# --------------------------------------------------------------------------- reading comparisons
def _row(family, ga, ya, gb, yb, estimate, significant):
    return {"family": family, "group_a": ga, "year_a": ya, "group_b": gb, "year_b": yb,
            "estimate": estimate, "p_holm": 0.001 if significant else 0.5, "significant": significant}


def test_directions_and_higher_group():
    c = pd.DataFrame([
        _row("first_last", "a", 2019, "a", 2031, 0.3, True),
        _row("first_last", "b", 2019, "b", 2031, -0.3, True),
        _row("first_last", "c", 2019, "c", 2031, 0.3, False),
        _row("between", "a", 2031, "b", 2031, -0.4, True),  # b - a < 0: a is higher
        _row("between", "a", 2031, "c", 2031, 0.4, True),  # c - a > 0: c is higher
        _row("between", "b", 2031, "c", 2031, 0.9, False),  # not significant: no finding
    ])
    f = findings(c, "region", ["a", "b", "c"])
    assert (f.first_year, f.last_year) == (2019, 2031)
    assert {t.group: t.direction for t in f.trends} == {"a": HIGHER, "b": LOWER, "c": STABLE}
    assert [(d.higher, d.lower, d.estimate) for d in f.differences] == [("a", "b", 0.4), ("c", "a", 0.4)]
    assert not f.all_stable


def test_findings_object_defaults():
    f = Findings("sex", 2023, 2025, ["jongen", "meisje"])
    assert f.trends == [] and f.differences == []


# --------------------------------------------------------------------------- one year of data
@pytest.mark.parametrize(
    "by",
    [
        None,
        "sex",
    ],
)
def test_single_year_makes_no_trend_claim(frame, by):
    last = int(frame["year"].max())
    f = breakdown(frame[frame["year"] == last], by).findings
    assert f.trends == []
    assert not any("gelijk gebleven" in s or "geworden" in s for s in summary_sentences(f))


def test_comparisons_with_a_not_compared_group_are_ignored():
    # Even if a comparison with "onbekend" were handed in, no finding speaks of it.
    c = pd.DataFrame([
        _row("first_last", "hbo", 2023, "hbo", 2025, 0.01, False),
        _row("first_last", "onbekend", 2023, "onbekend", 2025, 0.4, True),
        _row("between", "hbo", 2025, "onbekend", 2025, 0.5, True),
    ])
    f = findings(c, "parent_education", ["hbo", "onbekend"], not_compared=("onbekend",))
    assert f.not_compared == ["onbekend"] and f.compared_groups == ["hbo"]
    assert [t.group for t in f.trends] == ["hbo"] and f.differences == []
    assert f.untested_trend == [] and f.untested_between == [] and f.all_stable
