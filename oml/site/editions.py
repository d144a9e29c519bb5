"""Editions: every publication of the report kept, what changed shown, corrections noted.

An **edition** is a named publication of the built site (``oml release NAME``), recorded in
``editions/NAME/`` at the repository root and committed: when and from what it was built
(commit, data file name and sha256, ``oml`` version) and everything it published (the
site's ``numbers.json``, compactly) plus the outcome of every statistical comparison (the
*findings record*). A **correction** (``oml release NAME --correction TEXT``) re-publishes an
edition: the earlier publication stays, the new one is appended with its date and text.

Why a findings record next to the numbers: ``numbers.json`` holds every published cell
(estimates, intervals, counts) but not the Holm-adjusted tests the sentences rest on, and
those cannot be recomputed from the cells (the covariance between them is not published).
The build already publishes every comparison as a CSV (``*-toetsen.csv``, the "Cijfers"
under each figure); the findings record is that table, so a conclusion (stable → lower,
significant → not) is read from exactly what the edition published.

Layout of one edition::

    editions/NAME/edition.json      name, note, publications (date, commit, data, version, text)
    editions/NAME/<k>/numbers.json  publication k: every published number, one per line, sorted
    editions/NAME/<k>/findings.json publication k: every comparison (figure, groups, years, test)

The build side: :func:`write_build_record` (end of ``oml build``) writes
``_build/build-record.json`` — commit, a fingerprint of the working tree, the data's name and
sha256, the code fingerprint, the hash of the site's ``numbers.json`` — and
:func:`release` refuses unless that record matches the current clean working tree.
:func:`write_page` (before Sphinx) renders the page "Versies" into ``book/rapport/versies.md``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import oml
from oml import paths
from oml.data.files import file_sha256

# The build calls this module on every run, also when nothing changed: it imports no statistics
# at the top (pandas and the text module load only when a page or a record is written).
SUPPRESSED = "\u2022"  # as oml.report.text.SUPPRESSED


def nl_number(value, decimals: int = 0) -> str:
    """:func:`oml.report.text.nl_number`, imported when first needed."""
    from oml.report.text import nl_number as fmt

    return fmt(value, decimals)


def group_label(group: str) -> str:
    """:func:`oml.report.text.group_label`, imported when first needed."""
    from oml.report.text import group_label as label

    return label(group)

EDITIONS = "editions"
RECORD = "build-record.json"
PAGE = Path("book") / "rapport" / "versies.md"
FRAGMENTS = Path("book") / "rapport" / "files"
NAME_RULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

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
#: Columns of the findings record (a subset of every ``*-toetsen.csv``).
FINDING_COLUMNS = ("figure", "family", "group_a", "year_a", "group_b", "year_b", "estimate", "p_holm", "significant")
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december")


class ReleaseError(RuntimeError):
    """``oml release`` cannot record the edition; the message says why and what to do."""


# --------------------------------------------------------------------------- git and fingerprints

def _git(root: Path, *args: str) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    except FileNotFoundError:
        raise ReleaseError("git is not installed: editions are recorded against a git commit") from None
    if proc.returncode != 0:
        raise ReleaseError(f"git {' '.join(args)} failed in {root}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def _in_git(root: Path) -> bool:
    try:
        return _git(root, "rev-parse", "--show-toplevel").strip() != ""
    except ReleaseError:
        return False


def dirty_paths(root: Path = paths.ROOT) -> list[str]:
    """Changed, staged or untracked files of the working tree (``git status --porcelain``).

    Ignored files (``.gitignore``: the build output, caches, the data folder) do not count.
    """
    out = _git(root, "status", "--porcelain", "--untracked-files=all")
    return [line[3:] for line in out.splitlines() if line.strip()]


def source_fingerprint(root: Path = paths.ROOT) -> str | None:
    """sha256 over every tracked and untracked-not-ignored file of the working tree (path + content).

    Two working trees with the same fingerprint build the same site from the same data,
    whatever their commit; ``None`` outside a git repository.
    """
    if not _in_git(root):
        return None
    names = sorted(n for n in _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0") if n)
    digest = hashlib.sha256()
    for name in names:
        path = root / name
        if path.is_file():  # a tracked file deleted in the working tree is simply absent
            digest.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


# --------------------------------------------------------------------------- what a build published

def current_numbers(root: Path = paths.ROOT) -> dict[str, tuple]:
    """The current build's published numbers, ``key -> (value, text)``, from the pages' manifest fragments.

    These fragments (``book/rapport/files/*.numbers.json``) are exactly what the site's
    ``numbers.json`` merges; they exist before Sphinx runs.
    """
    out = {}
    for fragment in sorted((root / FRAGMENTS).glob("*.numbers.json")):
        for entry in json.loads(fragment.read_text(encoding="utf-8")):
            out[entry["key"]] = (entry["value"], entry["text"])
    return out


def current_findings(root: Path = paths.ROOT) -> list[dict]:
    """Every comparison the current build published (all ``*-toetsen.csv``), sorted, one dict each.

    A CSV without a ``figure`` column belongs to the page its file name starts with.
    """
    rows = {}
    for csv in sorted((root / FRAGMENTS).glob("*-toetsen.csv")):
        import pandas as pd

        frame = pd.read_csv(csv, dtype={"group_a": str, "group_b": str}, keep_default_na=False, na_values=[""])
        if "figure" not in frame.columns:
            frame["figure"] = csv.name.removesuffix("-toetsen.csv")
        missing = [c for c in FINDING_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"{csv}: comparisons without column(s) {', '.join(missing)}")
        for r in frame[list(FINDING_COLUMNS)].to_dict("records"):
            record = {"figure": str(r["figure"]), "family": str(r["family"]), "group_a": str(r["group_a"]),
                      "year_a": int(r["year_a"]), "group_b": str(r["group_b"]), "year_b": int(r["year_b"]),
                      "estimate": float(r["estimate"]), "p_holm": float(r["p_holm"]),
                      "significant": str(r["significant"]).lower() == "true"}
            rows[_finding_id(record)] = record
    return [rows[k] for k in sorted(rows)]


def _finding_id(r: dict) -> tuple:
    return (r["figure"], r["family"], r["group_a"], r["year_a"], r["group_b"], r["year_b"])


def _page_titles(root: Path) -> dict[str, str]:
    from oml.site.build import BuildError, load_runs

    try:
        return {run.page: run.title for run in load_runs(root / "notebooks" / "runs.toml")}
    except (BuildError, OSError):
        return {}


def write_build_record(build_dir: Path, info: dict, data: str | None = None, root: Path = paths.ROOT) -> Path:
    """Record what the site in ``build_dir/html`` was built from: ``build_dir/build-record.json``.

    Called at the end of a successful ``oml build``. ``oml release`` compares this record with
    the working tree and the data at release time, and takes the edition's numbers and
    findings from it, so an edition is always exactly what was built.

    Parameters
    ----------
    build_dir : Path
        The build folder (``_build``); its ``html/numbers.json`` must exist.
    info : dict
        The build's data info (``data_name``, ``data_sha256``, ``rows``, ``synthetic``).
    data : str, optional
        The ``--data`` argument as given (None: the default synthetic data).

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); (d / "html").mkdir(); _ = (d / "html" / "numbers.json").write_text("{}")
    >>> rec = json.loads(write_build_record(d, {"data_name": "x.csv", "data_sha256": "ab", "rows": 3,
    ...                                         "synthetic": True}, "x.csv", root=d).read_text())
    >>> rec["data"]["name"], rec["commit"], rec["numbers_sha256"] == file_sha256(d / "html" / "numbers.json")
    ('x.csv', None, True)
    """
    from oml.site.build import code_fingerprint

    build_dir = Path(build_dir)
    in_git = _in_git(root)
    record = {
        "commit": _git(root, "rev-parse", "HEAD").strip() if in_git and _has_head(root) else None,
        "clean": (not dirty_paths(root)) if in_git else None,
        "source": source_fingerprint(root),
        "code": code_fingerprint(root) if (root / "oml").is_dir() else None,
        "oml_version": oml.__version__,
        "data": {"name": info["data_name"], "sha256": info["data_sha256"], "rows": info["rows"],
                 "synthetic": bool(info["synthetic"]), "path": None if data is None else str(Path(data).resolve()),
                 "file": None if data is None else _relative(Path(data), root), "default": data is None},
        "numbers_sha256": file_sha256(build_dir / "html" / "numbers.json"),
        "findings": current_findings(root),
        "pages": _page_titles(root),
        "built": _now(),
    }
    out = build_dir / RECORD
    out.write_text(json.dumps(record, indent=1, sort_keys=True, ensure_ascii=False), encoding="utf-8")
    return out


def _relative(path: Path, root: Path) -> str:
    """The data file as a rebuild names it: relative to the project root when inside it, else its name."""
    try:
        return path.resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return path.name


def _has_head(root: Path) -> bool:
    try:
        _git(root, "rev-parse", "--verify", "HEAD")
        return True
    except ReleaseError:
        return False


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --------------------------------------------------------------------------- release

def check_current(root: Path = paths.ROOT) -> dict:
    """The build record, if the working tree is clean and the built site is current; else :class:`ReleaseError`.

    Current means: the record exists, the working tree has the very files the site was built
    from (same fingerprint), the data file (when it is still there) has the recorded sha256,
    and ``_build/html/numbers.json`` is the one the record describes.
    """
    if not _in_git(root):
        raise ReleaseError(f"{root} is not a git repository: an edition records the commit it was built from")
    dirty = dirty_paths(root)
    if dirty:
        shown = ", ".join(dirty[:8]) + (f" and {len(dirty) - 8} more" if len(dirty) > 8 else "")
        raise ReleaseError(f"the working tree is not clean ({len(dirty)} changed or untracked file(s): {shown}); "
                           "commit or remove them, rebuild, then release")
    build_dir = root / "_build"
    record_file = build_dir / RECORD
    if not record_file.exists():
        raise ReleaseError(f"no build record ({record_file}): build the site with `oml build` first")
    try:
        record = json.loads(record_file.read_text(encoding="utf-8"))
    except ValueError as err:
        raise ReleaseError(f"the build record {record_file} is damaged ({err}): run `oml build` again") from None
    head = _git(root, "rev-parse", "HEAD").strip()
    if record.get("source") != source_fingerprint(root):
        raise ReleaseError(f"the built site is not current: it was built from other files than the working tree "
                           f"(built at commit {str(record.get('commit'))[:12]}, now {head[:12]}); run `oml build` "
                           "again (with the same --data), then release")
    path = record["data"].get("path")
    if path and Path(path).is_file():

        if file_sha256(path) != record["data"]["sha256"]:
            raise ReleaseError(f"the built site is not current: the data file {path} changed since the build "
                               "(sha256 differs); run `oml build` again, then release")
    numbers = build_dir / "html" / "numbers.json"
    if not numbers.exists() or file_sha256(numbers) != record["numbers_sha256"]:
        raise ReleaseError(f"the built site is not current: {numbers} is not the one the build record describes; "
                           "run `oml build` again, then release")
    return {**record, "commit": head}


def release(name: str, note: str | None = None, correction: str | None = None, source: str | None = None,
            root: Path = paths.ROOT, commit: bool = True, now: str | None = None) -> Path:
    """Record the current build as edition ``name`` (or a correction of it) in ``editions/name/``.

    Parameters
    ----------
    name : str
        Edition name (letters, digits, ``.``, ``_``, ``-``), e.g. ``"2025"``.
    note : str, optional
        What this edition is (first publication).
    correction : str, optional
        Makes this a corrected re-publication of an existing edition, with this text.
    source : str, optional
        How to obtain the data (e.g. the ``oml synth`` command); shown with the rebuild steps.
    commit : bool
        Commit ``editions/name`` (only that folder) when done.
    now : str, optional
        Release time (ISO 8601, UTC); default the current time.

    Returns
    -------
    Path
        The edition's folder.
    """
    if not NAME_RULE.match(name or ""):
        raise ReleaseError(f"edition name '{name}' is not allowed: use 1–64 letters, digits, '.', '_' or '-', "
                           "starting with a letter or digit")
    if note is not None and correction is not None:
        raise ReleaseError("give either --note (a new edition) or --correction (a re-publication), not both")
    if correction is not None and not correction.strip():
        raise ReleaseError("--correction needs a text saying what was corrected")
    folder = root / EDITIONS / name
    meta_file = folder / "edition.json"
    if correction is None and meta_file.exists():
        raise ReleaseError(f"edition '{name}' already exists ({meta_file}); record a corrected re-publication "
                           f"with `oml release {name} --correction TEXT`")
    if correction is not None and not meta_file.exists():
        known = ", ".join(e.name for e in load_editions(root)) or "none"
        raise ReleaseError(f"there is no edition '{name}' to correct (editions: {known})")
    record = check_current(root)
    manifest = json.loads((root / "_build" / "html" / "numbers.json").read_text(encoding="utf-8"))
    meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {"name": name, "publications": []}
    number = len(meta["publications"]) + 1
    data = {k: record["data"].get(k) for k in ("name", "file", "sha256", "rows", "synthetic", "default")}
    previous = meta["publications"][-1]["data"] if meta["publications"] else {}
    # A correction from the same data keeps the edition's description of where they come from.
    data["source"] = source if source is not None or previous.get("sha256") != data["sha256"] else previous.get("source")
    meta["publications"].append({
        "number": number,
        "kind": "publication" if correction is None else "correction",
        "released": now or _now(),
        "text": (note if correction is None else correction) or "",
        "commit": record["commit"],
        "oml_version": record["oml_version"],
        "code": record["code"],
        "data": data,
        "pages": record["pages"],
    })
    pub = folder / str(number)
    pub.mkdir(parents=True, exist_ok=True)
    _write_numbers(pub / "numbers.json", manifest)
    _write_lines(pub / "findings.json", record["findings"])
    meta_file.write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if commit:
        rel = f"{EDITIONS}/{name}"
        what = f"Edition {name}" + (f": correction {number - 1}" if correction is not None else "")
        text = correction if correction is not None else note
        try:
            _git(root, "add", "--", rel)
            _git(root, "commit", "--quiet", "-m", what + (f"\n\n{text}" if text else ""), "--", rel)
        except ReleaseError as err:
            raise ReleaseError(f"the edition was written to {folder} but not committed ({err}); commit that folder "
                               "yourself") from None
    return folder


def _write_numbers(path: Path, manifest: dict) -> None:
    """``numbers.json`` compactly: ``[key, value, text]`` per entry, sorted by key, one per line.

    The page of each number is the first part of its key, so nothing is lost.
    """
    rows = sorted([e["key"], e["value"], e["text"]] for e in manifest["numbers"])
    head = {"count": manifest["count"], "synthetic": manifest["synthetic"]}
    lines = ",\n".join(json.dumps(r, ensure_ascii=False, allow_nan=False) for r in rows)
    path.write_text(json.dumps(head, ensure_ascii=False)[:-1] + ', "numbers": [\n' + lines + "\n]}\n", encoding="utf-8")


def _write_lines(path: Path, records: list[dict]) -> None:
    lines = ",\n".join(json.dumps(r, ensure_ascii=False, sort_keys=True, allow_nan=False) for r in records)
    path.write_text("[\n" + lines + "\n]\n", encoding="utf-8")


# --------------------------------------------------------------------------- reading editions

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


# --------------------------------------------------------------------------- comparing

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


# --------------------------------------------------------------------------- the page

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


def _change(h: Headline) -> str:
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
        lines += [f"| {_esc(h.label)} | {_value(h.old, h.decimals)} | {_value(h.new, h.decimals)} | {_change(h)} |"
                  for h in c.headlines]
        lines.append("")
    pages = {**c.old.pages, **c.new.pages}
    if c.changed_findings:
        lines += ["Conclusies die veranderden:", "",
                  "| Figuur | Vergelijking | " + _esc(old) + " | " + _esc(new) + " |", "|---|---|---|---|"]
        lines += [f"| {_esc(_figure_title(f.figure, pages))} | {_esc(f.subject)} | {_esc(f.old)} | {_esc(f.new)} |"
                  for f in c.changed_findings]
        lines.append("")
    else:
        lines += ["Geen enkele conclusie veranderde (van de vergelijkingen die beide toetsten).", ""]
    if c.new_findings or c.dropped_findings:
        sig = [f for f in c.new_findings if f["significant"]]
        lines.append(f"Nieuw getoetst: {nl_number(len(c.new_findings))} vergelijkingen, waarvan "
                     f"{nl_number(len(sig))} significant; niet meer getoetst: {nl_number(len(c.dropped_findings))}.")
        for f in sig:
            _, subject, word = conclusion(f)
            lines.append(f"- {_esc(_figure_title(f['figure'], pages))}: {_esc(subject)}: {_esc(word)}")
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
    info_file = root / "book" / "rapport" / "build-info.json"
    if not info_file.exists():
        return []
    info = json.loads(info_file.read_text(encoding="utf-8"))
    if "data_name" not in info:
        return []
    return [f"De huidige versie is de site die u nu leest, gebouwd uit `{info['data_name']}` "
            f"({nl_number(info['rows'])} leerlingen), sha256 `{info['data_sha256']}`.", ""]


def _rebuild_md(p: Publication) -> list[str]:
    data = p.data
    lines = ["```bash", f"git checkout {p.commit}"]
    if data.get("default"):
        lines.append("oml build    # de standaard synthetische gegevens van deze commit")
    else:
        if data.get("source"):
            lines.append(f"# gegevens: {' '.join(data['source'].split())}")
        lines.append(f"oml build --data {data.get('file') or data['name']}")
    lines += [f"# controle: sha256 van {data['name']} = {data['sha256']}", "```"]
    return lines


def _publication_md(p: Publication) -> list[str]:
    data = p.data
    kind = "synthetische" if data.get("synthetic") else "echte"
    return [
        f"- Datum: {_date(p.released)}",
        f"- Gegevens: `{data['name']}` ({nl_number(data['rows'])} leerlingen, {kind} gegevens), "
        f"sha256 `{data['sha256']}`",
        f"- Code: commit `{p.commit}`, `oml` versie {_esc(p.oml_version)}",
    ]


def page_markdown(root: Path = paths.ROOT) -> str:
    """The page "Versies" as MyST Markdown: editions, comparisons, corrections, rebuild steps."""
    editions = load_editions(root)
    titles = _page_titles(root)
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
    from oml.site.build import BuildError

    out = root / PAGE
    try:
        text = page_markdown(root)
    except (OSError, ValueError, KeyError, TypeError) as err:
        # A damaged edition record must stop the build with its name, not a traceback.
        raise BuildError(f"the page 'Versies' cannot be written: {type(err).__name__}: {err} "
                         f"(check the files under {root / EDITIONS})") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists() or out.read_text(encoding="utf-8") != text:
        out.write_text(text, encoding="utf-8")
    return out
