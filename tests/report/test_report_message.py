"""One message per report (issue 21, point 2): the first paragraph, where the unit differs most, the next step,
the board's overview of its schools, and what every report says about itself (date, edition, source, contact, use).

The first paragraph is checked over every report of the default synthetic data (173 schools, 38 boards, as the
demo makes them): its claims are the tests' outcomes, its words say exactly those outcomes, and no report calls a
comparison significant and chance (or "geen duidelijk verschil") at once.
"""
from __future__ import annotations

import datetime
import re

import pandas as pd
import pytest

from oml.report import unit_report as fr
from oml.report.plotting import set_theme
from oml.stats import units as fs
from oml.stats.findings import HIGHER, LOWER, STABLE

MIN_CELL = 10
COMPARED = {"duidelijk positiever": HIGHER, "duidelijk minder positief": LOWER, "niet duidelijk anders": STABLE}
CHANGED = {"duidelijk positiever geworden": HIGHER, "duidelijk minder positief geworden": LOWER,
           "niet duidelijk veranderd": STABLE}
_WORDS = "|".join(COMPARED)
# The first paragraph as the reader gets it, read back independently of how it was written.
PERIOD_RE = re.compile(rf"oordelen over (\S+) ({_WORDS}) over hun leraren dan gemiddeld in Limburg"
                       rf"(?: en in de regio (?P<same>[^.,]+)|, en (?P<other>{_WORDS}) dan gemiddeld in de regio (?P<region>[^.]+))?\.")
TREND_RE = re.compile(r"Tussen (\d{4}) en (\d{4}) is hun oordeel (" + "|".join(CHANGED) + r")\.")


@pytest.fixture(scope="module", autouse=True)
def theme():
    set_theme()


def _expected(row) -> str:
    """The outcome of one test from its row alone: significant and the sign of the estimate (independent path)."""
    if not bool(row["significant"]):
        return STABLE
    return HIGHER if float(row["estimate"]) > 0 else LOWER


def _row(um, family: str, reference: str | None = None):
    c = um.comparisons
    rows = c[(c["family"] == family) & ((c["group_b"] == reference) if reference else True)]
    return None if rows.empty else rows.iloc[0]


def _read_message(text: str) -> dict:
    """The claims of a first paragraph, parsed from its words: {(family, reference): direction}."""
    out = {}
    m = PERIOD_RE.search(text)
    if m:
        out[("period", fs.LIMBURG)] = COMPARED[m.group(2)]
        if m.group("same"):
            out[("period", fs.REGION)] = COMPARED[m.group(2)]
        elif m.group("other"):
            out[("period", fs.REGION)] = COMPARED[m.group("other")]
    t = TREND_RE.search(text)
    if t:
        out[("first_last", "")] = CHANGED[t.group(3)]
    return out


@pytest.fixture(scope="module")
def every_report(frame, tmp_path_factory):  # about 15 s on an idle 2-core machine: 211 reports, 173 school parts of boards
    """The report of every school and board of the default synthetic data (computed, not drawn)."""
    out = tmp_path_factory.mktemp("every")
    units = [("school", s) for s in sorted(frame["school_id"].astype(str).unique())]
    units += [("board", b) for b in sorted(frame["board_id"].dropna().astype(str).unique())]
    return [fr.build_report(frame, kind, unit, min_cell=MIN_CELL, synthetic=True, out_dir=out) for kind, unit in units]


@pytest.mark.slow  # every report of the default data
def test_the_demo_has_every_report(every_report):
    kinds = pd.Series([r.kind for r in every_report]).value_counts()
    assert kinds["school"] == 173 and kinds["board"] == 38


