"""The multilevel and small-sample check of the region pages' conclusions (issue 24, point 3), and a region of one school.

References are independent Python paths, as in tests/stats/test_robustness.py: statsmodels ``MixedLM`` (REML)
through its formula interface (patsy's treatment coding, not our cell-means design) for the random intercept.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.regression.mixed_linear_model import MixedLM

from oml.stats import robustness as rb
from oml.stats.models import ols_cluster
from oml.stats.regions import REST, WITHIN, page_regions, region_result

from region_data import REGION, fragile_region, one_school_region


@pytest.fixture(scope="module")
def fragile_frame(frame):
    return fragile_region(frame)


def test_region_checks_cover_every_published_conclusion(frame):
    rr = region_result(frame, "Parkstad Limburg")
    table = rb.check_region(frame, rr)
    assert set(table["region"]) == {"Parkstad Limburg"} and set(table["by"]) == {rb.REGION_FIGURE, *WITHIN}
    published = table[table["method"] == "published"]
    # The region figure: the region's own trend and its difference with the rest; the rest's trend is not a conclusion.
    own = published[published["by"] == rb.REGION_FIGURE]
    assert sorted(own["family"]) == ["between", "first_last"] and REST not in set(own.loc[own["family"] == "first_last", "group_a"])
    c = rr.comparisons.set_index(["family", "group_a", "group_b"])
    for r in own.itertuples():
        assert r.p_holm == pytest.approx(c.loc[(r.family, r.group_a, r.group_b), "p_holm"])  # Holm as published
    for by in WITHIN:
        mine = published[published["by"] == by]
        comps = rr.within[by].comparisons
        comps = comps[comps["family"].isin(rb.CONCLUSION_FAMILIES) & (comps["group_a"] != "onbekend") & (comps["group_b"] != "onbekend")]
        assert len(mine) == len(comps)
        assert np.allclose(np.sort(mine["p_holm"]), np.sort(comps["p_holm"]))
    # Stacked with the figures' checks: the figures have no region.
    every = rb.check_all(frame, {}, regions={"Parkstad Limburg": rr})
    assert len(every) == len(table) and every.attrs["skipped"] == []


def test_no_region_conclusion_changes_on_default_data(frame):
    regions = {r: region_result(frame, r) for r in page_regions(frame)}
    assert len(regions) == 5
    table = rb.check_regions(frame, regions)
    assert not table["changed"].any() and rb.fragile(table).empty and table.attrs["skipped"] == []


def test_region_random_intercept_agrees_with_mixedlm(frame):
    """The random-intercept contrasts of a region page against statsmodels MixedLM (REML) fitted from a formula."""
    region = "Maastricht-Heuvelland"
    rr = region_result(frame, region)
    table = rb.check_region(frame, rr)
    mixed = table[table["method"] == "mixed"].set_index(["by", "family", "group_a", "group_b"])

    # Within the region, by parental education: treatment coding with "mbo of lager" and the first year as reference,
    # so a group's first-to-last trend is the year coefficient plus the group's interaction (controls cancel).
    own = frame[(frame["region"].astype(str) == region) & frame["index"].notna()].copy()
    own["parent_education"] = own["parent_education"].astype(str)
    own["sex"] = own["sex"].astype(str)
    own["year"], own["age"] = own["year"].astype("int64"), own["age"].astype(float)  # patsy: no nullable dtypes
    first, last = int(own["year"].min()), int(own["year"].max())
    fit = MixedLM.from_formula("index ~ C(year) * C(parent_education, Treatment('mbo of lager')) + C(sex) + age",
                               groups="school_id", data=own).fit(reml=True)
    names, cov = list(fit.fe_params.index), fit.cov_params()
    for group in ("mbo of lager", "hbo", "wo"):
        terms = [f"C(year)[T.{last}]"]
        if group != "mbo of lager":
            terms.append(f"C(year)[T.{last}]:C(parent_education, Treatment('mbo of lager'))[T.{group}]")
        d = pd.Series(0.0, index=names)
        d[terms] = 1.0
        row = mixed.loc[("parent_education", "first_last", group, group)]
        assert row["estimate"] == pytest.approx(float(d @ fit.fe_params), abs=2e-4)
        assert row["se"] == pytest.approx(float(np.sqrt(d @ cov.loc[names, names] @ d)), rel=5e-3)

    # The region against the rest, on all of Limburg: the difference in the last year (rest minus region, as stored).
    data = frame[frame["index"].notna()].copy()
    data["area"] = np.where(data["region"].astype(str) == region, "a_region", "b_rest")
    for c in ("sex", "parent_education"):
        data[c] = data[c].astype(str)
    data["year"], data["age"] = data["year"].astype("int64"), data["age"].astype(float)
    fit = MixedLM.from_formula("index ~ C(year) * C(area) + C(sex) + age + C(parent_education)", groups="school_id",
                               data=data).fit(reml=True)
    names, cov = list(fit.fe_params.index), fit.cov_params()
    d = pd.Series(0.0, index=names)
    d[["C(area)[T.b_rest]", f"C(year)[T.{last}]:C(area)[T.b_rest]"]] = 1.0
    row = mixed.loc[(rb.REGION_FIGURE, "between", region, REST)]
    assert row["estimate"] == pytest.approx(float(d @ fit.fe_params), abs=2e-4)
    assert row["se"] == pytest.approx(float(np.sqrt(d @ cov.loc[names, names] @ d)), rel=5e-3)
    assert first < last


def test_a_region_trend_made_by_participation_is_found(fragile_frame):
    rr = region_result(fragile_frame, REGION)
    table = rb.check_region(fragile_frame, rr)
    marked = rb.fragile(table)
    assert set(marked["region"]) == {REGION}
    trends = marked[(marked["by"] == "sex") & (marked["family"] == "first_last")]
    assert set(trends["group_a"]) == {"jongen", "meisje"} and set(trends["verdict"]) == {"higher"}
    assert all("mixed" in m and "within" in m for m in trends["changed_by"])
    # Published significant (CR1), not under the random intercept.
    boys = table[(table["by"] == "sex") & (table["family"] == "first_last") & (table["group_a"] == "jongen")].set_index("method")
    assert boys.loc["published", "p_holm"] < 0.05 < boys.loc["mixed", "p_holm"]
    # The other regions are untouched.
    other = region_result(fragile_frame, "Noord-Limburg")
    assert not rb.check_region(fragile_frame, other)["changed"].any()


def test_a_region_of_one_school(small_frame):
    data = one_school_region(small_frame)
    inside = data["region"].astype(str) == REGION
    assert data.loc[inside, "school_id"].nunique() == 1
    with pytest.raises(ValueError, match="at least two schools; the model has 1"):
        ols_cluster(np.ones((10, 1)), np.arange(10.0), np.zeros(10))
    rr = region_result(data, REGION)  # builds: the region against the rest has every school of Limburg
    assert rr.schools == 1 and rr.within == {by: None for by in WITHIN}
    # The region's cells rest on one school: CR1 gives them a variance of about zero (a spurious "significant" change),
    # so they are drawn without an interval and tested against nothing.
    assert rr.means.table.loc[rr.means.table["group"] == REGION, "se"].max() < 0.02
    own = rr.table[rr.table["group"] == REGION]
    assert own["estimate"].notna().all() and own[["se", "ci_low", "ci_high"]].isna().all().all()
    assert not (rr.table.loc[rr.table["group"] != REGION, "ci_low"].isna().any())
    assert REGION not in set(rr.comparisons["group_a"]) | set(rr.comparisons["group_b"])
    assert rr.findings.trends == [] or all(t.group != REGION for t in rr.findings.trends)
    table = rb.check_region(data, rr)
    assert table.empty and list(table.columns) == rb.COLUMNS
    assert table.attrs["skipped"] == [{"region": REGION, "by": by, "reason": rb.TOO_FEW_SCHOOLS} for by in (rb.REGION_FIGURE, *WITHIN)]
    every = rb.check_all(data, {}, regions={REGION: rr, "Noord-Limburg": region_result(data, "Noord-Limburg")})
    assert set(every["region"]) == {"Noord-Limburg"} and len(every.attrs["skipped"]) == 3
    with pytest.raises(ValueError, match="at least two schools"):
        rb.within_schools(np.ones((5, 1)), np.arange(5.0), np.zeros(5))
