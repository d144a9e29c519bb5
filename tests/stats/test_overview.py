"""Every region against the rest of Limburg (the start page and the summary) agrees with the region pages."""
from __future__ import annotations

import math

import pytest

from oml.stats.direction import Direction
from oml.stats.overview import as_frame, regions_against_rest
from oml.stats.regions import region_result


def test_the_overview_gives_the_region_pages_test_for_every_region(small_frame):
    rows = regions_against_rest(small_frame)
    assert [r.region for r in rows] == [str(r) for r in small_frame["region"].cat.categories
                                        if (small_frame["region"] == r).any()]
    for r in rows[:2]:  # two full region pages are enough: each costs several models
        # Reference: the region page's own statistics (oml.stats.regions.region_result), whose summary states
        # "region minus rest" as minus the comparison's estimate (rest minus region).
        page = region_result(small_frame, r.region)
        between = page.comparisons[page.comparisons["family"] == "between"].iloc[0]
        assert r.estimate == pytest.approx(-between.estimate, abs=1e-10)
        assert (r.ci_low, r.ci_high) == pytest.approx(sorted((-between.ci_low, -between.ci_high)), abs=1e-10)
        assert (r.direction is not Direction.STABLE) == bool(between.significant)
        assert r.n == int(((small_frame["region"] == r.region) & (small_frame["year"] == small_frame["year"].max())).sum())


def test_a_region_with_too_few_pupils_is_listed_untested(small_frame):
    region = small_frame["region"].cat.categories[0]
    last = small_frame["year"].max()
    keep = ~((small_frame["region"] == region) & (small_frame["year"] == last)) | (small_frame.index.isin(
        small_frame[(small_frame["region"] == region) & (small_frame["year"] == last)].index[:3]))
    rows = regions_against_rest(small_frame[keep], min_cell=10)
    first = next(r for r in rows if r.region == region)
    assert not first.tested and math.isnan(first.estimate) and first.direction is Direction.STABLE
    assert as_frame(rows)["tested"].tolist().count(False) == 1
