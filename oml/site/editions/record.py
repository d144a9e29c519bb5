"""The build record, ``oml release`` and what the current build published (numbers and findings)."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
from pathlib import Path

import oml
from oml import paths
from oml.data.files import file_sha256
from oml.data.facts import DataFacts
from oml.paths import Layout
from oml.site.editions.common import NAME_RULE, ReleaseError
from oml.site.editions.compare import load_editions

#: Columns of the findings record (a subset of every ``*-toetsen.csv``).
FINDING_COLUMNS = ("figure", "family", "group_a", "year_a", "group_b", "year_b", "estimate", "p_holm", "significant")


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


def current_numbers(root: Path = paths.ROOT) -> dict[str, tuple]:
    """The current build's published numbers, ``key -> (value, text)``, from the pages' manifest fragments.

    These fragments (``book/rapport/files/*.numbers.json``) are exactly what the site's
    ``numbers.json`` merges; they exist before Sphinx runs.
    """
    out = {}
    for fragment in sorted(Layout(root).fragments.glob("*.numbers.json")):
        for entry in json.loads(fragment.read_text(encoding="utf-8")):
            out[entry["key"]] = (entry["value"], entry["text"])
    return out


def current_findings(root: Path = paths.ROOT) -> list[dict]:
    """Every comparison the current build published (all ``*-toetsen.csv``), sorted, one dict each.

    A CSV without a ``figure`` column belongs to the page its file name starts with.
    """
    rows = {}
    for csv in sorted(Layout(root).fragments.glob("*-toetsen.csv")):
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
            rows[finding_id(record)] = record
    return [rows[k] for k in sorted(rows)]


def finding_id(r: dict) -> tuple:
    return (r["figure"], r["family"], r["group_a"], r["year_a"], r["group_b"], r["year_b"])


def page_titles(root: Path) -> dict[str, str]:
    """Every page's title as the current build shows it (the data's years filled in, from ``build-info.json``)."""
    from oml.site.messages import BuildError
    from oml.site.runs import data_title, load_runs

    layout = Layout(root)
    try:
        info = json.loads(layout.build_info.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        info = {}
    try:
        return {run.page: data_title(run.title, info.get("first_year"), info.get("last_year"))
                for run in load_runs(layout.runs_config)}
    except (BuildError, OSError):
        return {}


def write_build_record(layout: Layout, facts: DataFacts, data: str | None = None) -> Path:
    """Record what the site in ``layout.html`` was built from: ``layout.record`` (``_build/build-record.json``).

    Called at the end of a successful ``oml build``. ``oml release`` compares this record with
    the working tree and the data at release time, and takes the edition's numbers and
    findings from it, so an edition is always exactly what was built.

    Parameters
    ----------
    layout : Layout
        The project; its built site's ``numbers.json`` must exist.
    facts : DataFacts
        The facts of the build's data.
    data : str, optional
        The ``--data`` argument as given (None: the default synthetic data).

    Examples
    --------
    >>> import tempfile
    >>> lay = Layout(Path(tempfile.mkdtemp())); lay.html.mkdir(parents=True); _ = (lay.html / "numbers.json").write_text("{}")
    >>> facts = DataFacts("x.csv", "ab", 3, True, 2023, 2025)
    >>> rec = json.loads(write_build_record(lay, facts, "x.csv").read_text())
    >>> rec["data"]["name"], rec["commit"], rec["numbers_sha256"] == file_sha256(lay.html / "numbers.json")
    ('x.csv', None, True)
    """
    from oml.site.runner import code_fingerprint

    root = layout.root
    in_git = _in_git(root)
    record = {
        "commit": _git(root, "rev-parse", "HEAD").strip() if in_git and _has_head(root) else None,
        "clean": (not dirty_paths(root)) if in_git else None,
        "source": source_fingerprint(root),
        "code": code_fingerprint(layout) if layout.package.is_dir() else None,
        "oml_version": oml.__version__,
        "data": {"name": facts.name, "sha256": facts.sha256, "rows": facts.rows,
                 "synthetic": facts.synthetic, "path": None if data is None else str(Path(data).resolve()),
                 "file": None if data is None else layout.public_name(data), "default": data is None,
                 "delivery": facts.delivery},
        "numbers_sha256": file_sha256(layout.numbers_manifest),
        "findings": current_findings(root),
        "pages": page_titles(root),
        "built": _now(),
    }
    layout.record.write_text(json.dumps(record, indent=1, sort_keys=True, ensure_ascii=False), encoding="utf-8")
    return layout.record


def _has_head(root: Path) -> bool:
    try:
        _git(root, "rev-parse", "--verify", "HEAD")
        return True
    except ReleaseError:
        return False


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


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
    layout = Layout(root)
    record_file = layout.record
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
    numbers = layout.numbers_manifest
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
    folder = Layout(root).editions / name
    meta_file = folder / "edition.json"
    if correction is None and meta_file.exists():
        raise ReleaseError(f"edition '{name}' already exists ({meta_file}); record a corrected re-publication "
                           f"with `oml release {name} --correction TEXT`")
    if correction is not None and not meta_file.exists():
        known = ", ".join(e.name for e in load_editions(root)) or "none"
        raise ReleaseError(f"there is no edition '{name}' to correct (editions: {known})")
    record = check_current(root)
    manifest = json.loads(Layout(root).numbers_manifest.read_text(encoding="utf-8"))
    meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {"name": name, "publications": []}
    number = len(meta["publications"]) + 1
    data = {k: record["data"].get(k) for k in ("name", "file", "sha256", "rows", "synthetic", "default")}
    delivery = record["data"].get("delivery")
    mapping_text = None
    if delivery:
        # The delivered files and the exclusions go into the edition; the mapping file is kept whole beside it.
        mapping = delivery.get("mapping")
        mapping_text = mapping.get("text") if mapping else None
        data["delivery"] = {**delivery, "mapping": None if not mapping else {k: mapping[k] for k in ("name", "sha256")}}
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
    write_numbers(pub / "numbers.json", manifest)
    if mapping_text is not None:
        (pub / "mapping.toml").write_text(mapping_text, encoding="utf-8")
    _write_lines(pub / "findings.json", record["findings"])
    meta_file.write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if commit:
        rel = folder.relative_to(root).as_posix()
        what = f"Edition {name}" + (f": correction {number - 1}" if correction is not None else "")
        text = correction if correction is not None else note
        try:
            _git(root, "add", "--", rel)
            _git(root, "commit", "--quiet", "-m", what + (f"\n\n{text}" if text else ""), "--", rel)
        except ReleaseError as err:
            raise ReleaseError(f"the edition was written to {folder} but not committed ({err}); commit that folder "
                               "yourself") from None
    return folder


def write_numbers(path: Path, manifest: dict) -> None:
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
