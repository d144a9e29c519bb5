"""The private feedback report of one school or one board: page blocks and the HTML document.

A report is ONE self-contained HTML document (inline CSS and SVG, no external requests,
printable, ``lang="nl"``). The template ``notebooks/terugkoppeling.ipynb`` builds a
:class:`FeedbackReport` and displays its blocks as IPython ``HTML`` objects marked with the
metadata key :data:`MARK`; :func:`render_document` turns the executed notebook back into the
document, which the access layer encrypts. :func:`report_html` does the same in one call,
without a notebook.

Every number shown goes through a :class:`PrivatePublisher`: recorded (key, exact value, text
as shown) in ``files/<page>.feedback.json`` — a name the site build never collects, because a
report's numbers are private and must never reach the public ``numbers.json``. Nothing is glued.

What a report shows is decided by :mod:`oml.stats.units` (disclosure control included):
only the unit itself, its region and Limburg — never another school.
"""
from __future__ import annotations

import datetime
import functools
import hashlib
import html
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd
from matplotlib.ticker import MaxNLocator

from oml.data import codebook
from oml.data.contract import VARIABLE_LABELS
from oml.report import plotting, text
from oml.report.pages import min_share_words
from oml.report.publish import NOT_ASKED_LEGEND, Publisher
from oml.report.text import NOT_ASKED, SUPPRESSED, nl_date, nl_list, nl_number
from oml.stats.findings import HIGHER, LOWER, STABLE, Direction, direction
from oml.stats import units as stats
from oml.stats.units import LIMBURG, PERIOD, REGION, UNIT

#: Metadata key that marks a display output as a block of the report.
MARK = "oml_feedback"
PCT = "\u00a0%"
#: The statement -> recommendation mapping and the recommendations' wording (one place: docs/reports.md).
RECOMMENDATIONS = "config/recommendations.toml"
#: The OML's contact address for schools and boards, as the factsheet gives it (../shared/seeds, facts.md section 1).
CONTACT = "oml-sbe@maastrichtuniversity.nl"
#: The answer category whose share the report compares with Limburg in "Waar ... het meest verschilt".
AGREE = "eens"
#: How many statements "Waar ... het meest verschilt" names at most.
MOST_GAPS = 3


class PrivatePublisher(Publisher):
    """A :class:`~oml.report.publish.Publisher` for a private report: records, never glues.

    Its manifest is ``files/<page>.feedback.json``; the site collects only ``*.numbers.json``.

    Examples
    --------
    >>> import tempfile
    >>> pub = PrivatePublisher("s1", out_dir=tempfile.mkdtemp())
    >>> pub.number("n", 1234), pub.manifest_path.name
    ('1.234', 's1.feedback.json')
    """

    def __init__(self, page: str, out_dir: str | Path = "."):
        super().__init__(page, out_dir, glue=False)

    @property
    def manifest_path(self) -> Path:
        return self.files / f"{self.page}.feedback.json"


# ----------------------------------------------------------------------------- recommendations
@dataclass(frozen=True)
class Recommendation:
    """One recommendation of the NRO guideline: its number, its title (the guideline's words) and our example."""

    number: int
    title: str
    tip: str


@dataclass(frozen=True)
class Guideline:
    """The NRO guideline as a report uses it (``oml/config/recommendations.toml``).

    ``statements`` maps a statement (item column) to the numbers of the recommendations it bears on, the
    closest first; ``keep_going`` is the recommendation for a unit that lags Limburg on no statement.
    """

    url: str
    recommendations: dict[int, Recommendation]
    statements: dict[str, tuple[int, ...]]
    keep_going: int

    def for_statement(self, item: str) -> tuple[Recommendation, ...]:
        """The recommendations ``item`` bears on, the closest first; empty for a statement the file does not map.

        Examples
        --------
        >>> [r.number for r in recommendations().for_statement("item_vertrouwen")], recommendations().for_statement("item_x")
        ([6, 5], ())
        """
        return tuple(self.recommendations[k] for k in self.statements.get(item, ()))


def parse_guideline(record: dict, source: str) -> Guideline:
    """Check and read the recommendations file's content; a ``ValueError`` names the file, key and rule.

    Examples
    --------
    >>> g = parse_guideline({"guideline": "https://x", "keep_going": 1, "statements": {"item_a": [1]},
    ...                      "recommendation": [{"number": 1, "title": "T.", "tip": "Tip."}]}, "r.toml")
    >>> g.for_statement("item_a")[0].title
    'T.'
    >>> parse_guideline({**{"guideline": "https://x", "keep_going": 1, "statements": {"item_a": [2]}},
    ...                  "recommendation": [{"number": 1, "title": "T.", "tip": "Tip."}]}, "r.toml")
    Traceback (most recent call last):
    ...
    ValueError: r.toml: [statements] item_a names recommendation 2, which the file does not define (it defines 1)
    """
    problems = [f"key '{k}' is missing" for k in ("guideline", "keep_going", "statements", "recommendation")
                if k not in record]
    if problems:
        raise ValueError(f"{source}: " + "; ".join(problems))
    recs = {}
    for k, r in enumerate(record["recommendation"], 1):
        missing = [key for key in ("number", "title", "tip") if not str(r.get(key, "")).strip()]
        if missing:
            raise ValueError(f"{source}: [[recommendation]] number {k} lacks {', '.join(missing)}")
        if int(r["number"]) in recs:
            raise ValueError(f"{source}: [[recommendation]] number {r['number']} appears twice")
        recs[int(r["number"])] = Recommendation(int(r["number"]), str(r["title"]), str(r["tip"]))
    defined = ", ".join(str(n) for n in sorted(recs))
    statements = {}
    for item, numbers in record["statements"].items():
        numbers = [numbers] if isinstance(numbers, int) else list(numbers)
        for n in numbers:
            if n not in recs:
                raise ValueError(f"{source}: [statements] {item} names recommendation {n}, which the file does not define "
                                 f"(it defines {defined})")
        statements[str(item)] = tuple(int(n) for n in numbers)
    if record["keep_going"] not in recs:
        raise ValueError(f"{source}: keep_going = {record['keep_going']} is not a recommendation of the file (it defines {defined})")
    return Guideline(str(record["guideline"]), recs, statements, int(record["keep_going"]))


@functools.cache
def recommendations() -> Guideline:
    """The NRO guideline and the statement -> recommendation mapping of ``oml/config/recommendations.toml``.

    Examples
    --------
    >>> g = recommendations()
    >>> sorted(g.recommendations), g.for_statement("item_praten")[0].number
    ([1, 2, 3, 4, 5, 6], 1)
    """
    text = resources.files("oml").joinpath(RECOMMENDATIONS).read_text(encoding="utf-8")
    return parse_guideline(tomllib.loads(text), f"oml/{RECOMMENDATIONS}")


#: The NRO guideline on Onderwijskennis (from the recommendations file).
LEIDRAAD = recommendations().url


# ----------------------------------------------------------------------------- names
def display_name(frame: pd.DataFrame, kind: str, unit: str) -> str:
    """The school's or board's name from the data, or its id when the data carry no name.

    Examples
    --------
    >>> display_name(pd.DataFrame({"school_id": ["S1"]}), "school", "S1")
    'S1'
    """
    id_col, name_col = ("school_id", "school_name") if kind == "school" else ("board_id", "board_name")
    if name_col in frame:
        names = frame.loc[frame[id_col].astype("string") == unit, name_col].dropna()
        if len(names):
            return str(names.iloc[0])
    return str(unit)


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _md_bold(s: str) -> str:
    """The ``**bold**`` of the shared text helpers as HTML (the text is escaped first)."""
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", _e(s))


# ----------------------------------------------------------------------------- sentences
_DIRECTION = {HIGHER: "significant hoger dan", LOWER: "significant lager dan", STABLE: "niet significant verschillend van"}


def _direction(row) -> Direction:
    """The direction of a tested comparison (a row of ``UnitMeans.comparisons``)."""
    return direction(float(row.estimate), bool(row.significant))


def _reference_phrase(ref: str, region: str | None) -> str:
    return "het gemiddelde van Limburg" if ref == LIMBURG else f"het gemiddelde van de regio {region}"


def _plain(key, value, decimals=0) -> str:
    return nl_number(value, decimals)


def _interval_detail(r, key: str, fmt) -> str:
    """"verschil 0,25 standaarddeviatie, 95%-betrouwbaarheidsinterval 0,05 tot 0,45": a comparison with the
    interval of its own test (``r.ci_level``, the level its verdict rests on)."""
    est, low, high = text.estimate_interval(float(r.estimate), float(r.ci_low), float(r.ci_high), 2, fmt=fmt,
                                            keys=(f"{key}/difference", f"{key}/ci_low", f"{key}/ci_high"))
    return f"verschil {est} standaarddeviatie, {_level_words(r.ci_level)}-betrouwbaarheidsinterval {low} tot {high}"


def _level_words(level: float) -> str:
    """"95%", "98,3%": a confidence level as the report names it (one decimal when it has one)."""
    pct = level * 100
    return f"{nl_number(pct, 0 if abs(pct - round(pct)) < 1e-9 else 1)}%"


def period_sentence(um: stats.UnitMeans, ref: str, subject: str, span: str, fmt) -> str | None:
    """"Over 2023–2025 samen is de index van uw school significant hoger dan …", from the period test.

    ``fmt(key, value, decimals)`` formats (and records) each number. The interval is the test's own: it
    leaves out 0 exactly when the sentence says "significant".
    """
    c = um.comparisons
    row = c[(c["family"] == "period") & (c["group_b"] == ref)]
    if row.empty:
        return None
    r = row.iloc[0]
    d = _direction(r)
    sentence = f"Over {span} samen is de index van {subject} {_DIRECTION[d]} {_reference_phrase(ref, um.region)}"
    return f"{sentence} ({_interval_detail(r, f'period/{ref}', fmt)})."


