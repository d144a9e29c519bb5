"""Everything the factsheet publishes, computed in one place from one dataset.

Notebooks call these functions one at a time; :func:`compute_all` runs them all in one
process (the floor the build is benchmarked against, and a quick check for researchers).
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from oml.stats.clustering import clustering_by_period
from oml.stats.comparisons import compare, not_compared
from oml.stats.disclosure import MIN_CELL, primary, secondary, suppress
from oml.stats.distribution import answer_distribution
from oml.stats.findings import Findings, findings
from oml.stats.index import add_index, quality_summary
from oml.stats.models import BREAKDOWNS, TIDY, AdjustedMeans, adjusted_means
from oml.stats.reliability import cronbach_alpha, item_statistics
from oml.stats.tables import table1, unknown_by_school, unknown_share


@dataclass
class Breakdown:
    """One figure: published (suppressed) adjusted means, comparisons and findings."""

    by: str | None
    means: AdjustedMeans
    table: pd.DataFrame  # tidy, suppressed cells empty, with a `suppressed` flag
    comparisons: pd.DataFrame
    findings: Findings


def breakdown(frame: pd.DataFrame, by: str | None, level: float = 0.95, min_cell: int = MIN_CELL) -> Breakdown:
    """Adjusted means of one figure with disclosure control, its comparisons and findings.

    ``frame`` must carry the ``index`` column (:func:`oml.stats.index.add_index`). Cells with
    fewer than ``min_cell`` pupils are published empty and left out of every comparison; a group
    that says the background is unknown (:func:`oml.stats.comparisons.not_compared`) is drawn but
    compared with nothing.

    Examples
    --------
    >>> from oml.data.synth import generate
    >>> b = breakdown(add_index(generate(n=900, seed=5, history=False)), "sex")
    >>> b.table.columns.tolist()
    ['year', 'group', 'estimate', 'se', 'ci_low', 'ci_high', 'n', 'suppressed']
    """
    am = adjusted_means(frame, by, level)
    n = am.table["n"]
    hidden = primary(n, min_cell)
    # Published totals: a year's groups add up to Figure 2's count for that year, and the years
    # add up to the pupils in the model (methods chapter). Hide a second cell wherever a hidden
    # count could otherwise be recovered by subtraction. Empty cells reveal nothing.
    parts = am.table.groupby("year").groups.values() if by is not None else [am.table.index]
    for idx in parts:
        small = hidden.loc[idx] & (n.loc[idx] > 0)
        hidden.loc[idx] = secondary(n.loc[idx], small, min_cell) | hidden.loc[idx]
    table = suppress(am.table, hidden, ["estimate", "se", "ci_low", "ci_high"])
    table["n"] = am.table["n"].astype("float64").where(~hidden.to_numpy())
    comps = compare(am, level, exclude=hidden.to_numpy())
    groups = [g for g in dict.fromkeys(am.table["group"])]
    years = sorted(int(y) for y in am.table["year"].unique())
    return Breakdown(by, am, table[[*TIDY, "suppressed"]], comps, findings(comps, by, groups, years, not_compared(by)))


def breakdowns(frame: pd.DataFrame, level: float = 0.95, min_cell: int = MIN_CELL) -> dict:
    """:func:`breakdown` for every figure (Figures 2–5), keyed by the breakdown variable (``None`` first)."""
    return {by: breakdown(frame, by, level, min_cell) for by in BREAKDOWNS}


def compute_all(frame: pd.DataFrame, level: float = 0.95, min_cell: int = MIN_CELL) -> dict:
    """Every table, figure and finding of the factsheet from the validated pupil data.

    Examples
    --------
    >>> from oml.data.synth import generate
    >>> sorted(compute_all(generate(n=900, seed=5, history=False)))
    ['alpha', 'breakdowns', 'clustering', 'distribution', 'items', 'quality', 'table1', 'unknown', 'unknown_schools']
    """
    data = add_index(frame)
    return {
        "table1": table1(frame, min_cell),
        "unknown": unknown_share(frame, min_cell),
        "unknown_schools": unknown_by_school(frame, min_cell=min_cell),
        "clustering": clustering_by_period(data),
        "distribution": answer_distribution(frame),
        "alpha": cronbach_alpha(frame, level),
        "items": item_statistics(frame),
        "quality": quality_summary(frame),
        "breakdowns": breakdowns(data, level, min_cell),
    }
