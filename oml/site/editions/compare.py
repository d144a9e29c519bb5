"""Editions read back from ``editions/`` and compared: headline numbers, conclusions, groups and years."""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from oml import paths
from oml.paths import Layout
from oml.stats.direction import Direction, direction

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
    for meta_file in sorted(Layout(root).editions.glob("*/edition.json")):
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


@dataclass(frozen=True)
class Conclusion:
    """What one published comparison concluded, as data (the page words it in Dutch).

    ``kind`` is ``"trend"`` (first against last year of a group), ``"consecutive"`` (two
    neighbouring years of a group) or ``"between"`` (two groups in the last year). For a trend or
    consecutive years ``verdict`` is the :class:`~oml.stats.direction.Direction` of the change; between
    groups it is the group that scored higher, or None when the difference is not significant.
    """

    figure: str
    kind: str
    groups: tuple[str, ...]
    years: tuple[int, int]
    verdict: object

    @property
    def identity(self) -> tuple:
        """The same comparison across editions. A trend and a difference between groups are identified
        without their years: a new year of data moves them, and that is the conclusion that may change."""
        if self.kind == "consecutive":
            return (self.figure, self.kind, *self.groups, *self.years)
        return (self.figure, self.kind, *self.groups)


@dataclass
class FindingChange:
    """A comparison both snapshots made, with a different verdict."""

    old: Conclusion
    new: Conclusion

    @property
    def figure(self) -> str:
        return self.new.figure


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


def conclusion(f: dict) -> Conclusion:
    """A published comparison (a row of a ``*-toetsen.csv``, or of an edition's findings) as a :class:`Conclusion`.

    Examples
    --------
    >>> c = {"figure": "verschillen-jaar", "family": "first_last", "group_a": "totaal", "year_a": 2023,
    ...      "group_b": "totaal", "year_b": 2025, "estimate": -0.2, "significant": True}
    >>> k = conclusion(c)
    >>> k.kind, k.groups, k.years, k.verdict.value
    ('trend', ('totaal',), (2023, 2025), 'lower')
    >>> b = conclusion({**c, "family": "between", "group_a": "meisje", "group_b": "jongen", "estimate": 0.1})
    >>> b.groups, b.verdict
    (('jongen', 'meisje'), 'jongen')
    """
    a, b = str(f["group_a"]), str(f["group_b"])
    years = (int(f["year_a"]), int(f["year_b"]))
    significant = bool(f["significant"])
    if f["family"] in ("first_last", "consecutive"):
        kind = "trend" if f["family"] == "first_last" else "consecutive"
        return Conclusion(f["figure"], kind, (a,), years, direction(float(f["estimate"]), significant))
    # Between groups: the estimate is b minus a (oml.stats.findings reads it the same way).
    higher = None
    if significant:
        higher = b if direction(float(f["estimate"])) is Direction.HIGHER else a
    return Conclusion(f["figure"], "between", tuple(sorted((a, b))), years, higher)


def _groups(s: Snapshot) -> tuple[set[tuple[str, str]], set[int]]:
    groups, years = set(), set()
    for key, (value, _) in s.numbers.items():
        m = CELL.match(key)
        if m:
            years.add(int(m["year"]))
            if value is not None:
                groups.add((m["page"], m["group"]))
    return groups, years


#: Published values are the same number when they agree to this relative tolerance: floating-point results
#: differ in their last digits between CPUs and BLAS builds (at most about 1e-10 relative, measured across
#: OpenBLAS kernels), so bits are never compared across machines.
REL_TOL = 1e-9
#: ... or, for a value that is mathematically zero (a mean of centred values, ~1e-16 with a different
#: sign on each kernel), to this absolute tolerance: far below anything a page can show.
ABS_TOL = 1e-12


def same_number(old: tuple, new: tuple, rel_tol: float = REL_TOL, abs_tol: float = ABS_TOL) -> bool:
    """Whether two published numbers, ``(value, text)`` each, are the same: equal text, value within the tolerances.

    Examples
    --------
    >>> same_number((0.6500998716927024, "0,65"), (0.6500998716927029, "0,65"))
    True
    >>> same_number((0.65, "0,65"), (0.66, "0,66")), same_number((0.651, "0,65"), (0.649, "0,65"))
    (False, False)
    >>> same_number((None, "•"), (None, "•")), same_number((float("nan"), "–"), (float("nan"), "–"))
    (True, True)
    >>> same_number((1.1e-16, "0,00"), (-2.2e-16, "0,00"))  # zero, as two CPUs compute it
    True
    """
    (a, text_a), (b, text_b) = old, new
    if text_a != text_b:
        return False
    numeric = (int, float)
    if isinstance(a, numeric) and isinstance(b, numeric) and not isinstance(a, bool) and not isinstance(b, bool):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol)
    return a == b


def compare(old: Snapshot, new: Snapshot) -> Comparison:
    """What changed from ``old`` to ``new``: headline numbers, conclusions, groups and years, counts.

    A number counts as changed when its published text changed or its value moved beyond
    :data:`REL_TOL`; a conclusion when its verdict changed.

    Examples
    --------
    >>> a = Snapshot("a", {"in-deze-factsheet/n_pupils": (100, "100"), "x/ci": (0.1000000000000001, "0,10")}, [])
    >>> b = Snapshot("b", {"in-deze-factsheet/n_pupils": (120, "120"), "x/ci": (0.1, "0,10")}, [])
    >>> c = compare(a, b)
    >>> c.headlines[0].label, c.headlines[0].old, c.headlines[0].new, c.numbers_changed
    ('Leerlingen', 100, 120, 1)
    """
    old_c = {k.identity: k for k in map(conclusion, old.findings)}
    new_c = {k.identity: k for k in map(conclusion, new.findings)}
    changed = [FindingChange(old_c[k], new_c[k]) for k in sorted(set(old_c) & set(new_c), key=str)
               if old_c[k].verdict != new_c[k].verdict]
    old_f = {conclusion(f).identity: f for f in old.findings}
    new_f = {conclusion(f).identity: f for f in new.findings}
    go, yo = _groups(old)
    gn, yn = _groups(new)
    common = set(old.numbers) & set(new.numbers)
    return Comparison(
        old, new, _headlines(old, new), changed,
        [new_f[k] for k in sorted(set(new_f) - set(old_f), key=str)],
        [old_f[k] for k in sorted(set(old_f) - set(new_f), key=str)],
        sorted(gn - go), sorted(go - gn), sorted(yn - yo), sorted(yo - yn),
        sum(1 for k in common if not same_number(old.numbers[k], new.numbers[k])),
        len(set(new.numbers) - set(old.numbers)), len(set(old.numbers) - set(new.numbers)),
    )
