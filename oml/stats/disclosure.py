"""Statistical disclosure control: no published cell rests on fewer than ``min_cell`` pupils.

Primary suppression hides a cell whose count (or denominator) is below the threshold.
Secondary suppression, for counts published with their total: if a suppressed count
could be recovered by subtraction (it is the only hidden cell of its variable, or the
hidden cells together are still below the threshold), the next smallest count of that
variable is hidden too, until the hidden cells cannot be recovered. Suppressed values are
missing (``NaN``) in the data and shown as :data:`oml.report.text.SUPPRESSED` with a legend.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

MIN_CELL = 10


def primary(n: pd.Series, min_cell: int = MIN_CELL) -> pd.Series:
    """True where a cell rests on fewer than ``min_cell`` pupils (empty cells are not published either).

    Examples
    --------
    >>> primary(pd.Series([0, 3, 10, 250])).tolist()
    [True, True, False, False]
    """
    return pd.Series(np.asarray(n) < min_cell, index=n.index)


def secondary(counts: pd.Series, hidden: pd.Series, min_cell: int = MIN_CELL) -> pd.Series:
    """Extend ``hidden`` within one set of counts that add up to a published total.

    Examples
    --------
    >>> counts = pd.Series([4, 30, 50, 900])
    >>> secondary(counts, primary(counts)).tolist()
    [True, True, False, False]
    >>> secondary(counts, pd.Series([False] * 4)).tolist()
    [False, False, False, False]
    """
    return pd.Series(secondary_mask(counts.to_numpy(), hidden.to_numpy(), min_cell), index=hidden.index)


def secondary_mask(counts, hidden, min_cell: int = MIN_CELL) -> np.ndarray:
    """:func:`secondary` on plain arrays (in position order; ties go to the first smallest count).

    The per-report statistics call this hundreds of times on a handful of cells, where a
    Series costs more than the rule itself.

    Examples
    --------
    >>> secondary_mask([4, 30, 50, 900], [True, False, False, False]).tolist()
    [True, True, False, False]
    """
    counts = np.asarray(counts, dtype=float)
    hidden = np.array(hidden, dtype=bool)  # a copy: the caller's mask is left alone
    while hidden.any() and (hidden.sum() == 1 or counts[hidden].sum() < min_cell) and (~hidden).any():
        hidden[np.argmin(np.where(hidden, np.inf, counts))] = True
    return hidden


def suppress(table: pd.DataFrame, hidden: pd.Series, columns: list[str]) -> pd.DataFrame:
    """Copy of ``table`` with ``columns`` set to missing where ``hidden``, plus a ``suppressed`` flag."""
    out = table.copy()
    for c in columns:
        out[c] = out[c].astype("float64").where(~hidden.to_numpy())
    out["suppressed"] = hidden.to_numpy()
    return out


def suppress_distribution(dist: pd.DataFrame, min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Answer distribution (Figure 1) with disclosure control, across statements, answers and years.

    Three additive relations are published: the answers of a (period, statement) add up to
    its ``n``; each year's count of an answer adds up to the pooled (``"totaal"``) count;
    and each year's ``n`` adds up to the pooled ``n``. Primary suppression hides a
    (period, statement) with ``n`` below ``min_cell`` and every answer given by 1 to
    ``min_cell - 1`` pupils; secondary suppression is then applied to every relation in
    turn until nothing changes, so no hidden count can be recovered by subtraction.

    Examples
    --------
    >>> d = pd.DataFrame({"period": "totaal", "item": "item_a", "answer": [1, 2, 3, 4, 5],
    ...                   "count": [3, 40, 50, 60, 70], "n": 223, "percent": [1.3, 17.9, 22.4, 26.9, 31.4]})
    >>> suppress_distribution(d)["suppressed"].tolist()
    [True, True, False, False, False]
    """
    out = dist.reset_index(drop=True).copy()
    counts = out["count"]
    pooled = out["period"].astype(str) == "totaal"
    group_hidden = out["n"] < min_cell  # a whole (period, statement)
    hidden = group_hidden | ((counts > 0) & (counts < min_cell))
    while True:
        before = (hidden.copy(), group_hidden.copy())
        # n per year adds up to the pooled n, per statement.
        for _, idx in out[~pooled].groupby("item", sort=False).groups.items():
            first = out.loc[idx].drop_duplicates("period").index
            g = secondary(out.loc[first, "n"], group_hidden.loc[first], min_cell)
            for i in first[g.to_numpy()]:
                group_hidden |= (out["period"] == out.at[i, "period"]) & (out["item"] == out.at[i, "item"])
        hidden |= group_hidden
        # Answers add up to n within a (period, statement) that is shown.
        for _, idx in out.groupby(["period", "item"], sort=False).groups.items():
            if not group_hidden.loc[idx].all():
                hidden.loc[idx] = secondary(counts.loc[idx], hidden.loc[idx], min_cell)
        # Years add up to the pooled count, per (statement, answer): hide a second year, never rely on the total.
        for _, idx in out[~pooled].groupby(["item", "answer"], sort=False).groups.items():
            hidden.loc[idx] = secondary(counts.loc[idx], hidden.loc[idx], min_cell)
        if hidden.equals(before[0]) and group_hidden.equals(before[1]):
            break
    out = suppress(out, hidden, ["count", "percent"])
    out["n"] = out["n"].astype("float64").where(~group_hidden.to_numpy())
    return out


def suppress_quality(quality: pd.DataFrame, min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Data-quality table with disclosure control: a year is shown whole or not at all.

    A year's pupil counts (rows read, with and without an index, with every statement
    answered, and with at least one blank) are related to each other and to Figure 2's
    count of pupils per year, so a small count in any of them could be recovered from the
    others. A year with any such count between 1 and ``min_cell - 1`` is therefore hidden
    entirely (its counts are missing), with secondary suppression across years because the
    years add up to the published total.

    Examples
    --------
    >>> q = pd.DataFrame({"year": [2023, 2024, "totaal"], "rows": [500, 480, 980], "with_index": [496, 450, 946],
    ...                   "without_index": [4, 30, 34], "all_items_answered": [400, 410, 810], "missing_answers": [90, 80, 170]})
    >>> suppress_quality(q)["suppressed"].tolist()
    [True, True, False]
    """
    out = quality.copy()
    is_total = out["year"].astype(str) == "totaal"
    pupils = pd.DataFrame({"rows": out["rows"], "with": out["with_index"], "without": out["without_index"],
                           "all": out["all_items_answered"], "blank": out["rows"] - out["all_items_answered"]})
    small = ((pupils > 0) & (pupils < min_cell)).any(axis=1)
    hidden = small.copy()
    years = ~is_total
    for column in ("rows", "without_index"):
        hidden.loc[years] = secondary(out.loc[years, column], hidden.loc[years], min_cell)
    hidden.loc[is_total] = small.loc[is_total]
    return suppress(out, hidden, ["rows", "with_index", "without_index", "all_items_answered", "missing_answers"])
