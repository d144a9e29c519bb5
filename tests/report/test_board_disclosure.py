"""Disclosure across a board's report and its schools' reports: the differencing attack (issue 20, point 1).

The attacker holds one board's report and the reports of all its schools (a board can ask each
school for its own), and reads every published number from the private manifests
(``files/<page>.feedback.json``, exact values) — the reports made as the template makes them
(:func:`oml.report.unit_report.from_context`, the blocks :func:`~oml.report.unit_report.show`
displays, ``report.pub.save()``). They subtract the schools' published cells from the board's:

* counts: the board's pupils of a year (or the period) minus the schools' published pupils of
  that year, and every other combination the published counts allow (a linear audit, reading the
  board either as all its pupils or as its schools' shown cells);
* indices: the pupil-weighted difference of the adjusted means, which recovers a small group's
  index to a few thousandths from the exact values (to about ±0,02 from the rounded ones);
* answers: the board's count of a category (its share times its pupils) minus the schools' shown
  counts, and every combination with the schools' own totals (a linear audit per statement).

No such difference may rest on 1 to ``min_cell - 1`` pupils: it is either not computable (a
hidden cell) or rests on no pupil or on at least ``min_cell``. Scenarios: a board of two schools
with one cut to 2 pupils a year (the finding of issue 20); a board of two schools with one
school's year cut to 4 pupils (a hidden year, protected in the school's own report by a second
hidden year); and the unedited largest board of the synthetic data. Before boards counted only
what their schools show, every attack here succeeded: the small school's 2 pupils a year with
index 0,111 (true 0,106), the hidden year's 4 pupils with index 0,495 (true 0,492), a shown
school's hidden answer counts of 6 and 9 pupils, and in the largest board two hidden answer
counts of one school together (8 pupils).
"""
from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from oml.report import notebook as nb
from oml.report import unit_report as fr
from oml.stats import units as fs

MIN_CELL = 10
BOARD = "SYN-B900"
YEARS = (2023, 2024, 2025)
PERIOD = "totaal"
# `small_frame` (generate(n=3000, seed=11, history=False) with the index, about 40 schools) comes from conftest.py.


def _schools_every_year(frame: pd.DataFrame, at_least: int = 15) -> list[str]:
    counts = frame[frame["index"].notna()].groupby(["school_id", "year"], observed=True).size().unstack(fill_value=0)
    return sorted(counts.index[(counts >= at_least).all(axis=1)])


