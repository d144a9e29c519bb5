"""Statistics of the feedback reports (:mod:`oml.stats.units`): model, tests, funnel, disclosure."""
from __future__ import annotations

import statistics

import numpy as np
import pandas as pd
import patsy
import pytest
import statsmodels.api as sm
from scipy.stats import t as t_dist
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.outliers_influence import OLSInfluence

from oml.stats import units as fb

MIN_CELL = 10


# `small_frame` (a small synthetic dataset with the index, about 40 schools) comes from conftest.py.


def _school(frame: pd.DataFrame, rank: int = 0) -> str:
    """A school with at least 15 pupils in every year (the ``rank``-th such school by id)."""
    counts = frame.groupby(["school_id", "year"], observed=True).size().unstack(fill_value=0)
    return sorted(counts.index[(counts >= 15).all(axis=1)])[rank]


# --------------------------------------------------------------------------- against statsmodels
def _spread_reference(frame: pd.DataFrame):
    """Independent path for :func:`fb.school_spread`: (tau^2, within variance, Q, schools).

    statsmodels OLS of the index on ``C(school|year)`` and the controls (patsy dummies); each school's adjusted
    mean is the mean over its pupils of index minus the controls' fitted part; the within variance is the
    model's residual variance; tau^2 is statsmodels' DerSimonian–Laird (``combine_effects(method_re="dl")``).
    """
    data = frame.loc[frame["index"].notna()].copy()
    data["cell"] = data["school_id"].astype(str) + "|" + data["year"].astype(int).astype(str)
    data["sex"], data["parent_education"] = data["sex"].astype(str), data["parent_education"].astype(str)
    y, x = patsy.dmatrices("index ~ 0 + C(cell) + C(sex) + age + C(parent_education)", data, return_type="dataframe")
    res = sm.OLS(y, x).fit()
    controls = [c for c in x.columns if not c.startswith("C(cell)")]
    adjusted = data["index"].to_numpy() - x[controls].to_numpy() @ res.params[controls].to_numpy()
    per_school = pd.Series(adjusted).groupby(data["school_id"].astype(str).to_numpy())
    means, sizes = per_school.mean(), per_school.size()
    meta = combine_effects(means.to_numpy(), res.scale / sizes.to_numpy(), method_re="dl")
    return float(meta.tau2), float(res.scale), float(meta.q), len(means)


def test_school_spread_matches_statsmodels_dersimonian_laird(small_frame):
    spread = fb.school_spread(small_frame)
    tau2, scale, q, schools = _spread_reference(small_frame)
    assert spread.schools == schools
    assert spread.within_sd ** 2 == pytest.approx(scale, rel=1e-9)
    assert spread.q == pytest.approx(q, rel=1e-8)
    assert spread.between_var == pytest.approx(tau2, rel=1e-8)
    assert spread.icc == pytest.approx(tau2 / (tau2 + scale), rel=1e-8)


