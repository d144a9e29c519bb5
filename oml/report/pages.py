"""Page building blocks: what a notebook shows, as MyST Markdown, with every number recorded.

Each function takes the notebook :class:`oml.report.notebook.Context` and computed results,
writes figure/CSV files where needed, records every number it shows in the page's
:class:`oml.report.publish.Publisher` (→ ``numbers.json``) and returns MyST for
:func:`oml.report.notebook.show`. Computation stays in the statistics modules; this is layout.
"""
from __future__ import annotations

import math

import pandas as pd

from oml.data import codebook, contract, scales
from oml.report import plotting, text
from oml.report.publish import (NOT_ASKED_LEGEND, diamond_table, figure_block, figure_table, provenance,
                                suppression_legend, table_block)
from oml.report.text import NOT_ASKED, nl_number

PCT = "\u00a0%"


# ----------------------------------------------------------------------------- scope, summary
def _years(ctx) -> list[int]:
    return sorted(int(y) for y in ctx.frame["year"].unique())


def year_span(ctx) -> str:
    """The years of the page's data as captions and sentences show them: "2023–2025" (one year: "2025")."""
    years = _years(ctx)
    return f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])


def _scale(ctx) -> str:
    """The answer scale of the page's period as the text names it: "1 (helemaal niet) tot en met 5 (helemaal wel)".

    The end labels are the data's own (the delivery's value labels) where it has them, else
    those of ``oml/config/scales.toml`` (:meth:`oml.data.codebook.Words.period_labels`).
    """
    scale = scales.current()
    labels = ctx.words.period_labels(scale, _years(ctx))

    def end(a: int) -> str:
        return f"{a}" if labels[a] == str(a) else f"{a} ({labels[a]})"

    return f"{end(scale.lowest)} tot en met {end(scale.highest)}"


def min_share_words() -> str:
    """The index's minimum answered share in words ("de helft")."""
    from oml.stats.index import MIN_ANSWERED_SHARE

    return "de helft" if MIN_ANSWERED_SHARE == 0.5 else nl_number(MIN_ANSWERED_SHARE * 100) + PCT


def _shown_years(missing: dict[str, list[int]], years) -> dict[str, list[int]]:
    """:func:`oml.data.codebook.not_asked` restricted to ``years`` (statements with none left dropped)."""
    keep = {int(y) for y in years}
    out = {item: [y for y in ys if y in keep] for item, ys in missing.items()}
    return {item: ys for item, ys in out.items() if ys}


def glue_years(ctx) -> None:
    """Glue the span of years in the data ("2023–2025") as ``years``."""
    years = _years(ctx)
    ctx.pub.record("first_year", years[0], str(years[0]))
    ctx.pub.record("last_year", years[-1], str(years[-1]))
    ctx.pub.text("years", year_span(ctx))


def glue_scope(ctx) -> None:
    """Glue the years covered, the number of pupils and of schools."""
    glue_years(ctx)
    ctx.pub.number("n_pupils", len(ctx.frame))
    ctx.pub.number("n_schools", ctx.frame["school_id"].nunique())


CHAPTER = {None: "verschillen-jaar", "sex": "verschillen-geslacht", "parent_education": "verschillen-opleiding-ouders",
           "region": "verschillen-regio"}


def summary_list(ctx, results) -> str:
    """'Resultaten in het kort': the summary sentences of every figure, each linking to its chapter."""
    lines = []
    for result in results:
        sentences = [*text.summary_sentences(result.findings), text.not_compared_sentence(result.findings, in_figure=False)]
        for s in filter(None, sentences):
            lines.append(f"- {s}")
        lines[-1] += f" (zie {{doc}}`{CHAPTER[result.by]}`)"
    tests = pd.concat([r.comparisons.assign(figure=CHAPTER[r.by]) for r in results], ignore_index=True)
    csv = ctx.pub.csv("toetsen", tests)
    return "\n".join(lines) + "\n" + provenance(
        ctx.notebook, ["oml.stats.results.breakdown", "oml.stats.findings.findings", "oml.report.text.summary_sentences",
                       "oml.report.text.not_compared_sentence"], csv)


# ----------------------------------------------------------------------------- Table 1
def table1_block(ctx, table: pd.DataFrame) -> str:
    """Table 1 with Dutch counts and percentages, suppression legend and provenance."""
    csv = ctx.pub.csv("tabel-1", table[["variable", "group", "n", "percent"]])
    ctx.pub.table("tabel-1", table[table["variable"] != "totaal"], ["variable", "group"], {"n": 0, "percent": 2})
    ctx.pub.table("tabel-1", table[table["variable"] == "totaal"], ["variable", "group"], {"n": 0})
    rows = []
    for variable, part in table.groupby("variable", sort=False):
        if variable != "totaal":
            rows.append([f"**{part['variable_label'].iat[0]}**", "", ""])
        for r in part.itertuples(index=False):
            label = f"**{r.label}**" if variable == "totaal" else r.label
            rows.append([label, nl_number(r.n), "" if variable == "totaal" else nl_number(r.percent, 2)])
    cells = pd.DataFrame(rows)
    caption = f"Leerlingen in de gegevens naar geslacht, opleiding ouders en regio ({year_span(ctx)}), aantallen en percentages."
    return (
        "{numref}`tab-algemeen-beeld` laat zien welke groepen leerlingen in de gegevens zitten, en dus in dit rapport.\n\n"
        + table_block(cells, "tab-algemeen-beeld", caption, ["Groep", "Aantal leerlingen", "Percentage"])
        + suppression_legend(table, ctx.min_cell)
        + "\n" + provenance(ctx.notebook, ["oml.stats.tables.table1"], csv)
    )


# ----------------------------------------------------------------------------- Figure 1
def glue_scale(ctx) -> None:
    """Glue the answer scale and the index rule as the text names them (from the contract and index modules)."""
    ctx.pub.text("scale", _scale(ctx))
    ctx.pub.text("min_share", min_share_words())


def glue_agreement(ctx, agreement) -> None:
    """Glue the share agreeing (4 or 5) with the two statements the factsheet names."""
    for item, key in (("item_praten", "agree_praten"), ("item_gemak", "agree_gemak")):
        answered = ctx.frame[item].notna().sum()
        share = agreement(ctx.frame, item) * 100 if answered >= ctx.min_cell else float("nan")
        ctx.pub.number(key, share, 0, PCT)


