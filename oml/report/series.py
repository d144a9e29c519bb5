"""Page blocks of the chapter "Langere reeks": the index and the statements across the change of scale.

Like :mod:`oml.report.pages`: each function takes the notebook context and computed results,
records every number it shows in the page's Publisher, writes figures and CSVs and returns
MyST. Every year, scale and sentence comes from the data, ``oml/config/scales.toml`` or the
tests in :mod:`oml.stats.series`; nothing compares across a change of answer scale.
"""
from __future__ import annotations

import pandas as pd

from oml.data import codebook, contract, scales
from oml.report import plotting, text
from oml.report.pages import DIAMOND_TABLE_CAPTION, diamond_figures, min_share_words
from oml.report.publish import diamond_table, figure_block, figure_table, provenance, suppression_legend, table_block
from oml.report.text import nl_list, nl_number
from oml.stats.findings import HIGHER, LOWER, STABLE, direction

PCT = "\u00a0%"


def full_data(data: str | None, mapping: str | None = None) -> pd.DataFrame:
    """Every year of the data (all scale periods) with the index standardised within each period.

    The factsheet pages see only the latest period (:func:`oml.data.scales.current_period` in
    :func:`oml.report.notebook.setup`); this chapter needs the whole series.
    """
    from oml.report.notebook import load_frame
    from oml.stats.index import add_index

    return add_index(load_frame(data, mapping))


def _year(ctx, key: str, year: int) -> str:
    """A year as shown, recorded in numbers.json."""
    ctx.pub.record(key, int(year), str(int(year)))
    return str(int(year))


def _span(ctx, key: str, first: int, last: int) -> str:
    a = _year(ctx, f"{key}/first_year", first)
    if first == last:
        return a
    return f"{a}–{_year(ctx, f'{key}/last_year', last)}"


def _scale_name(scale: scales.Scale) -> str:
    """'vierpuntsschaal'.

    Examples
    --------
    >>> _scale_name(scales.scale_for_year(2020))
    'vierpuntsschaal'
    """
    words = {4: "vierpuntsschaal", 5: "vijfpuntsschaal", 7: "zevenpuntsschaal"}
    return words.get(scale.points, f"schaal met {scale.points} antwoorden")


def _scale_words(scale: scales.Scale, labels: dict[int, str] | None = None) -> str:
    """'een vierpuntsschaal (1 helemaal niet tot en met 4 helemaal wel)', with ``labels`` (answer -> label) of the data.

    Without ``labels``, those of ``oml/config/scales.toml``; the data's own come from
    :meth:`oml.data.codebook.Words.period_labels`.

    Examples
    --------
    >>> _scale_words(scales.scale_for_year(2024))
    'een vijfpuntsschaal (1 helemaal niet tot en met 5 helemaal wel)'
    >>> _scale_words(scales.scale_for_year(2019), {1: "1", 2: "2", 3: "3", 4: "4"})
    'een vierpuntsschaal (1 tot en met 4)'
    """
    labels = labels or scale.labels
    lo, hi = (codebook.answer_legend(a, labels.get(a, "")) for a in (scale.lowest, scale.highest))
    return f"een {_scale_name(scale)} ({lo} tot en met {hi})"


def _period_years(p) -> list[int]:
    return list(range(p.first_year, p.last_year + 1))


def glue_title(ctx, s) -> None:
    """Glue the span of the whole series ("2017–2025") as ``series_years``."""
    ctx.pub.text("series_years", _span(ctx, "series", s.first_year, s.last_year))