def yearly_sentence(um: stats.UnitMeans, ref: str, subject: str) -> str | None:
    """Per year, grouped by outcome: "Per jaar bekeken is … in 2023 en 2025 niet significant verschillend van …"."""
    c = um.comparisons
    rows = c[c["family"] == ref]
    if rows.empty:
        return None
    groups: dict[str, list[str]] = {}
    for r in rows.itertuples(index=False):
        groups.setdefault(_direction(r), []).append(str(r.year_a))
    parts = [f"in {nl_list(years)} {_DIRECTION[d]}" for d, years in groups.items()]
    if len(groups) == 1 and len(rows) > 1:
        parts = [f"in elk getoond jaar {_DIRECTION[next(iter(groups))]}"]
    how = (f"getoetst met Bonferroni-correctie voor {nl_number(len(rows))} jaren; de verschillen met hun intervallen staan "
           "in de tabel met verschillen" if len(rows) > 1 else "het verschil met zijn interval staat in de tabel met verschillen")
    return f"Per jaar bekeken is de index van {subject} {nl_list(parts)} {_reference_phrase(ref, um.region)} ({how})."


def trend_sentence(um: stats.UnitMeans, subject: str, fmt=None) -> str | None:
    """The unit's last shown year against its first: significantly up, down, or not, with the test's interval."""
    c = um.comparisons
    row = c[c["family"] == "first_last"]
    if row.empty:
        return None
    r = row.iloc[0]
    word = {STABLE: "niet significant veranderd", HIGHER: "significant gestegen", LOWER: "significant gedaald"}[_direction(r)]
    detail = _interval_detail(r, "first_last", fmt or _plain)
    return f"Tussen {r.year_b} en {r.year_a} is de index van {subject} {word} ({detail})."


def pooled_sentence(um: stats.UnitMeans, subject: str) -> str | None:
    """Says which years are not shown on their own, and why.

    Examples
    --------
    >>> um = stats.UnitMeans("school", "s", None, 0.95, 10, pd.DataFrame(
    ...     {"year": ["totaal"], "group": ["unit"], "suppressed": [False]}), pd.DataFrame(), [2023, 2024], [2025])
    >>> print(pooled_sentence(um, "uw school"))
    In 2023 en 2024 was het aantal leerlingen van uw school telkens kleiner dan 10; die leerlingen tellen mee in de cijfers over de hele periode, maar die jaren worden niet apart getoond. Om te voorkomen dat zo'n klein jaar uit de andere cijfers is terug te rekenen, wordt ook 2025 niet apart getoond.
    """
    if um.below_threshold or not (um.pooled_years or um.protecting_years):
        return None
    n = nl_number(um.min_cell)
    out = []
    if um.pooled_years:
        years = nl_list([str(y) for y in um.pooled_years])
        one = len(um.pooled_years) == 1
        out.append(f"In {years} was het aantal leerlingen van {subject} {'' if one else 'telkens '}kleiner dan {n}; die "
                   "leerlingen tellen mee in de cijfers over de hele periode, maar "
                   + ("het jaar wordt" if one else "die jaren worden") + " niet apart getoond.")
    if um.protecting_years:
        years = nl_list([str(y) for y in um.protecting_years])
        verb = "wordt" if len(um.protecting_years) == 1 else "worden"
        out.append(f"Om te voorkomen dat zo'n klein jaar uit de andere cijfers is terug te rekenen, {verb} ook {years} "
                   "niet apart getoond.")
    return " ".join(out)


def coverage_sentence(coverage: stats.BoardCoverage, name, min_cell: int, span: str) -> str:
    """What a board's figures count, in words: its schools' reports and nothing more (see :func:`oml.stats.units.board_coverage`).

    ``name(school_id)`` gives a school's name. No counts: which schools and years, never how many pupils.

    Examples
    --------
    >>> c = stats.BoardCoverage("B", ("a",), ("b",), {"a": (2024, 2025)}, {})
    >>> print(coverage_sentence(c, str.upper, 10, "2023–2025").split(". ", 2)[2])
    B telt niet mee (minder dan 10 leerlingen over 2023–2025). Alleen in de cijfers over de hele periode, niet in die van het jaar zelf, tellen mee: 2024 en 2025 van A.
    """
    n = nl_number(min_cell)
    out = ["De cijfers van uw bestuur tellen precies wat de rapporten van zijn scholen laten zien: per jaar de jaren die "
           "een school in haar eigen rapport apart toont, over de hele periode alle leerlingen van die scholen.",
           f"Zo kan niemand, door rapporten naast elkaar te leggen, iets terugrekenen over een school of jaar met minder "
           f"dan {n} leerlingen."]
    if coverage.small:
        verb = "telt" if len(coverage.small) == 1 else "tellen"
        out.append(f"{nl_list([name(x) for x in coverage.small])} {verb} niet mee (minder dan {n} leerlingen over {span}).")

    def which(per_school: dict) -> tuple[str, bool]:
        parts = [f"{nl_list([str(y) for y in years])} van {name(x)}" for x, years in per_school.items()]
        return "; ".join(parts), sum(len(years) for years in per_school.values()) > 1

    if coverage.period_only:
        what, many = which(coverage.period_only)
        out.append(f"Alleen in de cijfers over de hele periode, niet in die van het jaar zelf, {'tellen' if many else 'telt'} "
                   f"mee: {what}.")
    if coverage.not_counted:
        what, many = which(coverage.not_counted)
        out.append(f"Helemaal niet mee {'tellen' if many else 'telt'}: {what} (in het rapport van de school niet apart "
                   "getoond, terwijl een ander niet apart getoond jaar van de school bij een ander bestuur hoort).")
    return " ".join(out)


def funnel_sentence(pos: stats.FunnelPosition, subject: str, period=None) -> str:
    """Where the unit lies in the funnel, in words, in agreement with the period test against Limburg.

    ``period`` is that test (the ``period``/``limburg`` row of ``UnitMeans.comparisons``). The funnel asks
    whether the school stands out among schools of its size; the test whether its pupils score differently
    from Limburg's. The sentence names both where they differ, and never calls a difference the test finds
    significant chance or "geen duidelijk verschil".

    Examples
    --------
    >>> limits = stats.funnel_limits(0.0, 1.0, [50], between_var=0.04)
    >>> pos = stats.FunnelPosition(50, 0.3, 0.0, 1.0, limits, "inside", HIGHER, 0.04)
    >>> print(funnel_sentence(pos, "uw school", pd.Series({"estimate": 0.3, "significant": True})))
    In de trechterfiguur ligt uw school binnen de 95%-grenzen: de index is wel significant hoger dan het Limburgse gemiddelde, maar het verschil is niet groter dan scholen van deze grootte gewoonlijk van elkaar verschillen.
    """
    word = "hoger" if pos.direction == HIGHER else "lager"
    inner, outer = (_level_words(r.level) for r in pos.limits.itertuples())
    significant = bool(period is not None and period["significant"])
    if pos.position == "inside":
        if significant:
            return (f"In de trechterfiguur ligt {subject} binnen de {inner}-grenzen: de index is wel significant {word} dan "
                    "het Limburgse gemiddelde, maar het verschil is niet groter dan scholen van deze grootte gewoonlijk "
                    "van elkaar verschillen.")
        return (f"In de trechterfiguur ligt {subject} binnen de {inner}-grenzen: de afwijking van het Limburgse gemiddelde "
                "is niet groter dan scholen van deze grootte gewoonlijk van elkaar verschillen.")
    where = (f"buiten de {inner}-grenzen maar binnen de {outer}-grenzen" if pos.position == "between"
             else f"buiten de {outer}-grenzen")
    if not significant:
        return (f"In de trechterfiguur ligt {subject} {where} ({word} dan het Limburgse gemiddelde), maar het verschil met "
                "Limburg is niet significant: met dit aantal leerlingen is de schatting te onzeker voor een conclusie.")
    if pos.position == "between":
        return (f"In de trechterfiguur ligt {subject} {where} ({word} dan het Limburgse gemiddelde): {subject} valt op "
                "tussen scholen van deze grootte, een signaal om verder te bekijken.")
    return (f"In de trechterfiguur ligt {subject} {where}: de index is duidelijk {word} dan bij scholen van deze grootte "
            "gewoonlijk voorkomt.")


BOARD_TESTS = ("Bij het bestuur houden de toetsen en intervallen er rekening mee dat de leerlingen in scholen zitten, en dat "
               "scholen ook zonder verschil tussen besturen van elkaar verschillen. Een bestuur wijkt dus pas significant af als zijn "
               "scholen samen meer afwijken dan scholen gewoonlijk doen; bij een school gaan de toetsen over de leerlingen "
               "van die school. Daardoor kan een school wel significant afwijken en het bestuur niet.")


def _period_row(um: stats.UnitMeans, ref: str):
    """The period test of the unit against ``ref`` (a row of ``UnitMeans.comparisons``), or ``None``."""
    c = um.comparisons
    row = c[(c["family"] == "period") & (c["group_b"] == ref)]
    return None if row.empty else row.iloc[0]


# ----------------------------------------------------------------------------- the first paragraph
PERIOD_FAMILY = "period"  # the family of a unit's test over the whole period (UnitMeans.comparisons)
#: How the first paragraph words a tested comparison: "duidelijk" is "significant" in the tests below it.
_COMPARED = {HIGHER: "duidelijk positiever", LOWER: "duidelijk minder positief", STABLE: "niet duidelijk anders"}
_CHANGED = {HIGHER: "duidelijk positiever geworden", LOWER: "duidelijk minder positief geworden",
            STABLE: "niet duidelijk veranderd"}


@dataclass(frozen=True)
class Claim:
    """One comparison the first paragraph states: the test (a row of ``UnitMeans.comparisons``) and its outcome.

    ``family`` is ``period`` (``reference`` LIMBURG or REGION) or ``first_last`` (``reference`` empty).
    """

    family: str
    reference: str
    direction: Direction


def message_claims(um: stats.UnitMeans) -> list[Claim]:
    """What the first paragraph says, as data: the period tests against Limburg and the region, and the trend.

    Each claim is the outcome of the test the tables show (the period rows and the first–last row of
    ``um.comparisons``), so the paragraph cannot say anything the tables do not. Empty when the unit's own
    figures are not shown.

    Examples
    --------
    >>> c = pd.DataFrame({"family": ["period", "first_last"], "group_b": ["limburg", "unit"],
    ...                   "estimate": [0.3, -0.1], "significant": [True, False]})
    >>> um = stats.UnitMeans("school", "s", None, 0.95, 10, pd.DataFrame({"year": ["totaal"], "group": ["unit"],
    ...                      "suppressed": [False]}), c)
    >>> [(x.family, x.reference, str(x.direction.value)) for x in message_claims(um)]
    [('period', 'limburg', 'higher'), ('first_last', '', 'stable')]
    """
    if um.below_threshold:
        return []
    out = [Claim("period", ref, _direction(r)) for ref in (LIMBURG, REGION) if (r := _period_row(um, ref)) is not None]
    c = um.comparisons
    row = c[c["family"] == "first_last"]
    if not row.empty:
        out.append(Claim("first_last", "", _direction(row.iloc[0])))
    return out