def _reference(frame: pd.DataFrame, kind: str, unit: str, level: float = 0.95) -> dict:
    """Independent path: patsy formula with an intercept and treatment coding fitted by statsmodels, the adjusted
    means as averaged counterfactual design rows (Stata ``margins``), and the covariance written out from its
    definition: HC2 for the unit's pupils with statsmodels' leverages (``OLSInfluence.hat_matrix_diag``;
    MacKinnon & White 1985), CR1 by school for the other pupils (statsmodels' ``cov_type="cluster"`` factor), and for
    a board tau^2 Z Z' over its pupils (a dense random-intercept covariance, tau^2 from :func:`_spread_reference`).
    Degrees of freedom: Bell–McCaffrey from the dense matrix C = D_u (I - H_UU) D_u, other schools in the contrast's
    cells minus 1, schools minus 1; Welch–Satterthwaite over the three."""
    mask = fb.unit_mask(frame, kind, unit)
    region = fb.unit_region(frame, mask) if kind == "school" else None
    data = frame.loc[frame["index"].notna()].copy()
    own = mask[data.index].to_numpy()
    part = np.where(own, "unit", np.where((data["region"].astype(str) == region).to_numpy() if region else False, "region", "limburg"))
    if kind == "board":
        # A board counts what its schools' reports show: shown school-years in its years, hidden years of a shown
        # school in its period only ("pooled"), small schools not at all (they join the rest of Limburg).
        cover = fb.board_coverage(frame, unit)
        school, year = data["school_id"].astype(str).to_numpy(), data["year"].astype(int).to_numpy()
        for k in np.flatnonzero(own):
            if school[k] not in cover.schools or year[k] in cover.not_counted.get(school[k], ()):
                part[k], own[k] = "limburg", False
            elif year[k] in cover.period_only.get(school[k], ()):
                part[k] = "pooled"
    data["cell"] = data["year"].astype(int).astype(str) + "|" + part
    data["sex"] = data["sex"].astype(str)
    data["parent_education"] = data["parent_education"].astype(str)
    y, x = patsy.dmatrices("index ~ C(cell) + C(sex) + age + C(parent_education)", data, return_type="dataframe")
    res = sm.OLS(y, x).fit()
    xm, e = x.to_numpy(), res.resid.to_numpy()
    n_obs, k_par = xm.shape
    bread = res.normalized_cov_params.to_numpy()  # statsmodels' (X'X)^-1
    h = OLSInfluence(res).hat_matrix_diag
    hc2 = xm[own] * (e[own] / np.sqrt(1 - h[own]))[:, None]
    cov_unit = bread @ hc2.T @ hc2 @ bread
    schools = data["school_id"].astype(str).to_numpy()
    scores = pd.DataFrame(xm[~own] * e[~own][:, None]).groupby(schools[~own]).sum().to_numpy()
    g = len(scores)
    cov_other = (g / (g - 1)) * ((n_obs - 1) / (n_obs - k_par)) * bread @ scores.T @ scores @ bread
    cov_between = np.zeros_like(cov_unit)
    tau2 = _spread_reference(frame)[0]
    if kind == "board":
        z = (schools[own][:, None] == schools[own][None, :]).astype(float)  # Z Z' over the board's pupils
        cov_between = bread @ xm[own].T @ (tau2 * z) @ xm[own] @ bread
    cov = cov_unit + cov_other + cov_between
    info = x.design_info
    rows = {}
    for cell in data["cell"].unique():
        counterfactual = data.assign(cell=cell)
        rows[cell] = np.asarray(patsy.build_design_matrices([info], counterfactual)[0]).mean(axis=0)
    n = data["cell"].value_counts()
    members = {"unit": ("unit",), "region": ("unit", "region"), "limburg": ("unit", "pooled", "region", "limburg")}
    other_schools = {c: set(schools[(data["cell"].to_numpy() == c) & ~own]) for c in rows}
    hat_uu = xm[own] @ bread @ xm[own].T
    n_schools = data["school_id"].nunique()

    def weights(year, group) -> dict:
        parts = ("unit", "pooled") if (year, group) == ("totaal", "unit") else members[group]
        cells = [c for c in rows if (year == "totaal" or c.startswith(f"{year}|")) and c.split("|")[1] in parts]
        total = sum(n[c] for c in cells)
        return {c: n[c] / total for c in cells}

    def contrast(wa: dict, wb: dict | None = None) -> dict:
        wb = wb or {}
        d = sum(w * rows[c] for c, w in wa.items()) - sum((w * rows[c] for c, w in wb.items()), np.zeros(k_par))
        variances = [float(d @ v @ d) for v in (cov_unit, cov_between, cov_other)]
        u = (xm[own] @ bread @ d) / np.sqrt(1 - h[own])
        c_mat = np.diag(u) @ (np.eye(len(u)) - hat_uu) @ np.diag(u)
        unit_df = np.trace(c_mat) ** 2 / (c_mat ** 2).sum()
        used = {c for c in set(wa) | set(wb) if abs(wa.get(c, 0.0) - wb.get(c, 0.0)) > 0}
        involved = set().union(*(other_schools[c] for c in used)) if used else set()
        other_df = len(involved) - 1 if len(involved) >= 2 else g - 1
        dfs = (unit_df, n_schools - 1, other_df)
        df = sum(variances) ** 2 / sum(v * v / f for v, f in zip(variances, dfs) if v > 0)
        return {"estimate": float(d @ res.params.to_numpy()), "se": float(np.sqrt(d @ cov @ d)), "df": float(df)}

    out = {}
    for year in [*sorted(data["year"].astype(int).unique()), "totaal"]:
        for group in (["unit", "region", "limburg"] if region else ["unit", "limburg"]):
            w = weights(year, group)
            out[(str(year), group)] = {**contrast(w), "n": int(sum(n[c] for c in w)), "weights": w}
    return {"means": out, "contrast": contrast}


