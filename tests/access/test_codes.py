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


# ---------------------------------------------------------------------------------------------- the demo file

REAL = ("school", "12AB")  # a real school's id (no SYN- prefix)


@pytest.fixture
def demo(tmp_path):
    """A copy of the project's demo codes file at its place in a project tree (as a build in a copy sees it)."""
    from oml import paths

    path = tmp_path / "project" / paths.DEMO_CODES.relative_to(paths.ROOT)
    path.parent.mkdir(parents=True)
    ensure_codes(path, [("school", "SYN-S0001"), ("board", "SYN-B01")])
    return path


def test_the_demo_file_is_recognised_by_its_place(demo, tmp_path):
    from oml import paths
    from oml.access.codes import is_demo_file

    assert is_demo_file(paths.DEMO_CODES) and is_demo_file(salts_path(paths.DEMO_CODES))
    assert is_demo_file(demo) and is_demo_file(salts_path(demo))
    assert is_demo_file(demo.parent / ".." / "terugkoppeling" / "DEMO-CODES.csv")  # '..' and case do not hide it
    link = tmp_path / "CODES.csv"
    link.symlink_to(demo)
    assert is_demo_file(link)  # nor does a link to it
    assert not is_demo_file(tmp_path / "CODES.csv.bak") and not is_demo_file(tmp_path / "demo-codes.csv")


def test_the_demo_file_refuses_a_real_id_at_every_entry(demo, tmp_path):
    from oml.access.codes import CodeBookUpdate, save_codes, write_codes, write_salts
    from oml.access.publish import publish_reports, start_keys

    before = (demo.read_bytes(), salts_path(demo).read_bytes())
    codes, salts = read_codes(demo), read_salts(salts_path(demo))
    refused = "demo codes file of the public site: synthetic \\(SYN-\\) ids only, not school:12AB"
    attempts = {
        "ensure_codes": lambda: ensure_codes(demo, [REAL]),
        "ensure_codes, --rotate": lambda: ensure_codes(demo, [("school", "SYN-S0001")], rotate=["school:12AB"]),
        "write_codes": lambda: write_codes(demo, {**codes, REAL: normalise(new_code())}),
        "write_salts": lambda: write_salts(salts_path(demo), {**salts, REAL: bytes(16)}),
        "save_codes": lambda: save_codes(demo, CodeBookUpdate({**codes, REAL: normalise(new_code())}, salts, (), ())),
        "start_keys": lambda: start_keys([REAL], demo),
        "publish_reports": lambda: publish_reports({REAL: "<p>echt</p>"}, demo, tmp_path / "out"),
        "publish_reports, link": lambda: publish_reports({REAL: "<p>echt</p>"}, tmp_path / "link.csv", tmp_path / "out"),
    }
    (tmp_path / "link.csv").symlink_to(demo)
    for what, attempt in attempts.items():
        with pytest.raises(AccessError, match=refused):
            attempt()
        assert (demo.read_bytes(), salts_path(demo).read_bytes()) == before, f"{what} changed the demo file"
    assert not (tmp_path / "out").exists()
    # A demo file that someone filled with a real id is refused when read (so the site never lists it).
    with demo.open("a") as fh:
        fh.write(f"school,12AB,{display(new_code())}\n")
    with salts_path(demo).open("a") as fh:
        fh.write("school,12AB," + "00" * 16 + "\n")
    for read in (lambda: read_codes(demo), lambda: read_salts(salts_path(demo)), lambda: ensure_codes(demo, [])):
        with pytest.raises(AccessError, match=refused):
            read()
    # Any other codes file takes real ids, of course.
    assert REAL in ensure_codes(tmp_path / "CODES.csv", [REAL]).codes


# ---------------------------------------------------------------------------------------------- weak codes

@pytest.mark.parametrize("code, rule", [
    ("TEST-TEST-TEST-TEST-TEST", "only 3 different symbols"),
    ("AAAA-BBBB-CCCC-DDDD-EEEE", "only 5 different symbols"),
    ("2345-6789-ABCD-EFGH-JKMN", "consecutive symbols (such as 23456)"),
    ("K7QM-2XPD-ZYXW-VA4E-NB6C", "consecutive symbols (such as ZYXWV)"),
    ("K7QM-2XPD-9HHH-HHRE-NB6C", "equal symbols (such as HHHHH)"),
    ("K7QM-2XPD-K7QM-WA4E-NB6C", "the same group of four symbols twice"),
    ("K7QM-QWER-TYPD-WA4E-NB6C", "a common word (QWERTY)"),
    ("SECR-ET7Q-M2XP-D9HT-WA4N", "a common word (SECRET)"),
])
def test_weak_hand_made_codes_are_named_with_the_rule(code, rule):
    from oml.access.codes import weakness

    assert rule in weakness(code)


