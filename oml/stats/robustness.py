"""A multilevel and small-sample check of every published conclusion.

The figures' conclusions (:mod:`oml.stats.findings`: the first-against-last-year trend of each group and
the differences between groups in the last year) rest on OLS with CR1 standard errors by school and
normal tests, Holm within each family (:mod:`oml.stats.models`, :mod:`oml.stats.comparisons`). Here each
figure's model is refitted three more ways, each comparison is tested again with Holm within the same
families, and the verdict (stable, higher, lower: :func:`oml.stats.direction.direction`) is compared with
the published one:

* ``mixed`` — a school **random intercept**, :math:`y = X\\beta + u_{school} + e`, fitted by REML
  (:func:`random_intercept`); model-based covariance :math:`\\hat\\sigma^2 (X^\\top H^{-1} X)^{-1}`, normal
  tests. The same fixed part as the figure (cells and controls), so the adjusted means are
  :math:`g^\\top\\hat\\beta` with the figure's gradients :math:`g`.
* ``cr2`` — the published OLS estimates with the **CR2** cluster-robust covariance by school (Bell &
  McCaffrey 2002; Pustejovsky & Tipton 2018), :math:`V = B \\sum_g X_g^\\top A_g e_g e_g^\\top A_g X_g B` with
  :math:`B = (X^\\top X)^{-1}` and :math:`A_g = (I - H_{gg})^{-1/2}`, and t-tests with the Bell–McCaffrey
  Satterthwaite degrees of freedom of each contrast (:func:`cr2`).
* ``within`` — the **trend within schools** (first against last year, and consecutive years): school fixed
  effects (every variable demeaned within its school), CR1 by school. Only year comparisons: a region
  does not vary within a school, and the between-group conclusions already have the other two checks.

The region pages publish conclusions too (:mod:`oml.stats.regions`): the region's own trend and its
difference with the rest of Limburg (one model on all of Limburg with the column ``area``), and the same
conclusions as the figures by sex and parental education within the region. :func:`check_region` checks them
the same way; every row then names its ``region`` (None for the province-wide figures), and :data:`PAGE_KEYS`
identify a conclusion across pages. A region with fewer than two schools has no clustered standard error: its
models are not checked but listed with the reason (``attrs["skipped"]``).

The random intercept is fitted by profiled REML in closed form rather than with statsmodels ``MixedLM``:
with one variance component, :math:`H_g^{-1} = I - \\frac{\\gamma}{1 + m_g \\gamma} J` (:math:`\\gamma =
\\tau^2/\\sigma^2`), so every REML evaluation needs only the per-school sums of the design, and a bounded
one-dimensional search over :math:`\\gamma` gives the estimate in milliseconds, the same on every machine;
``MixedLM`` took 1.9–2.6 s per figure on the default data (about 10 s per build) and agrees with it (tests).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.stats import norm, t as student_t

from oml.stats.comparisons import holm, not_compared
from oml.stats.direction import direction
from oml.stats.models import design, model_frame
from oml.stats.regions import AREA, MIN_SCHOOLS, REST, WITHIN, RegionResult, area_frame
from oml.stats.results import Breakdown

#: The ways every published conclusion is tested: the published one first.
METHODS = ("published", "mixed", "cr2", "within")
#: The families whose comparisons are published conclusions (the findings read these two).
CONCLUSION_FAMILIES = ("first_last", "between")
#: The families of year comparisons (the only ones the within-school model tests).
YEAR_FAMILIES = ("first_last", "consecutive")
KEYS = ["by", "family", "group_a", "year_a", "group_b", "year_b"]
#: What identifies a conclusion across pages: the region page it is on (None: the province-wide figures), then :data:`KEYS`.
PAGE_KEYS = ["region", *KEYS]
#: ``by`` of a region page's own figure (the region against the rest of Limburg: :data:`oml.stats.regions.AREA`).
REGION_FIGURE = AREA
COLUMNS = [*PAGE_KEYS, "method", "estimate", "se", "df", "p", "p_holm", "verdict", "published_verdict", "changed"]


# ----------------------------------------------------------------------------- estimators
@dataclass
class RandomIntercept:
    """A random-intercept fit: fixed effects, their covariance, the two variances."""

    params: np.ndarray
    cov: np.ndarray = field(repr=False)
    between_var: float
    within_var: float

    @property
    def icc(self) -> float:
        """The conditional ICC, between / (between + within)."""
        return self.between_var / (self.between_var + self.within_var)


def _group_sums(x: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    return np.column_stack([np.bincount(codes, weights=x[:, j], minlength=n_groups) for j in range(x.shape[1])])


def random_intercept(x: np.ndarray, y: np.ndarray, groups) -> RandomIntercept:
    r"""REML fit of :math:`y = X\beta + u_g + e` with :math:`u_g \sim N(0, \tau^2)`, :math:`e \sim N(0, \sigma^2)`.

    Profiled over :math:`\gamma = \tau^2/\sigma^2` (module docstring): with
    :math:`A = X^\top H^{-1} X = X^\top X - \sum_g w_g s_g s_g^\top`, :math:`w_g = \gamma/(1 + m_g\gamma)`,
    :math:`s_g` the school's column sums, the restricted deviance is
    :math:`(N-K)\log(r^\top H^{-1} r/(N-K)) + \sum_g \log(1 + m_g\gamma) + \log|A|` (constants dropped),
    minimised over :math:`\gamma \ge 0`; then :math:`\hat\sigma^2 = r^\top H^{-1} r/(N-K)`,
    :math:`\hat\tau^2 = \hat\gamma\hat\sigma^2`, :math:`\mathrm{cov}(\hat\beta) = \hat\sigma^2 A^{-1}` (what
    ``MixedLM(...).fit(reml=True)`` reports for the fixed effects).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> g = np.repeat(np.arange(200), 20)
    >>> y = 1.0 + rng.normal(0, 0.5, 200)[g] + rng.normal(0, 1.0, g.size)
    >>> fit = random_intercept(np.ones((g.size, 1)), y, g)
    >>> round(float(fit.params[0]), 1), round(fit.between_var, 2), round(fit.within_var, 2)  # drawn: 1, 0.25, 1
    (1.0, 0.21, 1.01)
    """
    codes, uniques = pd.factorize(np.asarray(groups))
    n, k = x.shape
    g = len(uniques)
    sizes = np.bincount(codes, minlength=g).astype(float)
    sx = _group_sums(x, codes, g)
    sy = np.bincount(codes, weights=y, minlength=g)
    xtx, xty, yty = x.T @ x, x.T @ y, float(y @ y)

    def solve(gamma: float):
        w = gamma / (1.0 + sizes * gamma)
        a = xtx - sx.T @ (sx * w[:, None])
        b = xty - sx.T @ (w * sy)
        beta = np.linalg.solve(a, b)
        rss = yty - float((w * sy) @ sy) - float(b @ beta)
        return a, beta, rss

    def deviance(log_gamma: float) -> float:
        gamma = float(np.exp(log_gamma))
        a, _, rss = solve(gamma)
        return (n - k) * np.log(rss / (n - k)) + float(np.log1p(sizes * gamma).sum()) + float(np.linalg.slogdet(a)[1])

    best = optimize.minimize_scalar(deviance, bounds=(-25.0, 6.0), method="bounded", options={"xatol": 1e-10})
    gamma = float(np.exp(best.x))
    if deviance(-25.0) <= best.fun:  # the boundary: no variance between schools
        gamma = 0.0
    a, beta, rss = solve(gamma)
    sigma2 = rss / (n - k)
    return RandomIntercept(beta, sigma2 * np.linalg.inv(a), gamma * sigma2, sigma2)


@dataclass
class CR2:
    """OLS with the CR2 covariance by cluster, and what the Bell–McCaffrey degrees of freedom need."""

    params: np.ndarray
    cov: np.ndarray = field(repr=False)
    bread: np.ndarray = field(repr=False)  # (X'X)^-1
    adjusted_rows: list = field(repr=False)  # per cluster A_g X_g
    rows: list = field(repr=False)  # per cluster X_g

    def df(self, d: np.ndarray) -> float:
        r"""Bell–McCaffrey (Satterthwaite) degrees of freedom of the contrast ``d``, working model :math:`\sigma^2 I`.

        :math:`d^\top V d = \sum_g (p_g^\top e_g)^2` with :math:`p_g = A_g X_g B d`; with :math:`e = (I - H)\varepsilon`
        it is the quadratic form :math:`\varepsilon^\top U U^\top \varepsilon`, and
        :math:`\nu = (\mathrm{tr}\,U^\top U)^2 / \lVert U^\top U \rVert_F^2` with
        :math:`(U^\top U)_{gh} = \delta_{gh}\, p_g^\top p_g - w_g^\top B w_h`, :math:`w_g = X_g^\top p_g`
        (a G × G matrix: no N × N one).
        """
        bd = self.bread @ d
        p = [ax @ bd for ax in self.adjusted_rows]
        w = np.column_stack([xg.T @ pg for xg, pg in zip(self.rows, p)])
        m = -(w.T @ self.bread @ w)
        m[np.diag_indices_from(m)] += np.array([pg @ pg for pg in p])
        return float(np.trace(m) ** 2 / np.sum(m * m))


def _adjust(xg: np.ndarray, root: np.ndarray) -> np.ndarray:
    """:math:`A_g X_g` with :math:`A_g = (I - H_{gg})^{-1/2}`, through the thin SVD of :math:`Z = X_g L` (:math:`LL^\\top = B`).

    :math:`H_{gg} = ZZ^\\top = U S^2 U^\\top` has rank at most K, so
    :math:`A_g = I + U\\,\\mathrm{diag}((1 - s^2)^{-1/2} - 1)\\,U^\\top`: no m × m eigendecomposition. A direction
    with :math:`s^2 \\approx 1` (a pupil or cluster fitted exactly) has residual 0 and gets weight 0 there.
    """
    u, s, _ = np.linalg.svd(xg @ root, full_matrices=False)
    s2 = s ** 2
    ok = 1.0 - s2 > 1e-10
    scale = np.where(ok, 1.0 / np.sqrt(np.where(ok, 1.0 - s2, 1.0)), 0.0) - 1.0
    return xg + u @ (scale[:, None] * (u.T @ xg))


def cr2(x: np.ndarray, y: np.ndarray, clusters) -> CR2:
    r"""OLS coefficients with the CR2 ("bias-reduced linearisation") covariance by cluster.

    :math:`V = B\,\big(\sum_g X_g^\top A_g e_g e_g^\top A_g X_g\big)\,B`, :math:`B = (X^\top X)^{-1}`,
    :math:`A_g = (I - X_g B X_g^\top)^{-1/2}` (Bell & McCaffrey 2002): unbiased when the errors are
    independent with equal variance, where CR1 is biased downwards with few or unequal clusters. With
    clusters of one pupil it is HC2 (checked in the tests against statsmodels).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(np.arange(30), 8)
    >>> x = np.ones((g.size, 1))
    >>> fit = cr2(x, rng.normal(size=g.size), g)
    >>> round(fit.df(np.array([1.0])), 6)  # the mean of 30 equal clusters: 30 - 1
    29.0
    """
    y = np.asarray(y, dtype=float)
    bread = np.linalg.inv(x.T @ x)
    params = bread @ (x.T @ y)
    resid = y - x @ params
    codes, uniques = pd.factorize(np.asarray(clusters))
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    meat = np.zeros((x.shape[1], x.shape[1]))
    root = np.linalg.cholesky(bread)
    adjusted, rows = [], []
    for j in range(len(uniques)):
        idx = order[bounds[j]:bounds[j + 1]]
        xg = x[idx]
        ax = _adjust(xg, root)
        score = ax.T @ resid[idx]
        meat += np.outer(score, score)
        adjusted.append(ax)
        rows.append(xg)
    return CR2(params, bread @ meat @ bread, bread, adjusted, rows)


def within_schools(x: np.ndarray, y: np.ndarray, schools) -> tuple[np.ndarray, np.ndarray]:
    r"""School fixed effects: OLS on the data demeaned within each school, CR1 by school.

    Columns that do not vary within schools become 0 and the cell columns become collinear, so the
    coefficients are the minimum-norm solution (pseudo-inverse); a contrast that is estimable within
    schools (a year against another, within a group) is the same for every solution. CR1 factor
    :math:`\frac{G}{G-1}\frac{N-1}{N-K}` with :math:`K` the rank of the demeaned design (Stata ``xtreg, fe
    vce(cluster)``: the absorbed school effects are nested in the clusters and not counted).

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> school = np.repeat(np.arange(100), 10)
    >>> year = np.tile([0, 1], 500)
    >>> x = np.column_stack([year == 0, year == 1]).astype(float)
    >>> y = rng.normal(0, 1, 100)[school] + 0.3 * year + rng.normal(0, 0.1, 1000)
    >>> beta, cov = within_schools(x, y, school)
    >>> round(float(beta[1] - beta[0]), 1)
    0.3
    """
    codes, uniques = pd.factorize(np.asarray(schools))
    g = len(uniques)
    if g < 2:
        raise ValueError(f"clustered standard errors need at least two schools; the model has {g}")
    sizes = np.bincount(codes, minlength=g).astype(float)
    xd = x - (_group_sums(x, codes, g) / sizes[:, None])[codes]
    yd = y - (np.bincount(codes, weights=y, minlength=g) / sizes)[codes]
    bread = np.linalg.pinv(xd.T @ xd, hermitian=True)
    beta = bread @ (xd.T @ yd)
    resid = yd - xd @ beta
    scores = _group_sums(xd * resid[:, None], codes, g)
    n, k = x.shape[0], int(np.linalg.matrix_rank(xd.T @ xd, hermitian=True))
    factor = (g / (g - 1)) * ((n - 1) / (n - k))
    return beta, factor * (bread @ (scores.T @ scores) @ bread)


# ----------------------------------------------------------------------------- the check
def _tested(result) -> pd.DataFrame:
    """The published comparisons of a figure (all families: Holm runs within each), without the untested groups."""
    c = result.comparisons
    unknown = set(not_compared(result.by))
    return c[~(c["group_a"].isin(unknown) | c["group_b"].isin(unknown))].reset_index(drop=True)


def _contrasts(result, comps: pd.DataFrame) -> np.ndarray:
    """Gradient differences ``g_b - g_a`` of the comparisons (rows of ``result.means.gradients``)."""
    t = result.means.table
    index = {(int(y), g): i for i, (y, g) in enumerate(zip(t["year"], t["group"]))}
    grads = result.means.gradients
    return np.array([grads[index[(int(r.year_b), r.group_b)]] - grads[index[(int(r.year_a), r.group_a)]]
                     for r in comps.itertuples(index=False)]).reshape(len(comps), grads.shape[1])


def _rows(comps, by, method, estimate, se, df, level) -> pd.DataFrame:
    out = comps[["family", "group_a", "year_a", "group_b", "year_b"]].copy()
    out.insert(0, "by", "totaal" if by is None else by)
    out.insert(0, "region", None)
    out["method"] = method
    out["estimate"], out["se"], out["df"] = estimate, se, df
    stat = np.abs(estimate) / se
    out["p"] = np.where(np.isinf(df), 2 * norm.sf(stat), 2 * student_t.sf(stat, np.where(np.isinf(df), 1.0, df)))
    return holm_verdicts(out, level)


def holm_verdicts(out: pd.DataFrame, level: float) -> pd.DataFrame:
    """Add ``p_holm`` (Holm within each ``family`` of ``out``, over its tests with a p-value) and ``verdict``.

    The verdict is the published rule (:func:`oml.stats.direction.direction`): higher or lower where the Holm
    p-value is below ``1 - level``, else stable; None where the estimate is not finite. Shared by the checks
    here and the sensitivity variants (:mod:`oml.stats.sensitivity`), so all decide alike.

    Examples
    --------
    >>> t = pd.DataFrame({"family": ["f", "f"], "estimate": [0.3, -0.1], "p": [0.01, 0.3]})
    >>> holm_verdicts(t, 0.95)[["p_holm", "verdict"]].to_dict("list")
    {'p_holm': [0.02, 0.3], 'verdict': ['higher', 'stable']}
    """
    out["p_holm"] = np.nan
    for _, part in out.groupby("family", sort=False):
        ok = part["p"].notna()
        out.loc[part.index[ok], "p_holm"] = holm(part.loc[ok, "p"].to_numpy())
    significant = out["p_holm"] < 1 - level
    out["verdict"] = [direction(float(e), bool(s)).value if np.isfinite(e) else None
                      for e, s in zip(out["estimate"], significant)]
    return out


def check(frame: pd.DataFrame, result, level: float | None = None) -> pd.DataFrame:
    """Every published conclusion of one figure under the published method and the three checks, tidy.

    Parameters
    ----------
    frame : DataFrame
        The pupils the figure was computed from (with the ``index``).
    result : oml.stats.results.Breakdown
        The figure as published (its comparisons leave out suppressed cells and the untested groups).
    level : float, optional
        Default the level of the figure.

    Returns
    -------
    DataFrame
        One row per conclusion (family ``first_last`` or ``between``) and method (:data:`METHODS`):
        :data:`COLUMNS`. ``df`` is infinite for normal tests; ``within`` has no rows for ``between``.
        ``changed`` is True where the verdict differs from the published one.

    Examples
    --------
    >>> from oml.data.synth import generate
    >>> from oml.stats.index import add_index
    >>> from oml.stats.results import breakdown
    >>> data = add_index(generate(n=1500, seed=5, history=False))
    >>> c = check(data, breakdown(data, "sex"))
    >>> sorted(set(c["method"])), c.groupby("method").size().to_dict()
    (['cr2', 'mixed', 'published', 'within'], {'cr2': 3, 'mixed': 3, 'published': 3, 'within': 2})
    """
    level = result.means.level if level is None else level
    by = result.by
    comps = _tested(result)
    if comps.empty:
        return pd.DataFrame(columns=COLUMNS)
    data = model_frame(frame, by)
    x, _ = design(data, by, result.means.control_vars)
    y = data["index"].to_numpy(dtype=float)
    schools = data["school_id"].to_numpy()
    d = _contrasts(result, comps)
    inf = np.full(len(comps), np.inf)
    parts = [_rows(comps, by, "published", comps["estimate"].to_numpy(), comps["se"].to_numpy(), inf, level)]

    mixed = random_intercept(x, y, schools)
    parts.append(_rows(comps, by, "mixed", d @ mixed.params, np.sqrt(np.einsum("ij,jk,ik->i", d, mixed.cov, d)), inf, level))

    robust = cr2(x, y, schools)
    parts.append(_rows(comps, by, "cr2", d @ robust.params, np.sqrt(np.einsum("ij,jk,ik->i", d, robust.cov, d)),
                       np.array([robust.df(row) for row in d]), level))

    years = comps["family"].isin(YEAR_FAMILIES).to_numpy()
    if years.any():
        beta, cov = within_schools(x, y, schools)
        dy = d[years]
        parts.append(_rows(comps[years].reset_index(drop=True), by, "within", dy @ beta,
                           np.sqrt(np.einsum("ij,jk,ik->i", dy, cov, dy)), inf[years], level))
    out = pd.concat(parts, ignore_index=True)
    out = out[out["family"].isin(CONCLUSION_FAMILIES)].reset_index(drop=True)
    published = out[out["method"] == "published"].set_index(KEYS[1:])["verdict"]
    out["published_verdict"] = [published.get(tuple(k)) for k in out[KEYS[1:]].itertuples(index=False)]
    out["changed"] = out["verdict"] != out["published_verdict"]
    return out[COLUMNS]


def check_all(frame: pd.DataFrame, results: dict, level: float | None = None, regions: dict | None = None) -> pd.DataFrame:
    """:func:`check` for every figure (``results`` as :func:`oml.stats.results.breakdowns` gives it), stacked.

    With ``regions`` (region name -> :class:`~oml.stats.regions.RegionResult`), the region pages' conclusions
    (:func:`check_regions`) follow, and ``attrs["skipped"]`` lists the region models that could not be checked.
    """
    tables = [check(frame, r, level) for r in results.values()]
    skipped = []
    if regions:
        region_table = check_regions(frame, regions, level)
        skipped = region_table.attrs["skipped"]
        tables.append(region_table)
    out = pd.concat([t for t in tables if len(t)], ignore_index=True) if any(len(t) for t in tables) else pd.DataFrame(columns=COLUMNS)
    out.attrs["skipped"] = skipped
    return out


#: Why a region page's model is not checked (and not computed, for the breakdowns within the region).
TOO_FEW_SCHOOLS = "fewer than two schools in the region: clustered standard errors need at least two"


def check_region(frame: pd.DataFrame, rr: RegionResult, level: float | None = None, only: str | None = None) -> pd.DataFrame:
    """Every conclusion a region page publishes, under the published method and the three checks (:func:`check`).

    The page's own figure (``by`` = :data:`REGION_FIGURE`): the region against the rest of Limburg, its model
    refitted on ``frame`` with the ``area`` column of :func:`oml.stats.regions.area_frame`; its conclusions are the
    region's first-against-last-year trend and its difference with the rest (the rest's own trend only enters the
    Holm family, as published). The breakdowns within the region (``by`` = ``sex``, ``parent_education``): on the
    region's pupils. Every row carries the region in the ``region`` column.

    A model whose region has fewer than two schools is not checked (one school gives no clustered standard error);
    it is listed in ``attrs["skipped"]`` (``region``, ``by``, ``reason``) instead.

    Parameters
    ----------
    frame : DataFrame
        All pupils of Limburg with the ``index`` (what :func:`oml.stats.regions.region_result` was given).
    rr : oml.stats.regions.RegionResult
        The region page as published.
    level : float, optional
        Default the level of the page.
    only : str, optional
        One model: :data:`REGION_FIGURE` or a breakdown of :data:`oml.stats.regions.WITHIN` (default all three).

    Examples
    --------
    >>> from oml.data.synth import generate
    >>> from oml.stats.index import add_index
    >>> from oml.stats.regions import region_result
    >>> data = add_index(generate(n=3000, seed=5, history=False))
    >>> c = check_region(data, region_result(data, "Parkstad Limburg"))
    >>> sorted(set(c["region"])), sorted(set(c["by"])), c.attrs["skipped"]
    (['Parkstad Limburg'], ['area', 'parent_education', 'sex'], [])
    """
    level = rr.means.level if level is None else level
    in_region = frame["region"].astype(str) == rr.region
    few = rr.schools < MIN_SCHOOLS  # counted by region_result on the same frame (pupils with an index)
    parts, skipped = [], []
    for by in (REGION_FIGURE, *WITHIN):
        if only is not None and by != only:
            continue
        result = Breakdown(AREA, rr.means, rr.table, rr.comparisons, rr.findings) if by == REGION_FIGURE else rr.within.get(by)
        if few or result is None:
            skipped.append({"region": rr.region, "by": by, "reason": TOO_FEW_SCHOOLS})
            continue
        data = area_frame(frame, rr.region) if by == REGION_FIGURE else frame[in_region]
        table = check(data, result, level)
        if by == REGION_FIGURE:  # the page states the region's own trend, never the rest's
            table = table[~((table["family"] == "first_last") & (table["group_a"] == REST))]
        parts.append(table.assign(region=rr.region))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)
    out.attrs["skipped"] = skipped
    return out


def check_regions(frame: pd.DataFrame, regions: dict, level: float | None = None) -> pd.DataFrame:
    """:func:`check_region` for every region page (``regions``: region name -> :class:`~oml.stats.regions.RegionResult`),
    stacked, with every skipped model in ``attrs["skipped"]``."""
    tables = [check_region(frame, rr, level) for rr in regions.values()]
    out = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=COLUMNS)
    out.attrs["skipped"] = [s for t in tables for s in t.attrs["skipped"]]
    return out


def fragile(table: pd.DataFrame) -> pd.DataFrame:
    """The conclusions whose verdict changes under at least one check: one row each, with the methods that change it.

    Examples
    --------
    >>> t = pd.DataFrame({"by": ["sex"] * 2, "family": ["between"] * 2, "group_a": ["jongen"] * 2, "year_a": [2025] * 2,
    ...     "group_b": ["meisje"] * 2, "year_b": [2025] * 2, "method": ["published", "cr2"],
    ...     "verdict": ["higher", "stable"], "published_verdict": ["higher"] * 2, "changed": [False, True]})
    >>> fragile(t)[["group_b", "verdict", "changed_by"]].to_dict("records")
    [{'group_b': 'meisje', 'verdict': 'higher', 'changed_by': ['cr2']}]
    """
    changed = table[table["changed"].astype(bool)]
    keys = [k for k in PAGE_KEYS if k in table.columns]
    cols = [*keys, "verdict", "changed_by"]
    if changed.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    # dropna=False: the province-wide figures have no region (None) and must not drop out of the grouping.
    for key, part in changed.groupby(keys, sort=False, dropna=False):
        rows.append({**dict(zip(keys, key)), "verdict": part["published_verdict"].iloc[0],
                     "changed_by": list(dict.fromkeys(part["method"]))})
    return pd.DataFrame(rows, columns=cols)


# ----------------------------------------------------------------------------- coverage under the data at hand
COVERAGE_COLUMNS = [*KEYS, "coverage", "mc_se", "coverage_cr2", "mc_se_cr2", "replications", "level", "between_var",
                    "within_var"]
COVERAGE_SEED = 240_000


def _cluster_sums(w: np.ndarray, codes: np.ndarray, g: int, x: np.ndarray):
    """A sparse matrix whose row ``j * g + school`` sums ``w[:, j] * (.)`` over the school, and its product with ``x``.

    One matrix for every contrast at once; with it the school sums of :math:`w_j e` are ``m @ y - (m @ x) @ beta``.
    """
    from scipy import sparse

    n, k = w.shape
    rows = (np.arange(k)[None, :] * g + codes[:, None]).ravel()
    m = sparse.csr_matrix((w.ravel(), (rows, np.repeat(np.arange(n), k))), shape=(k * g, n))
    return m, m @ x


def simulated_coverage(frame: pd.DataFrame, results: dict, replications: int = 1000, level: float = 0.95,
                       seed: int = COVERAGE_SEED, chunk: int = 100) -> pd.DataFrame:
    r"""Coverage of every published comparison's interval, simulated from the random-intercept model of these data.

    The data's own design is kept exactly: the schools, their pupils per year (the participation pattern),
    each pupil's sex, age, parental education and region. Only the index is drawn anew,
    :math:`y = u_{school} + e` with :math:`u \sim N(0, \hat\tau^2)`, :math:`e \sim N(0, \hat\sigma^2)` from
    :func:`random_intercept` fitted to Figure 2's model on these data, and no year, group or control effect, so
    every comparison's true value is 0. Each figure's model is refitted on each draw and the published interval
    (CR1, normal) and the CR2 interval (t, Bell–McCaffrey df) of each published conclusion are checked.

    Fast because the design does not change: the contrast :math:`d^\top\hat\beta = z^\top y` with
    :math:`z = X B d`, and its CR1 (CR2) variance is :math:`c \sum_g (z_g^\top e_g)^2` (:math:`\sum_g (p_g^\top e_g)^2`),
    so a draw costs a few sums over the pupils, and one draw of the index serves every figure.

    Returns
    -------
    DataFrame
        :data:`COVERAGE_COLUMNS`, one row per published conclusion (``first_last`` and ``between``).

    Examples
    --------
    >>> from oml.data.synth import generate
    >>> from oml.stats.index import add_index
    >>> from oml.stats.results import breakdowns
    >>> data = add_index(generate(n=1500, seed=5, history=False))
    >>> cov = simulated_coverage(data, breakdowns(data), replications=200)
    >>> len(cov), round(float(cov["coverage"].mean()), 2), round(float(cov["coverage_cr2"].mean()), 2)  # few schools: CR1 short
    (25, 0.88, 0.95)
    """
    rng = np.random.default_rng(seed)
    base = results[None] if None in results else next(iter(results.values()))
    data0 = model_frame(frame, base.by)
    x0, _ = design(data0, base.by, base.means.control_vars)
    fit = random_intercept(x0, data0["index"].to_numpy(dtype=float), data0["school_id"].to_numpy())
    tau, sigma = np.sqrt(fit.between_var), np.sqrt(fit.within_var)
    codes0, uniques0 = pd.factorize(data0["school_id"].to_numpy())
    z_crit = norm.ppf(0.5 + level / 2)
    plans = []
    for result in results.values():
        comps = _tested(result)
        comps = comps[comps["family"].isin(CONCLUSION_FAMILIES)].reset_index(drop=True)
        if comps.empty:
            continue
        data = model_frame(frame, result.by)
        x, _ = design(data, result.by, result.means.control_vars)
        codes, uniques = pd.factorize(data["school_id"].to_numpy())
        if len(data) != len(data0) or not np.array_equal(codes, codes0):
            raise ValueError("the figures' models do not have the same pupils; their coverage cannot share the draws")
        d = _contrasts(result, comps)
        robust = cr2(x, np.zeros(len(x)), codes)  # CR2 weights and df depend on the design only
        order = np.argsort(codes, kind="stable")
        a = d @ robust.bread  # rows: B d
        p = np.empty((len(x), len(d)))
        p[order] = np.vstack([ax @ a.T for ax in robust.adjusted_rows])
        n, k, g = x.shape[0], x.shape[1], len(uniques)
        z = x @ a.T

        plans.append({
            "comps": comps, "by": result.by, "x": x, "bread": robust.bread, "z": z, "g": g, "j": len(d),
            "cr1": _cluster_sums(z, codes, g, x), "cr2": _cluster_sums(p, codes, g, x), "factor": (g / (g - 1)) * ((n - 1) / (n - k)),
            "t_crit": np.array([student_t.ppf(0.5 + level / 2, robust.df(row)) for row in d]),
            "hits": np.zeros(len(d)), "hits_cr2": np.zeros(len(d)),
        })
    done = 0
    while done < replications:
        r = min(chunk, replications - done)
        # Every figure's model has the same pupils in the same order (model_frame): one draw serves them all.
        y = rng.normal(0.0, tau, (len(uniques0), r))[codes0] + rng.normal(0.0, sigma, (len(codes0), r))
        for plan in plans:
            beta = plan["bread"] @ (plan["x"].T @ y)
            estimate = plan["z"].T @ y
            # sum over a school of w_i e_i = sum of w_i y_i - (sum of w_i x_i)' beta: no N x R residual matrix.
            for key, hits, scale, crit in (("cr1", "hits", plan["factor"], np.full(plan["j"], z_crit)), ("cr2", "hits_cr2", 1.0, plan["t_crit"])):
                sums_wy = plan[key][0] @ y
                sums = sums_wy - plan[key][1] @ beta
                var = scale * (sums ** 2).reshape(plan["j"], plan["g"], r).sum(axis=1)
                plan[hits] += (np.abs(estimate) <= np.reshape(crit, (-1, 1)) * np.sqrt(var)).sum(axis=1)
        done += r
    parts = []
    for plan in plans:
        out = plan["comps"][["family", "group_a", "year_a", "group_b", "year_b"]].copy()
        out.insert(0, "by", "totaal" if plan["by"] is None else plan["by"])
        out["coverage"] = plan["hits"] / replications
        out["coverage_cr2"] = plan["hits_cr2"] / replications
        parts.append(out)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=KEYS)
    out["mc_se"] = np.sqrt(out["coverage"] * (1 - out["coverage"]) / replications)
    out["mc_se_cr2"] = np.sqrt(out["coverage_cr2"] * (1 - out["coverage_cr2"]) / replications)
    out["replications"], out["level"] = replications, level
    out["between_var"], out["within_var"] = fit.between_var, fit.within_var
    return out[COVERAGE_COLUMNS]
