"""Sensitivity of every conclusion to the handling of parental education "onbekend" (issue 24, point 2), validated (point 5).

References: Rubin's rules written out by hand (Rubin 1987, eqs. 3.1.2–3.1.6: mean, within, between, total
variance, degrees of freedom), the complete-case and no-control variants refitted directly with
``adjusted_means`` and ``compare``, and the imputation checked for what it must do (only "onbekend" filled in,
only known levels, reproducible with its seed, different between imputations).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oml.stats import sensitivity as se
from oml.stats.comparisons import compare
from oml.stats.models import adjusted_means
from oml.stats.results import breakdowns


def unknown_by_school(frame: pd.DataFrame, share: float = 0.45, seed: int = 24) -> pd.DataFrame:
    """A delivery where "onbekend" is a matter of the school: some schools deliver no parental education at all,
    the others deliver it for (nearly) every pupil. Regions differ in how many of their schools deliver none."""
    out = frame.copy()
    rng = np.random.default_rng(seed)
    schools = out.groupby("school_id", observed=True)["region"].first()
    weight = schools.astype(str).map({r: w for r, w in zip(sorted(set(schools.astype(str))), (0.2, 0.5, 0.8, 0.35, 0.6, 0.4))})
    none = schools.index[rng.random(len(schools)) < weight.to_numpy() * share / 0.48]
    known = ~out["school_id"].isin(none)
    fill = pd.Series(rng.choice(["mbo of lager", "hbo", "wo"], len(out), p=[0.4, 0.38, 0.22]), index=out.index)
    was_unknown = out["parent_education"].astype(str) == "onbekend"
    out.loc[known & was_unknown, "parent_education"] = fill[known & was_unknown]
    out.loc[~known, "parent_education"] = "onbekend"
    return out


def test_rubin_by_hand():
    q = np.array([0.21, 0.25, 0.18, 0.30, 0.22])
    u = np.array([0.010, 0.012, 0.011, 0.009, 0.010])
    m = 5
    qbar = q.sum() / m
    wbar = u.sum() / m
    b = ((q - qbar) ** 2).sum() / (m - 1)
    total = wbar + (1 + 1 / m) * b
    df = (m - 1) * (1 + wbar / ((1 + 1 / m) * b)) ** 2
    got = se.rubin(q, u)
    assert got == pytest.approx((qbar, total, df), rel=1e-12)
    # Imputations that agree exactly: no between variance, normal reference.
    assert se.rubin([0.2, 0.2], [0.01, 0.01]) == (pytest.approx(0.2), pytest.approx(0.01), float("inf"))


def test_impute_fills_only_unknown_and_is_reproducible(small_frame):
    a = se.impute(small_frame, imputations=3, seed=9)
    b = se.impute(small_frame, imputations=3, seed=9)
    data = small_frame[small_frame["index"].notna()]
    unknown = (data["parent_education"].astype(str) == "onbekend").to_numpy()
    assert unknown.mean() > 0.5
    for x, y in zip(a, b):
        values = x["parent_education"].astype(str).to_numpy()
        assert (values == y["parent_education"].astype(str).to_numpy()).all()  # seed fixed
        assert set(values) <= {"mbo of lager", "hbo", "wo"}
        assert (values[~unknown] == data["parent_education"].astype(str).to_numpy()[~unknown]).all()
    # Proper imputation: the completed datasets differ (new parameter draws and donors each time).
    assert (a[0]["parent_education"].astype(str).to_numpy()[unknown] != a[1]["parent_education"].astype(str).to_numpy()[unknown]).mean() > 0.2


@pytest.fixture(scope="module")
def small_table(small_frame):
    return se.sensitivity(small_frame, breakdowns(small_frame), imputations=5)


def test_variants_are_the_direct_refits(small_frame, small_table):
    t = small_table
    known = small_frame[small_frame["parent_education"].astype(str) != "onbekend"]
    direct = compare(adjusted_means(known, "sex"))
    cc = t[(t["variant"] == "complete_cases") & (t["by"] == "sex")]
    for r in cc.itertuples(index=False):
        hit = direct[(direct["family"] == r.family) & (direct["group_a"] == r.group_a) & (direct["year_a"] == r.year_a)
                     & (direct["group_b"] == r.group_b)]
        assert r.estimate == pytest.approx(hit["estimate"].iloc[0], abs=1e-12)
        assert r.p_holm == pytest.approx(hit["p_holm"].iloc[0], abs=1e-12)
    nc = t[(t["variant"] == "no_control") & (t["by"] == "totaal")].iloc[0]
    ref = compare(adjusted_means(small_frame, None, controls=["sex", "age", "region"]))
    assert nc["estimate"] == pytest.approx(ref.loc[ref["family"] == "first_last", "estimate"].iloc[0], abs=1e-12)
    assert t[(t["by"] == "parent_education") & (t["variant"] == "no_control")].empty  # not a variant of Figure 4
    assert "onbekend" not in set(t["group_a"]) | set(t["group_b"])
    assert t.attrs["imputations"] == 5


def test_pooled_imputation_is_rubins_rules(small_frame, small_table):
    completed = se.impute(small_frame, imputations=5)
    fits = [compare(adjusted_means(d, None)) for d in completed]
    rows = [f[f["family"] == "first_last"].iloc[0] for f in fits]
    q, total, df = se.rubin([r["estimate"] for r in rows], [r["se"] ** 2 for r in rows])
    mine = small_table[(small_table["variant"] == "imputed") & (small_table["by"] == "totaal")].iloc[0]
    assert mine["estimate"] == pytest.approx(q, abs=1e-12)
    assert mine["se"] == pytest.approx(np.sqrt(total), rel=1e-12)
    assert mine["df"] == pytest.approx(df, rel=1e-12)


def test_unknown_as_a_school_matter(default_frame):
    from oml.stats.index import add_index

    data = add_index(unknown_by_school(default_frame))
    share = (data["parent_education"].astype(str) == "onbekend").mean()
    assert 0.3 < share < 0.7
    results = breakdowns(data)
    table = se.sensitivity(data, results, imputations=5)
    assert set(table["variant"]) == set(se.VARIANTS)
    assert table["p_holm"].between(0, 1).all() and np.isfinite(table["estimate"]).all()
    keys = se.key_comparisons(table)
    assert set(keys["by"]) == {"totaal", "sex", "parent_education", "region"}
    assert len(keys[keys["variant"] == "published"]) == 4
