"""Adjusted (covariate-controlled) mean index per year and group, with cluster-robust CIs.

Model, as the factsheet states per figure: OLS of the standardised index on ``C(year)``
(Figure 2) or ``C(year) * C(by)`` (Figures 3–5), plus the controls ``sex``, ``age``
(linear), ``parent_education`` and ``region`` — each except the breakdown variable. The
covariance is cluster-robust by school (CR1: statsmodels ``cov_type="cluster"``, with the
small-sample factor :math:`\\frac{G}{G-1}\\frac{N-1}{N-K}`).

A cell's value is the average counterfactual prediction: every pupil in the model gets
the cell's year (and group), keeps their own controls, and the predictions are averaged
— what Stata ``margins`` and R ``emmeans(weights = "proportional")`` report. Because
the controls do not interact with year or group, that average is :math:`g^\\top\\hat\\beta`
with :math:`g` = the cell's indicator for the cell columns and the sample mean of every
control column (the design is parametrised by cell means, see :func:`design`). Its standard error is the delta method :math:`\\sqrt{g^\\top V g}`
and the interval is normal-based, :math:`\\hat\\theta \\pm z_{(1+c)/2}\\,\\mathrm{se}`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm

CONTROLS = ("sex", "age", "parent_education", "region")
BREAKDOWNS = (None, "sex", "parent_education", "region")
ALL = "totaal"
TIDY = ["year", "group", "estimate", "se", "ci_low", "ci_high", "n"]


def _term(variable: str) -> str:
    return variable if variable == "age" else f"C({variable})"


def controls_for(by: str | None) -> list[str]:
    """The controls of a figure: all background variables except the breakdown itself.

    Examples
    --------
    >>> controls_for("region")
    ['sex', 'age', 'parent_education']
    """
    return [c for c in CONTROLS if c != by]


def formula_for(by: str | None, controls: list[str] | None = None) -> str:
    """The model formula of a figure (``controls`` default: :func:`controls_for`).

    Examples
    --------
    >>> formula_for(None)
    'index ~ C(year) + C(sex) + age + C(parent_education) + C(region)'
    >>> formula_for("sex")
    'index ~ C(year) * C(sex) + age + C(parent_education) + C(region)'
    """
    cell = "C(year)" if by is None else f"C(year) * C({by})"
    controls = controls_for(by) if controls is None else controls
    return "index ~ " + " + ".join([cell, *(_term(c) for c in controls)])


def model_frame(frame: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """Pupils with an index, the variables of the model, unused categories dropped.

    Unused categories would give all-zero design columns (a singular model), so they go.
    """
    extra = [by] if by is not None and by not in CONTROLS else []
    cols = ["index", "year", "school_id", *CONTROLS, *extra]
    data = frame.loc[frame["index"].notna(), cols].copy()
    # Year as a categorical: its codes give the dummy columns, its categories the cells.
    data["year"] = pd.Categorical(data["year"].astype("int64"))
    for c in ("sex", "parent_education", "region", *extra):
        data[c] = data[c].cat.remove_unused_categories()
    return data.reset_index(drop=True)


@dataclass
class AdjustedMeans:
    """Adjusted means of one figure: the tidy table plus what comparisons need."""

    by: str | None
    level: float
    table: pd.DataFrame
    gradients: np.ndarray = field(repr=False)
    cov: np.ndarray = field(repr=False)
    params: np.ndarray = field(repr=False)
    formula: str = ""
    n_model: int = 0
    n_clusters: int = 0
    #: The control variables of the model (default: every background variable except ``by``).
    control_vars: list[str] | None = None

    @property
    def controls(self) -> list[str]:
        return controls_for(self.by) if self.control_vars is None else list(self.control_vars)


def _dummies(values: pd.Categorical) -> np.ndarray:
    """Treatment coding: one 0/1 column per category except the first (the reference)."""
    codes = values.codes
    k = len(values.categories)
    out = np.zeros((len(codes), max(k - 1, 0)))
    rows = np.flatnonzero(codes > 0)
    out[rows, codes[rows] - 1] = 1.0
    return out


def cell_codes(data: pd.DataFrame, by: str | None) -> np.ndarray:
    """Cell number of every pupil: ``year_code * n_groups + group_code`` (group 0 when ``by`` is None)."""
    year = data["year"].array.codes.astype(np.int64)
    if by is None:
        return year
    group = data[by].array
    return year * len(group.categories) + group.codes.astype(np.int64)


def design(data: pd.DataFrame, by: str | None, controls: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Design matrix of the figure's model and the list of cells its first columns stand for.

    Cell-means parametrisation: one 0/1 column per *observed* year (x group) cell — no
    intercept — then the controls (categorical dummies against the first category; age
    linear). This spans the same column space as the formula :func:`formula_for` gives in
    patsy (``C(year) * C(by)`` is a reparametrisation of the cell indicators), and an empty
    cell simply has no column, so the design stays of full rank whatever cells are empty.

    Returns ``(X, cells)`` with ``cells`` the cell numbers (:func:`cell_codes`) of the first
    ``len(cells)`` columns.
    """
    codes = cell_codes(data, by)
    cells, index = np.unique(codes, return_inverse=True)
    blocks = [np.zeros((len(data), len(cells)))]
    blocks[0][np.arange(len(data)), index] = 1.0
    for c in controls_for(by) if controls is None else controls:
        blocks.append(data[[c]].to_numpy(dtype=float) if c == "age" else _dummies(data[c].array))
    return np.hstack(blocks), cells