def message(um: stats.UnitMeans, kind: str, span: str, min_cell: int) -> str:
    """The report's first paragraph: in one or two plain sentences, how the unit compares and whether it changed.

    Built from :func:`message_claims` only: "duidelijk" where the test is significant, "niet duidelijk" where it
    is not; the definition is given under the paragraph.

    Examples
    --------
    >>> c = pd.DataFrame({"family": ["period", "period", "first_last"], "group_b": ["limburg", "region", "unit"],
    ...                   "estimate": [0.3, 0.1, -0.1], "significant": [True, False, False], "year_a": ["totaal",
    ...                   "totaal", 2025], "year_b": ["totaal", "totaal", 2023]})
    >>> um = stats.UnitMeans("school", "s", "Parkstad Limburg", 0.95, 10, pd.DataFrame({"year": ["totaal"],
    ...                      "group": ["unit"], "suppressed": [False]}), c)
    >>> print(message(um, "school", "2023–2025", 10))
    De leerlingen van uw school oordelen over 2023–2025 duidelijk positiever over hun leraren dan gemiddeld in Limburg, en niet duidelijk anders dan gemiddeld in de regio Parkstad Limburg. Tussen 2023 en 2025 is hun oordeel niet duidelijk veranderd.
    """
    who = "De leerlingen van uw school" if kind == "school" else "De leerlingen van de scholen van uw bestuur"
    if um.below_threshold:
        refs = f"de regio {um.region} en in Limburg" if um.region else "Limburg"
        if kind == "school":
            return (f"Over {span} hebben minder dan {nl_number(min_cell)} leerlingen van uw school de vragenlijst ingevuld: "
                    f"te weinig voor eigen cijfers. Dit rapport laat daarom alleen zien hoe leerlingen in {refs} oordelen.")
        return (f"Geen school van uw bestuur heeft over {span} genoeg leerlingen (minstens {nl_number(min_cell)}) voor eigen "
                f"cijfers. Dit rapport laat daarom alleen zien hoe leerlingen in {refs} oordelen.")
    claims = {(x.family, x.reference): x.direction for x in message_claims(um)}
    first = ""
    if (PERIOD_FAMILY, LIMBURG) in claims:
        d = claims[(PERIOD_FAMILY, LIMBURG)]
        first = f"{who} oordelen over {span} {_COMPARED[d]} over hun leraren dan gemiddeld in Limburg"
        if (PERIOD_FAMILY, REGION) in claims:
            r = claims[(PERIOD_FAMILY, REGION)]
            first += (f" en in de regio {um.region}" if r == d else
                      f", en {_COMPARED[r]} dan gemiddeld in de regio {um.region}")
        first += "."
    c = um.comparisons
    row = c[c["family"] == "first_last"]
    if ("first_last", "") in claims:
        r = row.iloc[0]
        second = f"Tussen {r.year_b} en {r.year_a} is hun oordeel {_CHANGED[claims[('first_last', '')]]}."
    else:
        second = ("Of hun oordeel in deze periode veranderde, is niet te toetsen: er is niet meer dan één jaar met genoeg "
                  "leerlingen om apart te tonen.")
    return " ".join(x for x in (first, second) if x)


MESSAGE_KEY = ("«Duidelijk» betekent hier: significant in de toetsen verderop in dit rapport (de tabel met verschillen). "
               "«Niet duidelijk» betekent dat de toets geen verschil kan aantonen; dat is iets anders dan «gelijk».")


# ----------------------------------------------------------------------------- where the unit differs most
@dataclass(frozen=True)
class StatementGap:
    """One statement's share agreeing, the unit's and Limburg's, both as the report shows them (percent)."""

    item: str
    own: float
    limburg: float

    @property
    def difference(self) -> float:
        return self.own - self.limburg


def statement_gaps(own: pd.DataFrame, limburg: pd.DataFrame, skip=()) -> list[StatementGap]:
    """Every statement whose share agreeing the report shows for both the unit and Limburg, largest difference first.

    Only shown cells take part (a hidden share is never used, so nothing hidden can be read from the order), and
    only statements whose two shares differ as shown (rounded to whole percents). Ties keep the statements' order.

    Examples
    --------
    >>> own = pd.DataFrame({"item": ["a", "b", "c"], "category": "eens", "percent": [50.0, 70.0, None],
    ...                     "suppressed": [False, False, True]})
    >>> lim = own.assign(percent=[60.0, 69.0, 70.0], suppressed=False)
    >>> [(g.item, g.difference) for g in statement_gaps(own, lim)]
    [('a', -10.0), ('b', 1.0)]
    """
    def shown(frame):
        rows = frame[(frame["category"] == AGREE) & ~frame["suppressed"].astype(bool) & frame["percent"].notna()]
        return dict(zip(rows["item"], rows["percent"].astype(float)))

    mine, theirs = shown(own), shown(limburg)
    gaps = [StatementGap(item, mine[item], theirs[item]) for item in dict.fromkeys(own["item"])
            if item in mine and item in theirs and item not in skip
            and nl_number(mine[item]) != nl_number(theirs[item])]
    return sorted(gaps, key=lambda g: -abs(g.difference))


def guide_text(level: float) -> str:
    """The reading guide under a report's diamond figure: what the lines are, and where the tests are.

    Not the public figures' guide (:func:`oml.report.text.leeswijzer`): in a report the overlap rule of thumb
    would contradict the tests the sentences report, so it is not offered.

    Examples
    --------
    >>> "Of twee lijnen overlappen, zegt niet" in guide_text(0.95)
    True
    """
    controls = nl_list([VARIABLE_LABELS[c] for c in stats.CONTROLS])
    return ("**Leeswijzer.** De nullijn is het gemiddelde over alle scholen en alle jaren; elke markering laat zien "
            "hoeveel een jaar of groep daarvan afwijkt (in standaarddeviaties); elke groep heeft een eigen vorm en kleur. "
            f"De lijnen door de markeringen zijn {_level_words(level)}-"
            "betrouwbaarheidsintervallen: hoe langer de lijn, hoe onzekerder de schatting, bijvoorbeeld omdat er weinig "
            "leerlingen zijn of hun antwoorden sterk uiteenlopen. Of twee lijnen overlappen, zegt niet of het verschil "
            "significant is: een sterretje markeert de verschillen die in de toets significant zijn, en de tabel met "
            f"verschillen geeft elk verschil met het interval van zijn toets. De gemiddelden zijn gecorrigeerd voor {controls}.")


#: A report's figures are portrait: at a phone's column width (about 335 CSS px) the SVG is drawn at about its own
#: size (4,2 in = 403 CSS px), so the figures' 11-pt text (oml.report.plotting.MIN_FONT) stays above 11 CSS px;
#: on a wide screen the report caps their width (CSS). tests/access/test_report_phone.py measures it in Chromium.
REPORT_FIGSIZE = (4.2, 5.2)


def _portrait_axes():
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=REPORT_FIGSIZE)[1]


def _stack_legend(ax, below: float) -> float:
    """Redraw the legend under the axes, one entry per line (the plotting functions lay it out in a row for a wide
    figure: in a portrait one, two columns already cut off "99,8%-grenzen" and "* significant verschil").

    Returns the bottom margin (a fraction of the figure's height) that holds the tick labels, the axis label
    (``below`` under -0.1 means there is one) and the legend.
    """
    legend = ax.get_legend()
    rows = 0
    if legend is not None:
        labels = [t.get_text() for t in legend.get_texts()]
        rows = len(labels)
        ax.legend(legend.legend_handles, labels, loc="upper center", bbox_to_anchor=(0.5, below), ncol=1, frameon=False)
    # At REPORT_FIGSIZE one 11-pt legend line is about 0,05 of the height, the tick labels about 0,07.
    return 0.075 + 0.05 * rows + (0.05 if below < -0.1 else 0.0)


def funnel_axes(pos: stats.FunnelPosition, label: str, reference: str = "Limburg"):
    """The funnel figure of ONE unit (:func:`oml.report.plotting.funnel_plot` with the unit's own limits), portrait.

    Its legend is laid out for a wide figure; the report stacks it (:func:`_stack_legend`).
    """
    ax = plotting.funnel_plot(pos.target, pos.sd, pos.n, pos.estimate, ax=_portrait_axes(),
                              levels=tuple(pos.limits["level"].unique()), label=label, reference=reference,
                              between_var=pos.between_var)
    return ax


