"""The multilevel and small-sample check of every published conclusion (issue 24, point 3), validated (point 5).

R is not installed here (`which Rscript` finds nothing), so every reference is an independent Python path:
statsmodels ``MixedLM`` (REML) and the one-way ANOVA estimator for the random intercept; the CR2 covariance
and its Bell–McCaffrey degrees of freedom written out with full N × N matrices (Bell & McCaffrey 2002, eq. 3
and the Satterthwaite formula of section 3; Imbens & Kolesár 2016, eq. 8, working model σ²I), and
statsmodels' HC2 for clusters of one; statsmodels OLS with school dummies for the within-school trend.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.regression.mixed_linear_model import MixedLM

from oml.stats import robustness as rb
from oml.stats.clustering import icc_anova
from oml.stats.models import design, model_frame
from oml.stats.results import breakdown, breakdowns


@pytest.fixture(scope="module")
def small(small_frame):
    """About 40 schools: small enough for N x N references, with real clustering."""
    return small_frame


def _xy(frame, by):
    data = model_frame(frame, by)
    x, _ = design(data, by)
    return x, data["index"].to_numpy(float), data["school_id"].to_numpy()


def test_random_intercept_agrees_with_mixedlm(small):
    x, y, g = _xy(small, "sex")
    ours = rb.random_intercept(x, y, g)
    ref = MixedLM(y, x, groups=g).fit(reml=True)  # independent: statsmodels' own REML optimiser
    k = x.shape[1]
    assert np.allclose(ours.params, ref.fe_params, atol=1e-5)
    # MixedLM inverts its observed information (variance parameters and their optimiser's tolerance included): the
    # standard errors agree to about 0.1 %, the tiny covariances between control columns to about 1e-5.
    theirs = np.asarray(ref.cov_params())[:k, :k]
    assert np.allclose(np.sqrt(np.diag(ours.cov)), np.sqrt(np.diag(theirs)), rtol=5e-3)
    assert np.allclose(ours.cov, theirs, rtol=5e-3, atol=2e-5)
    assert ours.between_var == pytest.approx(float(np.asarray(ref.cov_re).ravel()[0]), rel=5e-3)
    assert ours.within_var == pytest.approx(ref.scale, rel=1e-4)


def test_random_intercept_equals_anova_in_balanced_data():
    # Balanced one-way layout: REML equals the ANOVA estimator (Searle, Casella & McCulloch 1992, 3.6) when positive.
    rng = np.random.default_rng(7)
    g = np.repeat(np.arange(60), 15)
    y = rng.normal(0, 0.4, 60)[g] + rng.normal(0, 1, g.size)
    fit = rb.random_intercept(np.ones((g.size, 1)), y, g)
    icc, between, within = icc_anova(y, g)
    assert fit.between_var == pytest.approx(between, rel=1e-6)
    assert fit.within_var == pytest.approx(within, rel=1e-6)
    assert fit.icc == pytest.approx(icc, rel=1e-6)
    # No clustering at all: the boundary, no between-school variance.
    flat = rb.random_intercept(np.ones((g.size, 1)), np.tile(rng.normal(size=15), 60), g)
    assert flat.between_var == pytest.approx(0.0, abs=1e-8)


def _cr2_direct(x, y, g):
    """CR2 written out with full matrices: A_g = (I - H_gg)^(-1/2) by eigendecomposition, M = sum_g u_g u_g' for the df."""
    n = len(y)
    bread = np.linalg.inv(x.T @ x)
    h = x @ bread @ x.T
    resid = y - x @ (bread @ x.T @ y)
    meat = np.zeros((x.shape[1], x.shape[1]))
    blocks = {}
    for s in np.unique(g):
        i = np.flatnonzero(g == s)
        w, v = np.linalg.eigh(np.eye(len(i)) - h[np.ix_(i, i)])
        a = v @ np.diag(1 / np.sqrt(w)) @ v.T
        blocks[s] = (i, a)
        score = x[i].T @ a @ resid[i]
        meat += np.outer(score, score)
    cov = bread @ meat @ bread

    def df(d):
        m = np.zeros((n, n))
        q = np.eye(n) - h
        for i, a in blocks.values():
            u = q[i].T @ (a @ x[i] @ bread @ d)  # e_g = (I - H)_g eps, so (p_g' e_g) = u_g' eps
            m += np.outer(u, u)
        return np.trace(m) ** 2 / np.sum(m * m)

    return cov, df


