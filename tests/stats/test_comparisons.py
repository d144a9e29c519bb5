"""Validation of the comparisons: contrasts, their SEs, Holm adjustment, the overlap rule."""
from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from statsmodels.stats.multitest import multipletests

from oml.stats.comparisons import COLUMNS, NOT_COMPARED, compare, not_compared
from oml.stats.models import BREAKDOWNS, AdjustedMeans, adjusted_means
from test_models import Reference  # the independent statsmodels path (own data, formula, parametrisation)


def holm(p: np.ndarray) -> np.ndarray:
    """Holm (1979) step-down by hand: sort p, multiply the i-th smallest (0-based) by m - i,
    take the running maximum, cap at 1, and put back in the original order."""
    p = np.asarray(p, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = stepped
    return out


# `frame` (default synthetic data with the index) and `means` (adjusted means of every figure)
# come from conftest.py, shared with the other statistics tests.


@pytest.fixture(scope="module")
def comparisons(means) -> dict:
    return {by: compare(am) for by, am in means.items()}


@pytest.fixture(scope="module")
def references(frame) -> dict:
    out = {}
    for by in BREAKDOWNS:
        ref = Reference(frame, by)
        out[by] = (ref, ref.cells())
    return out


def _cell(am: AdjustedMeans, year: int, group: str) -> pd.Series:
    t = am.table
    return t[(t["year"] == year) & (t["group"] == group)].iloc[0]


# --------------------------------------------------------------------------- estimates and SEs
@pytest.mark.parametrize("by", BREAKDOWNS)
def test_difference_equals_difference_of_cells(by, means, comparisons):
    am, c = means[by], comparisons[by]
    assert len(c) > 0
    for row in c.itertuples(index=False):
        a, b = _cell(am, row.year_a, row.group_a), _cell(am, row.year_b, row.group_b)
        assert row.estimate == pytest.approx(b["estimate"] - a["estimate"], abs=1e-12)


@pytest.mark.parametrize("by", BREAKDOWNS)
def test_difference_se_and_p_from_independent_fit(by, comparisons, references):
    ref, cells = references[by]
    v = np.asarray(ref.ols.cov_params())
    beta = np.asarray(ref.ols.params)
    for row in comparisons[by].itertuples(index=False):
        # Reference: contrast of the counterfactual mean design rows of the independent fit,
        # estimate d'b, se sqrt(d' V d) from results.cov_params, and the Wald test of statsmodels
        d = cells.loc[(row.year_b, row.group_b), "gradient"] - cells.loc[(row.year_a, row.group_a), "gradient"]
        assert row.estimate == pytest.approx(d @ beta, abs=1e-10)
        assert row.se == pytest.approx(np.sqrt(d @ v @ d), rel=1e-9)
        wald = ref.glm.t_test(d[None, :])
        assert row.p == pytest.approx(float(np.squeeze(wald.pvalue)), rel=1e-7, abs=1e-14)


@pytest.mark.parametrize("by", [None, "region"])
def test_difference_ci_and_level(by, means):
    c95 = compare(means[by])
    c90 = compare(means[by], level=0.90)
    np.testing.assert_allclose(c95["ci_high"] - c95["estimate"], norm.ppf(0.975) * c95["se"], atol=1e-14)
    np.testing.assert_allclose(c90["ci_high"] - c90["estimate"], norm.ppf(0.95) * c90["se"], atol=1e-14)
    assert ((c90["ci_high"] - c90["ci_low"]) < (c95["ci_high"] - c95["ci_low"])).all()
    # significance is judged at 1 - level
    assert (c90["significant"] == (c90["p_holm"] < 0.10)).all()


# --------------------------------------------------------------------------- Holm
@pytest.mark.parametrize("by", BREAKDOWNS)
def test_holm_within_family(by, comparisons):
    c = comparisons[by]
    for _family, part in c.groupby("family"):
        p = part["p"].to_numpy()
        # Reference: statsmodels multipletests(method="holm") within the family
        np.testing.assert_allclose(part["p_holm"], multipletests(p, method="holm")[1], rtol=0, atol=1e-12)
        # Reference: hand-written Holm step-down
        np.testing.assert_allclose(part["p_holm"], holm(p), rtol=0, atol=1e-12)
    assert (c["significant"] == (c["p_holm"] < 0.05)).all()


def test_hand_holm_on_known_values():
    # Worked example: p = (0.01, 0.04, 0.03, 0.005), m = 4 -> sorted 0.005, 0.01, 0.03, 0.04
    # times 4, 3, 2, 1 -> 0.02, 0.03, 0.06, 0.04 -> running max 0.02, 0.03, 0.06, 0.06
    np.testing.assert_allclose(holm(np.array([0.01, 0.04, 0.03, 0.005])), [0.03, 0.06, 0.06, 0.02], atol=1e-15)
    rng = np.random.default_rng(7)
    p = rng.uniform(size=9) ** 3
    np.testing.assert_allclose(holm(p), multipletests(p, method="holm")[1], atol=1e-12)


def test_holm_is_not_applied_across_families(comparisons):
    # A family's adjustment depends only on its own p-values.
    c = comparisons["region"]
    fl = c[c["family"] == "first_last"]
    np.testing.assert_allclose(fl["p_holm"], holm(fl["p"].to_numpy()), atol=1e-12)
    assert not np.allclose(fl["p_holm"], holm(c["p"].to_numpy())[fl.index])


# --------------------------------------------------------------------------- families
@pytest.mark.parametrize("by", BREAKDOWNS)
def test_family_sizes(by, frame, comparisons):
    c = comparisons[by]
    # Groups that say the background is unknown are drawn but compared with nothing.
    n_groups = 1 if by is None else frame[by].nunique() - len(not_compared(by))
    n_years = frame["year"].nunique()
    sizes = c.groupby("family").size().reindex(["first_last", "consecutive", "between"], fill_value=0)
    assert sizes["first_last"] == n_groups
    assert sizes["consecutive"] == n_groups * (n_years - 1)
    assert sizes["between"] == comb(n_groups, 2)
    assert c.columns.tolist() == COLUMNS


@pytest.mark.parametrize("by", BREAKDOWNS)
def test_family_contents(by, frame, comparisons):
    c = comparisons[by]
    years = sorted(frame["year"].unique())
    fl = c[c["family"] == "first_last"]
    assert (fl["year_a"] == years[0]).all() and (fl["year_b"] == years[-1]).all()
    assert (fl["group_a"] == fl["group_b"]).all()
    cons = c[c["family"] == "consecutive"]
    assert all(years.index(b) - years.index(a) == 1 for a, b in zip(cons["year_a"], cons["year_b"]))
    assert (cons["group_a"] == cons["group_b"]).all()
    betw = c[c["family"] == "between"]
    assert (betw["year_a"] == years[-1]).all() and (betw["year_b"] == years[-1]).all()
    if by is not None:
        order = [g for g in frame[by].cat.categories if g not in not_compared(by)]
        pairs = list(zip(betw["group_a"], betw["group_b"]))
        assert pairs == list(itertools.combinations(order, 2))


# --------------------------------------------------------------------------- overlap rule
@pytest.mark.parametrize("by", BREAKDOWNS)
def test_overlap_column_against_cis(by, means, comparisons):
    am = means[by]
    for row in comparisons[by].itertuples(index=False):
        a, b = _cell(am, row.year_a, row.group_a), _cell(am, row.year_b, row.group_b)
        # Reference: two intervals overlap when the larger lower bound is not above the smaller upper bound
        overlap = max(a["ci_low"], b["ci_low"]) <= min(a["ci_high"], b["ci_high"])
        assert row.overlap == overlap
        assert row.overlap_says_significant == (not overlap)
        assert row.disagree == (row.significant != (not overlap))
    # The default data contain one non-overlapping pair (Maastricht-Heuvelland vs Sittard-Geleen).
    if by == "region":
        assert (~comparisons[by]["overlap"]).sum() >= 1


def _two_cells(difference: float) -> AdjustedMeans:
    """One year, two groups with independent estimates 0 and ``difference``, both with se 1."""
    z = norm.ppf(0.975)
    est = np.array([0.0, difference])
    table = pd.DataFrame({"year": [2025, 2025], "group": ["a", "b"], "estimate": est, "se": [1.0, 1.0],
                          "ci_low": est - z, "ci_high": est + z, "n": [100, 100]})
    return AdjustedMeans(by="sex", level=0.95, table=table, gradients=np.eye(2), cov=np.eye(2), params=est)


@pytest.mark.parametrize(
    "difference, overlap, significant",
    [
        (3.0, True, True),  # |z| = 3/sqrt(2) = 2.12 > 1.96 although the intervals overlap (3 < 2 * 1.96)
        (5.0, False, True),  # intervals apart, significant
        (1.0, True, False),  # overlap, not significant
    ],
)
def test_disagree_flag(difference, overlap, significant):
    c = compare(_two_cells(difference))
    assert len(c) == 1
    row = c.iloc[0]
    # Reference: normal test of a difference of two independent estimates with se 1
    assert row["se"] == pytest.approx(np.sqrt(2.0), abs=1e-15)
    assert row["p"] == pytest.approx(2 * norm.sf(difference / np.sqrt(2.0)), rel=1e-12)
    assert row["overlap"] == overlap
    assert row["significant"] == significant
    assert row["disagree"] == (overlap == significant)


# --------------------------------------------------------------------------- excluded and empty cells
def test_excluded_cells_are_left_out(means):
    am = means["region"]
    t = am.table
    last = int(t["year"].max())
    excluded = ((t["year"] == last) & (t["group"] == "Sittard-Geleen")).to_numpy()
    c = compare(am, exclude=excluded)
    involved = ((c["year_a"] == last) & (c["group_a"] == "Sittard-Geleen")) | (
        (c["year_b"] == last) & (c["group_b"] == "Sittard-Geleen"))
    assert not involved.any()
    full = compare(am)
    sizes = c.groupby("family").size()
    # one first_last, one consecutive (2024 -> 2025) and (#groups - 1) between comparisons go
    assert sizes["first_last"] == 4 and sizes["consecutive"] == 9 and sizes["between"] == 6
    assert len(full) - len(c) == 1 + 1 + 4
    # Holm runs over the comparisons that remain
    for _family, part in c.groupby("family"):
        np.testing.assert_allclose(part["p_holm"], holm(part["p"].to_numpy()), atol=1e-12)


def test_cells_with_n_zero_are_skipped():
    # Hand-made figure: two years x two groups, cell (2025, b) empty (n = 0, no estimate).
    z = norm.ppf(0.975)
    est = np.array([0.0, 0.1, 0.2, np.nan])
    table = pd.DataFrame({"year": [2023, 2023, 2025, 2025], "group": ["a", "b", "a", "b"], "estimate": est,
                          "se": [0.1, 0.1, 0.1, np.nan], "ci_low": est - z * 0.1, "ci_high": est + z * 0.1,
                          "n": [50, 50, 50, 0]})
    am = AdjustedMeans(by="sex", level=0.95, table=table, gradients=np.eye(4), cov=0.01 * np.eye(4),
                       params=np.nan_to_num(est))
    c = compare(am)
    assert list(zip(c["family"], c["group_a"], c["year_a"], c["group_b"], c["year_b"])) == [
        ("first_last", "a", 2023, "a", 2025), ("consecutive", "a", 2023, "a", 2025)]


def test_empty_cell_is_not_compared(frame):
    # Also guards against the empty cell's all-zero design column reaching the fit (a rank-deficient
    # design: a SingularMatrixWarning, an error under filterwarnings=error).
    last = int(frame["year"].max())
    data = frame[~((frame["parent_education"] == "wo") & (frame["year"] == last))]
    am = adjusted_means(data, "parent_education")
    empty = am.table[(am.table["year"] == last) & (am.table["group"] == "wo")].iloc[0]
    assert empty["n"] == 0 and np.isnan(empty["estimate"])
    c = compare(am)
    assert not (((c["group_a"] == "wo") & (c["year_a"] == last)) | ((c["group_b"] == "wo") & (c["year_b"] == last))).any()
    assert c[["estimate", "se", "p", "p_holm"]].notna().all().all()


# --------------------------------------------------------------------------- "onbekend": drawn, never compared
def test_unknown_parent_education_is_in_no_comparison(means, comparisons):
    c = comparisons["parent_education"]
    assert not_compared("parent_education") == ("onbekend",)
    assert not (c["group_a"].eq("onbekend") | c["group_b"].eq("onbekend")).any()
    # ... but its cells are estimated and drawn like the others.
    t = means["parent_education"].table
    assert t.loc[t["group"] == "onbekend", "estimate"].notna().all()


def test_not_compared_names_real_categories():
    from oml.data.contract import CATEGORIES

    for variable, groups in NOT_COMPARED.items():
        assert set(groups) <= set(CATEGORIES[variable])


def test_holm_family_of_the_known_groups_is_their_own(means, comparisons):
    # Reference: Holm over the p-values of the known groups' pairs alone (hand-written step-down above),
    # p from the two-sided normal test of each pair's delta-method contrast.
    c = comparisons["parent_education"]
    between = c[c["family"] == "between"]
    known = [g for g in means["parent_education"].table["group"].unique() if g != "onbekend"]
    assert sorted(set(between["group_a"]) | set(between["group_b"])) == sorted(known)
    assert len(between) == comb(len(known), 2)
    np.testing.assert_allclose(between["p_holm"], holm(between["p"].to_numpy()), atol=1e-12)


def test_school_dependent_unknown_gives_no_finding_about_it(frame, monkeypatch):
    # "Onbekend" made a matter of the school: every pupil of a third of the schools, and those schools score
    # higher. Tested as a group (the rule before), "onbekend" came out "higher" than the known groups.
    from oml.stats import comparisons
    from oml.stats.results import breakdown

    data = frame.copy()
    schools = data["school_id"].unique()
    third = set(np.random.default_rng(11).choice(schools, len(schools) // 3, replace=False))
    whole = data["school_id"].isin(third).to_numpy()
    data.loc[whole, "parent_education"] = "onbekend"
    data.loc[whole, "index"] += 0.6
    with monkeypatch.context() as m:
        m.setattr(comparisons, "NOT_COMPARED", {})
        before = breakdown(data, "parent_education").findings
    assert "onbekend" in [d.higher for d in before.differences]
    b = breakdown(data, "parent_education")
    f = b.findings
    assert f.not_compared == ["onbekend"]
    assert all("onbekend" not in (d.higher, d.lower) for d in f.differences)
    assert "onbekend" not in [t.group for t in f.trends]
    assert not (b.comparisons["group_a"].eq("onbekend") | b.comparisons["group_b"].eq("onbekend")).any()
    assert b.table.loc[b.table["group"] == "onbekend", "estimate"].notna().all()