# ----------------------------------------------------------------------------- date, edition, source
def made_on() -> datetime.date:
    """The date a report is made: today (UTC), or the date of ``SOURCE_DATE_EPOCH`` when set (reproducible builds).

    Examples
    --------
    >>> os.environ["SOURCE_DATE_EPOCH"] = "1764633600"; made_on(); del os.environ["SOURCE_DATE_EPOCH"]
    datetime.date(2025, 12, 2)
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    now = datetime.datetime.fromtimestamp(int(epoch), datetime.UTC) if epoch else datetime.datetime.now(datetime.UTC)
    return now.date()


_FINGERPRINTS: dict[int, tuple[pd.DataFrame, str]] = {}


def data_fingerprint(frame: pd.DataFrame) -> str:
    """The edition's data mark: the first 12 hex digits of a SHA-256 over the analysed table's content.

    Two reports with the same mark rest on the same data. Kept per frame object (the build's warm process
    computes it once, before the reports fork: :func:`warm`).

    Examples
    --------
    >>> data_fingerprint(pd.DataFrame({"a": [1, 2]})) == data_fingerprint(pd.DataFrame({"a": [1, 2]}))
    True
    """
    known = _FINGERPRINTS.get(id(frame))
    if known is not None and known[0] is frame:
        return known[1]
    values = pd.util.hash_pandas_object(frame[sorted(frame.columns)], index=False).to_numpy()
    mark = hashlib.sha256(values.tobytes()).hexdigest()[:12]
    _FINGERPRINTS[id(frame)] = (frame, mark)
    return mark


def data_source(frame: pd.DataFrame, synthetic: bool) -> str:
    """Where a report's numbers come from, in words (the delivery's files when the data came as a delivery).

    Examples
    --------
    >>> data_source(pd.DataFrame(), True).startswith("Synthetische gegevens")
    True
    """
    if synthetic:
        return ("Synthetische gegevens van het project ‘Sociale relaties met leraren — living report’: nagemaakt naar "
                "de factsheet van de OnderwijsMonitor Limburg; geen echte leerlingen, scholen of besturen.")
    from oml.data.delivery import delivery_of

    delivery = delivery_of(frame)
    files = f" (bestanden: {nl_list([f.name for f in delivery.files])})" if delivery is not None and delivery.files else ""
    return f"OnderwijsMonitor Limburg (Universiteit Maastricht): vragenlijst voor leerlingen van groep 8{files}."


# ----------------------------------------------------------------------------- the report
@dataclass
class Section:
    """One unit's part of a report (the school, the board, or a school in a board report)."""

    kind: str
    unit: str
    name: str
    subject: str  # "uw school", "deze school", "uw bestuur"
    means: stats.UnitMeans
    answers: pd.DataFrame  # the unit's shares (suppressed)
    funnel: stats.FunnelPosition | None


