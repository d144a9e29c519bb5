"""The answer scale per year (:mod:`oml.data.scales`) and the contract's per-row check of it.

The reference for the periods is the factsheet (facts.md, section 1): a 4-point scale before
2023, a 5-point scale from 2023, asked since 2017.
"""
from __future__ import annotations

import re

import pandas as pd
import pytest

from oml.data import scales
from oml.data.contract import ANSWER_RANGE, DataValidationError, validate
from oml.data.synth import generate


def _raw(years: list[str], a: list[str], b: list[str]) -> pd.DataFrame:
    n = len(years)
    return pd.DataFrame({
        "pupil_id": [f"P{i}" for i in range(n)], "school_id": "S1", "year": years, "sex": "jongen", "age": "11.5",
        "parent_education": "hbo", "region": "Noord-Limburg", "item_a": a, "item_b": b,
    })


def test_config_matches_the_factsheet():
    # Reference: facts.md section 1 - asked since 2017; 4-point scale before 2023, 5-point from 2023.
    four, five = scales.load_scales()
    assert (four.first_year, four.last_year, four.lowest, four.highest) == (2017, 2022, 1, 4)
    assert (five.first_year, five.last_year, five.lowest, five.highest) == (2023, None, 1, 5)
    assert scales.current() is five
    # The factsheet's range is the current scale's: nothing else types it.
    assert ANSWER_RANGE == (1, 5)


@pytest.mark.parametrize("year, highest", [(2017, 4), (2022, 4), (2023, 5), (2031, 5)])
def test_scale_for_year(year, highest):
    assert scales.scale_for_year(year).highest == highest


def test_year_before_the_first_period_has_no_scale():
    assert scales.scale_for_year(2016) is None


def test_answer_of_the_other_scale_is_an_error_naming_column_rule_and_rows():
    # A 5 is fine in 2024, out of range in 2020 (rows 2 and 4); a 0 is out of range everywhere (row 3).
    raw = _raw(["2024", "2020", "2024", "2020"], ["5", "5", "0", "5"], ["1", "2", "3", "4"])
    with pytest.raises(DataValidationError) as err:
        validate(raw, "x.csv")
    report = err.value.report()
    assert "column 'item_a': must lie between 1 and 4 (the 4-point scale of 2017–2022): 2 rows (rows 2, 4)" in report
    assert "column 'item_a': must lie between 1 and 5 (the 5-point scale of 2023 onwards): 1 row (rows 3)" in report
    assert "item_b" not in report


def test_year_without_a_scale_is_an_error():
    raw = _raw(["2024", "2012", "2012"], ["1", "2", "3"], ["1", "2", "3"])
    with pytest.raises(DataValidationError, match=re.escape("column 'year': has no answer scale in oml/config/scales.toml") + r".*: 2 rows \(rows 2, 3\)"):
        validate(raw)


def test_both_scales_validate_in_one_file():
    raw = _raw(["2019", "2025"], ["4", "5"], ["1", "1"])
    assert validate(raw)["item_a"].tolist() == [4, 5]


@pytest.mark.parametrize("config, message", [
    ({"period": []}, "no \\[\\[period\\]\\] entries"),
    ({"period": [{"name": "a", "first_year": 2017, "last_year": 2023, "lowest": 1, "highest": 4, "agree_from": 3,
                  "labels": {"1": "x", "2": "", "3": "", "4": "y"}},
                 {"name": "b", "first_year": 2023, "lowest": 1, "highest": 5, "agree_from": 4,
                  "labels": {"1": "x", "2": "", "3": "", "4": "", "5": "y"}}]}, "periods 'a' and 'b' overlap"),
    ({"period": [{"name": "a", "first_year": 2017, "lowest": 1, "highest": 4, "agree_from": 3, "labels": {"1": "x", "4": "y"}}]},
     "period 'a': labels must name every answer 1..4"),
    ({"period": [{"name": "a", "first_year": 2017, "lowest": 1, "highest": 4, "agree_from": 9,
                  "labels": {"1": "x", "2": "", "3": "", "4": "y"}}]}, "period 'a': agree_from"),
])
def test_broken_scale_config_names_the_period(config, message):
    with pytest.raises(ValueError, match=message):
        scales._parse(config, "scales.toml")


def test_current_period_of_the_default_data_is_the_factsheet_data_exactly(long_data, default_frame):
    # The factsheet's rows of the long default data are the dataset without history, value for value.
    pd.testing.assert_frame_equal(scales.current_period(long_data), default_frame)


def test_current_period_without_rows_of_the_latest_scale_is_a_clear_error():
    with pytest.raises(ValueError, match="no rows of the current answer scale"):
        scales.current_period(pd.DataFrame({"year": [2018, 2019]}))


def test_periods_split_the_rows_without_overlap():
    frame = generate(n=300, seed=2)
    parts = scales.periods(frame)
    assert [s.name for s, _ in parts] == ["vierpuntsschaal", "vijfpuntsschaal"]
    assert sum(len(p) for _, p in parts) == len(frame)
    assert parts[0][1]["year"].max() < parts[1][1]["year"].min()
