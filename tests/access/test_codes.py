"""Access codes and the private codes and salt files."""
from __future__ import annotations

import math
import stat
from collections import Counter

import pytest

from oml.access.codes import (ALPHABET, BITS, LENGTH, AccessError, display, ensure_codes, new_code, normalise,
                              read_codes, read_salts, salts_path)


def test_alphabet_has_no_look_alikes_and_codes_carry_80_bits():
    for ch in "0O1IL":
        assert ch not in ALPHABET
    assert len(set(ALPHABET)) == len(ALPHABET)
    assert BITS >= 80
    assert BITS == pytest.approx(LENGTH * math.log2(len(ALPHABET)))


def test_new_codes_are_grouped_random_and_use_the_whole_alphabet():
    codes = [new_code() for _ in range(2000)]
    assert len(set(codes)) == len(codes)
    for code in codes[:50]:
        groups = code.split("-")
        assert [len(g) for g in groups] == [4] * 5
    counts = Counter("".join(normalise(c) for c in codes))
    assert set(counts) == set(ALPHABET)
    # 40,000 draws over 30 symbols: every symbol near 1/30 (a chi-square bound far from a fair die's range)
    expected = 2000 * LENGTH / len(ALPHABET)
    chi2 = sum((counts[ch] - expected) ** 2 / expected for ch in ALPHABET)
    assert chi2 < 80  # 29 degrees of freedom: P(chi2 > 80) < 1e-6 for a uniform generator


@pytest.mark.parametrize("typed", ["k7qm2xpd9htrwa4enb6c", " K7QM 2XPD 9HTR WA4E NB6C ", "k7qm-2xpd-9htr-wa4e-nb6c",
                                   "K7QM_2XPD.9HTR\u2013WA4E\u00a0NB6C\n"])
def test_normalise_ignores_case_spaces_and_dashes(typed):
    assert normalise(typed) == "K7QM2XPD9HTRWA4ENB6C"
    assert display(typed) == "K7QM-2XPD-9HTR-WA4E-NB6C"


@pytest.mark.parametrize("typed, rule", [("K7QM-2XPD-9HTR-WA4E", "20 symbols"), ("K7QM-2XPD-9HTR-WA4E-NB6C-A", "20 symbols"),
                                         ("O7QM-2XPD-9HTR-WA4E-NB6C", "'O'"), ("K7QM-1XPD-9HTR-WA4E-NB6C", "'1'")])
def test_malformed_codes_are_refused_with_the_reason(typed, rule):
    with pytest.raises(AccessError, match=rule):
        normalise(typed)


def test_codes_are_created_once_then_reused_and_rotated(tmp_path):
    path = tmp_path / "CODES.csv"
    needed = [("school", "A"), ("school", "B"), ("board", "X")]
    first = ensure_codes(path, needed)
    assert sorted(first.created) == sorted(needed)
    assert path.read_text().splitlines()[0] == "kind,id,code"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(salts_path(path).stat().st_mode) == 0o600
    assert read_codes(path) == first.codes and read_salts(salts_path(path)) == first.salts

    again = ensure_codes(path, needed + [("school", "C")])
    assert again.created == (("school", "C"),)
    assert {k: again.codes[k] for k in needed} == first.codes  # a school keeps its code year after year
    assert {k: again.salts[k] for k in needed} == first.salts

    # A year without school B: its code stays on file for later.
    later = ensure_codes(path, [("school", "A")])
    assert later.codes[("school", "B")] == first.codes[("school", "B")]

    rotated = ensure_codes(path, needed, rotate=["B"])
    assert rotated.rotated == (("school", "B"),)
    assert rotated.codes[("school", "B")] != first.codes[("school", "B")]
    assert rotated.salts[("school", "B")] != first.salts[("school", "B")]
    assert rotated.codes[("school", "A")] == first.codes[("school", "A")]


def test_rotation_of_unknown_or_ambiguous_ids_is_an_error(tmp_path):
    path = tmp_path / "CODES.csv"
    ensure_codes(path, [("school", "Z1"), ("board", "Z1")])
    with pytest.raises(AccessError, match="--rotate NOPE: no school or board"):
        ensure_codes(path, [("school", "Z1")], rotate=["NOPE"])
    with pytest.raises(AccessError, match="write school:Z1 or board:Z1"):
        ensure_codes(path, [("school", "Z1")], rotate=["Z1"])
    before = read_codes(path)
    after = ensure_codes(path, [("school", "Z1")], rotate=["board:Z1"]).codes
    assert after[("school", "Z1")] == before[("school", "Z1")] and after[("board", "Z1")] != before[("board", "Z1")]


def test_a_committed_codes_file_can_be_required_complete(tmp_path):
    path = tmp_path / "demo.csv"
    ensure_codes(path, [("school", "A")])
    with pytest.raises(AccessError, match=r"no code for 1 report\(s\) \(school:B\)"):
        ensure_codes(path, [("school", "A"), ("school", "B")], create=False)


def test_bad_codes_file_lists_every_problem_with_rows(tmp_path):
    path = tmp_path / "CODES.csv"
    path.write_text("kind,id,code\n"
                    "school,A,K7QM-2XPD-9HTR-WA4E-NB6C\n"
                    "schol,B,K7QM-2XPD-9HTR-WA4E-NB6D\n"
                    "school,A,K7QM-2XPD-9HTR-WA4E-NB6E\n"
                    "board,,K7QM-2XPD-9HTR-WA4E\n"
                    "board,C,k7qm 2xpd 9htr wa4e nb6c\n")
    with pytest.raises(AccessError) as err:
        read_codes(path)
    text = str(err.value)
    assert "column 'kind': must be 'school' or 'board': 1 row (rows 2)" in text
    assert "duplicates): 1 row (rows 3)" in text
    assert "column 'id': must not be empty: 1 row (rows 4)" in text
    assert "column 'code': must be 20 symbols" in text and "(rows 4)" in text
    assert "repeated codes): 1 row (rows 5)" in text


def test_codes_file_with_other_columns_is_refused(tmp_path):
    path = tmp_path / "CODES.csv"
    path.write_text("school,code\nA,K7QM-2XPD-9HTR-WA4E-NB6C\n")
    with pytest.raises(AccessError, match="exactly the columns kind,id,code; found school,code"):
        read_codes(path)