@dataclass
class FeedbackReport:
    """Everything one report shows, computed; :meth:`blocks` lays it out as HTML."""

    kind: str
    unit: str
    name: str
    span: str
    level: float
    min_cell: int
    synthetic: bool
    pub: PrivatePublisher
    main: Section
    limburg_answers: pd.DataFrame
    schools: list[Section] = field(default_factory=list)  # board report: schools meeting the threshold
    small_schools: list[str] = field(default_factory=list)  # board report: names of the others
    school_figures: bool = False  # board report: figures in every school's part too (costs time)
    _figures: int = 0
    #: The statements' wording and answer labels the report may print (the data's delivery first).
    words: codebook.Words = field(default_factory=lambda: codebook.Words(None, synthetic=True))
    #: Statement -> years of the report's span in which it was not asked (:func:`oml.data.codebook.not_asked`).
    not_asked: dict[str, list[int]] = field(default_factory=dict)
    years: list[int] = field(default_factory=list)  # the years of the span
    school_names: dict[str, str] = field(default_factory=dict)  # board report: school id -> name, for what it counts
    small_ids: list[str] = field(default_factory=list)  # board report: ids of the schools with too few pupils
    made: datetime.date = field(default_factory=made_on)  # the date the report was made
    edition: str = ""  # the data mark of the edition (data_fingerprint)
    source: str = ""  # where the numbers come from, in words (data_source)

    # --------------------------------------------------------------------- helpers
    def _fmt(self, prefix: str):
        def fmt(key, value, decimals=0):
            return self.pub.number(f"{prefix}/{key}", value, decimals)
        return fmt

    def _svg(self, ax, alt: str, bottom: float) -> str:
        self._figures += 1
        # Fixed margins (room for the legend under the axes) instead of a tight bounding box: one draw, not two.
        # The left margin holds the y label and tick labels of a portrait figure (REPORT_FIGSIZE).
        ax.figure.subplots_adjust(left=0.2, right=0.96, top=0.97, bottom=bottom)
        svg = plotting.svg_string(ax.figure, f"fig{self._figures}", tight=False)
        # The figure is an image with its alt text for screen readers; its text is in the sentences and table.
        return svg.replace("<svg ", f'<svg role="img" aria-label="{_e(" ".join(alt.split()))}" ', 1)

    def _figure(self, ax, alt: str, caption: str, bottom: float = 0.22) -> str:
        return f'<figure class="oml-figure">{self._svg(ax, alt, bottom)}<figcaption>{_e(caption)}</figcaption></figure>'

    # --------------------------------------------------------------------- blocks
    def header(self) -> str:
        """Title, the first paragraph (:func:`message`), the synthetic notice, and what the report is."""
        who = "de school" if self.kind == "school" else "het bestuur"
        out = [f'<header><p class="oml-kicker">OnderwijsMonitor Limburg · digitale terugkoppeling</p>'
               f"<h1>Sociale relaties met leraren: {_e(self.name)}</h1>"
               f'<p class="oml-sub">Groep 8, {_e(self.span)}. Rapport voor {who}'
               + (f" (code {_e(self.unit)})" if self.name != self.unit else "")
               + f". Vertrouwelijk. Gemaakt op {_e(nl_date(self.made))}.</p></header>"]
        out.append(f'<p class="oml-message">{_e(message(self.main.means, self.kind, self.span, self.min_cell))}</p>')
        if not self.main.means.below_threshold:
            out.append(f'<p class="oml-legend">{_e(MESSAGE_KEY)}</p>')
        if self.synthetic:
            out.append('<div class="oml-notice" role="note"><strong>Synthetische gegevens.</strong> Dit rapport is gemaakt '
                       "met nagemaakte gegevens om te laten zien hoe de terugkoppeling werkt. De school, het bestuur en alle "
                       "cijfers zijn verzonnen; het zijn geen resultaten van de OnderwijsMonitor Limburg.</div>")
        scope = ("uw school naast uw regio en heel Limburg" if self.kind == "school" else
                 "uw bestuur naast heel Limburg, en daarna elke school van het bestuur met genoeg leerlingen")
        out.append(f"<p>Dit rapport toont de sociale relaties met leraren zoals leerlingen van groep 8 die ervaren, voor "
                   f"{scope}. Er staan geen cijfers van andere scholen in. Cijfers over minder dan "
                   f"{nl_number(self.min_cell)} leerlingen worden niet getoond. Wie het rapport mag gebruiken en hoe, staat "
                   "onderaan bij ‘Over dit rapport’.</p>")
        return "\n".join(out)

    def summary(self) -> str:
        """'In het kort': the test-based sentences of the main unit."""
        s = self.main
        if s.means.below_threshold:
            return "<section><h2>In het kort</h2>" + self._below(s) + "</section>"
        items = self._sentences(s)
        return "<section><h2>In het kort</h2><ul>" + "".join(f"<li>{_e(x)}</li>" for x in items) + "</ul></section>"

    def _sentences(self, s: Section) -> list[str]:
        fmt = self._fmt(s.unit)
        out = [period_sentence(s.means, LIMBURG, s.subject, self.span, fmt)]
        if s.means.region is not None:
            out.append(period_sentence(s.means, REGION, s.subject, self.span, fmt))
        out += [yearly_sentence(s.means, LIMBURG, s.subject), trend_sentence(s.means, s.subject, fmt),
                pooled_sentence(s.means, s.subject)]
        if s.funnel is not None:
            out.append(funnel_sentence(s.funnel, s.subject, _period_row(s.means, LIMBURG)))
        if s.means.coverage is not None and not s.means.below_threshold:  # a board: what its tests ask
            out.append(BOARD_TESTS)
        return [x for x in out if x]

    def _school_name(self, school: str) -> str:
        return self.school_names.get(school, school)

    def _below(self, s: Section) -> str:
        refs = f"de regio {s.means.region} en Limburg" if s.means.region else "Limburg"
        if s.means.coverage is not None:  # a board: its figures count only what its schools' reports show
            return (f'<p class="oml-below">Geen school van {_e(s.subject)} heeft over {_e(self.span)} genoeg leerlingen '
                    f"(minstens {nl_number(self.min_cell)}) voor eigen cijfers. De cijfers van een bestuur tellen alleen wat "
                    "de rapporten van zijn scholen laten zien, zodat niemand daaruit de cijfers van een kleine school kan "
                    f"terugrekenen. Daarom toont dit rapport geen cijfers van {_e(s.subject)}; u ziet alleen {_e(refs)}.</p>")
        return (f'<p class="oml-below">Over {_e(self.span)} hebben minder dan {nl_number(self.min_cell)} leerlingen van '
                f"{_e(s.subject)} de vragenlijst (voldoende) ingevuld. Om hen niet herkenbaar te maken, toont dit rapport "
                f"geen cijfers van {_e(s.subject)}; u ziet alleen {_e(refs)}.</p>")

    def index_block(self, s: Section, level: int = 2, figure: bool = True) -> str:
        """The adjusted index per year: diamond figure (unit, region, Limburg), table and reading guide."""
        um = s.means
        labels = {UNIT: _short(s), REGION: um.region or "", LIMBURG: "Limburg"}
        yearly = um.yearly()
        shown = yearly if not um.below_threshold else yearly[yearly["group"] != UNIT]
        drawn = shown.assign(group=shown["group"].map(labels))
        comps = um.comparisons[um.comparisons["family"] != "period"].copy()
        comps["group_a"], comps["group_b"] = comps["group_a"].map(labels), comps["group_b"].map(labels)
        comps["year_a"], comps["year_b"] = comps["year_a"].astype(int), comps["year_b"].astype(int)
        for r in um.table.itertuples(index=False):
            if r.group == UNIT and um.below_threshold:
                continue
            key = f"index/{r.year}/{r.group}"
            for c, d in (("estimate", 2), ("ci_low", 2), ("ci_high", 2), ("se", 3)):
                self.pub.record(f"{s.unit}/{key}/{c}", getattr(r, c), nl_number(getattr(r, c), d))
            if r.group == UNIT:
                self.pub.record(f"{s.unit}/{key}/n", r.n, nl_number(r.n))
        groups = nl_list([labels[g] for g in dict.fromkeys(shown["group"])])
        values = drawn["estimate"].dropna()
        alt = (f"Diamantfiguur met per jaar de gecorrigeerde index met betrouwbaarheidsinterval voor {groups}. "
               f"De geschatte afwijkingen liggen tussen {nl_number(values.min(), 2)} en {nl_number(values.max(), 2)}.")
        caption = (f"Sociale relaties met leraren per jaar, {groups}: gecorrigeerde afwijking van het gemiddelde met "
                   f"{nl_number(self.level * 100)}%-betrouwbaarheidsinterval.")
        h = f"h{level}"
        out = [f"<{h}>De index per jaar</{h}>"]
        if um.below_threshold:
            out.append(self._below(s))
        if figure:
            # The unit has no entity of its own in the site's map: it takes the funnel's "unit" style.
            ax = plotting.diamond_plot(drawn, comps, ax=_portrait_axes(), level=self.level,
                                       styles={labels[UNIT]: plotting.group_style("unit")})
            bottom = _stack_legend(ax, -0.06)
            # A school's intervals are wide: ticks at 1-2-5 steps, so one decimal never rounds a tick (0,25 -> 0,2).
            ax.yaxis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 5, 10]))
            out.append(self._figure(ax, alt, caption, bottom))
        out.append(self._index_table(s, labels))
        if not um.below_threshold:
            out.append(self._difference_table(s, labels))
        if figure:
            out.append(f'<p class="oml-guide">{_md_bold(guide_text(self.level))}</p>')
        note = pooled_sentence(um, s.subject)
        if note:
            out.append(f"<p>{_e(note)}</p>")
        if um.coverage is not None and not um.below_threshold:
            out.append(f"<p>{_e(coverage_sentence(um.coverage, self._school_name, self.min_cell, self.span))}</p>")
        return "\n".join(out)

    def _index_table(self, s: Section, labels: dict) -> str:
        um = s.means
        groups = [g for g in (UNIT, REGION, LIMBURG) if g in set(um.table["group"]) and not (g == UNIT and um.below_threshold)]
        head = "".join(f"<th scope=\"col\">{_e(labels[g])}</th>" for g in groups)
        if UNIT in groups:
            head += '<th scope="col">Leerlingen</th>'
        rows = []
        for year in [*um.years, PERIOD]:
            cells = [f"<td>{_ci(um.cell(year, g))}</td>" for g in groups]
            if UNIT in groups:
                cells.append(f"<td>{nl_number(um.cell(year, UNIT).n)}</td>")
            label = self.span if year == PERIOD else str(year)
            rows.append(f'<tr><th scope="row">{_e(label)}</th>{"".join(cells)}</tr>')
        legend = ""
        if um.table.loc[um.table["group"].isin(groups), "suppressed"].any():
            legend = f'<p class="oml-legend">{SUPPRESSED} = niet getoond: gebaseerd op minder dan {nl_number(self.min_cell)} leerlingen.</p>'
        caption = (f"Gecorrigeerde index (afwijking van het gemiddelde in standaarddeviaties) met "
                   f"{_level_words(self.level)}-betrouwbaarheidsinterval.")
        if UNIT in groups and len(groups) > 1:
            caption += " Of twee intervallen hier overlappen, is geen toets: de verschillen staan in de tabel hieronder."
        return (f'<table class="oml-table"><caption>{_e(caption)}</caption><thead><tr><th scope="col">Jaar</th>{head}</tr></thead>'
                f"<tbody>{''.join(rows)}</tbody></table>{legend}")

    def _difference_table(self, s: Section, labels: dict) -> str:
        """The unit minus each reference, per year and over the period: the tests the sentences report, with the
        interval of each test (per year Bonferroni-corrected), so that a difference is called significant exactly
        when its interval leaves out 0."""
        um = s.means
        c = um.comparisons
        refs = [g for g in (LIMBURG, REGION) if g in set(c["group_b"])]
        if not refs:
            return ""
        fmt = self._fmt(s.unit)
        found = {(str(r.year_a), r.group_b): r for r in c[c["family"].isin([*refs, "period"])].itertuples(index=False)}
        verdict = {HIGHER: "hoger", LOWER: "lager", STABLE: "niet significant"}
        head = "".join(f'<th scope="col">Verschil met {_e(labels[g])}</th><th scope="col">Uitkomst</th>' for g in refs)
        rows = []
        for year in [*um.years, PERIOD]:
            cells = []
            for g in refs:
                r = found.get((str(year), g))
                if r is None:
                    cells.append(f"<td>{SUPPRESSED}</td><td></td>")
                    continue
                key = f"difference/{year}/{g}"
                est, low, high = text.estimate_interval(float(r.estimate), float(r.ci_low), float(r.ci_high), 2, fmt=fmt,
                                                        keys=(f"{key}/estimate", f"{key}/ci_low", f"{key}/ci_high"))
                cells.append(f"<td>{_with_interval(est, low, high)}</td><td>{verdict[_direction(r)]}</td>")
            label = self.span if year == PERIOD else str(year)
            rows.append(f'<tr><th scope="row">{_e(label)}</th>{"".join(cells)}</tr>')
        yearly = c[c["family"].isin(refs)]
        per_year = sorted({(int(round(r.ci_level * 1e6)), len(yearly[yearly["group_b"] == r.group_b]))
                           for r in yearly.itertuples(index=False)})
        parts = [f"per jaar {_level_words(lvl / 1e6)}" + (f" (Bonferroni-correctie voor {nl_number(m)} jaren)" if m > 1 else "")
                 for lvl, m in per_year]
        parts.append(f"over {self.span} {_level_words(self.level)}")
        caption = (f"Verschil van {s.subject} met " + nl_list([labels[g] for g in refs]) + " in standaarddeviaties, met het "
                   "betrouwbaarheidsinterval dat bij de toets hoort: " + "; ".join(parts) + ". Een verschil is significant "
                   "als het interval 0 niet bevat.")
        legend = ""
        if any(f"<td>{SUPPRESSED}</td>" in r for r in rows):
            legend = (f'<p class="oml-legend">{SUPPRESSED} = geen vergelijking: het jaar van {_e(s.subject)} of de '
                      "vergelijkingsgroep wordt niet getoond.</p>")
        return (f'<table class="oml-table oml-differences"><caption>{_e(caption)}</caption><thead><tr><th scope="col">Jaar'
                f"</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{legend}")

    def answers_block(self, s: Section, level: int = 2) -> str:
        """Shares (dis)agreeing per statement, the unit next to Limburg, over the period."""
        h = f"h{level}"
        show_unit = not s.means.below_threshold
        fmt = self._fmt(s.unit)
        items = list(dict.fromkeys(self.limburg_answers["item"]))
        cats = list(stats.CATEGORY_ANSWERS)
        names = {"oneens": "(helemaal) oneens (1–2)", "neutraal": "neutraal (3)", "eens": "(helemaal) eens (4–5)"}
        head = ""
        if show_unit:
            head += "".join(f'<th scope="col">{_e(_short(s))}: {_e(names[c])}</th>' for c in cats)
        head += "".join(f'<th scope="col">Limburg: {_e(names[c])}</th>' for c in cats)
        rows = []
        own = {(r.item, r.category): r.percent for r in s.answers.itertuples(index=False)}
        limburg = {(r.item, r.category): r.percent for r in self.limburg_answers.itertuples(index=False)}
        never = self._never_asked()
        for item in items:
            cells = []
            if item in never:  # no year of the span asked it: nothing to show, nothing hidden
                cells = [f"<td>{NOT_ASKED}</td>"] * (len(cats) * (2 if show_unit else 1))
            if show_unit and item not in never:
                for c in cats:
                    value = own[(item, c)]
                    cells.append(f"<td>{fmt(f'answers/{item}/{c}', value, 0)}{PCT if pd.notna(value) else ''}</td>")
            for c in cats if item not in never else []:
                value = limburg[(item, c)]
                shown = self.pub.number(f"limburg/answers/{item}/{c}", value, 0)
                cells.append(f"<td>{shown}{PCT if pd.notna(value) else ''}</td>")
            rows.append(f'<tr><th scope="row">{_e(self.words.label(item))}</th>{"".join(cells)}</tr>')
        legend = ""
        if show_unit and s.answers.loc[~s.answers["item"].isin(never), "suppressed"].any():
            legend = (f'<p class="oml-legend">{SUPPRESSED} = niet getoond: gebaseerd op minder dan {nl_number(self.min_cell)} '
                      "leerlingen (of terug te rekenen uit de andere cijfers).</p>")
        coverage = s.means.coverage
        if show_unit and coverage is not None:  # a board: its answers add up what its schools' reports show
            note = ("De antwoorden van uw bestuur tellen de scholen met een eigen deel samen; wat daarmee uit de rapporten "
                    "van de scholen terug te rekenen zou zijn, wordt voor het bestuur niet getoond.")
            apart = [x for x in coverage.schools if x not in coverage.answer_schools]
            if apart:
                which = "die school" if len(apart) == 1 else "die scholen"
                note += (f" De antwoorden van {nl_list([self._school_name(x) for x in apart])} tellen niet mee: in deze "
                         f"periode hoorden leerlingen van {which} ook bij een ander bestuur.")
            legend += f'<p class="oml-legend">{_e(note)}</p>'
        if never:
            legend += f'<p class="oml-legend">{_e(NOT_ASKED_LEGEND.replace("in dat jaar", f"in {self.span}"))}</p>'
        partly = {i: ys for i, ys in self.not_asked.items() if i not in never}
        if partly:
            note = text.not_asked_sentence(partly, self.words.wording, "; de percentages rusten op de andere jaren")
            legend += f'<p class="oml-legend">{_e(note)}</p>'
        caption = f"Percentage leerlingen per antwoord op elke stelling, {self.span} samen."
        if any(self.words.illustrative(i) for i in items):
            legend += ('<p class="oml-legend">† Formulering ter illustratie: de factsheet beschrijft alleen de stellingen '
                       "over praten over problemen en je op je gemak voelen.</p>")
        return (f"<{h}>Antwoorden per stelling</{h}>"
                f'<table class="oml-table oml-answers{" oml-wide" if show_unit else ""}"><caption>{_e(caption)}</caption><thead><tr><th scope="col">Stelling</th>{head}</tr></thead>'
                f"<tbody>{''.join(rows)}</tbody></table>{legend}")

    def _fewer_statements(self) -> str:
        """Which years' index rests on fewer statements (a statement not asked), as a paragraph; "" when none."""
        items = list(dict.fromkeys(self.limburg_answers["item"]))
        sentence = text.fewer_statements_sentence(self.not_asked, items, self.words.wording, min_share_words())
        return f"<p>{_e(sentence)}</p>" if sentence else ""

    def _never_asked(self) -> set[str]:
        """The statements no year of the report's span asked."""
        span = set(self.years)
        return {i for i, ys in self.not_asked.items() if set(ys) >= span}

    def funnel_block(self, s: Section, level: int = 2, figure: bool = True) -> str:
        """Where the school stands given its size: the funnel with its own point only."""
        pos = s.funnel
        if pos is None:
            return ""
        h = f"h{level}"
        fmt = self._fmt(s.unit)
        fmt("funnel/n", pos.n)
        fmt("funnel/estimate", pos.estimate, 2)
        fmt("funnel/target", pos.target, 2)
        for r in pos.limits.itertuples():
            fmt(f"funnel/{r.level}/low", r.low, 2)
            fmt(f"funnel/{r.level}/high", r.high, 2)
        sentence = funnel_sentence(pos, s.subject, _period_row(s.means, LIMBURG))
        if not figure:
            return f"<{h}>Waar staat {_e(s.subject)}, gegeven het aantal leerlingen?</{h}><p>{_e(sentence)}</p>"
        ax = funnel_axes(pos, _short(s))
        bottom = _stack_legend(ax, -0.12)
        caption = (f"Trechterfiguur: de gecorrigeerde index van {s.subject} over {self.span} (punt) tegen het aantal "
                   "leerlingen, met de controlegrenzen rond het Limburgse gemiddelde; de grenzen houden rekening met de "
                   "gewone verschillen tussen scholen. Andere scholen staan niet in deze figuur.")
        alt = f"Trechterfiguur met één punt ({s.subject}) en de controlegrenzen rond het Limburgse gemiddelde. {sentence}"
        explain = ("Scholen verschillen van elkaar: door de leerlingen die er toevallig zitten, en doordat scholen nu eenmaal "
                   "niet gelijk zijn, ook als ze allemaal goed werk doen. De trechter laat zien hoe ver een school van deze "
                   "grootte van het Limburgse gemiddelde kan liggen zonder op te vallen tussen de scholen: hoe meer "
                   "leerlingen, hoe smaller de trechter, maar nooit smaller dan de gewone verschillen tussen scholen. Zo "
                   "beantwoordt de trechter een andere vraag dan de toets in ‘In het kort’: de toets zegt of de leerlingen "
                   "van uw school gemiddeld anders scoren dan die van heel Limburg, de trechter of dat verschil groter is "
                   "dan scholen onderling gewoonlijk verschillen.")
        return (f"<{h}>Waar staat {_e(s.subject)}, gegeven het aantal leerlingen?</{h}><p>{_e(explain)}</p>"
                + self._figure(ax, alt, caption, bottom) + f"<p>{_e(sentence)}</p>")

    def school_section(self, s: Section) -> str:
        """A school's part of a board report."""
        items = "".join(f"<li>{_e(x)}</li>" for x in self._sentences(s))
        return (f'<section class="oml-school"><h2>{_e(s.name)}</h2><h3>In het kort</h3><ul>{items}</ul>'
                + self.index_block(s, 3, self.school_figures) + self.answers_block(s, 3)
                + self.funnel_block(s, 3, self.school_figures) + "</section>")

    def schools_overview(self) -> str:
        """Board report: a table of its schools with what each school's own report shows, no more.

        Per school its pupils over the period, its difference with Limburg over the period with the test's interval
        and outcome, and the outcome of its first–last test: the same numbers (same keys) as the school's part below
        and its own report. A school with too few pupils is named with "te weinig leerlingen", without numbers.
        """
        if not self.schools and not self.small_schools:
            return ""
        verdict = {HIGHER: "hoger", LOWER: "lager", STABLE: "niet significant"}
        changed = {HIGHER: "gestegen", LOWER: "gedaald", STABLE: "niet significant"}
        rows = []
        for sec in self.schools:
            um, fmt = sec.means, self._fmt(sec.unit)
            n = fmt(f"index/{PERIOD}/{UNIT}/n", um.period(UNIT).n)
            r = _period_row(um, LIMBURG)
            if r is None:
                diff, outcome = SUPPRESSED, ""
            else:
                key = f"difference/{PERIOD}/{LIMBURG}"
                est, low, high = text.estimate_interval(float(r.estimate), float(r.ci_low), float(r.ci_high), 2, fmt=fmt,
                                                        keys=(f"{key}/estimate", f"{key}/ci_low", f"{key}/ci_high"))
                diff, outcome = _with_interval(est, low, high), verdict[_direction(r)]
            c = um.comparisons
            fl = c[c["family"] == "first_last"]
            trend = (f"{fl.iloc[0].year_b}–{fl.iloc[0].year_a}: {changed[_direction(fl.iloc[0])]}" if not fl.empty
                     else "niet te toetsen")
            rows.append(f'<tr><th scope="row">{_e(sec.name)}</th><td>{n}</td><td>{diff}</td><td>{outcome}</td>'
                        f"<td>{_e(trend)}</td></tr>")
        for name in self.small_schools:
            rows.append(f'<tr><th scope="row">{_e(name)}</th><td colspan="4" class="oml-left">te weinig leerlingen: geen '
                        "eigen cijfers</td></tr>")
        caption = (f"De scholen van het bestuur over {self.span}: wat het eigen rapport van elke school laat zien. Verschil "
                   f"met Limburg in standaarddeviaties met het {_level_words(self.level)}-betrouwbaarheidsinterval van de "
                   "toets; verandering: de toets van het laatste tegen het eerste getoonde jaar.")
        out = ["<section><h2>De scholen van het bestuur</h2>",
               f'<table class="oml-table oml-overview"><caption>{_e(caption)}</caption><thead><tr><th scope="col">School</th>'
               f'<th scope="col">Leerlingen</th><th scope="col">Verschil met Limburg</th><th scope="col">Uitkomst</th>'
               f'<th scope="col">Verandering</th></tr></thead><tbody>{"".join(rows)}</tbody></table>']
        if self.schools:
            out.append("<p>Hierna volgt een deel voor elke school van het bestuur met genoeg leerlingen.</p>")
        if self.small_schools:
            out.append(f"<p>‘Te weinig leerlingen’: minder dan {nl_number(self.min_cell)} over {_e(self.span)}. "
                       + ("Deze school telt" if len(self.small_schools) == 1 else "Deze scholen tellen")
                       + " ook niet mee in de cijfers van het bestuur: anders waren hun cijfers terug te rekenen door die "
                       "van de andere scholen ervan af te trekken.</p>")
        return "".join(out) + "</section>"

    # --------------------------------------------------------------------- statements and the next step
    def _gaps(self, s: Section) -> list[StatementGap]:
        return statement_gaps(s.answers, self.limburg_answers, skip=self._never_asked())

    def _comparable(self, s: Section) -> bool:
        """Whether any statement's share agreeing is shown for both the unit and Limburg."""
        never = self._never_asked()

        def shown(frame):
            rows = frame[(frame["category"] == AGREE) & ~frame["suppressed"].astype(bool) & ~frame["item"].isin(never)]
            return set(rows["item"])
        return bool(shown(s.answers) & shown(self.limburg_answers))

    def _statement(self, item: str) -> str:
        return "‘" + self.words.label(item).rstrip("†").strip() + "’"

    def _recommendation_link(self, item: str) -> str:
        recs = recommendations().for_statement(item)
        if not recs:
            return "Aan deze stelling is geen aanbeveling gekoppeld."
        words = nl_list([f"aanbeveling {r.number} (‘{r.title.rstrip('.')}’)" for r in recs])
        return f"Hoort bij {words}."

    def gaps_block(self, s: Section) -> str:
        """'Waar uw school het meest verschilt': the statements with the largest shown difference from Limburg."""
        if s.means.below_threshold:
            return ""
        gaps = self._gaps(s)[:MOST_GAPS]
        title = f"Waar {_e(s.subject)} het meest verschilt"
        if not gaps:
            why = ("Bij geen enkele stelling verschilt het getoonde aandeel leerlingen dat het (helemaal) eens is van dat in "
                   "Limburg." if self._comparable(s) else
                   f"Per stelling zijn er te weinig leerlingen per antwoord om het aandeel dat het (helemaal) eens is te tonen "
                   f"(minder dan {nl_number(self.min_cell)}, of terug te rekenen uit de andere cijfers); daarom is hier niets "
                   "te vergelijken. De index rust wel op alle leerlingen (zie ‘De index per jaar’).")
            return f"<section class=\"oml-gaps\"><h2>{title}</h2><p>{_e(why)}</p></section>"
        fmt = self._fmt(s.unit)
        items = []
        for g in gaps:
            own = fmt(f"answers/{g.item}/{AGREE}", g.own, 0)
            lim = self.pub.number(f"limburg/answers/{g.item}/{AGREE}", g.limburg, 0)
            more = "meer" if g.difference > 0 else "minder"
            items.append(f"<li><strong>{_e(self._statement(g.item))}</strong>: {own}{PCT} van de leerlingen is het (helemaal) "
                         f"eens, in Limburg {lim}{PCT} ({more} dan in Limburg). {_e(self._recommendation_link(g.item))}</li>")
        return (f"<section class=\"oml-gaps\"><h2>{title}</h2>"
                f"<p>De stellingen waarbij het aandeel leerlingen dat het (helemaal) eens is het meest afwijkt van Limburg, "
                f"over {_e(self.span)} samen, met de aanbeveling van het NRO waar de stelling over gaat:</p>"
                f"<ul>{''.join(items)}</ul>"
                "<p class=\"oml-legend\">Dit zijn de percentages uit de tabel ‘Antwoorden per stelling’. Ze zijn niet per stelling "
                "getoetst: bij weinig leerlingen kan een verschil van een paar procent ook zonder betekenis zijn. Alleen "
                "getoonde percentages tellen mee. Welke stelling bij welke aanbeveling hoort, is een keuze van de makers van "
                "dit rapport, niet van het NRO.</p></section>")

    def next_steps(self) -> str:
        """The next step that follows from this unit's result, then the guideline's six recommendations.

        The step: the recommendation of the statement on which the unit lags Limburg most (shown shares); when it
        lags on none, the guideline's "keep going" recommendation (``keep_going`` in the recommendations file).
        """
        guide = recommendations()
        s = self.main
        who = "uw school" if self.kind == "school" else "de scholen van uw bestuur"
        period = None if s.means.below_threshold else _period_row(s.means, LIMBURG)
        lagging = sorted((g for g in self._gaps(s) if g.difference < 0 and guide.for_statement(g.item)),
                         key=lambda g: g.difference) if not s.means.below_threshold else []
        step = []
        if s.means.below_threshold or not self._comparable(s):
            start = None
            what = "eigen cijfers" if s.means.below_threshold else "getoonde antwoorden per stelling"
            step.append(f"Voor {who} zijn er geen {what} om een aanbeveling uit af te leiden. Kies met het team de "
                        "aanbeveling die het best past bij wat u in de klas ziet.")
        elif lagging:
            g = lagging[0]
            start = guide.for_statement(g.item)[0]
            fmt = self._fmt(s.unit)
            own = fmt(f"answers/{g.item}/{AGREE}", g.own, 0)
            lim = self.pub.number(f"limburg/answers/{g.item}/{AGREE}", g.limburg, 0)
            step.append(f"Begin bij aanbeveling {start.number}: <strong>{_e(start.title)}</strong> Bij de stelling "
                        f"{_e(self._statement(g.item))} blijven de leerlingen van {who} het meest achter bij Limburg: {own}{PCT} "
                        f"is het (helemaal) eens, in Limburg {lim}{PCT}. Een voorbeeld: {_e(start.tip)}")
        else:
            start = guide.recommendations[guide.keep_going]
            step.append(f"Bij geen enkele getoonde stelling zijn de leerlingen van {who} het minder vaak eens dan in Limburg. "
                        f"Houd vast wat werkt, met aanbeveling {start.number}: <strong>{_e(start.title)}</strong> "
                        f"Een voorbeeld: {_e(start.tip)}")
        if period is not None and period["significant"]:
            side = "positiever" if float(period["estimate"]) > 0 else "minder positief"
            step.append(f"De leerlingen van {who} oordelen over de hele periode duidelijk {side} dan gemiddeld in Limburg"
                        + (": een reden om hier met voorrang aan te werken." if side != "positiever" else
                           ": bespreek in het team wat u daarvoor doet, zodat het zo blijft."))
        here = ' class="oml-start"', " <em>(hier beginnen)</em>"
        items = "".join(f"<li{here[0] if start is not None and r.number == start.number else ''}><strong>{_e(r.title)}</strong>"
                        f"{here[1] if start is not None and r.number == start.number else ''} {_e(r.tip)}</li>"
                        for r in guide.recommendations.values())
        return ("<section class=\"oml-next\"><h2>Volgende stap</h2>"
                + "".join(f"<p>{x}</p>" for x in step)
                + "<p>Het Nationaal Regieorgaan Onderwijsonderzoek (NRO) geeft in zijn leidraad voor het primair onderwijs "
                "twee kernpunten: de positieve band actief opbouwen, en negatieve interacties zo veel mogelijk beperken. "
                "De leidraad werkt dat uit in zes aanbevelingen (de voorbeelden zijn van ons):</p>"
                f"<ol>{items}</ol>"
                f'<p>De volledige leidraad staat op Onderwijskennis: <a href="{guide.url}">Leidraad leraar-leerlingrelatie in het '
                "primair onderwijs</a>. Bespreek de cijfers in het team: wat herkent u, en waar wilt u aan werken?</p></section>")

    def colophon(self) -> str:
        """Date made, edition, data source, contact address and conditions of use."""
        whose = "de school" if self.kind == "school" else "het bestuur"
        use = (f"Vertrouwelijk: alleen voor eigen gebruik door {whose} (schoolleiding, team"
               + (", bestuur" if self.kind == "board" else "") + "). Niet doorsturen buiten de organisatie en niet "
               "publiceren. De toegangscode hoort bij dit rapport: geef hem niet door.")
        if self.synthetic:
            use += " Dit rapport is een demonstratie met synthetische gegevens: het gaat over geen echte school of echt bestuur."
        edition = f"{_e(self.span)}" + (f", gegevenskenmerk <code>{_e(self.edition)}</code>" if self.edition else "")
        rows = [("Gemaakt op", _e(nl_date(self.made))), ("Editie", edition), ("Bron", _e(self.source)),
                ("Contact", f'OnderwijsMonitor Limburg, Universiteit Maastricht: <a href="mailto:{CONTACT}">{CONTACT}</a>'),
                ("Gebruik", _e(use))]
        return ('<dl class="oml-colophon">' + "".join(f"<dt>{a}</dt><dd>{b}</dd>" for a, b in rows) + "</dl>")

    def about(self) -> str:
        """How the numbers were made, in short."""
        controls = nl_list([VARIABLE_LABELS[c] for c in stats.CONTROLS])
        return ("<section class=\"oml-about\"><h2>Over dit rapport</h2>" + self.colophon()
                + "<p>De index is het gemiddelde van de stellingen die een leerling beantwoordde (minstens de helft), "
                "omgerekend zodat 0 het gemiddelde over alle scholen en jaren is en 1 één standaarddeviatie. De cijfers zijn "
                f"gecorrigeerd voor {controls} van de leerlingen: verschillen in samenstelling tellen dus niet mee. "
                f"Toetsen zijn tweezijdig op {nl_number((1 - self.level) * 100)}{PCT} en gebruiken de t-verdeling, met een "
                "correctie voor kleine aantallen leerlingen; de vergelijkingen per jaar zijn gecorrigeerd voor het aantal "
                "jaren (Bonferroni), en elk interval bij een verschil hoort bij de toets ervan. "
                + ("Bij het bestuur tellen ook de gewone verschillen tussen scholen mee. " if self.kind == "board" else
                   "De trechtergrenzen houden rekening met de gewone verschillen tussen scholen. ")
                + f"Geen cijfer rust op minder dan {nl_number(self.min_cell)} leerlingen; een te klein jaar telt "
                "mee in de hele periode. Regio en Limburg worden alleen getoond als er genoeg scholen van andere besturen in "
                "zitten, zodat niemand de cijfers van een andere school kan terugrekenen."
                + (" De cijfers van het bestuur tellen alleen wat de rapporten van zijn scholen laten zien; scholen met te "
                   "weinig leerlingen tellen daarin niet mee." if self.kind == "board" else "") + "</p>"
                + self._fewer_statements()
                + "<p class=\"oml-provenance\">Berekend door <code>oml.stats.units.adjusted_unit_means</code>, "
                + ("<code>oml.stats.units.board_coverage</code>, " if self.kind == "board" else "")
                + "<code>oml.stats.units.funnel_position</code> en <code>oml.stats.units.answer_shares</code>"
                + (" (bestuur: <code>oml.stats.units.board_answer_shares</code>)" if self.kind == "board" else "")
                + ".</p></section>")

    def blocks(self) -> list[str]:
        """The report as HTML blocks, in reading order."""
        out = [self.header(), self.summary(), self.gaps_block(self.main), self.next_steps()]
        if self.kind == "board":
            out.append(self.schools_overview())
        out += [self.index_block(self.main), self.answers_block(self.main)]
        if self.kind == "school":
            out.append(self.funnel_block(self.main))
        else:
            out += [self.school_section(s) for s in self.schools]
        out.append(self.about())
        return [b for b in out if b]

    @property
    def title(self) -> str:
        return f"Terugkoppeling sociale relaties met leraren: {self.name}"