def answers_figure(ctx, distribution: pd.DataFrame) -> str:
    """Figure 1: stacked answer bars (pooled years), CSV of all periods, provenance."""
    from oml.stats.disclosure import suppress_distribution

    dist = suppress_distribution(distribution, ctx.min_cell)
    published = dist[["period", "item", "answer", "n", "percent"]]
    csv = ctx.pub.csv("figuur-1", published)
    ctx.pub.table("figuur-1", published, ["period", "item", "answer"], {"percent": 0, "n": 0})
    words = ctx.words
    drawn = list(dict.fromkeys(dist.loc[dist["period"] == "totaal", "item"]))
    scale = scales.current()
    legend = {a: codebook.answer_legend(a, t) for a, t in words.period_labels(scale, _years(ctx)).items()}
    ax = plotting.answer_bars(dist, labels={i: words.label(i, "\u00a0†") for i in drawn}, legend=legend)
    path = plotting.save(ax.figure, ctx.pub.files / f"{ctx.pub.page}-figuur-1.svg")
    pooled = dist[(dist["period"] == "totaal") & dist["percent"].notna()]
    agree = pooled[pooled["answer"] >= 4].groupby("item", sort=False)["percent"].sum()
    alt = (f"Gestapelde staven, één per stelling ({nl_number(len(agree))} stellingen), met het percentage leerlingen per "
           f"antwoord van {_scale(ctx)}, {year_span(ctx)} samen. Het aandeel dat het "
           f"(helemaal) eens is (4 of 5) loopt van {nl_number(agree.min(), 0)}{PCT} ('{words.wording(agree.idxmin())}') "
           f"tot {nl_number(agree.max(), 0)}{PCT} ('{words.wording(agree.idxmax())}').")
    caption = f"Antwoorden van leerlingen op de stellingen over hun relatie met de leraar, {year_span(ctx)} (percentages)."
    missing = _shown_years(codebook.not_asked(ctx.frame), _years(ctx))
    if missing:
        years = set(_years(ctx))
        partly = {i: ys for i, ys in missing.items() if set(ys) != years}
        never = {i: ys for i, ys in missing.items() if set(ys) == years}
        caption += " " + text.not_asked_sentence(partly, words.wording, "; de balk rust op de andere jaren") if partly else ""
        caption += " " + text.not_asked_sentence(never, words.wording, " en staat daarom niet in de figuur") if never else ""
    if any(words.illustrative(i) for i in agree.index):
        caption += (" † Formulering ter illustratie: de factsheet beschrijft alleen de stellingen over praten over "
                    "problemen en zich op het gemak voelen.")
    # The table view: the pooled percentages the bars draw, statement by answer (a suppressed statement is not drawn).
    drawn_pct = dist[dist["period"] == "totaal"].pivot(index="item", columns="answer", values="percent").dropna()
    drawn_pct = drawn_pct.loc[[i for i in drawn if i in drawn_pct.index]]  # in the order of the bars
    cells = pd.DataFrame({"Stelling": [words.label(i) for i in drawn_pct.index]})
    for answer in drawn_pct.columns:
        cells[legend[int(answer)]] = [nl_number(v, 0) + PCT for v in drawn_pct[answer]]
    view = figure_table(cells,
                        f"De cijfers van de figuur hierboven: percentage leerlingen per antwoord, {year_span(ctx)} samen.")
    return (figure_block(f"files/{path.name}", "fig-algemeen-beeld", caption, alt) + "\n\n" + view
            + suppression_legend(dist, ctx.min_cell) + "\n"
            + provenance(ctx.notebook, ["oml.stats.distribution.answer_distribution", "oml.report.plotting.answer_bars"], csv))


def glue_alpha(ctx, alpha: dict) -> None:
    """Glue Cronbach's alpha, its interval, n and a verbal judgement derived from its value."""
    ctx.pub.number("alpha", alpha["alpha"], 3)
    lo = ctx.pub.number("alpha_ci_low", alpha["ci_low"], 3)
    hi = ctx.pub.number("alpha_ci_high", alpha["ci_high"], 3)
    ctx.pub.text("alpha_ci", f"{nl_number(alpha['level'] * 100)}%-betrouwbaarheidsinterval {lo} tot {hi}")
    ctx.pub.number("alpha_n", alpha["n"])
    ctx.pub.text("alpha_judgement", text.alpha_judgement(alpha["alpha"]))
    ctx.pub.text("alpha_items", alpha_items(ctx, alpha.get("left_out", [])))


def alpha_items(ctx, left_out: list[str]) -> str:
    """Which statements alpha's pupils answered: "alle stellingen", or those asked in every year and which are left out.

    Alpha uses the statements asked in every year (:func:`oml.stats.reliability.cronbach_alpha`).
    """
    if not left_out:
        return "alle stellingen"
    words = [text.quoted(ctx.words.wording(c)) for c in left_out]
    return (f"alle stellingen die in elk jaar zijn gevraagd ({text.nl_list(words)} "
            f"{'is' if len(words) == 1 else 'zijn'} niet elk jaar gevraagd en {'telt' if len(words) == 1 else 'tellen'} niet mee)")


# ----------------------------------------------------------------------------- Figures 2-5
def breakdown_text(ctx, result) -> str:
    """The paragraph above a diamond figure, from the findings and comparisons."""
    from oml.report.methods import fragile_note  # a conclusion that changes under a multilevel or CR2 check is marked

    return fragile_note(ctx, result) + text.chapter_paragraph(result.findings, result.comparisons, f"{{numref}}`fig-{ctx.pub.page}`", ctx.level, ctx.pub.formatter())


