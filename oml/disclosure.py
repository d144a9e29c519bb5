"""Statistical disclosure control: no published cell rests on fewer than ``min_cell`` pupils.

Primary suppression hides a cell whose count (or denominator) is below the threshold.
Secondary suppression, for counts published with their total: if a suppressed count
could be recovered by subtraction (it is the only hidden cell of its variable, or the
hidden cells together are still below the threshold), the next smallest count of that
variable is hidden too, until the hidden cells cannot be recovered. Suppressed values are
missing (``NaN``) in the data and shown as :data:`oml.text.SUPPRESSED` with a legend.
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
    hidden = hidden.copy().astype(bool)
    while hidden.any() and (hidden.sum() == 1 or counts[hidden].sum() < min_cell) and (~hidden).any():
        hidden[counts[~hidden].idxmin()] = True
    return hidden


def suppress(table: pd.DataFrame, hidden: pd.Series, columns: list[str]) -> pd.DataFrame:
    """Copy of ``table`` with ``columns`` set to missing where ``hidden``, plus a ``suppressed`` flag."""
    out = table.copy()
    for c in columns:
        out[c] = out[c].astype("float64").where(~hidden.to_numpy())
    out["suppressed"] = hidden.to_numpy()
    return out


def suppress_distribution(dist: pd.DataFrame, min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Answer distribution (Figure 1) with disclosure control.

    Within each (period, statement): if fewer than ``min_cell`` pupils answered, everything
    is hidden; otherwise each answer given by 1 to ``min_cell - 1`` pupils is hidden, with
    secondary suppression because the answers add up to the published ``n``.

    Examples
    --------
    >>> d = pd.DataFrame({"period": "totaal", "item": "item_a", "answer": [1, 2, 3, 4, 5],
    ...                   "count": [3, 40, 50, 60, 70], "n": 223, "percent": [1.3, 17.9, 22.4, 26.9, 31.4]})
    >>> suppress_distribution(d)["suppressed"].tolist()
    [True, True, False, False, False]
    """
    out = dist.copy()
    hidden = pd.Series(False, index=out.index)
    for _, idx in out.groupby(["period", "item"], sort=False).groups.items():
        counts = out.loc[idx, "count"]
        if out.loc[idx, "n"].iloc[0] < min_cell:
            hidden.loc[idx] = True
            continue
        small = (counts > 0) & (counts < min_cell)
        hidden.loc[idx] = secondary(counts, small, min_cell)
    out = suppress(out, hidden, ["count", "percent"])
    whole = out.groupby(["period", "item"], sort=False)["n"].transform("first") < min_cell
    out["n"] = out["n"].astype("float64").where(~whole.to_numpy())
    return out


def suppress_quality(quality: pd.DataFrame, min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Data-quality table with disclosure control on the pupils with and without an index.

    A year's count of pupils without an index between 1 and ``min_cell - 1`` is hidden,
    and so is its count with an index (rows read = with + without). Across years the
    hidden counts could be recovered from the total, so secondary suppression applies.

    Examples
    --------
    >>> q = pd.DataFrame({"year": [2023, 2024, "totaal"], "rows": [500, 480, 980], "with_index": [496, 450, 946],
    ...                   "without_index": [4, 30, 34], "all_items_answered": [400, 410, 810], "missing_answers": [90, 80, 170]})
    >>> suppress_quality(q)["suppressed"].tolist()
    [True, True, False]
    """
    out = quality.copy()
    is_total = out["year"].astype(str) == "totaal"
    without = out["without_index"]
    hidden = (without > 0) & (without < min_cell)
    years = ~is_total
    hidden.loc[years] = secondary(without[years], hidden[years], min_cell)
    out = suppress(out, hidden, ["with_index", "without_index"])
    return out