@pytest.mark.parametrize("kind", ["school", "board"])
def test_adjusted_means_match_statsmodels_counterfactual_margins(small_frame, kind):
    unit = _school(small_frame) if kind == "school" else small_frame["board_id"].value_counts().index[0]
    um = fb.adjusted_unit_means(small_frame, kind, unit, min_cell=MIN_CELL)
    ref = _reference(small_frame, kind, unit)
    for r in um.table.itertuples(index=False):
        if r.suppressed:
            continue
        cell = ref["means"][(str(r.year), r.group)]
        # Reference: statsmodels OLS (patsy, intercept + treatment coding) and the covariance from its definition
        # (see _reference); margins as averaged counterfactual design rows.
        assert r.estimate == pytest.approx(cell["estimate"], abs=1e-10)
        assert r.se == pytest.approx(cell["se"], rel=1e-8)
        assert r.df == pytest.approx(cell["df"], rel=1e-6)
        # Interval: the t quantile of scipy.stats.t (the code uses scipy.special.stdtrit).
        half = t_dist.ppf(0.975, cell["df"]) * cell["se"]
        assert (r.ci_low, r.ci_high) == pytest.approx((cell["estimate"] - half, cell["estimate"] + half), abs=1e-10)
        assert r.n == cell["n"]


def test_comparisons_match_statsmodels_and_bonferroni(small_frame):
    unit = _school(small_frame, 1)
    um = fb.adjusted_unit_means(small_frame, "school", unit, min_cell=MIN_CELL)
    ref = _reference(small_frame, "school", unit)
    c = um.comparisons
    for (_family, _), part in c.groupby(["family", "group_b"]):
        p_ref = []
        for r in part.itertuples(index=False):
            got = ref["contrast"](ref["means"][(str(r.year_a), r.group_a)]["weights"],
                                  ref["means"][(str(r.year_b), r.group_b)]["weights"])
            assert r.estimate == pytest.approx(got["estimate"], abs=1e-10)
            assert r.se == pytest.approx(got["se"], rel=1e-8)
            assert r.df == pytest.approx(got["df"], rel=1e-6)
            p_ref.append(2 * t_dist.sf(abs(got["estimate"] / got["se"]), got["df"]))
            # The interval is the test's: level 1 - alpha/m for a family of m tests.
            half = t_dist.ppf(1 - 0.05 / (2 * len(part)), got["df"]) * got["se"]
            assert r.ci_level == pytest.approx(1 - 0.05 / len(part))
            assert (r.ci_low, r.ci_high) == pytest.approx((got["estimate"] - half, got["estimate"] + half), abs=1e-10)
        # Reference: statsmodels multipletests(method="bonferroni") within each family (one reference each).
        np.testing.assert_allclose(part["p"], p_ref, rtol=1e-8)
        np.testing.assert_allclose(part["p_adjusted"], multipletests(p_ref, method="bonferroni")[1], rtol=1e-8)
    assert set(c["family"]) == {"limburg", "region", "first_last", "period"}
    assert (c["group_a"] == "unit").all()
    # Every interval belongs to its test: significant exactly when it leaves out 0.
    assert (c["significant"] == ((c["ci_low"] > 0) | (c["ci_high"] < 0))).all()
    period = c[c["family"] == "period"]
    assert (period["p_adjusted"] == period["p"]).all() and (period["ci_level"] == 0.95).all()


def test_unit_standard_error_reflects_its_pupils_not_one_cluster(small_frame):
    # With the unit as ONE cluster its cell residuals sum to zero and its se would collapse; per-pupil
    # clusters give about sd / sqrt(n), as for a simple mean.
    unit = _school(small_frame)
    um = fb.adjusted_unit_means(small_frame, "school", unit)
    own = um.period("unit")
    assert own.se == pytest.approx(um.residual_sd / np.sqrt(own.n), rel=0.35)