def breakdown_figure(ctx, result) -> str:
    """A diamond figure with caption, alt text, reading guide, CSV of the drawn numbers and provenance."""
    from oml.stats.models import TIDY

    drawn = result.table[TIDY]
    csv = ctx.pub.csv("figuur", drawn)
    tests = ctx.pub.csv("toetsen", result.comparisons)
    ctx.pub.table("figuur", drawn, ["year", "group"], {"estimate": 2, "se": 3, "ci_low": 2, "ci_high": 2, "n": 0})
    path = diamond_figures(result.table, result.comparisons, ctx.level, ctx.pub.files / f"{ctx.pub.page}-figuur.svg")
    caption = text.figure_caption(result.by, ctx.level, result.findings.not_compared)
    block = figure_block(f"files/{path.name}", f"fig-{ctx.pub.page}", caption, text.diamond_alt(result.table, result.findings))
    block += "\n\n" + figure_table(diamond_table(drawn, ctx.level), DIAMOND_TABLE_CAPTION)
    guide = text.leeswijzer(result.means.controls, ctx.level)
    prov = provenance(ctx.notebook, ["oml.stats.results.breakdown", "oml.stats.models.adjusted_means", "oml.stats.comparisons.compare",
                                     "oml.report.plotting.diamond_plot"], csv)
    prov = prov.replace("\n:::\n", f" Alle vergelijkingen: {{download}}`CSV <{tests}>`.\n:::\n")
    return block + suppression_legend(result.table, ctx.min_cell) + "\n\n" + guide + "\n" + prov


#: The caption of a diamond figure's table view (raw HTML: no figure number can be referenced there).
DIAMOND_TABLE_CAPTION = "De cijfers van de figuur hierboven: gecorrigeerde afwijking van het gemiddelde per jaar en groep, met interval."


def diamond_figures(table: pd.DataFrame, comparisons: pd.DataFrame, level: float, path, breaks: list[int] | None = None):
    """Draw and save a diamond figure (:func:`oml.report.plotting.diamond_plot`) and its phone variant next to it
    (:func:`oml.report.plotting.diamond_portrait`, ``<name>-smal.svg``, served to narrow screens by the site); returns
    the path of the first."""
    ax = plotting.diamond_plot(table, comparisons, level=level, breaks=breaks)
    saved = plotting.save(ax.figure, path)
    ax = plotting.diamond_portrait(table, comparisons, level=level, breaks=breaks)
    plotting.save(ax.figure, plotting.portrait_path(saved))
    return saved


# ----------------------------------------------------------------------------- methods
def glue_methods(ctx) -> None:
    """Glue the rule parameters the methods text names, the years, and where the statements' wording comes from."""
    glue_years(ctx)
    glue_scale(ctx)
    ctx.pub.number("min_cell", ctx.min_cell)
    ctx.pub.text("codebook_intro", codebook_intro(ctx))


def codebook_intro(ctx) -> str:
    """Where the statements' wording comes from, in words: the data themselves, the factsheet, or illustrative."""
    words = ctx.words
    items = contract.item_columns(ctx.frame.columns)
    sources = {c: words.source(c) for c in items}
    delivered, factsheet, illustrative = ([c for c in items if sources[c] == k] for k in
                                          (codebook.SOURCE_DELIVERY, codebook.SOURCE_FACTSHEET, codebook.SOURCE_ILLUSTRATIVE))
    if illustrative and not delivered:
        if not factsheet:
            return "De formuleringen van de stellingen zijn ter illustratie (de factsheet publiceert ze niet)."
        one = len(factsheet) == 1
        return (f"Alleen de {'stelling' if one else text.nl_count_word(len(factsheet)) + ' stellingen'} die in de factsheet "
                f"{'wordt' if one else 'worden'} genoemd, {'heeft' if one else 'hebben'} hier {'haar' if one else 'hun'} echte "
                "OML-formulering; de overige formuleringen zijn ter illustratie (de factsheet publiceert ze niet).")
    out = []
    if delivered:
        who = ("alle stellingen" if len(delivered) == len(items) else
               f"{text.nl_count_word(len(delivered))} stelling{'en' if len(delivered) > 1 else ''}")
        out.append(f"De formulering van {who} komt uit de gegevens zelf: het variabelelabel in het extract of de mapping.")
    if factsheet:
        one = len(factsheet) == 1
        out.append(f"De formulering van {'de stelling' if one else 'de ' + text.nl_count_word(len(factsheet)) + ' stellingen'} "
                   f"die de factsheet noemt, volgt de omschrijving in de factsheet.")
    if illustrative:
        out.append("De overige formuleringen zijn ter illustratie (de factsheet publiceert ze niet).")
    return " ".join(out)


def contract_block(ctx) -> str:
    """The data contract as a table, rendered from :mod:`oml.data.contract` itself."""
    lo_y, hi_y = contract.YEAR_RANGE
    lo_a, hi_a = contract.AGE_RANGE
    rows = [
        ["`pupil_id`", "tekst, verplicht, uniek (één rij per leerling)"],
        ["`school_id`", "tekst, verplicht (voor de clustering naar school)"],
        ["`year`", f"geheel getal, {lo_y} t/m {hi_y}"],
        ["`sex`", ", ".join(f"`{c}`" for c in contract.SEXES)],
        ["`age`", f"leeftijd in jaren, {nl_number(lo_a)} t/m {nl_number(hi_a)}"],
        ["`parent_education`", ", ".join(f"`{c}`" for c in contract.PARENT_EDUCATIONS)],
        ["`region`", ", ".join(f"`{c}`" for c in contract.REGIONS)],
        ["`item_*`", f"minstens {contract.MIN_ITEMS} stellingen; geheel getal op de antwoordschaal van het eigen jaar ("
                     + "; ".join(f"{sc.years_text()}: {sc.lowest} t/m {sc.highest}" for sc in scales.load_scales()) + "), leeg toegestaan"],
    ]
    return table_block(pd.DataFrame(rows), "tab-datacontract", "Het datacontract: één rij per leerling.", ["Kolom", "Regel"])


def codebook_block(ctx) -> str:
    """The statements with their wording (the data's own where delivered, :mod:`oml.data.codebook`) and its source.

    When a statement was not asked in some year of the data, a column names those years.
    """
    words = ctx.words
    items = contract.item_columns(ctx.frame.columns)
    reverse = set(contract.reversed_items(ctx.frame))
    rows = [[f"`{c}`", words.wording(c), words.source(c), "ja" if c in reverse else "nee"] for c in items]
    header = ["Kolom", "Stelling", "Formulering", "Omgepoold"]
    missing = codebook.not_asked(ctx.every_year)
    if missing:
        header.append("Niet gevraagd in")
        for row, c in zip(rows, items):
            row.append(text.nl_list([str(y) for y in missing.get(c, [])]) or "")
    return table_block(pd.DataFrame(rows), "tab-codeboek", "Codeboek van de stellingen (omgepoold: negatief geformuleerd, voor de index omgekeerd gescoord).",
                       header)


