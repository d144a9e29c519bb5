"""The index "sociale relaties met leraren": per-pupil scale score, standardised.

Rule (as in the factsheet): a pupil's raw score is the mean of the statements they
answered, provided they answered at least half of them; otherwise the pupil has no index
and is excluded from index analyses (and counted in :func:`quality_summary`).
"Half of them" counts the statements asked in the pupil's own year: a statement not asked
that year (:func:`oml.data.codebook.not_asked`: no pupil of the year answered it) is not a
blank answer, so its year's pupils keep their index, which then rests on the statements
that year did ask (:func:`asked_statements`; the pages say which years).
Reverse-worded statements (:func:`oml.data.contract.reversed_items`) are first reverse-coded
on the answer scale of the pupil's own year. The raw scores are then standardised to mean 0
and standard deviation 1 (ddof = 1) over all pupils with an index *within each answer-scale
period* (:mod:`oml.data.scales`: 2017–2022 on four points, 2023 on five), all years of the
period together, so 0 is "the mean over all schools and years of that period". Scores of
different periods are never put on one scale.

The data-quality counts: :func:`quality_summary` (pupils with and without an index per year) and
:func:`missing_by_kind` (per statement and year, each kind of missing answer apart, with
:func:`suppress_missing` for the page).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from oml.data import scales
from oml.data.codebook import not_asked
from oml.data.contract import item_columns, reversed_items
from oml.data.delivery import BLANK, NOT_ASKED, delivery_of
from oml.stats.disclosure import MIN_CELL, secondary_mask

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


def asked_statements(frame: pd.DataFrame) -> np.ndarray:
    """Per row, how many ``item_*`` statements were asked in that row's year (:func:`oml.data.codebook.not_asked`).

    Examples
    --------
    >>> df = pd.DataFrame({"year": [2023, 2024, 2024], "item_a": [5, None, None], "item_b": [3, 4, None]})
    >>> asked_statements(df).tolist()
    [2, 1, 1]
    """
    items = item_columns(frame.columns)
    asked = np.full(len(frame), len(items), dtype=np.int64)
    if "year" in frame.columns:
        years = frame["year"].to_numpy()
        for missing_years in not_asked(frame).values():
            asked -= np.isin(years, missing_years)
    return asked


def raw_index(frame: pd.DataFrame, min_share: float = MIN_ANSWERED_SHARE) -> pd.Series:
    """Mean of the answered ``item_*`` statements, or missing when fewer than ``min_share`` of those asked are answered.

    The share counts the statements asked in the pupil's year (:func:`asked_statements`), so
    a statement a year did not ask costs its pupils nothing. Reverse-worded statements count
    reverse-coded (:func:`scored_items`).

    Examples
    --------
    >>> df = pd.DataFrame({"item_a": [5, 4, None], "item_b": [3, None, None]}, dtype="Int64")
    >>> raw_index(df).tolist()
    [4.0, 4.0, nan]
    >>> by_year = pd.DataFrame({"year": [2023, 2024], "item_a": [5, 4], "item_b": [3, None], "item_c": [4, None]})
    >>> raw_index(by_year).tolist()  # 2024 asked item_a only: its one answer is all of it
    [4.0, 4.0]
    """
    items = scored_items(frame)
    answered = items.notna().sum(axis=1)
    asked = asked_statements(frame)
    enough = (answered >= min_share * asked) & (asked > 0)
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
    ``without_index``, ``all_items_answered`` (every statement asked that year answered),
    ``missing_answers`` (blank answers over the statements asked that year: a statement not
    asked is no blank answer).

    Examples
    --------
    >>> df = pd.DataFrame({"year": [2023, 2023, 2024], "item_a": [5, None, 3], "item_b": [4, None, None]})
    >>> quality_summary(df)[["year", "rows", "without_index"]].values.tolist()
    [[2023, 2, 1], [2024, 1, 0], ['totaal', 3, 1]]
    """
    items = item_columns(frame.columns)
    answered = frame[items].notna().sum(axis=1)
    asked = asked_statements(frame)
    has_index = (answered >= min_share * asked) & (asked > 0)
    parts = pd.DataFrame(
        {
            "year": frame["year"].astype(object).to_numpy(),
            "rows": 1,
            "with_index": has_index.to_numpy(dtype=int),
            "without_index": (~has_index).to_numpy(dtype=int),
            "all_items_answered": (answered == asked).to_numpy(dtype=int),
            "missing_answers": (asked - answered).to_numpy(dtype=int),
        }
    )
    by_year = parts.groupby("year", sort=True).sum().reset_index()
    total = parts.drop(columns="year").sum().to_frame().T.assign(year="totaal")
    out = pd.concat([by_year, total[by_year.columns]], ignore_index=True)
    out["year"] = out["year"].astype(object)
    for c in out.columns[1:]:
        out[c] = out[c].astype(np.int64)
    return out


