"""Validation of the adjusted means (Figures 2-5) against an independent statsmodels path.

The reference path shares no code with :mod:`oml.stats.models`: it builds its own model data
(its own categoricals, levels in alphabetical order with the *last* level as reference),
fits its own formula through statsmodels/patsy with another term order (a different
parametrisation of the same model), clusters on its own school codes, and gets each cell
as the average prediction over counterfactual copies of the data. A cell value is
invariant to the parametrisation, so agreement to 1e-10 checks the gradient construction
(design row of the cell plus the sample mean of the controls) of :mod:`oml.stats.models`.

``statsmodels`` OLS ``get_prediction`` has no ``average=`` argument (``TypeError`` in
0.15); GLM with the Gaussian family and identity link is the same estimator (same
parameters and the same CR1 cluster covariance, checked below) and its
``get_prediction(which="mean", average=True)`` gives the mean prediction with its delta-method SE.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import patsy
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy.stats import norm

from oml.stats.comparisons import compare
from oml.stats.models import ALL, BREAKDOWNS, adjusted_means, controls_for, design, formula_for, model_frame

BACKGROUND = ("sex", "age", "parent_education", "region")  # the factsheet's controls, written out here


# --------------------------------------------------------------------------- independent reference path
class Reference:
    """Independent fit of one figure's model and its counterfactual cell predictions."""

    def __init__(self, frame: pd.DataFrame, by: str | None):
        data = frame.loc[frame["index"].notna(), ["index", "year", "school_id", *BACKGROUND]].copy()
        data["school_id"] = data["school_id"].astype(str)
        data["year"] = data["year"].astype("int64")
        self.by = by
        self.years = sorted(data["year"].unique().tolist())
        self.levels = {"year": [self.years[-1], *self.years[:-1]]}
        for c in ("sex", "parent_education", "region"):
            # Own categoricals with the *last* alphabetical level first, so patsy takes it as the
            # reference (oml uses the contract's first category and the first year).
            values = sorted(data[c].astype(str).unique())
            self.levels[c] = [values[-1], *values[:-1]]
        for c, levels in self.levels.items():
            data[c] = pd.Categorical(data[c].astype(object if c != "year" else "int64"), categories=levels)
        self.data = data.reset_index(drop=True)
        self.groups = [ALL] if by is None else sorted(self.levels[by])
        # Plain variable names (no C()): patsy codes pandas categoricals directly; controls in reverse order.
        controls = [c for c in reversed(BACKGROUND) if c != by]
        cell = "year" if by is None else f"{by} * year"
        self.formula = "index ~ " + " + ".join([*controls, cell])
        self.cluster = pd.Categorical(self.data["school_id"]).codes  # sorted school codes, not factorize order
        kw = {"cov_type": "cluster", "cov_kwds": {"groups": self.cluster}}
        self.ols = smf.ols(self.formula, data=self.data).fit(**kw)
        self.glm = smf.glm(self.formula, data=self.data, family=sm.families.Gaussian()).fit(**kw)

    def counterfactual(self, year: int, group: str) -> pd.DataFrame:
        cf = self.data.copy()
        cf["year"] = pd.Categorical(np.full(len(cf), year), categories=self.levels["year"])
        if self.by is not None:
            cf[self.by] = pd.Categorical([group] * len(cf), categories=self.levels[self.by])
        return cf

    def cells(self) -> pd.DataFrame:
        """Per cell: average prediction and SE (GLM, average=True), mean of OLS predict, and the gradient."""
        rows = []
        for year in self.years:
            for group in self.groups:
                cf = self.counterfactual(year, group)
                pred = self.glm.get_prediction(cf, which="mean", average=True)
                x = np.asarray(patsy.dmatrix(self.ols.model.data.model_spec, cf))
                rows.append({
                    "year": year, "group": group,
                    "estimate": float(np.squeeze(pred.predicted)), "se": float(np.squeeze(pred.se)),
                    "mean_predict": float(self.ols.predict(cf).mean()),
                    "gradient": x.mean(axis=0),
                })
        return pd.DataFrame(rows).set_index(["year", "group"])


