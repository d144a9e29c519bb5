"""Validation of the answer distribution (Figure 1) against direct pandas crosstabs."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oml.data.contract import ANSWER_RANGE, item_columns
from oml.stats.distribution import POOLED, agreement, answer_distribution
from oml.data.synth import load_config


@pytest.fixture(scope="module")
def dist(default_frame) -> pd.DataFrame:
    return answer_distribution(default_frame)


def _long(data: pd.DataFrame) -> pd.DataFrame:
    """One row per answered statement: year, item, answer (blank answers dropped)."""
    items = item_columns(data.columns)
    long = data[["year", *items]].astype({c: "float64" for c in items}).melt(id_vars="year", var_name="item", value_name="answer")
    return long.dropna(subset=["answer"]).astype({"answer": "int64", "year": "int64"})


def test_percentages_sum_to_100(dist):
    sums = dist.groupby(["period", "item"])["percent"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 100.0, atol=1e-9)


def test_n_is_answered_count(default_frame, dist):
    years = default_frame["year"].astype("int64")
    for (period, item), part in dist.groupby(["period", "item"]):
        sel = np.ones(len(default_frame), bool) if period == POOLED else (years == period).to_numpy()
        # Reference: count of non-blank answers in the period
        assert (part["n"] == default_frame.loc[sel, item].notna().sum()).all()
        assert part["count"].sum() == part["n"].iloc[0]


def test_pooled_equals_crosstab(default_frame, dist):
    long = _long(default_frame)
    lo, hi = ANSWER_RANGE
    # Reference: pandas crosstab of item x answer, row-normalised, all years together
    ref = pd.crosstab(long["item"], long["answer"], normalize="index").reindex(columns=range(lo, hi + 1), fill_value=0) * 100
    counts = pd.crosstab(long["item"], long["answer"]).reindex(columns=range(lo, hi + 1), fill_value=0)
    pooled = dist[dist["period"] == POOLED]
    got = pooled.pivot(index="item", columns="answer", values="percent")
    got_counts = pooled.pivot(index="item", columns="answer", values="count")
    np.testing.assert_allclose(got.loc[ref.index, ref.columns].to_numpy(), ref.to_numpy(), atol=1e-10)
    np.testing.assert_array_equal(got_counts.loc[counts.index, counts.columns].to_numpy(), counts.to_numpy())


def test_per_year_rows_equal_crosstab(default_frame, dist):
    long = _long(default_frame)
    lo, hi = ANSWER_RANGE
    items = item_columns(default_frame.columns)
    years = sorted(long["year"].unique())
    assert list(dict.fromkeys(dist["period"])) == [POOLED, *years]
    assert len(dist) == (1 + len(years)) * len(items) * (hi - lo + 1)
    for year in years:
        part = long[long["year"] == year]
        # Reference: per-year pandas crosstab
        ref = pd.crosstab(part["item"], part["answer"], normalize="index").reindex(columns=range(lo, hi + 1), fill_value=0) * 100
        got = dist[dist["period"] == year].pivot(index="item", columns="answer", values="percent")
        np.testing.assert_allclose(got.loc[ref.index, ref.columns].to_numpy(), ref.to_numpy(), atol=1e-10)


def test_unused_answer_has_zero_row():
    frame = pd.DataFrame({"year": [2023, 2023], "item_a": pd.array([5, 5], dtype="Int64")})
    d = answer_distribution(frame)
    pooled = d[d["period"] == POOLED].set_index("answer")
    assert pooled.loc[1, "count"] == 0 and pooled.loc[1, "percent"] == 0.0
    assert pooled.loc[5, "percent"] == 100.0


@pytest.mark.parametrize("item", ["item_praten", "item_gemak"])
def test_agreement_within_config_target(default_frame, item):
    targets = load_config()["targets"]
    got = agreement(default_frame, item)
    # Reference: direct share of 4-or-5 among answered
    answered = default_frame[item].dropna().astype("int64")
    assert got == pytest.approx((answered >= 4).mean(), abs=1e-15)
    assert abs(got - targets["agree"][item]) <= targets["agree_tolerance"]
