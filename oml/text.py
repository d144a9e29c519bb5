"""Dutch text: number formatting and the summary sentences rendered from :mod:`oml.findings`."""
from __future__ import annotations

import math

from oml.contract import LABELS
from oml.findings import HIGHER, LOWER, STABLE, Findings

SUPPRESSED = "•"  # shown instead of a number that rests on too few pupils


def nl_number(value: float, decimals: int = 0) -> str:
    """Format a number the Dutch way: thousands with a point, decimals with a comma.

    Examples
    --------
    >>> nl_number(12161)
    '12.161'
    >>> nl_number(49.7903, 2)
    '49,79'
    >>> nl_number(-0.04, 2)
    '−0,04'
    >>> nl_number(float("nan"))
    '•'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return SUPPRESSED
    text = f"{abs(value):,.{decimals}f}".replace(",", "\u0000").replace(".", ",").replace("\u0000", ".")
    # A true minus sign reads better than a hyphen; "-0,00" is shown as "0,00".
    negative = value < 0 and text.strip("0,.") != ""
    return ("−" if negative else "") + text


def nl_percent(value: float, decimals: int = 0) -> str:
    """A percentage (already ×100) with a non-breaking space before %.

    Examples
    --------
    >>> nl_percent(59.6)
    '60\\xa0%'
    """
    return f"{nl_number(value, decimals)}\u00a0%"


def nl_list(words: list[str]) -> str:
    """Dutch enumeration: 'a, b en c'.

    Examples
    --------
    >>> nl_list(["jongens", "meisjes"])
    'jongens en meisjes'
    """
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " en " + words[-1]


#: Noun phrases for the groups ("leerlingen in Maastricht-Heuvelland").
GROUP_PHRASE = {
    "totaal": "alle leerlingen",
    "jongen": "jongens",
    "meisje": "meisjes",
    "mbo of lager": "leerlingen met ouders met mbo of lager",
    "hbo": "leerlingen met hbo-opgeleide ouders",
    "wo": "leerlingen met wo-opgeleide ouders",
    "onbekend": "leerlingen van wie de opleiding van de ouders onbekend is",
}


def group_phrase(group: str) -> str:
    """Noun phrase for a group.

    Examples
    --------
    >>> group_phrase("Sittard-Geleen")
    'leerlingen in Sittard-Geleen'
    """
    return GROUP_PHRASE.get(group, f"leerlingen in {group}")


def group_label(group: str) -> str:
    """Short display label of a group (legends, tables)."""
    return "Alle leerlingen" if group == "totaal" else LABELS.get(group, group)


_TOPIC = "de ervaren sociale relaties met leraren"
_BY_NOUN = {
    "sex": "jongens en meisjes",
    "parent_education": "leerlingen met verschillend opgeleide ouders",
    "region": "leerlingen uit de verschillende regio's",
}
_CHANGE = {HIGHER: "positiever geworden", LOWER: "minder positief geworden", STABLE: "gelijk gebleven"}


def _trend_sentence(f: Findings) -> str:
    span = f"tussen {f.first_year} en {f.last_year}"
    if f.by is None:
        t = f.trends[0]
        return f"{_TOPIC[0].upper()}{_TOPIC[1:]} zijn {span} {_CHANGE[t.direction]}."
    if f.all_stable:
        who = {"sex": "Bij zowel jongens als meisjes", "parent_education": "Bij leerlingen van alle opleidingsniveaus van de ouders",
               "region": "In alle regio's"}[f.by]
        return f"{who} zijn {_TOPIC} {span} gelijk gebleven."
    parts = []
    for direction in (HIGHER, LOWER):
        groups = [group_phrase(t.group) for t in f.trends if t.direction == direction]
        if groups:
            verb = "is" if len(groups) == 1 and f.by != "sex" else "zijn"
            parts.append(f"bij {nl_list(groups)} {verb} deze {span} {_CHANGE[direction]}")
    stable = [group_phrase(t.group) for t in f.trends if t.direction == STABLE]
    text = "; ".join(parts)
    text = f"{text[0].upper()}{text[1:]}"
    if stable:
        text += f"; bij {nl_list(stable)} {'is' if len(stable) == 1 and f.by != 'sex' else 'zijn'} ze gelijk gebleven"
    return f"{text[:1].upper()}{text[1:]}."


def _difference_sentence(f: Findings) -> str:
    if not f.differences:
        return f"In {f.last_year} zijn er geen significante verschillen tussen {_BY_NOUN[f.by]} in {_TOPIC}."
    clauses = [
        f"{group_phrase(d.higher)} betere sociale relaties met leraren dan {group_phrase(d.lower)}"
        for d in f.differences
    ]
    return f"In {f.last_year} ervaren {nl_list(clauses)}."


def summary_sentences(f: Findings) -> list[str]:
    """The Dutch summary sentences of one figure, rendered from its findings.

    Examples
    --------
    >>> from oml.findings import Findings, Trend
    >>> f = Findings(None, 2023, 2025, ["totaal"], [Trend("totaal", 2023, 2025, "stable", 0.01, 0.9)])
    >>> summary_sentences(f)
    ['De ervaren sociale relaties met leraren zijn tussen 2023 en 2025 gelijk gebleven.']
    """
    if f.by is None:
        return [_trend_sentence(f)]
    return [_difference_sentence(f), _trend_sentence(f)]
