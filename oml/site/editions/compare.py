"""Editions read back from ``editions/`` and compared: headline numbers, conclusions, groups and years."""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from oml import paths
from oml.site.editions.common import EDITIONS, group_label

#: Headline numbers of every comparison: (numbers.json key pattern, Dutch label, decimals).
#: A pattern may capture ``year`` or ``page`` (the label then names them); rows are shown for
#: every key either side has, in this order, years ascending.
HEADLINES: tuple[tuple[str, str, int], ...] = (
    (r"in-deze-factsheet/n_pupils", "Leerlingen", 0),
    (r"in-deze-factsheet/n_schools", "Scholen", 0),
    (r"algemeen-beeld/alpha", "Betrouwbaarheid van de index (Cronbachs alfa)", 3),
    (r"algemeen-beeld/agree_praten", "Eens: ik kan met de juf/meester over problemen praten (%)", 1),
    (r"algemeen-beeld/agree_gemak", "Eens: ik voel me op mijn gemak bij de juf/meester (%)", 1),
    (r"verschillen-jaar/figuur/(?P<year>\d{4})/totaal/estimate", "Gecorrigeerde index {year}, alle leerlingen", 3),
    (r"methoden/significant_(?P<page>.+)", "Significante verschillen: {page}", 0),
)
#: A diamond figure's cell: which groups and years an edition shows.
CELL = re.compile(r"^(?P<page>[^/]+)/figuur/(?P<year>\d{4})/(?P<group>[^/]+)/estimate$")


@dataclass
class Snapshot:
    """What one publication (or the current build) published."""

    label: str
    numbers: dict[str, tuple]  # key -> (value, text)
    findings: list[dict]
    pages: dict[str, str] = field(default_factory=dict)  # page -> title


@dataclass
class Publication:
    edition: str
    number: int
    kind: str
    released: str
    text: str
    commit: str
    oml_version: str
    data: dict
    pages: dict
    folder: Path

    def snapshot(self, label: str | None = None) -> Snapshot:
        raw = json.loads((self.folder / "numbers.json").read_text(encoding="utf-8"))
        numbers = {k: (v, t) for k, v, t in raw["numbers"]}
        findings = json.loads((self.folder / "findings.json").read_text(encoding="utf-8"))
        return Snapshot(label or f"editie {self.edition}", numbers, findings, self.pages)


@dataclass
class Edition:
    name: str
    publications: list[Publication]

    @property
    def first(self) -> Publication:
        return self.publications[0]

    @property
    def latest(self) -> Publication:
        return self.publications[-1]


def load_editions(root: Path = paths.ROOT) -> list[Edition]:
    """Every edition under ``editions/``, oldest first (by first publication, then name).

    Examples
    --------
    >>> [e.name for e in load_editions()][:2]  # the two committed demo editions
    ['2024', '2025']
    """
    out = []
    for meta_file in sorted((root / EDITIONS).glob("*/edition.json")):
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        pubs = [Publication(meta["name"], p["number"], p["kind"], p["released"], p.get("text", ""), p["commit"],
                            p["oml_version"], p["data"], p.get("pages", {}), meta_file.parent / str(p["number"]))
                for p in meta["publications"]]
        out.append(Edition(meta["name"], pubs))
    return sorted(out, key=lambda e: (e.first.released, e.name))


@dataclass
class Headline:
    label: str
    old: object  # value, None = suppressed, ... = absent
    new: object
    decimals: int


@dataclass
class FindingChange:
    figure: str
    subject: str
    old: str
    new: str


@dataclass
class Comparison:
    old: Snapshot
    new: Snapshot
    headlines: list[Headline]
    changed_findings: list[FindingChange]
    new_findings: list[dict]
    dropped_findings: list[dict]
    groups_appeared: list[tuple[str, str]]
    groups_disappeared: list[tuple[str, str]]
    years_appeared: list[int]
    years_disappeared: list[int]
    numbers_changed: int
    numbers_added: int
    numbers_removed: int

    @property
    def identical(self) -> bool:
        return not (self.numbers_changed or self.numbers_added or self.numbers_removed or self.changed_findings
                    or self.new_findings or self.dropped_findings)


ABSENT = ...


def _headlines(old: Snapshot, new: Snapshot) -> list[Headline]:
    titles = {**old.pages, **new.pages}
    rows = []
    keys = set(old.numbers) | set(new.numbers)
    for pattern, label, decimals in HEADLINES:
        rx = re.compile(f"^{pattern}$")
        matched = sorted((m for m in map(rx.match, keys) if m), key=lambda m: m.string)
        for m in matched:
            parts = m.groupdict()
            if "page" in parts:
                parts["page"] = titles.get(parts["page"], parts["page"])
            o = old.numbers.get(m.string, (ABSENT,))[0]
            n = new.numbers.get(m.string, (ABSENT,))[0]
            rows.append(Headline(label.format(**parts), o, n, decimals))
    return rows