@pytest.mark.slow  # every report of the default data
def test_first_paragraph_says_what_the_tests_say_in_every_report(every_report):
    checked = {HIGHER: 0, LOWER: 0, STABLE: 0}
    for report in every_report:
        um = report.main.means
        text = fr.message(um, report.kind, report.span, report.min_cell)
        said = _read_message(text)
        if um.below_threshold:
            assert said == {} and "te weinig" in text or "genoeg leerlingen" in text, (report.unit, text)
            continue
        # Each claim is the outcome of the test the tables show, and the words say exactly that outcome.
        for ref in (fs.LIMBURG, fs.REGION):
            row = _row(um, "period", ref)
            if row is None:
                assert ("period", ref) not in said, (report.unit, text)
                continue
            assert said[("period", ref)] == _expected(row), (report.unit, ref, text)
            assert bool(row["significant"]) == (row["ci_low"] > 0 or row["ci_high"] < 0)  # the interval shown is the test's
            checked[said[("period", ref)]] += 1
        trend = _row(um, "first_last")
        if trend is None:
            assert ("first_last", "") not in said and "niet te toetsen" in text, (report.unit, text)
        else:
            assert said[("first_last", "")] == _expected(trend), (report.unit, text)
            assert TREND_RE.search(text).groups()[:2] == (str(trend["year_b"]), str(trend["year_a"]))
        # The claims as data are the same as the words.
        assert {(c.family, c.reference): c.direction for c in fr.message_claims(um)} == said
        assert len(re.findall(r"[.!?](?:\s|$)", text)) <= 2, text  # one or two sentences
    # The default data have schools above, below and like Limburg: every wording is exercised.
    assert min(checked.values()) > 0, checked


@pytest.mark.slow  # every report of the default data
def test_no_comparison_is_called_significant_and_chance_in_any_report(every_report):
    for report in every_report:
        parts = [s for s in (report.main, *report.schools) if not s.means.below_threshold]
        sentences = {id(s): report._sentences(s) for s in parts}
        text = " ".join([fr.message(report.main.means, report.kind, report.span, report.min_cell), fr.MESSAGE_KEY]
                        + [x for s in parts for x in sentences[id(s)]])
        assert "toeval" not in text and "geen duidelijk verschil" not in text, report.unit
        for s in parts:
            period = _row(s.means, "period", fs.LIMBURG)
            # The period test against Limburg, as the sentence of "In het kort" and the funnel's sentence word it.
            said = next(x for x in sentences[id(s)] if x.startswith(f"Over {report.span} samen")
                        and "van Limburg" in x.split("(")[0])
            funnel = [x for x in sentences[id(s)] if x.startswith("In de trechterfiguur")]
            if bool(period["significant"]):
                assert re.search(r"is de index van \w+ \w+ significant (hoger|lager) dan", said), said
                assert not any("niet significant" in x for x in funnel), funnel
            else:
                assert "niet significant verschillend van het gemiddelde van Limburg" in said, said
                assert not any("wel significant" in x or "duidelijk" in x for x in funnel), funnel


