"""Tests of the synthetic data generator: :mod:`oml.data.synth`.

Every calibration target comes from ``oml/config/synthetic.toml`` via :func:`load_config`;
the published Table 1 of the factsheet is the one independent reference typed in here.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

from oml.data.contract import AGE_RANGE, CATEGORIES, OPTIONAL, REQUIRED, item_columns, validate
from oml.stats.index import MIN_ANSWERED_SHARE
from oml.data.synth import SYNTHETIC_PREFIX, exact_counts, generate, is_synthetic, load_config

CFG = load_config()

# Reference: OML factsheet Tabel 1 ("Sociale relaties met leraren", OnderwijsMonitor Limburg 2025),
# pupils in groep 8, 2023-2025 (see /work/shared/reference/facts.md, section 1).
PUBLISHED_N = 12161
PUBLISHED_TABLE_1 = {
    "sex": {"jongen": 6055, "meisje": 6106},
    "parent_education": {"mbo of lager": 1572, "hbo": 1917, "wo": 1061, "onbekend": 7611},
    "region": {
        "Noord-Limburg": 2710,
        "Midden-Limburg": 2129,
        "Sittard-Geleen": 1643,
        "Maastricht-Heuvelland": 2389,
        "Parkstad Limburg": 3290,
    },
}

# `default_frame` (the default data, config N and seed) and `long_data` (with the earlier years) come from conftest.py.


def _margin(frame: pd.DataFrame, column: str) -> dict[str, int]:
    counts = frame[column].astype(str).value_counts()
    return {k: int(v) for k, v in counts.items()}


def _shares(column: str) -> dict[str, float]:
    counts = CFG["margins"][column]
    total = sum(counts.values())
    return {k: v / total for k, v in counts.items()}


# --------------------------------------------------------------------------- size and margins
def test_n_equals_config(default_frame):
    assert len(default_frame) == CFG["n"]


@pytest.mark.parametrize("column", sorted(CATEGORIES))
def test_margins_equal_config_exactly(default_frame, column):
    assert _margin(default_frame, column) == CFG["margins"][column]


@pytest.mark.parametrize("column", sorted(CATEGORIES))
def test_config_margins_sum_to_n(column):
    assert sum(CFG["margins"][column].values()) == CFG["n"]


def test_n_equals_published_table_1(default_frame):
    # Source: OML factsheet Tabel 1
    assert len(default_frame) == PUBLISHED_N


@pytest.mark.parametrize("column", sorted(PUBLISHED_TABLE_1))
def test_margins_equal_published_table_1(default_frame, column):
    # Source: OML factsheet Tabel 1
    assert _margin(default_frame, column) == PUBLISHED_TABLE_1[column]
    assert sum(PUBLISHED_TABLE_1[column].values()) == PUBLISHED_N


def test_years_are_exactly_the_config_years(default_frame):
    config_years = {int(y) for y in CFG["years"]}
    assert config_years == {2023, 2024, 2025}  # the 5-point scale exists from 2023 (factsheet)
    assert set(default_frame["year"].dropna().astype(int)) == config_years


def test_year_split_follows_config_shares(default_frame):
    shares = {int(y): s for y, s in CFG["years"].items()}
    total = sum(shares.values())
    counts = default_frame["year"].astype(int).value_counts()
    assert counts.sum() == len(default_frame)
    for year, share in shares.items():
        assert abs(counts[year] - len(default_frame) * share / total) < 1


def test_columns_and_ids(default_frame):
    assert list(default_frame.columns) == [*REQUIRED, *OPTIONAL, *CFG["items"]["shares"]]
    assert default_frame["pupil_id"].is_unique
    assert default_frame["pupil_id"].str.startswith(SYNTHETIC_PREFIX).all()
    assert default_frame["school_id"].str.startswith(SYNTHETIC_PREFIX).all()


# --------------------------------------------------------------------------- determinism
def test_same_seed_gives_identical_data():
    pd.testing.assert_frame_equal(generate(n=400, seed=11, history=False), generate(n=400, seed=11, history=False))


def test_different_seed_gives_different_data():
    a, b = generate(n=400, seed=11, history=False), generate(n=400, seed=12, history=False)
    items = item_columns(a.columns)
    assert not a.equals(b)
    # Not only the order: the answers themselves differ.
    assert not a[items].equals(b[items])


def test_default_seed_is_the_config_seed():
    pd.testing.assert_frame_equal(generate(n=300, history=False), generate(n=300, seed=CFG["seed"], history=False))


def test_margins_do_not_depend_on_seed():
    a, b = generate(n=700, seed=1, history=False), generate(n=700, seed=2, history=False)
    for column in CATEGORIES:
        assert _margin(a, column) == _margin(b, column)


# --------------------------------------------------------------------------- scale properties
def test_cronbach_alpha_within_target(default_frame):
    targets = CFG["targets"]
    items = item_columns(default_frame.columns)
    complete = default_frame[items].dropna().astype(float)
    # Reference: pingouin.cronbach_alpha on listwise-complete answers (independent implementation).
    alpha, _ci = pg.cronbach_alpha(data=complete, nan_policy="listwise")
    assert alpha == pytest.approx(targets["alpha"], abs=targets["alpha_tolerance"])


@pytest.mark.parametrize("item", sorted(CFG["targets"]["agree"]))
def test_agreement_within_target(default_frame, item):
    targets = CFG["targets"]
    answered = default_frame[item].dropna()
    agree = float((answered >= 4).mean())  # 4 or 5 on the 5-point scale
    assert agree == pytest.approx(targets["agree"][item], abs=targets["agree_tolerance"])


def test_answers_are_on_the_five_point_scale(default_frame):
    items = item_columns(default_frame.columns)
    values = pd.unique(default_frame[items].stack().dropna().astype(int))
    assert set(values) == {1, 2, 3, 4, 5}


# --------------------------------------------------------------------------- schools
def test_schools_are_nested_in_regions(default_frame):
    regions_per_school = default_frame.groupby("school_id", observed=True)["region"].nunique()
    assert (regions_per_school == 1).all()


def test_every_region_has_plausible_schools(default_frame):
    by_region = default_frame.groupby("region", observed=True)
    schools = by_region["school_id"].nunique()
    assert set(schools.index) == set(CATEGORIES["region"])
    pupils_per_school = by_region.size() / schools
    assert ((pupils_per_school >= 20) & (pupils_per_school <= 200)).all(), pupils_per_school
    assert (schools >= 2).all()


def test_schools_differ_in_size(default_frame):
    sizes = default_frame.groupby("school_id").size()
    assert sizes.std() > 0


# --------------------------------------------------------------------------- non-response
def test_item_non_response_is_small_but_present(default_frame):
    items = item_columns(default_frame.columns)
    blank_share = float(default_frame[items].isna().to_numpy().mean())
    assert 0.005 < blank_share < 0.05


def test_some_pupils_lack_enough_answers_for_an_index(default_frame):
    items = item_columns(default_frame.columns)
    answered = default_frame[items].notna().sum(axis=1)
    without_index = float((answered < MIN_ANSWERED_SHARE * len(items)).mean())
    assert 0 < without_index < 0.02


# --------------------------------------------------------------------------- contract
def test_ages_within_contract_range(default_frame):
    lo, hi = AGE_RANGE
    assert default_frame["age"].between(lo, hi).all()
    assert default_frame["age"].notna().all()


def test_config_age_limits_within_contract_range():
    lo, hi = AGE_RANGE
    assert lo <= CFG["age"]["min"] < CFG["age"]["max"] <= hi


def test_generated_data_pass_the_contract(default_frame):
    pd.testing.assert_frame_equal(validate(default_frame, "synthetic"), default_frame)


@pytest.mark.parametrize("n", [1, 2, 7, 50])
def test_tiny_datasets_pass_the_contract(n):
    frame = generate(n=n, seed=3, history=False)
    assert len(frame) == n
    pd.testing.assert_frame_equal(validate(frame), frame)


def test_is_synthetic_true_for_synthetic_data(default_frame):
    assert is_synthetic(default_frame) is True


@pytest.mark.parametrize("column", ["pupil_id", "school_id"])
def test_is_synthetic_false_when_one_id_lacks_the_prefix(default_frame, column):
    frame = default_frame.copy()
    row = len(frame) // 3
    frame.loc[row, column] = frame.loc[row, column].removeprefix(SYNTHETIC_PREFIX)
    assert is_synthetic(frame) is False


# --------------------------------------------------------------------------- scaling
@pytest.mark.parametrize("n", [600, 1001])
def test_margins_scale_with_n(n):
    frame = generate(n=n, seed=5, history=False)
    assert len(frame) == n
    for column in CATEGORIES:
        margin = _margin(frame, column)
        assert sum(margin.values()) == n
        for category, share in _shares(column).items():
            assert abs(margin.get(category, 0) - n * share) < 1, (column, category)


SHARE_SETS = [
    pytest.param(CFG["margins"]["sex"], id="sex"),
    pytest.param(CFG["margins"]["parent_education"], id="parent_education"),
    pytest.param(CFG["margins"]["region"], id="region"),
    pytest.param(CFG["years"], id="years"),
    pytest.param({"a": 1, "b": 1, "c": 1}, id="equal-thirds"),
    pytest.param({"a": 0.999, "b": 0.0005, "c": 0.0005}, id="skewed"),
    pytest.param({"only": 3.0}, id="single"),
]


@pytest.mark.parametrize("shares", SHARE_SETS)
def test_exact_counts_sums_exactly_for_many_n(shares):
    total = sum(float(v) for v in shares.values())
    for n in [*range(0, 300), 1234, 12161, 99999]:
        counts = exact_counts(shares, n)
        assert list(counts) == list(shares)
        assert sum(counts.values()) == n, n
        for k, c in counts.items():
            assert c >= 0
            # Largest remainder: every count is the floor or the ceiling of its exact quota.
            assert abs(c - n * float(shares[k]) / total) < 1, (n, k)


def test_exact_counts_reproduces_integer_margins():
    for column in CATEGORIES:
        margin = CFG["margins"][column]
        assert exact_counts(margin, sum(margin.values())) == margin


# --------------------------------------------------------------------------- the earlier years (history)
# Reference: sha256 of `generate().to_csv(index=False, lineterminator="\n")` computed with the
# generator of commit 1cef6de (before the earlier years existed): the 2023-2025 rows must stay
# exactly those bytes, so Table 1 and every number on the factsheet pages stay as they were.
# Exact bytes hold on any CPU: the CSV is text of discrete values (ids, categories, whole answers cut from the
# latent scores, ages rounded to 0.1), which a last-digit floating-point difference changes only at a boundary.
FACTSHEET_ROWS_SHA256 = "419443916983269c7b0cf665236c2ff26ccaa11807e25b35c7cef9b2674944df"


def _sha(frame: pd.DataFrame) -> str:
    """sha256 of the columns the old generator made (the board columns came later, from their own stream)."""
    import hashlib

    old_columns = [*REQUIRED, *item_columns(frame.columns)]
    return hashlib.sha256(frame[old_columns].to_csv(index=False, lineterminator="\n").encode()).hexdigest()


def test_factsheet_rows_of_the_long_default_data_equal_the_old_generator(long_data, default_frame):
    assert _sha(long_data.iloc[: CFG["n"]]) == FACTSHEET_ROWS_SHA256
    assert _sha(default_frame) == FACTSHEET_ROWS_SHA256


def test_history_adds_the_config_years_on_the_4_point_scale(long_data):
    from oml.data.scales import scale_for_year

    earlier = long_data.iloc[CFG["n"]:]
    assert sorted(earlier["year"].unique()) == sorted(int(y) for y in CFG["history"]["years"])
    for year, part in earlier.groupby("year"):
        scale = scale_for_year(int(year))
        answers = part[item_columns(part.columns)].stack().dropna()
        assert scale.points == 4 and set(answers.unique()) == set(scale.answers)
    validate(long_data)  # every answer within its own year's scale
    assert long_data["pupil_id"].is_unique


def test_history_uses_the_same_schools_in_the_same_regions(long_data):
    earlier, current = long_data.iloc[CFG["n"]:], long_data.iloc[: CFG["n"]]
    assert set(earlier["school_id"]) <= set(current["school_id"])
    region = current.groupby("school_id", observed=True)["region"].first()
    assert (earlier["region"].astype(str).to_numpy() == region.loc[earlier["school_id"]].astype(str).to_numpy()).all()


def test_history_year_effects_show_in_the_raw_means(long_data):
    # The latent year means of the config should order the years' mean raw scores (large samples).
    from oml.stats.index import raw_index

    earlier = long_data.iloc[CFG["n"]:]
    means = raw_index(earlier).groupby(earlier["year"].to_numpy()).mean()
    effects = pd.Series({int(k): v for k, v in CFG["history"]["year_effect"].items()})
    assert np.corrcoef(means.loc[effects.index], effects)[0, 1] > 0.9


def test_four_point_alpha_near_the_five_point_target(long_data):
    from oml.stats.reliability import alpha_by_period

    alphas = alpha_by_period(long_data)
    assert alphas["alpha"].between(CFG["targets"]["alpha"] - 0.03, CFG["targets"]["alpha"] + 0.03).all()
