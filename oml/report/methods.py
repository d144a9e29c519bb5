"""Methods-chapter blocks on how firm the conclusions are, and the mark on a figure page of a fragile one.

* :func:`robustness_block` — every published conclusion checked under a school random intercept, CR2
  standard errors and the trend within schools (:mod:`oml.stats.robustness`);
* :func:`sensitivity_block` — every figure's key comparison under the three other ways of handling parental
  education "onbekend" (:mod:`oml.stats.sensitivity`), and whether any conclusion depends on the choice;
* :func:`own_coverage_block` — the coverage of the intervals simulated from the data being published
  (``bench/coverage.py --data``), when the build has such a result;
* :func:`fragile_note` — the note above a figure whose conclusions change under a check ("" when none does);
  :func:`region_fragile_note` the same on a region page.

Layout and words only; every number shown is recorded by the page's publisher.
"""
from __future__ import annotations

import pandas as pd

from oml.report import text
from oml.report.publish import provenance, table_block

#: The methods section the notes link to.
ROBUSTNESS_LABEL = "methoden-robuustheid"
SENSITIVITY_LABEL = "methoden-gevoeligheid"
#: Figure label per breakdown (the figure pages' names, as :data:`oml.report.pages.CHAPTER`).
FIGURE = {"totaal": "verschillen-jaar", "sex": "verschillen-geslacht", "parent_education": "verschillen-opleiding-ouders",
          "region": "verschillen-regio"}
METHOD_WORDS = {
    "published": "gepubliceerd: OLS met CR1",
    "mixed": "multilevelmodel met een willekeurig intercept per school",
    "cr2": "CR2-standaardfouten met t-verdeling volgens Bell en McCaffrey",
    "within": "trend binnen scholen, met vaste schooleffecten",
}
VARIANT_WORDS = {
    "published": "gepubliceerd, met ‘onbekend’ als eigen categorie",
    "complete_cases": "alleen leerlingen met bekende opleiding ouders",
    "no_control": "zonder controle voor opleiding ouders",
    "imputed": "meervoudige imputatie van ‘onbekend’",
}
#: Short column heads of the sensitivity table (a phone shows six columns).
VARIANT_HEADS = {"published": "Gepubliceerd", "complete_cases": "Alleen bekende opleiding", "no_control": "Zonder controle opleiding",
                 "imputed": "Imputatie"}
_TREND = {"higher": "positiever geworden", "lower": "minder positief geworden", "stable": "gelijk gebleven"}
_SHORT = {"higher": "hoger", "lower": "lager", "stable": "geen verschil"}


def _figure(by: str) -> str:
    return f"{{numref}}`fig-{FIGURE.get(by, by)}`"


def _phrase(group: str) -> str:
    """A group as a noun phrase; the rest of Limburg (a region page's comparison) with its article."""
    from oml.stats.regions import REST

    return f"leerlingen in de {REST}" if group == REST else text.group_phrase(group)


def _orient(table: pd.DataFrame) -> pd.DataFrame:
    """A region page's difference with the rest of Limburg worded from the region: the region first, the verdicts turned.

    The comparison is stored as the rest minus the region (:func:`oml.stats.comparisons.compare`, categories in
    the order region, rest); the page says how the region compares with the rest, so the methods do too.
    """
    from oml.stats.regions import REST

    flip = (table["family"] == "between") & (table["group_b"] == REST)
    if not flip.any():
        return table
    out = table.copy()
    out.loc[flip, ["group_a", "group_b"]] = out.loc[flip, ["group_b", "group_a"]].to_numpy()
    out.loc[flip, ["year_a", "year_b"]] = out.loc[flip, ["year_b", "year_a"]].to_numpy()
    turned = {"higher": "lower", "lower": "higher", "stable": "stable"}
    for col in ("verdict", "published_verdict"):
        out.loc[flip, col] = out.loc[flip, col].map(turned)
    if "estimate" in out:
        out.loc[flip, "estimate"] = -out.loc[flip, "estimate"]
    return out


