"""Structured findings from the comparisons: what the summary sentences say.

No claim in the book is written by hand: :mod:`oml.report.text` renders these objects.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from oml.stats.direction import Direction, direction

#: The three directions by their short names; str-valued (``STABLE == "stable"``). The rule that picks
#: one is :func:`direction` (defined in the light :mod:`oml.stats.direction`, which the site imports too).
STABLE, HIGHER, LOWER = Direction.STABLE, Direction.HIGHER, Direction.LOWER


@dataclass(frozen=True)
class Trend:
    """The change of one group between the first and last year."""

    group: str
    first_year: int
    last_year: int
    direction: Direction  # STABLE unless significant after Holm, then HIGHER or LOWER
    estimate: float
    p_holm: float


@dataclass(frozen=True)
class Difference:
    """A significant difference between two groups in the latest year."""

    year: int
    higher: str
    lower: str
    estimate: float  # higher minus lower, > 0
    p_holm: float


@dataclass
class Findings:
    """Findings of one figure (one breakdown)."""

    by: str | None
    first_year: int
    last_year: int
    groups: list[str]
    trends: list[Trend] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    #: Groups without a first-vs-last-year test (a cell suppressed or empty).
    untested_trend: list[str] = field(default_factory=list)
    #: Groups left out of the comparisons between groups in the last year.
    untested_between: list[str] = field(default_factory=list)
    #: Groups drawn but never compared, on purpose: they say the background is unknown
    #: (:func:`oml.stats.comparisons.not_compared`), so no sentence may speak of them as a group.
    not_compared: list[str] = field(default_factory=list)

    @property
    def compared_groups(self) -> list[str]:
        """The groups the comparisons are about (all but :attr:`not_compared`)."""
        return [g for g in self.groups if g not in self.not_compared]

    @property
    def has_trend(self) -> bool:
        """More than one year: a change can be assessed at all."""
        return self.last_year > self.first_year

    @property
    def all_stable(self) -> bool:
        """Every group was tested and none changed significantly."""
        return self.has_trend and not self.untested_trend and all(t.direction == STABLE for t in self.trends)


def findings(comparisons: pd.DataFrame, by: str | None, groups: list[str], years: list[int] | None = None,
             not_compared: tuple[str, ...] | list[str] = ()) -> Findings:
    """Read the comparisons of one figure into :class:`Findings`.

    ``years`` are the years of the figure (default: those in the comparisons). Groups that
    are missing from a family of comparisons (suppressed or empty cells) are listed as
    untested, so no sentence claims something about them. Groups in ``not_compared`` (drawn,
    never compared on purpose: :func:`oml.stats.comparisons.not_compared`) are listed apart,
    and a comparison that involves one of them is ignored.

    Examples
    --------
    >>> c = pd.DataFrame([{"family": "first_last", "group_a": "totaal", "year_a": 2023, "group_b": "totaal",
    ...     "year_b": 2025, "estimate": 0.01, "p_holm": 0.8, "significant": False}])
    >>> f = findings(c, None, ["totaal"])
    >>> f.all_stable, f.first_year, f.last_year
    (True, 2023, 2025)
    """
    if years is None:
        years = pd.concat([comparisons["year_a"], comparisons["year_b"]]).tolist()
    out = Findings(by=by, first_year=int(min(years)), last_year=int(max(years)), groups=list(groups),
                   not_compared=[g for g in groups if g in set(not_compared)])
    unknown = set(out.not_compared)
    comparisons = comparisons[~(comparisons["group_a"].isin(unknown) | comparisons["group_b"].isin(unknown))]
    fl = comparisons[comparisons["family"] == "first_last"]
    groups = out.compared_groups
    for row in fl.itertuples(index=False):
        out.trends.append(Trend(row.group_a, int(row.year_a), int(row.year_b), direction(float(row.estimate), bool(row.significant)),
                                float(row.estimate), float(row.p_holm)))
    if out.has_trend:
        tested = set(fl["group_a"])
        out.untested_trend = [g for g in groups if g not in tested]
    all_between = comparisons[comparisons["family"] == "between"]
    if len(groups) > 1:
        compared = set(all_between["group_a"]) | set(all_between["group_b"])
        out.untested_between = [g for g in groups if g not in compared]
    between = all_between[all_between["significant"]]
    for row in between.itertuples(index=False):
        # The estimate is b minus a: b is the higher group when it points HIGHER.
        hi, lo = (row.group_b, row.group_a) if direction(float(row.estimate)) == HIGHER else (row.group_a, row.group_b)
        out.differences.append(Difference(int(row.year_a), hi, lo, abs(float(row.estimate)), float(row.p_holm)))
    return out
