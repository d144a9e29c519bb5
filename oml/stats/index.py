"""The index "sociale relaties met leraren": per-pupil scale score, standardised.

Rule (as in the factsheet): a pupil's raw score is the mean of the statements they
answered, provided they answered at least half of them; otherwise the pupil has no index
and is excluded from index analyses (and counted in :func:`quality_summary`).
Reverse-worded statements (:func:`oml.data.contract.reversed_items`) are first reverse-coded
on the answer scale of the pupil's own year. The raw scores are then standardised to mean 0
and standard deviation 1 (ddof = 1) over all pupils with an index *within each answer-scale
period* (:mod:`oml.data.scales`: 2017–2022 on four points, 2023 on five), all years of the
period together, so 0 is "the mean over all schools and years of that period". Scores of
different periods are never put on one scale.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from oml.data import scales
from oml.data.contract import item_columns, reversed_items

MIN_ANSWERED_SHARE = 0.5


def scored_items(frame: pd.DataFrame) -> pd.DataFrame:
    """The ``item_*`` answers as floats, reverse-worded ones reverse-coded on their own year's scale.

    A reverse-worded answer :math:`x` on a scale from :math:`l` to :math:`h` scores
    :math:`l + h - x`, with the scale of the pupil's year (:func:`oml.data.scales.scale_for_year`):
    "helemaal wel" on a negatively worded statement counts as the lowest answer.

    Examples
    --------
    >>> from oml.data.contract import REVERSE_ATTR
    >>> df = pd.DataFrame({"year": [2019, 2024], "item_a": [4, 4], "item_b": [1, 1]})
    >>> df.attrs[REVERSE_ATTR] = ["item_b"]
    >>> scored_items(df).values.tolist()
    [[4.0, 4.0], [4.0, 5.0]]
    """
    items = frame[item_columns(frame.columns)].astype("float64")
    reverse = reversed_items(frame)
    if not reverse:
        return items
    if "year" not in frame.columns:
        raise ValueError(f"reverse-worded statements ({', '.join(reverse)}) need the 'year' column to know their scale")
    years = frame["year"].to_numpy()
    covered = np.zeros(len(frame), dtype=bool)
    for scale in scales.load_scales():
        rows = scale.covers(years)
        covered |= rows
        items.loc[rows, reverse] = scale.reverse(items.loc[rows, reverse])
    if not covered.all():
        raise ValueError(f"column 'year': no answer scale for {int((~covered).sum())} rows; reverse coding needs one")
    return items


def raw_index(frame: pd.DataFrame, min_share: float = MIN_ANSWERED_SHARE) -> pd.Series:
    """Mean of the answered ``item_*`` statements, or missing when fewer than ``min_share`` are answered.

    Reverse-worded statements count reverse-coded (:func:`scored_items`).

    Examples
    --------
    >>> df = pd.DataFrame({"item_a": [5, 4, None], "item_b": [3, None, None]}, dtype="Int64")
    >>> raw_index(df).tolist()
    [4.0, 4.0, nan]
    """
    items = scored_items(frame)
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


def standardise_by_period(frame: pd.DataFrame, values: pd.Series) -> pd.Series:
    """:func:`standardise` within each answer-scale period of ``frame["year"]`` (all rows if no ``year``).

    Each period gets its own mean 0 and sd 1: a 4-point and a 5-point score are never compared.

    Examples
    --------
    >>> df = pd.DataFrame({"year": [2018, 2018, 2024, 2024]})
    >>> standardise_by_period(df, pd.Series([1.0, 2.0, 4.0, 5.0])).round(3).tolist()
    [-0.707, 0.707, -0.707, 0.707]
    """
    if "year" not in frame.columns:
        return standardise(values)
    out = pd.Series(np.nan, index=values.index, name=values.name)
    for _, part in scales.periods(frame):
        # Standardise each period's own slice (same values, same order): data of one period only
        # give exactly the numbers a single standardisation over all rows gives.
        out.loc[part.index] = standardise(values.loc[part.index])
    return out


def add_index(frame: pd.DataFrame, min_share: float = MIN_ANSWERED_SHARE) -> pd.DataFrame:
    """Copy of ``frame`` with ``index_raw`` and the ``index`` column standardised within each scale period.

    Examples
    --------
    >>> df = pd.DataFrame({"year": [2018, 2018, 2024, 2024], "item_a": [1, 3, 2, 4], "item_b": [1, 3, 4, 5]})
    >>> add_index(df).groupby("year")["index"].mean().tolist()
    [0.0, 0.0]
    """
    out = frame.copy()
    out["index_raw"] = raw_index(frame, min_share)
    out["index"] = standardise_by_period(frame, out["index_raw"])
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