def intro_text(ctx, s) -> str:
    """Opening paragraph: which scale each period used, and why the periods are kept apart."""
    parts = []
    words = ctx.words
    for p in s.periods:
        span = _span(ctx, f"period/{p.scale.name}", p.first_year, p.last_year)
        labels = words.period_labels(p.scale, _period_years(p))
        parts.append(f"{'in' if p.first_year == p.last_year else 'van'} {span.replace('–', ' tot en met ')} op {_scale_words(p.scale, labels)}")
    n = ctx.pub.number("series_n_pupils", sum(p.result.means.n_model for p in s.periods))
    sentence = f"De leerlingen beantwoordden de stellingen {nl_list(parts)}."
    illustrative = [p.scale for p in s.periods if words.illustrative_labels(p.scale, _period_years(p))]
    if illustrative:
        sentence += (" De benamingen van de tussenliggende antwoorden van de "
                     f"{nl_list([_scale_name(sc) for sc in illustrative])} zijn ter illustratie: "
                     "de factsheet noemt ze niet.")
    if len(s.periods) == 1:
        return (sentence + f" Alle jaren in deze gegevens vallen onder dezelfde antwoordschaal; in totaal tellen {n} leerlingen "
                "met een indexscore mee.")
    return (
        sentence
        + f" In totaal tellen {n} leerlingen met een indexscore mee. Een score op de ene schaal is niet hetzelfde als een score op de andere: "
        "met vijf antwoorden is er een middencategorie, en leerlingen kunnen zich daardoor anders over de antwoorden verdelen. Daarom houden "
        "we de periodes in dit hoofdstuk uit elkaar. De index is per periode apart gestandaardiseerd (gemiddelde 0, "
        "standaarddeviatie 1 over de leerlingen van die periode), elke periode heeft een eigen model, en we toetsen "
        "veranderingen alleen tussen jaren van dezelfde periode. Of de relaties met leraren over de schaalwissel heen beter "
        "of slechter zijn geworden, is met deze gegevens niet te zeggen (zie {doc}`methoden`)."
    )


def index_text(ctx, s) -> str:
    """Per period: the change from first to last year and the significant year-to-year changes, from the tests."""
    fmt = ctx.pub.formatter()
    pct = nl_number(ctx.level * 100)
    lines = []
    for p in s.periods:
        r = p.result
        sentences = text.summary_sentences(r.findings)
        fl = r.comparisons[r.comparisons["family"] == "first_last"]
        if len(fl):
            row = fl.iloc[0]
            sentences.append(f"Het verschil tussen {row.year_b} en {row.year_a} is {fmt('change', row.estimate, 2)} standaarddeviatie "
                             f"({pct}%-betrouwbaarheidsinterval {fmt('change_ci_low', row.ci_low, 2)} tot {fmt('change_ci_high', row.ci_high, 2)}).")
        cons = r.comparisons[r.comparisons["family"] == "consecutive"]
        sig = cons[cons["significant"]]
        if len(cons) and not len(sig):
            sentences.append("Geen van de veranderingen van jaar op jaar is significant.")
        for row in sig.itertuples(index=False):
            word = {HIGHER: "stijging", LOWER: "daling"}[direction(float(row.estimate), bool(row.significant))]
            # The size of the change with the interval of that size, rounded by one rule (text.estimate_interval):
            # "een daling van 0,13 (… 0,09 tot 0,18)", never an estimate outside its printed interval.
            est, lo, hi = text.estimate_interval(row.estimate, row.ci_low, row.ci_high, 2, magnitude=True, fmt=fmt,
                                                 keys=("step", "step_ci_low", "step_ci_high"))
            sentences.append(f"Van {row.year_a} op {row.year_b} is er een significante {word} van {est} "
                             f"standaarddeviatie ({text.interval_words(ctx.level, lo, hi)}).")
        head = f"**{p.scale.name.capitalize()} ({p.first_year}–{p.last_year}).**" if p.first_year != p.last_year else f"**{p.scale.name.capitalize()} ({p.first_year}).**"
        lines.append(f"- {head} " + " ".join(sentences))
    out = "{numref}`fig-langere-reeks` toont per jaar de gecorrigeerde gemiddelde indexscore, per periode ten opzichte van het gemiddelde van die periode.\n\n" + "\n".join(lines)
    everything = ctx.every_year
    fewer = "" if everything is None else text.fewer_statements_sentence(
        codebook.not_asked(everything), contract.item_columns(everything.columns), ctx.words.wording, min_share_words())
    if fewer:
        out += "\n\n" + fewer
    for a, b in zip(s.periods, s.periods[1:]):
        out += (f"\n\nTussen {a.last_year} en {b.first_year} veranderde de antwoordschaal. Die twee jaren vergelijken we niet: "
                "een verschil zou evengoed aan de nieuwe schaal kunnen liggen als aan de leerlingen.")
    return out


