"""Validation of Cronbach's alpha, its Feldt interval and the item statistics against pingouin."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin
import pytest
from scipy.stats import f as f_dist

from oml.data.contract import item_columns
from oml.stats.reliability import cronbach_alpha, item_statistics
from oml.data.synth import load_config


@pytest.fixture(scope="module")
def complete(default_frame) -> pd.DataFrame:
    """Listwise complete cases as float (pingouin needs numeric columns and counts n before its own listwise step)."""
    return default_frame[item_columns(default_frame.columns)].dropna().astype("float64")


# A small hand-made set: 8 pupils x 4 items, with one blank answer (row 3) to exercise listwise deletion.
HAND = pd.DataFrame(
    {
        "item_a": [1, 2, 3, 4, 5, 3, 4, 2],
        "item_b": [2, 2, 3, 5, 5, 4, 4, 1],
        "item_c": [1, 3, None, 4, 4, 3, 5, 2],
        "item_d": [2, 1, 3, 4, 5, 2, 4, 3],
    },
    dtype="Int64",
)


def _feldt(alpha: float, n: int, k: int, level: float) -> tuple[float, float]:
    """Feldt (1965): (1 - alpha) / (1 - alpha_hat) ~ F(n - 1, (n - 1)(k - 1)); written with lower-tail ppf."""
    df1, df2 = n - 1, (n - 1) * (k - 1)
    tail = (1 - level) / 2
    low = 1 - (1 - alpha) * f_dist.ppf(1 - tail, df1, df2)
    high = 1 - (1 - alpha) * f_dist.ppf(tail, df1, df2)
    return low, high


@pytest.mark.parametrize("which", ["synthetic", "hand"])
def test_alpha_equals_pingouin(which, default_frame, complete):
    frame, ref_data = (default_frame, complete) if which == "synthetic" else (HAND, HAND.dropna().astype("float64"))
    got = cronbach_alpha(frame)
    # Reference: pingouin.cronbach_alpha on the complete cases (listwise)
    ref_alpha, ref_ci = pingouin.cronbach_alpha(data=ref_data)
    assert got["alpha"] == pytest.approx(ref_alpha, abs=1e-10)
    # pingouin rounds its interval to 3 decimals
    assert got["ci_low"] == pytest.approx(ref_ci[0], abs=1e-3)
    assert got["ci_high"] == pytest.approx(ref_ci[1], abs=1e-3)
    assert got["n"] == len(ref_data)
    assert got["k"] == ref_data.shape[1]


def test_hand_set_alpha_by_formula():
    x = HAND.dropna().to_numpy(dtype="float64")
    k = x.shape[1]
    # Reference: alpha from the covariance matrix, k/(k-1) * (1 - trace(C) / sum(C))
    c = np.cov(x, rowvar=False, ddof=1)
    expected = k / (k - 1) * (1 - np.trace(c) / c.sum())
    assert cronbach_alpha(HAND)["alpha"] == pytest.approx(expected, abs=1e-12)
    assert cronbach_alpha(HAND)["n"] == 7  # one row with a blank answer is dropped


@pytest.mark.parametrize("level", [0.95, 0.99, 0.90])
@pytest.mark.parametrize("which", ["synthetic", "hand"])
def test_feldt_interval_equals_scipy_formula(which, level, default_frame):
    frame = default_frame if which == "synthetic" else HAND
    got = cronbach_alpha(frame, level=level)
    low, high = _feldt(got["alpha"], got["n"], got["k"], level)
    # Reference: Feldt (1965) interval computed here with scipy.stats.f.ppf
    assert got["ci_low"] == pytest.approx(low, abs=1e-10)
    assert got["ci_high"] == pytest.approx(high, abs=1e-10)
    assert got["ci_low"] < got["alpha"] < got["ci_high"]
    assert got["level"] == level


def test_feldt_interval_level_matches_pingouin_ci_argument(complete, default_frame):
    got = cronbach_alpha(default_frame, level=0.99)
    # Reference: pingouin's own Feldt interval at ci=0.99 (rounded to 3 decimals)
    _, ref_ci = pingouin.cronbach_alpha(data=complete, ci=0.99)
    assert got["ci_low"] == pytest.approx(ref_ci[0], abs=1e-3)
    assert got["ci_high"] == pytest.approx(ref_ci[1], abs=1e-3)


def test_level_99_wider_than_95(default_frame):
    a95, a99 = cronbach_alpha(default_frame, 0.95), cronbach_alpha(default_frame, 0.99)
    assert a99["ci_low"] < a95["ci_low"] and a99["ci_high"] > a95["ci_high"]
    assert a99["alpha"] == a95["alpha"]


def test_synthetic_alpha_hits_config_target(default_frame):
    targets = load_config()["targets"]
    assert abs(cronbach_alpha(default_frame)["alpha"] - targets["alpha"]) <= targets["alpha_tolerance"]


@pytest.mark.parametrize("which", ["synthetic", "hand"])
def test_item_statistics_against_pandas_and_pingouin(which, default_frame):
    frame = default_frame if which == "synthetic" else HAND
    items = item_columns(frame.columns)
    comp = frame[items].dropna().astype("float64")
    stats = item_statistics(frame).set_index("item")
    assert list(stats.index) == items
    for item in items:
        rest = comp.drop(columns=item).sum(axis=1)
        # Reference: pandas Pearson correlation of the item with the sum of the other items
        assert stats.loc[item, "item_rest_r"] == pytest.approx(comp[item].corr(rest), abs=1e-12)
        assert stats.loc[item, "item_rest_r"] == pytest.approx(np.corrcoef(comp[item], rest)[0, 1], abs=1e-12)
        # Reference: pingouin alpha on the remaining columns
        ref_alpha, _ = pingouin.cronbach_alpha(data=comp.drop(columns=item))
        assert stats.loc[item, "alpha_if_deleted"] == pytest.approx(ref_alpha, abs=1e-10)
        assert stats.loc[item, "mean"] == pytest.approx(comp[item].mean(), abs=1e-12)
        assert stats.loc[item, "sd"] == pytest.approx(comp[item].std(ddof=1), abs=1e-12)
        assert stats.loc[item, "n"] == len(comp)


def test_alpha_if_deleted_two_items_is_missing():
    frame = HAND[["item_a", "item_b"]]
    assert item_statistics(frame)["alpha_if_deleted"].isna().all()