def items_block(ctx, stats: pd.DataFrame) -> str:
    """Item–rest correlations and alpha-if-deleted; first, when some year asked fewer statements, what that does.

    Which years' index rests on fewer statements is said for every year of the data; the
    statements not asked in every year of the page's period have no statistics here (alpha
    leaves them out, :mod:`oml.stats.reliability`) and show :data:`oml.report.text.NOT_ASKED`.
    """
    words = ctx.words
    csv = ctx.pub.csv("items", stats)
    ctx.pub.table("items", stats, ["item"], {"mean": 2, "sd": 2, "item_rest_r": 2, "alpha_if_deleted": 2})
    rows = [[words.wording(r.item), nl_number(r.mean, 2), nl_number(r.sd, 2), nl_number(r.item_rest_r, 2),
             nl_number(r.alpha_if_deleted, 2)] for r in stats.itertuples(index=False)]
    items = contract.item_columns(ctx.frame.columns)
    left_out = [c for c in items if c not in set(stats["item"])]
    rows += [[words.wording(c), *[NOT_ASKED] * 4] for c in left_out]
    everything = ctx.every_year
    note = text.fewer_statements_sentence(codebook.not_asked(everything), contract.item_columns(everything.columns),
                                          words.wording, min_share_words())
    if left_out:
        one = len(left_out) == 1
        note += (f" Cronbachs alfa over {year_span(ctx)} en de tabel hieronder gebruiken alleen de stellingen die in elk van die "
                 f"jaren zijn gevraagd, zodat de leerlingen van elk jaar meetellen: "
                 f"{text.nl_list([text.quoted(words.wording(c)) for c in left_out])} {'telt' if one else 'tellen'} daar niet mee.")
    legend = (f"\n\n{NOT_ASKED} = niet berekend: de stelling is niet in elk jaar van {year_span(ctx)} gevraagd." if left_out else "")
    return ((note.strip() + "\n\n" if note else "")
            + table_block(pd.DataFrame(rows), "tab-items", "Stellingen van de index: gemiddelde, standaarddeviatie, item-restcorrelatie en alfa zonder de stelling.",
                          ["Stelling", "Gemiddelde", "sd", "Item-rest r", "Alfa zonder stelling"])
            + legend + "\n" + provenance(ctx.notebook, ["oml.stats.reliability.item_statistics"], csv))


def models_block(ctx, results: dict) -> str:
    """Per figure: formula, controls, pupils and schools in the model (``results``: :func:`oml.stats.results.breakdowns`)."""
    from oml.stats.models import formula_for

    rows, tidy = [], []
    for k, (by, result) in enumerate(results.items()):
        am = result.means
        tidy.append({"figure": CHAPTER[by], "formula": formula_for(by), "controls": " + ".join(am.controls),
                     "pupils": am.n_model, "schools": am.n_clusters})
        rows.append([f"{{numref}}`fig-{CHAPTER[by]}`", f"`{formula_for(by)}`",
                     text.nl_list([contract.VARIABLE_LABELS[c] for c in am.controls]),
                     ctx.pub.number(f"model_n_{k}", am.n_model), ctx.pub.number(f"model_schools_{k}", am.n_clusters)])
    csv = ctx.pub.csv("modellen", pd.DataFrame(tidy))
    return (table_block(pd.DataFrame(rows), "tab-modellen", "Het model achter elke figuur.",
                        ["Figuur", "Model", "Gecontroleerd voor", "Leerlingen", "Scholen"])
            + "\n" + provenance(ctx.notebook, ["oml.stats.models.adjusted_means", "oml.stats.models.formula_for"], csv))


#: The families of comparisons (:mod:`oml.stats.comparisons`), in the order the methods table shows them.
FAMILIES = ("first_last", "consecutive", "between")


def comparisons_block(ctx, results: dict) -> str:
    """Per figure: the size of each Holm family, how many significant, where the overlap rule disagrees, what is not compared.

    Each family is Holm-corrected on its own, so its size is what the correction depends on.
    A group drawn but never compared (parental education "onbekend") is named in its own column.
    """
    rows, tidy = [], []
    for by, result in results.items():
        c = result.comparisons
        sizes = {f"comparisons_{family}": int((c["family"] == family).sum()) for family in FAMILIES}
        counts = {"significant": int(c["significant"].sum()),
                  "overlap_says_significant": int(c["overlap_says_significant"].sum()), "disagree": int(c["disagree"].sum())}
        apart = result.findings.not_compared
        tidy.append({"figure": CHAPTER[by], **sizes, **counts, "not_compared": " ".join(apart)})
        per_family = " / ".join(ctx.pub.number(f"{k}_{CHAPTER[by]}", v) for k, v in sizes.items())
        rows.append([f"{{numref}}`fig-{CHAPTER[by]}`", per_family, *(ctx.pub.number(f"{k}_{CHAPTER[by]}", v) for k, v in counts.items()),
                     text.nl_list([text.quoted(text.group_label(g).lower()) for g in apart]) or "geen"])
    csv = ctx.pub.csv("vergelijkingen", pd.DataFrame(tidy))
    return (table_block(pd.DataFrame(rows), "tab-vergelijkingen",
                        "Vergelijkingen per figuur: het aantal per soort (eerste tegen laatste jaar / opeenvolgende jaren / "
                        "groepen in het laatste jaar; elke soort heeft een eigen Holm-correctie), de formele toets (Holm) en de "
                        "vuistregel van overlappende intervallen.",
                        ["Figuur", "Vergelijkingen per soort", "Significant (toets)", "Significant (vuistregel)", "Oneens",
                         "Getekend, niet getoetst"])
            + "\n" + provenance(ctx.notebook, ["oml.stats.results.breakdown", "oml.stats.comparisons.compare"], csv))


