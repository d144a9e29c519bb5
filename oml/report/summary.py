"""The key results in plain Dutch: "Resultaten in het kort" and the start page.

Every sentence is rendered from computed results (the breakdowns of Figures 2–5, the region
overview of :mod:`oml.stats.overview`, the edition comparison) and every number in it goes
through the page's :class:`oml.report.publish.Publisher`. Sizes of differences are put into words
by one rule, :func:`oml.report.text.effect_size_word`. Written for readers at B1–B2: short
sentences, the answer first, "u", and the same term for the same thing (docs/text.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable

import pandas as pd

from oml.paths import FACTSHEET_PDF, REPORT_PDF
from oml.report import text
from oml.report.text import group_label, group_phrase, nl_date, nl_list, size_phrase, size_words
from oml.stats.direction import Direction

#: The chapter of each breakdown (the pages of notebooks/runs.toml).
CHAPTER = {None: "verschillen-jaar", "sex": "verschillen-geslacht", "parent_education": "verschillen-opleiding-ouders",
           "region": "verschillen-regio"}
#: What a breakdown compares, as the sentences name it.
_BETWEEN = {"sex": "jongens en meisjes", "parent_education": "de opleidingsniveaus van de ouders",
            "region": "de regio's"}
SD = "standaarddeviatie"
#: Said once above the sentences, so that each number need not repeat its unit.
UNIT = ("Verschillen staan hieronder in standaarddeviaties van de index. Zo kunt u ze met elkaar vergelijken. "
        "Hoe groot een verschil is, zeggen we ook in woorden.")
#: The two statements the factsheet names, with the keys of their shares (as on *Algemeen beeld*).
STATEMENTS = (("item_praten", "agree_praten"), ("item_gemak", "agree_gemak"))


@dataclass
class Shares:
    """The headline shares as shown (texts), with the years they cover."""

    praten: str
    gemak: str
    years: str


def shares(ctx, years: str) -> Shares:
    """Record and return the share of pupils agreeing (4 or 5) with the two statements the factsheet names.

    Computed as on *Algemeen beeld* (:func:`oml.stats.distribution.agreement`), pooled over ``years``.
    """
    from oml.stats.distribution import agreement

    out = []
    for item, key in STATEMENTS:
        answered = ctx.frame[item].notna().sum()
        share = agreement(ctx.frame, item) * 100 if answered >= ctx.min_cell else float("nan")
        out.append(ctx.pub.number(key, share, 0, "\u00a0%"))
    return Shares(out[0], out[1], years)


def region_pages(ctx, slug: Callable[[str], str]) -> Callable[[str], str | None]:
    """``page_of(region)``: the page of a region's own report ("regio-<slug>"), None for a region without one.

    A region with fewer than ``min_cell`` pupils gets no page (``notebooks/runs.toml``'s fan-out); ``slug`` is
    :func:`oml.site.runs.slug`, passed in by the notebook (the report does not import the site).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> ctx = SimpleNamespace(data=pd.DataFrame({"region": ["A"] * 12 + ["B"] * 2}), min_cell=10)
    >>> page_of = region_pages(ctx, str.lower)
    >>> page_of("A"), page_of("B")
    ('regio-a', None)
    """
    counts = ctx.data["region"].astype(str).value_counts()

    def page_of(region: str) -> str | None:
        return f"regio-{slug(region)}" if counts.get(region, 0) >= ctx.min_cell else None

    return page_of


def _cap(s: str) -> str:
    return s[0].upper() + s[1:] if s else s


def _row(comparisons: pd.DataFrame, family: str, a: str, b: str):
    rows = comparisons[(comparisons["family"] == family) & comparisons["group_a"].isin([a, b]) & comparisons["group_b"].isin([a, b])]
    return rows.iloc[0] if len(rows) else None


def _see(by) -> str:
    """The link to a breakdown's chapter, placed before a sentence's full stop."""
    return f" (zie {{doc}}`{CHAPTER[by]}`)."


def shares_sentence(s: Shares) -> str:
    """The opening sentence: the two headline shares.

    Examples
    --------
    >>> print(shares_sentence(Shares("60 %", "69 %", "2023–2025")))
    In 2023–2025 kan 60 % van de leerlingen in groep 8 met de juf of meester over problemen praten. Ook voelt 69 % zich op zijn of haar gemak bij de juf of meester.
    """
    return (f"In {s.years} kan {s.praten} van de leerlingen in groep 8 met de juf of meester over problemen praten. "
            f"Ook voelt {s.gemak} zich op zijn of haar gemak bij de juf of meester.")


def trend_sentence(result, fmt) -> str | None:
    """The change of all pupils from the first to the last year, with its size in words."""
    f = result.findings
    if not f.has_trend:
        return None
    if not f.trends:
        return f"Voor alle leerlingen samen is een vergelijking tussen {f.first_year} en {f.last_year} niet mogelijk."
    t = f.trends[0]
    size = fmt("change", abs(t.estimate), 2)
    span = f"tussen {f.first_year} en {f.last_year}"
    if t.direction is Direction.STABLE:
        return (f"Dat beeld is {span} gelijk gebleven. De index veranderde met {size}: "
                f"{size_words(t.estimate)} en niet significant" + _see(None))
    better = "beter" if t.direction is Direction.HIGHER else "minder goed"
    return (f"De sociale relaties met leraren zijn {span} {better} geworden. Het is {size_phrase(t.estimate, 'verandering')} "
            f"({size})" + _see(None))


def difference_sentences(result, fmt) -> list[str]:
    """The significant differences between groups in the last year, each with its size; or the largest gap when none is."""
    f = result.findings
    c = result.comparisons
    out = []
    for i, d in enumerate(f.differences):
        row = _row(c, "between", d.higher, d.lower)
        size = fmt("difference", abs(row.estimate), 2)
        phrase = size_phrase(d.estimate)
        # Two templates in turn, so that a list of differences does not read as one sentence repeated.
        if i % 2 == 0:
            out.append(f"In {d.year} ervaren {group_phrase(d.higher)} betere sociale relaties met leraren dan "
                       f"{group_phrase(d.lower)}. Het verschil is {size_words(d.estimate)}: {size}" + _see(f.by))
        else:
            out.append(f"Ook scoren {group_phrase(d.higher)} in {d.year} hoger dan {group_phrase(d.lower)}, "
                       f"met {size} ({phrase})" + _see(f.by))
    if f.differences:
        return out
    between = c[(c["family"] == "between") & ~c["group_a"].isin(f.not_compared) & ~c["group_b"].isin(f.not_compared)]
    if between.empty:
        return out
    row = between.loc[between["estimate"].abs().idxmax()]
    size = fmt("largest_difference", abs(row.estimate), 2)
    pair = nl_list([group_label(row.group_a).lower() if f.by != "region" else row.group_a,
                    group_label(row.group_b).lower() if f.by != "region" else row.group_b])
    word = text.effect_size_word(row.estimate)
    if f.by == "sex":
        lead = f"Jongens en meisjes verschillen in {f.last_year} {'nauwelijks' if word == text.EFFECT_SIZE_NONE else 'weinig'} van elkaar"
        out.append(f"{lead}. Het verschil is {size} en niet significant" + _see(f.by))
    else:
        out.append(f"Tussen {_BETWEEN[f.by]} is er in {f.last_year} geen significant verschil. Het grootste verschil, "
                   f"tussen {pair}, is {size}: {size_words(row.estimate)}" + _see(f.by))
    return out


def within_trend_sentence(results, fmt) -> str | None:
    """How the groups changed from the first to the last year: the ones that changed, with their size, in one sentence."""
    changed, stable, untested = [], [], []
    for r in results:
        if r.by is None or not r.findings.has_trend:
            continue
        for t in r.findings.trends:
            (stable if t.direction is Direction.STABLE else changed).append((r, t))
        untested += r.findings.untested_trend
    if not changed and not stable:
        return None
    first, last = (stable or changed)[0][1].first_year, (stable or changed)[0][1].last_year
    parts = []
    for _r, t in changed:
        better = "beter" if t.direction is Direction.HIGHER else "minder goed"
        parts.append(f"bij {group_phrase(t.group)} zijn de sociale relaties met leraren {better} geworden "
                     f"({fmt('group_change', abs(t.estimate), 2)}, {size_phrase(t.estimate, 'verandering')})")
    sentence = ""
    if parts:
        sentence = _cap("; ".join(parts)) + f" (tussen {first} en {last})."
    if stable:
        _r, t = max(stable, key=lambda rt: abs(rt[1].estimate))
        lead = "In de andere groepen" if parts else "Ook binnen de groepen"
        sentence += f"{' ' if sentence else ''}{lead} is tussen {first} en {last} niets significant veranderd."
        if text.worth_naming(t.estimate):
            biggest = fmt("largest_group_change", abs(t.estimate), 2)  # recorded only when it is shown
            sentence += f" De grootste verandering is {biggest}, bij {group_phrase(t.group)}: {size_words(t.estimate)}."
    if untested:
        sentence += " " + (f"Voor {nl_list([group_phrase(g) for g in untested])} is geen vergelijking mogelijk: "
                           "het gaat om te weinig leerlingen.")
    return sentence


def region_sentences(overview, fmt, page_of: Callable[[str], str | None]) -> list[str]:
    """Each region against the rest of Limburg: the ones that differ significantly, each with its size; then the others."""
    def name(region: str) -> str:
        page = page_of(region)
        return f"{{doc}}`{region} <{page}>`" if page else region

    out = []
    for i, r in enumerate(x for x in overview if x.tested and x.direction is not Direction.STABLE):
        size = fmt(f"region/{r.region}/difference", abs(r.estimate), 2)
        better = "betere" if r.direction is Direction.HIGHER else "minder goede"
        if i % 2 == 0:
            out.append(f"Leerlingen in {name(r.region)} ervaren in {r.year} {better} sociale relaties met leraren dan "
                       f"leerlingen in de rest van Limburg. Het verschil is {size_words(r.estimate)}: {size}.")
        else:
            word = "hoger" if r.direction is Direction.HIGHER else "lager"
            out.append(f"In {name(r.region)} ligt de index in {r.year} {size} {word} dan in de rest van "
                       f"Limburg. Ook dat verschil is {size_words(r.estimate)}.")
    same = [r for r in overview if r.tested and r.direction is Direction.STABLE]
    if same:
        verb = "verschilt" if len(same) == 1 else "verschillen"
        lead = "De andere regio's" if out else "De regio's"
        out.append(f"{lead} ({nl_list([name(r.region) for r in same])}) {verb} in {same[0].year} niet significant "
                   "van de rest van Limburg.")
    untested = [r for r in overview if not r.tested]
    if untested:
        out.append(f"Voor {nl_list([name(r.region) for r in untested])} is een vergelijking met de rest van Limburg "
                   "niet mogelijk: het gaat om te weinig leerlingen.")
    return out


def summary_block(ctx, results, overview, page_of: Callable[[str], str | None], years: str) -> str:
    """"Resultaten in het kort": the headline shares, the change, the differences with their size, the regions.

    ``results`` are the breakdowns of Figures 2–5 (:func:`oml.stats.results.breakdowns`), ``overview``
    the regions against the rest (:func:`oml.stats.overview.regions_against_rest`), ``page_of(region)``
    the page of a region (None: no page).
    """
    fmt = ctx.pub.formatter()
    results = list(results)
    by = {r.by: r for r in results}
    lines = [UNIT, "", "## Hoe ervaren leerlingen hun leraren?", "", shares_sentence(shares(ctx, years))]
    if None in by:
        trend = trend_sentence(by[None], fmt)
        if trend:
            lines[-1] += " " + trend
    lines += ["", "## Verschillen tussen groepen", ""]
    for key in ("sex", "parent_education", "region"):
        if key in by:
            lines += [f"- {s}" for s in difference_sentences(by[key], fmt)]
            apart = text.not_compared_sentence(by[key].findings, in_figure=False)
            if apart:
                lines.append(f"- {apart}")
    within = within_trend_sentence(results, fmt)
    if within:
        lines.append(f"- {within}")
    if overview:
        lines += ["", "## Uw regio vergeleken met de rest van Limburg", ""]
        lines += [f"- {s}" for s in region_sentences(overview, fmt, page_of)]
    lines += ["", "De woorden voor de grootte van een verschil volgen één vaste regel: zie {doc}`/book/begrippen`, "
              "onder *effectgrootte*. *Significant* betekent dat een verschil vrijwel zeker niet door toeval komt."]
    return "\n".join(lines)


def key_results(ctx, results, overview, years: str) -> list[str]:
    """Three to five key results for the start page, each a short sentence with its number."""
    fmt = ctx.pub.formatter()
    by = {r.by: r for r in results}
    out = [shares_sentence(shares(ctx, years))]
    if None in by:
        t = trend_sentence(by[None], fmt)
        if t:
            out.append(t.replace("Dat beeld is", "Het beeld is", 1))
    for key in ("region", "sex", "parent_education"):
        if key in by and by[key].findings.differences and len(out) < 4:
            out.append(difference_sentences(by[key], fmt)[0])
    differ = [r for r in overview if r.tested and r.direction is not Direction.STABLE]
    if differ and len(out) < 5:
        names = nl_list([f"{r.region} {'hoger' if r.direction is Direction.HIGHER else 'lager'} "
                         f"({fmt(f'region/{r.region}/difference', abs(r.estimate), 2)})" for r in differ])
        out.append(f"{nl_count(len(differ))} van de {text.nl_count_word(len(overview))} regio's {'wijkt' if len(differ) == 1 else 'wijken'} "
                   f"in {differ[0].year} significant af van de rest van Limburg: {names}.")
    return out[:5]


def nl_count(n: int) -> str:
    """A count at the start of a sentence, capitalised ("Twee").

    Examples
    --------
    >>> nl_count(2)
    'Twee'
    """
    return _cap(text.nl_count_word(n))


def region_table(ctx, overview, page_of: Callable[[str], str | None]) -> str:
    """A small table: each region, its pupils in the last year, its difference with the rest of Limburg, in words, with a link.

    Raw HTML, not a MyST table: a MyST table with a caption gets a number, and this page comes first in
    the book, so it would take "Tabel 1" from the factsheet's own Table 1. Links are relative to
    ``book/rapport/``, where the start page and the region pages are.
    """
    import html

    rows = []
    for r in overview:
        page = page_of(r.region)
        name = html.escape(r.region)
        link = f'<a class="reference internal" href="{page}.html">{name}</a>' if page else name
        n = ctx.pub.number(f"regions/{r.region}/n", r.n)
        if not r.tested:
            cells = [link, n, text.SUPPRESSED, "niet te vergelijken (te weinig leerlingen)"]
        else:
            est = ctx.pub.number(f"regions/{r.region}/estimate", r.estimate, 2)
            verdict = {Direction.HIGHER: "hoger", Direction.LOWER: "lager"}.get(r.direction, "geen significant verschil")
            if r.direction is not Direction.STABLE:
                verdict += f", {size_words(r.estimate)}"
            cells = [link, n, est, verdict]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    year = overview[0].year if overview else ""
    head = "".join(f'<th scope="col">{h}</th>' for h in ("Regio", f"Leerlingen {year}", "Verschil", "Oordeel"))
    caption = (f"Elke regio vergeleken met de rest van Limburg, {year}. Verschil: de index van de regio min die van de "
               f"rest van Limburg, in {SD}s.")
    return ('<div class="pst-scrollable-table-container"><table class="table oml-region-table">'
            f"<caption>{caption}</caption><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def news_sentences(comparison, edition: str, previous: str, fmt=None) -> list[str]:
    """"Nieuw in deze editie" from :func:`oml.site.editions.compare.compare` (previous edition → this one), in sentences.

    Only what a reader notices: new years, more pupils, conclusions that changed, groups that appeared.
    ``fmt(key, value, decimals)`` formats (and, from a notebook, records) each number.
    """
    fmt = fmt or (lambda key, value, decimals=0: text.nl_number(value, decimals))
    out = []
    if comparison.years_appeared:
        out.append(f"Editie {edition} voegt {'het jaar' if len(comparison.years_appeared) == 1 else 'de jaren'} "
                   f"{nl_list([str(y) for y in comparison.years_appeared])} toe aan editie {previous}.")
    for h in comparison.headlines:
        if h.label == "Leerlingen" and isinstance(h.old, (int, float)) and isinstance(h.new, (int, float)) and h.old != h.new:
            out.append(f"Daarmee rust het rapport op {fmt('news/pupils', h.new)} leerlingen (editie {previous}: "
                       f"{fmt('news/pupils_before', h.old)}).")
    for ch in comparison.changed_findings:
        if ch.new.kind == "between" and ch.new.verdict and not ch.old.verdict:
            lower = next(g for g in ch.new.groups if g != ch.new.verdict)
            out.append(f"Nieuw is een significant verschil: in {ch.new.years[0]} ervaren {group_phrase(ch.new.verdict)} "
                       f"betere sociale relaties met leraren dan {group_phrase(lower)} (zie {{doc}}`{ch.new.figure}`).")
        elif ch.new.kind == "between" and ch.old.verdict and not ch.new.verdict:
            out.append(f"Het verschil tussen {nl_list([group_phrase(g) for g in ch.new.groups])} is in {ch.new.years[0]} "
                       f"niet meer significant (zie {{doc}}`{ch.new.figure}`).")
        elif ch.new.kind == "trend":
            word = {Direction.HIGHER: "beter geworden", Direction.LOWER: "minder goed geworden",
                    Direction.STABLE: "gelijk gebleven"}[Direction(ch.new.verdict)]
            out.append(f"Bij {group_phrase(ch.new.groups[0])} zijn de sociale relaties met leraren tussen {ch.new.years[0]} en "
                       f"{ch.new.years[1]} nu {word} (zie {{doc}}`{ch.new.figure}`).")
    if comparison.groups_appeared:
        out.append(f"Nieuwe groepen in de figuren: {nl_list([group_label(g) for _, g in comparison.groups_appeared])}.")
    if not out:
        out.append(f"Ten opzichte van editie {previous} zijn er geen veranderingen die u in de tekst terugziet.")
    out.append("Alle verschillen tussen de edities staan op {doc}`versies`.")
    return out


# --------------------------------------------------------------------------- the start page
def start_header(ctx, editions, years: str) -> str:
    """The start page's opening: what this report is, its edition and data, and the two buttons.

    ``editions`` are :func:`oml.site.editions.compare.load_editions` (oldest first). The page sits in
    ``book/rapport/``: the PDF is two folders up, the feedback page one.
    """
    # pages.glue_scope recorded the counts; their texts are reused here, not formatted a second time.
    shown = {e["key"].split("/", 1)[1]: e["text"] for e in ctx.pub.entries}
    edition = (f"Laatste editie: **{editions[-1].name}** (uitgebracht op {nl_date(editions[-1].latest.released)}). "
               if editions else "")
    return (
        "Dit is het levende rapport naar de factsheet *Sociale relaties met leraren* van de OnderwijsMonitor Limburg "
        "(OML): hoe leerlingen in groep 8 hun relatie met de juf of meester ervaren. "
        f"{edition}Het rapport gebruikt de jaren {years}: {shown['n_pupils']} leerlingen van "
        f"{shown['n_schools']} scholen.\n\n"
        '<p class="oml-start-buttons">'
        f'<a class="oml-button oml-needs-pdf" href="../../{REPORT_PDF}">Download het rapport (PDF)</a> '
        f'<a class="oml-button oml-needs-pdf" href="../../{FACTSHEET_PDF}">De factsheet in het kort (PDF)</a> '
        '<a class="oml-button" href="../terugkoppeling.html">Open het rapport van uw school</a></p>\n'
    )


def key_results_block(ctx, results, overview, years: str) -> str:
    """The start page's key results as a list, with a link to the full summary."""
    lines = [f"- {s}" for s in key_results(ctx, list(results), overview, years)]
    return UNIT + "\n\n" + "\n".join(lines) + "\n\nAlle uitkomsten staan in {doc}`resultaten-in-het-kort`."


def region_block(ctx, overview, page_of: Callable[[str], str | None]) -> str:
    """The region overview of the start page: the sentences, then the small table."""
    fmt = ctx.pub.formatter()
    sentences = region_sentences(overview, fmt, page_of)
    return "\n".join(f"- {s}" for s in sentences) + "\n\n" + region_table(ctx, overview, page_of) + "\n"


def news_block(ctx, editions, compare) -> str:
    """"Nieuw in deze editie": the latest edition against the one before (``compare`` is
    :func:`oml.site.editions.compare.compare`, passed in: the report does not import the site)."""
    if not editions:
        return "Er is nog geen editie uitgebracht. Op {doc}`versies` leest u hoe een editie ontstaat."
    if len(editions) == 1:
        return f"Editie {editions[0].name} is de eerste editie van dit rapport."
    new, old = editions[-1], editions[-2]
    comparison = compare(old.latest.snapshot(), new.latest.snapshot())
    return "\n".join(f"- {s}" for s in news_sentences(comparison, new.name, old.name, ctx.pub.formatter()))
