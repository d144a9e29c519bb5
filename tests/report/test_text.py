"""Dutch number formatting and the summary sentences rendered from findings."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest

from oml.stats.findings import HIGHER, LOWER, STABLE, Difference, Findings, Trend
from oml.stats.results import breakdown
from oml.report import text
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


def test_largest_nonsignificant_change_is_named_only_when_at_least_small(frame):
    # The factsheet remarks on a slight, non-significant decline; the paragraph names the largest change when it is at
    # least small (Cohen's 0,2). One of "nauwelijks" size only repeats the "gelijk gebleven" before it (issue 23).
    from oml.stats.results import breakdown
    from oml.report.text import chapter_paragraph, effect_size_word, group_phrase

    b = breakdown(frame, "parent_education")
    assert b.findings.all_stable
    fl = b.comparisons[b.comparisons["family"] == "first_last"]
    largest = fl.loc[fl["estimate"].abs().idxmax()]
    assert effect_size_word(largest.estimate) == "nauwelijks"  # the default data: every change is below 0,2
    named = f"De grootste verandering tussen {b.findings.first_year} en {b.findings.last_year}"
    text = chapter_paragraph(b.findings, b.comparisons, "Figuur 4", 0.95)
    assert "gelijk gebleven" in text and named not in text
    # The same findings with that change at 0,25 (still not significant): now it is named, with its size.
    comparisons = b.comparisons.copy()
    comparisons.loc[largest.name, "estimate"] = math.copysign(0.25, largest.estimate)
    text = chapter_paragraph(b.findings, comparisons, "Figuur 4", 0.95)
    assert named in text and group_phrase(largest.group_a) + ": klein, en niet significant." in text
    assert "ook die is niet significant" not in text


# --------------------------------------------------------------------------- rounding: half away from zero
def _half_away_reference(value: float, decimals: int) -> str:
    """Reference, in exact rational arithmetic: the float's shortest decimal (repr) as a Fraction, |x| * 10^d + 1/2
    floored, the sign put back; written out as plain digits with a point."""
    from fractions import Fraction

    x = Fraction(repr(float(value)))
    scaled = abs(x) * 10 ** decimals + Fraction(1, 2)
    n = scaled.numerator // scaled.denominator
    digits = str(n).rjust(decimals + 1, "0")
    text = digits if decimals == 0 else digits[:-decimals] + "." + digits[-decimals:]
    return ("-" if x < 0 and n != 0 else "") + text


@pytest.mark.parametrize("value, decimals, expected", [
    (0.125, 2, "0,13"), (-0.125, 2, "\u22120,13"), (2.675, 2, "2,68"), (62.5, 0, "63"), (0.5, 0, "1"),
    (-0.005, 2, "\u22120,01"), (1.45, 1, "1,5"), (0.0449999, 2, "0,04"),
])
def test_ties_round_half_away_from_zero(value, decimals, expected):
    # Binary formatting (f"{x:.2f}") gives 0,12 for 0.125 (ties to even) and 2,67 for 2.675 (the float is 2.67499...).
    assert nl_number(value, decimals) == expected


def test_round_half_away_against_exact_fractions():
    from oml.report.text import round_half_away

    rng = np.random.default_rng(5)
    values = np.concatenate([rng.normal(0, 1, 300), np.round(rng.normal(0, 1, 300), 3), rng.integers(-999, 999, 100) / 200])
    for value in values:
        for d in (0, 1, 2, 3):
            assert str(round_half_away(float(value), d)).lstrip("-") == _half_away_reference(value, d).lstrip("-")
            assert nl_number(value, d).replace(".", "").replace(",", ".").replace("\u2212", "-") == _half_away_reference(value, d)


def test_estimate_inside_its_interval_after_rounding():
    from decimal import Decimal

    from oml.report.text import estimate_interval

    def parse(text):
        return Decimal(text.replace(".", "").replace(",", ".").replace("\u2212", "-"))

    rng = np.random.default_rng(6)
    # Many intervals, some built so that the estimate or a bound lies exactly on a rounding tie.
    est = np.concatenate([rng.normal(0, 0.2, 500), np.round(rng.normal(0, 0.2, 500), 2) + 0.005])
    half = np.abs(rng.normal(0.05, 0.03, 1000))
    for e, h in zip(est, half):
        for magnitude in (False, True):
            shown = estimate_interval(e, e - h, e + h, 2, magnitude=magnitude)
            value, low, high = map(parse, shown)
            assert low <= value <= high
            if magnitude:
                assert value >= 0 and shown[0] == nl_number(abs(e), 2)
            else:
                assert shown == (nl_number(e, 2), nl_number(e - h, 2), nl_number(e + h, 2))
    with pytest.raises(ValueError, match="not inside"):
        estimate_interval(0.3, 0.0, 0.2)


def test_a_decline_is_shown_with_the_interval_of_its_size():
    # The case: a decline of 0,13 printed beside -0,18 tot -0,09. Its size goes with the size's interval.
    from oml.report.text import estimate_interval, interval_words

    est, lo, hi = estimate_interval(-0.1349, -0.1793, -0.0905, magnitude=True)
    assert f"een daling van {est} standaarddeviatie ({interval_words(0.95, lo, hi)})" == \
        "een daling van 0,13 standaarddeviatie (95%-betrouwbaarheidsinterval 0,09 tot 0,18)"


def test_difference_sentence_uses_the_consistent_interval():
    import pandas as pd

    from oml.report.text import chapter_paragraph

    # b minus a = -0.125 (a tie): "a" is higher by 0,13 with the mirrored interval 0,08 tot 0,17.
    comps = pd.DataFrame([{"family": "between", "group_a": "Noord-Limburg", "year_a": 2031, "group_b": "Sittard-Geleen",
                           "year_b": 2031, "estimate": -0.125, "se": 0.02, "ci_low": -0.165, "ci_high": -0.085, "p": 0.001,
                           "p_holm": 0.001, "significant": True, "overlap": False, "overlap_says_significant": True,
                           "disagree": False}])
    f = Findings("region", 2031, 2031, ["Noord-Limburg", "Sittard-Geleen"], [],
                 [Difference(2031, "Noord-Limburg", "Sittard-Geleen", 0.125, 0.001)])
    text = chapter_paragraph(f, comps, "Figuur 5", 0.95)
    assert ("leerlingen in Noord-Limburg 0,13 standaarddeviatie hoger dan leerlingen in Sittard-Geleen "
            "(95%-betrouwbaarheidsinterval 0,09 tot 0,17)") in text


# --------------------------------------------------------------------------- parental education "onbekend"
def test_summary_and_paragraph_never_speak_of_unknown_as_parents(frame):
    from oml.report.text import chapter_paragraph, diamond_alt, not_compared_sentence

    data = frame.copy()
    schools = data["school_id"].unique()
    third = set(np.random.default_rng(2).choice(schools, len(schools) // 3, replace=False))
    whole = data["school_id"].isin(third).to_numpy()
    data.loc[whole, "parent_education"] = "onbekend"
    data.loc[whole, "index"] += 0.6  # those schools score higher: tested as a group, "onbekend" came out "higher"
    b = breakdown(data, "parent_education")
    sentences = summary_sentences(b.findings)
    assert not any("onbekend" in s for s in sentences)
    apart = not_compared_sentence(b.findings)
    assert apart.startswith("Leerlingen van wie de opleiding van de ouders onbekend is, staan wel in de figuur")
    paragraph = chapter_paragraph(b.findings, b.comparisons, "Figuur 4", 0.95)
    assert apart in paragraph and "{ref}`methoden-onbekend`" in paragraph
    assert "betere sociale relaties met leraren dan leerlingen van wie" not in paragraph
    assert "Niet getoetst: onbekend." in diamond_alt(b.table, b.findings)
    # Other breakdowns have nothing apart.
    assert not_compared_sentence(breakdown(frame, "sex").findings) == ""


# --------------------------------------------------------------------------- the summary and the start page (issue 23)
def _fmt(key, value, decimals=0):
    return nl_number(value, decimals)


def test_summary_sentences_give_sizes_in_words_and_vary(frame):
    from oml.report import summary
    from oml.stats.results import breakdowns

    results = breakdowns(frame)
    region = summary.difference_sentences(results["region"], _fmt)
    d = results["region"].findings.differences
    assert d, "the default synthetic data has the factsheet's significant regional difference"
    assert f"Het verschil is {text.size_words(d[0].estimate)}: {nl_number(d[0].estimate, 2)}" in region[0]
    sex = summary.difference_sentences(results["sex"], _fmt)
    assert len(sex) == 1 and "niet significant" in sex[0] and "standaarddeviatie" not in sex[0]
    trend = summary.trend_sentence(results[None], _fmt)
    assert "gelijk gebleven" in trend and text.size_words(results[None].findings.trends[0].estimate) in trend
    within = summary.within_trend_sentence(results.values(), _fmt)
    # Every group's change is below 0,2 on the default data: the summary names none of them (issue 23).
    assert within.count("gelijk gebleven") == 0 and "niets significant veranderd" in within
    assert "De grootste verandering" not in within
    # One of them at 0,25 (still not significant): it is named, with its size in words.
    import dataclasses
    from types import SimpleNamespace

    by_sex = results["sex"]
    grown = [dataclasses.replace(t, estimate=-0.25) if t.group == by_sex.findings.trends[0].group else t
             for t in by_sex.findings.trends]
    bigger = SimpleNamespace(by="sex", findings=dataclasses.replace(by_sex.findings, trends=grown))
    named = summary.within_trend_sentence([bigger], _fmt)
    assert f"De grootste verandering is 0,25, bij {text.group_phrase(grown[0].group)}: klein." in named
    for s in [*region, *sex, trend, within, named]:
        assert "  " not in s and "{doc}`" not in s.replace("(zie {doc}`", "") and not re.search(r"\d\.(?!\d)\S", s)


def test_a_significant_change_and_two_differences_use_two_templates():
    from types import SimpleNamespace

    import pandas as pd

    from oml.report import summary

    f = Findings("region", 2023, 2025, ["A", "B", "C"], [Trend("A", 2023, 2025, HIGHER, 0.55, 0.01)],
                 [Difference(2025, "A", "B", 0.3, 0.01), Difference(2025, "A", "C", 0.85, 0.01)])
    comps = pd.DataFrame([{"family": "between", "group_a": "B", "group_b": "A", "estimate": 0.3},
                          {"family": "between", "group_a": "C", "group_b": "A", "estimate": 0.85}])
    out = summary.difference_sentences(SimpleNamespace(findings=f, comparisons=comps, by="region"), _fmt)
    assert out[0].startswith("In 2025 ervaren leerlingen in A betere sociale relaties") and "Het verschil is klein: 0,30" in out[0]
    assert out[1].startswith("Ook scoren leerlingen in A in 2025 hoger dan leerlingen in C, met 0,85 (een groot verschil)")
    trend = summary.trend_sentence(SimpleNamespace(findings=Findings(None, 2023, 2025, ["totaal"],
                                                                     [Trend("totaal", 2023, 2025, LOWER, -0.6, 0.01)])), _fmt)
    assert trend.startswith("De sociale relaties met leraren zijn tussen 2023 en 2025 minder goed geworden. Het is een middelgrote verandering (0,60)")


def test_new_in_this_edition_in_sentences():
    from types import SimpleNamespace

    from oml.report import summary
    from oml.site.editions.compare import Conclusion, FindingChange, Headline

    c = SimpleNamespace(years_appeared=[2025], headlines=[Headline("Leerlingen", 8172, 12161, 0)], groups_appeared=[],
                        changed_findings=[FindingChange(
                            Conclusion("verschillen-regio", "between", ("M", "S"), (2024, 2024), None),
                            Conclusion("verschillen-regio", "between", ("M", "S"), (2025, 2025), "M"))])
    out = summary.news_sentences(c, "2025", "2024")
    assert out[0] == "Editie 2025 voegt het jaar 2025 toe aan editie 2024."
    assert out[1] == "Daarmee rust het rapport op 12.161 leerlingen (editie 2024: 8.172)."
    assert "in 2025 ervaren leerlingen in M betere sociale relaties met leraren dan leerlingen in S" in out[2]
    assert out[-1].startswith("Alle verschillen tussen de edities")