def index_figure(ctx, s) -> str:
    """The diamond figure of the whole series with the break(s), caption, alt text, reading guide, CSVs, provenance."""
    from oml.stats.models import TIDY

    drawn = s.table[[*TIDY, "period"]]
    csv = ctx.pub.csv("figuur", drawn)
    tests = ctx.pub.csv("toetsen", s.comparisons)
    ctx.pub.table("figuur", drawn, ["year", "group"], {"estimate": 2, "se": 3, "ci_low": 2, "ci_high": 2, "n": 0})
    path = diamond_figures(s.table, s.comparisons, ctx.level, ctx.pub.files / f"{ctx.pub.page}-figuur.svg", breaks=s.breaks)
    caption = (f"Sociale relaties met leraren, naar jaar ({s.first_year}–{s.last_year}): gecorrigeerde afwijking van het gemiddelde "
               f"van de eigen periode met {nl_number(ctx.level * 100)}%-betrouwbaarheidsinterval. De stippellijn markeert de "
               "nieuwe antwoordschaal; links en rechts daarvan zijn de scores niet vergelijkbaar.")
    shown = s.table.dropna(subset=["estimate"])
    alt = (f"Diamantfiguur met per jaar van {s.first_year} tot en met {s.last_year} de gecorrigeerde afwijking van het gemiddelde "
           f"van de eigen periode, met betrouwbaarheidsinterval. "
           + " ".join(f"Een stippellijn vóór {b} markeert de nieuwe antwoordschaal." for b in s.breaks)
           + f" De geschatte afwijkingen liggen tussen {nl_number(shown['estimate'].min(), 2)} en {nl_number(shown['estimate'].max(), 2)}.")
    changed = [(p, t) for p in s.periods for t in p.result.findings.trends if t.direction != STABLE]
    words = {HIGHER: "positiever geworden", LOWER: "minder positief geworden"}
    alt += (" Significante verandering binnen een periode: " + "; ".join(f"{t.first_year}–{t.last_year} {words[t.direction]}" for _, t in changed) + "."
            if changed else " Geen significante verandering tussen eerste en laatste jaar binnen een periode.")
    guide = (f"**Leeswijzer.** De nullijn is per periode het gemiddelde over alle scholen en jaren van díe periode; elke diamant laat zien "
             f"hoeveel een jaar daarvan afwijkt (in standaarddeviaties van die periode). De lijnen door de diamanten zijn {nl_number(ctx.level * 100)}%-"
             "betrouwbaarheidsintervallen. Een sterretje markeert een significant verschil tussen het eerste en laatste jaar van een "
             "periode (formele toets met Holm-correctie). Diamanten aan weerszijden van de stippellijn horen bij verschillende "
             f"antwoordschalen: vergelijk ze niet met elkaar. {text.CONTROLS_LEAD} "
             f"{nl_list([contract.VARIABLE_LABELS[c] for c in s.periods[0].result.means.controls])}.")
    legend = suppression_legend(s.table, ctx.min_cell)
    prov = provenance(ctx.notebook, ["oml.stats.series.series", "oml.stats.results.breakdown", "oml.stats.comparisons.compare",
                                     "oml.report.plotting.diamond_plot"], csv)
    prov = prov.replace("\n:::\n", f" Alle vergelijkingen: {{download}}`CSV <{tests}>`.\n:::\n")
    view = figure_table(diamond_table(s.table[TIDY], ctx.level), DIAMOND_TABLE_CAPTION.replace(" en groep", ""))
    return figure_block(f"files/{path.name}", "fig-langere-reeks", caption, alt) + "\n\n" + view + legend + "\n\n" + guide + "\n" + prov


