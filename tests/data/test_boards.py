"""Tests of the synthetic boards and names (:mod:`oml.data.boards`)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oml.data.boards import LARGE_SIZES, board_sizes
from oml.data.contract import OPTIONAL, REQUIRED, validate
from oml.data.synth import generate


def test_boards_leave_every_other_column_unchanged(default_frame):
    # The boards use their own random stream, drawn after the pupils: dropping them gives back
    # exactly what the generator produced before boards existed (same draws, same order).
    from oml.data import synth

    without = default_frame.drop(columns=list(OPTIONAL))
    assert list(without.columns[: len(REQUIRED)]) == list(REQUIRED)
    original = synth.assign_boards
    try:
        synth.assign_boards = lambda frame, seed: frame  # the generator without its last step
        plain = synth.generate(history=False)
    finally:
        synth.assign_boards = original
    pd.testing.assert_frame_equal(without, plain)


def test_one_board_and_name_per_school_and_plainly_synthetic_names(default_frame):
    per_school = default_frame.groupby("school_id")[["board_id", "school_name"]].nunique()
    assert (per_school == 1).all().all()
    assert (default_frame.groupby("board_id")["board_name"].nunique() == 1).all()
    schools = default_frame.drop_duplicates("school_id")
    assert schools["school_name"].is_unique
    assert schools["school_name"].str.startswith("Synthetisch").all()
    assert default_frame.drop_duplicates("board_id")["board_name"].str.startswith("Synthetisch bestuur").all()
    assert default_frame["board_id"].str.startswith("SYN-B").all()


def test_plausible_mix_of_board_sizes(default_frame):
    sizes = default_frame.drop_duplicates("school_id").groupby("board_id").size()
    assert (sizes == 1).sum() >= 10  # many one-school boards
    large = sizes[sizes >= LARGE_SIZES[0]]
    assert 3 <= len(large) <= 8 and large.max() <= LARGE_SIZES[1]
    assert 25 <= len(sizes) <= 45


@pytest.mark.parametrize("n", [1, 2, 7, 31, 400])
def test_board_sizes_add_up(n):
    sizes = board_sizes(n, np.random.default_rng(n))
    assert sum(sizes) == n and min(sizes) >= 1


def test_synthetic_data_with_boards_pass_the_contract(default_frame):
    raw = default_frame.astype(object).where(default_frame.notna(), None)
    assert validate(raw).columns.tolist() == default_frame.columns.tolist()


def test_small_dataset_gets_boards_too():
    df = generate(n=150, seed=9)
    assert df["board_id"].notna().all() and df["school_name"].notna().all()