def test_cr2_against_the_direct_matrix_formula():
    rng = np.random.default_rng(11)
    sizes = rng.integers(3, 15, 25)
    g = np.repeat(np.arange(25), sizes)
    x = np.column_stack([np.ones(g.size), rng.normal(size=g.size), rng.integers(0, 2, g.size)])
    y = x @ [0.5, 0.3, -0.2] + rng.normal(0, 0.5, 25)[g] + rng.normal(size=g.size)
    ours = rb.cr2(x, y, g)
    cov, df = _cr2_direct(x, y, g)
    assert np.allclose(ours.cov, cov, rtol=1e-9, atol=1e-14)
    for d in (np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.5])):
        assert ours.df(d) == pytest.approx(df(d), rel=1e-9)


def test_cr2_with_clusters_of_one_is_hc2():
    rng = np.random.default_rng(3)
    x = np.column_stack([np.ones(80), rng.normal(size=80)])
    y = x @ [1.0, 0.5] + rng.normal(size=80) * (1 + np.abs(x[:, 1]))
    ours = rb.cr2(x, y, np.arange(80))
    assert np.allclose(ours.cov, sm.OLS(y, x).fit(cov_type="HC2").cov_params(), rtol=1e-10)


def test_cr2_df_of_a_mean_of_equal_clusters():
    # The mean of G equal clusters: CR2 is the usual variance of the cluster means, with G - 1 degrees of freedom.
    g = np.repeat(np.arange(12), 5)
    y = np.random.default_rng(0).normal(size=g.size)
    fit = rb.cr2(np.ones((g.size, 1)), y, g)
    means = pd.Series(y).groupby(g).mean()
    assert fit.cov[0, 0] == pytest.approx(means.var(ddof=1) / 12, rel=1e-10)
    assert fit.df(np.array([1.0])) == pytest.approx(11.0)


def test_within_schools_agrees_with_school_dummies(small):
    data = model_frame(small, None)
    x, _ = design(data, None)
    y = data["index"].to_numpy(float)
    beta, cov = rb.within_schools(x, y, data["school_id"].to_numpy())
    d = np.zeros(x.shape[1])
    d[0], d[2] = -1.0, 1.0  # last year against the first
    dummies = pd.get_dummies(data["school_id"].astype(str), drop_first=True, dtype=float).to_numpy()
    # Independent path: OLS with one dummy per school; drop the columns that are constant within schools (region).
    varies = np.array([pd.Series(x[:, j]).groupby(data["school_id"].to_numpy()).nunique().max() > 1 for j in range(x.shape[1])])
    # Intercept, the cells but the first (the reference year), the varying controls, a dummy per school but the first.
    xr = np.column_stack([np.ones(len(y)), x[:, varies][:, 1:], dummies])
    ref = sm.OLS(y, xr).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(data["school_id"])[0]})
    j = 1 + list(np.flatnonzero(varies)[1:]).index(2)  # the last year's column in the reduced design
    assert float(d @ beta) == pytest.approx(ref.params[j], abs=1e-10)
    n, k_ref, k_ours = len(y), xr.shape[1], int(np.linalg.matrix_rank(x[:, varies]) - 1)
    # statsmodels counts the school dummies in K; ours (xtreg, fe) does not: same meat, other factor.
    expected = ref.cov_params()[j, j] * (n - k_ref) / (n - k_ours)
    assert float(d @ cov @ d) == pytest.approx(expected, rel=1e-8)