def clustering_block(ctx, table: pd.DataFrame) -> str:
    """ICC and design effect per answer-scale period (:func:`oml.stats.clustering.clustering_by_period`), and what they mean.

    The sentences speak of the period of the factsheet's pages; the table has every period of the data.
    """
    csv = ctx.pub.csv("clustering", table)
    decimals = {"pupils": 0, "schools": 0, "mean_size": 0, "weighted_size": 0, "icc": 3, "design_effect": 1,
                "effective_n": 0, "width_factor": 1}
    ctx.pub.table("clustering", table, ["period"], decimals)
    # One column per period: the table stays narrow on a phone however many measures it shows.
    names = {"pupils": "Leerlingen met een indexscore", "schools": "Scholen", "mean_size": "Gemiddeld aantal leerlingen per school",
             "weighted_size": "Gewogen gemiddeld aantal per school (`m`)", "icc": "ICC", "design_effect": "Designeffect",
             "effective_n": "Effectief aantal leerlingen", "width_factor": "Factor voor de breedte van een interval"}
    rows = [[names[k], *(nl_number(v, d) for v in table[k])] for k, d in decimals.items()]
    header = ["", *(f"{r.period.capitalize()} ({r.first_year}–{r.last_year})" if r.first_year != r.last_year
                    else f"{r.period.capitalize()} ({r.first_year})" for r in table.itertuples(index=False))]
    current = table[table["period"] == scales.current().name]
    words = ""
    if len(current):
        r = current.iloc[0]

        def n(key: str, decimals: int = 0) -> str:
            return ctx.pub.number(f"clustering_{key}", r[key], decimals)

        icc_pct = ctx.pub.number("clustering_icc_percent", r["icc"] * 100, 1, PCT)
        words = (f"In de periode {year_span(ctx)} ligt {icc_pct} van de verschillen in de index tussen scholen (ICC {n('icc', 3)}); "
                 "de rest ligt tussen leerlingen van dezelfde school. Dat lijkt weinig, maar een school telt veel leerlingen "
                 f"(gemiddeld {n('mean_size')} over de jaren {year_span(ctx)}), en dan telt het op: het designeffect is "
                 f"{n('design_effect', 1)}. De {n('pupils')} leerlingen met een indexscore bevatten daardoor ongeveer evenveel "
                 f"informatie als {n('effective_n')} leerlingen die los van elkaar gekozen zijn, en een betrouwbaarheidsinterval "
                 f"dat de scholen zou negeren, zou ongeveer {n('width_factor', 1)} keer te smal zijn. De intervallen en toetsen in "
                 "dit rapport negeren de scholen niet: hun standaardfouten zijn geclusterd naar school (CR1). Het designeffect geldt "
                 "voor een gemiddelde over alle scholen, en ook voor een verschil tussen regio's, die elk hun eigen scholen hebben. "
                 "Bij een verschil tussen groepen die op dezelfde scholen zitten (jongens en meisjes, of twee jaren) valt het "
                 "schooleffect grotendeels weg, en is het verlies kleiner.\n\n")
    return (words
            + table_block(pd.DataFrame(rows), "tab-clustering", "Leerlingen binnen scholen: ICC en designeffect van de index per antwoordschaal.",
                          header)
            + "\n" + provenance(ctx.notebook, ["oml.stats.clustering.clustering_by_period"], csv))


