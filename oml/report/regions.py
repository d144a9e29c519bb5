"""Blocks of a region page ("Regio …"): summary, the region next to Limburg, answers, breakdowns.

Same conventions as :mod:`oml.report.pages`: every number shown is recorded in the page's
Publisher (→ ``numbers.json``), every figure is drawn by :func:`oml.report.plotting.diamond_plot`
and comes with caption, alt text derived from the data, a CSV of exactly what is drawn and
the provenance of its numbers.
"""
from __future__ import annotations

import pandas as pd

from oml.data import codebook
from oml.paths import region_pdf_name
from oml.report import text
from oml.report.methods import region_fragile_note
from oml.report.pages import DIAMOND_TABLE_CAPTION, PCT, diamond_figures, year_span
from oml.report.publish import (NOT_ASKED_LEGEND, diamond_table, figure_block, figure_table, provenance, suppression_legend,
                                table_block)
from oml.report.text import nl_list, nl_number
from oml.stats.models import TIDY
from oml.stats.regions import LIMBURG, MIN_SCHOOLS, REST, RegionResult
from oml.stats.robustness import REGION_FIGURE

_PROVENANCE = ["oml.stats.regions.region_result", "oml.stats.regions.region_vs_rest", "oml.stats.models.adjusted_means",
               "oml.stats.comparisons.compare"]


def _one_school(ctx, rr: RegionResult) -> str:
    """Why a region of fewer than two schools is neither tested nor drawn with an interval (oml.stats.regions)."""
    n = ctx.pub.number("scholen", rr.schools)
    m = ctx.pub.number("min_scholen", MIN_SCHOOLS)
    verb, noun = ("doet", "school") if rr.schools == 1 else ("doen", "scholen")
    return (f"In {rr.region} {verb} in deze gegevens {n} {noun} mee. De onzekerheid van de cijfers houdt rekening met "
            f"verschillen tussen scholen, en dat kan pas vanaf {m} scholen. Daarom tonen we voor {rr.region} geen "
            "betrouwbaarheidsinterval en toetsen we niet of de regio veranderd is of verschilt van de rest van Limburg.")


def _sentences(ctx, rr: RegionResult) -> list[str]:
    return [_one_school(ctx, rr)] if rr.schools < MIN_SCHOOLS else text.region_sentences(rr.findings)


def summary(ctx, rr: RegionResult) -> str:
    """The findings of the region as a list of sentences, with the region-vs-rest difference and its interval."""
    sentences = _sentences(ctx, rr)
    between = rr.comparisons[rr.comparisons["family"] == "between"]
    fmt = ctx.pub.formatter()
    lines = [f"- {s}" for s in sentences]
    if len(between):
        row = between.iloc[0]
        # estimate = rest minus region: the page states region minus rest.
        pct = nl_number(ctx.level * 100, 0)
        lo, hi = sorted([-row.ci_low, -row.ci_high])
        lines.append(f"- Het verschil met de rest van Limburg in {int(row.year_a)} is {fmt('difference', -row.estimate, 2)} "
                     f"standaarddeviatie ({pct}%-betrouwbaarheidsinterval {fmt('difference_ci_low', lo, 2)} tot "
                     f"{fmt('difference_ci_high', hi, 2)}).")
    # The region's short PDF (oml.site.pdf, at the site root; this page is in book/rapport/). Not in the PDFs;
    # left out of a site built without PDFs (class oml-needs-pdf: book/_ext/oml_site.py).
    pdf = region_pdf_name(ctx.pub.page)
    return "\n".join(lines) + (f'\n\n<p class="oml-screen-only oml-needs-pdf"><a href="../../{pdf}">Deze regio als pdf</a> '
                               "(een korte uitgave van deze pagina om te printen of door te sturen)</p>\n")