def conclusion_words(row) -> str:
    """A conclusion in words, as published (its ``published_verdict``; for a trend the change, for a difference the order).

    Examples
    --------
    >>> r = pd.Series({"family": "first_last", "group_a": "wo", "year_a": 2023, "group_b": "wo", "year_b": 2025,
    ...                "published_verdict": "higher"})
    >>> conclusion_words(r)
    'leerlingen met wo-opgeleide ouders: tussen 2023 en 2025 positiever geworden'
    >>> conclusion_words(pd.Series({**r, "family": "between", "group_a": "hbo", "year_a": 2025, "published_verdict": "lower"}))
    'in 2025 leerlingen met wo-opgeleide ouders lager dan leerlingen met hbo-opgeleide ouders'
    >>> conclusion_words(pd.Series({**r, "family": "between", "group_a": "rest van Limburg", "group_b": "Parkstad Limburg",
    ...                             "year_a": 2025, "published_verdict": "higher"}))
    'in 2025 leerlingen in Parkstad Limburg hoger dan leerlingen in de rest van Limburg'
    """
    verdict = row["published_verdict"]
    a, b = _phrase(row["group_a"]), _phrase(row["group_b"])
    if row["family"] == "first_last":
        return f"{a}: tussen {int(row['year_a'])} en {int(row['year_b'])} {_TREND[verdict]}"
    if verdict == "stable":  # b first, as in "b higher than a": the number shown is always the first named minus the second
        return f"in {int(row['year_b'])} geen duidelijk verschil tussen {b} en {a}"
    return f"in {int(row['year_b'])} {b} {_SHORT[verdict]} dan {a}"


def _verdict_word(row) -> str:
    return _TREND[row["verdict"]] if row["family"] == "first_last" else _SHORT[row["verdict"]]


def _changes(table: pd.DataFrame, key: str) -> pd.DataFrame:
    """One row per changed conclusion, with the alternatives (``key``: method or variant) that change it."""
    from oml.stats.robustness import PAGE_KEYS

    changed = _orient(table[table["changed"].astype(bool)])
    keys = [k for k in PAGE_KEYS if k in table.columns]  # the sensitivity tables have no region pages
    rows = []
    # dropna=False: the province-wide figures have no region (None) and must stay.
    for k, part in changed.groupby(keys, sort=False, dropna=False):
        rows.append({**dict(zip(keys, k)), "published_verdict": part["published_verdict"].iloc[0],
                     "alternatives": list(part[key]), "verdicts": [_verdict_word(r) for _, r in part.iterrows()]})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- figure pages
def fragile_note(ctx, result) -> str:
    """The note above a figure: which of its conclusions change under the checks of :mod:`oml.stats.robustness`.

    Returns "" when every conclusion of the figure holds under all of them (the usual case).

    Parameters
    ----------
    ctx : oml.report.notebook.Context
        The figure page's context (its ``frame`` is the data of the figure).
    result : oml.stats.results.Breakdown
        The figure as published.
    """
    from oml.stats.robustness import check

    return _note(_changes(check(ctx.frame, result, ctx.level), "method"), "bij de figuur hieronder")


def region_fragile_note(ctx, rr, part: str) -> str:
    """The note on a region page above one of its figures whose conclusions change under the checks ("" when none does).

    Parameters
    ----------
    ctx : oml.report.notebook.Context
        The region page's context (its ``frame``: all pupils of Limburg, as given to ``region_result``).
    rr : oml.stats.regions.RegionResult
        The region page as published.
    part : str
        :data:`oml.stats.robustness.REGION_FIGURE` (the region against the rest of Limburg: its conclusions are also
        the summary's) or a breakdown within the region (``"sex"``, ``"parent_education"``).
    """
    from oml.stats.robustness import REGION_FIGURE, check_region

    changes = _changes(check_region(ctx.frame, rr, ctx.level, only=part), "method")
    where = "in de samenvatting bovenaan en bij de figuur hieronder" if part == REGION_FIGURE else "bij de figuur hieronder"
    return _note(changes, where)


