"""A delivery read as one table: several files stacked, the mapping applied, missing codes and exclusions recorded.

The real OML extract comes as one file per year (SPSS, Stata, csv or parquet), in its own column
names and codes. :func:`resolve_sources` turns what the researcher gives (files, folders, globs)
into the list of files; :func:`read_extract` reads each as stored, applies the mapping file
(:mod:`oml.data.mapping`) to each, and stacks them by column name; :func:`load_extract` then
checks the whole against the data contract. Every problem of every stage — the mapping, the
value labels, the year, the answer scale, the contract — is reported at once, each naming the
file and the row in that file.

What the delivery says besides its rows travels with the table as a
:class:`~oml.data.delivery.Delivery`: the files (name, size, sha256), the mapping file, the
rows excluded by the mapping's rules (with their reasons), every missing answer by kind, and the
extract's own wording of each statement and labels of each answer.

Order of the steps, per file: rename (and derive the year) → declared missing codes become
blanks, their kind recorded (a code the mapping recodes stays a code) → recode → value labels to
categories. Then, on the stacked table: the exclusion rules, in the mapping's order; then the
missing answers are counted (a statement blank for a whole year is "niet gevraagd").
"""
from __future__ import annotations

import glob
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from oml.data.contract import ITEM_PREFIX, REVERSE_ATTR, DataValidationError, Problem, validate
from oml.data.codebook import unknown_wordings, wording_problem
from oml.data.delivery import (BLANK, DELIVERY_ATTR, NOT_ASKED, Delivery, Exclusion, MappingFile, MissingCount,
                               SourceFile, attach)
from oml.data.files import file_sha256
from oml.data.io import SUPPORTED, RawFile, map_labels, read_file, whole_ids
from oml.data.mapfile import Mapping, MappingError, code_text

GLOB_CHARS = set("*?[")


@dataclass
class Extract:
    """A delivery read and mapped, not yet checked against the contract (:func:`read_extract`)."""

    frame: pd.DataFrame
    delivery: Delivery
    #: (file name, row in that file) of every row of ``frame``.
    where: list[tuple[str, int]]
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: Per file: the contract columns and statements it holds.
    holds: dict[str, list[str]] = field(default_factory=dict)


def resolve_sources(values: Sequence[str | Path]) -> list[Path]:
    """The data files a researcher names: files, folders (their data files, by name) and globs, in order.

    Raises
    ------
    DataValidationError
        A glob or folder without data files, or a file named twice (so no file is silently used twice
        and no repeated option silently keeps only one).

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> for name in ("oml-2024.sav", "oml-2023.sav", "notes.txt"):
    ...     _ = (d / name).write_bytes(b"x")
    >>> [p.name for p in resolve_sources([d])]
    ['oml-2023.sav', 'oml-2024.sav']
    >>> [p.name for p in resolve_sources([str(d / "oml-*.sav")])]
    ['oml-2023.sav', 'oml-2024.sav']
    """
    out: list[Path] = []
    problems: list[Problem] = []
    for value in values:
        text = str(value)
        if GLOB_CHARS & set(text) and not Path(text).exists():
            matches = sorted(Path(m) for m in glob.glob(text) if Path(m).is_file())
            if not matches:
                problems.append(Problem(f"({text})", "no file matches this pattern"))
            out += matches
        elif Path(text).is_dir():
            found = sorted(p for p in Path(text).iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED)
            if not found:
                problems.append(Problem(f"({text})", f"the folder holds no data file ({', '.join(SUPPORTED)})"))
            out += found
        else:
            out.append(Path(text))
    seen: dict[Path, int] = {}
    for p in out:
        seen[p.resolve()] = seen.get(p.resolve(), 0) + 1
    for p, n in seen.items():
        if n > 1:
            problems.append(Problem(f"({p.name})", f"named {n} times (by the options, folders or patterns given): name each file once"))
    if problems:
        raise DataValidationError("--data", problems)
    return out


def source_label(sources: Sequence[Path]) -> str:
    """How reports name a delivery: the file, or the number of files and the first and last."""
    if len(sources) == 1:
        return str(sources[0])
    return f"{len(sources)} files ({Path(sources[0]).name} … {Path(sources[-1]).name})"


def _shift(problems: list[Problem], offset: int) -> list[Problem]:
    return [Problem(p.column, p.rule, [r + offset for r in p.rows]) for p in problems]


