"""Dutch number formatting and the summary sentences rendered from findings."""
from __future__ import annotations

import math

import numpy as np
import pytest

from oml.stats.findings import HIGHER, LOWER, STABLE, Difference, Findings, Trend
from oml.stats.results import breakdown
from oml.report.text import SUPPRESSED, nl_list, nl_number, nl_percent, summary_sentences


# --------------------------------------------------------------------------- numbers
@pytest.mark.parametrize(
    "value, decimals, expected",
    [
        (12161, 0, "12.161"),  # Dutch thousands separator is a point
        (1234567.891, 2, "1.234.567,89"),
        (49.7903, 2, "49,79"),  # decimal comma
        (999.5, 0, "1.000"),  # rounding carries into the thousands
        (0.005, 1, "0,0"),
        (-0.04, 2, "\u22120,04"),  # true minus sign U+2212
        (-12161.5, 1, "\u221212.161,5"),
        (-0.001, 2, "0,00"),  # rounds to zero: no minus sign
        (0, 0, "0"),
        (100, 0, "100"),
    ],
)
def test_nl_number(value, decimals, expected):
    assert nl_number(value, decimals) == expected


@pytest.mark.parametrize("missing", [float("nan"), np.nan, np.float64("nan"), None])
def test_nl_number_missing_is_suppressed_mark(missing):
    assert nl_number(missing) == SUPPRESSED


def test_nl_number_against_independent_format():
    rng = np.random.default_rng(3)
    for value in rng.normal(0, 1e5, size=200):
        # Reference: Python's locale-free format, then swap the separators digit by digit
        plain = f"{abs(value):,.2f}"
        swapped = "".join({",": ".", ".": ","}.get(ch, ch) for ch in plain)
        expected = ("\u2212" if value < 0 and float(plain.replace(",", "")) != 0 else "") + swapped
        assert nl_number(value, 2) == expected


def test_nl_percent():
    assert nl_percent(49.7903, 2) == "49,79\u00a0%"
    assert nl_percent(math.nan) == SUPPRESSED + "\u00a0%"


@pytest.mark.parametrize(
    "words, expected",
    [([], ""), (["jongens"], "jongens"), (["jongens", "meisjes"], "jongens en meisjes"),
     (["hbo", "wo", "mbo of lager"], "hbo, wo en mbo of lager")],
)
def test_nl_list(words, expected):
    assert nl_list(words) == expected


# --------------------------------------------------------------------------- sentences from hand-made findings
def _trend(group, direction, first=2019, last=2031):
    return Trend(group, first, last, direction, 0.3 if direction == HIGHER else -0.3, 0.01)


@pytest.mark.parametrize("direction, phrase", [(HIGHER, "positiever geworden"), (LOWER, "minder positief geworden"),
                                               (STABLE, "gelijk gebleven")])
def test_overall_trend_sentence(direction, phrase):
    # Unusual years so that a typed year in the template would show
    f = Findings(None, 2019, 2031, ["totaal"], [_trend("totaal", direction)])
    (sentence,) = summary_sentences(f)
    assert sentence == f"De ervaren sociale relaties met leraren zijn tussen 2019 en 2031 {phrase}."


def test_changed_trends_by_sex():
    f = Findings("sex", 2019, 2031, ["jongen", "meisje"], [_trend("jongen", LOWER), _trend("meisje", HIGHER)])
    difference, trend = summary_sentences(f)
    assert difference.startswith("In 2031 verschillen de ervaren sociale relaties met leraren niet significant")
    assert trend == ("Bij meisjes zijn de ervaren sociale relaties met leraren tussen 2019 en 2031 positiever geworden; "
                     "bij jongens zijn ze minder positief geworden.")
    assert "gelijk gebleven" not in trend


def test_partly_changed_regions():
    groups = ["Noord-Limburg", "Sittard-Geleen", "Parkstad Limburg"]
    f = Findings("region", 2019, 2031, groups,
                 [_trend("Noord-Limburg", STABLE), _trend("Sittard-Geleen", LOWER), _trend("Parkstad Limburg", STABLE)],
                 [Difference(2031, "Noord-Limburg", "Sittard-Geleen", 0.3, 0.01)])
    difference, trend = summary_sentences(f)
    assert difference == ("In 2031 ervaren leerlingen in Noord-Limburg betere sociale relaties met leraren "
                          "dan leerlingen in Sittard-Geleen.")
    assert "Sittard-Geleen" in trend and "minder positief geworden" in trend
    assert "leerlingen in Noord-Limburg en leerlingen in Parkstad Limburg" in trend and "gelijk gebleven" in trend


# --------------------------------------------------------------------------- sentences from data with a planted change
# `frame` (the default synthetic data with the index) comes from conftest.py.


def test_planted_change_reaches_the_text(frame):
    first, last = int(frame["year"].min()), int(frame["year"].max())
    data = frame.copy()
    girls = (data["sex"] == "meisje") & (data["year"] == last)
    data.loc[girls, "index"] += 0.5
    f = breakdown(data, "sex").findings
    difference, trend = summary_sentences(f)
    assert difference == f"In {last} ervaren meisjes betere sociale relaties met leraren dan jongens."
    assert f"bij meisjes zijn de ervaren sociale relaties met leraren tussen {first} en {last} positiever geworden" in trend.lower()
    assert "bij jongens zijn ze gelijk gebleven" in trend


def test_planted_decline_reaches_the_text(frame):
    first, last = int(frame["year"].min()), int(frame["year"].max())
    data = frame.copy()
    data.loc[data["year"] == last, "index"] -= 0.5
    (sentence,) = summary_sentences(breakdown(data, None).findings)
    assert sentence == f"De ervaren sociale relaties met leraren zijn tussen {first} en {last} minder positief geworden."


def test_largest_nonsignificant_change_is_named(frame):
    # The factsheet remarks on a slight, non-significant decline; the paragraph names the largest change.
    from oml.stats.results import breakdown
    from oml.report.text import chapter_paragraph, group_phrase

    b = breakdown(frame, "parent_education")
    fl = b.comparisons[b.comparisons["family"] == "first_last"]
    largest = fl.loc[fl["estimate"].abs().idxmax()]
    text = chapter_paragraph(b.findings, b.comparisons, "Figuur 4", 0.95)
    assert b.findings.all_stable
    assert f"De grootste verandering tussen {b.findings.first_year} en {b.findings.last_year}" in text
    assert group_phrase(largest.group_a) + "; ook die is niet significant" in text