def _alt(rr: RegionResult, ctx) -> str:
    shown = rr.table.dropna(subset=["estimate"])
    region = shown[shown["group"] == rr.region]
    return (f"Diamantfiguur met per jaar ({year_span(ctx)}) de gecorrigeerde afwijking van het gemiddelde voor {rr.region} "
            f"en voor heel Limburg, met betrouwbaarheidsintervallen. {rr.region} ligt tussen "
            f"{nl_number(region['estimate'].min(), 2)} en {nl_number(region['estimate'].max(), 2)}, Limburg tussen "
            f"{nl_number(shown[shown['group'] == LIMBURG]['estimate'].min(), 2)} en "
            f"{nl_number(shown[shown['group'] == LIMBURG]['estimate'].max(), 2)}. "
            + (" ".join(text.region_sentences(rr.findings)) if rr.schools >= MIN_SCHOOLS else ""))


def figure(ctx, rr: RegionResult) -> str:
    """The region's adjusted index per year next to Limburg as a whole (one diamond figure)."""
    drawn = rr.table[TIDY]
    csv = ctx.pub.csv("figuur", drawn)
    tests = ctx.pub.csv("toetsen", rr.comparisons)
    ctx.pub.table("figuur", drawn, ["year", "group"], {"estimate": 2, "se": 3, "ci_low": 2, "ci_high": 2, "n": 0})
    # Only the region's own changes are marked: the rest of Limburg is not drawn.
    own = rr.comparisons[(rr.comparisons["group_a"] == rr.region) & (rr.comparisons["group_b"] == rr.region)]
    path = diamond_figures(rr.table, own, ctx.level, ctx.pub.files / f"{ctx.pub.page}-figuur.svg")
    pct = nl_number(ctx.level * 100, 0)
    caption = (f"Sociale relaties met leraren in {rr.region} en in heel Limburg, naar jaar: gecorrigeerde afwijking "
               f"van het gemiddelde met {pct}%-betrouwbaarheidsinterval.")
    from oml.data.contract import VARIABLE_LABELS

    guide = (f"**Leeswijzer.** De nullijn is het gemiddelde over alle scholen en alle jaren. {rr.region} is gecorrigeerd "
             f"voor {nl_list([VARIABLE_LABELS[c] for c in rr.means.controls])}; Limburg is het gemiddelde van "
             f"{{doc}}`verschillen-jaar` (ook gecorrigeerd voor regio). De toets vergelijkt {rr.region} met de "
             f"{REST} (zie Methoden), niet met Limburg als geheel, waar de regio zelf deel van uitmaakt.")
    prov = provenance(ctx.notebook, [*_PROVENANCE, "oml.report.plotting.diamond_plot"], csv)
    prov = prov.replace("\n:::\n", f" Alle vergelijkingen: {{download}}`CSV <{tests}>`.\n:::\n")
    # A conclusion of this figure (and of the summary) that changes under a multilevel or CR2 check is marked here.
    return (region_fragile_note(ctx, rr, REGION_FIGURE)
            + figure_block(f"files/{path.name}", f"fig-{ctx.pub.page}", caption, _alt(rr, ctx))
            + "\n\n" + figure_table(diamond_table(drawn, ctx.level), DIAMOND_TABLE_CAPTION)
            + suppression_legend(rr.table, ctx.min_cell) + "\n\n" + guide + "\n" + prov)


def answers(ctx, rr: RegionResult) -> str:
    """Table: share agreeing with each statement, the region next to Limburg."""
    words = ctx.words
    t = rr.answers
    years = sorted(int(y) for y in ctx.frame["year"].unique())
    missing = {i: [y for y in ys if y in years] for i, ys in codebook.not_asked(ctx.frame).items()}
    never = {i for i, ys in missing.items() if ys == years}  # no year of the page asked it: nothing to show, nothing hidden
    partly = {i: ys for i, ys in missing.items() if ys and i not in never}
    shown = t[~t["item"].isin(never)]
    csv = ctx.pub.csv("stellingen", t[["item", "group", "percent", "n"]])
    ctx.pub.table("stellingen", shown, ["item", "group"], {"percent": 0})  # the numbers of answers are in the CSV
    wide = t.pivot(index="item", columns="group", values="percent").reindex(list(dict.fromkeys(t["item"])))

    def cell(item, v):
        return text.NOT_ASKED if item in never else nl_number(v, 0) + PCT if pd.notna(v) else text.SUPPRESSED

    rows = pd.DataFrame({
        "stelling": [words.label(i) for i in wide.index],
        "regio": [cell(i, v) for i, v in zip(wide.index, wide[rr.region])],
        "limburg": [cell(i, v) for i, v in zip(wide.index, wide[LIMBURG])],
    })
    caption = f"Aandeel leerlingen dat het (helemaal) eens is met elke stelling, {rr.region} en Limburg, {year_span(ctx)}."
    note = ("\n\n† Formulering ter illustratie: de factsheet beschrijft alleen de stellingen over praten over problemen "
            "en zich op het gemak voelen." if any(words.illustrative(i) for i in wide.index) else "")
    if partly:
        note += "\n\n" + text.not_asked_sentence(partly, words.wording, "; het aandeel rust op de andere jaren")
    if never:
        note += "\n\n" + NOT_ASKED_LEGEND.replace("in dat jaar", f"in {year_span(ctx)}")
    return (table_block(rows, f"tab-{ctx.pub.page}-stellingen", caption, ["Stelling", rr.region, LIMBURG]) + note
            + suppression_legend(shown, ctx.min_cell) + "\n" + provenance(ctx.notebook, ["oml.stats.regions.agreement_table"], csv))


