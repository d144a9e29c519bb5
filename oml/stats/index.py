"""The index "sociale relaties met leraren": per-pupil scale score, standardised.

Rule (as in the factsheet): a pupil's raw score is the mean of the statements they
answered, provided they answered at least half of them; otherwise the pupil has no index
and is excluded from index analyses (and counted in :func:`quality_summary`). The raw
scores are then standardised to mean 0 and standard deviation 1 (ddof = 1) over all
pupils with an index, all years together, so 0 is "the mean over all schools and years".
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from oml.data.contract import item_columns

MIN_ANSWERED_SHARE = 0.5


def raw_index(frame: pd.DataFrame, min_share: float = MIN_ANSWERED_SHARE) -> pd.Series:
    """Mean of the answered ``item_*`` statements, or missing when fewer than ``min_share`` are answered.

    Examples
    --------
    >>> df = pd.DataFrame({"item_a": [5, 4, None], "item_b": [3, None, None]}, dtype="Int64")
    >>> raw_index(df).tolist()
    [4.0, 4.0, nan]
    """
    items = frame[item_columns(frame.columns)].astype("float64")
    answered = items.notna().sum(axis=1)
    enough = answered >= min_share * items.shape[1]
    return items.mean(axis=1, skipna=True).where(enough).rename("index_raw")


def standardise(values: pd.Series) -> pd.Series:
    """:math:`z = (x - \\bar x) / s` with :math:`s` the sample sd (ddof = 1); missing stays missing.

    Examples
    --------
    >>> standardise(pd.Series([1.0, 2.0, 3.0, None])).tolist()
    [-1.0, 0.0, 1.0, nan]
    """
    return (values - values.mean()) / values.std(ddof=1)


def add_index(frame: pd.DataFrame, min_share: float = MIN_ANSWERED_SHARE) -> pd.DataFrame:
    """Copy of ``frame`` with ``index_raw`` and the standardised ``index`` column."""
    out = frame.copy()
    out["index_raw"] = raw_index(frame, min_share)
    out["index"] = standardise(out["index_raw"])
    return out


def quality_summary(frame: pd.DataFrame, min_share: float = MIN_ANSWERED_SHARE) -> pd.DataFrame:
    """Rows read and pupils without an index, per year and in total.

    Returns a tidy frame: ``year`` (``"totaal"`` for all years), ``rows``, ``with_index``,
    ``without_index``, ``all_items_answered``, ``missing_answers`` (blank answers over all items).

    Examples
    --------
    >>> df = pd.DataFrame({"year": [2023, 2023, 2024], "item_a": [5, None, 3], "item_b": [4, None, None]})
    >>> quality_summary(df)[["year", "rows", "without_index"]].values.tolist()
    [[2023, 2, 1], [2024, 1, 0], ['totaal', 3, 1]]
    """
    items = item_columns(frame.columns)
    answered = frame[items].notna().sum(axis=1)
    has_index = answered >= min_share * len(items)
    parts = pd.DataFrame(
        {
            "year": frame["year"].astype(object).to_numpy(),
            "rows": 1,
            "with_index": has_index.to_numpy(dtype=int),
            "without_index": (~has_index).to_numpy(dtype=int),
            "all_items_answered": (answered == len(items)).to_numpy(dtype=int),
            "missing_answers": (len(items) - answered).to_numpy(dtype=int),
        }
    )
    by_year = parts.groupby("year", sort=True).sum().reset_index()
    total = parts.drop(columns="year").sum().to_frame().T.assign(year="totaal")
    out = pd.concat([by_year, total[by_year.columns]], ignore_index=True)
    out["year"] = out["year"].astype(object)
    for c in out.columns[1:]:
        out[c] = out[c].astype(np.int64)
    return out