def _note(changes: pd.DataFrame, where: str) -> str:
    """The warning box naming each changed conclusion, the checks that change it and their verdicts; "" for none."""
    if changes.empty:
        return ""
    items = []
    for _, r in changes.iterrows():
        how = text.nl_list([f"{METHOD_WORDS[m]}: {v}" for m, v in zip(r["alternatives"], r["verdicts"])])
        items.append(f"- ‘{conclusion_words(r)}’ ({how})")
    one = len(items) == 1
    return (":::{admonition} Let op: " + ("een conclusie is" if one else "conclusies zijn") + " niet robuust\n:class: warning oml-fragile\n"
            + ("Deze conclusie" if one else "Deze conclusies") + f" {where} "
            + ("verandert" if one else "veranderen") + " als we het model anders schatten:\n\n" + "\n".join(items)
            + "\n\nLees " + ("die conclusie" if one else "die conclusies") + " daarom met voorzichtigheid. Hoe we dat nagaan, staat in de "
            f"methoden bij {{ref}}`{ROBUSTNESS_LABEL}`.\n:::\n\n")


def page_name(region, by: str) -> str:
    """The figure a conclusion belongs to, for the methods table: a figure reference, or the region page in words.

    Examples
    --------
    >>> page_name(None, "sex"), page_name("Parkstad Limburg", "area"), page_name("Parkstad Limburg", "parent_education")
    ('{numref}`fig-verschillen-geslacht`', 'Regio Parkstad Limburg', 'Regio Parkstad Limburg, naar opleiding ouders')
    """
    from oml.data.contract import VARIABLE_LABELS
    from oml.stats.robustness import REGION_FIGURE

    if region is None or (isinstance(region, float) and pd.isna(region)):
        return _figure(by)
    return f"Regio {region}" + ("" if by == REGION_FIGURE else f", naar {VARIABLE_LABELS[by]}")


