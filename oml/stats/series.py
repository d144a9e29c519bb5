"""The long series across the change of answer scale: every analysis within one scale period.

The statements were answered on a 4-point scale until 2022 and on a 5-point scale since
2023 (:mod:`oml.data.scales`). Nothing here compares across that break:

* :func:`series` — the adjusted index per year (as Figure 2), one model per period on the
  index standardised within that period, comparisons (first vs last, consecutive years)
  only between years of the same period;
* :func:`agreement_by_year` — per statement and year the share agreeing, where "agreeing"
  is the upper answers of that year's own scale (3–4 of 4, 4–5 of 5); a statement not asked
  in a year (:func:`oml.data.codebook.not_asked`) is marked so, not hidden.

Cronbach's alpha per period (:func:`oml.stats.reliability.alpha_by_period`) uses the statements
asked in every year of the period, so that no year's pupils drop out of it.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from oml.data import scales
from oml.data.codebook import not_asked
from oml.data.contract import item_columns
from oml.stats.disclosure import MIN_CELL
from oml.stats.results import Breakdown, breakdown


@dataclass
class Period:
    """One scale period of the series: its scale, its years in the data and its Figure-2-like breakdown."""

    scale: scales.Scale
    first_year: int
    last_year: int
    result: Breakdown


@dataclass
class Series:
    """The adjusted index per year over every scale period in the data."""

    periods: list[Period]
    table: pd.DataFrame  # tidy year, group, estimate, se, ci_low, ci_high, n, suppressed, period
    comparisons: pd.DataFrame  # oml.stats.comparisons columns + period; never across periods

    @property
    def breaks(self) -> list[int]:
        """The first year of every period after the first: where the answer scale changed."""
        return [p.first_year for p in self.periods[1:]]

    @property
    def first_year(self) -> int:
        return self.periods[0].first_year

    @property
    def last_year(self) -> int:
        return self.periods[-1].last_year


def series(frame: pd.DataFrame, level: float = 0.95, min_cell: int = MIN_CELL) -> Series:
    """Adjusted index per year, one model and one family of comparisons per scale period.

    Parameters
    ----------
    frame : DataFrame
        Pupils with the ``index`` column standardised within each period
        (:func:`oml.stats.index.add_index`).
    level : float
        Confidence level of intervals and tests.
    min_cell : int
        Disclosure control: cells with fewer pupils are published empty (:func:`oml.stats.results.breakdown`).

    Returns
    -------
    Series
        Per period the :class:`oml.stats.results.Breakdown` of Figure 2 computed on that
        period's rows alone, so the latest period's numbers are exactly those of Figure 2.

    Examples
    --------
    >>> from oml.data.synth import generate
    >>> from oml.stats.index import add_index
    >>> s = series(add_index(generate(n=900, seed=5)))
    >>> s.breaks, sorted(s.comparisons["period"].unique())
    ([2023], ['vierpuntsschaal', 'vijfpuntsschaal'])
    >>> bool((s.comparisons["year_a"] < 2023).eq(s.comparisons["year_b"] < 2023).all())
    True
    """
    periods, tables, comps = [], [], []
    for scale, part in scales.periods(frame):
        years = part["year"].astype("int64")
        result = breakdown(part, None, level, min_cell)
        periods.append(Period(scale, int(years.min()), int(years.max()), result))
        tables.append(result.table.assign(period=scale.name))
        comps.append(result.comparisons.assign(period=scale.name))
    if not periods:
        raise ValueError("column 'year': no row falls in a scale period of oml/config/scales.toml")
    return Series(periods, pd.concat(tables, ignore_index=True), pd.concat(comps, ignore_index=True))


def agreement_by_year(frame: pd.DataFrame, min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Per statement and year: pupils who answered, how many agreed on that year's scale, and the share.

    A cell is published only when it rests on at least ``min_cell`` pupils and neither the
    agreeing nor the other pupils number between 1 and ``min_cell - 1`` (either count could
    be recovered from the share and ``n``); hidden cells have empty ``agree``, ``n`` and ``percent``.
    A statement not asked in a year (no pupil of the year answered it) is not hidden: it has
    ``asked`` false, ``n`` 0, empty ``agree`` and ``percent``, and ``suppressed`` false.

    Returns a tidy frame, one row per (item, year): ``period``, ``year``, ``item``,
    ``agree_from`` (lowest agreeing answer of that year's scale), ``agree``, ``n``,
    ``percent`` (``100 * agree / n``), ``suppressed`` and ``asked``.

    Examples
    --------
    >>> df = pd.DataFrame({"year": [2022] * 12 + [2023] * 12,
    ...                    "item_a": [3, 4] * 6 + [4, 3] * 6, "item_b": [None] * 12 + [4] * 12})
    >>> agreement_by_year(df)[["item", "year", "agree", "n", "suppressed", "asked"]].values.tolist()
    [['item_a', 2022, 12.0, 12.0, False, True], ['item_a', 2023, nan, nan, True, True], ['item_b', 2022, nan, 0.0, False, False], ['item_b', 2023, 12.0, 12.0, False, True]]
    """
    missing = not_asked(frame)
    rows = []
    for item in item_columns(frame.columns):
        for scale, part in scales.periods(frame):
            for year, g in part.groupby(part["year"].astype("int64"), sort=True):
                answered = g[item].dropna()
                n = int(len(answered))
                agree = int((answered >= scale.agree_from).sum())
                rows.append({"period": scale.name, "year": int(year), "item": item, "agree_from": scale.agree_from,
                             "agree": agree, "n": n})
    out = pd.DataFrame(rows, columns=["period", "year", "item", "agree_from", "agree", "n"])
    asked = pd.Series([int(y) not in missing.get(i, ()) for i, y in zip(out["item"], out["year"])], index=out.index, dtype=bool)
    small = lambda c: (c > 0) & (c < min_cell)  # noqa: E731 - a count that could identify few pupils
    hidden = asked & ((out["n"] < min_cell) | small(out["agree"]) | small(out["n"] - out["agree"]))
    out["percent"] = 100.0 * out["agree"] / out["n"].where(out["n"] > 0)
    for c in ("agree", "n", "percent"):
        out[c] = out[c].astype("float64").where(~hidden)
    out["agree"] = out["agree"].where(asked)
    out["suppressed"] = hidden.to_numpy()
    out["asked"] = asked.to_numpy()
    return out