def unknown_block(ctx, shares: pd.DataFrame, schools: pd.DataFrame) -> str:
    """Parental education "onbekend" in the open: how often, where, whether it hangs on the school, and how it is treated.

    ``shares`` is :func:`oml.stats.tables.unknown_share`, ``schools`` :func:`oml.stats.tables.unknown_by_school`.
    What "onbekend" likely is follows from the school counts: far more schools where (almost) every
    pupil has it than chance would give make it largely a matter of the school.
    """
    from oml.stats.tables import SCHOOL_SHARE, SIZE_BOUNDS, size_labels

    total = shares[shares["variable"] == "totaal"].iloc[0]
    if total["suppressed"] or total["unknown"] == 0:
        # Nothing (or too little to show) to put in the open: say so, without a number that rests on few pupils.
        if total["unknown"] == 0:
            return "In deze gegevens is de opleiding van de ouders van elke leerling bekend; ‘onbekend’ komt niet voor."
        return ("Het aandeel leerlingen van wie de opleiding van de ouders onbekend is, wordt niet getoond: met of zonder "
                f"bekende opleiding zou het op minder dan {ctx.pub.number('onbekend_min_cell', ctx.min_cell)} leerlingen rusten.")
    csv = ctx.pub.csv("onbekend", shares.drop(columns="suppressed"))
    ctx.pub.table("onbekend", shares, ["variable", "group"], {"pupils": 0, "percent": 1})
    share = ctx.pub.number("onbekend_percent", total["percent"], 1, PCT)
    heads = {"year": "Jaar", "region": "Regio", "school_size": "Schoolgrootte (leerlingen in groep 8 per jaar)"}
    rows = [["**Alle leerlingen**", nl_number(total["pupils"]), nl_number(total["percent"], 1) + PCT]]
    for variable, head in heads.items():
        part = shares[shares["variable"] == variable]
        if len(part):
            rows.append([f"**{head}**", "", ""])
            rows += [[str(r.group), nl_number(r.pupils), nl_number(r.percent, 1) + ("" if r.suppressed else PCT)]
                     for r in part.itertuples(index=False)]
    table = table_block(pd.DataFrame(rows), "tab-onbekend", f"Aandeel leerlingen van wie de opleiding van de ouders onbekend is ({year_span(ctx)}).",
                        ["Groep", "Leerlingen", "Opleiding ouders onbekend"])

    schools_csv = ctx.pub.csv("onbekend-scholen", schools.drop(columns="suppressed"))
    ctx.pub.table("onbekend-scholen", schools, ["kind"], {"schools": 0, "pupils": 0, "percent_of_unknown": 0})
    ctx.pub.table("onbekend-scholen", schools[schools["kind"] != "mixed"], ["kind"], {"expected": 1})  # none for "mixed"
    # The rule's parameters are published numbers too (oml.stats.tables: SCHOOL_SHARE, SIZE_BOUNDS).
    pct = ctx.pub.number("onbekend_school_share", SCHOOL_SHARE * 100, 0, PCT)
    low = ctx.pub.number("onbekend_school_share_low", (1 - SCHOOL_SHARE) * 100, 0, PCT)
    for i, bound in enumerate(SIZE_BOUNDS):
        ctx.pub.record(f"onbekend_size_bound_{i}", bound, nl_number(bound))
    labels = {"all": f"(Bijna) alle leerlingen ‘onbekend’ ({pct} of meer)", "mixed": "Gemengd",
              "none": f"(Bijna) geen leerling ‘onbekend’ ({low} of minder)"}
    by_kind = schools.set_index("kind")
    school_rows = [[labels[k], nl_number(by_kind.at[k, "schools"]), nl_number(by_kind.at[k, "expected"], 1) if k != "mixed" else "",
                    nl_number(by_kind.at[k, "pupils"]), nl_number(by_kind.at[k, "percent_of_unknown"], 0) + ("" if by_kind.at[k, "suppressed"] else PCT)]
                   for k in ("all", "mixed", "none")]
    school_table = table_block(pd.DataFrame(school_rows), "tab-onbekend-scholen",
                               f"Scholen naar hun aandeel leerlingen met opleiding ouders ‘onbekend’ ({year_span(ctx)}), naast wat bij toeval te verwachten is.",
                               ["Scholen waar", "Scholen", "Bij toeval verwacht", "Leerlingen", "Deel van alle ‘onbekend’"])

    n_schools = ctx.pub.number("onbekend_schools", int(by_kind["schools"].sum()))
    alle = by_kind.loc["all"]
    geen = by_kind.loc["none"]
    what = (f"Van alle leerlingen in {year_span(ctx)} is bij {share} de opleiding van de ouders onbekend. ‘Onbekend’ is geen "
            "opleidingsniveau: het betekent alleen dat de gegevens voor die leerling geen opleiding van de ouders bevatten. "
            "Waarom die ontbreekt, staat niet in de gegevens. Wel is te zien of het aan de school hangt. ")
    def bij(key: str, count: int) -> str:
        return "Bij geen" if count == 0 else f"Bij {ctx.pub.number(key, count)}"

    def about(key: str, expected: float) -> str:
        return "vrijwel geen" if nl_number(expected, 1) == nl_number(0, 1) else f"ongeveer {ctx.pub.number(key, expected, 1)}"

    school_words = (f"{bij('onbekend_schools_all', alle['schools'])} van de {n_schools} scholen is de opleiding van (bijna) alle "
                    f"ouders onbekend ({pct} of meer van de leerlingen); als ‘onbekend’ los van de school over de leerlingen "
                    f"verdeeld was, zou u er {about('onbekend_schools_all_expected', alle['expected'])} verwachten. "
                    f"{bij('onbekend_schools_none', geen['schools'])} van de scholen is juist de opleiding van (bijna) alle ouders "
                    f"bekend ({low} of minder onbekend; bij toeval {about('onbekend_schools_none_expected', geen['expected'])}). ")
    if bool(alle["more_than_chance"]):
        verdict = ("Dat zijn veel meer scholen dan toeval geeft: ‘onbekend’ hangt in deze gegevens sterk samen met de school. "
                   "Waarschijnlijk levert een deel van de scholen de opleiding van de ouders niet (of bijna niet) aan. Dan zegt "
                   "‘onbekend’ vooral iets over de school, en weinig over de ouders. ")
        if not math.isnan(alle["percent_of_unknown"]):
            verdict += (f"Van alle leerlingen met ‘onbekend’ zit {ctx.pub.number('onbekend_in_schools_all', alle['percent_of_unknown'], 0, PCT)} "
                        "op zulke scholen. ")
    elif bool(geen["more_than_chance"]):
        verdict = ("Dat zijn veel meer scholen zonder ‘onbekend’ dan toeval geeft: ‘onbekend’ hangt in deze gegevens samen met de "
                   "school. Op sommige scholen is de opleiding van (bijna) alle ouders bekend, op andere veel minder vaak. ")
    else:
        verdict = ("Dat wijkt niet duidelijk af van toeval: in deze gegevens komt ‘onbekend’ op (bijna) alle scholen voor, naast "
                   "bekende opleidingen, en hangt het niet aan bepaalde scholen. Wat het dan wel is, bijvoorbeeld ouders die de vraag niet "
                   "beantwoordden, is uit de gegevens niet af te leiden. ")
    sizes = text.nl_list([f"‘{label}’" for label in size_labels()])
    spread = (f"{{numref}}`tab-onbekend` toont het aandeel per jaar, per regio en per schoolgrootte (het aantal leerlingen in groep 8 "
              f"per jaar: {sizes}); {{numref}}`tab-onbekend-scholen` telt de scholen.")
    treated = (
        "**Hoe de analyses ermee omgaan.** In de modellen is ‘onbekend’ een eigen categorie van de controlevariabele opleiding "
        "ouders. Zo blijven alle leerlingen in het model, ook als de opleiding van hun ouders onbekend is. Die aanpak heet de "
        "missing-indicatormethode. Die is eenvoudig, maar corrigeert minder goed naarmate er meer ontbreekt: binnen ‘onbekend’ "
        "zitten leerlingen van alle opleidingsniveaus door elkaar, dus voor hen corrigeert het model nauwelijks voor opleiding. "
        f"Hier gaat het om {share} van de leerlingen; houd daar rekening mee bij de gecorrigeerde gemiddelden.\n\n"
        "In {numref}`fig-verschillen-opleiding-ouders` staat ‘onbekend’ wel, met zijn interval, maar we toetsen het niet: niet "
        "tegen de bekende opleidingsniveaus en ook niet tussen de jaren. ‘Onbekend’ is geen groep ouders. Een verschil met hbo "
        "of wo zou dus niets zeggen over ouders met een bepaalde opleiding, en een verandering door de jaren kan ook komen "
        "doordat andere scholen wel of niet aanleveren. Zo blijft ‘onbekend’ ook buiten de Holm-correctie van de groepen die we "
        "wel vergelijken. De samenvatting en de teksten bij de figuren zeggen daarom niets over ‘onbekend’ als groep.")
    return (what + school_words + verdict + spread + "\n\n" + table + suppression_legend(shares, ctx.min_cell) + "\n"
            + provenance(ctx.notebook, ["oml.stats.tables.unknown_share"], csv) + "\n" + school_table
            + suppression_legend(schools, ctx.min_cell) + "\n"
            + provenance(ctx.notebook, ["oml.stats.tables.unknown_by_school"], schools_csv) + "\n" + treated)