def agreement_figure(ctx, s, table: pd.DataFrame) -> str:
    """Share agreeing per statement and year with the break, caption, alt text, CSV, provenance.

    A statement not asked in a year (``asked`` false in :func:`oml.stats.series.agreement_by_year`)
    has no point there: its line is interrupted, its legend entry and the caption say "niet
    gevraagd" with the years, and its cell is neither hidden nor recorded (the CSV has ``n`` 0).
    """
    words = ctx.words
    asked = table["asked"] if "asked" in table else pd.Series(True, index=table.index)
    csv = ctx.pub.csv("stellingen", table.drop(columns=["asked"], errors="ignore"))
    ctx.pub.table("figuur/stellingen", table[asked.to_numpy()], ["item", "year"], {"percent": 0, "n": 0})  # drawn, not printed
    missing = {item: sorted(int(y) for y in part.loc[~asked.loc[part.index], "year"])
               for item, part in table.groupby("item", sort=False)}
    missing = {item: years for item, years in missing.items() if years}
    labels = {item: words.label(item) + (f" (niet gevraagd in {nl_list([str(y) for y in missing[item]])})" if item in missing else "")
              for item in dict.fromkeys(table["item"])}
    ax = plotting.agreement_lines(table, breaks=s.breaks, labels=labels)
    path = plotting.save(ax.figure, ctx.pub.files / f"{ctx.pub.page}-stellingen.svg")
    plotting.save(plotting.agreement_portrait(table, breaks=s.breaks, labels=labels).figure, plotting.portrait_path(path))
    # The table view: the drawn percentages, statement by year (a year not asked or suppressed shows its symbol).
    items = list(dict.fromkeys(table["item"]))
    years = sorted(int(y) for y in table["year"].unique())
    by_cell = table.assign(year=table["year"].astype(int)).set_index(["item", "year"])
    cells = pd.DataFrame({"Stelling": [words.label(i) for i in items]})
    for year in years:
        cells[str(year)] = [_agreement_cell(by_cell, item, year) for item in items]
    view = figure_table(cells, "De cijfers van de figuur hierboven: percentage leerlingen dat het (helemaal) eens is, per stelling en jaar.")
    rules = nl_list([f"in {p.first_year}–{p.last_year} antwoord {nl_list([str(a) for a in p.scale.answers if a >= p.scale.agree_from]).replace(' en ', ' of ')} "
                     f"van de {_scale_name(p.scale)}" for p in s.periods])
    caption = (f"Percentage leerlingen dat het (helemaal) eens is met elke stelling, per jaar ({s.first_year}–{s.last_year}). "
               f"Eens: {rules}. De lijnen zijn onderbroken bij de nieuwe antwoordschaal: de percentages links en rechts daarvan "
               "zijn niet vergelijkbaar.")
    if missing:
        caption += " " + text.not_asked_sentence(missing, words.wording, "; de lijn is daar onderbroken")
    if any(words.illustrative(i) for i in table["item"].unique()):
        caption += " † Formulering ter illustratie."
    shown = table.dropna(subset=["percent"])
    alt = (f"Lijnfiguur met per stelling ({nl_number(table['item'].nunique())} stellingen) het percentage leerlingen dat het (helemaal) eens is, "
           f"per jaar van {s.first_year} tot en met {s.last_year}, onderbroken bij de nieuwe antwoordschaal. ")
    for p in s.periods:
        part = shown[shown["period"] == p.scale.name]
        if len(part):
            alt += (f"In {p.first_year}–{p.last_year} ligt het percentage tussen {nl_number(part['percent'].min())}{PCT} en "
                    f"{nl_number(part['percent'].max())}{PCT}. ")
    if missing:
        alt += text.not_asked_sentence(missing, words.wording) + " "
    legend = suppression_legend(table, ctx.min_cell)
    intro = ("{numref}`fig-langere-reeks-stellingen` laat per stelling zien welk deel van de leerlingen het ermee eens is. Wat 'eens' "
             "is, hangt af van de schaal: met vier antwoorden zijn dat de bovenste twee, met vijf ook, maar dan ligt er een middencategorie "
             "onder. Een sprong bij de stippellijn kan daarom net zo goed aan de schaal liggen als aan de leerlingen.\n\n")
    return (intro + figure_block(f"files/{path.name}", "fig-langere-reeks-stellingen", caption, alt) + "\n\n" + view + legend + "\n"
            + provenance(ctx.notebook, ["oml.stats.series.agreement_by_year", "oml.report.plotting.agreement_lines"], csv))


def _agreement_cell(by_cell: pd.DataFrame, item: str, year: int) -> str:
    """One cell of the statements figure's table view: the percentage as drawn, or why there is none."""
    if (item, year) not in by_cell.index:
        return text.NOT_ASKED
    row = by_cell.loc[(item, year)]
    if "asked" in row and not bool(row["asked"]):
        return text.NOT_ASKED
    return text.SUPPRESSED if pd.isna(row["percent"]) else nl_number(row["percent"], 0) + PCT