def test_drawn_codes_are_never_weak_and_rarely_would_be():
    from oml.access.codes import WEAK_WORDS, weakness

    assert all(weakness(new_code()) is None for _ in range(2000))
    assert all(set(word) <= set(ALPHABET) and len(word) >= 5 for word in WEAK_WORDS)  # each can occur, none by chance
    assert weakness("K7QM-2XPD-9HTR-WA4E-NB6C") is None
    from oml import paths

    assert not [k for k, c in read_codes(paths.DEMO_CODES).items() if weakness(c)]  # the committed demo codes pass


def test_weak_codes_on_file_are_warned_about_by_id_never_by_code(tmp_path):
    path = tmp_path / "CODES.csv"
    path.write_text("kind,id,code\nschool,A,TEST-TEST-TEST-TEST-TEST\nschool,B,K7QM-2XPD-9HTR-WA4E-NB6C\n")
    update = ensure_codes(path, [("school", "A"), ("school", "B"), ("school", "C")])
    weak = [w for w in update.warnings if "is weak" in w]
    assert weak == ["the code of school:A is weak (only 3 different symbols (at least 8)); made by hand? "
                    "Give it a new one: --rotate school:A"]
    assert not any("TEST" in w for w in update.warnings)
    rotated = ensure_codes(path, [("school", "A")], rotate=["school:A"])
    assert not [w for w in ensure_codes(path, [("school", "A")]).warnings if "is weak" in w]
    assert rotated.rotated == (("school", "A"),)


# ---------------------------------------------------------------------------------------------- salt warnings

def test_a_salt_file_of_other_ids_or_a_lost_one_is_warned_about(tmp_path):
    path = tmp_path / "CODES.csv"
    first = ensure_codes(path, [("school", "A"), ("school", "B")])
    assert first.warnings == ()
    # Another codes file's salts: ids this codes file lacks.
    salts_path(path).write_text("kind,id,salt\nschool,A," + first.salts[("school", "A")].hex() + "\nschool,X,"
                                + "ab" * 16 + "\nboard,Y," + "cd" * 16 + "\n")
    update = ensure_codes(path, [("school", "A"), ("school", "B")])
    assert "the salt file has 2 id(s) that the codes file lacks (board:Y, school:X)" in update.warnings[0]
    assert "no salt on file for 1 existing code(s) (school:B)" in update.warnings[1]
    assert update.salts[("school", "A")] == first.salts[("school", "A")]
    assert update.salts[("school", "B")] != first.salts[("school", "B")]  # drawn anew: the warning says so
    # A lost salt file: every existing code needs a new salt.
    salts_path(path).unlink()
    lost = ensure_codes(path, [("school", "A"), ("school", "B")])
    assert lost.warnings == ("no salt on file for 2 existing code(s) (school:A, school:B): new salts are drawn, so "
                             "their report files change (was the salt file lost or regenerated?)",)
    # New codes with new salts are not a warning.
    assert ensure_codes(tmp_path / "NEW.csv", [("school", "A")]).warnings == ()


def test_private_files_get_mode_0600_also_when_unchanged(tmp_path):
    from oml.access.codes import write_private

    path = tmp_path / "CODES.csv"
    write_private(path, "kind,id,code\n")
    path.chmod(0o644)
    mtime = path.stat().st_mtime_ns
    write_private(path, "kind,id,code\n")  # same content: not rewritten ...
    assert path.stat().st_mtime_ns == mtime
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # ... but the mode is fixed
    assert [p.name for p in tmp_path.iterdir()] == ["CODES.csv"]  # no temporary file left


def test_a_linked_codes_file_is_written_where_the_link_points(tmp_path):
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "CODES.csv").write_text("kind,id,code\n")
    (tmp_path / "CODES.csv").symlink_to(vault / "CODES.csv")
    ensure_codes(tmp_path / "CODES.csv", [("school", "A")])
    assert (tmp_path / "CODES.csv").is_symlink() and ("school", "A") in read_codes(vault / "CODES.csv")
    assert stat.S_IMODE((vault / "CODES.csv").stat().st_mode) == 0o600