def coverage_block(ctx) -> str:
    """The coverage simulation result (bench/coverage.py), read from its committed CSV, with its reading."""
    from oml.paths import COVERAGE

    cov = pd.read_csv(COVERAGE)
    csv = ctx.pub.csv("dekking", cov)
    reps = int(cov["replications"].iloc[0])
    nominal = float(cov["level"].iloc[0]) if "level" in cov else ctx.level
    rows = []
    for r in cov.itertuples(index=False):
        rows.append([r.contrast, ctx.pub.number(f"dekking/{r.contrast}/coverage", r.coverage * 100, 1, PCT),
                     ctx.pub.number(f"dekking/{r.contrast}/mc_se", r.mc_se * 100, 1)])
    # Reading: within 2 Monte Carlo standard errors of the nominal level counts as "as promised".
    z = (cov["coverage"] - nominal) / cov["mc_se"]
    high = [f"‘{c}’" for c in cov.loc[z > 2, "contrast"]]
    low = [f"‘{c}’" for c in cov.loc[z < -2, "contrast"]]
    pct = nl_number(nominal * 100) + PCT
    reading = f"Bij een goed interval ligt de dekking dicht bij {pct}. "
    if not high and not low:
        reading += f"Voor alle vergelijkingen ligt de dekking binnen twee keer de Monte-Carlo-fout van {pct}."
    if high:
        reading += (f"Voor de vergelijking{'en' if len(high) > 1 else ''} {text.nl_list(high)} ligt de dekking meer dan twee Monte-Carlo-fouten boven {pct}: die "
                    "intervallen zijn daar iets te ruim (voorzichtig). ")
    if low:
        reading += (f"Voor de vergelijking{'en' if len(low) > 1 else ''} {text.nl_list(low)} ligt de dekking meer dan twee Monte-Carlo-fouten onder {pct}: die "
                    "intervallen zijn daar iets te smal. ")
    reading += (" De studie toetst de intervallen alleen onder het model van de gesimuleerde gegevens en alleen voor "
                "vergelijkingen waarvan de ware waarde 0 is.")
    return (
        f"Over {ctx.pub.number('coverage_replications', reps)} herhalingen met telkens een nieuwe gesimuleerde "
        f"dataset telden we hoe vaak het {nl_number(nominal * 100)}%-interval de ware waarde bevatte. {reading}\n\n"
        + table_block(pd.DataFrame(rows), "tab-dekking", "Dekking van de betrouwbaarheidsintervallen in de simulatiestudie.",
                      ["Vergelijking (ware waarde 0)", "Dekking", "Monte-Carlo-fout (procentpunt)"])
        + "\n" + provenance(ctx.notebook, ["bench/coverage.py: run_coverage"], csv)
    )


def quality_block(ctx, quality: pd.DataFrame) -> str:
    """Rows read and pupils without an index, per year."""
    from oml.stats.disclosure import suppress_quality

    quality = suppress_quality(quality, ctx.min_cell)
    csv = ctx.pub.csv("datakwaliteit", quality.drop(columns="suppressed"))
    ctx.pub.table("datakwaliteit", quality, ["year"], {"rows": 0, "with_index": 0, "without_index": 0, "all_items_answered": 0, "missing_answers": 0})
    rows = [[str(r.year).capitalize(), nl_number(r.rows), nl_number(r.with_index), nl_number(r.without_index),
             nl_number(r.all_items_answered), nl_number(r.missing_answers)] for r in quality.itertuples(index=False)]
    hidden_years = {int(r.year) for r in quality.itertuples(index=False) if r.suppressed and str(r.year) != "totaal"}
    return (table_block(pd.DataFrame(rows), "tab-datakwaliteit", "Datakwaliteit per jaar.",
                        ["Jaar", "Rijen ingelezen", "Met index", "Zonder index (te weinig antwoorden)", "Alle stellingen beantwoord", "Lege antwoorden"])
            + suppression_legend(quality, ctx.min_cell) + "\n" + provenance(ctx.notebook, ["oml.stats.index.quality_summary"], csv)
            + missing_block(ctx, hidden_years))


def missing_block(ctx, hidden_years=frozenset()) -> str:
    """*Datakwaliteit*: each kind of missing answer counted separately, per statement and year; "" without a delivery.

    Shown when the data came with a delivery (:mod:`oml.data.delivery`) or a statement was not
    asked in some year; the synthetic data have neither, so their page is unchanged. Disclosure
    control: a count of 1 to ``min_cell - 1`` pupils is hidden, and within a statement and year
    (whose counts add up to the year's pupils) a second one when the hidden ones could be
    recovered; a year the data-quality table hides (``hidden_years``) is hidden here too. A
    statement not asked in a year shows :data:`oml.report.text.NOT_ASKED` in every column.
    """
    from oml.stats.index import missing_by_kind, suppress_missing

    if ctx.words.delivery is None and not codebook.not_asked(ctx.frame):
        return ""
    words = ctx.words
    published = suppress_missing(missing_by_kind(ctx.frame), ctx.min_cell, hidden_years)
    kinds = list(dict.fromkeys(published["kind"]))
    csv = ctx.pub.csv("ontbrekend", published)
    ctx.pub.table("ontbrekend", published[published["asked"]], ["item", "year", "kind"], {"n": 0})
    rows = []
    for item, part in published.groupby("item", sort=False):
        rows.append([f"**{words.wording(item)}**", *[""] * len(kinds)])
        for year, cells in part.groupby("year", sort=True):
            asked = bool(cells["asked"].iat[0])
            values = cells.set_index("kind")["n"]
            rows.append([str(year), *[nl_number(values[k]) if asked else NOT_ASKED for k in kinds]])
    header = ["Stelling en jaar", *[k[0].upper() + k[1:] for k in kinds]]
    named = text.nl_list([text.quoted(k) for k in kinds[1:]])
    intro = (f"{{numref}}`tab-ontbrekend` telt per stelling en jaar de leerlingen die antwoord gaven en, apart per soort, de "
             f"ontbrekende antwoorden: {named}."
             + (" De soorten zijn die van de aangeleverde gegevens (de ontbrekende-waardecodes van het extract of de mapping)."
                if words.delivery is not None and words.delivery.missing else ""))
    legend = suppression_legend(published, ctx.min_cell) + (f"\n\n{NOT_ASKED_LEGEND}" if not published["asked"].all() else "")
    return ("\n\n" + intro + "\n\n"
            + table_block(pd.DataFrame(rows), "tab-ontbrekend", f"Antwoorden en ontbrekende antwoorden per stelling en jaar ({year_span(ctx)}).", header)
            + legend + "\n" + provenance(ctx.notebook, ["oml.stats.index.missing_by_kind", "oml.stats.index.suppress_missing"], csv))


