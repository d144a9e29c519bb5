"""A board's figures count what its schools' reports show (:func:`oml.stats.units.board_coverage`), its answers
reveal no hidden school count (:func:`oml.stats.units.board_answer_shares`), and a reference group needs enough
schools outside the board. The attack itself (board report minus school reports) is in
``tests/report/test_board_disclosure.py``."""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from oml.stats import units as fb

MIN_CELL = 10
YEARS = (2023, 2024, 2025)
# `small_frame` (generate(n=3000, seed=11, history=False) with the index, about 40 schools) comes from conftest.py.


def _schools_every_year(frame: pd.DataFrame, at_least: int = 15) -> list[str]:
    counts = frame[frame["index"].notna()].groupby(["school_id", "year"], observed=True).size().unstack(fill_value=0)
    return sorted(counts.index[(counts >= at_least).all(axis=1)])


def _cut(frame: pd.DataFrame, school: str, year: int, keep: int) -> pd.DataFrame:
    rows = frame.index[(frame["school_id"] == school) & (frame["year"] == year)]
    keep_rows = frame.loc[rows][frame.loc[rows, "index"].notna()].index[:keep]
    return frame.drop(rows.difference(keep_rows))


def _n(frame: pd.DataFrame, school: str, year=None) -> int:
    rows = (frame["school_id"] == school) & frame["index"].notna()
    if year is not None:
        rows &= frame["year"] == year
    return int(rows.sum())


@pytest.fixture(scope="module")
def board_data(small_frame):
    """Board SYN-B900: school a (shown every year), b (2 pupils a year: small), c (2024 cut to 4 pupils: hidden)."""
    a, b, c = _schools_every_year(small_frame)[:3]
    data = small_frame.copy()
    data.loc[data["school_id"].isin([a, b, c]), "board_id"] = "SYN-B900"
    for year in YEARS:
        data = _cut(data, b, year, 2)
    data = _cut(data, c, 2024, 4)
    return data, a, b, c


def test_coverage_counts_what_the_schools_show(board_data):
    data, a, b, c = board_data
    cover = fb.board_coverage(data, "SYN-B900", MIN_CELL)
    own_c = fb.adjusted_unit_means(data, "school", c, min_cell=MIN_CELL)
    hidden_c = tuple(sorted([2024, *own_c.protecting_years]))
    assert cover.schools == (a, c) and cover.small == (b,)
    assert cover.period_only == {c: hidden_c} and cover.not_counted == {}
    assert cover.answer_schools == (a, c) and not cover.complete
    um = fb.adjusted_unit_means(data, "board", "SYN-B900", min_cell=MIN_CELL)
    assert um.coverage == cover
    for year in YEARS:
        # Each year of the board is exactly the school-years the schools' own reports show.
        assert um.cell(year, "unit").n == _n(data, a, year) + (0 if year in hidden_c else _n(data, c, year))
    # The period: the shown schools' periods (c's hidden years count there, as in c's own report); b not at all.
    assert um.period("unit").n == _n(data, a) + _n(data, c) == own_c.period("unit").n + _n(data, a)
    assert not um.table.loc[um.table["group"] == "unit", "suppressed"].any()
    assert um.pooled_years == [] and um.protecting_years == []


def test_a_board_of_small_schools_shows_nothing_of_its_own(board_data):
    data, a, b, c = board_data
    data = data[data["school_id"] != a].copy()
    for year in YEARS:
        data = _cut(data, c, year, 3)
    cover = fb.board_coverage(data, "SYN-B900", MIN_CELL)
    assert cover.schools == () and cover.small == (b, c)
    um = fb.adjusted_unit_means(data, "board", "SYN-B900", min_cell=MIN_CELL)
    assert um.below_threshold and um.comparisons.empty
    assert not um.table.loc[um.table["group"] == "limburg", "suppressed"].any()


def test_a_school_that_changes_board(small_frame):
    # d is in board X in 2023 and in board Y from 2024; its 2024 is cut to 4 pupils and its 2023 is the smallest other
    # year, so its own report hides 2023 and 2024: hidden years in two boards.
    d, e, f = _schools_every_year(small_frame)[3:6]
    data = small_frame.copy()
    data.loc[data["school_id"].isin([d, e]), "board_id"] = "SYN-BX"
    data.loc[data["school_id"] == f, "board_id"] = "SYN-BY"
    data.loc[(data["school_id"] == d) & (data["year"] >= 2024), "board_id"] = "SYN-BY"
    data = _cut(_cut(data, d, 2024, 4), d, 2023, 11)
    own = fb.adjusted_unit_means(data, "school", d, min_cell=MIN_CELL)
    assert (own.pooled_years, own.protecting_years) == ([2024], [2023])
    x, y = fb.board_coverage(data, "SYN-BX", MIN_CELL), fb.board_coverage(data, "SYN-BY", MIN_CELL)
    # Neither board may count d's hidden years: each holds only a part of them (4 pupils in Y, 11 in X).
    assert x.not_counted == {d: (2023,)} and d not in x.schools
    assert y.not_counted == {d: (2024,)} and d in y.schools and y.period_only == {}
    assert fb.adjusted_unit_means(data, "board", "SYN-BY", min_cell=MIN_CELL).cell(2025, "unit").n == (
        _n(data, d, 2025) + _n(data, f, 2025))
    # d's own answers count pupils of both boards: neither board's answers include them.
    assert d not in x.answer_schools and d not in y.answer_schools
    assert fb.board_schools(data, "SYN-BX", MIN_CELL).set_index("school_id")["meets_threshold"][d]  # as its own report


