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
with :math:`g` = the cell's design row for the year/group columns and the sample mean of
every control column. Its standard error is the delta method :math:`\\sqrt{g^\\top V g}`
and the interval is normal-based, :math:`\\hat\\theta \\pm z_{(1+c)/2}\\,\\mathrm{se}`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import patsy
import statsmodels.formula.api as smf
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


def formula_for(by: str | None) -> str:
    """The model formula of a figure.

    Examples
    --------
    >>> formula_for(None)
    'index ~ C(year) + C(sex) + age + C(parent_education) + C(region)'
    >>> formula_for("sex")
    'index ~ C(year) * C(sex) + age + C(parent_education) + C(region)'
    """
    cell = "C(year)" if by is None else f"C(year) * C({by})"
    return "index ~ " + " + ".join([cell, *(_term(c) for c in controls_for(by))])


def model_frame(frame: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """Pupils with an index, the variables of the model, unused categories dropped.

    Unused categories would give all-zero design columns (a singular model), so they go.
    """
    cols = ["index", "year", "school_id", *CONTROLS]
    data = frame.loc[frame["index"].notna(), cols].copy()
    data["year"] = data["year"].astype("int64")
    for c in ("sex", "parent_education", "region"):
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

    @property
    def controls(self) -> list[str]:
        return controls_for(self.by)


def _cell_columns(design_info: patsy.DesignInfo, cell_vars: set[str]) -> np.ndarray:
    """Boolean mask of design columns that depend only on year/group (incl. the intercept)."""
    mask = np.zeros(len(design_info.column_names), dtype=bool)
    for term, slc in design_info.term_slices.items():
        names = {f.name() for f in term.factors}
        if names <= cell_vars:
            mask[slc] = True
    return mask


def fit(frame: pd.DataFrame, by: str | None = None):
    """Fit the figure's OLS model with school-clustered (CR1) covariance; returns (results, data)."""
    data = model_frame(frame, by)
    groups = pd.factorize(data["school_id"])[0]
    results = smf.ols(formula_for(by), data=data).fit(cov_type="cluster", cov_kwds={"groups": groups})
    return results, data


def adjusted_means(frame: pd.DataFrame, by: str | None = None, level: float = 0.95) -> AdjustedMeans:
    """Adjusted mean index per year (and group), tidy, with delta-method SEs and normal CIs.

    Parameters
    ----------
    frame : DataFrame
        Pupils with the ``index`` column (:func:`oml.index.add_index`).
    by : {None, "sex", "parent_education", "region"}
        Breakdown variable; ``None`` for Figure 2 (then ``group`` is ``"totaal"``).
    level : float
        Confidence level of the intervals.

    Returns
    -------
    AdjustedMeans
        ``.table`` has one row per cell: ``year, group, estimate, se, ci_low, ci_high, n``
        (``n`` = pupils of that cell in the model). An empty cell has ``n = 0`` and no estimate.

    Examples
    --------
    >>> from oml.synth import generate
    >>> from oml.index import add_index
    >>> am = adjusted_means(add_index(generate(n=600, seed=2)), by="sex")
    >>> am.table.columns.tolist()
    ['year', 'group', 'estimate', 'se', 'ci_low', 'ci_high', 'n']
    >>> len(am.table)
    6
    """
    if by not in BREAKDOWNS:
        raise ValueError(f"by must be one of {BREAKDOWNS}, not {by!r}")
    results, data = fit(frame, by)
    design_info = results.model.data.model_spec  # patsy DesignInfo of the exog matrix
    exog = results.model.exog
    cell_vars = {"C(year)"} | ({f"C({by})"} if by else set())
    mask = _cell_columns(design_info, cell_vars)
    xbar = exog.mean(axis=0)

    years = sorted(data["year"].unique())
    groups = [ALL] if by is None else list(data[by].cat.categories)
    cells = pd.DataFrame([(y, g) for y in years for g in groups], columns=["year", "group"])
    # Design rows of the cells: controls are set to the first pupil's values, then replaced
    # by the sample means (they do not interact with year/group, so only their mean matters).
    proto = data.iloc[[0] * len(cells)].reset_index(drop=True)
    proto["year"] = cells["year"].to_numpy()
    if by is not None:
        proto[by] = pd.Categorical(cells["group"], categories=data[by].cat.categories)
    rows = np.asarray(patsy.build_design_matrices([design_info], proto)[0])
    grads = np.where(mask[None, :], rows, xbar[None, :])

    params = np.asarray(results.params)
    cov = np.asarray(results.cov_params())
    estimate = grads @ params
    se = np.sqrt(np.einsum("ij,jk,ik->i", grads, cov, grads))
    z = norm.ppf(0.5 + level / 2)
    key = data["year"].astype(str) + "|" + (data[by].astype(str) if by else ALL)
    counts = key.value_counts()
    n = np.array([int(counts.get(f"{y}|{g}", 0)) for y, g in cells.itertuples(index=False)])
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
        formula=formula_for(by),
        n_model=int(results.nobs),
        n_clusters=int(len(np.unique(pd.factorize(data["school_id"])[0]))),
    )
