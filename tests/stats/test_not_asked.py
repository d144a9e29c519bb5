"""A statement not asked in a year: detected, and handled on purpose by the index, alpha and the per-statement tables.

The data: a small synthetic set over 2017–2025 in which ``item_eerlijk`` was not asked in 2024 and
``item_helpen`` not in 2019 (their columns blank for every pupil of that year, as after stacking
yearly files of which one lacks the column). Every reference is computed in the test itself.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin
import pytest

from oml.data.codebook import asked_in_every_year, not_asked
from oml.data.contract import item_columns
from oml.data.scales import periods
from oml.data.synth import generate
from oml.stats.distribution import answer_distribution
from oml.stats.index import add_index, missing_by_kind, quality_summary, raw_index, suppress_missing
from oml.stats.reliability import alpha_by_period, cronbach_alpha, item_statistics
from oml.stats.series import agreement_by_year

DROPPED = {"item_eerlijk": [2024], "item_helpen": [2019]}


def _drop(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for item, years in DROPPED.items():
        out.loc[out["year"].isin(years), item] = pd.NA
    return out


@pytest.fixture(scope="module")
def dropped() -> pd.DataFrame:
    # Its own data: the shared fixtures are read only, and this one needs whole years blanked.
    return _drop(generate(n=1500, seed=7))


def test_not_asked_finds_exactly_the_blank_years(dropped, long_data):
    assert not_asked(dropped) == DROPPED
    assert not_asked(long_data) == {}  # the synthetic data ask every statement every year
    assert asked_in_every_year(dropped[dropped["year"] >= 2023]) == [c for c in item_columns(dropped.columns) if c != "item_eerlijk"]


def test_a_year_with_fewer_statements_keeps_its_pupils_and_their_index_uses_the_rest(dropped):
    items = item_columns(dropped.columns)
    rest = [c for c in items if c != "item_eerlijk"]
    got = add_index(dropped)["index_raw"]
    in_2024 = dropped["year"] == 2024
    # Reference: the rule written out for 2024 with its five statements: the mean of the answered ones, at least half of five.
    x = dropped.loc[in_2024, rest].to_numpy(dtype="float64", na_value=np.nan)
    answered = (~np.isnan(x)).sum(axis=1)
    with np.errstate(invalid="ignore"):
        reference = np.where(answered >= 0.5 * len(rest), np.nanmean(np.where(answered[:, None] > 0, x, 0.0), axis=1), np.nan)
    np.testing.assert_allclose(got[in_2024].to_numpy(dtype="float64"), reference, rtol=0, atol=1e-12)
    # 2024 keeps as large a share of pupils with an index as the years that asked all six.
    share = got.notna().groupby(dropped["year"]).mean()
    assert share[2024] > 0.95 and abs(share[2024] - share[2025]) < 0.03


def test_the_answered_share_counts_the_statements_asked_that_year():
    # All four statements asked in 2023, three in 2024 (nobody answered item_d). With min_share 0.6, two answers of
    # three are enough in 2024 (2 >= 1.8), where counting the unasked fourth would demand three (2.4).
    nan = np.nan
    frame = pd.DataFrame({"year": [2023, 2023, 2024, 2024, 2024], "item_a": [5, 4, 4, 2, nan], "item_b": [3, 4, 2, nan, nan],
                          "item_c": [nan, 2, nan, 3, 1], "item_d": [4, nan, nan, nan, nan]})
    got = raw_index(frame, min_share=0.6)
    expected = [np.mean([5, 3, 4]), np.mean([4, 4, 2]), np.mean([4, 2]), np.mean([2, 3]), nan]  # written out by hand
    np.testing.assert_allclose(got.to_numpy(dtype="float64"), expected, rtol=0, atol=1e-15)
    q = quality_summary(frame, min_share=0.6).set_index("year")
    # 2024: one pupil (one answer of three) without an index; blanks counted over the three asked statements (1 + 1 + 2).
    assert q.loc[2024, "without_index"] == 1 and q.loc[2024, "missing_answers"] == 4
    assert q.loc[2024, "all_items_answered"] == 0 and q.loc[2023, "missing_answers"] == 2


def test_quality_counts_no_blank_for_a_statement_not_asked(dropped):
    current = dropped[dropped["year"] >= 2023]
    q = quality_summary(current).set_index("year")
    rest = [c for c in item_columns(current.columns) if c != "item_eerlijk"]
    part = current[current["year"] == 2024]
    # Reference: blanks and complete pupils among the five statements 2024 asked.
    assert q.loc[2024, "missing_answers"] == int(part[rest].isna().sum().sum())
    assert q.loc[2024, "all_items_answered"] == int(part[rest].notna().all(axis=1).sum())


@pytest.mark.parametrize("period, left_out", [("vierpuntsschaal", "item_helpen"), ("vijfpuntsschaal", "item_eerlijk")])
def test_alpha_per_period_uses_the_statements_asked_in_every_year_of_it(dropped, period, left_out):
    got = alpha_by_period(dropped).set_index("period").loc[period]
    part = next(p for s, p in periods(dropped) if s.name == period)
    common = [c for c in item_columns(part.columns) if c != left_out]
    complete = part[common].dropna().astype("float64")
    # Reference: pingouin.cronbach_alpha (Vallat 2018) on the listwise complete cases of the statements asked every year.
    ref_alpha, ref_ci = pingouin.cronbach_alpha(data=complete)
    assert got["alpha"] == pytest.approx(ref_alpha, abs=1e-10)
    assert got["ci_low"] == pytest.approx(ref_ci[0], abs=1e-3) and got["ci_high"] == pytest.approx(ref_ci[1], abs=1e-3)
    assert got["n"] == len(complete) and got["k"] == len(common) == 5 and list(got["left_out"]) == [left_out]
    # Every year of the period counts; listwise deletion over all six statements would have dropped the year without one.
    years = part.loc[complete.index, "year"].astype(int)
    assert set(years) == set(part["year"].astype(int))
    all_six = part[item_columns(part.columns)].dropna()
    assert DROPPED[left_out][0] not in set(part.loc[all_six.index, "year"].astype(int))


def test_alpha_and_item_statistics_of_the_factsheet_period(dropped):
    current = dropped[dropped["year"] >= 2023]
    got = cronbach_alpha(current)
    assert got["left_out"] == ["item_eerlijk"] and got["k"] == 5
    assert "item_eerlijk" not in set(item_statistics(current)["item"])
    assert cronbach_alpha(generate(n=300, seed=2, history=False))["left_out"] == []


def test_agreement_per_year_marks_not_asked_and_hides_nothing_for_it(dropped):
    t = agreement_by_year(dropped).set_index(["item", "year"]).sort_index()
    cell = t.loc[("item_eerlijk", 2024)]
    assert not cell["asked"] and not cell["suppressed"] and cell["n"] == 0 and np.isnan(cell["percent"])
    assert t.loc[("item_eerlijk", 2023), "asked"] and t.drop(index=[("item_eerlijk", 2024), ("item_helpen", 2019)])["asked"].all()


def test_answer_distribution_leaves_the_year_out_and_pools_the_others(dropped):
    current = dropped[dropped["year"] >= 2023]
    d = answer_distribution(current)
    eerlijk = d[d["item"] == "item_eerlijk"]
    assert 2024 not in set(eerlijk["period"])
    pooled_n = eerlijk.loc[eerlijk["period"] == "totaal", "n"].iloc[0]
    assert pooled_n == int(current.loc[current["year"].isin([2023, 2025]), "item_eerlijk"].notna().sum())


def test_missing_by_kind_counts_blanks_and_not_asked_apart(dropped):
    current = dropped[dropped["year"] >= 2023]
    t = missing_by_kind(current).set_index(["item", "year", "kind"]).sort_index()
    part = current[current["year"] == 2025]
    assert t.loc[("item_praten", 2025, "niet ingevuld"), "n"] == int(part["item_praten"].isna().sum())
    assert t.loc[("item_praten", 2025, "beantwoord"), "n"] == int(part["item_praten"].notna().sum())
    assert not t.loc[("item_eerlijk", 2024, "beantwoord"), "asked"]
    shown = suppress_missing(missing_by_kind(current)).set_index(["item", "year", "kind"]).sort_index()
    # Not asked: nothing to show and nothing hidden.
    row = shown.loc[("item_eerlijk", 2024)]
    assert row["n"].isna().all() and not row["suppressed"].any()