def test_reference_needs_three_schools_outside_the_board(small_frame):
    unit = _schools_every_year(small_frame)[0]
    region = fb.unit_region(small_frame, small_frame["school_id"] == unit)
    data = small_frame.copy()
    others = sorted(set(data.loc[data["region"] == region, "school_id"]) - {unit})
    assert len(others) >= 5
    data.loc[data["school_id"].isin(others), "board_id"] = "SYN-B-ELSE"  # every other school of the region: another board
    data.loc[data["school_id"] == unit, "board_id"] = "SYN-B-MINE"
    assert not fb.adjusted_unit_means(data, "school", unit).table.query("group == 'region'")["suppressed"].any()
    # The school's board takes over all but two: the region minus the board's schools would be those two.
    data = data.copy()  # a new frame: the model's arrays are kept per frame (oml.stats.units.prepare)
    data.loc[data["school_id"].isin(others[2:]), "board_id"] = "SYN-B-MINE"
    um = fb.adjusted_unit_means(data, "school", unit)
    assert um.table.query("group == 'region'")["suppressed"].all()
    assert not um.comparisons["family"].eq("region").any()
    assert not um.table.query("group == 'limburg'")["suppressed"].any()
    # Without boards in the data (optional in the contract) the rule counts other schools, as before.
    loose = data.assign(board_id=pd.Series(pd.NA, index=data.index, dtype="string"))
    assert not fb.adjusted_unit_means(loose, "school", unit).table.query("group == 'region'")["suppressed"].any()


# --------------------------------------------------------------------------- answers
def _brute_force(x, hidden, row_known, shown, min_cell=MIN_CELL) -> bool:
    """Independent check: every subset of hidden cells, determined when orthogonal to the equations' null space."""
    cells = [(s, c) for s in range(len(x)) for c in range(3) if hidden[s, c]]
    if not cells:
        return True
    equations = [[(s, c) for c in range(3) if hidden[s, c]] for s in range(len(x)) if row_known[s]]
    equations += [[u for u in cells if u[1] == c] for c in shown]
    rest = [c for c in range(3) if c not in shown]
    if rest:
        equations.append([u for u in cells if u[1] in rest])  # the board's pupils are assumed known
    a = np.array([[1.0 if u in eq else 0.0 for u in cells] for eq in equations if eq] or [np.zeros(len(cells))])
    _, sv, vt = np.linalg.svd(a)
    null = vt[int((sv > 1e-9).sum()):].T
    for size in range(1, len(cells) + 1):
        for subset in itertools.combinations(range(len(cells)), size):
            if null.shape[1] and np.abs(null[list(subset)].sum(axis=0)).max() > 1e-9:
                continue
            if 1 <= sum(x[cells[k]] for k in subset) < min_cell:
                return False
    return True


@pytest.mark.parametrize("seed", range(60))
def test_answer_audit_agrees_with_a_brute_force_audit(seed):
    rng = np.random.default_rng(seed)
    while True:  # 2 to 4 schools, at most 9 hidden cells (the brute force tries every subset)
        x = rng.choice([0, 1, 2, 3, 5, 8, 12, 20, 40], size=(int(rng.integers(2, 5)), 3))
        n = x.sum(axis=1)
        hidden = fb._answer_hidden(x.astype(float), n.astype(float), np.zeros(x.shape, dtype=bool), MIN_CELL)
        if hidden.sum() <= 9:
            break
    for shown in ([0, 1, 2], [0], [1], [2]):
        assert fb._answers_reveal_nothing(x, hidden, n >= MIN_CELL, shown, MIN_CELL) == \
            _brute_force(x, hidden, n >= MIN_CELL, shown), (x.tolist(), hidden.tolist(), shown)


def test_answer_audit_sees_through_three_schools():
    # Category 0's board count minus what the schools show is 3 + 3 + 4 = 10 (at least min_cell), but together with
    # category 1 and the rows of schools 1 and 2 it gives school 0's hidden 3 exactly.
    x = np.array([[3, 40, 40], [3, 12, 40], [4, 12, 40]])
    hidden = np.array([[True, False, True], [True, True, False], [True, True, False]])
    assert not fb._answers_reveal_nothing(x, hidden, np.array([True, True, True]), [0, 1, 2], MIN_CELL)
    assert not _brute_force(x, hidden, [True, True, True], [0, 1, 2])


def test_board_answers_add_up_what_the_schools_show(board_data):
    data, a, b, c = board_data
    shares = fb.board_answer_shares(data, "SYN-B900", MIN_CELL)
    mine = data[data["school_id"].isin([a, c])]
    for r in shares.itertuples(index=False):
        answered = mine[r.item].dropna().astype(int)
        assert r.n == len(answered)  # a and c: b's answers are not counted
        if not r.suppressed:
            assert r.count == answered.isin(fb.CATEGORY_ANSWERS[r.category]).sum()
            assert r.count == 0 or r.count >= MIN_CELL
    hidden = shares.groupby("item")["suppressed"].sum()
    assert hidden.isin([0, 2, 3]).all()  # all three shown, one shown, or none