def test_check_keeps_the_published_verdicts_and_finds_nothing_on_default_data(frame):
    results = breakdowns(frame)
    table = rb.check_all(frame, results)
    published = table[table["method"] == "published"]
    for by, r in results.items():
        c = r.comparisons
        c = c[c["family"].isin(rb.CONCLUSION_FAMILIES) & (c["group_a"] != "onbekend") & (c["group_b"] != "onbekend")]
        mine = published[published["by"] == ("totaal" if by is None else by)]
        assert len(mine) == len(c)
        assert np.allclose(np.sort(mine["p_holm"]), np.sort(c["p_holm"]))
    assert set(table["method"]) == set(rb.METHODS)
    assert not table["changed"].any()  # the default data: every conclusion holds under all three checks
    assert rb.fragile(table).empty
    # Same fixed part: the random intercept moves the estimates little; CR2 keeps the OLS estimates exactly.
    wide = table.pivot_table(index=rb.KEYS, columns="method", values="estimate")
    assert np.allclose(wide["cr2"], wide["published"], atol=1e-12)
    assert np.allclose(wide["mixed"], wide["published"], atol=0.03)


def school_artefact(frame: pd.DataFrame) -> pd.DataFrame:
    """A trend made by participation only: in the last year the schools with the lowest mean index drop out.

    Within schools nothing changes, so the published (pooled) trend is an artefact of which schools took part.
    """
    last = frame["year"].max()
    means = frame.groupby("school_id", observed=True)["index"].mean()
    low = means.index[means <= means.quantile(0.35)]
    return frame[~((frame["year"] == last) & frame["school_id"].isin(low))].copy()


def test_a_trend_made_by_participation_is_found(frame):
    data = school_artefact(frame)
    result = breakdown(data, None)
    table = rb.check(data, result)
    trend = table.set_index("method")
    assert trend.loc["published", "verdict"] == "higher"
    assert trend.loc["within", "verdict"] == "stable" and bool(trend.loc["within", "changed"])
    assert trend.loc["within", "estimate"] == pytest.approx(0.0, abs=0.06)
    marked = rb.fragile(table)
    assert marked["changed_by"].iloc[0][-1] == "within" and marked["verdict"].iloc[0] == "higher"


def test_simulated_coverage(small):
    results = breakdowns(small)
    a = rb.simulated_coverage(small, results, replications=300, seed=5)
    b = rb.simulated_coverage(small, results, replications=300, seed=5)
    pd.testing.assert_frame_equal(a, b)  # seeds fixed: the same on every run
    assert set(a["by"]) == {"totaal", "sex", "parent_education", "region"}
    assert a["coverage"].between(0.85, 1.0).all() and a["coverage_cr2"].between(0.88, 1.0).all()
    # CR2 with t is never narrower on average than CR1 with z (about 40 schools: it matters here).
    assert a["coverage_cr2"].mean() >= a["coverage"].mean()
    fit = rb.random_intercept(*_xy(small, None))
    assert a["between_var"].iloc[0] == pytest.approx(fit.between_var)


def test_bench_coverage_on_data(small_frame, tmp_path):
    """``bench/coverage.py --data``: the same simulation from a data file, written outside the committed result."""
    import importlib.util
    import sys
    from pathlib import Path

    from oml.data.io import save

    name = "bench_coverage"  # the name tests/stats/test_coverage.py loads it under
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parents[2] / "bench" / "coverage.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    bench = sys.modules[name]
    raw = small_frame.drop(columns=["index", "index_raw"])
    path = tmp_path / "levering.parquet"
    save(raw, path)
    out = tmp_path / "cov.csv"
    assert bench.main(["--data", str(path), "--replications", "40", "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert table.columns.tolist() == rb.COVERAGE_COLUMNS and (table["replications"] == 40).all()
    direct = rb.simulated_coverage(small_frame, breakdowns(small_frame), replications=40)
    assert np.allclose(table["coverage"], direct["coverage"])  # same data, same seed: the same draws
