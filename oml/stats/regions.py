"""A region against the rest of Limburg: the statistics of a region page.

A region is part of Limburg, so testing it against Limburg as a whole would compare the
region partly with itself (and understate the difference). The page therefore *shows* the
region next to Limburg as a whole (Figure 2's adjusted mean per year), but *tests* the region
against the rest of the province: one model of the index on ``C(year) * C(area)`` with
``area`` = the region or "rest van Limburg", controlled for sex, age and parental education
(region is what the comparison is about, so it is no control), CR1 by school — the same
estimator as the figures (:func:`oml.stats.models.adjusted_means`). Within the region, the
figures' breakdowns by sex and parental education are repeated on the region's pupils.

A region with fewer than two schools (among its pupils with an index) has no clustered standard error of its
own: within the region CR1 needs at least two schools (:func:`oml.stats.models.ols_cluster` refuses one), and
in the model against the rest of Limburg the region's cells rest on one cluster, whose residuals sum to zero
in each of its cells, so their CR1 variance is close to zero (a spurious "significant" change). Such a region
therefore gets no breakdowns within it (``RegionResult.within`` holds ``None`` for each), its cells are drawn
without an interval and are tested against nothing; the page says why (``RegionResult.schools``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from oml.data.contract import item_columns
from oml.stats.comparisons import compare
from oml.stats.disclosure import MIN_CELL, primary, suppress
from oml.stats.findings import Findings, findings
from oml.stats.models import TIDY, AdjustedMeans, adjusted_means
from oml.stats.results import Breakdown, breakdown

REST = "rest van Limburg"
LIMBURG = "Limburg"
AREA = "area"
#: Background variables controlled for when a region is compared with the rest of Limburg.
AREA_CONTROLS = ["sex", "age", "parent_education"]
#: Clustered standard errors need at least this many schools: a region with fewer gets no breakdowns within it.
MIN_SCHOOLS = 2
#: A region page needs at least this many schools (notebooks/runs.toml ``min_schools`` of the region run, checked
#: equal by tests/site/test_engine.py): with one school a region page is that school's own result, with two each
#: school could subtract its own report from the page and read the other's.
MIN_PAGE_SCHOOLS = 3
#: Breakdowns repeated within a region.
WITHIN = ("sex", "parent_education")


@dataclass
class RegionResult:
    """Everything a region page publishes."""

    region: str
    means: AdjustedMeans  # the region-vs-rest model
    table: pd.DataFrame  # tidy, drawn: the region and Limburg per year, with a `suppressed` flag
    comparisons: pd.DataFrame  # region against the rest (between) and the region's own changes
    findings: Findings
    within: dict[str, Breakdown | None]  # the region's own breakdowns by sex and parental education; None: < 2 schools
    answers: pd.DataFrame  # share agreeing per statement, region and Limburg
    schools: int = MIN_SCHOOLS  # the region's schools (pupils with an index); below MIN_SCHOOLS nothing is tested


def area_frame(frame: pd.DataFrame, region: str) -> pd.DataFrame:
    """``frame`` with the column :data:`AREA`: ``region`` or :data:`REST` (categories in that order).

    Examples
    --------
    >>> area_frame(pd.DataFrame({"region": ["A", "B", "C"]}), "B")[AREA].tolist()
    ['rest van Limburg', 'B', 'rest van Limburg']
    """
    if region not in set(frame["region"].astype(str)):
        raise ValueError(f"column 'region': no pupils in region {region!r}")
    area = pd.Categorical(np.where(frame["region"].astype(str) == region, region, REST), categories=[region, REST])
    return frame.assign(**{AREA: area})


def page_regions(frame: pd.DataFrame, min_cell: int = MIN_CELL, min_schools: int = MIN_PAGE_SCHOOLS) -> list[str]:
    """The regions that get a page: at least ``min_cell`` pupils and ``min_schools`` schools in ``frame``, by name.

    The rule of the build's fan-out (:func:`oml.site.runs.expand_runs` over the pupils of the shown period), here
    so that the methods chapter checks the same pages.

    Examples
    --------
    >>> f = pd.DataFrame({"region": ["B"] * 12 + ["A"] * 10 + ["C"] * 3 + ["D"] * 20,
    ...                   "school_id": list("xyz" * 4) + list("xyzxyzxyzx") + list("xyz") + ["w"] * 20})
    >>> page_regions(f)
    ['A', 'B']
    """
    counts = frame["region"].astype(str).value_counts()
    schools = frame.groupby(frame["region"].astype(str))["school_id"].nunique()
    return sorted(r for r, n in counts.items() if n >= min_cell and schools.get(r, 0) >= min_schools)


def region_vs_rest(frame: pd.DataFrame, region: str, level: float = 0.95) -> AdjustedMeans:
    """Adjusted means per year of ``region`` and of the rest of Limburg (one model).

    Examples
    --------
    >>> from oml.data.synth import generate
    >>> from oml.stats.index import add_index
    >>> am = region_vs_rest(add_index(generate(n=900, seed=5, history=False)), "Noord-Limburg")
    >>> sorted(set(am.table["group"]))
    ['Noord-Limburg', 'rest van Limburg']
    """
    return adjusted_means(area_frame(frame, region), AREA, level, controls=AREA_CONTROLS)


def agreement_table(frame: pd.DataFrame, region: str, min_cell: int = MIN_CELL, agree_from: int = 4) -> pd.DataFrame:
    """Share (percent) agreeing with each statement, in the region and in Limburg, pooled over the years.

    Tidy: ``item, group, percent, n`` (``n`` = pupils who answered). A share resting on fewer
    than ``min_cell`` answers is empty, and flagged ``suppressed``.

    Examples
    --------
    >>> df = pd.DataFrame({"region": ["A"] * 3 + ["B"] * 2, "item_x": [5, 4, 1, 5, 2]})
    >>> t = agreement_table(df, "A", min_cell=1)
    >>> t["group"].tolist(), t["percent"].round(1).tolist(), t["n"].tolist()
    (['A', 'Limburg'], [66.7, 60.0], [3, 5])
    """
    rows = []
    in_region = frame["region"].astype(str) == region
    for item in item_columns(frame.columns):
        for group, part in ((region, frame.loc[in_region, item]), (LIMBURG, frame[item])):
            answered = part.dropna()
            rows.append({"item": item, "group": group, "percent": 100.0 * float((answered >= agree_from).mean())
                         if len(answered) else np.nan, "n": int(len(answered))})
    out = pd.DataFrame(rows)
    hidden = primary(out["n"], min_cell)
    out = suppress(out, hidden, ["percent"])
    return out


def region_result(frame: pd.DataFrame, region: str, level: float = 0.95, min_cell: int = MIN_CELL) -> RegionResult:
    """The statistics of one region page, with disclosure control.

    ``frame`` carries the ``index`` column. A region cell (a year) with fewer than
    ``min_cell`` pupils is published empty and not tested; the rest of Limburg is never drawn
    or counted on the page, so nothing hidden can be recovered by subtraction from it.

    Examples
    --------
    >>> from oml.data.synth import generate
    >>> from oml.stats.index import add_index
    >>> r = region_result(add_index(generate(n=3000, seed=5, history=False)), "Parkstad Limburg")
    >>> sorted(set(r.table["group"])), sorted(r.within)
    (['Limburg', 'Parkstad Limburg'], ['parent_education', 'sex'])
    """
    am = region_vs_rest(frame, region, level)
    overall = adjusted_means(frame, None, level)
    t = am.table
    small = primary(t["n"], min_cell)
    own = frame[frame["region"].astype(str) == region]
    schools = int(own.loc[own["index"].notna(), "school_id"].nunique())
    # One school: the region's cells rest on one cluster and their CR1 variance is about zero (module docstring),
    # so they are tested against nothing and drawn without an interval.
    one = schools < MIN_SCHOOLS
    comps = compare(am, level, exclude=(small | ((t["group"] != REST) & one)).to_numpy())
    # The page draws the region and Limburg; the rest of Limburg appears only in the tests.
    region_rows = suppress(t, small, ["estimate", "se", "ci_low", "ci_high"])[(t["group"] != REST).to_numpy()]
    if one:
        region_rows = region_rows.assign(se=np.nan, ci_low=np.nan, ci_high=np.nan)
    limburg = overall.table.assign(group=LIMBURG)
    limburg = suppress(limburg, primary(limburg["n"], min_cell), ["estimate", "se", "ci_low", "ci_high"])
    drawn = pd.concat([region_rows, limburg], ignore_index=True)
    drawn["n"] = drawn["n"].astype("float64").where(~drawn["suppressed"].astype(bool))
    years = sorted(int(y) for y in t["year"].unique())
    result_findings = findings(comps, AREA, [region, REST], years)
    # One school: no clustered standard error (ols_cluster refuses), so no breakdown within the region (the page says so).
    within = {by: None if one else breakdown(own, by, level, min_cell) for by in WITHIN}
    return RegionResult(region, am, drawn[[*TIDY, "suppressed"]], comps, result_findings, within,
                        agreement_table(frame, region, min_cell), schools)


__all__ = ["AREA", "LIMBURG", "MIN_SCHOOLS", "REST", "RegionResult", "agreement_table", "area_frame", "page_regions", "region_result",
           "region_vs_rest"]