def _short(s: Section) -> str:
    """Legend label of the unit: "Uw school", "Deze school", "Uw bestuur"."""
    return s.subject[0].upper() + s.subject[1:]


def _ci(r) -> str:
    if pd.isna(r.estimate):
        return SUPPRESSED
    return _with_interval(nl_number(r.estimate, 2), nl_number(r.ci_low, 2), nl_number(r.ci_high, 2))


def _with_interval(estimate: str, low: str, high: str) -> str:
    """An estimate and its interval in a table cell; the interval never breaks inside (two lines in a narrow column).

    Examples
    --------
    >>> _with_interval("0,10", "0,01", "0,19")
    '0,10 <span class="oml-ci">(0,01 tot 0,19)</span>'
    """
    return f'{estimate} <span class="oml-ci">({low} tot {high})</span>'



def _section(frame: pd.DataFrame, kind: str, unit: str, subject: str, level: float, min_cell: int) -> Section:
    um = stats.adjusted_unit_means(frame, kind, unit, level, min_cell)
    if kind == "board":  # the board's answers: its shown schools', showing only what reveals no hidden school count
        answers = stats.board_answer_shares(frame, unit, min_cell, um.coverage)
    else:
        answers = stats.answer_shares(frame[stats.unit_mask(frame, kind, unit)], min_cell)
    return Section(kind, str(unit), display_name(frame, kind, unit), subject, um, answers,
                   stats.funnel_position(um) if kind == "school" else None)


