"""The page "Versies": every edition, what changed between them, corrections and how to rebuild each."""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from oml import paths
from oml.paths import Layout
from oml.site.editions.common import SUPPRESSED, group_label, nl_number
from oml.site.editions.compare import (ABSENT, Comparison, Conclusion, Headline, Publication, Snapshot, compare, conclusion,
                                       load_editions)
from oml.site.editions.record import current_findings, current_numbers, page_titles
from oml.stats.direction import Direction

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december")


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


def _date(iso: str) -> str:
    """'2026-11-21T13:40:00Z' -> '21 november 2026'.

    Examples
    --------
    >>> _date("2026-11-21T13:40:00Z")
    '21 november 2026'
    """
    d = dt.date.fromisoformat(iso[:10])
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def _figure_title(figure: str, pages: dict) -> str:
    return pages.get(figure, figure)


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


def _comparison_md(c: Comparison) -> list[str]:
    old, new = c.old.label, c.new.label
    lines = []
    if c.identical:
        total = nl_number(len(c.new.numbers))
        lines += [f"Alle {total} gepubliceerde getallen en alle conclusies zijn gelijk aan die van {old}.", ""]
    else:
        lines += [f"Van de getallen die beide publiceren zijn er {nl_number(c.numbers_changed)} gewijzigd; "
                  f"{new} heeft er {nl_number(c.numbers_added)} nieuw en {nl_number(c.numbers_removed)} vervallen.", ""]
    if c.headlines:
        lines += ["| Kerngetal | " + _esc(old) + " | " + _esc(new) + " | Verschil |", "|---|--:|--:|--:|"]
        lines += [f"| {_esc(h.label)} | {_value(h.old, h.decimals)} | {_value(h.new, h.decimals)} | {change_text(h)} |"
                  for h in c.headlines]
        lines.append("")
    pages = {**c.old.pages, **c.new.pages}
    if c.changed_findings:
        lines += ["Conclusies die veranderden:", "",
                  "| Figuur | Vergelijking | " + _esc(old) + " | " + _esc(new) + " |", "|---|---|---|---|"]
        lines += [f"| {_esc(_figure_title(f.figure, pages))} | {_esc(subject(f.new))} | {_esc(verdict(f.old))} "
                  f"| {_esc(verdict(f.new))} |" for f in c.changed_findings]
        lines.append("")
    else:
        lines += ["Geen enkele conclusie veranderde (van de vergelijkingen die beide toetsten).", ""]
    if c.new_findings or c.dropped_findings:
        sig = [f for f in c.new_findings if f["significant"]]
        lines.append(f"Nieuw getoetst: {nl_number(len(c.new_findings))} vergelijkingen, waarvan "
                     f"{nl_number(len(sig))} significant; niet meer getoetst: {nl_number(len(c.dropped_findings))}.")
        for f in map(conclusion, sig):
            lines.append(f"- {_esc(_figure_title(f.figure, pages))}: {_esc(subject(f))}: {_esc(verdict(f))}")
        lines.append("")
    if c.groups_appeared or c.groups_disappeared or c.years_appeared or c.years_disappeared:
        for what, groups in (("Nieuwe groepen", c.groups_appeared), ("Verdwenen groepen", c.groups_disappeared)):
            if groups:
                lines.append(f"- {what}: " + "; ".join(f"{_esc(group_label(g))} ({_esc(_figure_title(p, pages))})"
                                                    for p, g in groups))
        for what, years in (("Nieuwe jaren", c.years_appeared), ("Vervallen jaren", c.years_disappeared)):
            if years:
                lines.append(f"- {what}: " + ", ".join(str(y) for y in years))
        lines.append("")
    else:
        lines += ["Geen groepen of jaren verschenen of verdwenen.", ""]
    return lines


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
    lines = [f"- Datum: {_date(p.released)}"]
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


def page_markdown(root: Path = paths.ROOT) -> str:
    """The page "Versies" as MyST Markdown: editions, comparisons, corrections, rebuild steps."""
    editions = load_editions(root)
    synthetic = _current_kind(root)
    if synthetic is not None:
        # Only editions of the same kind of data: a real report is never compared with the synthetic demo.
        editions = [e for e in editions if bool(e.latest.data.get("synthetic")) == synthetic]
    titles = page_titles(root)
    current_numbers_ = current_numbers(root)
    current = Snapshot("huidige versie", current_numbers_, current_findings(root), titles) if current_numbers_ else None
    lines = ["# Versies", "",
             "Elke publicatie van dit levend rapport wordt bewaard als *editie*: de datum, de gegevens "
             "(bestandsnaam en sha256), de commit van de code, de versie van `oml`, alle gepubliceerde getallen "
             "en de uitkomst van elke toets. Een correctie wordt als nieuwe publicatie van dezelfde editie "
             "vastgelegd; de eerdere blijft bewaard. Kerngetallen staan naast elkaar met hun verschil "
             "(nieuw min oud); een • is een cel die niet getoond wordt omdat ze op te weinig leerlingen rust.", ""]
    if not editions:
        lines += ["Er is nog geen editie gepubliceerd.", ""]
    if editions and current is not None:
        latest = editions[-1]
        lines += [f"## Huidige versie tegenover editie {_esc(latest.name)}", ""]
        lines += _current_md(root)
        lines += _comparison_md(compare(latest.latest.snapshot(), current))
    for older, newer in reversed(list(zip(editions, editions[1:]))):
        lines += [f"## Editie {_esc(newer.name)} tegenover editie {_esc(older.name)}", ""]
        lines += _comparison_md(compare(older.latest.snapshot(), newer.latest.snapshot()))
    if editions:
        lines += ["## Alle edities", "",
                  "Elke editie is exact opnieuw te bouwen: de bouw is reproduceerbaar, dus dezelfde commit met "
                  "dezelfde gegevens geeft dezelfde getallen. Controleer de gegevens met hun sha256.", ""]
    for e in reversed(editions):
        first = e.first
        lines += [f"### Editie {_esc(e.name)}", ""]
        if first.text:
            lines += [f"Toelichting: {_esc(first.text)}", ""]
        lines += _publication_md(first) + [""]
        for prev, corr in zip(e.publications, e.publications[1:]):
            lines += [f"#### Correctie {corr.number - 1} van editie {_esc(e.name)} ({_date(corr.released)})", "",
                      f"Correctie: {_esc(corr.text)}", ""]
            lines += _publication_md(corr) + [""]
            lines += _comparison_md(compare(prev.snapshot(f"publicatie {prev.number}"),
                                            corr.snapshot(f"publicatie {corr.number}")))
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