# ----------------------------------------------------------------------------- methods chapter
def robustness_block(ctx, table: pd.DataFrame) -> str:
    """Every published conclusion under the checks: counts, changes, CSV.

    ``table``: :func:`oml.stats.robustness.check_all`, with the region pages' conclusions when it was given the
    regions (rows with a ``region``); its ``attrs["skipped"]`` lists the region models that could not be checked.
    """
    from oml.stats.regions import MIN_SCHOOLS

    csv = ctx.pub.csv("robuustheid", table)
    on_region = table["region"].notna() if "region" in table.columns else pd.Series(False, index=table.index)
    published = table[table["method"] == "published"]
    n = ctx.pub.number("robuustheid_conclusies", int((~on_region[published.index]).sum()))
    regions = sorted(set(table.loc[on_region, "region"]))
    skipped = table.attrs.get("skipped", [])
    rows = []
    for method in ("mixed", "cr2", "within"):
        part = table[table["method"] == method]
        rows.append([METHOD_WORDS[method], ctx.pub.number(f"robuustheid/{method}/getoetst", len(part)),
                     ctx.pub.number(f"robuustheid/{method}/zelfde", int((~part["changed"].astype(bool)).sum())),
                     ctx.pub.number(f"robuustheid/{method}/anders", int(part["changed"].astype(bool).sum()))])
    caption = "Elke gepubliceerde conclusie opnieuw getoetst: hoe vaak het oordeel gelijk blijft."
    if regions:
        caption = "Elke gepubliceerde conclusie (figuren en regiopagina's) opnieuw getoetst: hoe vaak het oordeel gelijk blijft."
    counts = table_block(pd.DataFrame(rows), "tab-robuustheid", caption,
                         ["Controle", "Conclusies getoetst", "Zelfde oordeel", "Ander oordeel"])
    total = n
    regional = ""
    if regions or skipped:
        n_region = ctx.pub.number("robuustheid_conclusies_regio", int(on_region[published.index].sum()))
        total = ctx.pub.number("robuustheid_conclusies_totaal", len(published))
        regional = (f" De regiopagina's trekken er nog {n_region} conclusies bij: per regio de verandering tussen het eerste en het laatste "
                    "jaar en het verschil met de rest van Limburg in het laatste jaar, en binnen de regio dezelfde "
                    "conclusies naar geslacht en naar opleiding ouders. Die toetsen we op dezelfde manier, op de leerlingen "
                    "van de regio (of, voor het verschil met de rest, op heel Limburg).")
    changes = _changes(table, "method")
    if changes.empty:
        verdict = ("Geen enkele conclusie verandert: onder alle drie de controles blijft elk oordeel (gelijk gebleven, "
                   "hoger of lager) hetzelfde als in de figuren" + (" en op de regiopagina's." if regions else "."))
        listing = ""
    else:
        k = ctx.pub.number("robuustheid_anders", len(changes))
        verdict = (f"Bij {k} van de {total} conclusies verandert het oordeel onder ten minste één controle. Op de pagina van die "
                   "figuur" + (" of regio" if regions else "") + " staat dat bij de figuur vermeld.")
        listed = [[page_name(r.get("region"), r["by"]), conclusion_words(r),
                   text.nl_list([f"{METHOD_WORDS[m]}: {v}" for m, v in zip(r["alternatives"], r["verdicts"])])]
                  for _, r in changes.iterrows()]
        listing = "\n\n" + table_block(pd.DataFrame(listed), "tab-robuustheid-anders", "Conclusies die veranderen onder een controle.",
                                       ["Figuur", "Gepubliceerde conclusie", "Oordeel onder de controle"])
    if skipped:
        few = sorted({s["region"] for s in skipped})
        m = ctx.pub.number("robuustheid_min_scholen", MIN_SCHOOLS)
        page, have = ("regiopagina", "Die regio heeft") if len(few) == 1 else ("regiopagina's", "Die regio's hebben")
        verdict += (f" Niet getoetst: de {page} van {text.nl_list(few)}. {have} minder dan {m} scholen, en "
                    f"standaardfouten die rekening houden met scholen vragen er minstens {m}.")
    intro = (f"De figuren trekken samen {n} conclusies: per groep de verandering tussen het eerste en het laatste jaar, en "
             f"per figuur de verschillen tussen groepen in het laatste jaar.{regional} Ze berusten op één model per figuur (OLS) met "
             "standaardfouten die rekening houden met scholen (CR1). Houden ze stand als we de scholen op een andere manier "
             "meenemen? Daarom toetsen we elke conclusie nog eens op drie manieren, met dezelfde Holm-correctie:\n\n"
             "- met een multilevelmodel, waarin elke school een eigen niveau heeft (een willekeurig intercept per school, "
             "geschat met REML);\n"
             "- met CR2-standaardfouten, een correctie die ook bij weinig of ongelijke scholen klopt, en een t-verdeling "
             "waarvan de vrijheidsgraden passen bij de scholen die de vergelijking dragen (Bell en McCaffrey);\n"
             "- voor de veranderingen over de jaren: de verandering binnen scholen (vaste schooleffecten), zodat een "
             "verschuiving in welke scholen meedoen geen trend kan maken.\n\n")
    return (intro + verdict + "\n\n" + counts + listing + "\n"
            + provenance(ctx.notebook, ["oml.stats.robustness.check_all", "oml.stats.robustness.check_regions",
                                        "oml.stats.robustness.random_intercept", "oml.stats.robustness.cr2",
                                        "oml.stats.robustness.within_schools"], csv))


