"""Validation of the ICC and the design effect (oml.stats.clustering) against independent computations."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from oml.stats.clustering import COLUMNS, clustering_by_period, design_effect, icc_anova


def _simulate(sizes, icc: float, rng) -> pd.DataFrame:
    """y = u_school + e, var(u) = icc, var(e) = 1 - icc: a random-intercept model with a known ICC."""
    sizes = np.asarray(sizes)
    school = np.repeat(np.arange(len(sizes)), sizes)
    u = rng.normal(0.0, np.sqrt(icc), len(sizes))
    return pd.DataFrame({"school_id": school.astype(str), "y": u[school] + rng.normal(0.0, np.sqrt(1 - icc), len(school))})


def _icc1_by_hand(y, school) -> float:
    """ICC(1) of Shrout & Fleiss (1979), in Donner's (1986) form for unequal groups, written out with plain loops:
    (MSB - MSW) / (MSB + (n0 - 1) MSW), n0 = (N - sum m^2 / N) / (G - 1)."""
    groups: dict[str, list[float]] = {}
    for value, g in zip(y, school):
        groups.setdefault(g, []).append(float(value))
    n = sum(len(v) for v in groups.values())
    k = len(groups)
    grand = sum(sum(v) for v in groups.values()) / n
    ssb = sum(len(v) * (sum(v) / len(v) - grand) ** 2 for v in groups.values())
    ssw = sum(sum((x - sum(v) / len(v)) ** 2 for x in v) for v in groups.values())
    msb, msw = ssb / (k - 1), ssw / (n - k)
    n0 = (n - sum(len(v) ** 2 for v in groups.values()) / n) / (k - 1)
    return (msb - msw) / (msb + (n0 - 1) * msw)


def _reml(y, school) -> tuple[float, float]:
    """Reference: statsmodels' random-intercept model (MixedLM, REML), y ~ 1 with a school intercept."""
    import statsmodels.api as sm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.MixedLM(np.asarray(y, dtype=float), np.ones((len(y), 1)), groups=np.asarray(school)).fit(reml=True)
    return float(np.asarray(fit.cov_re)[0, 0]), float(fit.scale)


def test_known_icc_is_recovered():
    # 400 schools of 30 pupils with a true ICC of 0.10: the sampling sd of the estimate is about 0.008.
    data = _simulate(np.full(400, 30), 0.10, np.random.default_rng(1))
    icc, between, within = icc_anova(data["y"], data["school_id"])
    assert icc == pytest.approx(0.10, abs=0.03)
    assert between + within == pytest.approx(1.0, abs=0.05)


def test_anova_equals_the_hand_written_icc1_on_unequal_schools():
    rng = np.random.default_rng(2)
    data = _simulate(rng.integers(3, 60, size=80), 0.05, rng)
    assert icc_anova(data["y"], data["school_id"])[0] == pytest.approx(_icc1_by_hand(data["y"], data["school_id"]), abs=1e-12)


def test_anova_equals_reml_when_schools_are_equal():
    # In a balanced one-way design the REML estimates are the ANOVA estimates (when the between-school one is
    # positive): Searle, Casella & McCulloch (1992), section 6.3. The reference is statsmodels' MixedLM.
    data = _simulate(np.full(60, 25), 0.08, np.random.default_rng(3))
    icc, between, within = icc_anova(data["y"], data["school_id"])
    reml_between, reml_within = _reml(data["y"], data["school_id"])
    assert between == pytest.approx(reml_between, rel=1e-3)
    assert within == pytest.approx(reml_within, rel=1e-4)


def test_anova_is_close_to_reml_on_the_default_data(frame):
    # Unequal schools: the two estimators differ, but only in the fourth decimal on these data.
    current = frame[frame["index"].notna()]
    icc = icc_anova(current["index"], current["school_id"])[0]
    between, within = _reml(current["index"], current["school_id"].astype(str))
    assert icc == pytest.approx(between / (between + within), abs=1e-3)


def test_negative_between_estimate_is_zero():
    # Schools that differ less than chance gives: MSB < MSW, the ICC is set to 0 (not negative).
    y = np.array([0.0, 2.0, 1.0, 1.0, 2.0, 0.0])
    assert icc_anova(y, ["a", "a", "b", "b", "c", "c"]) == (0.0, 0.0, pytest.approx(4 / 3))


def test_design_effect_is_the_variance_ratio_of_a_pupil_weighted_mean():
    # Reference: Monte Carlo. Under the random-intercept model the variance of the mean over all pupils,
    # divided by its variance for independent pupils (1 / N), is the design effect with the size-weighted m.
    rng = np.random.default_rng(4)
    sizes = rng.integers(5, 80, size=40)
    icc, reps = 0.1, 20000
    school = np.repeat(np.arange(len(sizes)), sizes)
    u = rng.normal(0.0, np.sqrt(icc), (reps, len(sizes)))
    means = (u[:, school].sum(axis=1) + rng.normal(0.0, np.sqrt((1 - icc) * sizes.sum()), reps)) / sizes.sum()
    assert means.var() * sizes.sum() == pytest.approx(design_effect(icc, sizes), rel=0.04)
    # ... and with equal schools it is the textbook 1 + (m - 1) ICC
    assert design_effect(icc, np.full(10, 25)) == pytest.approx(1 + 24 * icc, abs=1e-12)
    # unequal schools weigh more than their plain mean size says
    assert design_effect(icc, sizes) > 1 + (sizes.mean() - 1) * icc


def test_by_period_on_the_default_data(long_frame):
    from oml.data import scales

    table = clustering_by_period(long_frame)
    assert table.columns.tolist() == COLUMNS
    assert table["period"].tolist() == [s.name for s, _ in scales.periods(long_frame)]
    for row in table.itertuples(index=False):
        part = long_frame[long_frame["year"].between(row.first_year, row.last_year) & long_frame["index"].notna()]
        assert row.pupils == len(part) and row.schools == part["school_id"].nunique()
        assert row.icc == pytest.approx(_icc1_by_hand(part["index"], part["school_id"].astype(str)), abs=1e-10)
        sizes = part.groupby("school_id", observed=True).size()
        assert row.mean_size == pytest.approx(sizes.mean()) and row.weighted_size == pytest.approx((sizes ** 2).sum() / sizes.sum())
        assert row.design_effect == pytest.approx(1 + (row.weighted_size - 1) * row.icc)
        assert row.effective_n == pytest.approx(row.pupils / row.design_effect)
        assert row.width_factor == pytest.approx(np.sqrt(row.design_effect))
    # The generator's latent school sd of 0.22 (ICC 0.048 on the latent scale) shows through the items.
    assert table["icc"].between(0.02, 0.08).all()


def test_one_school_gives_no_row(frame):
    one = frame[frame["school_id"] == frame["school_id"].iloc[0]]
    assert clustering_by_period(one).empty
    with pytest.raises(ValueError, match="two clusters"):
        icc_anova(one["index"], one["school_id"])