def source_block(ctx) -> str:
    """Where this build's data come from: the synthetic data and their calibration, or the delivery as received.

    On a real build nothing here speaks of synthetic data: the delivered files (name, size, sha256),
    the mapping file (name, sha256) and the rows left out by its rules, with their reasons and counts.
    """
    from oml.data.delivery import delivery_of

    if ctx.synthetic:
        return ("De echte leerlinggegevens van de OML zijn vertrouwelijk. Deze openbare versie draait daarom op een "
                "synthetische dataset die de code zelf maakt, afgestemd op de gepubliceerde factsheet. Onderzoekers met "
                "toegang tot de echte gegevens bouwen met precies dezelfde code het echte rapport. De tabel hieronder zet "
                "de ijkdoelen naast wat de gebruikte gegevens opleveren.\n\n" + synthetic_block(ctx))
    d = delivery_of(ctx.frame)
    if d is None or not d.files:
        return ("De cijfers op deze site zijn berekend uit één aangeleverd gegevensbestand van de OML. Zijn naam en "
                "sha256 staan op de pagina {doc}`Versies <versies>`, met de stappen om deze site opnieuw te bouwen.\n")
    n_files = ctx.pub.number("delivery_files", len(d.files))
    text = (f"De cijfers op deze site zijn berekend uit de aangeleverde OML-gegevens: {n_files} "
            f"{'bestand' if len(d.files) == 1 else 'bestanden'}. Met de sha256 controleert u of een bestand precies "
            "hetzelfde is als het bestand waaruit deze site is gebouwd.\n\n")
    rows = [[f"`{f.name}`", ctx.pub.number(f"delivery_rows_{i}", f.rows), ctx.pub.number(f"delivery_bytes_{i}", f.size),
             f"`{f.sha256}`"] for i, f in enumerate(d.files)]
    text += table_block(pd.DataFrame(rows), "tab-levering", "De aangeleverde bestanden.",
                        ["Bestand", "Rijen", "Bytes", "sha256"]) + "\n"
    if d.mapping is not None:
        text += (f"De bestanden zijn gelezen met het mappingbestand `{d.mapping.name}` (sha256 `{d.mapping.sha256}`): "
                 "het zet de kolomnamen, codes en ontbrekende-waardecodes van de levering om naar het datacontract. "
                 "Het bestand wordt bij elke editie bewaard.\n\n")
    if d.exclusions:
        rows = [[e.reason, f"`{e.rule}`", ctx.pub.number(f"excluded_{i}", e.rows)] for i, e in enumerate(d.exclusions)]
        total = ctx.pub.number("excluded_total", sum(e.rows for e in d.exclusions))
        text += (f"Op grond van de regels in de mapping zijn {total} rijen bewust weggelaten, elk met een reden; geen "
                 "andere rij is weggelaten.\n\n"
                 + table_block(pd.DataFrame(rows), "tab-weggelaten", "Weggelaten rijen, per regel.",
                               ["Reden", "Regel", "Rijen"]) + "\n")
    return text + provenance(ctx.notebook, ["oml.data.extract.read_extract", "oml.data.delivery.delivery_of"])


def synthetic_block(ctx) -> str:
    """Calibration targets of the synthetic data next to what the data at hand give."""
    from oml.stats.distribution import agreement
    from oml.stats.reliability import cronbach_alpha
    from oml.data.synth import load_config

    cfg = load_config()
    t = cfg["targets"]
    alpha = cronbach_alpha(ctx.frame, ctx.level)["alpha"]
    tidy = [{"target": "n", "goal": cfg["n"], "tolerance": 0, "value": len(ctx.frame)},
            {"target": "alpha", "goal": t["alpha"], "tolerance": t["alpha_tolerance"], "value": alpha}]
    rows = [["N (Tabel 1)", nl_number(cfg["n"]), ctx.pub.number("synth_n", len(ctx.frame))]]
    rows.append(["Cronbachs alfa", f"{nl_number(t['alpha'], 2)} ± {nl_number(t['alpha_tolerance'], 2)}",
                 ctx.pub.number("synth_alpha", alpha, 3)])
    for item, target in t["agree"].items():
        share = agreement(ctx.frame, item)
        tidy.append({"target": f"agree_{item}", "goal": target, "tolerance": t["agree_tolerance"], "value": share})
        rows.append([f"Eens (4 of 5): {ctx.words.wording(item)}", f"{nl_number(target * 100)}{PCT} ± {nl_number(t['agree_tolerance'] * 100)}",
                     ctx.pub.number(f"synth_agree_{item}", share * 100, 1, PCT)])
    csv = ctx.pub.csv("ijking", pd.DataFrame(tidy))
    note = ("De gegevens van deze bouw zijn **synthetisch**." if ctx.synthetic else
            "De gegevens van deze bouw zijn **echte** gegevens; de ijkdoelen gelden alleen voor de synthetische data.")
    return (note + " De marges van {numref}`tab-algemeen-beeld` zijn exact overgenomen; de verdeling over de jaren, het aantal scholen en de "
            "effectgroottes zijn aannemelijke keuzes (zie `oml/config/synthetic.toml`).\n\n"
            + table_block(pd.DataFrame(rows), "tab-ijking", "IJkdoelen van de synthetische gegevens en de uitkomst in deze gegevens.",
                          ["Doel", "IJkdoel", "In deze gegevens"])
            + "\n" + provenance(ctx.notebook, ["oml.data.synth.load_config", "oml.stats.reliability.cronbach_alpha", "oml.stats.distribution.agreement"], csv))