def test_planted_school_effect_is_found(small_frame):
    unit = _school(small_frame, 2)
    shifted = small_frame.copy()
    shifted.loc[shifted["school_id"] == unit, "index"] += 1.0
    base = fb.adjusted_unit_means(small_frame, "school", unit).period("unit").estimate
    um = fb.adjusted_unit_means(shifted, "school", unit)
    assert um.period("unit").estimate - base == pytest.approx(1.0, abs=1e-9)
    period = um.comparisons[um.comparisons["family"] == "period"]
    assert period["significant"].all() and (period["estimate"] > 0).all()


# --------------------------------------------------------------------------- funnel
def test_funnel_limits_against_the_normal_formula():
    f = fb.funnel_limits(0.1, 0.9, [10, 50, 400])
    for r in f.itertuples():
        # Reference: Spiegelhalter (2005) normal funnel, theta0 +- z * s / sqrt(n), z from the standard library.
        z = statistics.NormalDist().inv_cdf(0.5 + r.level / 2)
        assert r.high == pytest.approx(0.1 + z * 0.9 / r.n ** 0.5, rel=1e-12)
        assert r.low == pytest.approx(0.1 - z * 0.9 / r.n ** 0.5, rel=1e-12)
    assert sorted(set(f["level"])) == [0.95, 0.998]
    assert statistics.NormalDist().inv_cdf(0.999) == pytest.approx(3.0902, abs=1e-4)


def test_funnel_position_uses_own_n_and_limburg_mean(small_frame):
    unit = _school(small_frame)
    um = fb.adjusted_unit_means(small_frame, "school", unit)
    pos = fb.funnel_position(um)
    assert pos.n == um.period("unit").n and pos.target == um.period("limburg").estimate
    inner = pos.limits[pos.limits["level"] == 0.95].iloc[0]
    outer = pos.limits[pos.limits["level"] == 0.998].iloc[0]
    inside_inner = inner.low <= pos.estimate <= inner.high
    inside_outer = outer.low <= pos.estimate <= outer.high
    assert pos.position == ("inside" if inside_inner else "between" if inside_outer else "outside")
    shifted = small_frame.copy()
    shifted.loc[shifted["school_id"] == unit, "index"] -= 2.0
    assert fb.funnel_position(fb.adjusted_unit_means(shifted, "school", unit)).position == "outside"


# --------------------------------------------------------------------------- disclosure
def _shrink(frame: pd.DataFrame, school: str, year: int, keep: int) -> pd.DataFrame:
    """Drop all but ``keep`` of the school's pupils (with an index) in ``year``."""
    rows = frame.index[(frame["school_id"] == school) & (frame["year"] == year) & frame["index"].notna()]
    return frame.drop(rows[keep:])


def _published_n_ok(um) -> bool:
    n = um.table["n"].dropna()
    return bool((n >= MIN_CELL).all())


def test_small_year_is_pooled_and_protected(small_frame):
    unit = _school(small_frame)
    data = _shrink(small_frame, unit, 2024, 4)
    um = fb.adjusted_unit_means(data, "school", unit, min_cell=MIN_CELL)
    assert um.pooled_years == [2024]
    # One hidden year of 4 pupils could be recovered from the period: a second year is hidden too.
    assert len(um.protecting_years) == 1
    hidden_years = {2024, *um.protecting_years}
    unit_rows = um.table[(um.table["group"] == "unit") & (um.table["year"].astype(str) != "totaal")]
    for r in unit_rows.itertuples():
        assert (pd.isna(r.estimate) and pd.isna(r.n)) == (r.year in hidden_years)
    assert not um.period("unit").suppressed  # the period still counts every pupil
    assert um.period("unit").n == (data["school_id"] == unit).sum() - data.loc[data["school_id"] == unit, "index"].isna().sum()
    yearly = um.comparisons[um.comparisons["family"].isin(["limburg", "region"])]
    assert not set(yearly["year_a"]) & hidden_years
    assert um.comparisons[um.comparisons["family"] == "first_last"].empty  # only one year left
    assert _published_n_ok(um)


