"""The long series across the change of answer scale: :mod:`oml.stats.series`, the index per period.

Independent references: NumPy z-scores per period, pingouin's Cronbach's alpha, hand counts of
agreement, and the factsheet's own Figure 2 computation on the factsheet rows alone.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

from oml.data import scales
from oml.data.contract import REVERSE_ATTR, item_columns
from oml.data.synth import generate
from oml.stats.index import raw_index, scored_items
from oml.stats.reliability import alpha_by_period, cronbach_alpha
from oml.stats.results import breakdown
from oml.stats.series import agreement_by_year, series


# `long_frame` (the long default data with the index) and `frame` (the factsheet period's) come from conftest.py.


@pytest.fixture(scope="module")
def result(long_frame):
    return series(long_frame)


def test_index_is_standardised_within_each_period(long_frame):
    # Reference: NumPy z-score (ddof = 1) of the raw index over each period's rows alone.
    for _scale, part in scales.periods(long_frame):
        x = part["index_raw"].to_numpy(dtype=float)
        ok = ~np.isnan(x)
        z = (x[ok] - x[ok].mean()) / x[ok].std(ddof=1)
        np.testing.assert_allclose(part["index"].to_numpy(dtype=float)[ok], z, rtol=0, atol=1e-12)
        assert part["index"].mean() == pytest.approx(0, abs=1e-12)
        assert part["index"].std(ddof=1) == pytest.approx(1, abs=1e-12)


def test_index_of_the_factsheet_rows_does_not_depend_on_the_earlier_years(long_frame, frame):
    # Standardising within the period: the 2023-2025 index equals the one computed without history.
    current = scales.current_period(long_frame)
    pd.testing.assert_series_equal(current["index"], frame["index"], check_exact=True)


def test_latest_period_equals_figure_2_exactly(result, frame):
    figure_2 = breakdown(frame, None)
    latest = result.periods[-1].result
    pd.testing.assert_frame_equal(latest.table, figure_2.table)
    pd.testing.assert_frame_equal(latest.comparisons, figure_2.comparisons)


def test_no_test_across_the_break(result):
    c = result.comparisons
    period_a = scales.period_of(c["year_a"].to_numpy())
    period_b = scales.period_of(c["year_b"].to_numpy())
    assert (period_a == period_b).all()
    assert (period_a.to_numpy() == c["period"].to_numpy()).all()
    # In particular the last 4-point year is never compared with the first 5-point year.
    assert not ((c["year_a"] == 2022) & (c["year_b"] == 2023)).any()
    assert result.breaks == [2023]


def test_each_period_has_its_own_first_last_and_consecutive_tests(result):
    c = result.comparisons
    fl = c[c["family"] == "first_last"]
    assert sorted(zip(fl["year_a"], fl["year_b"])) == [(2017, 2022), (2023, 2025)]
    # Holm within each period's family: the adjustment counts only that period's tests.
    for _, part in c[c["family"] == "consecutive"].groupby("period"):
        m = len(part)
        assert (part["p_holm"] <= np.minimum(part["p"] * m, 1) + 1e-15).all()
        assert (part["p_holm"] >= part["p"] - 1e-15).all()


def test_agreement_uses_each_years_own_scale(long_frame):
    table = agreement_by_year(long_frame)
    for year, agree_from in ((2020, 3), (2024, 4)):
        answered = long_frame.loc[long_frame["year"] == year, "item_praten"].dropna().to_numpy(dtype=int)
        row = table[(table["year"] == year) & (table["item"] == "item_praten")].iloc[0]
        assert row["agree_from"] == agree_from
        assert row["n"] == len(answered)
        assert row["percent"] == pytest.approx(100 * np.mean(answered >= agree_from), abs=1e-12)


def test_agreement_hides_cells_that_rest_on_few_pupils():
    # Year 2019: 12 answers, 3 of which disagree -> the 3 could be recovered from share and n.
    df = pd.DataFrame({"year": [2019] * 12 + [2024] * 30, "item_a": [4] * 9 + [1] * 3 + [5] * 15 + [1] * 15})
    table = agreement_by_year(df, min_cell=10).set_index("year")
    assert table.loc[2019, "suppressed"] and np.isnan(table.loc[2019, "percent"])
    assert not table.loc[2024, "suppressed"] and table.loc[2024, "percent"] == 50.0


def test_alpha_per_period_matches_pingouin(long_frame):
    # Reference: pingouin.cronbach_alpha (listwise) on each period's complete cases.
    alphas = alpha_by_period(long_frame).set_index("period")
    for scale, part in scales.periods(long_frame):
        items = part[item_columns(part.columns)].dropna().astype(float)
        ref, _ = pg.cronbach_alpha(data=items)
        assert alphas.loc[scale.name, "alpha"] == pytest.approx(ref, abs=1e-10)
        assert alphas.loc[scale.name, "n"] == len(items)


def _with_reversed_copy(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``frame`` plus item_afstand = item_gemak reverse-coded on each year's scale, and the plain-copy twin."""
    flipped = frame.copy()
    plain = frame.copy()
    for scale, part in scales.periods(frame):
        flipped.loc[part.index, "item_afstand"] = scale.lowest + scale.highest - part["item_gemak"]
    flipped["item_afstand"] = flipped["item_afstand"].astype("Int64")
    flipped.attrs[REVERSE_ATTR] = ["item_afstand"]
    plain["item_afstand"] = plain["item_gemak"]
    return flipped, plain


def test_reverse_coded_item_scores_like_its_mirror_on_both_scales():
    frame = generate(n=400, seed=8)
    flipped, plain = _with_reversed_copy(frame)
    # A 4 on the 4-point scale and a 5 on the 5-point scale both reverse to 1.
    scored = scored_items(flipped)
    np.testing.assert_array_equal(scored["item_afstand"].to_numpy(), plain["item_afstand"].astype(float).to_numpy())
    pd.testing.assert_series_equal(raw_index(flipped), raw_index(plain))
    assert cronbach_alpha(flipped)["alpha"] == pytest.approx(cronbach_alpha(plain)["alpha"], abs=1e-12)


def test_without_the_reverse_mark_the_mirror_item_lowers_alpha():
    frame = generate(n=400, seed=8)
    flipped, _ = _with_reversed_copy(frame)
    unmarked = flipped.copy()
    unmarked.attrs = {}
    assert cronbach_alpha(unmarked)["alpha"] < cronbach_alpha(flipped)["alpha"] - 0.1