def build_report(frame: pd.DataFrame, kind: str, unit: str, page: str | None = None, level: float = 0.95,
                 min_cell: int = 10, synthetic: bool = False, out_dir: str | Path = ".",
                 school_figures: bool = False) -> FeedbackReport:
    """Compute one report: the unit, its references and (board) each school meeting the threshold.

    ``frame`` is all pupils with the ``index`` column. ``page`` names the private manifest
    (default: the unit id). In a board report each school's part has its sentences and tables;
    its figures only with ``school_figures`` (every school has them in its own report, and
    drawing them again for every board would double the build time).
    """
    years = sorted(int(y) for y in frame["year"].unique())
    span = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])
    subject = "uw school" if kind == "school" else "uw bestuur"
    main = _section(frame, kind, unit, subject, level, min_cell)
    # The report's words: the data's delivery; illustrations only on synthetic data (the flag, else told by the ids).
    missing = {i: [y for y in ys if y in years] for i, ys in codebook.not_asked(frame).items()}
    report = FeedbackReport(kind, str(unit), main.name, span, float(level), int(min_cell), bool(synthetic),
                            PrivatePublisher(page or str(unit), out_dir), main, stats.answer_shares(frame, min_cell),
                            school_figures=school_figures, words=codebook.words(frame, True if synthetic else None),
                            not_asked={i: ys for i, ys in missing.items() if ys}, years=years,
                            edition=data_fingerprint(frame), source=data_source(frame, synthetic))
    if kind == "board":
        for row in stats.board_schools(frame, unit, min_cell).itertuples(index=False):
            report.school_names[row.school_id] = display_name(frame, "school", row.school_id)
            if row.meets_threshold:
                report.schools.append(_section(frame, "school", row.school_id, "deze school", level, min_cell))
            else:
                report.small_schools.append(display_name(frame, "school", row.school_id))
                report.small_ids.append(str(row.school_id))
    return report