def sensitivity_block(ctx, table: pd.DataFrame) -> str:
    """The key comparison of every figure under each handling of "onbekend" (``table``:
    :func:`oml.stats.sensitivity.sensitivity`), and one generated sentence on whether any conclusion depends on it."""
    from oml.stats.sensitivity import VARIANTS, key_comparisons

    if not table.attrs.get("imputations", 1):
        return ("In deze gegevens is de opleiding van de ouders van elke leerling bekend, dus is er geen keuze te maken "
                "over ‘onbekend’ en geen gevoeligheidsanalyse nodig.")
    csv = ctx.pub.csv("gevoeligheid", table)
    published = table[table["variant"] == "published"]
    n = ctx.pub.number("gevoeligheid_conclusies", len(published))
    changes = _changes(table, "variant")
    if changes.empty:
        verdict = (f"Geen van de {n} conclusies hangt af van die keuze: bij alle drie de andere aanpakken blijft elk oordeel "
                   "hetzelfde als in de figuren.")
    else:
        k = ctx.pub.number("gevoeligheid_anders", len(changes))
        listed = [f"‘{conclusion_words(r)}’ ({text.nl_list([f'{VARIANT_WORDS[v]}: {w}' for v, w in zip(r['alternatives'], r['verdicts'])])})"
                  for _, r in changes.iterrows()]
        one = len(changes) == 1
        verdict = (f"Bij {k} van de {n} conclusies hangt het oordeel af van die keuze: {text.nl_list(listed)}. "
                   f"Lees {'die conclusie' if one else 'die conclusies'} met voorzichtigheid.")
    keys = key_comparisons(table)
    rows = []
    for (by, *_), part in keys.groupby(["by", "family", "group_a", "year_a", "group_b", "year_b"], sort=False):
        first = part.iloc[0]
        label = conclusion_words(first.to_dict() | {"published_verdict": part.loc[part["variant"] == "published", "verdict"].iloc[0]})
        cells = []
        for variant in VARIANTS:
            hit = part[part["variant"] == variant]
            if hit.empty:
                cells.append("n.v.t.")
                continue
            r = hit.iloc[0]
            est = ctx.pub.number(f"gevoeligheid/{by}/{variant}/estimate", r["estimate"], 2)
            cells.append(f"{est} ({_verdict_word(r)})")
        rows.append([_figure(by), label, *cells])
    header = ["Figuur", "Vergelijking (gepubliceerd oordeel)", *(VARIANT_HEADS[v] for v in VARIANTS)]
    intro = ("Hoe gevoelig zijn de conclusies voor de manier waarop we met ‘onbekend’ omgaan? We schatten elk model van de "
             "figuren nog drie keer: alleen met de leerlingen van wie de opleiding van de ouders bekend is; met alle "
             "leerlingen, maar zonder controle voor opleiding ouders; en met meervoudige imputatie, waarbij we ‘onbekend’ "
             f"{ctx.pub.number('gevoeligheid_imputaties', _imputations(table))} keer invullen op basis van wat leerlingen "
             "met dezelfde index, hetzelfde jaar, geslacht, dezelfde leeftijd en regio elders hebben, en de uitkomsten "
             "combineren (regels van Rubin).\n\nImputatie veronderstelt dat ‘onbekend’ niet samenhangt met de opleiding zelf "
             "zodra die kenmerken bekend zijn; als vooral hele scholen geen opleiding doorgeven, is dat een zwakke aanname. "
             "Daarom is het een van drie alternatieven, en niet het antwoord.\n\nDe tabel toont per figuur de belangrijkste "
             "vergelijking: bij de figuur per jaar de verandering tussen het eerste en het laatste jaar, bij de andere het "
             "grootste verschil tussen twee groepen in het laatste jaar: het verschil in standaarddeviaties (het laatste jaar min "
             "het eerste, of de eerstgenoemde groep min de tweede) met het oordeel na Holm-correctie. Alle conclusies staan "
             "in het CSV-bestand. ")
    return (intro.rstrip() + "\n\n" + verdict + "\n\n"
            + table_block(pd.DataFrame(rows), "tab-gevoeligheid", "De belangrijkste vergelijking van elke figuur bij vier manieren om met ‘onbekend’ om te gaan.",
                          header)
            + "\n" + provenance(ctx.notebook, ["oml.stats.sensitivity.sensitivity", "oml.stats.sensitivity.impute",
                                               "oml.stats.sensitivity.rubin"], csv))