def within(ctx, rr: RegionResult, by: str) -> str:
    """The region's own breakdown by ``by`` (sex or parental education), where the cells allow."""
    from oml.data.contract import VARIABLE_LABELS

    result = rr.within[by]
    label = VARIABLE_LABELS[by]
    if result is None:  # one school in the region (oml.stats.regions): no clustered standard errors
        return (f"Voor een uitsplitsing naar {label} binnen {rr.region} zijn minstens "
                f"{ctx.pub.number(f'{by}-min_scholen', MIN_SCHOOLS)} scholen nodig, omdat de onzekerheid van de cijfers "
                f"rekening houdt met verschillen tussen scholen. In {rr.region} doen in deze gegevens minder scholen mee.")
    if result.table["estimate"].notna().sum() == 0:
        return (f"Voor een uitsplitsing naar {label} zijn er in {rr.region} te weinig leerlingen per groep: geen "
                f"enkele cel heeft er minstens {ctx.pub.number(f'{by}-min_cell', ctx.min_cell)}.")
    drawn = result.table[TIDY]
    name = f"{ctx.pub.page}-{by}"
    csv = ctx.pub.csv(f"figuur-{by}", drawn)
    tests = ctx.pub.csv(f"toetsen-{by}", result.comparisons)
    ctx.pub.table(f"figuur-{by}", drawn, ["year", "group"], {"estimate": 2, "se": 3, "ci_low": 2, "ci_high": 2, "n": 0})
    path = diamond_figures(result.table, result.comparisons, ctx.level, ctx.pub.files / f"{name}.svg")
    pct = nl_number(ctx.level * 100, 0)
    caption = (f"Sociale relaties met leraren in {rr.region}, naar jaar en {label}: gecorrigeerde afwijking van het "
               f"gemiddelde met {pct}%-betrouwbaarheidsinterval.")
    paragraph = text.chapter_paragraph(result.findings, result.comparisons, f"{{numref}}`fig-{name}`", ctx.level,
                                       _fmt_prefixed(ctx, by))
    prov = provenance(ctx.notebook, ["oml.stats.results.breakdown", "oml.stats.models.adjusted_means",
                                     "oml.stats.comparisons.compare", "oml.report.plotting.diamond_plot"], csv)
    prov = prov.replace("\n:::\n", f" Alle vergelijkingen: {{download}}`CSV <{tests}>`.\n:::\n")
    return (region_fragile_note(ctx, rr, by) + paragraph + "\n\n" + figure_block(f"files/{path.name}", f"fig-{name}", caption,
                                               text.diamond_alt(result.table, result.findings))
            + "\n\n" + figure_table(diamond_table(drawn, ctx.level), DIAMOND_TABLE_CAPTION)
            + suppression_legend(result.table, ctx.min_cell) + "\n" + prov)


def _fmt_prefixed(ctx, prefix: str):
    fmt = ctx.pub.formatter()
    return lambda key, value, decimals=0: fmt(f"{prefix}-{key}", value, decimals)


__all__ = ["answers", "figure", "summary", "within"]
