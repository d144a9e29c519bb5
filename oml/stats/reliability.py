"""Reliability of the index: Cronbach's alpha with a Feldt interval, item–rest statistics.

Reverse-worded statements enter reverse-coded (:func:`oml.stats.index.scored_items`);
:func:`alpha_by_period` gives alpha per answer-scale period (:mod:`oml.data.scales`).

**Statements not asked every year.** Alpha is computed listwise, over pupils who answered every
statement used. A statement one year did not ask (:func:`oml.data.codebook.not_asked`) would
leave that year's pupils out of it without a word, so alpha and the item statistics use the
statements asked in *every* year of the data they are given — for :func:`alpha_by_period`, of
the period — and name the ones left out (``left_out``). One alpha per period, rather than one
per year, keeps the number the factsheet publishes (one for its period) and lets every year's
pupils count; with fewer statements it describes a slightly shorter scale than the years that
asked them all, so it errs on the low side for those years.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import f as f_dist

from oml.data import scales
from oml.data.codebook import asked_in_every_year
from oml.data.contract import item_columns
from oml.stats.index import scored_items


def _alpha(x: np.ndarray) -> float:
    # Cronbach's alpha: k/(k-1) * (1 - sum of item variances / variance of the sum score)
    k = x.shape[1]
    if k < 2:
        return float("nan")  # one statement is no scale (e.g. the only one asked in every year)
    item_var = x.var(axis=0, ddof=1).sum()
    total_var = x.sum(axis=1).var(ddof=1)
    return k / (k - 1) * (1.0 - item_var / total_var)


def used_items(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The statements alpha uses (asked in every year of ``frame``) and those it leaves out, in column order.

    Examples
    --------
    >>> used_items(pd.DataFrame({"year": [2019, 2020], "item_a": [1, 2], "item_b": [None, 3], "item_c": [2, 2]}))
    (['item_a', 'item_c'], ['item_b'])
    """
    items = item_columns(frame.columns)
    used = asked_in_every_year(frame) if "year" in frame.columns else items
    return used, [c for c in items if c not in used]


def cronbach_alpha(frame: pd.DataFrame, level: float = 0.95) -> dict:
    """Cronbach's alpha over the ``item_*`` columns asked in every year, listwise, with Feldt's confidence interval.

    Parameters
    ----------
    frame : DataFrame
        Pupils; only complete cases on every statement used are used. Statements not asked in
        some year of ``frame`` are left out (:func:`used_items`), so no year's pupils drop out.
    level : float
        Confidence level of the interval.

    Returns
    -------
    dict
        ``alpha``, ``ci_low``, ``ci_high``, ``n`` (complete cases), ``k`` (statements used), ``level``,
        ``left_out`` (statements not asked in every year, not used).

    Notes
    -----
    :math:`\\alpha = \\frac{k}{k-1}\\left(1 - \\frac{\\sum_j s_j^2}{s_X^2}\\right)`. Feldt (1965):
    :math:`(1-\\alpha)/(1-\\hat\\alpha) \\sim F(n-1, (n-1)(k-1))`, so the interval is
    :math:`1 - (1-\\hat\\alpha) F_{(1\\mp c)/2}` with upper-tail quantiles.

    Examples
    --------
    >>> df = pd.DataFrame({"item_a": [1, 2, 3, 4, 5], "item_b": [2, 2, 3, 5, 5], "item_c": [1, 3, 3, 4, 4]})
    >>> round(cronbach_alpha(df)["alpha"], 4)
    0.9538
    """
    used, left_out = used_items(frame)
    x = scored_items(frame)[used].dropna().to_numpy(dtype="float64")
    n, k = x.shape
    alpha = _alpha(x)
    df1, df2 = n - 1, (n - 1) * (k - 1)
    return {
        "alpha": float(alpha),
        "ci_low": float(1 - (1 - alpha) * f_dist.isf((1 - level) / 2, df1, df2)),
        "ci_high": float(1 - (1 - alpha) * f_dist.isf((1 + level) / 2, df1, df2)),
        "n": int(n),
        "k": int(k),
        "level": level,
        "left_out": left_out,
    }


def item_statistics(frame: pd.DataFrame) -> pd.DataFrame:
    """Per item (listwise complete cases): mean, sd, item–rest correlation and alpha if deleted.

    The item–rest correlation is the Pearson correlation of the item with the sum of the
    *other* items (the corrected item–total correlation). Like :func:`cronbach_alpha`, over
    the statements asked in every year of ``frame`` only: the others get no row.

    Examples
    --------
    >>> df = pd.DataFrame({"item_a": [1, 2, 3, 4, 5], "item_b": [2, 2, 3, 5, 5], "item_c": [1, 3, 3, 4, 4]})
    >>> item_statistics(df)["item"].tolist()
    ['item_a', 'item_b', 'item_c']
    """
    items, _ = used_items(frame)
    x = scored_items(frame)[items].dropna().to_numpy(dtype="float64")
    rows = []
    for j, name in enumerate(items):
        rest = np.delete(x, j, axis=1)
        rows.append(
            {
                "item": name,
                "mean": x[:, j].mean(),
                "sd": x[:, j].std(ddof=1),
                "item_rest_r": np.corrcoef(x[:, j], rest.sum(axis=1))[0, 1],
                "alpha_if_deleted": _alpha(rest) if rest.shape[1] > 1 else np.nan,
                "n": x.shape[0],
            }
        )
    return pd.DataFrame(rows)


def alpha_by_period(frame: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """:func:`cronbach_alpha` within each answer-scale period present in ``frame``, tidy.

    Returns one row per period, oldest first: ``period``, ``first_year``, ``last_year`` (of the
    data), ``points``, ``alpha``, ``ci_low``, ``ci_high``, ``n``, ``k``, ``level`` and ``left_out``
    (the statements not asked in every year of the period, which that period's alpha leaves out).

    Examples
    --------
    >>> df = pd.DataFrame({"year": [2018] * 4 + [2024] * 4, "item_a": [1, 2, 3, 4, 1, 3, 4, 5],
    ...                    "item_b": [1, 2, 4, 4, 2, 3, 5, 5]})
    >>> alpha_by_period(df)[["period", "n"]].values.tolist()
    [['vierpuntsschaal', 4], ['vijfpuntsschaal', 4]]
    """
    rows = []
    for scale, part in scales.periods(frame):
        years = part["year"].astype("int64")
        rows.append({"period": scale.name, "first_year": int(years.min()), "last_year": int(years.max()),
                     "points": scale.points, **cronbach_alpha(part, level)})
    return pd.DataFrame(rows)