def _in_mapping(problem: Problem, mapping: Mapping) -> Problem:
    """A mapping entry's problem, named with the mapping file: "m.toml [columns] x"."""
    return Problem(f"({Path(mapping.source).name} {problem.column.strip('()')})", problem.rule, problem.rows)


def _merge(problems: list[Problem]) -> list[Problem]:
    """One problem per column and rule: the same mistake in several files is one line naming them all."""
    merged: dict[tuple[str, str], Problem] = {}
    for p in problems:
        key = (p.column, p.rule)
        if key in merged:
            merged[key].rows.extend(p.rows)
        else:
            merged[key] = Problem(p.column, p.rule, list(p.rows))
    return list(merged.values())


def _years(frame: pd.DataFrame) -> pd.Series:
    return pd.to_numeric(frame["year"], errors="coerce") if "year" in frame else pd.Series(np.nan, index=frame.index)


def _missing_to_blank(frame: pd.DataFrame, raw: RawFile, mapping: Mapping | None, labels: dict) -> pd.DataFrame:
    """Declared missing codes -> blank cells; returns the kind of each such cell (statements only; others None).

    A code declared missing in the file (SPSS user-missing) or in the mapping's ``[missing]`` becomes
    a blank, its kind taken from the mapping, else from the file's value label. A code the mapping
    recodes stays a code: the recode gives it its value (e.g. -1 -> "onbekend").
    """
    declared = {(mapping.columns.get(c, c) if mapping else c): codes for c, codes in raw.declared_missing.items()}
    kinds = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        is_item = str(column).startswith(ITEM_PREFIX)
        codes = {code_text(c): labels.get(column, {}).get(c) or f"code {code_text(c)}" for c in declared.get(column, ())}
        if mapping is not None:
            codes |= mapping.missing_codes(column, is_item)
            for code in mapping.recode.get(column, {}):
                codes.pop(code, None)
        if not codes:
            continue
        values = frame[column]
        as_code = values.map(lambda v: code_text(v) if pd.notna(v) and str(v).strip() != "" else None)
        hit = as_code.isin(list(codes))
        if hit.any():
            if is_item:
                kinds[column] = as_code.map(codes).where(hit, None)
            frame[column] = values.where(~hit)
    return kinds


def _answer_labels(labels: dict, frame: pd.DataFrame, missing_kinds: pd.DataFrame, out: dict[int, dict[int, str]],
                   declared: set) -> None:
    """The statements' value labels (without missing codes), for the years this file's rows are in."""
    years = sorted({int(y) for y in _years(frame).dropna() if float(y).is_integer()})
    for column, table in labels.items():
        if not str(column).startswith(ITEM_PREFIX):
            continue
        kinds = set(missing_kinds[column].dropna()) if column in missing_kinds else set()
        for code, label in table.items():
            try:
                number = float(code)
            except (TypeError, ValueError):
                continue
            if not number.is_integer() or (column, number) in declared or label in kinds:
                continue
            for y in years:
                out.setdefault(y, {}).setdefault(int(number), " ".join(str(label).split()))