def _imputations(table: pd.DataFrame) -> int:
    from oml.stats.sensitivity import IMPUTATIONS

    return int(table.attrs.get("imputations", IMPUTATIONS))


def own_coverage_block(ctx, coverage: pd.DataFrame) -> str:
    """Coverage of this build's own intervals (``coverage``: :func:`oml.stats.robustness.simulated_coverage`), per figure."""
    if coverage.empty:
        return ""
    csv = ctx.pub.csv("dekking-eigen", coverage)
    nominal = float(coverage["level"].iloc[0])
    pct = ctx.pub.number("dekking_eigen_niveau", nominal * 100, 0, "\u00a0%")
    rows, low, low_cr2 = [], [], []
    for by, part in coverage.groupby("by", sort=False):
        cells = []
        for col in ("coverage", "coverage_cr2"):
            mean = ctx.pub.number(f"dekking-eigen/{by}/{col}/mean", part[col].mean() * 100, 1, "\u00a0%")
            lo = ctx.pub.number(f"dekking-eigen/{by}/{col}/min", part[col].min() * 100, 1, "\u00a0%")
            hi = ctx.pub.number(f"dekking-eigen/{by}/{col}/max", part[col].max() * 100, 1, "\u00a0%")
            cells.append(mean if len(part) == 1 else f"{mean} ({lo} tot {hi})")
        # A figure reads as too narrow when its conclusions' mean coverage lies more than two Monte Carlo errors (of one
        # conclusion: the cautious side) below the level; the lowest of many conclusions is too often low by chance.
        if part["coverage"].mean() < nominal - 2 * part["mc_se"].mean():
            low.append(_figure(by))
        if part["coverage_cr2"].mean() < nominal - 2 * part["mc_se_cr2"].mean():
            low_cr2.append(_figure(by))
        rows.append([_figure(by), ctx.pub.number(f"dekking-eigen/{by}/conclusies", len(part)), *cells])
    reps = ctx.pub.number("dekking_eigen_herhalingen", int(coverage["replications"].iloc[0]))
    icc = ctx.pub.number("dekking_eigen_icc", float(coverage["between_var"].iloc[0] / (coverage["between_var"].iloc[0]
                                                                                         + coverage["within_var"].iloc[0])), 3)
    if not low:
        reading = (f"Bij geen enkele figuur ligt de gemiddelde dekking van de gepubliceerde intervallen meer dan twee "
                   f"Monte-Carlo-fouten onder {pct}.")
    else:
        reading = (f"Bij {text.nl_list(low)} ligt de gemiddelde dekking van de gepubliceerde intervallen meer dan twee "
                   f"Monte-Carlo-fouten onder {pct}: die intervallen zijn voor deze gegevens iets te smal. "
                   + ("Met CR2-standaardfouten en de t-verdeling is dat niet meer zo." if not low_cr2 else
                      f"Met CR2-standaardfouten en de t-verdeling geldt dat nog voor {text.nl_list(low_cr2)}."))
    return (f"De studie hierboven simuleert de gegevensgenerator van dit project. Daarom herhalen we haar bij elke bouw "
            f"vanuit de gegevens van dit rapport zelf ({reps} herhalingen): dezelfde scholen met hun aantallen leerlingen per "
            "jaar en dezelfde achtergrond van de leerlingen; alleen de index wordt opnieuw getrokken, uit het multilevelmodel "
            f"op deze gegevens (ICC {icc}), zonder echte verschillen: de ware waarde van elke vergelijking is nul. Per figuur "
            f"toont de tabel de gemiddelde dekking over de gepubliceerde conclusies, met tussen haakjes de laagste en de hoogste. {reading}\n\n"
            + table_block(pd.DataFrame(rows), "tab-dekking-eigen", "Dekking van de intervallen bij de gepubliceerde conclusies, gesimuleerd vanuit deze gegevens.",
                          ["Figuur", "Conclusies", "Dekking CR1 (gepubliceerd)", "Dekking CR2 met t"])
            + "\n" + provenance(ctx.notebook, ["oml.stats.robustness.simulated_coverage"], csv))