@pytest.mark.slow  # every report of the default data
def test_first_paragraph_opens_the_report_and_agrees_with_its_table(frame, every_report):
    """The rendered report: the paragraph comes first, and its Limburg claim is the table's verdict over the period."""
    schools = [r for r in every_report if r.kind == "school" and not r.main.means.below_threshold]
    by_size = sorted(schools, key=lambda r: r.main.means.period(fs.UNIT).n)
    significant = next(r for r in schools if _row(r.main.means, "period", fs.LIMBURG)["significant"])
    for report in (by_size[0], by_size[len(by_size) // 2], by_size[-1], significant):
        html = fr.report_html(frame, "school", report.unit, min_cell=MIN_CELL, synthetic=True)
        first = re.search(r"</header>\s*<p class=\"oml-message\">([^<]+)</p>", html)
        assert first, "the first paragraph follows the title"
        said = _read_message(first.group(1))
        table = re.search(r'<table class="oml-table oml-differences">(.*?)</table>', html, flags=re.S).group(1)
        period_row = re.search(r'<tr><th scope="row">2023–2025</th><td>[^<]*<span[^>]*>[^<]*</span></td><td>([^<]*)</td>',
                               table).group(1)
        assert {"hoger": HIGHER, "lager": LOWER, "niet significant": STABLE}[period_row] == said[("period", fs.LIMBURG)]


# --------------------------------------------------------------------------- where the unit differs most
@pytest.mark.slow  # every report of the default data
def test_gaps_use_only_shown_cells_and_rank_by_difference(every_report):
    for report in every_report[:60]:
        s = report.main
        gaps = report._gaps(s)
        own = s.answers[s.answers["category"] == fr.AGREE].set_index("item")
        lim = report.limburg_answers[report.limburg_answers["category"] == fr.AGREE].set_index("item")
        for g in gaps:
            assert not own.loc[g.item, "suppressed"] and not lim.loc[g.item, "suppressed"]
            assert g.own == pytest.approx(own.loc[g.item, "percent"], abs=1e-9)
            assert g.limburg == pytest.approx(lim.loc[g.item, "percent"], abs=1e-9)
        sizes = [abs(g.difference) for g in gaps]
        assert sizes == sorted(sizes, reverse=True)
        # Every statement with both shares shown and differing as shown is a candidate: none is left out.
        both = [i for i in own.index if not own.loc[i, "suppressed"] and not lim.loc[i, "suppressed"]
                and fr.nl_number(own.loc[i, "percent"]) != fr.nl_number(lim.loc[i, "percent"])]
        assert sorted(g.item for g in gaps) == sorted(both)


@pytest.mark.slow  # every report of the default data
def test_gaps_block_links_each_statement_to_its_recommendation(frame, every_report):
    report = next(r for r in every_report if r.kind == "school" and len(r._gaps(r.main)) >= 3)
    block = report.gaps_block(report.main)
    items = re.findall(r"<li>(.*?)</li>", block)
    assert len(items) == fr.MOST_GAPS
    guide = fr.recommendations()
    for g, item in zip(report._gaps(report.main), items):
        first = guide.for_statement(g.item)[0]
        assert f"aanbeveling {first.number} (‘{first.title.rstrip('.')}’)" in item
        assert f"{fr.nl_number(g.own)}{fr.PCT}" in item and f"{fr.nl_number(g.limburg)}{fr.PCT}" in item
        assert ("minder dan in Limburg" in item) == (g.difference < 0)


@pytest.mark.slow  # every report of the default data
def test_next_step_follows_from_the_schools_result(every_report):
    guide = fr.recommendations()
    starts = set()
    for report in every_report:
        s = report.main
        step = re.search(r"<h2>Volgende stap</h2><p>(.*?)</p>", report.next_steps()).group(1)
        lagging = [g for g in report._gaps(s) if g.difference < 0] if not s.means.below_threshold else []
        if s.means.below_threshold or not report._comparable(s):
            assert "geen" in step and "aanbeveling" in step
        elif lagging:
            worst = min(lagging, key=lambda g: g.difference)
            rec = guide.for_statement(worst.item)[0]
            assert step.startswith(f"Begin bij aanbeveling {rec.number}: <strong>{fr._e(rec.title)}</strong>"), step
            assert fr._e(report._statement(worst.item)) in step
            starts.add(rec.number)
        else:
            assert f"aanbeveling {guide.keep_going}" in step
    assert len(starts) >= 3, starts  # not the same step for every school


def test_recommendations_file_is_complete_and_checked():
    guide = fr.recommendations()
    assert sorted(guide.recommendations) == [1, 2, 3, 4, 5, 6]
    from oml.data.codebook import CODEBOOK

    for item in CODEBOOK:  # every statement of the codebook bears on a recommendation
        assert guide.for_statement(item.column), item.column
    assert guide.url == fr.LEIDRAAD
    good = {"guideline": "https://x", "keep_going": 1, "statements": {"item_a": [1]},
            "recommendation": [{"number": 1, "title": "T.", "tip": "Tip."}]}
    with pytest.raises(ValueError, match=r"r.toml: key 'keep_going' is missing"):
        fr.parse_guideline({k: v for k, v in good.items() if k != "keep_going"}, "r.toml")
    with pytest.raises(ValueError, match=r"number 1 appears twice"):
        fr.parse_guideline({**good, "recommendation": good["recommendation"] * 2}, "r.toml")
    with pytest.raises(ValueError, match=r"keep_going = 7 is not a recommendation"):
        fr.parse_guideline({**good, "keep_going": 7}, "r.toml")


# --------------------------------------------------------------------------- the board's overview
def _small_school_board(frame):
    """A board of three schools of which one has too few pupils (as in the disclosure tests)."""
    counts = frame.groupby(["school_id", "year"], observed=True).size().unstack(fill_value=0)
    a, b, c = sorted(counts.index[(counts >= 15).all(axis=1)])[:3]
    data = frame.copy()
    data.loc[data["school_id"].isin([a, b, c]), "board_id"] = "SYN-B900"
    data.loc[data["school_id"].isin([a, b, c]), "board_name"] = "Synthetisch testbestuur"
    rows = data.index[data["school_id"] == b]
    return data.drop(rows[6:]), (a, b, c)


def test_board_overview_shows_what_each_schools_report_shows(small_frame):
    data, (a, b, c) = _small_school_board(small_frame)
    html = fr.report_html(data, "board", "SYN-B900", min_cell=MIN_CELL)
    table = re.search(r'<table class="oml-table oml-overview">(.*?)</table>', html, flags=re.S).group(1)
    rows = dict(re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', table))
    for school in (a, c):
        own = fr.report_html(data, "school", school, min_cell=MIN_CELL)
        row = rows[fr._e(fr.display_name(data, "school", school))]
        um = fs.adjusted_unit_means(data, "school", school)
        n = fr.nl_number(um.period(fs.UNIT).n)
        diff = re.search(r'<table class="oml-table oml-differences">.*?<tr><th scope="row">2023–2025</th><td>(.*?)</td>'
                         r"<td>(.*?)</td>", own, flags=re.S).groups()
        # The same pupils, difference, interval and outcome as in the school's own report.
        assert row.startswith(f"<td>{n}</td><td>{diff[0]}</td><td>{diff[1]}</td>"), (row, diff)
        assert f"<td>{n}</td>" in own
    small = rows[fr._e(fr.display_name(data, "school", b))]
    assert "te weinig leerlingen" in small and not re.search(r"\d", re.sub(r"<[^>]+>", "", small))


# --------------------------------------------------------------------------- date, edition, source, contact, use
def test_every_report_says_when_what_from_where_and_for_whom(small_frame, monkeypatch, tmp_path):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764633600")  # 2 December 2025
    unit = sorted(small_frame["school_id"].unique())[0]
    html = fr.report_html(small_frame, "school", unit, min_cell=MIN_CELL, synthetic=True)
    text = " ".join(re.sub(r"<[^>]+>", " ", re.sub(r"<(svg|style).*?</\1>", " ", html, flags=re.S)).split())
    assert "Gemaakt op 2 december 2025" in text
    assert f"Editie 2023–2025, gegevenskenmerk {fr.data_fingerprint(small_frame)}" in text
    assert "Bron Synthetische gegevens" in text
    assert f'<a href="mailto:{fr.CONTACT}">{fr.CONTACT}</a>' in html
    assert "Vertrouwelijk: alleen voor eigen gebruik door de school" in text and "demonstratie met synthetische" in text
    real = fr.build_report(small_frame, "board", sorted(small_frame["board_id"].unique())[0], synthetic=False, out_dir=tmp_path)
    colophon = real.colophon()
    assert "OnderwijsMonitor Limburg (Universiteit Maastricht)" in colophon and "synthetische" not in colophon
    assert "door het bestuur" in colophon
    assert fr.made_on() == datetime.date(2025, 12, 2)


def test_edition_mark_changes_with_the_data(small_frame):
    changed = small_frame.copy()
    changed.loc[changed.index[0], "index"] += 0.001
    assert fr.data_fingerprint(changed) != fr.data_fingerprint(small_frame)
    assert fr.data_fingerprint(small_frame.copy()) == fr.data_fingerprint(small_frame)
