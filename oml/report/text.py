"""Dutch text: number formatting and the summary sentences rendered from :mod:`oml.stats.findings`.

Rounding, in one place: every number shown is rounded half away from zero, in decimal arithmetic, from
its exact value (:func:`round_half_away`, used by :func:`nl_number`); an estimate shown with its interval
goes through :func:`estimate_interval`, so that the three agree.
"""
from __future__ import annotations

import decimal
import math

import pandas as pd

from oml.data.contract import LABELS
from oml.stats.findings import HIGHER, LOWER, STABLE, Findings

SUPPRESSED = "•"  # shown instead of a number that rests on too few pupils
NOT_ASKED = "–"  # shown instead of a number for a statement not asked in that year: nothing hidden, nothing to show


#: Enough digits for any number a page shows (the default context's 28 would refuse 1e30 to 2 decimals).
_DECIMAL = decimal.Context(prec=80, rounding=decimal.ROUND_HALF_UP)


def round_half_away(value: float, decimals: int = 0) -> decimal.Decimal:
    """``value`` rounded to ``decimals`` places, half away from zero, in decimal arithmetic.

    The float is read as the shortest decimal that gives it back (``repr``), so 0,125 is a tie and
    becomes 0,13, and −0,125 becomes −0,13 (binary formatting would give 0,12: it rounds ties to even
    and reads 2,675 as the 2,67499… the float holds). The one rounding rule of every number shown:
    :func:`nl_number` uses it. Rounding this way is monotone and symmetric: an estimate inside its
    interval stays inside it after rounding, and a magnitude rounds as its signed value does.

    Examples
    --------
    >>> str(round_half_away(0.125, 2)), str(round_half_away(-0.125, 2)), str(round_half_away(2.675, 2))
    ('0.13', '-0.13', '2.68')
    >>> str(round_half_away(12.5)), str(round_half_away(13.5)), str(round_half_away(12161))
    ('13', '14', '12161')
    """
    if isinstance(value, bool):
        value = int(value)
    exact = decimal.Decimal(int(value)) if isinstance(value, int) or (hasattr(value, "dtype") and value.dtype.kind in "iu") \
        else decimal.Decimal(repr(float(value)))
    return exact.quantize(decimal.Decimal(1).scaleb(-decimals), context=_DECIMAL)


#: Month names as Dutch prose writes them (lower case).
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december")