def alpha_block(ctx, alphas: pd.DataFrame) -> str:
    """Cronbach's alpha per scale period, with interval, pupils and the verbal judgement."""
    csv = ctx.pub.csv("alfa", alphas.drop(columns=["left_out"], errors="ignore"))
    rows = []
    for r in alphas.itertuples(index=False):
        key = f"alfa/{r.period}"
        rows.append([f"{r.period.capitalize()} ({r.first_year}–{r.last_year})" if r.first_year != r.last_year else f"{r.period.capitalize()} ({r.first_year})",
                     ctx.pub.number(f"{key}/alpha", r.alpha, 3),
                     f"{ctx.pub.number(f'{key}/ci_low', r.ci_low, 3)} tot {ctx.pub.number(f'{key}/ci_high', r.ci_high, 3)}",
                     ctx.pub.number(f"{key}/n", r.n), text.alpha_word(r.alpha)])
    left = [r for r in alphas.itertuples(index=False) if len(getattr(r, "left_out", ()) or ())]
    which = "alle stellingen" if not left else "alle stellingen die in elk jaar van de periode zijn gevraagd"
    intro = (f"Omdat de schalen verschillen, berekenen we de betrouwbaarheid van de index (Cronbachs alfa, over de leerlingen die {which} "
             f"beantwoordden) per periode. Het oordeel volgt de gangbare vuistregel ({text.alpha_rule()}).")
    if left:
        words = ctx.words
        intro += (" Een stelling die niet in elk jaar van een periode is gevraagd, telt in de alfa van die periode niet mee: anders "
                  "zouden de leerlingen van het jaar zonder die stelling buiten de berekening vallen. Daarom geven we één alfa per "
                  "periode over de stellingen die in elk jaar gevraagd zijn, en geen alfa per jaar over steeds andere stellingen. ")
        intro += " ".join(f"In de {r.period} ({r.first_year}–{r.last_year}) {'telt' if len(r.left_out) == 1 else 'tellen'} "
                          f"{nl_list([text.quoted(words.wording(c)) for c in r.left_out])} niet mee; de alfa rust daar op "
                          f"{nl_number(r.k)} stellingen." for r in left)
    intro += "\n\n"
    return (intro + table_block(pd.DataFrame(rows), "tab-langere-reeks-alfa", "Betrouwbaarheid van de index per antwoordschaal.",
                                ["Periode", "Cronbachs alfa", f"{nl_number(ctx.level * 100)}%-betrouwbaarheidsinterval", "Leerlingen", "Oordeel"])
            + "\n" + provenance(ctx.notebook, ["oml.stats.reliability.alpha_by_period"], csv))


# ----------------------------------------------------------------------------- methods chapter
def scales_methods_text(ctx) -> str:
    """Methods: the scale per period (from the config) and why there is no harmonised series."""
    periods = scales.load_scales()
    data_years = sorted(int(y) for y in ctx.every_year["year"].unique())
    parts = []
    for p in periods:
        first = _year(ctx, f"schaal/{p.name}/first_year", p.first_year)
        years = f"vanaf {first}" if p.last_year is None else f"van {first} tot en met {_year(ctx, f'schaal/{p.name}/last_year', p.last_year)}"
        labels = ctx.words.period_labels(p, [y for y in data_years if p.covers([y])[0]])
        parts.append(f"{years} {_scale_words(p, labels)}")
    return (
        f"Welke antwoordschaal in welk jaar gold, staat op één plek (`oml/config/scales.toml`): {nl_list(parts)}. "
        "Het datacontract controleert elk antwoord tegen de schaal van het eigen jaar. De index wordt per periode apart "
        "gestandaardiseerd en Cronbachs alfa per periode berekend; de hoofdstukken hiervoor gebruiken alleen de laatste "
        "periode, net als de factsheet. Het hoofdstuk {doc}`langere-reeks` toont alle jaren, met veranderingen die alleen "
        "binnen een periode getoetst zijn. Stellingen die negatief geformuleerd zijn, worden voor de index omgepoold op de "
        "schaal van hun eigen jaar (het codeboek vermeldt welke).\n\n"
        "**Geen geharmoniseerde reeks.** Een voor de hand liggende manier om beide schalen op één lijn te zetten, is ze om te "
        "rekenen naar een percentage van de maximaal mogelijke score (POMP: 0 = laagste, 100 = hoogste antwoord). Dat doen we "
        "niet. Zo'n omrekening veronderstelt dat de antwoorden op beide schalen even ver uit elkaar liggen en dat leerlingen "
        "met dezelfde relatie op beide schalen op hetzelfde punt uitkomen. Met een middencategorie erbij kunnen leerlingen "
        "anders kiezen, en in de gegevens hoort bij elk jaar precies één schaal: geen leerling beantwoordde beide, dus dat is niet te controleren. Een "
        "sprong bij de schaalwissel zou dan niet van een echte verandering te onderscheiden zijn. Daarom staan de periodes "
        "naast elkaar, elk met een eigen nullijn, en toetsen we niet over de wissel heen."
    )