def cr1_sandwich(x: np.ndarray, resid: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """CR1 cluster sandwich by hand: c (X'X)^-1 [sum_g X_g'u_g u_g'X_g] (X'X)^-1, c = G/(G-1) (N-1)/(N-K)."""
    n, k = x.shape
    bread = np.linalg.inv(x.T @ x)
    codes, inverse = np.unique(clusters, return_inverse=True)
    scores = np.zeros((len(codes), k))
    np.add.at(scores, inverse, x * resid[:, None])  # row g = X_g' u_g
    meat = scores.T @ scores
    g = len(codes)
    c = g / (g - 1) * (n - 1) / (n - k)
    return c * bread @ meat @ bread


# --------------------------------------------------------------------------- fixtures
# `frame` (default synthetic data with the index) and `means` (adjusted means of every figure)
# come from conftest.py, shared with the other statistics tests.


@pytest.fixture(scope="module")
def references(frame) -> dict:
    return {by: Reference(frame, by) for by in BREAKDOWNS}


@pytest.fixture(scope="module")
def reference_cells(references) -> dict:
    return {by: ref.cells() for by, ref in references.items()}


def _keyed(am) -> pd.DataFrame:
    t = am.table.copy()
    t["year"] = t["year"].astype("int64")
    return t.set_index(["year", "group"])


# --------------------------------------------------------------------------- cell estimates and SEs
@pytest.mark.parametrize("by", BREAKDOWNS)
def test_cells_equal_counterfactual_average_prediction(by, means, reference_cells):
    got = _keyed(means[by])
    ref = reference_cells[by]
    assert sorted(got.index) == sorted(ref.index)
    for key, row in ref.iterrows():
        # Reference: statsmodels GLM(Gaussian) get_prediction(counterfactual copy, which="mean", average=True),
        # own formula with other reference levels (independent path)
        assert got.loc[key, "estimate"] == pytest.approx(row["estimate"], abs=1e-10)
        assert got.loc[key, "se"] == pytest.approx(row["se"], abs=1e-10)
        # Reference: plain mean of OLS predict() on the counterfactual copy
        assert got.loc[key, "estimate"] == pytest.approx(row["mean_predict"], abs=1e-10)


@pytest.mark.parametrize("by", BREAKDOWNS)
def test_glm_reference_is_the_same_estimator_as_ols(by, references):
    # Guards the reference itself: GLM Gaussian/identity must reproduce OLS and its CR1 covariance.
    ref = references[by]
    np.testing.assert_allclose(ref.glm.params, ref.ols.params, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ref.glm.cov_params(), ref.ols.cov_params(), rtol=1e-8, atol=1e-14)


@pytest.mark.parametrize("by", BREAKDOWNS)
def test_ci_is_normal_based(by, means):
    t = means[by].table
    z = norm.ppf(0.975)
    np.testing.assert_allclose(t["ci_low"], t["estimate"] - z * t["se"], rtol=0, atol=1e-14)
    np.testing.assert_allclose(t["ci_high"], t["estimate"] + z * t["se"], rtol=0, atol=1e-14)


@pytest.mark.parametrize("by", [None, "region"])
def test_level_parameter(by, frame, means):
    narrow = adjusted_means(frame, by, level=0.90).table
    wide = means[by].table
    np.testing.assert_allclose(narrow["estimate"], wide["estimate"], rtol=0, atol=1e-14)
    assert ((narrow["ci_high"] - narrow["ci_low"]) < (wide["ci_high"] - wide["ci_low"])).all()
    np.testing.assert_allclose(narrow["ci_high"] - narrow["estimate"], norm.ppf(0.95) * narrow["se"], atol=1e-14)


@pytest.mark.parametrize("by", BREAKDOWNS)
def test_n_per_cell_is_direct_count(by, frame, means):
    has_index = frame[frame["index"].notna()]
    t = _keyed(means[by])
    for (year, group), row in t.iterrows():
        sel = has_index["year"] == year
        if by is not None:
            sel &= has_index[by].astype(str) == group
        # Reference: direct count of pupils with an index in the cell
        assert row["n"] == sel.sum()
    assert t["n"].sum() == len(has_index) == means[by].n_model
    assert means[by].n_clusters == frame.loc[frame["index"].notna(), "school_id"].nunique()


def test_table_layout(means):
    for by, am in means.items():
        assert am.table.columns.tolist() == ["year", "group", "estimate", "se", "ci_low", "ci_high", "n"]
        assert am.by == by
    assert (means[None].table["group"] == ALL).all()


def test_unknown_breakdown_raises(frame):
    with pytest.raises(ValueError, match="by must be one of"):
        adjusted_means(frame, by="school_id")


# --------------------------------------------------------------------------- model specification
@pytest.mark.parametrize("by", BREAKDOWNS)
def test_controls_exclude_breakdown_variable(by):
    terms = {frozenset(f.name() for f in t.factors) for t in patsy.ModelDesc.from_formula(formula_for(by)).rhs_termlist}
    # Reference: the factsheet's rule, each background variable except the breakdown, as main effects only
    expected = {frozenset(), frozenset({"C(year)"})}
    expected |= {frozenset({"age" if c == "age" else f"C({c})"}) for c in BACKGROUND if c != by}
    if by is not None:
        expected |= {frozenset({f"C({by})"}), frozenset({"C(year)", f"C({by})"})}
    assert terms == expected
    assert by not in controls_for(by)
    assert set(controls_for(by)) == set(BACKGROUND) - {by}


# --------------------------------------------------------------------------- CR1 covariance
@pytest.mark.parametrize("by", BREAKDOWNS)
def test_cr1_covariance_equals_hand_sandwich(by, frame, means):
    # The package's own design (its column order), checked against a sandwich built here.
    data = model_frame(frame, by)
    x = design(data, by)[0]
    x = x[:, np.abs(x).sum(axis=0) > 0]
    y = data["index"].to_numpy(dtype=float)
    resid = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
    # Reference: hand-computed CR1 sandwich with G/(G-1) (N-1)/(N-K), own least-squares residuals (numpy)
    expected = cr1_sandwich(x, resid, data["school_id"].astype(str).to_numpy())
    np.testing.assert_allclose(means[by].cov, expected, rtol=1e-8, atol=1e-15)


@pytest.mark.parametrize("by", BREAKDOWNS)
def test_cell_covariance_is_parametrisation_free(by, means, references, reference_cells):
    # The covariance of the cell estimates (G V G') does not depend on the parametrisation,
    # so the reference's own design and hand sandwich must give the same matrix.
    am = means[by]
    ref, cells = references[by], reference_cells[by]
    order = [(int(y), g) for y, g in zip(am.table["year"], am.table["group"])]
    g_ref = np.vstack([cells.loc[key, "gradient"] for key in order])
    x = np.asarray(ref.ols.model.exog)
    v_ref = cr1_sandwich(x, np.asarray(ref.ols.resid), ref.cluster)
    got, expected = am.gradients @ am.cov @ am.gradients.T, g_ref @ v_ref @ g_ref.T
    # 1e-8 relative to the scale of the matrix (off-diagonal entries can be ~1e-8 themselves)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-8 * np.abs(expected).max())
    np.testing.assert_allclose(am.gradients @ am.params, g_ref @ np.asarray(ref.ols.params), rtol=0, atol=1e-10)
    # Reference: statsmodels' own cov_type="cluster" covariance of the independent fit
    v_sm = np.asarray(ref.ols.cov_params())
    np.testing.assert_allclose(got, g_ref @ v_sm @ g_ref.T, rtol=0, atol=1e-8 * np.abs(expected).max())


@pytest.mark.parametrize(
    "when, group",
    [
        ("last", "wo"),
        ("first", "wo"),
        ("last", "mbo of lager"),
    ],
)
def test_empty_cell_other_cells_match_cell_factor_model(frame, when, group):
    # No pupils of `group` in one year: that cell is not estimable and must come out empty; every other
    # cell must equal a model written with one factor for the observed year x group cells
    # (index ~ 0 + cell + controls), the same column space without the empty cell.
    year = int(frame["year"].min() if when == "first" else frame["year"].max())
    data = frame[~((frame["parent_education"] == group) & (frame["year"] == year))]
    am = adjusted_means(data, "parent_education")
    got = _keyed(am)
    assert got.loc[(year, group), "n"] == 0
    assert np.isnan(got.loc[(year, group), ["estimate", "se"]].astype(float)).all()

    ref = data.loc[data["index"].notna(), ["index", "year", "school_id", "sex", "age", "region", "parent_education"]]
    ref = ref.assign(cell=ref["year"].astype(str) + "|" + ref["parent_education"].astype(str)).reset_index(drop=True)
    levels = sorted(ref["cell"].unique())
    assert f"{year}|{group}" not in levels
    ref["cell"] = pd.Categorical(ref["cell"], categories=levels)
    for c in ("sex", "region"):
        ref[c] = pd.Categorical(ref[c].astype(str), categories=sorted(ref[c].astype(str).unique()))
    kw = {"cov_type": "cluster", "cov_kwds": {"groups": pd.Categorical(ref["school_id"].astype(str)).codes}}
    glm = smf.glm("index ~ 0 + cell + region + age + sex", data=ref, family=sm.families.Gaussian()).fit(**kw)
    for level in levels:
        cf = ref.assign(cell=pd.Categorical([level] * len(ref), categories=levels))
        pred = glm.get_prediction(cf, which="mean", average=True)
        y, g = level.split("|")
        # Reference: GLM(Gaussian) average counterfactual prediction in the cell-factor parametrisation
        assert got.loc[(int(y), g), "estimate"] == pytest.approx(float(np.squeeze(pred.predicted)), abs=1e-10)
        assert got.loc[(int(y), g), "se"] == pytest.approx(float(np.squeeze(pred.se)), abs=1e-10)


# --------------------------------------------------------------------------- planted effect
@pytest.fixture(scope="module")
def planted(frame) -> tuple[pd.DataFrame, int]:
    last = int(frame["year"].max())
    out = frame.copy()
    mask = (out["sex"] == "meisje") & (out["year"] == last)
    out.loc[mask, "index"] = out.loc[mask, "index"] + 0.5
    return out, last


def test_planted_sex_effect_is_recovered(planted, means):
    data, last = planted
    am = adjusted_means(data, "sex")
    t = _keyed(am)
    diff = t.loc[(last, "meisje"), "estimate"] - t.loc[(last, "jongen"), "estimate"]
    c = compare(am)
    row = c[(c["family"] == "between") & (c["year_b"] == last)].iloc[0]
    assert (row["group_a"], row["group_b"]) == ("jongen", "meisje")
    # Truth: +0.5 on the index scale (the generator has no sex effect; 0.5 added to meisje in the last year)
    assert abs(row["estimate"] - 0.5) < 3 * row["se"]
    assert row["estimate"] == pytest.approx(diff, abs=1e-12)
    assert row["significant"] and row["p_holm"] < 0.05
    trend = c[(c["family"] == "first_last")].set_index("group_b")
    assert trend.loc["meisje", "significant"] and trend.loc["meisje", "estimate"] > 0
    assert not trend.loc["jongen", "significant"]


def test_planted_shift_is_absorbed_exactly(planted, means):
    # The shifted cell is a column of the year x sex design, so OLS moves that cell by exactly 0.5
    # and leaves every other cell, the residuals and hence the SEs unchanged.
    data, last = planted
    before, after = _keyed(means["sex"]), _keyed(adjusted_means(data, "sex"))
    shift = pd.Series(0.0, index=before.index)
    shift.loc[(last, "meisje")] = 0.5
    np.testing.assert_allclose(after["estimate"] - before["estimate"], shift, rtol=0, atol=1e-10)
    np.testing.assert_allclose(after["se"], before["se"], rtol=1e-8)


def test_no_effect_is_not_significant(means):
    c = compare(means["sex"])
    assert not c.loc[c["family"] == "between", "significant"].any()
    assert not c.loc[c["family"] == "first_last", "significant"].any()
