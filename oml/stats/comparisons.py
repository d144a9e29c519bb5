"""Formal comparisons between adjusted means, with Holm adjustment and the overlap rule.

Families (Holm-adjusted within each):

* ``first_last`` — within every group, the first vs the last year (2023 vs 2025);
* ``consecutive`` — within every group, each year vs the next;
* ``between`` — every pair of groups in the latest year.

A category that records only that a background is unknown (:data:`NOT_COMPARED`: parental education
"onbekend") is drawn with its interval but is in no family: it is not a group of pupils with something
in common (in real deliveries it is largely a matter of which schools delivered the parents'
education, which can change from year to year), so neither a difference with a known group nor a
change over the years would say anything about a kind of parent. Leaving it out also keeps it out of
the Holm families of the groups that are compared.

A difference :math:`\\hat\\theta_b - \\hat\\theta_a = (g_b - g_a)^\\top\\hat\\beta` has delta-method
standard error :math:`\\sqrt{(g_b-g_a)^\\top V (g_b-g_a)}`; it gets a normal CI and a two-sided
z-test. Alongside, the factsheet's reading rule — overlapping intervals mean "not
significant" — is computed, and disagreements between the two are flagged (overlap is
conservative: two intervals can overlap while the difference is significant).
"""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy.stats import norm

from oml.stats.models import AdjustedMeans

#: Per breakdown variable, the categories that say the background is unknown: drawn, never compared.
NOT_COMPARED: dict[str, tuple[str, ...]] = {"parent_education": ("onbekend",)}

COLUMNS = [
    "family", "group_a", "year_a", "group_b", "year_b", "estimate", "se", "ci_low", "ci_high",
    "p", "p_holm", "significant", "overlap", "overlap_says_significant", "disagree",
]


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values: sorted ascending, :math:`\\max_{j \\le i} (m - j + 1) p_{(j)}`, capped at 1.

    Same as ``statsmodels.stats.multitest.multipletests(p, method="holm")[1]`` (checked in the
    tests), without its ``gc.collect()`` per call, which cost a second per report.

    Examples
    --------
    >>> holm(np.array([0.01, 0.04, 0.03])).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(np.maximum.accumulate((m - np.arange(m)) * p[order]), 1.0)
    out = np.empty(m)
    out[order] = adjusted
    return out


def not_compared(by: str | None) -> tuple[str, ...]:
    """The groups of breakdown ``by`` that are drawn but never compared (:data:`NOT_COMPARED`).

    Examples
    --------
    >>> not_compared("parent_education"), not_compared("sex"), not_compared(None)
    (('onbekend',), (), ())
    """
    return NOT_COMPARED.get(by, ()) if by is not None else ()


def compare(am: AdjustedMeans, level: float | None = None, exclude=None) -> pd.DataFrame:
    """All comparisons of one figure, tidy: one row per comparison.

    ``estimate`` is cell b minus cell a (later minus earlier; for ``between``, the groups
    in the order of the categories). ``significant`` is ``p_holm < 1 - level``. The groups
    :func:`not_compared` names for ``am.by`` take part in no comparison.

    Parameters
    ----------
    am : AdjustedMeans
        From :func:`oml.stats.models.adjusted_means`.
    level : float, optional
        Confidence level; default the level of ``am``.
    exclude : array of bool, optional
        Cells (rows of ``am.table``) not to compare — empty or suppressed cells.

    Examples
    --------
    >>> from oml.data.synth import generate
    >>> from oml.stats.index import add_index
    >>> from oml.stats.models import adjusted_means
    >>> c = compare(adjusted_means(add_index(generate(n=800, seed=4, history=False)), by="sex"))
    >>> c.groupby("family").size().to_dict()
    {'between': 1, 'consecutive': 4, 'first_last': 2}
    >>> c = compare(adjusted_means(add_index(generate(n=800, seed=4, history=False)), by="parent_education"))
    >>> "onbekend" in set(c["group_a"]) | set(c["group_b"]), c.groupby("family").size().to_dict()
    (False, {'between': 3, 'consecutive': 6, 'first_last': 3})
    """
    level = am.level if level is None else level
    t = am.table
    skip = t["n"].to_numpy() == 0
    if exclude is not None:
        skip = skip | np.asarray(exclude, dtype=bool)
    idx = {(int(y), g): i for i, (y, g) in enumerate(zip(t["year"], t["group"]))}
    years = sorted(t["year"].unique())
    unknown = set(not_compared(am.by))
    groups = [g for g in dict.fromkeys(t["group"]) if g not in unknown]
    pairs = []
    for g in groups:
        pairs.append(("first_last", (years[0], g), (years[-1], g)))
    for g in groups:
        for y0, y1 in zip(years[:-1], years[1:]):
            pairs.append(("consecutive", (y0, g), (y1, g)))
    for ga, gb in itertools.combinations(groups, 2):
        pairs.append(("between", (years[-1], ga), (years[-1], gb)))
    if len(years) < 2:
        pairs = [p for p in pairs if p[0] == "between"]

    z = norm.ppf(0.5 + level / 2)
    rows = []
    for family, a, b in pairs:
        ia, ib = idx[a], idx[b]
        if skip[ia] or skip[ib] or ia == ib:
            continue
        d = am.gradients[ib] - am.gradients[ia]
        est = float(d @ am.params)
        se = float(np.sqrt(d @ am.cov @ d))
        p = float(2 * norm.sf(abs(est) / se))
        overlap = not (t["ci_low"].iat[ia] > t["ci_high"].iat[ib] or t["ci_low"].iat[ib] > t["ci_high"].iat[ia])
        rows.append({
            "family": family, "group_a": a[1], "year_a": a[0], "group_b": b[1], "year_b": b[0],
            "estimate": est, "se": se, "ci_low": est - z * se, "ci_high": est + z * se, "p": p,
            "overlap": overlap,
        })
    out = pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in ("p_holm", "significant", "overlap_says_significant", "disagree")])
    out["p_holm"] = np.nan
    for _, part in out.groupby("family", sort=False):
        out.loc[part.index, "p_holm"] = holm(part["p"].to_numpy())
    out["significant"] = out["p_holm"] < 1 - level
    out["overlap_says_significant"] = ~out["overlap"].astype(bool)
    out["disagree"] = out["significant"] != out["overlap_says_significant"]
    return out[COLUMNS]