def nl_date(day) -> str:
    """A date (a ``datetime.date``, or an ISO date or timestamp string) as Dutch prose writes it.

    Examples
    --------
    >>> import datetime
    >>> nl_date(datetime.date(2025, 12, 2)), nl_date("2026-11-21T13:30:34Z")
    ('2 december 2025', '21 november 2026')
    """
    import datetime

    if isinstance(day, str):
        day = datetime.date.fromisoformat(day[:10])
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def nl_number(value: float, decimals: int = 0) -> str:
    """Format a number the Dutch way: thousands with a point, decimals with a comma.

    Rounded half away from zero (:func:`round_half_away`).

    Examples
    --------
    >>> nl_number(12161)
    '12.161'
    >>> nl_number(49.7903, 2)
    '49,79'
    >>> nl_number(-0.04, 2)
    '−0,04'
    >>> nl_number(0.125, 2), nl_number(62.5)
    ('0,13', '63')
    >>> nl_number(float("nan"))
    '•'
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return SUPPRESSED
    if isinstance(value, float) and math.isinf(value):
        return ("−" if value < 0 else "") + "∞"
    rounded = round_half_away(value, decimals)
    text = f"{abs(rounded):,.{decimals}f}".replace(",", "\u0000").replace(".", ",").replace("\u0000", ".")
    # A true minus sign reads better than a hyphen; "-0,00" is shown as "0,00".
    return ("−" if rounded < 0 else "") + text


def estimate_interval(estimate: float, low: float, high: float, decimals: int = 2, *, magnitude: bool = False,
                      fmt=None, keys: tuple[str, str, str] = ("estimate", "ci_low", "ci_high")) -> tuple[str, str, str]:
    """An estimate and its interval as shown together: ``(estimate, low, high)`` texts that always agree.

    The one helper wherever a page shows an estimate with its interval. All three are rounded
    from their exact values by the same rule (:func:`round_half_away`), so the estimate shown lies
    inside the interval shown. With ``magnitude`` the text says the size of a change whose
    direction the sentence words ("een daling van 0,13"): the estimate's absolute value with the
    interval of that absolute value (mirrored for a negative estimate: −0,18 tot −0,09 becomes
    0,09 tot 0,18), never a size next to a signed interval.

    ``fmt(key, value, decimals)`` formats each number (a notebook passes
    :meth:`oml.report.publish.Publisher.formatter`, which also records it), called in the order
    estimate, low, high with ``keys``.

    Examples
    --------
    >>> estimate_interval(-0.1349, -0.1793, -0.0905)
    ('−0,13', '−0,18', '−0,09')
    >>> estimate_interval(-0.1349, -0.1793, -0.0905, magnitude=True)
    ('0,13', '0,09', '0,18')
    >>> estimate_interval(0.125, 0.1, 0.15)
    ('0,13', '0,10', '0,15')
    """
    if not low <= estimate <= high:
        raise ValueError(f"the estimate {estimate!r} is not inside its interval [{low!r}, {high!r}]")
    if magnitude and estimate < 0:
        estimate, low, high = -estimate, -high, -low
    fmt = _plain if fmt is None else fmt
    shown = (fmt(keys[0], estimate, decimals), fmt(keys[1], low, decimals), fmt(keys[2], high, decimals))
    # Monotone rounding keeps the order; checked all the same, on the rounded values themselves.
    lo, est, hi = (round_half_away(v, decimals) for v in (low, estimate, high))
    assert lo <= est <= hi, (shown, estimate, low, high)
    return shown


def interval_words(level: float, low: str, high: str) -> str:
    """"95%-betrouwbaarheidsinterval {low} tot {high}": an interval as the sentences name it.

    Examples
    --------
    >>> interval_words(0.95, "0,09", "0,18")
    '95%-betrouwbaarheidsinterval 0,09 tot 0,18'
    """
    return f"{nl_number(level * 100, 0)}%-betrouwbaarheidsinterval {low} tot {high}"


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


def nl_count_word(n: int) -> str:
    """A small count as Dutch prose writes it ("twee"); from 13 on as digits.

    Examples
    --------
    >>> nl_count_word(2), nl_count_word(13)
    ('twee', '13')
    """
    words = ("geen", "één", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen", "tien", "elf", "twaalf")
    return words[n] if 0 <= n < len(words) else nl_number(n)


def quoted(wording: str) -> str:
    """A statement's wording quoted in a sentence.

    Examples
    --------
    >>> quoted("Ik vertrouw de juf/meester.")
    '‘Ik vertrouw de juf/meester.’'
    """
    return f"\u2018{wording}\u2019"


def not_asked_sentence(missing: dict[str, list[int]], wording, tail: str = "") -> str:
    """"De stelling ‘…’ is in 2024 niet gevraagd{tail}." for the statements and years in ``missing``; "" when none.

    ``wording(column)`` gives each statement's wording (:meth:`oml.data.codebook.Words.wording`).

    Examples
    --------
    >>> not_asked_sentence({"item_a": [2024]}, {"item_a": "Ik praat."}.get, "; de balk rust op de andere jaren")
    'De stelling ‘Ik praat.’ is in 2024 niet gevraagd; de balk rust op de andere jaren.'
    >>> not_asked_sentence({"item_a": [2019, 2020], "item_b": [2024]}, {"item_a": "A.", "item_b": "B."}.get)
    'De stellingen ‘A.’ (in 2019 en 2020) en ‘B.’ (in 2024) zijn niet gevraagd.'
    >>> not_asked_sentence({}, str)
    ''
    """
    parts = [(wording(item), years) for item, years in missing.items() if years]
    if not parts:
        return ""
    if len(parts) == 1:
        w, years = parts[0]
        return f"De stelling {quoted(w)} is in {nl_list([str(y) for y in years])} niet gevraagd{tail}."
    listed = nl_list([f"{quoted(w)} (in {nl_list([str(y) for y in years])})" for w, years in parts])
    return f"De stellingen {listed} zijn niet gevraagd{tail}."


def fewer_statements_sentence(missing: dict[str, list[int]], items: list[str], wording, min_share: str) -> str:
    """Which years' index rests on fewer statements, and what that means; "" when every year asked them all.

    ``missing`` is :func:`oml.data.codebook.not_asked`, ``items`` every statement of the index,
    ``min_share`` the answered share in words ("de helft").

    Examples
    --------
    >>> print(fewer_statements_sentence({"item_c": [2024]}, ["item_a", "item_b", "item_c"], {"item_c": "C."}.get, "de helft"))
    Niet elk jaar zijn alle stellingen gevraagd. In 2024 rust de index op 2 van de 3 stellingen (niet gevraagd: ‘C.’). Een leerling van zo'n jaar krijgt een indexscore als hij of zij minstens de helft van de stellingen van dat jaar beantwoordde. Een verschil tussen zo'n jaar en de andere jaren kan daardoor deels komen doordat de index op minder stellingen rust.
    """
    by_year: dict[int, list[str]] = {}
    for item, years in missing.items():
        for y in years:
            by_year.setdefault(int(y), []).append(item)
    if not by_year:
        return ""
    groups: dict[tuple[str, ...], list[int]] = {}
    for year in sorted(by_year):
        groups.setdefault(tuple(i for i in items if i in by_year[year]), []).append(year)
    sentences = ["Niet elk jaar zijn alle stellingen gevraagd."]
    for absent, years in groups.items():
        asked = len(items) - len(absent)
        sentences.append(f"In {nl_list([str(y) for y in years])} rust de index op {nl_number(asked)} van de {nl_number(len(items))} "
                         f"stellingen (niet gevraagd: {nl_list([quoted(wording(i)) for i in absent])}).")
    sentences.append(f"Een leerling van zo'n jaar krijgt een indexscore als hij of zij minstens {min_share} van de stellingen "
                     "van dat jaar beantwoordde. Een verschil tussen zo'n jaar en de andere jaren kan daardoor deels komen "
                     "doordat de index op minder stellingen rust.")
    return " ".join(sentences)


#: Noun phrases for the groups ("leerlingen in Maastricht-Heuvelland").
GROUP_PHRASE = {
    "totaal": "alle leerlingen",
    "jongen": "jongens",
    "meisje": "meisjes",
    "mbo of lager": "leerlingen van wie de ouders hooguit mbo hebben",
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


def _inline_label(group: str) -> str:
    """A group label inside a sentence: lower case, except region names (proper nouns)."""
    from oml.data.contract import REGIONS

    label = group_label(group)
    return label if group in REGIONS else label.lower()


def group_label(group: str) -> str:
    """Short display label of a group (legends, tables)."""
    return "Alle leerlingen" if group == "totaal" else LABELS.get(group, group)


_TOPIC = "de ervaren sociale relaties met leraren"
_NO_DIFFERENCE = {
    "sex": "tussen jongens en meisjes",
    "parent_education": "naar opleidingsniveau van de ouders",
    "region": "tussen de regio's",
}
_CHANGE = {HIGHER: "positiever geworden", LOWER: "minder positief geworden", STABLE: "gelijk gebleven"}


def _untested(groups: list[str], what: str) -> str:
    return (f"Voor {nl_list([group_phrase(g) for g in groups])} is {what} niet mogelijk, omdat het om te weinig "
            "leerlingen gaat.")


def _trend_sentence(f: Findings) -> str | None:
    if not f.has_trend:
        return None
    span = f"tussen {f.first_year} en {f.last_year}"
    if f.by is None:
        if not f.trends:
            return _untested(["totaal"], f"een vergelijking {span}")
        t = f.trends[0]
        return f"{_TOPIC[0].upper()}{_TOPIC[1:]} zijn {span} {_CHANGE[t.direction]}."
    if f.all_stable:
        who = {"sex": "Bij zowel jongens als meisjes", "parent_education": "Voor alle opleidingsniveaus van de ouders",
               "region": "In alle regio's"}[f.by]
        return f"{who} zijn {_TOPIC} {span} gelijk gebleven."
    # The subject is always "de ervaren sociale relaties" (plural): "zijn".
    parts = []
    for direction in (HIGHER, LOWER, STABLE):
        groups = [group_phrase(t.group) for t in f.trends if t.direction == direction]
        if groups:
            subject = f"{_TOPIC} {span}" if not parts else "ze"
            parts.append(f"bij {nl_list(groups)} zijn {subject} {_CHANGE[direction]}")
    text = ""
    if parts:
        text = "; ".join(parts)
        text = f"{text[0].upper()}{text[1:]}."
    if f.untested_trend:
        text = (text + " " if text else "") + _untested(f.untested_trend, f"een vergelijking {span}")
    return text


def _difference_sentence(f: Findings) -> str:
    if not f.differences:
        sentence = f"In {f.last_year} verschillen {_TOPIC} niet significant {_NO_DIFFERENCE[f.by]}."
    else:
        clauses = [
            f"{group_phrase(d.higher)} betere sociale relaties met leraren dan {group_phrase(d.lower)}"
            for d in f.differences
        ]
        sentence = f"In {f.last_year} ervaren {nl_list(clauses)}."
    if f.untested_between:
        sentence += " " + _untested(f.untested_between, f"een vergelijking met de andere groepen in {f.last_year}")
    return sentence


#: Why a group that says the background is unknown is drawn but not compared (:attr:`Findings.not_compared`).
_NOT_COMPARED_WHY = {
    "parent_education": "‘Onbekend’ is geen opleidingsniveau: het betekent alleen dat de opleiding van de ouders niet in de gegevens staat",
}


def not_compared_sentence(f: Findings, in_figure: bool = True) -> str:
    """The sentences that say which drawn groups are not compared, and why; "" when every group is.

    ``in_figure``: said under the figure itself ("staan wel in de figuur"); False for the summary.

    Examples
    --------
    >>> f = Findings("parent_education", 2023, 2025, ["hbo", "onbekend"], not_compared=["onbekend"])
    >>> print(not_compared_sentence(f))
    Leerlingen van wie de opleiding van de ouders onbekend is, staan wel in de figuur, maar worden niet met andere groepen of jaren vergeleken. ‘Onbekend’ is geen opleidingsniveau: het betekent alleen dat de opleiding van de ouders niet in de gegevens staat.
    >>> print(not_compared_sentence(f, in_figure=False).split(". ")[0])
    Leerlingen van wie de opleiding van de ouders onbekend is, worden niet met andere groepen of jaren vergeleken
    """
    if not f.not_compared:
        return ""
    who = nl_list([group_phrase(g) for g in f.not_compared])
    why = _NOT_COMPARED_WHY.get(f.by, "De groep zegt alleen dat de achtergrond onbekend is")
    shown = "staan wel in de figuur, maar " if in_figure else ""
    return f"{who[0].upper()}{who[1:]}, {shown}worden niet met andere groepen of jaren vergeleken. {why}."


def summary_sentences(f: Findings) -> list[str]:
    """The Dutch summary sentences of one figure, rendered from its findings.

    Only the compared groups are spoken of: a group drawn but not compared (parental education
    "onbekend") is in no finding; :func:`not_compared_sentence` says so, where a page shows these.

    Examples
    --------
    >>> from oml.stats.findings import Findings, Trend
    >>> f = Findings(None, 2023, 2025, ["totaal"], [Trend("totaal", 2023, 2025, "stable", 0.01, 0.9)])
    >>> summary_sentences(f)
    ['De ervaren sociale relaties met leraren zijn tussen 2023 en 2025 gelijk gebleven.']
    """
    sentences = [_trend_sentence(f)] if f.by is None else [_difference_sentence(f), _trend_sentence(f)]
    return [s for s in sentences if s]


# --------------------------------------------------------------------------- chapter texts
BY_TITLE = {None: "jaar", "sex": "jaar en geslacht", "parent_education": "jaar en opleiding ouders", "region": "jaar en regio"}


def figure_caption(by: str | None, level: float, not_compared=()) -> str:
    """Caption of a diamond figure; the groups drawn but not compared (``not_compared``) are named.

    Examples
    --------
    >>> figure_caption("sex", 0.95)
    'Sociale relaties met leraren, naar jaar en geslacht: gecorrigeerde afwijking van het gemiddelde met 95%-betrouwbaarheidsinterval.'
    >>> figure_caption("parent_education", 0.95, ["onbekend"]).split(". ")[-1]
    '‘Onbekend’ staat in de figuur, maar is niet getoetst.'
    """
    caption = (f"Sociale relaties met leraren, naar {BY_TITLE[by]}: gecorrigeerde afwijking van het gemiddelde "
               f"met {nl_number(level * 100, 0)}%-betrouwbaarheidsinterval.")
    if not_compared:
        names = nl_list([quoted(group_label(g)) for g in not_compared])
        caption += f" {names} {'staat' if len(not_compared) == 1 else 'staan'} in de figuur, maar {'is' if len(not_compared) == 1 else 'zijn'} niet getoetst."
    return caption


#: How the reading guide's last sentence begins. A short PDF (:mod:`oml.site.pdf`) prints the whole guide under the
#: first figure and, under each later one, only this sentence: which variables that figure's means are controlled for.
CONTROLS_LEAD = "De gemiddelden zijn gecontroleerd voor"


def leeswijzer(controls: list[str], level: float) -> str:
    """The reading guide under a diamond figure, naming that figure's controls.

    Examples
    --------
    >>> "gecontroleerd voor geslacht, leeftijd en regio" in leeswijzer(["sex", "age", "region"], 0.95)
    True
    """
    from oml.data.contract import VARIABLE_LABELS

    pct = nl_number(level * 100, 0)
    return (
        "**Leeswijzer.** De nullijn is het gemiddelde over alle scholen en alle jaren; elke markering (een diamant, rondje, "
        "vierkantje, driehoekje of kruisje: elke groep heeft op de hele site dezelfde vorm en kleur) laat zien "
        f"hoeveel een jaar of groep daarvan afwijkt (in standaarddeviaties). De lijnen door de markeringen zijn {pct}%-betrouwbaarheidsintervallen: "
        "hoe langer de lijn, hoe onzekerder de schatting, bijvoorbeeld omdat de groep klein is of de antwoorden sterk "
        "uiteenlopen. Overlappen twee lijnen, dan is het verschil volgens de vuistregel van de factsheet niet significant; "
        "een sterretje markeert verschillen die in de formele toets (met Holm-correctie) wel significant zijn. "
        f"{CONTROLS_LEAD} {nl_list([VARIABLE_LABELS[c] for c in controls])}."
    )


def diamond_alt(table: pd.DataFrame, f: Findings) -> str:
    """Alt text of a diamond figure, derived from the numbers drawn.

    Examples
    --------
    >>> from oml.stats.findings import Findings
    >>> t = pd.DataFrame({"year": [2023, 2025], "group": ["totaal"] * 2, "estimate": [-0.01, 0.02]})
    >>> diamond_alt(t, Findings(None, 2023, 2025, ["totaal"]))[:40]
    'Diamantfiguur met per jaar (2023 tot en '
    """
    shown = table.dropna(subset=["estimate"])
    groups = list(dict.fromkeys(table["group"]))
    who = "" if f.by is None else f" voor {nl_list([_inline_label(g) for g in groups])}"
    text = (f"Diamantfiguur met per jaar ({f.first_year} tot en met {f.last_year}){who} de gecorrigeerde afwijking "
            f"van het gemiddelde met betrouwbaarheidsinterval. De geschatte afwijkingen liggen tussen "
            f"{nl_number(shown['estimate'].min(), 2)} en {nl_number(shown['estimate'].max(), 2)}.")
    if f.differences:
        text += " Significant: " + "; ".join(f"{_inline_label(d.higher)} hoger dan {_inline_label(d.lower)} in {d.year}" for d in f.differences) + "."
    changed = [t for t in f.trends if t.direction != STABLE]
    if changed:
        text += " Significante verandering: " + "; ".join(f"{_inline_label(t.group)} {_CHANGE[t.direction]}" for t in changed) + "."
    if not f.differences and not changed:
        text += " Geen significante verschillen."
    if f.not_compared:
        text += f" Niet getoetst: {nl_list([_inline_label(g) for g in f.not_compared])}."
    return text


def _plain(key: str, value: float, decimals: int = 0) -> str:
    return nl_number(value, decimals)


def chapter_paragraph(f: Findings, comparisons: pd.DataFrame, figure_ref: str, level: float, fmt=_plain) -> str:
    """The paragraph that introduces a diamond figure, with the key contrasts and their CIs.

    ``fmt(key, value, decimals)`` formats each number; a notebook passes a recorder so every
    number shown is also written to ``numbers.json``.
    """
    intro = {
        # Four different openings: the chapters are read one after another.
        None: f"{figure_ref} toont per jaar de gemiddelde score op de index van sociale relaties met leraren.",
        "sex": f"{figure_ref} zet jongens en meisjes naast elkaar.",
        "parent_education": f"{figure_ref} laat de index zien naar het opleidingsniveau van de ouders.",
        "region": f"In {figure_ref} staan de {nl_count_word(len(f.groups))} regio's van Limburg naast elkaar.",
    }[f.by]
    apart = not_compared_sentence(f)
    sentences = [intro, *summary_sentences(f)]
    unknown = set(f.not_compared)
    comparisons = comparisons[~(comparisons["group_a"].isin(unknown) | comparisons["group_b"].isin(unknown))]
    fl = comparisons[comparisons["family"] == "first_last"]
    if f.by is None and len(fl):
        r = fl.iloc[0]
        est, lo, hi = estimate_interval(r.estimate, r.ci_low, r.ci_high, 2, fmt=fmt, keys=("change", "change_ci_low", "change_ci_high"))
        sentences.append(f"Het verschil tussen {f.last_year} en {f.first_year} is {est} standaarddeviatie ({interval_words(level, lo, hi)}).")
    r = fl.loc[fl["estimate"].abs().idxmax()] if f.by is not None and f.all_stable and len(fl) else None
    if r is not None and worth_naming(r.estimate):
        # Like the factsheet's remark on the slight hbo decline: name the largest movement, its size in words, and
        # that it is not significant; only when it is worth naming (after "gelijk gebleven" and the figure).
        word = "stijging" if r.estimate > 0 else "daling"
        sentences.append(
            f"De grootste verandering tussen {f.first_year} en {f.last_year} is een {word} van "
            f"{fmt('largest_change', abs(r.estimate), 2)} standaarddeviatie bij {group_phrase(r.group_a)}: "
            f"{size_words(r.estimate)}, en niet significant."
        )
    for d in f.differences:
        row = comparisons[(comparisons["family"] == "between")
                          & (comparisons["group_a"].isin([d.higher, d.lower])) & (comparisons["group_b"].isin([d.higher, d.lower]))].iloc[0]
        # The comparison's estimate is b minus a; the sentence says how much higher d.higher is: its size.
        est, lo, hi = estimate_interval(row.estimate, row.ci_low, row.ci_high, 2, magnitude=True, fmt=fmt,
                                        keys=("difference", "difference_ci_low", "difference_ci_high"))
        sentences.append(
            f"In {d.year} scoren {group_phrase(d.higher)} {est} standaarddeviatie hoger "
            f"dan {group_phrase(d.lower)} ({interval_words(level, lo, hi)})."
        )
    if apart:
        sentences.append(apart)
        if f.by == "parent_education":
            sentences.append("Hoe vaak ‘onbekend’ voorkomt en hoe de modellen ermee omgaan, leest u in de methoden bij "
                             "{ref}`methoden-onbekend`.")
    disagree = comparisons[comparisons["disagree"]]
    if len(disagree):
        word = "vergelijking" if len(disagree) == 1 else "vergelijkingen"
        sentences.append(
            f"Let op: bij {fmt('disagree', len(disagree))} {word} geeft de vuistregel van overlappende intervallen een "
            "ander oordeel dan de formele toets; de tekst volgt de formele toets (zie Methoden)."
        )
    return " ".join(sentences)


#: How big a difference between two adjusted means is, in words: the lower bounds of Cohen's (1988)
#: conventions for a standardised mean difference (d = 0,2 klein, 0,5 middelgroot, 0,8 groot), below 0,2
#: "nauwelijks". The index is standardised (sd 1 over all pupils and years, :mod:`oml.stats.index`), so
#: a difference in index points *is* a difference in standard deviations, and Cohen's d applies as is.
#: Why Cohen and not an education-specific scale such as Kraft (2020: 0,05 / 0,20): Kraft's benchmarks
#: are for causal effects of interventions on test scores, our differences are descriptive gaps between
#: groups and years in an attitude scale, the setting Cohen's conventions were written for. docs/text.md.
EFFECT_SIZE_RULE = ((0.8, "groot"), (0.5, "middelgroot"), (0.2, "klein"))
EFFECT_SIZE_NONE = "nauwelijks"


def effect_size_word(difference: float, decimals: int = 2) -> str:
    """The size of a difference in standard deviations in one word: nauwelijks, klein, middelgroot or groot.

    The rule is :data:`EFFECT_SIZE_RULE` (Cohen's conventions; sign ignored). It is applied to the
    difference *as shown* (rounded to ``decimals`` by :func:`round_half_away`), so that a sentence
    never calls "0,20 standaarddeviatie" "nauwelijks": the word and the number always agree.

    Examples
    --------
    >>> [effect_size_word(v) for v in (0.0, 0.194, 0.195, 0.2, 0.27, 0.5, -0.65, 0.8, 1.3)]
    ['nauwelijks', 'nauwelijks', 'klein', 'klein', 'klein', 'middelgroot', 'middelgroot', 'groot', 'groot']
    """
    if difference is None or (isinstance(difference, float) and math.isnan(difference)):
        raise ValueError("effect_size_word needs a number: a suppressed difference has no size")
    shown = abs(round_half_away(difference, decimals))
    return next((w for bound, w in EFFECT_SIZE_RULE if shown >= decimal.Decimal(repr(bound))), EFFECT_SIZE_NONE)


def effect_size_rule() -> str:
    """The rule behind :func:`effect_size_word`, in words (for the Begrippen page and the methods).

    Examples
    --------
    >>> effect_size_rule()
    'minder dan 0,20 standaarddeviatie: nauwelijks; vanaf 0,20: klein; vanaf 0,50: middelgroot; vanaf 0,80: groot'
    """
    bounds = sorted(EFFECT_SIZE_RULE)
    parts = [f"minder dan {nl_number(bounds[0][0], 2)} standaarddeviatie: {EFFECT_SIZE_NONE}"]
    parts += [f"vanaf {nl_number(b, 2)}: {w}" for b, w in bounds]
    return "; ".join(parts)


def size_phrase(difference: float, noun: str = "verschil", decimals: int = 2) -> str:
    """A difference's size as a noun phrase: "een klein verschil", "nauwelijks verschil".

    Examples
    --------
    >>> size_phrase(0.27), size_phrase(0.05), size_phrase(-0.6, "verandering")
    ('een klein verschil', 'nauwelijks verschil', 'een middelgrote verandering')
    """
    word = effect_size_word(difference, decimals)
    if word == EFFECT_SIZE_NONE:
        return f"{EFFECT_SIZE_NONE} {noun}"
    # Dutch adjective inflection: "een klein verschil" (het-woord), "een kleine verandering" (de-woord).
    het = noun in ("verschil",)
    return f"een {word if het else _INFLECTED[word]} {noun}"


_INFLECTED = {"klein": "kleine", "middelgroot": "middelgrote", "groot": "grote"}


def size_words(difference: float, decimals: int = 2) -> str:
    """A difference's size after "het verschil is": "klein", or "nauwelijks van betekenis" below the first bound.

    Examples
    --------
    >>> size_words(0.27), size_words(0.18), size_words(0.9)
    ('klein', 'nauwelijks van betekenis', 'groot')
    """
    word = effect_size_word(difference, decimals)
    return f"{word} van betekenis" if word == EFFECT_SIZE_NONE else word


def worth_naming(difference: float, decimals: int = 2) -> bool:
    """Whether a non-significant change is worth its own sentence: at least small (:func:`effect_size_word`).

    One of "nauwelijks" size adds nothing to a sentence that says the groups stayed the same, or to the
    figure beside it (issue 23: no sentence that only says that nothing happened).

    Examples
    --------
    >>> worth_naming(0.194), worth_naming(-0.195), worth_naming(0.23)
    (False, True, True)
    """
    return effect_size_word(difference, decimals) != EFFECT_SIZE_NONE


ALPHA_RULE = ((0.9, "uitstekend"), (0.8, "goed"), (0.7, "voldoende"))


def alpha_judgement(alpha: float) -> str:
    """Verbal judgement of a reliability coefficient, with the rule of thumb it follows.

    Examples
    --------
    >>> alpha_judgement(0.86)
    'goed volgens de gangbare vuistregel (vanaf 0,90 uitstekend, vanaf 0,80 goed, vanaf 0,70 voldoende)'
    """
    return f"{alpha_word(alpha)} volgens de gangbare vuistregel ({alpha_rule()})"


def alpha_word(alpha: float) -> str:
    """The one-word judgement of :func:`alpha_judgement`.

    Examples
    --------
    >>> alpha_word(0.91), alpha_word(0.5)
    ('uitstekend', 'matig')
    """
    return next((w for bound, w in ALPHA_RULE if alpha >= bound), "matig")


def alpha_rule() -> str:
    """The rule of thumb behind :func:`alpha_word`, in words."""
    return ", ".join(f"vanaf {nl_number(bound, 2)} {w}" for bound, w in ALPHA_RULE)


# --------------------------------------------------------------------------- region pages
def region_sentences(f: Findings) -> list[str]:
    """Summary sentences of a region page: its own change, and how it compares with the rest of Limburg.

    ``f`` holds the findings of the region-vs-rest model (:func:`oml.stats.regions.region_result`):
    ``f.groups`` is ``[region, "rest van Limburg"]``.

    Examples
    --------
    >>> from oml.stats.findings import Findings, Trend, Difference
    >>> f = Findings("area", 2023, 2025, ["Parkstad Limburg", "rest van Limburg"],
    ...              [Trend("Parkstad Limburg", 2023, 2025, "stable", 0.02, 0.7)],
    ...              [Difference(2025, "rest van Limburg", "Parkstad Limburg", 0.2, 0.01)])
    >>> for s in region_sentences(f): print(s)
    In Parkstad Limburg zijn de ervaren sociale relaties met leraren tussen 2023 en 2025 gelijk gebleven.
    In 2025 zijn de ervaren sociale relaties met leraren in Parkstad Limburg significant minder positief dan in de rest van Limburg.
    """
    region, rest = f.groups[0], f.groups[1]
    out = []
    if f.has_trend:
        span = f"tussen {f.first_year} en {f.last_year}"
        trend = next((t for t in f.trends if t.group == region), None)
        out.append(_untested([region], f"een vergelijking {span}") if trend is None
                   else f"In {region} zijn {_TOPIC} {span} {_CHANGE[trend.direction]}.")
    if region in f.untested_between or rest in f.untested_between:
        out.append(_untested([region], f"een vergelijking met de rest van Limburg in {f.last_year}"))
    else:
        d = next(iter(f.differences), None)
        if d is None:
            out.append(f"In {f.last_year} verschillen {_TOPIC} in {region} niet significant van die in de rest van Limburg.")
        else:
            word = "positiever" if d.higher == region else "minder positief"
            out.append(f"In {d.year} zijn {_TOPIC} in {region} significant {word} dan in de rest van Limburg.")
    return out
