"""Validation of the index rule: raw score, standardisation and the data-quality counts.

Every reference below is computed in the test from the answers with plain numpy/pandas,
not by calling :mod:`oml.stats.index` a second time.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oml.data.contract import item_columns
from oml.stats.index import add_index, quality_summary, raw_index, standardise


def _answers(data: pd.DataFrame) -> np.ndarray:
    """Item answers as a float array with NaN for blanks (the reference's own view of the data)."""
    return data[item_columns(data.columns)].to_numpy(dtype="float64", na_value=np.nan)


# --------------------------------------------------------------------------- raw index
def test_half_answered_boundary_with_six_items():
    # Six statements: 3 answered is exactly half (counts), 2 is less than half (no index).
    nan = np.nan
    rows = [
        [5, 4, 3, nan, nan, nan],  # 3 of 6 answered -> mean of 5, 4, 3
        [5, 4, nan, nan, nan, nan],  # 2 of 6 -> no index
        [1, 2, 3, 4, 5, 5],  # all answered
        [nan] * 6,  # nothing answered
        [nan, nan, nan, 2, 2, 5],  # 3 of 6, answered at the end
    ]
    frame = pd.DataFrame(rows, columns=[f"item_{i}" for i in range(6)]).astype("Int64")
    got = raw_index(frame)
    # Reference: the rule written out by hand for these rows
    expected = [np.mean([5, 4, 3]), np.nan, np.mean([1, 2, 3, 4, 5, 5]), np.nan, np.mean([2, 2, 5])]
    np.testing.assert_allclose(got.to_numpy(dtype="float64"), expected, rtol=0, atol=1e-15)


def test_raw_index_matches_numpy_rule_on_synthetic_data(default_frame):
    x = _answers(default_frame)
    k = x.shape[1]
    answered = (~np.isnan(x)).sum(axis=1)
    # Reference: numpy row means over answered items, kept where 2 * answered >= k (integer rule, no float share)
    with np.errstate(invalid="ignore"):
        sums = np.nansum(x, axis=1)
        means = np.where(answered > 0, sums / np.maximum(answered, 1), np.nan)
    expected = np.where(2 * answered >= k, means, np.nan)
    got = raw_index(default_frame).to_numpy(dtype="float64")
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12, equal_nan=True)
    # The default data contain pupils on both sides of the rule, so the test can fail either way.
    assert np.isnan(expected).sum() > 0 and (~np.isnan(expected)).sum() > 0


def test_min_share_is_a_parameter():
    frame = pd.DataFrame([[5, 4, None, None]], columns=["item_a", "item_b", "item_c", "item_d"]).astype("Int64")
    assert raw_index(frame, min_share=0.5).iloc[0] == pytest.approx(4.5)
    assert np.isnan(raw_index(frame, min_share=0.75).iloc[0])


# --------------------------------------------------------------------------- standardisation
def test_standardised_index_has_mean_zero_sd_one(default_frame):
    z = add_index(default_frame)["index"].dropna().to_numpy()
    assert abs(z.mean()) < 1e-12
    assert abs(z.std(ddof=1) - 1.0) < 1e-12


def test_standardised_index_equals_numpy_z_score(default_frame):
    out = add_index(default_frame)
    raw = raw_index(default_frame).to_numpy(dtype="float64")
    kept = raw[~np.isnan(raw)]
    # Reference: numpy z-score over all pupils with an index (ddof = 1), all years pooled
    expected = (raw - kept.mean()) / kept.std(ddof=1)
    np.testing.assert_allclose(out["index"].to_numpy(dtype="float64"), expected, rtol=0, atol=1e-12, equal_nan=True)
    np.testing.assert_array_equal(out["index"].isna().to_numpy(), np.isnan(raw))


def test_standardisation_pools_years_not_per_year():
    # Two years with clearly different raw scores: pooled standardisation keeps the gap;
    # per-year standardisation would put both year means at 0.
    frame = pd.DataFrame(
        {"year": [2023] * 3 + [2025] * 3, "item_a": [1, 2, 3, 4, 5, 5], "item_b": [1, 2, 3, 4, 5, 5]}
    ).astype("Int64")
    out = add_index(frame)
    raw = np.array([1, 2, 3, 4, 5, 5], dtype=float)
    # Reference: pooled z-score by hand
    expected = (raw - raw.mean()) / raw.std(ddof=1)
    np.testing.assert_allclose(out["index"].to_numpy(dtype="float64"), expected, atol=1e-12)
    year_means = out.groupby("year")["index"].mean()
    assert year_means.loc[2023] < -0.5 < 0.5 < year_means.loc[2025]


def test_standardise_keeps_missing():
    s = standardise(pd.Series([2.0, np.nan, 4.0]))
    assert np.isnan(s.iloc[1])
    assert s.iloc[0] == pytest.approx(-1 / np.sqrt(2))


# --------------------------------------------------------------------------- quality summary
def test_quality_summary_matches_direct_counts(default_frame):
    q = quality_summary(default_frame).set_index("year")
    x = _answers(default_frame)
    k = x.shape[1]
    answered = (~np.isnan(x)).sum(axis=1)
    years = default_frame["year"].to_numpy(dtype="int64")
    assert list(q.index) == [*sorted(set(years.tolist())), "totaal"]
    for year in sorted(set(years.tolist())):
        sel = years == year
        # Reference: direct numpy counts of the rule per year
        assert q.loc[year, "rows"] == sel.sum()
        assert q.loc[year, "with_index"] == (2 * answered[sel] >= k).sum()
        assert q.loc[year, "without_index"] == (2 * answered[sel] < k).sum()
        assert q.loc[year, "all_items_answered"] == (answered[sel] == k).sum()
        assert q.loc[year, "missing_answers"] == np.isnan(x[sel]).sum()
    # Pupils without an index exist in the default data (the generator plants non-responders).
    assert q.loc["totaal", "without_index"] > 0


def test_quality_summary_total_is_sum_of_years(default_frame):
    q = quality_summary(default_frame).set_index("year")
    years = q.drop(index="totaal")
    for column in ["rows", "with_index", "without_index", "all_items_answered", "missing_answers"]:
        assert q.loc["totaal", column] == years[column].sum()
    assert q.loc["totaal", "rows"] == len(default_frame)
    assert (q["rows"] == q["with_index"] + q["without_index"]).all()


def test_quality_summary_agrees_with_add_index(default_frame):
    q = quality_summary(default_frame).set_index("year")
    assert q.loc["totaal", "with_index"] == add_index(default_frame)["index"].notna().sum()
