"""Test data for the region pages' robustness checks: a region whose trend is made by which schools took part,
and a region of one school (tests/stats/test_robustness_regions.py, tests/report/test_regions_robustness.py)."""
from __future__ import annotations

import numpy as np
import pandas as pd

REGION = "Sittard-Geleen"


def fragile_region(frame: pd.DataFrame, region: str = REGION, sd: float = 0.6, share: float = 0.4) -> pd.DataFrame:
    """Strong school effects in ``region`` (sd 0.6 on the index) and its weakest 40 % of schools gone in the last year.

    Within the region's schools nothing changes, so the region's published (pooled OLS, CR1) trends up are made by
    which schools took part; a random intercept per school (and the trend within schools) sees that.
    """
    out = frame.copy()
    rng = np.random.default_rng(24)
    inside = out["region"].astype(str) == region
    schools = out.loc[inside, "school_id"].unique()
    effect = pd.Series(rng.normal(0.0, sd, len(schools)), index=schools)
    out.loc[inside, "index"] = out.loc[inside, "index"] + out.loc[inside, "school_id"].map(effect).astype(float)
    weak = effect.index[effect <= effect.quantile(share)]
    return out[~((out["year"] == out["year"].max()) & out["school_id"].isin(weak))].copy()


def one_school_region(frame: pd.DataFrame, region: str = REGION, into: str = "Parkstad Limburg") -> pd.DataFrame:
    """``region`` keeps only its largest school; its other schools are moved to ``into``."""
    out = frame.copy()
    inside = out["region"].astype(str) == region
    keep = out.loc[inside, "school_id"].value_counts().index[0]
    out.loc[inside & (out["school_id"] != keep), "region"] = into
    return out