def read_extract(sources: Sequence[str | Path], mapping: Mapping | str | Path | None = None) -> Extract:
    """Read every file, apply the mapping to each, stack them by column name; collect every problem.

    Parameters
    ----------
    sources : files
        The delivered files (see :func:`resolve_sources`).
    mapping : Mapping or path, optional
        The mapping file (:mod:`oml.data.mapping`).

    Returns
    -------
    Extract
        The mapped table (not yet typed by the contract), its delivery, where each row came from,
        and the problems and warnings found so far. Raises nothing for bad data: the problems are
        reported together with the contract's by :func:`load_extract`.
    """
    sources = [Path(s) for s in sources]
    problems: list[Problem] = []
    warnings: list[str] = []
    mapping_file = None
    if mapping is not None and not isinstance(mapping, Mapping):
        path = Path(mapping)
        mapping = Mapping.read(path)  # a broken mapping file stops here: nothing can be read through it
        mapping_file = MappingFile(path.name, file_sha256(path), mapping.text)
    elif isinstance(mapping, Mapping) and mapping.text:
        mapping_file = MappingFile(Path(mapping.source).name, "", mapping.text)
    raws: list[tuple[Path, RawFile]] = []
    files = []
    for path in sources:
        try:
            raw = read_file(path)
        except DataValidationError as err:
            problems += [Problem(f"({path.name})", p.rule, p.rows) for p in err.problems]
            continue
        raws.append((path, raw))
        files.append(SourceFile(path.name, path.stat().st_size, file_sha256(path), len(raw.frame)))
    if mapping is not None:
        present = sorted({str(c) for _, raw in raws for c in raw.frame.columns}, key=lambda c: (c not in mapping.columns, c))
        problems += [_in_mapping(p, mapping) for p in mapping.check_columns(present)]
    parts, kinds_parts, where, holds = [], [], [], {}
    answer_labels: dict[int, dict[int, str]] = {}
    variable_labels: dict[str, str] = {}
    unused_in: dict[str, set] = {}
    offset = 0
    for path, raw in raws:
        frame = raw.frame.reset_index(drop=True).copy()
        labels = dict(raw.value_labels or {})
        if mapping is not None:
            frame, labels = mapping.rename(frame, labels)
        for column, text in raw.variable_labels.items():
            name = mapping.columns.get(column, column) if mapping else column
            if text and text != column:
                variable_labels.setdefault(name, text)
        declared = {((mapping.columns.get(c, c) if mapping else c), float(code))
                    for c, codes in raw.declared_missing.items() for code in codes}
        kinds = _missing_to_blank(frame, raw, mapping, labels)
        _answer_labels(labels, frame, kinds, answer_labels, declared)
        local: list[Problem] = []
        if mapping is not None:
            file_warnings: list[str] = []
            mapping.recode_columns(frame, labels, local, file_warnings)
            for w in file_warnings:  # an entry unused here may be used by another file: decided below
                unused_in.setdefault(w, set()).add(path.name)
        if raw.value_labels is not None:
            whole_ids(frame)
            frame = map_labels(frame, labels, local)
        problems += [_in_mapping(p, mapping) if mapping is not None and p.column.startswith("([") else p
                     for p in _shift(local, offset)]
        holds[path.name] = [str(c) for c in frame.columns]
        parts.append(frame)
        kinds_parts.append(kinds)
        where += [(path.name, i + 1) for i in range(len(frame))]
        offset += len(frame)
    warnings += sorted(w for w, names in unused_in.items() if len(names) == len(raws))
    problems = _merge(problems)
    stacked = pd.concat(parts, ignore_index=True, sort=False) if parts else pd.DataFrame()
    kinds = pd.concat(kinds_parts, ignore_index=True, sort=False) if kinds_parts else pd.DataFrame()
    kinds = kinds.reindex(stacked.index)
    if mapping is not None and mapping.reverse:
        stacked.attrs = {REVERSE_ATTR: [mapping.columns.get(r, r) for r in mapping.reverse]}
    stacked, kinds, where, exclusions = _exclude(stacked, kinds, where, mapping)
    items = [c for c in stacked.columns if str(c).startswith(ITEM_PREFIX)]
    wording = {}
    for item in items:
        text = (mapping.wording_of(item) if mapping is not None else None) or variable_labels.get(item)
        if text:
            wording[item] = text
    if mapping is not None:
        for (first, last), table in mapping.answers.items():
            for year in range(first, last + 1):
                answer_labels[year] = dict(table)
    delivery = Delivery(files=files, mapping=mapping_file, exclusions=exclusions,
                        missing=_missing_counts(stacked, kinds, items), wording=wording,
                        answer_labels=dict(sorted(answer_labels.items())))
    return Extract(stacked, delivery, where, problems, warnings, holds)


def _exclude(frame: pd.DataFrame, kinds: pd.DataFrame, where: list, mapping: Mapping | None):
    """Apply the mapping's ``[[exclude]]`` rules in order; returns what is left and what each rule took."""
    exclusions = []
    if mapping is None or frame.empty:
        return frame, kinds, where, exclusions
    attrs = frame.attrs
    for rule in mapping.exclude:
        if rule.rule == "duplicate_rows":
            drop = frame.astype("string").duplicated(keep="first")
        else:
            missing = [c for c in rule.columns if c not in frame.columns]
            present = [c for c in rule.columns if c in frame.columns]
            drop = pd.Series(False, index=frame.index)
            for c in present:
                drop |= frame[c].isna() | (frame[c].astype("string").str.strip() == "").fillna(False)
            if missing:
                raise MappingError(mapping.source, [Problem(f"([[exclude]] {rule.name})",
                                                            f"unknown column(s) {', '.join(missing)} (use the contract's names)")])
        exclusions.append(Exclusion(rule.name, rule.reason, int(drop.sum())))
        keep = ~drop.to_numpy(dtype=bool)
        frame = frame[keep].reset_index(drop=True)
        kinds = kinds[keep].reset_index(drop=True)
        where = [w for w, k in zip(where, keep) if k]
    frame.attrs = attrs
    return frame, kinds, where, exclusions


