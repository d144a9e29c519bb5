"""Table 1: counts and percentages against the published factsheet, and small-cell suppression."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oml.data.contract import CATEGORIES, REGIONS
from oml.data.synth import generate
from oml.stats.tables import table1

# Source: OML factsheet "Sociale relaties met leraren" (OnderwijsMonitor Limburg, December 2025), Tabel 1,
# pupils 2023-2025, as transcribed in /work/shared/reference/facts.md section 1. Published, not from a run.
PUBLISHED_N = 12161
PUBLISHED = {
    "jongen": (6055, 49.79),
    "meisje": (6106, 50.21),
    "mbo of lager": (1572, 12.93),
    "hbo": (1917, 15.76),
    "wo": (1061, 8.72),
    "onbekend": (7611, 62.59),
    "Noord-Limburg": (2710, 22.28),
    "Midden-Limburg": (2129, 17.51),
    "Sittard-Geleen": (1643, 13.51),
    "Maastricht-Heuvelland": (2389, 19.64),
    "Parkstad Limburg": (3290, 27.05),
}


@pytest.fixture(scope="module")
def default_table(default_frame) -> pd.DataFrame:
    return table1(default_frame)


def test_table1_equals_published_counts(default_table):
    t = default_table.set_index("group")
    for group, (n, percent) in PUBLISHED.items():
        assert t.loc[group, "n"] == n
        # the factsheet shows percentages with 2 decimals
        assert round(t.loc[group, "percent"], 2) == pytest.approx(percent, abs=1e-9)
        assert not t.loc[group, "suppressed"]
    assert t.loc["totaal", "n"] == PUBLISHED_N
    assert t.loc["totaal", "percent"] == 100.0


def test_table1_percent_is_unrounded_share(default_table):
    t = default_table[default_table["variable"] != "totaal"]
    # Reference: percent = 100 n / N, and each variable's counts add up to N
    np.testing.assert_allclose(t["percent"], 100 * t["n"] / PUBLISHED_N, rtol=0, atol=1e-12)
    assert (t.groupby("variable")["n"].sum() == PUBLISHED_N).all()


def test_table1_layout(default_table):
    expected_groups = [g for cats in CATEGORIES.values() for g in cats] + ["totaal"]
    assert default_table["group"].tolist() == expected_groups
    assert {"variable", "group", "label", "n", "percent", "suppressed"} <= set(default_table.columns)


# --------------------------------------------------------------------------- small cells
def _with_regions(counts: dict, seed: int = 11) -> pd.DataFrame:
    """A synthetic dataset whose region column has exactly ``counts`` pupils per region."""
    n = sum(counts.values())
    frame = generate(n=n, seed=seed, history=False)
    values = np.repeat(list(counts), list(counts.values()))
    frame["region"] = pd.Categorical(values, categories=list(REGIONS))
    return frame


SMALL = {"Noord-Limburg": 100, "Midden-Limburg": 120, "Sittard-Geleen": 5, "Maastricht-Heuvelland": 80,
         "Parkstad Limburg": 95}


def test_small_region_is_suppressed_with_secondary():
    t = table1(_with_regions(SMALL)).set_index("group")
    regions = t.loc[list(REGIONS)]
    assert np.isnan(t.loc["Sittard-Geleen", "n"]) and np.isnan(t.loc["Sittard-Geleen", "percent"])
    assert t.loc["Sittard-Geleen", "suppressed"]
    hidden = regions.index[regions["suppressed"]].tolist()
    # Secondary suppression: the next smallest region (80 pupils) is hidden too ...
    assert hidden == ["Sittard-Geleen", "Maastricht-Heuvelland"]
    assert regions.loc[hidden, "n"].isna().all() and regions.loc[hidden, "percent"].isna().all()
    # ... so N minus the visible regions gives only the sum of the hidden ones (85), not the 5.
    recoverable = t.loc["totaal", "n"] - regions["n"].sum(skipna=True)
    assert recoverable == SMALL["Sittard-Geleen"] + SMALL["Maastricht-Heuvelland"]
    assert len(hidden) >= 2 and recoverable >= 10
    # Visible regions keep their counts; the other variables are untouched.
    for region in ("Noord-Limburg", "Midden-Limburg", "Parkstad Limburg"):
        assert t.loc[region, "n"] == SMALL[region]
    assert not t.loc[["jongen", "meisje", "hbo", "wo"], "suppressed"].any()


def test_two_small_regions_below_threshold_together():
    counts = {"Noord-Limburg": 150, "Midden-Limburg": 120, "Sittard-Geleen": 4, "Maastricht-Heuvelland": 3,
              "Parkstad Limburg": 95}
    t = table1(_with_regions(counts)).set_index("group").loc[list(REGIONS)]
    # 4 + 3 = 7 < 10 could still be narrowed down: the smallest visible (95) is hidden as well
    assert t.index[t["suppressed"]].tolist() == ["Sittard-Geleen", "Maastricht-Heuvelland", "Parkstad Limburg"]


def test_threshold_is_configurable():
    t = table1(_with_regions(SMALL), min_cell=3).set_index("group")
    assert not t["suppressed"].any()
    assert t.loc["Sittard-Geleen", "n"] == 5
    assert t.loc["Sittard-Geleen", "percent"] == pytest.approx(100 * 5 / sum(SMALL.values()), abs=1e-12)
    strict = table1(_with_regions(SMALL), min_cell=101).set_index("group").loc[list(REGIONS)]
    assert strict.index[strict["suppressed"]].tolist() == [
        "Noord-Limburg", "Sittard-Geleen", "Maastricht-Heuvelland", "Parkstad Limburg"]


def test_empty_category_is_not_published():
    frame = generate(n=300, seed=4, history=False)
    frame["parent_education"] = frame["parent_education"].replace({"wo": "hbo"})
    t = table1(frame).set_index("group")
    assert t.loc["wo", "suppressed"] and np.isnan(t.loc["wo", "n"])
    assert t.loc[["mbo of lager", "hbo", "wo", "onbekend"], "suppressed"].sum() >= 2


# --------------------------------------------------------------------------- parental education "onbekend"
def _school_third_unknown(frame: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    """Every pupil of a random third of the schools gets "onbekend": "onbekend" made a matter of the school."""
    out = frame.copy()
    schools = out["school_id"].unique()
    third = np.random.default_rng(seed).choice(schools, len(schools) // 3, replace=False)
    out.loc[out["school_id"].isin(third), "parent_education"] = "onbekend"
    return out


def test_unknown_share_against_direct_counts(default_frame):
    from oml.stats.tables import unknown_share

    t = unknown_share(default_frame)
    unknown = default_frame["parent_education"] == "onbekend"
    total = t[t["variable"] == "totaal"].iloc[0]
    # Reference: Table 1's published count of "onbekend" (facts.md) and direct counts per year and region.
    assert total["unknown"] == PUBLISHED["onbekend"][0] and total["pupils"] == PUBLISHED_N
    for variable in ("year", "region", "school_size"):
        part = t[t["variable"] == variable]
        assert part["pupils"].sum() == PUBLISHED_N and part["unknown"].sum() == PUBLISHED["onbekend"][0]
    for year, part in default_frame.groupby("year"):
        row = t[(t["variable"] == "year") & (t["group"] == str(year))].iloc[0]
        assert row["percent"] == pytest.approx(100 * unknown[part.index].mean(), abs=1e-12)
    assert not t["suppressed"].any()


def test_school_size_class_by_hand():
    from oml.stats.tables import school_size_class, size_labels

    # a: 28 pupils over 2 years = 14 a year; b: 15 in one year; c: 60 over 2 years = 30 a year
    df = pd.DataFrame({"school_id": ["a"] * 28 + ["b"] * 15 + ["c"] * 60,
                       "year": [2023] * 14 + [2024] * 14 + [2025] * 15 + [2023] * 30 + [2025] * 30})
    got = school_size_class(df).groupby(df["school_id"]).first().to_dict()
    assert got == {"a": size_labels()[0], "b": size_labels()[1], "c": size_labels()[2]}


def test_unknown_share_hides_a_small_count_and_a_second_one(default_frame):
    from oml.stats.tables import unknown_share

    last = default_frame["year"].max()
    df = default_frame.copy()
    rows = df.index[(df["year"] == last) & (df["parent_education"] == "onbekend")]
    df.loc[rows[5:], "parent_education"] = "hbo"  # 5 pupils with "onbekend" left in the last year
    t = unknown_share(df)
    years = t[t["variable"] == "year"].set_index("group")
    assert years.loc[str(last), "suppressed"] and np.isnan(years.loc[str(last), "percent"])
    # The years add up to the total (published): a second year is hidden, so 5 cannot be recovered.
    assert years["suppressed"].sum() >= 2


def test_poisson_binomial_tail_against_enumeration():
    import itertools

    from oml.stats.tables import _at_least

    p = np.array([0.1, 0.5, 0.7, 0.25, 0.9])
    # Reference: sum over all 2^5 outcomes of their probability.
    for k in range(len(p) + 2):
        brute = sum(np.prod(np.where(o, p, 1 - p)) for o in itertools.product([0, 1], repeat=len(p)) if sum(o) >= k)
        assert _at_least(p, k) == pytest.approx(brute, abs=1e-14)


def test_unknown_by_school_on_default_and_school_dependent_data(default_frame):
    from math import comb

    from oml.stats.tables import unknown_by_school

    t = unknown_by_school(default_frame).set_index("kind")
    # The generator draws "onbekend" per pupil: no school is (almost) all or none, as chance says.
    assert not t["more_than_chance"].any() and t.loc["all", "schools"] == 0
    assert t["schools"].sum() == default_frame["school_id"].nunique() and t["pupils"].sum() == PUBLISHED_N
    # Reference for "expected": the binomial tail per school written out with math.comb.
    p = PUBLISHED["onbekend"][0] / PUBLISHED_N
    sizes = default_frame.groupby("school_id", observed=True).size()
    expected = sum(sum(comb(m, j) * p ** j * (1 - p) ** (m - j) for j in range(m + 1) if 10 * j >= 9 * m) for m in sizes)
    assert t.loc["all", "expected"] == pytest.approx(expected, rel=1e-9, abs=1e-300)

    s = unknown_by_school(_school_third_unknown(default_frame)).set_index("kind")
    assert bool(s.loc["all", "more_than_chance"]) and s.loc["all", "schools"] >= default_frame["school_id"].nunique() // 3
    assert s.loc["all", "expected"] < 1 and s.loc["all", "p_chance"] < 1e-6
    assert s.loc["all", "percent_of_unknown"] == pytest.approx(
        100 * s.loc["all", "unknown"] / s["unknown"].sum(), abs=1e-12)