def conclusion(f: dict) -> tuple[tuple, str, str]:
    """A comparison's identity across editions, its subject and its conclusion, in Dutch.

    The trend (first vs last year) and the difference between two groups in the last year are
    identified without their years: a new year of data moves them, and that is exactly the
    conclusion that may change. Consecutive years keep their years.

    Examples
    --------
    >>> c = {"figure": "verschillen-jaar", "family": "first_last", "group_a": "totaal", "year_a": 2023,
    ...      "group_b": "totaal", "year_b": 2025, "estimate": -0.2, "significant": True}
    >>> conclusion(c)[1:]
    ('alle leerlingen, eerste tegenover laatste jaar', 'lager (2023–2025)')
    """
    a, b = f["group_a"], f["group_b"]
    span = f"{f['year_a']}–{f['year_b']}"
    if f["family"] in ("first_last", "consecutive"):
        word = "stabiel" if not f["significant"] else ("hoger" if f["estimate"] > 0 else "lager")
        if f["family"] == "first_last":
            return (f["figure"], "trend", a), f"{_label(a)}, eerste tegenover laatste jaar", f"{word} ({span})"
        return (f["figure"], "consecutive", a, f["year_a"], f["year_b"]), f"{_label(a)}, {f['year_a']} tegenover {f['year_b']}", word
    # Between groups: the estimate is b minus a (oml.stats.findings reads it the same way).
    x, y = sorted((a, b))
    if not f["significant"]:
        word = "geen significant verschil"
    else:
        hi = b if f["estimate"] > 0 else a
        word = f"{_label(hi)} hoger"
    return (f["figure"], "between", x, y), f"{_label(x)} tegenover {_label(y)}, laatste jaar", f"{word} ({f['year_b']})"


def _label(group: str) -> str:
    return group_label(group).lower() if group in ("totaal", "jongen", "meisje") else group_label(group)


def _groups(s: Snapshot) -> tuple[set[tuple[str, str]], set[int]]:
    groups, years = set(), set()
    for key, (value, _) in s.numbers.items():
        m = CELL.match(key)
        if m:
            years.add(int(m["year"]))
            if value is not None:
                groups.add((m["page"], m["group"]))
    return groups, years


def compare(old: Snapshot, new: Snapshot) -> Comparison:
    """What changed from ``old`` to ``new``: headline numbers, conclusions, groups and years, counts.

    Examples
    --------
    >>> a = Snapshot("a", {"in-deze-factsheet/n_pupils": (100, "100")}, [])
    >>> b = Snapshot("b", {"in-deze-factsheet/n_pupils": (120, "120")}, [])
    >>> c = compare(a, b)
    >>> c.headlines[0].label, c.headlines[0].old, c.headlines[0].new, c.numbers_changed
    ('Leerlingen', 100, 120, 1)
    """
    old_c = {k: (s, w) for k, s, w in map(conclusion, old.findings)}
    new_c = {k: (s, w) for k, s, w in map(conclusion, new.findings)}
    old_f = {conclusion(f)[0]: f for f in old.findings}
    new_f = {conclusion(f)[0]: f for f in new.findings}
    changed = []
    for k in sorted(set(old_c) & set(new_c), key=str):
        if _word(old_c[k][1]) != _word(new_c[k][1]):
            changed.append(FindingChange(k[0], new_c[k][0], old_c[k][1], new_c[k][1]))
    go, yo = _groups(old)
    gn, yn = _groups(new)
    common = set(old.numbers) & set(new.numbers)
    return Comparison(
        old, new, _headlines(old, new), changed,
        [new_f[k] for k in sorted(set(new_f) - set(old_f), key=str)],
        [old_f[k] for k in sorted(set(old_f) - set(new_f), key=str)],
        sorted(gn - go), sorted(go - gn), sorted(yn - yo), sorted(yo - yn),
        sum(1 for k in common if not _same(old.numbers[k][0], new.numbers[k][0])),
        len(set(new.numbers) - set(old.numbers)), len(set(old.numbers) - set(new.numbers)),
    )


def _word(text: str) -> str:
    """A conclusion without its years: 'lager (2023–2025)' -> 'lager'."""
    return re.sub(r"\s*\([^)]*\)$", "", text)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, (int, float)) or isinstance(b, float) and isinstance(a, (int, float)):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b