#: The ``kind`` of the answers given in :func:`missing_by_kind`.
ANSWERED = "beantwoord"


def missing_by_kind(frame: pd.DataFrame) -> pd.DataFrame:
    """Per statement and year: pupils who answered, and the missing answers of each kind, counted separately.

    The kinds are those of the data's delivery (:attr:`oml.data.delivery.Delivery.missing`:
    "weet niet", "geen antwoord", "niet ingevuld", … as the extract or the mapping coded them),
    in the order the delivery lists them. Without counts delivered, every blank answer is
    "niet ingevuld" (:data:`oml.data.delivery.BLANK`). The kind "niet gevraagd" gets no column
    of its own when it only counts statements not asked at all that year: those rows have
    ``asked`` false.

    Returns a tidy frame: ``item``, ``year``, ``kind`` (:data:`ANSWERED` first), ``n`` and ``asked``.

    Examples
    --------
    >>> df = pd.DataFrame({"year": [2023, 2023, 2024], "item_a": [5, None, None], "item_b": [3, 4, 2]})
    >>> missing_by_kind(df).values.tolist()
    [['item_a', 2023, 'beantwoord', 1, True], ['item_a', 2023, 'niet ingevuld', 1, True], ['item_a', 2024, 'beantwoord', 0, False], ['item_a', 2024, 'niet ingevuld', 1, False], ['item_b', 2023, 'beantwoord', 2, True], ['item_b', 2023, 'niet ingevuld', 0, True], ['item_b', 2024, 'beantwoord', 1, True], ['item_b', 2024, 'niet ingevuld', 0, True]]
    """
    delivery = delivery_of(frame)
    items = item_columns(frame.columns)
    year = frame["year"].astype("int64").to_numpy()
    years = sorted({int(y) for y in year})
    missing = not_asked(frame)
    coded: dict[tuple[str, int, str], int] = {}
    for m in delivery.missing if delivery is not None else []:
        if m.column in items and int(m.year) in years:
            coded[(m.column, int(m.year), m.kind)] = coded.get((m.column, int(m.year), m.kind), 0) + int(m.n)
    kinds = list(dict.fromkeys(kind for _, _, kind in coded)) or [BLANK]
    if NOT_ASKED in kinds and not any(n for (i, y, k), n in coded.items() if k == NOT_ASKED and y not in missing.get(i, ())):
        kinds.remove(NOT_ASKED)
    rows = []
    for item in items:
        answered = frame[item].notna().groupby(year).sum()
        blank = frame[item].isna().groupby(year).sum()
        for y in years:
            asked = y not in missing.get(item, ())
            rows.append({"item": item, "year": y, "kind": ANSWERED, "n": int(answered.get(y, 0)), "asked": asked})
            for k in kinds:
                n = coded.get((item, y, k), 0) if coded else int(blank.get(y, 0))
                rows.append({"item": item, "year": y, "kind": k, "n": n, "asked": asked})
    return pd.DataFrame(rows, columns=["item", "year", "kind", "n", "asked"])


def suppress_missing(table: pd.DataFrame, min_cell: int = MIN_CELL, hidden_years=()) -> pd.DataFrame:
    """:func:`missing_by_kind` with disclosure control, and nothing to show where a statement was not asked.

    Within a statement and year the counts add up to the year's pupils, so a count of 1 to
    ``min_cell - 1`` is hidden with secondary suppression (:func:`oml.stats.disclosure.secondary_mask`);
    the years ``hidden_years`` (hidden in the data-quality table) are hidden whole. Hidden and
    not-asked counts are missing; ``suppressed`` marks the hidden ones only.

    Examples
    --------
    >>> t = pd.DataFrame({"item": "item_a", "year": 2024, "kind": ["beantwoord", "weet niet", "niet ingevuld"],
    ...                   "n": [480, 4, 30], "asked": True})
    >>> suppress_missing(t)[["n", "suppressed"]].values.tolist()
    [[480.0, False], [nan, True], [nan, True]]
    """
    out = table.copy()
    hidden = np.zeros(len(out), dtype=bool)
    years = set(int(y) for y in hidden_years)
    for (_, year), idx in out.groupby(["item", "year"], sort=False).indices.items():
        if not out["asked"].iat[idx[0]]:
            continue
        counts = out["n"].to_numpy()[idx]
        hidden[idx] = True if int(year) in years else secondary_mask(counts, (counts > 0) & (counts < min_cell), min_cell)
    out["n"] = out["n"].astype("float64").where(~hidden & out["asked"].to_numpy())
    out["suppressed"] = hidden
    return out
