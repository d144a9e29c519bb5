"""Does any conclusion depend on how parental education "onbekend" is handled? A sensitivity analysis.

The figures keep every pupil and let "onbekend" be a category of the control parental education (the
missing-indicator method, :mod:`oml.stats.models`). Three alternatives refit every figure's model and test
every published conclusion (:data:`oml.stats.robustness.CONCLUSION_FAMILIES`) again, Holm within the same
families:

* ``complete_cases`` — only the pupils whose parental education is known;
* ``no_control`` — all pupils, parental education not controlled for (Figure 4, whose breakdown it is, has
  no such variant: its controls never include it);
* ``imputed`` — multiple imputation of the unknown parental education (statsmodels ``MICEData``: predictive
  mean matching on the ordered education levels, from the index, year, sex, age and region; the imputation
  model's parameters drawn anew for each of ``imputations`` completed datasets; seed fixed), the figure's
  model fitted on each completed dataset (CR1 by school), and the contrasts pooled by Rubin's rules
  (:func:`rubin`) with t-tests on Rubin's degrees of freedom.

The imputation assumes that "onbekend" is missing at random given those variables. Where it is a matter of
the school (schools that deliver no parental education at all), that assumption is weak: the imputation then
fills in what pupils like these have elsewhere. That is why it is one of three alternatives, not the answer.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import t as student_t

from oml.stats.comparisons import compare, not_compared
from oml.stats.disclosure import MIN_CELL
from oml.stats.models import adjusted_means, controls_for
from oml.stats.robustness import CONCLUSION_FAMILIES, KEYS, holm_verdicts

UNKNOWN = "onbekend"
#: The ways "onbekend" is handled: the published one first.
VARIANTS = ("published", "complete_cases", "no_control", "imputed")
COLUMNS = [*KEYS, "variant", "estimate", "se", "df", "ci_low", "ci_high", "p", "p_holm", "verdict",
           "published_verdict", "changed"]
IMPUTATIONS = 20
SEED = 2024


def rubin(estimates, variances) -> tuple[float, float, float]:
    r"""Rubin's rules for one scalar: pooled estimate, total variance and degrees of freedom.

    :math:`\bar Q = \frac1m \sum Q_i`, :math:`\bar W = \frac1m \sum W_i`, :math:`B = \frac1{m-1}\sum (Q_i - \bar Q)^2`,
    :math:`T = \bar W + (1 + \frac1m) B`, :math:`\nu = (m - 1)\,(1 + 1/r)^2` with :math:`r = (1 + \frac1m) B / \bar W`
    (Rubin 1987, eq. 3.1.6; infinite when the imputations agree exactly).

    Examples
    --------
    >>> q, t, df = rubin([1.0, 1.2, 0.8], [0.04, 0.05, 0.03])
    >>> round(q, 6), round(t, 6), round(df, 3)  # W 0.04, B 0.04, T 0.04 + 4/3 * 0.04; r 4/3: 2 (7/4)^2
    (1.0, 0.093333, 6.125)
    """
    q = np.asarray(estimates, dtype=float)
    w = np.asarray(variances, dtype=float)
    m = len(q)
    qbar, wbar = float(q.mean()), float(w.mean())
    b = float(q.var(ddof=1)) if m > 1 else 0.0
    total = wbar + (1.0 + 1.0 / m) * b
    if b <= 0:
        return qbar, total, float("inf")
    r = (1.0 + 1.0 / m) * b / wbar
    return qbar, total, float((m - 1) * (1.0 + 1.0 / r) ** 2)


def _tested(comps: pd.DataFrame, by) -> pd.DataFrame:
    unknown = set(not_compared(by))
    return comps[~(comps["group_a"].isin(unknown) | comps["group_b"].isin(unknown))].reset_index(drop=True)


def impute(frame: pd.DataFrame, imputations: int = IMPUTATIONS, seed: int = SEED) -> list[pd.DataFrame]:
    """``imputations`` copies of ``frame`` with every "onbekend" parental education imputed (module docstring).

    Examples
    --------
    >>> from oml.data.synth import generate
    >>> from oml.stats.index import add_index
    >>> done = impute(add_index(generate(n=800, seed=3, history=False)), imputations=2)
    >>> len(done), any((d["parent_education"] == "onbekend").any() for d in done)
    (2, False)
    """
    from statsmodels.imputation.mice import MICEData

    data = frame[frame["index"].notna()]
    levels = [c for c in data["parent_education"].cat.categories if c != UNKNOWN]
    code = data["parent_education"].astype(str).map({c: float(i) for i, c in enumerate(levels)})
    if code.notna().sum() < 2:
        raise ValueError("column 'parent_education': too few pupils with a known parental education to impute from")
    work = pd.DataFrame({"education": code.to_numpy(), "index": data["index"].to_numpy(float),
                         "age": data["age"].to_numpy(float), "girl": (data["sex"].astype(str) == "meisje").to_numpy(float)})
    # Year and region as 0/1 columns made here: patsy's C() sniffs every value (seconds per imputation).
    predictors = ["index", "age", "girl"]
    for name, values in (("year", data["year"].astype(int).to_numpy()), ("region", data["region"].cat.codes.to_numpy())):
        for j, level in enumerate(np.unique(values)[1:]):
            work[f"{name}{j}"] = (values == level).astype(float)
            predictors.append(f"{name}{j}")
    mice = MICEData(work, rng=np.random.default_rng(seed))
    mice.set_imputer("education", formula=" + ".join(predictors))
    out = []
    for _ in range(imputations):
        mice.update_all(1)
        filled = data.copy()
        values = mice.data["education"].round().astype(int).clip(0, len(levels) - 1).to_numpy()
        filled["parent_education"] = pd.Categorical([levels[v] for v in values], categories=levels)
        out.append(filled)
    return out


def _from_compare(comps: pd.DataFrame, by, variant: str) -> pd.DataFrame:
    out = comps[["family", "group_a", "year_a", "group_b", "year_b", "estimate", "se", "ci_low", "ci_high", "p"]].copy()
    out.insert(0, "by", "totaal" if by is None else by)
    out["variant"], out["df"] = variant, np.inf
    return out


def _pooled(fits: list[pd.DataFrame], by, level: float) -> pd.DataFrame:
    keys = ["family", "group_a", "year_a", "group_b", "year_b"]
    stacked = pd.concat(fits, ignore_index=True)
    rows = []
    for key, part in stacked.groupby(keys, sort=False):
        if len(part) < len(fits):  # a cell small in one completed dataset: no pooled test
            continue
        q, total, df = rubin(part["estimate"], part["se"] ** 2)
        se = float(np.sqrt(total))
        quantile = student_t.ppf(0.5 + level / 2, min(df, 1e9))
        rows.append({"by": "totaal" if by is None else by, **dict(zip(keys, key)), "variant": "imputed",
                     "estimate": q, "se": se, "df": df, "ci_low": q - quantile * se, "ci_high": q + quantile * se,
                     "p": float(2 * student_t.sf(abs(q) / se, min(df, 1e9)))})
    return pd.DataFrame(rows)


def sensitivity(frame: pd.DataFrame, results: dict, level: float = 0.95, min_cell: int = MIN_CELL,
                imputations: int = IMPUTATIONS, seed: int = SEED) -> pd.DataFrame:
    """Every published conclusion of every figure under each handling of "onbekend" (:data:`VARIANTS`), tidy.

    Parameters
    ----------
    frame : DataFrame
        The pupils of the figures, with the ``index``.
    results : dict
        The figures as published (:func:`oml.stats.results.breakdowns`).
    level : float
        Confidence level.
    min_cell : int
        A cell with fewer pupils is not compared (as in the published figures).
    imputations, seed : int
        Number of completed datasets and the seed of the imputation.

    Returns
    -------
    DataFrame
        :data:`COLUMNS`, one row per conclusion (``first_last`` and ``between``) and variant; a variant that
        does not apply (no control on Figure 4) or a conclusion a variant cannot test has no row.
        ``changed`` is True where the verdict differs from the published one.

    Examples
    --------
    >>> from oml.data.synth import generate
    >>> from oml.stats.index import add_index
    >>> from oml.stats.results import breakdowns
    >>> data = add_index(generate(n=1500, seed=5, history=False))
    >>> s = sensitivity(data, breakdowns(data), imputations=3)
    >>> s.groupby("variant").size().to_dict()
    {'complete_cases': 25, 'imputed': 25, 'no_control': 19, 'published': 25}
    """
    data = frame[frame["index"].notna()]
    known = data[data["parent_education"].astype(str) != UNKNOWN]
    unknown = bool((data["parent_education"].astype(str) == UNKNOWN).any())
    completed = impute(data, imputations, seed) if unknown else [data]
    parts = []
    for by, result in results.items():
        def tested(am, by=by):
            return _tested(compare(am, level, exclude=(am.table["n"] < min_cell).to_numpy()), by)

        parts.append(holm_verdicts(_from_compare(_tested(result.comparisons, by), by, "published"), level))
        parts.append(holm_verdicts(_from_compare(tested(adjusted_means(known, by, level)), by, "complete_cases"), level))
        if by != "parent_education":
            controls = [c for c in controls_for(by) if c != "parent_education"]
            parts.append(holm_verdicts(_from_compare(tested(adjusted_means(data, by, level, controls=controls)), by,
                                                 "no_control"), level))
        if unknown:
            pooled = _pooled([tested(adjusted_means(d, by, level)) for d in completed], by, level)
            if len(pooled):
                parts.append(holm_verdicts(pooled, level))
    out = pd.concat(parts, ignore_index=True)
    out = out[out["family"].isin(CONCLUSION_FAMILIES)].reset_index(drop=True)
    published = out[out["variant"] == "published"].set_index(KEYS)["verdict"]
    out["published_verdict"] = [published.get(tuple(k)) for k in out[KEYS].itertuples(index=False)]
    out["changed"] = out["published_verdict"].notna() & (out["verdict"] != out["published_verdict"])
    out = out[COLUMNS]
    # How many completed datasets the imputed rows rest on (0: no "onbekend", nothing imputed or compared).
    out.attrs["imputations"] = len(completed) if unknown else 0
    return out


def key_comparisons(table: pd.DataFrame) -> pd.DataFrame:
    """Each figure's key comparison, all variants: the trend of all pupils (Figure 2) and, per breakdown, the
    difference between groups in the last year with the largest published absolute estimate.

    Examples
    --------
    >>> t = pd.DataFrame({"by": ["sex", "sex", "sex"], "family": ["between", "first_last", "between"],
    ...     "group_a": ["jongen", "jongen", "jongen"], "year_a": [2025, 2023, 2025], "group_b": ["meisje"] * 3,
    ...     "year_b": [2025, 2025, 2025], "variant": ["published", "published", "imputed"], "estimate": [0.1, 0.3, 0.12]})
    >>> key_comparisons(t)["variant"].tolist()
    ['published', 'imputed']
    """
    published = table[table["variant"] == "published"]
    keys = []
    for by, part in published.groupby("by", sort=False):
        family = "first_last" if by == "totaal" else "between"
        rows = part[part["family"] == family]
        if rows.empty:
            rows = part
        keys.append(tuple(rows.loc[rows["estimate"].abs().idxmax(), KEYS]))
    mask = [tuple(k) in set(keys) for k in table[KEYS].itertuples(index=False)]
    return table[mask].reset_index(drop=True)
