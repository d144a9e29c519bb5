"""Pupils clustered in schools: the intraclass correlation (ICC) of the index and the design effect, per period.

Pupils of one school resemble each other, so they carry less information than as many pupils drawn
independently. Per answer-scale period (:mod:`oml.data.scales`; the index is standardised within each,
:mod:`oml.stats.index`), over the pupils with an index and all years of the period together (a school
is one cluster across its years, as in the models' CR1 covariance, :mod:`oml.stats.models`):

**ICC.** The one-way random-effects ANOVA estimator of the unconditional model
:math:`y_{ij} = \\mu + u_j + e_{ij}` (no controls, no year: the clustering of the index itself), for
unequal school sizes (Searle, Casella & McCulloch 1992, ch. 3; Donner 1986):

.. math::

   \\mathrm{MSB} = \\frac{\\sum_j m_j (\\bar y_j - \\bar y)^2}{G-1},\\quad
   \\mathrm{MSW} = \\frac{\\sum_j \\sum_i (y_{ij} - \\bar y_j)^2}{N-G},\\quad
   n_0 = \\frac{N - \\sum_j m_j^2 / N}{G-1},

:math:`\\hat\\sigma^2_b = \\max(0, (\\mathrm{MSB}-\\mathrm{MSW})/n_0)`, :math:`\\hat\\sigma^2_w = \\mathrm{MSW}` and
:math:`\\widehat{\\mathrm{ICC}} = \\hat\\sigma^2_b / (\\hat\\sigma^2_b + \\hat\\sigma^2_w)`. A closed form: no
optimiser, the same number on every machine. In balanced data it equals the REML estimate of the
random-intercept model (statsmodels ``MixedLM``, checked in the tests); on the default data they agree
to about 0.0002.

**Design effect.** The variance of a pupil-weighted mean under that model, relative to the same number
of independent pupils (Kish 1965; Eldridge, Ashby & Kerry 2006 for unequal cluster sizes):

.. math::

   \\mathrm{deff} = 1 + (\\tilde m - 1)\\,\\mathrm{ICC},\\qquad \\tilde m = \\frac{\\sum_j m_j^2}{N}
   = \\bar m\\,(1 + \\mathrm{cv}^2),

the cluster-size-weighted mean school size (:math:`\\bar m = N/G`, cv the coefficient of variation of
the sizes): with unequal schools the plain :math:`1 + (\\bar m - 1)\\mathrm{ICC}` understates it. The
effective number of pupils is :math:`N/\\mathrm{deff}`, and an interval that ignored the schools would
be :math:`\\sqrt{\\mathrm{deff}}` times too narrow. The figures' intervals do not ignore them (CR1 by
school); the design effect says how much that matters. It is the factor for a mean over all schools
(and for a region, whose schools are all its own); a difference between groups that sit in the same
schools (boys and girls, one year and the next) loses less, because the school effect largely cancels.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from oml.data import scales

COLUMNS = ["period", "first_year", "last_year", "pupils", "schools", "mean_size", "weighted_size",
           "between_var", "within_var", "icc", "design_effect", "effective_n", "width_factor"]


def icc_anova(values, clusters) -> tuple[float, float, float]:
    """The one-way ANOVA estimate ``(icc, between_var, within_var)`` for unequal cluster sizes (module docstring).

    Missing values are left out. A negative between-cluster estimate is set to 0 (ICC 0).

    Examples
    --------
    >>> icc, sb, sw = icc_anova([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], ["a", "a", "a", "b", "b", "b"])
    >>> round(icc, 4), round(sb, 4), round(sw, 4)  # MSB 13.5, MSW 1, n0 3: sb = 12.5 / 3
    (0.8065, 4.1667, 1.0)
    """
    y = pd.Series(np.asarray(values, dtype=float))
    g = pd.Series(np.asarray(clusters)).astype(str)
    keep = y.notna().to_numpy()
    y, g = y[keep].to_numpy(), g[keep].to_numpy()
    codes, uniques = pd.factorize(g)
    n, k = len(y), len(uniques)
    if k < 2 or n <= k:
        raise ValueError(f"an ICC needs at least two clusters and more pupils than clusters (pupils {n}, clusters {k})")
    sizes = np.bincount(codes, minlength=k).astype(float)
    means = np.bincount(codes, weights=y, minlength=k) / sizes
    msb = float((sizes * (means - y.mean()) ** 2).sum() / (k - 1))
    msw = float(((y - means[codes]) ** 2).sum() / (n - k))
    n0 = (n - (sizes ** 2).sum() / n) / (k - 1)
    between = max(0.0, float((msb - msw) / n0))
    return between / (between + msw), between, msw


def design_effect(icc: float, sizes) -> float:
    """:math:`1 + (\\tilde m - 1)\\,\\mathrm{ICC}` with :math:`\\tilde m = \\sum m_j^2 / \\sum m_j` (module docstring).

    Examples
    --------
    >>> round(design_effect(0.05, [20, 20, 20]), 6)  # equal sizes: 1 + 19 * 0.05
    1.95
    >>> round(design_effect(0.05, [10, 30]), 6)  # m~ = (100 + 900) / 40 = 25: 1 + 24 * 0.05
    2.2
    """
    sizes = np.asarray(sizes, dtype=float)
    return float(1.0 + ((sizes ** 2).sum() / sizes.sum() - 1.0) * icc)


def clustering_by_period(frame: pd.DataFrame) -> pd.DataFrame:
    """ICC and design effect of the index per answer-scale period, one tidy row each (:data:`COLUMNS`).

    ``frame`` carries the ``index`` (:func:`oml.stats.index.add_index`, standardised within each
    period), ``year`` and ``school_id``. Pupils without an index are left out; a period whose
    pupils sit in fewer than two schools gets no row.

    Examples
    --------
    >>> from oml.data.synth import generate
    >>> from oml.stats.index import add_index
    >>> c = clustering_by_period(add_index(generate(n=1500, seed=3)))
    >>> c["period"].tolist(), bool((c["design_effect"] >= 1).all())
    (['vierpuntsschaal', 'vijfpuntsschaal'], True)
    """
    rows = []
    for scale, part in scales.periods(frame):
        data = part[part["index"].notna()]
        sizes = data.groupby(data["school_id"].astype(str)).size().to_numpy()
        if len(sizes) < 2 or len(data) <= len(sizes):
            continue
        icc, between, within = icc_anova(data["index"], data["school_id"])
        deff = design_effect(icc, sizes)
        years = data["year"].astype(int)
        rows.append({
            "period": scale.name, "first_year": int(years.min()), "last_year": int(years.max()),
            "pupils": int(len(data)), "schools": int(len(sizes)), "mean_size": float(sizes.mean()),
            "weighted_size": float((sizes ** 2).sum() / sizes.sum()), "between_var": between, "within_var": within,
            "icc": icc, "design_effect": deff, "effective_n": len(data) / deff, "width_factor": float(np.sqrt(deff)),
        })
    return pd.DataFrame(rows, columns=COLUMNS)
