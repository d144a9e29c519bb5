"""The page "Versies": every edition, what changed between them, corrections and how to rebuild each."""
from __future__ import annotations

import json
import re
from pathlib import Path

from oml import paths
from oml.paths import Layout
from oml.site.editions.common import SUPPRESSED, group_label, nl_date, nl_number
from oml.site.editions.compare import (ABSENT, Comparison, Conclusion, Headline, Publication, Snapshot, compare, conclusion,
                                       load_editions)
from oml.site.editions.record import current_findings, current_numbers, page_titles
from oml.stats.direction import Direction


def _esc(text: str) -> str:
    """Plain text safe inside MyST Markdown (also inside a table cell).

    Examples
    --------
    >>> print(_esc("a|b *c* {x}"))
    a\\|b \\*c\\* \\{x\\}
    """
    return re.sub(r"([\\`*_{}\[\]<>|$~])", r"\\\1", " ".join(str(text).split()))


def _value(value, decimals: int) -> str:
    if value is ABSENT:
        return "—"
    if value is None:
        return SUPPRESSED
    return nl_number(value, decimals)


def change_text(h: Headline) -> str:
    if h.old is ABSENT and h.new is not ABSENT:
        return "nieuw"
    if h.new is ABSENT and h.old is not ABSENT:
        return "vervallen"
    if h.old is None or h.new is None:
        return "gelijk" if h.old is h.new else SUPPRESSED
    diff = h.new - h.old
    if nl_number(abs(diff), h.decimals).strip("0,.") == "":
        return "gelijk"
    return ("+" if diff > 0 else "") + nl_number(diff, h.decimals)


def _figure_title(figure: str, pages: dict) -> str:
    """The page's title; a fan-out region page (no title of its own in the run list) as "Regio <name>".

    Examples
    --------
    >>> _figure_title("verschillen-jaar", {"verschillen-jaar": "Verschillen naar jaar"})
    'Verschillen naar jaar'
    >>> _figure_title("regio-parkstad-limburg", {"__groups__": {"regio-parkstad-limburg": ["Limburg", "Parkstad Limburg"]}})
    'Regio Parkstad Limburg'
    """
    if figure in pages:
        return pages[figure]
    suffix = figure.removeprefix("regio-")
    for group in pages.get("__groups__", {}).get(figure, []):
        if re.sub(r"[^a-z0-9]+", "-", str(group).lower()).strip("-") == suffix:
            return f"Regio {group}"
    return figure


def _page_groups(*snapshots: Snapshot) -> dict[str, list[str]]:
    """The groups each page shows (from its figure cells), to name fan-out pages by their region."""
    groups: dict[str, list[str]] = {}
    for snap in snapshots:
        for key in snap.numbers:
            m = re.match(r"^([^/]+)/figuur/\d{4}/([^/]+)/estimate$", key)
            if m and m[2] not in groups.setdefault(m[1], []):
                groups[m[1]].append(m[2])
    return groups


def _label(group: str) -> str:
    return group_label(group).lower() if group in ("totaal", "jongen", "meisje") else group_label(group)



#: How the page words a direction of change.
DIRECTION_WORDS = {Direction.STABLE: "stabiel", Direction.HIGHER: "hoger", Direction.LOWER: "lager"}


def subject(c: Conclusion) -> str:
    """What a conclusion is about, in Dutch.

    Examples
    --------
    >>> subject(Conclusion("f", "trend", ("totaal",), (2023, 2025), Direction.LOWER))
    'alle leerlingen, eerste tegenover laatste jaar'
    >>> subject(Conclusion("f", "between", ("jongen", "meisje"), (2025, 2025), None))
    'jongens tegenover meisjes, laatste jaar'
    """
    if c.kind == "trend":
        return f"{_label(c.groups[0])}, eerste tegenover laatste jaar"
    if c.kind == "consecutive":
        return f"{_label(c.groups[0])}, {c.years[0]} tegenover {c.years[1]}"
    return f"{_label(c.groups[0])} tegenover {_label(c.groups[1])}, laatste jaar"