def _board_of_two(frame: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    data = frame.copy()
    mine = data["school_id"].isin([a, b])
    data.loc[mine, "board_id"] = BOARD
    data.loc[mine, "board_name"] = "Testbestuur"
    return data


def _cut(frame: pd.DataFrame, school: str, year: int, keep: int) -> pd.DataFrame:
    """Keep ``keep`` of the school's pupils of ``year`` (pupils with an index), and none without one."""
    rows = frame.index[(frame["school_id"] == school) & (frame["year"] == year)]
    keep_rows = frame.loc[rows][frame.loc[rows, "index"].notna()].index[:keep]
    return frame.drop(rows.difference(keep_rows))


def _small_school(frame: pd.DataFrame) -> tuple[pd.DataFrame, str, dict]:
    a, b = _schools_every_year(frame)[:2]
    data = _board_of_two(frame, a, b)
    for year in YEARS:
        data = _cut(data, b, year, 2)  # 2 pupils a year: 6 over the period, below the threshold
    return data, BOARD, {"small": b}


def _hidden_year(frame: pd.DataFrame) -> tuple[pd.DataFrame, str, dict]:
    a, c = _schools_every_year(frame)[2:4]
    data = _board_of_two(frame, a, c)
    data = _cut(data, c, 2024, 4)  # 2024 hidden in the school's report, and a second year to protect it
    return data, BOARD, {"hidden": (c, 2024)}


def _large_board(frame: pd.DataFrame) -> tuple[pd.DataFrame, str, dict]:
    # The synthetic data as generated: its largest board has small years and a school whose years are all hidden.
    return frame, frame.drop_duplicates("school_id")["board_id"].value_counts().index[0], {}


SCENARIOS = {"small school": _small_school, "hidden year": _hidden_year, "large board": _large_board}


# --------------------------------------------------------------------------- the reports, as the template makes them
def _published(frame: pd.DataFrame, kind: str, unit: str, out) -> tuple[dict, dict]:
    """Every number one report publishes: manifest key (without the page) -> exact value (None = hidden);
    and, not published, the pupils per statement behind the unit's answer percentages (given to the attacker)."""
    ctx = nb.Context(frame=frame, data=frame, pub=fr.PrivatePublisher(unit, out), notebook="terugkoppeling.ipynb",
                     level=0.95, min_cell=MIN_CELL, synthetic=True)
    report = fr.from_context(ctx, kind, unit)
    report.blocks()  # what fb.show(report) displays; every block records the numbers it shows
    report.pub.save()
    entries = json.loads((out / "files" / f"{unit}.feedback.json").read_text(encoding="utf-8"))
    answer_n = report.main.answers.groupby("item")["n"].first().to_dict()
    return {e["key"].split("/", 1)[1]: e["value"] for e in entries}, answer_n


@pytest.fixture(scope="module", params=list(SCENARIOS))
def attack(request, small_frame, tmp_path_factory):
    data, board, facts = SCENARIOS[request.param](small_frame)
    out = tmp_path_factory.mktemp("board")
    schools = sorted(data.loc[data["board_id"] == board, "school_id"].unique())
    reports = {unit: _published(data, kind, unit, out) for kind, unit in [("board", board), *(("school", s) for s in schools)]}
    return {"name": request.param, "data": data, "board": board, "schools": schools, **facts,
            "board_report": reports[board][0], "school_reports": {s: reports[s][0] for s in schools},
            "answer_n": {unit: r[1] for unit, r in reports.items()}}


def _index(published: dict, unit: str, cell, what: str):
    return published.get(f"{unit}/index/{cell}/unit/{what}")


def _difference(attack: dict, cell) -> tuple[float, float] | None:
    """The board's cell minus its schools' published cells: (pupils, pupil-weighted index sum), or None (hidden)."""
    board = attack["board"]
    n, est = _index(attack["board_report"], board, cell, "n"), _index(attack["board_report"], board, cell, "estimate")
    if n is None or est is None:
        return None
    rest_n, rest_sum = float(n), float(n) * est
    for s, published in attack["school_reports"].items():
        sn, sest = _index(published, s, cell, "n"), _index(published, s, cell, "estimate")
        if sn is not None and sest is not None:
            rest_n -= sn
            rest_sum -= sn * sest
    return rest_n, rest_sum


def _true_counts(attack: dict) -> pd.DataFrame:
    """Pupils with an index per school of the board and year, from the data (what the attacker is after)."""
    d = attack["data"]
    d = d[(d["school_id"].isin(attack["schools"])) & d["index"].notna()]
    return d.groupby(["school_id", "year"], observed=True).size().unstack(fill_value=0).reindex(
        index=attack["schools"], columns=list(YEARS), fill_value=0)


# --------------------------------------------------------------------------- counts and indices
def test_board_minus_schools_isolates_no_small_group(attack):
    """Per year and over the period: the board's published pupils and index minus the schools' published ones."""
    for cell in [*YEARS, PERIOD]:
        diff = _difference(attack, cell)
        if diff is None:
            continue  # the board's cell is hidden: nothing to subtract from
        rest_n, rest_sum = diff
        assert rest_n == int(rest_n)
        assert not 1 <= rest_n < MIN_CELL, (
            f"{attack['name']}, {cell}: the board's cell minus its schools' leaves {rest_n:.0f} pupils, "
            f"whose index the reports give as {rest_sum / rest_n:.3f}")


def test_the_small_groups_of_the_scenarios_stay_unknown(attack):
    """The attack aimed at its target: the small school's years, and the hidden year of a shown school."""
    truth = _true_counts(attack)
    targets = []
    if "small" in attack:
        targets += [(attack["small"], y) for y in YEARS]
    if "hidden" in attack:
        targets.append(attack["hidden"])
    for school, year in targets:
        reports = attack["school_reports"][school]
        assert _index(reports, school, year, "n") is None  # the school's own report hides it
        diff = _difference(attack, year)
        if diff is None:
            continue
        rest_n, rest_sum = diff
        own = fs.adjusted_unit_means(attack["data"], "school", school, min_cell=1).cell(year, "unit")
        recovered = rest_n == truth.at[school, year] and abs(rest_sum / rest_n - own.estimate) < 0.05
        assert not recovered, (f"{attack['name']}: {school} in {year} recovered from the board's report: "
                               f"{rest_n:.0f} pupils, index {rest_sum / rest_n:.3f} (true {own.estimate:.3f})")


def _audit(unknown: list, truth: dict, equations: list[tuple[set, float]], max_size: int = 3) -> list[str] | None:
    """Sums of unknowns that linear equations on them determine at their true value, of 1 to ``min_cell - 1`` pupils.

    ``equations``: (the unknowns in it, its published total). ``None`` when the equations contradict each
    other or the truth (then they do not describe the reports, and the attacker reading them so learns
    nothing true). Every subset is tried when there are at most 12 unknowns, else those of up to
    ``max_size``. A sum is determined when its 0/1 vector is orthogonal to the equations' null space.
    """
    pos = {u: k for k, u in enumerate(unknown)}
    rows, rhs = [], []
    for members, total in equations:
        row = np.zeros(len(unknown))
        row[[pos[u] for u in members]] = 1.0
        rows.append(row)
        rhs.append(float(total))
    if not rows:
        return []
    a, b = np.array(rows), np.array(rhs)
    x_true = np.array([truth[u] for u in unknown], dtype=float)
    if not np.allclose(a @ x_true, b, atol=1e-6):
        return None
    _, sv, vt = np.linalg.svd(a)
    null = vt[int((sv > 1e-9).sum()):].T  # (unknowns, dimensions left free)
    leaks = []
    largest = len(unknown) if len(unknown) <= 12 else max_size
    for size in range(1, largest + 1):
        for subset in itertools.combinations(range(len(unknown)), size):
            if null.shape[1] and np.abs(null[list(subset)].sum(axis=0)).max() > 1e-9:
                continue  # not determined by the published numbers
            value = x_true[list(subset)].sum()
            if 1 <= value < MIN_CELL:
                leaks.append(f"{[unknown[k] for k in subset]} = {value:.0f} pupils")
    return leaks


def test_no_combination_of_published_counts_isolates_a_small_group(attack):
    """A linear audit of every published count of the board and its schools (pupils with an index).

    Unknowns: the pupils of each (school, year) that its own report does not show. Equations: a
    school's years add up to its published period; the board's year (period) minus the schools'
    published cells of it is the sum of its unknown parts — read two ways, as the reports could be
    made: the board counting all its pupils, or only the school-years (the periods) its schools show.
    The published numbers must fit at least one reading, and under every reading they fit, no
    determined sum of unknowns may rest on 1 to ``min_cell - 1`` pupils.
    """
    counts = _true_counts(attack)
    schools, reports = attack["schools"], attack["school_reports"]
    unknown = [(s, y) for s in schools for y in YEARS if _index(reports[s], s, y, "n") is None and counts.at[s, y] > 0]
    truth = {u: int(counts.at[u]) for u in unknown}
    own = []
    for s in schools:
        period = _index(reports[s], s, PERIOD, "n")
        if period is not None:
            shown = sum(_index(reports[s], s, y, "n") or 0 for y in YEARS)
            own.append(({u for u in unknown if u[0] == s}, period - shown))
    hidden_period = {s for s in schools if _index(reports[s], s, PERIOD, "n") is None}
    readings = {}
    for reading in ("all pupils", "shown cells"):
        board = []
        for cell in [*YEARS, PERIOD]:
            diff = _difference(attack, cell)
            if diff is None:
                continue
            if reading == "all pupils":
                members = {u for u in unknown if u[1] == cell or (cell == PERIOD and u[0] in hidden_period)}
            else:
                members = set()
            board.append((members, diff[0]))
        if any(not members and total for members, total in board):
            continue  # a board cell that exceeds its schools' shown cells: not this reading
        readings[reading] = _audit(unknown, truth, own + [(m, t) for m, t in board if m], max_size=len(unknown))
    fitting = {r: leaks for r, leaks in readings.items() if leaks is not None}
    assert fitting, f"{attack['name']}: the board's counts fit no reading of the reports"
    for reading, leaks in fitting.items():
        assert not leaks, f"{attack['name']}, the board read as {reading}: the published counts give {leaks}"


def test_board_index_and_count_are_hidden_together(attack):
    board = attack["board"]
    for cell in [*YEARS, PERIOD]:
        n, est = _index(attack["board_report"], board, cell, "n"), _index(attack["board_report"], board, cell, "estimate")
        assert (n is None) == (est is None)


def test_the_attack_is_precise(attack):
    """A check of the method: the board minus all its schools but one gives that school's own published figures
    (count exactly, index to a few hundredths) — so where the board's cells do not give more, it is not for
    want of precision."""
    board = attack["board"]
    shown = [s for s, p in attack["school_reports"].items() if _index(p, s, PERIOD, "n") is not None]
    for cell in [*YEARS, PERIOD]:
        diff = _difference(attack, cell)
        if diff is None or diff[0] != 0:
            continue
        for s in shown:
            p = attack["school_reports"][s]
            sn, sest = _index(p, s, cell, "n"), _index(p, s, cell, "estimate")
            if sn is None:
                continue
            rest_n, rest_sum = diff[0] + sn, diff[1] + sn * sest
            assert rest_n == sn
            assert rest_sum / rest_n == pytest.approx(sest, abs=0.03)
    assert _index(attack["board_report"], board, PERIOD, "n") is not None


# --------------------------------------------------------------------------- answers
def _answers(published: dict, unit: str) -> dict:
    """(item, category) -> exact published percentage (None = hidden) of the unit itself (not Limburg's)."""
    out = {}
    for key, value in published.items():
        parts = key.split("/")
        if parts[0] == unit and parts[1] == "answers":
            out[(parts[2], parts[3])] = value
    return out


def test_board_answers_minus_schools_isolate_no_small_group(attack):
    """Per statement: the board's answers against its schools', as a linear audit of the category counts.

    Pupils per statement are not published; this attacker is given them exactly (the ``n`` each report's
    percentages were computed over, where that ``n`` reaches ``min_cell``), which is stronger than
    estimating them from the index's pupils (that recovers a count to about half a pupil). Unknowns: the
    counts a school's report does not show (a hidden category, or every category of a school that shows
    no answers). Equations: a school's hidden counts add up to its pupils minus its shown counts; the
    board's count of a shown category minus the schools' shown counts of it is the sum of that
    category's unknowns; the board's pupils minus the schools' shown counts is the sum of all unknowns.
    Read two ways: the board's answers counting all its schools, or only those that show answers.
    """
    data, board = attack["data"], attack["board"]
    board_shares = _answers(attack["board_report"], board)
    items = sorted({item for item, _ in board_shares})
    categories = list(fs.CATEGORY_ANSWERS)
    reports = attack["school_reports"]
    truth = {}
    for s in attack["schools"]:
        rows = data[data["school_id"] == s]
        for item in items:
            values = rows[item].dropna().astype(int)
            for c, answers in fs.CATEGORY_ANSWERS.items():
                truth[(s, item, c)] = int(values.isin(answers).sum())
    showing = [s for s in attack["schools"] if _answers(reports[s], s)]
    for item in items:
        published = {c: board_shares[(item, c)] for c in categories if board_shares.get((item, c)) is not None}
        if not published:
            continue  # the board shows nothing of this statement
        n_board = attack["answer_n"][board][item]
        fitted = 0
        for reading, members in (("all schools", attack["schools"]), ("schools showing answers", showing)):
            unknown, equations, known = [], [], {}
            for s in members:
                shares = _answers(reports[s], s)
                n_s = attack["answer_n"][s].get(item)
                cells = []
                for c in categories:
                    if shares.get((item, c)) is not None and n_s == n_s:  # shown (n_s is not NaN)
                        known[(s, c)] = shares[(item, c)] / 100 * n_s
                    else:
                        cells.append((s, item, c))
                unknown += cells
                if cells and s in showing and n_s == n_s:
                    equations.append((set(cells), n_s - sum(v for (t, _), v in known.items() if t == s)))
            for c, pct in published.items():
                equations.append(({u for u in unknown if u[2] == c},
                                  pct / 100 * n_board - sum(v for (_, d), v in known.items() if d == c)))
            equations.append((set(unknown), n_board - sum(known.values())))
            equations = [(m, round(t, 6)) for m, t in equations]
            if any(not m and t for m, t in equations):
                continue  # not this reading
            leaks = _audit(unknown, truth, [(m, t) for m, t in equations if m])
            if leaks is None:
                continue
            fitted += 1
            assert not leaks, f"{attack['name']}, {item}, the board read as {reading}: the published answers give {leaks}"
        assert fitted, f"{attack['name']}, {item}: the board's answers fit no reading of the reports"