def ols_cluster(x: np.ndarray, y: np.ndarray, clusters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""OLS coefficients and CR1 cluster-robust covariance.

    :math:`\hat\beta = (X^\top X)^{-1} X^\top y`;
    :math:`V = c\,(X^\top X)^{-1} \Big(\sum_g s_g s_g^\top\Big) (X^\top X)^{-1}` with
    :math:`s_g = \sum_{i \in g} x_i \hat e_i` and :math:`c = \frac{G}{G-1}\frac{N-1}{N-K}`
    (statsmodels ``cov_type="cluster"`` defaults; Stata's ``vce(cluster)``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = np.column_stack([np.ones(2000), rng.normal(size=2000)])
    >>> beta, v = ols_cluster(x, x @ [1.0, 2.0] + rng.normal(size=2000), np.arange(2000) // 5)
    >>> np.round(beta, 1).tolist()
    [1.0, 2.0]
    """
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ (x.T @ y)
    resid = y - x @ beta
    codes, uniques = pd.factorize(clusters)
    # Cluster score sums, one column at a time: no N x K temporary (national scale memory).
    scores = np.column_stack([np.bincount(codes, weights=x[:, j] * resid, minlength=len(uniques))
                              for j in range(x.shape[1])])
    n, k, g = x.shape[0], x.shape[1], len(uniques)
    if g < 2:  # G/(G-1): one cluster has no cluster-robust variance (callers check before: oml.stats.regions)
        raise ValueError(f"clustered standard errors need at least two schools; the model has {g}")
    meat = scores.T @ scores
    cov = (g / (g - 1)) * ((n - 1) / (n - k)) * (xtx_inv @ meat @ xtx_inv)
    return beta, cov


def adjusted_means(frame: pd.DataFrame, by: str | None = None, level: float = 0.95,
                   controls: list[str] | None = None) -> AdjustedMeans:
    """Adjusted mean index per year (and group), tidy, with delta-method SEs and normal CIs.

    Parameters
    ----------
    frame : DataFrame
        Pupils with the ``index`` column (:func:`oml.stats.index.add_index`).
    by : {None, "sex", "parent_education", "region"}
        Breakdown variable; ``None`` for Figure 2 (then ``group`` is ``"totaal"``). With
        ``controls`` given, any categorical column (e.g. a region against the rest of Limburg).
    level : float
        Confidence level of the intervals.
    controls : list of str, optional
        Control variables; default every background variable except ``by`` (the figures).

    Returns
    -------
    AdjustedMeans
        ``.table`` has one row per cell: ``year, group, estimate, se, ci_low, ci_high, n``
        (``n`` = pupils of that cell in the model). An empty cell has ``n = 0`` and no estimate.

    Examples
    --------
    >>> from oml.data.synth import generate
    >>> from oml.stats.index import add_index
    >>> am = adjusted_means(add_index(generate(n=600, seed=2, history=False)), by="sex")
    >>> am.table.columns.tolist()
    ['year', 'group', 'estimate', 'se', 'ci_low', 'ci_high', 'n']
    >>> len(am.table)
    6
    """
    if controls is None and by not in BREAKDOWNS:
        raise ValueError(f"by must be one of {BREAKDOWNS}, not {by!r}")
    if controls is not None and (by in controls or not set(controls) <= set(CONTROLS)):
        raise ValueError(f"controls must be background variables other than {by!r}, not {controls!r}")
    data = model_frame(frame, by)
    x, observed = design(data, by, controls)
    params, cov = ols_cluster(x, data["index"].to_numpy(dtype=float), data["school_id"].to_numpy())

    years = list(data["year"].cat.categories)
    groups = [ALL] if by is None else list(data[by].cat.categories)
    cells = pd.DataFrame([(y, g) for y in years for g in groups], columns=["year", "group"])
    # Gradient of a cell's average counterfactual prediction: 1 on its own cell column, 0 on the
    # other cells, and the sample mean of every control column (controls do not interact with
    # year/group, so averaging the predictions over pupils averages the controls).
    grads = np.zeros((len(cells), x.shape[1]))
    grads[:, len(observed):] = x[:, len(observed):].mean(axis=0)
    position = {int(c): j for j, c in enumerate(observed)}
    for i in range(len(cells)):
        if i in position:
            grads[i, position[i]] = 1.0
    estimate = grads @ params
    se = np.sqrt(np.einsum("ij,jk,ik->i", grads, cov, grads))
    z = norm.ppf(0.5 + level / 2)
    n = np.bincount(cell_codes(data, by), minlength=len(cells))
    empty = n == 0
    estimate[empty] = np.nan
    se[empty] = np.nan
    table = cells.assign(
        estimate=estimate, se=se, ci_low=estimate - z * se, ci_high=estimate + z * se, n=n
    )[TIDY]
    table["year"] = table["year"].astype("int64")
    return AdjustedMeans(
        by=by,
        level=level,
        table=table,
        gradients=grads,
        cov=cov,
        params=params,
        formula=formula_for(by, controls),
        n_model=len(data),
        n_clusters=int(data["school_id"].nunique()),
        control_vars=None if controls is None else list(controls),
    )
