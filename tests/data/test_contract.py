"""Tests of the data contract: :func:`oml.data.contract.validate`.

Small hand-made frames pin each rule; the default synthetic dataset checks that the contract
accepts what the report actually runs on. Every bad input must raise
:class:`~oml.data.contract.DataValidationError` whose report names the column, the rule, the number
of rows and the 1-based row numbers (row 1 = the first data row under the header).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from oml.data.contract import (
    CATEGORIES,
    ITEM_PREFIX,
    MAX_ROWS_SHOWN,
    MIN_ITEMS,
    REQUIRED,
    DataValidationError,
    item_columns,
    validate,
)


def _raw(n: int = 4) -> pd.DataFrame:
    """A small valid table with every cell as text, the way a CSV is read."""
    sexes = ["jongen", "meisje"]
    educations = ["mbo of lager", "hbo", "wo", "onbekend"]
    regions = list(CATEGORIES["region"])
    return pd.DataFrame(
        {
            "pupil_id": [f"P{i + 1:03d}" for i in range(n)],
            "school_id": [f"S{i % 2 + 1}" for i in range(n)],
            "year": ["2024"] * n,
            "sex": [sexes[i % 2] for i in range(n)],
            "age": ["11.5"] * n,
            "parent_education": [educations[i % 4] for i in range(n)],
            "region": [regions[i % 5] for i in range(n)],
            "item_a": [str(1 + i % 5) for i in range(n)],
            "item_b": [str(5 - i % 5) for i in range(n)],
        }
    )


def _set(frame: pd.DataFrame, column: str, rows: list[int], value) -> pd.DataFrame:
    """Copy of ``frame`` with ``value`` in ``column`` at the 1-based data ``rows``."""
    out = frame.copy()
    out[column] = out[column].astype(object)
    for r in rows:
        out.loc[r - 1, column] = value
    return out


def _line(column: str, rule: str, rows: list[int]) -> str:
    """Regex for one report line: column, rule (a regex), row count and the 1-based rows."""
    n = len(rows)
    shown = ", ".join(str(r) for r in rows)
    return rf"column '{re.escape(column)}': {rule}.*: {n} rows? \(rows {re.escape(shown)}\)"


# --------------------------------------------------------------------------- valid input
def test_small_valid_frame_is_accepted_unchanged_in_content():
    raw = _raw(10)
    typed = validate(raw)
    assert len(typed) == len(raw)
    assert typed["pupil_id"].tolist() == raw["pupil_id"].tolist()
    assert typed["year"].tolist() == [int(v) for v in raw["year"]]
    assert typed["age"].tolist() == [float(v) for v in raw["age"]]
    assert typed["item_a"].tolist() == [int(v) for v in raw["item_a"]]
    assert typed["region"].astype(str).tolist() == raw["region"].tolist()


def test_validate_accepts_default_synthetic_data(default_frame):
    typed = validate(default_frame, "synthetic")
    # The generator already produces the canonical form, so validation must not change anything.
    pd.testing.assert_frame_equal(typed, default_frame)


def test_synthetic_data_as_text_gives_the_same_typed_frame(default_frame):
    # As read from a CSV: every cell text (missing answers stay missing).
    as_text = default_frame.astype("string")
    pd.testing.assert_frame_equal(validate(as_text), default_frame)


def test_returns_canonical_dtypes_and_column_order():
    raw = _raw(6)
    raw.insert(3, "extra", "ignored")  # extra columns are allowed but not returned
    typed = validate(raw)
    items = item_columns(raw.columns)
    assert list(typed.columns) == [*REQUIRED, *items]
    assert typed["year"].dtype == "Int64"
    for c in items:
        assert typed[c].dtype == "Int64"
    assert typed["age"].dtype == np.float64
    for c in ("pupil_id", "school_id"):
        assert pd.api.types.is_string_dtype(typed[c])


@pytest.mark.parametrize("column", sorted(CATEGORIES))
def test_categories_have_the_fixed_category_order(column):
    # Only some categories present and in a scrambled order: the categories are still all, in contract order.
    raw = _raw(4)
    present = list(CATEGORIES[column])[::-1][:2]
    raw[column] = [present[i % 2] for i in range(4)]
    typed = validate(raw)
    assert isinstance(typed[column].dtype, pd.CategoricalDtype)
    assert list(typed[column].cat.categories) == list(CATEGORIES[column])
    assert typed[column].astype(str).tolist() == raw[column].tolist()


def test_category_matching_ignores_case_and_surrounding_spaces():
    raw = _raw(4)
    raw["sex"] = [" Meisje ", "JONGEN", "meisje", "Jongen  "]
    raw["parent_education"] = ["  HBO", "Mbo Of Lager", "wo ", "ONBEKEND"]
    raw["region"] = ["parkstad limburg ", " NOORD-LIMBURG", "Sittard-geleen", "maastricht-heuvelland"]
    typed = validate(raw)
    assert typed["sex"].tolist() == ["meisje", "jongen", "meisje", "jongen"]
    assert typed["parent_education"].tolist() == ["hbo", "mbo of lager", "wo", "onbekend"]
    assert typed["region"].tolist() == ["Parkstad Limburg", "Noord-Limburg", "Sittard-Geleen", "Maastricht-Heuvelland"]
    for column, allowed in CATEGORIES.items():
        assert list(typed[column].cat.categories) == list(allowed)


def test_missing_item_answers_are_allowed_and_stay_missing():
    raw = _raw(5)
    raw["item_a"] = ["", None, "NA", "4", np.nan]
    raw["item_b"] = pd.array([None, 2, 3, None, 5], dtype="Int64")
    typed = validate(raw)
    assert typed["item_a"].isna().tolist() == [True, True, True, False, True]
    assert typed["item_b"].isna().tolist() == [True, False, False, True, False]
    assert typed["item_a"].dtype == "Int64" and typed["item_b"].dtype == "Int64"
    assert len(typed) == len(raw)  # nothing dropped


def test_numeric_input_is_accepted_too():
    raw = _raw(4)
    raw["year"] = [2023, 2024, 2025.0, 2024]
    raw["age"] = [11, 11.5, 12.25, 10]
    raw["item_a"] = [1.0, 2.0, np.nan, 5.0]
    typed = validate(raw)
    assert typed["year"].tolist() == [2023, 2024, 2025, 2024]
    assert typed["age"].tolist() == [11.0, 11.5, 12.25, 10.0]
    assert typed["item_a"].isna().sum() == 1


def test_input_index_does_not_change_row_numbers():
    # Row numbers count data rows from 1, whatever index the caller's frame has.
    raw = _set(_raw(4), "item_a", [3], "9").set_axis([10, 20, 30, 40])
    with pytest.raises(DataValidationError, match=_line("item_a", "must lie between 1 and 5", [3])):
        validate(raw)


# --------------------------------------------------------------------------- missing columns
@pytest.mark.parametrize("column", REQUIRED)
def test_missing_required_column_is_named(column):
    raw = _raw().drop(columns=column)
    with pytest.raises(DataValidationError, match=rf"column '{column}': required column is missing") as err:
        validate(raw, "pupils.csv")
    assert str(err.value).startswith("pupils.csv: ")
    assert [p.column for p in err.value.problems] == [column]


def test_all_missing_columns_are_reported_at_once():
    raw = _raw().drop(columns=["year", "sex", "region"])
    with pytest.raises(DataValidationError, match=r"\(3 problems\)") as err:
        validate(raw)
    assert [p.column for p in err.value.problems] == ["year", "sex", "region"]


@pytest.mark.parametrize("n_items", range(MIN_ITEMS))
def test_fewer_than_two_item_columns(n_items):
    raw = _raw()
    items = item_columns(raw.columns)
    raw = raw.drop(columns=items[n_items:])
    with pytest.raises(
        DataValidationError, match=rf"at least {MIN_ITEMS} statement columns named '{ITEM_PREFIX}.*found {n_items}"
    ):
        validate(raw)


def test_header_only_table():
    raw = _raw().iloc[:0]
    with pytest.raises(DataValidationError, match=r"header but no data rows"):
        validate(raw)


def test_table_without_columns():
    with pytest.raises(DataValidationError, match=r"no columns"):
        validate(pd.DataFrame())


# --------------------------------------------------------------------------- bad cells
# (column, bad value, rows with it (1-based), rule as a regex)
BAD_CELLS = [
    pytest.param("item_a", "0", [2], r"must lie between 1 and 5", id="answer-0"),
    pytest.param("item_b", "6", [1, 4], r"must lie between 1 and 5", id="answer-6"),
    pytest.param("item_a", 0, [3], r"must lie between 1 and 5", id="answer-0-numeric"),
    pytest.param("item_b", "3.5", [2, 3], r"must be a whole number", id="answer-3.5"),
    pytest.param("item_a", 3.5, [4], r"must be a whole number", id="answer-3.5-numeric"),
    pytest.param("year", "2024.5", [1], r"must be a whole number", id="year-fraction"),
    pytest.param("sex", "anders", [2, 4], r"must be one of 'jongen', 'meisje'; unknown value\(s\) 'anders'", id="sex"),
    pytest.param("parent_education", "mbo", [3], r"must be one of .*'onbekend'; unknown value\(s\) 'mbo'", id="parent_education"),
    pytest.param("region", "Zeeland", [1], r"must be one of .*'Parkstad Limburg'; unknown value\(s\) 'Zeeland'", id="region"),
    pytest.param("year", "tweeduizend", [2], r"must be a number \(found text\)", id="text-in-year"),
    pytest.param("age", "elf", [3], r"must be a number \(found text\)", id="text-in-age"),
    pytest.param("age", "11,5", [1], r"must be a number \(found text\)", id="decimal-comma-in-age"),
    pytest.param("item_b", "veel", [4], r"must be a number \(found text\)", id="text-in-item"),
    pytest.param("pupil_id", "", [2], r"must not be empty", id="empty-pupil_id"),
    pytest.param("pupil_id", None, [1, 3], r"must not be empty", id="missing-pupil_id"),
    pytest.param("school_id", "   ", [4], r"must not be empty", id="blank-school_id"),
    pytest.param("age", "3", [2], r"must lie between 10 and 15", id="age-3"),
    pytest.param("age", 40, [1, 4], r"must lie between 10 and 15", id="age-40"),
    pytest.param("year", "1990", [3], r"must lie between 2009 and 2100", id="year-1990"),
    pytest.param("sex", "", [1], r"must not be empty", id="empty-sex"),
    pytest.param("age", "", [2], r"must not be empty", id="empty-age"),
]


@pytest.mark.parametrize(("column", "value", "rows", "rule"), BAD_CELLS)
def test_bad_cell_names_column_rule_count_and_rows(column, value, rows, rule):
    raw = _set(_raw(), column, rows, value)
    with pytest.raises(DataValidationError, match=_line(column, rule, rows)) as err:
        validate(raw, "pupils.csv")
    # Exactly one problem: a cell that failed parsing is not reported a second time as "empty".
    assert len(err.value.problems) == 1
    assert err.value.problems[0].column == column
    assert err.value.problems[0].rows == rows


def test_true_false_column_is_not_a_number():
    raw = _raw(3)
    raw["year"] = [True, False, True]
    with pytest.raises(DataValidationError, match=_line("year", r"must be a number, found true/false", [1, 2, 3])):
        validate(raw)


def test_duplicate_pupil_id_reports_both_rows():
    raw = _set(_raw(5), "pupil_id", [2, 5], "P999")
    with pytest.raises(DataValidationError, match=_line("pupil_id", r"must be unique", [2, 5])):
        validate(raw)


def test_duplicate_pupil_id_after_stripping_spaces():
    raw = _raw(3)
    raw["pupil_id"] = ["P1", " P1 ", "P2"]
    with pytest.raises(DataValidationError, match=_line("pupil_id", r"must be unique", [1, 2])):
        validate(raw)


def test_many_bad_rows_give_full_count_and_first_rows():
    n = MAX_ROWS_SHOWN + 7
    raw = _raw(n)
    raw["item_a"] = "9"
    shown = ", ".join(str(r) for r in range(1, MAX_ROWS_SHOWN + 1))
    with pytest.raises(DataValidationError, match=rf"column 'item_a': .*: {n} rows \(rows {shown}, …\)") as err:
        validate(raw)
    assert err.value.problems[0].rows == list(range(1, n + 1))


def test_bad_cell_deep_in_synthetic_data_is_found(default_frame):
    bad_row = len(default_frame) // 2 + 1  # 1-based
    raw = default_frame.astype("string")
    raw.loc[bad_row - 1, "item_gemak"] = "7"
    with pytest.raises(DataValidationError, match=_line("item_gemak", r"must lie between 1 and 5", [bad_row])):
        validate(raw)


def test_several_problems_in_different_columns_are_all_reported_at_once():
    raw = _raw(6)
    raw = _set(raw, "pupil_id", [1, 6], "P001")
    raw = _set(raw, "sex", [2], "x")
    raw = _set(raw, "age", [3], "40")
    raw = _set(raw, "year", [4], "volgend jaar")
    raw = _set(raw, "item_b", [5], "0")
    expected = [
        ("pupil_id", r"must be unique", [1, 6]),
        ("year", r"must be a number", [4]),
        ("sex", r"must be one of", [2]),
        ("age", r"must lie between 10 and 15", [3]),
        ("item_b", r"must lie between 1 and 5", [5]),
    ]
    with pytest.raises(DataValidationError, match=rf"\({len(expected)} problems\)") as err:
        validate(raw, "pupils.csv")
    report = str(err.value)
    assert len(err.value.problems) == len(expected)
    assert len([line for line in report.splitlines() if line.startswith("- ")]) == len(expected)
    for column, rule, rows in expected:
        assert re.search(_line(column, rule, rows), report), (column, report)
    # Reported in contract column order, so the report reads like the file.
    assert [p.column for p in err.value.problems] == [c for c, _, _ in expected]


def test_nothing_is_returned_on_error_and_input_is_untouched():
    raw = _set(_raw(4), "item_a", [1], "8")
    before = raw.copy()
    result = None
    with pytest.raises(DataValidationError, match=r"nothing was loaded"):
        result = validate(raw)
    assert result is None
    pd.testing.assert_frame_equal(raw, before)


def test_error_is_a_value_error():
    # User input raises ValueError (house style), so generic callers can catch it too.
    with pytest.raises(ValueError, match=r"required column is missing"):
        validate(_raw().drop(columns="age"))


# --------------------------------------------------------------------------- formerly bugs, fixed
@pytest.mark.parametrize("column", ["year", "item_a"])
def test_infinite_number_in_integer_column_is_reported(column):
    raw = _set(_raw(), column, [2], "inf")
    with pytest.raises(DataValidationError, match=rf"column '{column}'"):
        validate(raw)


@pytest.mark.parametrize("column", ["year", "item_b"])
def test_huge_number_in_integer_column_is_reported(column):
    raw = _set(_raw(), column, [3], "1e20")
    with pytest.raises(DataValidationError, match=rf"column '{column}'"):
        validate(raw)


def test_duplicated_column_name_is_reported():
    raw = _raw()
    raw = pd.concat([raw, raw[["year"]]], axis=1)
    with pytest.raises(DataValidationError, match=r"year"):
        validate(raw)


# --------------------------------------------------------------------------- optional columns: boards and names
def _with_boards(n: int = 6) -> pd.DataFrame:
    """``_raw`` with schools S1/S2 in boards B1/B2 and their names (every cell as text)."""
    raw = _raw(n)
    raw["board_id"] = raw["school_id"].map({"S1": "B1", "S2": "B2"})
    raw["school_name"] = raw["school_id"].map({"S1": "School Een", "S2": "School Twee"})
    raw["board_name"] = raw["board_id"].map({"B1": "Bestuur Een", "B2": "Bestuur Twee"})
    return raw


def test_optional_columns_are_kept_after_the_required_ones():
    typed = validate(_with_boards())
    assert list(typed.columns) == [*REQUIRED, "board_id", "school_name", "board_name", "item_a", "item_b"]
    assert typed["board_id"].tolist() == ["B1", "B2"] * 3


def test_optional_columns_absent_is_fine():
    assert "board_id" not in validate(_raw()).columns


def test_two_boards_for_one_school_in_one_year_names_column_rule_and_rows():
    raw = _set(_with_boards(), "board_id", [5], "B2")  # row 5 is school S1
    year = raw.loc[4, "year"]
    with pytest.raises(DataValidationError, match=_line(
            "board_id", rf"must have one value per school and year \(differs within school_id and year 'S1 {year}'\)", [5])):
        validate(raw)


def test_a_school_may_change_board_between_years():
    # A merger: the school belongs to another board from some year on. Boards serve the private reports per
    # school-year; the public build is never blocked by it.
    raw = _with_boards()
    school = raw["school_id"] == "S1"
    later = school & (raw.index >= 4)
    assert later.any() and (school & ~later).any()
    raw.loc[later, "year"] = "2025"
    raw.loc[later, "board_id"] = "B9"
    raw.loc[later, "board_name"] = "Bestuur na de fusie"
    assert validate(raw).groupby("school_id", observed=True)["board_id"].nunique()["S1"] == 2


def test_two_names_for_one_school_and_one_board():
    raw = _set(_with_boards(), "school_name", [2], "Andere naam")  # row 2: school S2
    raw = _set(raw, "board_name", [3], "Ander bestuur")  # row 3: school S1, board B1
    with pytest.raises(DataValidationError) as err:
        validate(raw)
    report = str(err.value)
    assert re.search(_line("school_name", r"must have one value per school \(differs within school_id 'S2'\)", [2]), report)
    assert re.search(_line("board_name", r"must have one value per board \(differs within board_id 'B1'\)", [3]), report)


def test_blank_board_is_reported_and_blank_name_for_some_rows_is_inconsistent():
    raw = _set(_with_boards(), "board_id", [4], "")
    raw = _set(raw, "school_name", [6], " ")
    with pytest.raises(DataValidationError) as err:
        validate(raw)
    report = str(err.value)
    assert re.search(_line("board_id", "must not be empty", [4]), report)
    assert "column 'board_id': must have one value" not in report  # the blank is reported once
    assert re.search(_line("school_name", r"must have one value per school", [6]), report)


def test_board_name_without_board_id_is_an_error():
    with pytest.raises(DataValidationError, match=r"column 'board_name': needs the column 'board_id'"):
        validate(_with_boards().drop(columns="board_id"))


def test_a_name_blank_for_the_whole_school_is_allowed():
    raw = _with_boards()
    raw.loc[raw["school_id"] == "S2", "school_name"] = ""
    typed = validate(raw)
    assert typed.loc[typed["school_id"] == "S2", "school_name"].isna().all()


def test_board_problems_leave_the_boards_out_of_a_public_build_instead_of_refusing_the_data():
    from oml.data.contract import BOARDS_LEFT_OUT_ATTR

    raw = _set(_with_boards(), "board_id", [5], "B2")  # two boards for school S1 in one year
    with pytest.raises(DataValidationError, match="must have one value per school and year"):
        validate(raw)  # the school and board reports need them right
    typed = validate(raw, boards_optional=True)  # the public site does not use them
    assert "board_id" not in typed.columns and "board_name" not in typed.columns and "school_name" in typed.columns
    assert "must have one value per school and year" in typed.attrs[BOARDS_LEFT_OUT_ATTR]
    assert BOARDS_LEFT_OUT_ATTR not in validate(_with_boards(), boards_optional=True).attrs
    # Any other problem still refuses the data.
    with pytest.raises(DataValidationError, match="column 'sex'"):
        validate(_set(raw, "sex", [2], "kind"), boards_optional=True)
