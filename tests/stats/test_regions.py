"""A region against the rest of Limburg (the region pages), validated against statsmodels."""
from __future__ import annotations

import numpy as np
import pandas as pd
import patsy
import pytest
import statsmodels.formula.api as smf

from oml.stats.regions import AREA_CONTROLS, LIMBURG, REST, agreement_table, region_result, region_vs_rest


@pytest.mark.parametrize("region", ["Sittard-Geleen", "Noord-Limburg"])
def test_region_vs_rest_matches_statsmodels_counterfactual_predictions(frame, region):
    am = region_vs_rest(frame, region)
    # Reference: statsmodels' formula OLS with CR1 by school (an independent path through patsy), and the
    # average prediction over a counterfactual copy of the data with its delta-method SE, g'V g with
    # g = the mean row of the counterfactual design (OLS get_prediction has no average= here).
    data = frame[frame["index"].notna()].copy()
    data["area"] = np.where(data["region"].astype(str) == region, region, REST)
    data["year"] = data["year"].astype("int64")
    for c in ("sex", "parent_education"):
        data[c] = data[c].astype(str)
    formula = "index ~ C(year) * C(area) + " + " + ".join(c if c == "age" else f"C({c})" for c in AREA_CONTROLS)
    fit = smf.ols(formula, data=data).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(data["school_id"])[0]})
    params, cov = fit.params.to_numpy(), fit.cov_params().to_numpy()
    for row in am.table.itertuples():
        g = np.asarray(patsy.dmatrix(fit.model.data.model_spec, data.assign(year=row.year, area=row.group))).mean(axis=0)
        assert row.estimate == pytest.approx(float(g @ params), abs=1e-10)
        assert row.se == pytest.approx(float(np.sqrt(g @ cov @ g)), rel=1e-8)
    assert am.controls == AREA_CONTROLS and "region" not in am.formula


def test_planted_region_effect_is_found_against_the_rest(frame):
    # The synthetic data plant Sittard-Geleen below and Maastricht-Heuvelland above the rest (synthetic.toml).
    low = region_result(frame, "Sittard-Geleen")
    high = region_result(frame, "Maastricht-Heuvelland")
    for result, higher in ((low, REST), (high, "Maastricht-Heuvelland")):
        assert len(result.findings.differences) == 1
        assert result.findings.differences[0].higher == higher


def test_region_page_draws_region_and_limburg_never_the_rest(frame):
    result = region_result(frame, "Parkstad Limburg")
    assert set(result.table["group"]) == {"Parkstad Limburg", LIMBURG}
    # Limburg is Figure 2's adjusted mean per year: the same model as the overall figure.
    from oml.stats.models import adjusted_means

    overall = adjusted_means(frame, None).table
    limburg = result.table[result.table["group"] == LIMBURG]
    np.testing.assert_allclose(limburg["estimate"].to_numpy(), overall["estimate"].to_numpy(), atol=1e-12)
    # Within the region: the figures' breakdowns on the region's pupils only.
    assert result.within["sex"].table["n"].sum() == (frame["index"].notna() & (frame["region"] == "Parkstad Limburg")).sum()


def test_small_region_cells_are_hidden_and_not_tested(frame):
    region = "Noord-Limburg"
    keep = (frame["region"] != region) | ((frame["year"] != 2024) | (frame.groupby(["region", "year"]).cumcount() < 6))
    small = frame[keep]
    result = region_result(small, region, min_cell=10)
    cell = result.table[(result.table["group"] == region) & (result.table["year"] == 2024)].iloc[0]
    assert cell["suppressed"] and np.isnan(cell["estimate"]) and np.isnan(cell["n"])
    tested = result.comparisons[["group_a", "year_a", "group_b", "year_b"]].itertuples(index=False)
    assert not any((g == region and y == 2024) for a in tested for g, y in ((a[0], a[1]), (a[2], a[3])))


def test_agreement_table_hides_small_shares():
    df = pd.DataFrame({"region": ["A"] * 4 + ["B"] * 20, "item_x": [5, 4, 1, 2] + [5] * 20})
    t = agreement_table(df, "A", min_cell=10)
    assert t.loc[t["group"] == "A", "percent"].isna().all() and t.loc[t["group"] == "A", "suppressed"].all()
    assert t.loc[t["group"] == LIMBURG, "percent"].iloc[0] == pytest.approx(100 * 22 / 24)


def test_unknown_region_is_a_clear_error(frame):
    with pytest.raises(ValueError, match="column 'region': no pupils in region 'Atlantis'"):
        region_vs_rest(frame, "Atlantis")