def _missing_counts(frame: pd.DataFrame, kinds: pd.DataFrame, items: list[str]) -> list[MissingCount]:
    """Every missing answer by statement, year and kind; a statement blank for a whole year was not asked."""
    out = []
    years = _years(frame)
    for item in items:
        values = frame[item]
        kind = kinds[item] if item in kinds else pd.Series(None, index=frame.index, dtype=object)
        for year in sorted({int(y) for y in years.dropna() if float(y).is_integer()}):
            rows = (years == year).to_numpy()
            blank = values[rows].isna() | (values[rows].astype("string").str.strip() == "").fillna(False)
            coded = kind[rows].notna()
            if blank.all() and not coded.any():
                out.append(MissingCount(item, year, NOT_ASKED, int(rows.sum())))
                continue
            counts = {str(name): int(n) for name, n in kind[rows][coded].value_counts(sort=False).items()}
            plain = int((blank & ~coded).sum())
            if plain:  # a blank cell is "niet ingevuld", like a code the delivery calls so
                counts[BLANK] = counts.get(BLANK, 0) + plain
            out += [MissingCount(item, year, name, n) for name, n in counts.items()]
    return sorted(out, key=lambda m: (m.column, m.year, m.kind))


def load_extract(sources: Sequence[str | Path], mapping: Mapping | str | Path | None = None,
                 boards_optional: bool = False) -> tuple[pd.DataFrame, Extract]:
    """Read a delivery and check it against the contract: the typed table with its delivery, or every problem at once.

    ``boards_optional``: board problems leave the board columns out instead of refusing the data
    (:func:`oml.data.contract.validate`); the public build reads a delivery so, ``oml reports`` does not.

    Raises
    ------
    DataValidationError
        Listing every problem of every stage, each naming the file and the row in that file.
    """
    sources = [Path(s) for s in sources]
    label = source_label(sources)
    extract = read_extract(sources, mapping)
    problems = list(extract.problems)
    frame = None
    if not extract.frame.empty or not problems:
        try:
            frame = validate(extract.frame, label, boards_optional)
        except DataValidationError as err:
            problems += err.problems
    items = [c for c in extract.frame.columns if str(c).startswith(ITEM_PREFIX)]
    probe = extract.frame[[c for c in ("pupil_id", "school_id") if c in extract.frame] + items].copy()
    probe.attrs[DELIVERY_ATTR] = attach(extract.delivery)
    unknown = unknown_wordings(probe)
    if unknown:
        # A real report prints each statement's own wording: refuse before anything is built.
        problems.append(Problem("(wording)", wording_problem(unknown)))
    if problems:
        # One file: its rows are the table's rows. Several: each row is named by its file.
        raise DataValidationError(label, problems, where=extract.where if len(sources) > 1 else None)
    frame.attrs[DELIVERY_ATTR] = attach(extract.delivery)
    return frame, extract


def convert(sources: Sequence[str | Path], mapping: Mapping | str | Path | None, out: str | Path,
            boards_optional: bool = False) -> tuple[Path, Extract]:
    """Read a delivery through its mapping, check it, and write it as one canonical Parquet file.

    The canonical file is what every template and the build read: the contract's columns, typed,
    with the :class:`~oml.data.delivery.Delivery` in its metadata (``DataFrame.attrs``). ``out`` is
    a file, or a folder: then the file is named after the hashes of the delivery and the mapping,
    and an unchanged pair is converted once. ``boards_optional``: see :func:`load_extract`.

    Raises
    ------
    DataValidationError
        Every problem at once (see :func:`load_extract`); nothing is written.
    """
    from oml.data.io import save

    sources = [Path(s) for s in sources]
    out = Path(out)
    if out.suffix.lower() != ".parquet":
        parts = [file_sha256(s) for s in sources if s.is_file()]
        if mapping is not None and not isinstance(mapping, Mapping) and Path(mapping).is_file():
            parts.append(file_sha256(mapping))
        parts.append(f"boards_optional={boards_optional}")
        key = hashlib.sha256("".join(parts).encode()).hexdigest()[:16]
        target = out / f"oml-mapped-{key}.parquet"
        if target.exists():
            return target, None
    else:
        target = out
    frame, extract = load_extract(sources, mapping, boards_optional)
    if out.suffix.lower() != ".parquet":
        for stale in out.glob("oml-mapped-*.parquet"):
            stale.unlink()
    save(frame, target)
    return target, extract
