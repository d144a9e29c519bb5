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