def verdict(c: Conclusion) -> str:
    """What a comparison concluded, in Dutch (with the years it spans where they are not in the subject).

    Examples
    --------
    >>> verdict(Conclusion("f", "trend", ("totaal",), (2023, 2025), Direction.LOWER))
    'lager (2023–2025)'
    >>> verdict(Conclusion("f", "between", ("jongen", "meisje"), (2025, 2025), "meisje"))
    'meisjes hoger (2025)'
    """
    if c.kind == "trend":
        return f"{DIRECTION_WORDS[c.verdict]} ({c.years[0]}–{c.years[1]})"
    if c.kind == "consecutive":
        return DIRECTION_WORDS[c.verdict]
    word = "geen significant verschil" if c.verdict is None else f"{_label(c.verdict)} hoger"
    return f"{word} ({c.years[1]})"


#: Small counts in words, as Dutch prose writes them; larger ones as digits.
COUNT_WORDS = ("geen", "één", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen", "tien", "elf", "twaalf")


def count_words(n: int, singular: str, plural: str) -> str:
    """A count with its noun, in words up to twelve.

    Examples
    --------
    >>> count_words(1, "conclusie", "conclusies"), count_words(3, "groep", "groepen"), count_words(15, "jaar", "jaren")
    ('één conclusie', 'drie groepen', '15 jaren')
    """
    word = COUNT_WORDS[n] if 0 <= n < len(COUNT_WORDS) else nl_number(n)
    return f"{word} {singular if n == 1 else plural}"


def _join(items: list[str]) -> str:
    """'a', 'a en b', 'a, b en c'.

    Examples
    --------
    >>> _join(["a"]), _join(["a", "b"]), _join(["a", "b", "c"])
    ('a', 'a en b', 'a, b en c')
    """
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " en " + items[-1]


#: A trend's verb and the word that ends its clause, by direction.
TREND_VERBS = {Direction.STABLE: ("bleef", " gelijk"), Direction.HIGHER: ("steeg", ""), Direction.LOWER: ("daalde", "")}


def claim(c: Conclusion, lead: str | None = None) -> str:
    """What a conclusion says, as a Dutch clause; with ``lead`` the verb comes second (``lead verb subject ...``).

    Examples
    --------
    >>> claim(Conclusion("f", "trend", ("totaal",), (2023, 2025), Direction.LOWER))
    'de index van alle leerlingen daalde van 2023 tot 2025'
    >>> claim(Conclusion("f", "trend", ("meisje",), (2023, 2024), Direction.STABLE), "volgens editie 2024")
    'volgens editie 2024 bleef de index van meisjes van 2023 tot 2024 gelijk'
    >>> claim(Conclusion("f", "between", ("Midden", "Noord"), (2025, 2025), None))
    'er was in 2025 geen significant verschil tussen Midden en Noord'
    >>> claim(Conclusion("f", "between", ("Midden", "Noord"), (2025, 2025), "Noord"), "nu")
    'nu lag de index van Noord in 2025 hoger dan die van Midden'
    """
    def noun(group: str) -> str:  # "de rest van Limburg": a noun phrase inside a sentence
        label = _label(group)
        return f"de {label}" if label.startswith("rest van ") else label

    if c.kind in ("trend", "consecutive"):
        verb, end = TREND_VERBS[c.verdict]
        span = "tot" if c.kind == "trend" else "naar"
        subject_, rest = f"de index van {noun(c.groups[0])}", f"van {c.years[0]} {span} {c.years[1]}{end}"
    elif c.verdict is None:
        verb, subject_ = "was", "er"
        rest = f"in {c.years[1]} geen significant verschil tussen {noun(c.groups[0])} en {noun(c.groups[1])}"
    else:
        other = next(g for g in c.groups if g != c.verdict)
        verb, subject_ = "lag", f"de index van {noun(c.verdict)}"
        rest = f"in {c.years[1]} hoger dan die van {noun(other)}"
    return f"{lead} {verb} {subject_} {rest}" if lead else f"{subject_} {verb} {rest}"


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + "."


def _headline_sentence(h: Headline) -> str | None:
    """One changed headline number in words, with the size of the change; None when it did not change."""
    change = change_text(h)
    if change == "gelijk":
        return None
    if change == "nieuw":
        return f"{h.label}: nieuw, {_value(h.new, h.decimals)}."
    if change == "vervallen":
        return f"{h.label}: niet meer gepubliceerd (was {_value(h.old, h.decimals)})."
    if change == SUPPRESSED:
        return f"{h.label}: van {_value(h.old, h.decimals)} naar {_value(h.new, h.decimals)} (• = niet getoond)."
    word = "gestegen" if h.new > h.old else "gedaald"
    return f"{h.label}: {word} van {_value(h.old, h.decimals)} naar {_value(h.new, h.decimals)} ({change})."


def change_sentences(c: Comparison) -> list[str]:
    """What changed from ``c.old`` to ``c.new``, for readers: Markdown paragraphs and lists in plain Dutch.

    In this order: conclusions that changed, new significant results, groups and years that
    appeared or disappeared, headline numbers that moved (with the size of the move). Counts of
    changed numbers, hashes and commits are left to the page's technical section.

    Examples
    --------
    >>> old = Snapshot("editie 2024", {"in-deze-factsheet/n_pupils": (100, "100")}, [])
    >>> new = Snapshot("editie 2025", {"in-deze-factsheet/n_pupils": (150, "150")}, [])
    >>> print("\\n".join(change_sentences(compare(old, new))))
    Geen enkele conclusie veranderde.
    <BLANKLINE>
    Kerngetallen die veranderden:
    <BLANKLINE>
    - Leerlingen: gestegen van 100 naar 150 (+50).
    <BLANKLINE>
    >>> print(change_sentences(compare(old, old))[0])
    Editie 2024 publiceert precies dezelfde getallen en conclusies als editie 2024: er is niets veranderd.
    """
    old, new = c.old.label, c.new.label
    if c.identical:
        return [_sentence(f"{new} publiceert precies dezelfde getallen en conclusies als {old}: er is niets veranderd"), ""]
    pages = {**c.old.pages, **c.new.pages, "__groups__": _page_groups(c.old, c.new)}
    lines = []
    if c.changed_findings:
        lines += [_sentence(f"{count_words(len(c.changed_findings), 'conclusie', 'conclusies')} veranderde"
                            if len(c.changed_findings) == 1 else
                            f"{count_words(len(c.changed_findings), 'conclusie', 'conclusies')} veranderden"), ""]
        lines += [f"- {_esc(_figure_title(f.figure, pages))}: {_esc(claim(f.old, 'volgens ' + old))}; "
                  f"{_esc(claim(f.new, 'volgens ' + new))}." for f in c.changed_findings]
        lines.append("")
    else:
        lines += ["Geen enkele conclusie veranderde.", ""]
    sig = [conclusion(f) for f in c.new_findings if f["significant"]]
    if c.new_findings:
        text = (f"Nieuw getoetst in {new}: {count_words(len(c.new_findings), 'vergelijking', 'vergelijkingen')}, "
                f"waarvan {count_words(len(sig), 'significant verschil', 'significante verschillen')}")
        lines += [_esc(_sentence(text)), ""]
        lines += [f"- {_esc(_figure_title(f.figure, pages))}: {_esc(claim(f))}." for f in sig]
        if sig:
            lines.append("")
    for verb, groups in (("Nieuw in", c.groups_appeared), ("Niet meer in", c.groups_disappeared)):
        if groups:
            names = [f"{_label(g)} ({_figure_title(p, pages)})" for p, g in groups]
            noun = "de groep" if len(names) == 1 else "de groepen"
            lines += [_esc(_sentence(f"{verb} {new}: {noun} {_join(names)}")), ""]
    for verb, years in (("Nieuw in", c.years_appeared), ("Niet meer in", c.years_disappeared)):
        if years:
            noun = "het jaar" if len(years) == 1 else "de jaren"
            lines += [_esc(_sentence(f"{verb} {new}: {noun} {_join([str(y) for y in years])}")), ""]
    if not c.numbers_changed:
        lines += [_sentence(f"geen enkel getal dat {old} en {new} allebei publiceren, veranderde"), ""]
    moved = [s for s in map(_headline_sentence, c.headlines) if s]
    if moved:
        lines += ["Kerngetallen die veranderden:", ""] + [f"- {_esc(s)}" for s in moved] + [""]
    elif c.headlines:
        lines += ["De kerngetallen bleven gelijk.", ""]
    return lines


def _tables_md(c: Comparison) -> list[str]:
    """The tables of a comparison: headline numbers side by side, conclusions that changed, new results."""
    old, new = c.old.label, c.new.label
    lines = []
    if c.headlines:
        lines += ["| Kerngetal | " + _esc(old) + " | " + _esc(new) + " | Verschil |", "|---|--:|--:|--:|"]
        lines += [f"| {_esc(h.label)} | {_value(h.old, h.decimals)} | {_value(h.new, h.decimals)} | {change_text(h)} |"
                  for h in c.headlines]
        lines.append("")
    pages = {**c.old.pages, **c.new.pages, "__groups__": _page_groups(c.old, c.new)}
    if c.changed_findings:
        lines += ["| Figuur | Vergelijking | " + _esc(old) + " | " + _esc(new) + " |", "|---|---|---|---|"]
        lines += [f"| {_esc(_figure_title(f.figure, pages))} | {_esc(subject(f.new))} | {_esc(verdict(f.old))} "
                  f"| {_esc(verdict(f.new))} |" for f in c.changed_findings]
        lines.append("")
    sig = [conclusion(f) for f in c.new_findings if f["significant"]]
    if sig:
        lines += [f"| Figuur | Nieuw getoetst in {_esc(new)} | Uitkomst |", "|---|---|---|"]
        lines += [f"| {_esc(_figure_title(f.figure, pages))} | {_esc(subject(f))} | {_esc(verdict(f))} |" for f in sig]
        lines.append("")
    return lines


def _counts_md(c: Comparison) -> list[str]:
    """How many published numbers changed, appeared or disappeared, and how many comparisons (technical)."""
    old, new = c.old.label, c.new.label
    if c.identical:
        return [f"alle {nl_number(len(c.new.numbers))} gepubliceerde getallen en alle conclusies van {_esc(new)} "
                f"zijn gelijk aan die van {_esc(old)}.", ""]
    return [f"gepubliceerde getallen: {nl_number(c.numbers_changed)} gewijzigd (van de getallen die beide "
            f"publiceren), {nl_number(c.numbers_added)} nieuw en {nl_number(c.numbers_removed)} vervallen. "
            f"Vergelijkingen: {nl_number(len(c.changed_findings))} met een andere uitkomst, "
            f"{nl_number(len(c.new_findings))} nieuw getoetst en {nl_number(len(c.dropped_findings))} niet meer getoetst.",
            ""]


def _current_md(root: Path) -> list[str]:
    """Which data the site being read was built from (``book/rapport/build-info.json``)."""
    info_file = Layout(root).build_info
    if not info_file.exists():
        return []
    info = json.loads(info_file.read_text(encoding="utf-8"))
    if "data_name" not in info:
        return []
    return [f"De huidige versie is de site die u nu leest, gebouwd uit `{info['data_name']}` "
            f"({nl_number(info['rows'])} leerlingen), sha256 `{info['data_sha256']}`.", ""]


def _current_kind(root: Path) -> bool | None:
    """Whether the current build is of synthetic data (None: no build yet)."""
    try:
        return bool(json.loads(Layout(root).build_info.read_text(encoding="utf-8"))["synthetic"])
    except (OSError, ValueError, KeyError):
        return None


def _rebuild_md(p: Publication) -> list[str]:
    data = p.data
    lines = ["```bash", f"git checkout {p.commit}"]
    delivery = data.get("delivery")
    if data.get("default"):
        lines.append("oml build    # de standaard synthetische gegevens van deze commit")
    elif delivery:
        # A delivery: the files as delivered, in one folder, read through the mapping kept with the edition.
        mapping = delivery.get("mapping")
        files = delivery["files"]
        lines.append(f"# gegevens: {len(files)} bestand(en) in één map: " + ", ".join(f["name"] for f in files))
        option = f" --mapping {p.folder.relative_to(p.folder.parents[2]).as_posix()}/mapping.toml" if mapping else ""
        lines.append(f"oml build --data MAP-MET-DE-BESTANDEN{option}")
        lines += [f"# controle: sha256 van {f['name']} = {f['sha256']}" for f in files]
        lines.append("```")
        return lines
    else:
        if data.get("source"):
            lines.append(f"# gegevens: {' '.join(data['source'].split())}")
        lines.append(f"oml build --data {data.get('file') or data['name']}")
    lines += [f"# controle: sha256 van {data['name']} = {data['sha256']}", "```"]
    return lines


def _publication_md(p: Publication) -> list[str]:
    data = p.data
    kind = "synthetische" if data.get("synthetic") else "echte"
    delivery = data.get("delivery")
    lines = [f"- Datum: {nl_date(p.released)}"]
    if delivery:
        files = delivery["files"]
        lines.append(f"- Gegevens: {nl_number(len(files))} geleverde bestanden ({nl_number(data['rows'])} leerlingen, "
                     f"{kind} gegevens): " + "; ".join(f"`{_esc(f['name'])}` ({nl_number(f['size'])} bytes, sha256 "
                                                       f"`{f['sha256']}`)" for f in files))
        if delivery.get("mapping"):
            m = delivery["mapping"]
            lines.append(f"- Mapping: `{_esc(m['name'])}`, sha256 `{m['sha256']}` (bewaard bij deze editie)")
        for e in delivery.get("exclusions", []):
            lines.append(f"- Weggelaten: {nl_number(e['rows'])} rij(en), regel {_esc(e['rule'])}: {_esc(e['reason'])}")
    else:
        lines.append(f"- Gegevens: `{data['name']}` ({nl_number(data['rows'])} leerlingen, {kind} gegevens), "
                     f"sha256 `{data['sha256']}`")
    lines.append(f"- Code: commit `{p.commit}`, `oml` versie {_esc(p.oml_version)}")
    return lines


def _steps(root: Path, editions: list) -> list[tuple[str, str, Comparison, str]]:
    """Every comparison the page shows, newest first: (heading, anchor stem, comparison, note).

    The current build against the latest edition, each edition against the one before, and each
    correction against the publication it corrects.
    """
    titles = page_titles(root)
    numbers = current_numbers(root)
    steps = []
    if editions and numbers:
        current = Snapshot("de huidige versie", numbers, current_findings(root), titles)
        latest = editions[-1]
        steps.append((f"De huidige versie tegenover editie {latest.name}", "huidig",
                      compare(latest.latest.snapshot(), current), ""))
    for older, newer in reversed(list(zip(editions, editions[1:]))):
        steps.append((f"Editie {newer.name} tegenover editie {older.name}", f"editie-{newer.name}",
                      compare(older.latest.snapshot(), newer.latest.snapshot()), newer.first.text))
        for prev, corr in reversed(list(zip(newer.publications, newer.publications[1:]))):
            steps.append((f"Correctie {corr.number - 1} van editie {newer.name} ({nl_date(corr.released)})",
                          f"correctie-{newer.name}-{corr.number - 1}",
                          compare(prev.snapshot(f"publicatie {prev.number}"), corr.snapshot(f"publicatie {corr.number}")),
                          f"Correctie: {corr.text}"))
    if editions:
        first = editions[0]
        for prev, corr in reversed(list(zip(first.publications, first.publications[1:]))):
            steps.append((f"Correctie {corr.number - 1} van editie {first.name} ({nl_date(corr.released)})",
                          f"correctie-{first.name}-{corr.number - 1}",
                          compare(prev.snapshot(f"publicatie {prev.number}"), corr.snapshot(f"publicatie {corr.number}")),
                          f"Correctie: {corr.text}"))
    return steps


def page_markdown(root: Path = paths.ROOT) -> str:
    """The page "Versies" as MyST Markdown, for readers first.

    Three parts: *Wat is er veranderd* (sentences generated from each comparison: conclusions
    that changed, new results, new groups and years, the size of changed headline numbers), then
    *Kerngetallen naast elkaar* (the tables), then *Technische gegevens* (counts, data files and
    their sha256, commits, corrections and the commands that rebuild every edition).
    """
    editions = load_editions(root)
    synthetic = _current_kind(root)
    if synthetic is not None:
        # Only editions of the same kind of data: a real report is never compared with the synthetic demo.
        editions = [e for e in editions if bool(e.latest.data.get("synthetic")) == synthetic]
    steps = _steps(root, editions)
    lines = ["# Versies", "",
             "Dit rapport wordt opnieuw gepubliceerd wanneer er nieuwe gegevens zijn of wanneer een fout is hersteld. "
             "Elke publicatie heet een *editie* en blijft bewaard. Hieronder leest u eerst in gewone zinnen wat er "
             "veranderde, daarna de kerngetallen naast elkaar en tot slot de technische gegevens waarmee iedereen "
             "elke editie opnieuw kan maken.", ""]
    if not editions:
        lines += ["Er is nog geen editie gepubliceerd.", ""]
    if steps:
        lines += ["## Wat is er veranderd", ""]
        for heading, _, comparison, note in steps:
            lines += [f"### {_esc(heading)}", ""]
            if note:
                lines += [_esc(note if note.startswith("Correctie: ") else f"Toelichting: {note}"), ""]
            lines += change_sentences(comparison)
        lines += ["## Kerngetallen naast elkaar", "",
                  "Per vergelijking de kerngetallen met hun verschil (nieuw min oud) en de conclusies die "
                  "veranderden. Een • is een cel die niet getoond wordt omdat ze op te weinig leerlingen rust; "
                  "een — betekent dat de editie dat getal niet had.", ""]
        for heading, _, comparison, _note in steps:
            lines += [f"### Tabellen: {_esc(heading[0].lower() + heading[1:])}", ""]
            lines += _tables_md(comparison) or ["Geen kerngetallen om te vergelijken.", ""]
    if editions:
        lines += ["## Technische gegevens", "",
                  "Voor wie de cijfers wil controleren. Van elke editie zijn bewaard: de datum, de gegevens "
                  "(bestandsnaam en sha256), de commit van de code, de versie van `oml`, alle gepubliceerde getallen "
                  "en de uitkomst van elke toets. Een correctie wordt als nieuwe publicatie van dezelfde editie "
                  "vastgelegd; de eerdere blijft bewaard. Elke editie is exact opnieuw te bouwen: dezelfde commit "
                  "met dezelfde gegevens geeft dezelfde getallen. Controleer de gegevens met hun sha256.", ""]
        lines += _current_md(root)
        for heading, _, comparison, _note in steps:
            lines += [f"- {_esc(heading)}: " + _counts_md(comparison)[0]]
        lines.append("")
    for e in reversed(editions):
        first = e.first
        lines += [f"### Editie {_esc(e.name)}", ""]
        if first.text:
            lines += [f"Toelichting: {_esc(first.text)}", ""]
        lines += _publication_md(first) + [""]
        for corr in e.publications[1:]:
            lines += [f"#### Correctie {corr.number - 1} van editie {_esc(e.name)} ({nl_date(corr.released)})", "",
                      f"Correctie: {_esc(corr.text)}", ""]
            lines += _publication_md(corr) + [""]
        lines += [f"Editie {_esc(e.name)} opnieuw bouwen"
                  + (" (laatste correctie)" if len(e.publications) > 1 else "") + ":", ""]
        lines += _rebuild_md(e.latest) + [""]
    return "\n".join(lines).rstrip() + "\n"


def write_page(root: Path = paths.ROOT) -> Path:
    """Write the page "Versies" (``book/rapport/versies.md``); untouched when its content is unchanged.

    Called by ``oml build`` after the notebooks and before Sphinx: the current build's numbers
    (the manifest fragments) and findings (the comparison CSVs) are then in place.

    Examples
    --------
    >>> import tempfile
    >>> page = write_page(Path(tempfile.mkdtemp()))
    >>> page.name, "Er is nog geen editie gepubliceerd." in page.read_text(encoding="utf-8")
    ('versies.md', True)
    """
    from oml.site.messages import BuildError

    out = Layout(root).versions_page
    try:
        text = page_markdown(root)
    except (OSError, ValueError, KeyError, TypeError) as err:
        # A damaged edition record must stop the build with its name, not a traceback.
        raise BuildError(f"the page 'Versies' cannot be written: {type(err).__name__}: {err} "
                         f"(check the files under {Layout(root).editions})") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists() or out.read_text(encoding="utf-8") != text:
        out.write_text(text, encoding="utf-8")
    return out