def from_context(ctx, kind: str, unit: str) -> FeedbackReport:
    """:func:`build_report` from a notebook :class:`~oml.report.notebook.Context` (the template's call)."""
    return build_report(ctx.frame, kind, unit, ctx.pub.page, ctx.level, ctx.min_cell, ctx.synthetic, ctx.pub.out_dir)


def warm(data=None, kind: str = "school", unit: str | None = None, level: float = 0.95, min_cell: int = 10,
         **_other) -> None:
    """Fill the warm engine's cache for one report just before its fork (``warm`` in ``notebooks/runs.toml``).

    Called by :mod:`oml.site.engine` with the run's parameters. Computes the unit's model (and, for a
    board, each of its schools' models) with :func:`oml.stats.units.remember` on the frame the
    engine preloaded, so that the report's notebook finds it there. Does nothing when nothing was
    preloaded for ``data`` (a notebook run by hand computes everything itself).
    """
    from oml.report.notebook import preloaded_current

    try:
        frame = preloaded_current(data)
    except KeyError:
        return
    stats.remember(frame, kind, unit, level, min_cell)
    data_fingerprint(frame)  # once per frame, in the warm process: every fork finds it
    if kind == "board":
        for row in stats.board_schools(frame, unit, min_cell).itertuples(index=False):
            if row.meets_threshold:
                stats.remember(frame, "school", row.school_id, level, min_cell)


def show(report: FeedbackReport) -> None:
    """Display every block as an IPython ``HTML`` output marked :data:`MARK` (the first carries the title)."""
    from IPython.display import HTML, display

    for k, block in enumerate(report.blocks()):
        meta = {MARK: {"part": k, **({"title": report.title} if k == 0 else {})}}
        display(HTML(block), metadata=meta)


# ----------------------------------------------------------------------------- the document
CSS = """
:root { --ink: #1a1a1a; --muted: #555; --line: #ccc; --accent: #0072B2; --note: #fff4d6; }
* { box-sizing: border-box; }
html { font-size: 100%; }
body { margin: 0; color: var(--ink); background: #fff; font-family: system-ui, -apple-system, "Segoe UI", Roboto,
       "Helvetica Neue", Arial, sans-serif; line-height: 1.5; }
main { max-width: 52rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
h1 { font-size: 1.7rem; line-height: 1.25; margin: 0.2rem 0 0.4rem; }
h2 { font-size: 1.3rem; margin: 2rem 0 0.6rem; border-bottom: 2px solid var(--accent); padding-bottom: 0.2rem; }
h3 { font-size: 1.1rem; margin: 1.4rem 0 0.4rem; }
.oml-kicker { color: var(--muted); font-size: 0.9rem; margin: 0; text-transform: uppercase; letter-spacing: 0.04em; }
.oml-sub { color: var(--muted); margin-top: 0; }
.oml-notice { background: var(--note); border-left: 5px solid #E69F00; padding: 0.7rem 1rem; margin: 1rem 0; }
.oml-below { background: #eef4fa; border-left: 5px solid var(--accent); padding: 0.7rem 1rem; }
.oml-message { font-size: 1.15rem; line-height: 1.45; border-left: 5px solid var(--accent); padding: 0.2rem 0 0.2rem 0.9rem;
               margin: 1.2rem 0 0.4rem; }
figure.oml-figure { margin: 1rem 0; }
/* Portrait figures (REPORT_FIGSIZE): the full column on a phone, capped on a wide screen so their text stays in
   proportion with the page's. */
figure.oml-figure svg { width: 100%; max-width: 26rem; height: auto; display: block; }
figcaption { font-size: 0.9rem; color: var(--muted); margin-top: 0.3rem; }
/* A table wider than the screen scrolls inside its own box, never the page. The cue: a shadow at the edge that
   has more table behind it (the white covers scroll along with the content, the shadows stay put), the first
   column stays in place while the rest moves, and on a phone a line says so. */
.oml-scroll { max-width: 100%; overflow-x: auto;
  background: linear-gradient(to right, #fff 30%, rgba(255, 255, 255, 0)) left center / 2.5rem 100% no-repeat local,
              linear-gradient(to left, #fff 30%, rgba(255, 255, 255, 0)) right center / 2.5rem 100% no-repeat local,
              radial-gradient(farthest-side at 0 50%, rgba(0, 0, 0, 0.28), rgba(0, 0, 0, 0)) left center / 0.9rem 100% no-repeat scroll,
              radial-gradient(farthest-side at 100% 50%, rgba(0, 0, 0, 0.28), rgba(0, 0, 0, 0)) right center / 0.9rem 100% no-repeat scroll; }
.oml-scroll:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.oml-swipe { display: none; font-size: 0.88rem; color: var(--muted); margin: 0.6rem 0 -0.4rem; }
dl.oml-colophon { display: grid; grid-template-columns: max-content 1fr; gap: 0.3rem 1rem; margin: 0.8rem 0 1.2rem; }
dl.oml-colophon dt { font-weight: 700; }
dl.oml-colophon dd { margin: 0; overflow-wrap: anywhere; }
li.oml-start { background: #eef4fa; border-left: 4px solid var(--accent); padding: 0.2rem 0.5rem; }
td.oml-left { text-align: left; }
.oml-ci { white-space: nowrap; }
svg { max-width: 100%; height: auto; }
table.oml-table { border-collapse: collapse; width: 100%; margin: 0.8rem 0; font-size: 0.92rem;
                  font-variant-numeric: tabular-nums; }
table.oml-table caption { text-align: left; font-size: 0.9rem; color: var(--muted); padding-bottom: 0.3rem; }
table.oml-table th, table.oml-table td { border-bottom: 1px solid var(--line); padding: 0.3rem 0.45rem; text-align: right;
                                         vertical-align: top; }
table.oml-table th[scope="row"], table.oml-table thead th:first-child { text-align: left; }
.oml-legend, .oml-guide, .oml-provenance { font-size: 0.88rem; color: var(--muted); }
section.oml-school { margin-top: 2.5rem; }
a { color: var(--accent); }
@media (max-width: 40rem) {
  main { padding: 1rem 1rem 2.5rem; }
  h1 { font-size: 1.45rem; }
  table.oml-table { font-size: 0.86rem; }
  table.oml-table th, table.oml-table td { padding: 0.3rem 0.35rem; }
  /* The row labels stay in view while a wide table scrolls sideways. */
  table.oml-table th[scope="row"] { position: sticky; left: 0; background: #fff; z-index: 1; min-width: 6.5rem;
                                    max-width: 9rem; box-shadow: 1px 0 0 var(--line); }
  .oml-swipe { display: block; }
  /* The caption stays in view above a table that scrolls sideways, at the width of the screen. */
  table.oml-table caption { position: sticky; left: 0; max-width: calc(100vw - 2rem); }
  dl.oml-colophon { grid-template-columns: 1fr; gap: 0.1rem; }
  dl.oml-colophon dd { margin-bottom: 0.5rem; }
}
@media print {
  @page { size: A4; margin: 16mm 14mm; }
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  figure, table, .oml-notice, .oml-below { break-inside: avoid; page-break-inside: avoid; }
  section.oml-school { break-before: page; page-break-before: always; }
  a[href]::after { content: " (" attr(href) ")"; font-size: 0.85em; color: var(--muted); }
  .oml-notice { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def document(blocks: list[str], title: str) -> str:
    """The self-contained HTML document around the report's blocks.

    Examples
    --------
    >>> d = document(["<p>x</p>"], "Titel")
    >>> d.startswith("<!DOCTYPE html>") and '<html lang="nl">' in d and "<p>x</p>" in d
    True
    """
    # On a phone a wide table scrolls inside its own box (focusable, named by its caption's region), never the page.
    body = re.sub(r'(<table class="oml-table[^"]*">)', r'<div class="oml-scroll" role="region" tabindex="0" '
                  r'aria-label="Tabel, horizontaal te scrollen">\1', "\n".join(blocks)).replace("</table>", "</table></div>")
    # The answers next to Limburg's are wider than a phone: a line says that they scroll (phones only, CSS).
    scroll = '<div class="oml-scroll" role="region" tabindex="0" aria-label="Tabel, horizontaal te scrollen">'
    wide = '<table class="oml-table oml-answers oml-wide">'
    body = body.replace(scroll + wide, '<p class="oml-swipe" aria-hidden="true">Veeg de tabel opzij voor de kolommen van '
                        "Limburg →</p>" + scroll + wide)
    return ("<!DOCTYPE html>\n<html lang=\"nl\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta name=\"robots\" content=\"noindex, nofollow\">\n"
            f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main class=\"oml-feedback\">\n"
            f"{body}\n</main>\n</body>\n</html>\n")


def render_document(executed_notebook: str | Path) -> str:
    """The report's HTML document from the executed template (its outputs marked :data:`MARK`).

    Raises ``ValueError`` when the notebook holds no report blocks (e.g. a failed or wrong notebook).
    """
    nb = json.loads(Path(executed_notebook).read_text(encoding="utf-8"))
    blocks, title = [], None
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            meta = output.get("metadata", {}).get(MARK)
            if meta is None or "text/html" not in output.get("data", {}):
                continue
            html_text = output["data"]["text/html"]
            blocks.append("".join(html_text) if isinstance(html_text, list) else html_text)
            title = title or meta.get("title")
    if not blocks:
        raise ValueError(f"{executed_notebook}: no feedback-report blocks (outputs with metadata '{MARK}') found")
    return document(blocks, title or "Terugkoppeling")


def report_html(frame: pd.DataFrame, kind: str, unit: str, level: float = 0.95, min_cell: int = 10,
                synthetic: bool = False, out_dir: str | Path | None = None) -> str:
    """One report's HTML document in one call, without a notebook (``frame`` with the ``index`` column).

    With ``out_dir`` the private manifest of its numbers is written there (``files/<unit>.feedback.json``).
    """
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        report = build_report(frame, kind, unit, None, level, min_cell, synthetic, out_dir or tmp)
        html_text = document(report.blocks(), report.title)
        if out_dir is not None:
            report.pub.save()
    return html_text