def test_school_below_threshold_shows_nothing_of_its_own(small_frame):
    unit = _school(small_frame)
    data = small_frame
    for year in (2023, 2024, 2025):
        data = _shrink(data, unit, year, 3)
    um = fb.adjusted_unit_means(data, "school", unit, min_cell=MIN_CELL)
    assert um.below_threshold
    own = um.table[um.table["group"] == "unit"]
    assert own[["estimate", "se", "ci_low", "ci_high", "n"]].isna().all().all()
    assert um.comparisons.empty
    assert fb.funnel_position(um) is None
    refs = um.table[um.table["group"] != "unit"]
    assert refs["estimate"].notna().all()  # region and Limburg are still shown


def test_region_with_too_few_other_schools_is_hidden(small_frame):
    unit = _school(small_frame)
    region = fb.unit_region(small_frame, small_frame["school_id"] == unit)
    others = sorted(set(small_frame.loc[small_frame["region"] == region, "school_id"]) - {unit})
    moved = small_frame.copy()
    elsewhere = next(r for r in small_frame["region"].cat.categories if r != region)
    # Leave two other schools in the region: the region minus this school would be those two.
    moved.loc[moved["school_id"].isin(others[2:]), "region"] = elsewhere
    um = fb.adjusted_unit_means(moved, "school", unit, min_cell=MIN_CELL)
    assert um.table.loc[um.table["group"] == "region", "suppressed"].all()
    assert not um.comparisons["family"].isin(["region"]).any()
    assert not um.table.loc[um.table["group"] == "limburg", "suppressed"].any()


def test_answer_shares_hide_small_and_recoverable_counts(small_frame):
    unit = _school(small_frame)
    shares = fb.answer_shares(small_frame[small_frame["school_id"] == unit], MIN_CELL)
    for _, part in shares.groupby("item"):
        shown = part[~part["suppressed"]]
        assert (shown["count"] >= MIN_CELL).all() or (shown["count"] == 0).any()
        hidden = part[part["suppressed"]]
        if len(hidden) and part["n"].notna().all():
            # Not recoverable from n: never exactly one hidden category, and the hidden ones together >= min_cell.
            assert len(hidden) >= 2
            raw = small_frame.loc[small_frame["school_id"] == unit, part["item"].iat[0]].dropna().astype(int)
            counts = {c: raw.isin(a).sum() for c, a in fb.CATEGORY_ANSWERS.items()}
            assert sum(counts[c] for c in hidden["category"]) >= MIN_CELL
    tiny = small_frame[small_frame["school_id"] == unit].head(6)
    assert fb.answer_shares(tiny, MIN_CELL)["suppressed"].all()


def test_board_schools_flags_threshold(small_frame):
    board = small_frame["board_id"].value_counts().index[0]
    data = _shrink(_shrink(_shrink(small_frame, _school_of_board(small_frame, board), 2023, 2),
                           _school_of_board(small_frame, board), 2024, 2),
                   _school_of_board(small_frame, board), 2025, 2)
    flags = fb.board_schools(data, board, MIN_CELL).set_index("school_id")["meets_threshold"]
    assert not flags[_school_of_board(small_frame, board)]
    assert flags.drop(_school_of_board(small_frame, board)).all()


def _school_of_board(frame, board):
    return sorted(frame.loc[frame["board_id"] == board, "school_id"].unique())[0]


def test_unknown_unit_and_missing_board_column_are_clear_errors(small_frame):
    with pytest.raises(ValueError, match=r"column 'school_id': no pupils with the value 'NOPE'"):
        fb.adjusted_unit_means(small_frame, "school", "NOPE")
    with pytest.raises(ValueError, match=r"needs the column 'board_id'"):
        fb.adjusted_unit_means(small_frame.drop(columns="board_id"), "board", "X")
    with pytest.raises(ValueError, match=r"kind must be one of"):
        fb.unit_mask(small_frame, "klas", "X")


def test_prepared_arrays_follow_an_in_place_change(small_frame):
    data = small_frame.copy()
    unit = _school(data)
    before = fb.adjusted_unit_means(data, "school", unit).period("unit").estimate
    data.loc[data["school_id"] == unit, "index"] += 0.5  # same object, changed in place
    after = fb.adjusted_unit_means(data, "school", unit).period("unit").estimate
    assert after - before == pytest.approx(0.5, abs=1e-9)
