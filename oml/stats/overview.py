"""Every region against the rest of Limburg at once: the region overview of the start page and the summary.

The same test as a region page (:func:`oml.stats.regions.region_vs_rest`: one model per region,
controlled for sex, age and parental education, CR1 by school), read for the last year only. A
region with fewer than ``min_cell`` pupils in the first or last year is listed as untested.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from oml.stats.comparisons import compare
from oml.stats.direction import Direction, direction
from oml.stats.disclosure import MIN_CELL, primary
from oml.stats.regions import REST, region_vs_rest


@dataclass(frozen=True)
class RegionVersusRest:
    """One region against the rest of Limburg in the last year.

    ``estimate`` is the region minus the rest (in standard deviations of the index), with its
    interval; ``direction`` is HIGHER or LOWER only when significant after Holm (else STABLE);
    ``trend`` is the direction of the region's own change from the first to the last year.
    ``tested`` is False when a cell rests on too few pupils: every number is then NaN.
    """

    region: str
    year: int
    n: int  # pupils of the region in the last year
    estimate: float
    ci_low: float
    ci_high: float
    direction: Direction
    trend: Direction
    tested: bool = True


def regions_against_rest(frame: pd.DataFrame, level: float = 0.95, min_cell: int = MIN_CELL) -> list[RegionVersusRest]:
    """Each region of the data against the rest of Limburg, in the data's order of regions.

    Examples
    --------
    >>> from oml.data.synth import generate
    >>> from oml.stats.index import add_index
    >>> rows = regions_against_rest(add_index(generate(n=2000, seed=5, history=False)))
    >>> [r.region for r in rows][:2], all(r.ci_low <= r.estimate <= r.ci_high for r in rows)
    (['Noord-Limburg', 'Midden-Limburg'], True)
    """
    regions = [str(r) for r in (frame["region"].cat.categories if hasattr(frame["region"], "cat")
                                else sorted(frame["region"].dropna().unique()))]
    present = set(frame["region"].astype(str))
    last = int(frame["year"].max())
    out = []
    for region in [r for r in regions if r in present]:
        n = int(((frame["region"].astype(str) == region) & (frame["year"] == last)).sum())
        am = region_vs_rest(frame, region, level)
        small = primary(am.table["n"], min_cell).to_numpy()
        comps = compare(am, level, exclude=small)
        between = comps[comps["family"] == "between"]
        if small.any() or between.empty:
            nan = float("nan")
            out.append(RegionVersusRest(region, last, n, nan, nan, nan, Direction.STABLE, Direction.STABLE, False))
            continue
        row = between.iloc[0]
        # The comparison's estimate is b minus a; turn it into region minus rest whichever order it has.
        sign = 1.0 if row.group_b == region else -1.0
        est, lo, hi = sign * row.estimate, *sorted((sign * row.ci_low, sign * row.ci_high))
        own = comps[(comps["family"] == "first_last") & (comps["group_a"] == region)]
        trend = direction(float(own.iloc[0].estimate), bool(own.iloc[0].significant)) if len(own) else Direction.STABLE
        out.append(RegionVersusRest(region, int(row.year_a), n, float(est), float(lo), float(hi),
                                    direction(float(est), bool(row.significant)), trend))
    assert all(r.region != REST for r in out)
    return out


def as_frame(rows: list[RegionVersusRest]) -> pd.DataFrame:
    """The overview as a tidy table (one row per region), for its CSV.

    Examples
    --------
    >>> as_frame([RegionVersusRest("A", 2025, 40, 0.1, -0.1, 0.3, Direction.STABLE, Direction.STABLE)]).columns.tolist()
    ['region', 'year', 'n', 'estimate', 'ci_low', 'ci_high', 'direction', 'trend', 'tested']
    """
    cols = ["region", "year", "n", "estimate", "ci_low", "ci_high", "direction", "trend", "tested"]
    return pd.DataFrame([{c: (str(getattr(r, c).value) if c in ("direction", "trend") else getattr(r, c)) for c in cols}
                         for r in rows], columns=cols).astype({"estimate": np.float64})
