"""The mapping file itself: parse and check it, apply it to a raw extract.

The format and an example are in :mod:`oml.data.mapping`, the public face of mapping files. This
module sits below :mod:`oml.data.io` (which applies a mapping while reading a data file), and
:mod:`oml.data.extract` sits above both (it reads a delivery through a mapping): imports go one way.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from oml.data.contract import ITEM_PREFIX, REVERSE_ATTR, DataValidationError, Problem

SECTIONS = ("columns", "recode", "scale", "missing", "wording", "answers", "derive", "exclude")
#: The ``[missing]`` key that stands for every statement of the scale.
ALL_ITEMS = "items"
#: Exclusion rules of ``[[exclude]]``: what each leaves out.
EXCLUDE_RULES = {
    "duplicate_rows": "rows identical to an earlier row in every column (the first is kept)",
    "empty": "rows where any of the listed columns is empty",
}
#: ``[derive]`` keys: a contract column computed from an extract column.
DERIVE = {"year_from_school_year": "year"}


@dataclass(frozen=True)
class ExcludeRule:
    """One ``[[exclude]]`` entry: a rule, the columns it looks at (``empty``), the researcher's reason."""

    rule: str
    reason: str
    columns: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.rule if not self.columns else f"{self.rule} ({', '.join(self.columns)})"


class MappingError(DataValidationError):
    """A mapping file that is broken or does not fit the extract; the message names every entry at fault."""

    def report(self) -> str:
        n = len(self.problems)
        head = (f"{self.source}: the mapping file does not fit ({n} problem{'s' if n != 1 else ''}); nothing was loaded. "
                "Rows are counted from 1 = the first data row.")
        return "\n".join([head, *(p.line() for p in self.problems)])


def _entry(text: str) -> str:
    """A Problem 'column' that prints as the mapping entry itself."""
    return f"({text})"


@dataclass
class Mapping:
    """A parsed mapping file (the format: :mod:`oml.data.mapping`)."""

    columns: dict[str, str] = field(default_factory=dict)
    recode: dict[str, dict[str, object]] = field(default_factory=dict)
    items: list[str] = field(default_factory=list)
    reverse: list[str] = field(default_factory=list)
    source: str = "mapping"
    #: Contract column (or ``items``: every statement) -> code -> the kind of missing answer it is.
    missing: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Statement (extract or contract name) -> its wording.
    wording: dict[str, str] = field(default_factory=dict)
    #: (first year, last year) -> answer code -> label: the answer scale's words when the extract has none.
    answers: dict[tuple[int, int], dict[int, str]] = field(default_factory=dict)
    #: The extract column holding the school year as text ("2022-2023"): the survey year is its second year.
    year_from_school_year: str | None = None
    exclude: list[ExcludeRule] = field(default_factory=list)
    #: The file's text, kept with an edition so the build can be redone.
    text: str = ""

    # ------------------------------------------------------------------ reading
    @classmethod
    def from_dict(cls, cfg: dict, source: str = "mapping") -> Mapping:
        """Check the mapping on its own (before any data) and build it; :class:`MappingError` lists every mistake."""
        problems: list[Problem] = []
        for key in cfg:
            if key not in SECTIONS:
                problems.append(Problem(_entry(f"[{key}]"), f"unknown section; a mapping has {', '.join(f'[{s}]' for s in SECTIONS)}"))
        columns = cfg.get("columns", {})
        if not isinstance(columns, dict):
            problems.append(Problem(_entry("[columns]"), "must be a table of extract_name = \"contract_name\""))
            columns = {}
        for src, dst in columns.items():
            if not isinstance(dst, str) or not dst.strip():
                problems.append(Problem(_entry(f"[columns] {src}"), "the contract column must be a non-empty text"))
        columns = {str(k): str(v).strip() for k, v in columns.items() if isinstance(v, str) and v.strip()}
        targets: dict[str, list[str]] = {}
        for src, dst in columns.items():
            targets.setdefault(dst, []).append(src)
        for dst, srcs in targets.items():
            if len(srcs) > 1:
                problems.append(Problem(_entry(f"[columns] {', '.join(srcs)}"), f"duplicate target: all map to '{dst}'"))

        scale = cfg.get("scale", {})
        items = [str(i) for i in scale.get("items", [])]
        reverse = [str(i) for i in scale.get("reverse", [])]
        if "scale" in cfg and not items:
            problems.append(Problem(_entry("[scale] items"), "lists no statement columns"))
        for dup in sorted({i for i in items if items.count(i) > 1}):
            problems.append(Problem(_entry(f"[scale] items {dup}"), "listed more than once"))
        for r in reverse:
            if r not in items:
                problems.append(Problem(_entry(f"[scale] reverse {r}"), "an item not on the scale: not listed in [scale] items"))
        for i in items:
            target = columns.get(i, i)
            if not target.startswith(ITEM_PREFIX):
                problems.append(Problem(_entry(f"[scale] items {i}"),
                                        f"needs a [columns] entry naming its '{ITEM_PREFIX}…' column (now '{target}')"))
        for src, dst in columns.items():
            if dst.startswith(ITEM_PREFIX) and src not in items:
                problems.append(Problem(_entry(f"[columns] {src}"), f"'{dst}' is an item not on the scale: add '{src}' to [scale] items"))

        recode = cfg.get("recode", {})
        clean: dict[str, dict[str, object]] = {}
        for column, table in recode.items():
            if not isinstance(table, dict) or not table:
                problems.append(Problem(_entry(f"[recode.{column}]"), "must be a table of code = value"))
                continue
            for code, value in table.items():
                if not isinstance(value, (str, int)) or isinstance(value, bool):
                    problems.append(Problem(_entry(f"[recode.{column}] {code}"), "a code without a value: give text or a whole number"))
            clean[str(column)] = {str(k).strip(): v for k, v in table.items()}
        for column, codes in clean.items():
            for code, value in codes.items():
                if isinstance(value, str) and not value.strip():
                    problems.append(Problem(_entry(f"[recode.{column}] {code}"),
                                            f"declare a missing code in [missing.{column}] instead of recoding it to empty"))
        missing = _missing_table(cfg.get("missing", {}), problems)
        wording = _text_table(cfg.get("wording", {}), "wording", problems)
        for key in wording:
            if key not in items and columns.get(key, key) not in {columns.get(i, i) for i in items}:
                problems.append(Problem(_entry(f"[wording] {key}"), "not a statement of the scale (list it in [scale] items)"))
        answers = _answers_table(cfg.get("answers", {}), problems)
        derive = cfg.get("derive", {})
        year_from = None
        if not isinstance(derive, dict):
            problems.append(Problem(_entry("[derive]"), "must be a table"))
            derive = {}
        for key, value in derive.items():
            if key not in DERIVE:
                problems.append(Problem(_entry(f"[derive] {key}"), f"unknown; [derive] knows {', '.join(DERIVE)}"))
            elif not isinstance(value, str) or not value.strip():
                problems.append(Problem(_entry(f"[derive] {key}"), "must name the extract column, e.g. \"schooljaar\""))
            else:
                year_from = value.strip()
                if "year" in columns.values():
                    problems.append(Problem(_entry(f"[derive] {key}"), "the year comes from one place: drop the [columns] entry for 'year'"))
        exclude = _exclude_rules(cfg.get("exclude", []), problems)
        if problems:
            raise MappingError(source, problems)
        return cls(columns, clean, items, reverse, source, missing, wording, answers, year_from, exclude)

    @classmethod
    def read(cls, path: str | Path) -> Mapping:
        """Read and check a mapping file (TOML)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
            cfg = tomllib.loads(text)
        except FileNotFoundError:
            raise MappingError(str(path), [Problem("(file)", "mapping file does not exist")]) from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
            raise MappingError(str(path), [Problem("(file)", f"cannot be read as TOML: {err}")]) from None
        mapping = cls.from_dict(cfg, str(path))
        mapping.text = text
        return mapping

    def missing_codes(self, column: str, is_item: bool) -> dict[str, str]:
        """The codes the mapping declares missing in a contract column: code -> kind."""
        return {**(self.missing.get(ALL_ITEMS, {}) if is_item else {}), **self.missing.get(column, {})}

    def wording_of(self, column: str) -> str | None:
        """The mapping's wording of a statement, by its contract or its extract name."""
        if column in self.wording:
            return self.wording[column]
        extract = next((src for src, dst in self.columns.items() if dst == column), None)
        return self.wording.get(extract) if extract is not None else None

    # ------------------------------------------------------------------ applying
    def check_columns(self, present: list[str]) -> list[Problem]:
        """Entries that do not fit the extract's columns (``present``: every column of every delivered file)."""
        problems: list[Problem] = []
        shown = ", ".join(present[:12]) + (", …" if len(present) > 12 else "")
        for src in self.columns:
            if src not in present:
                problems.append(Problem(_entry(f"[columns] {src}"), f"unknown column: the extract has no column '{src}' (it has {shown})"))
        for i in self.items:
            if i not in present and i not in self.columns:
                problems.append(Problem(_entry(f"[scale] items {i}"), f"unknown column: the extract has no column '{i}'"))
        if self.year_from_school_year is not None and self.year_from_school_year not in present:
            problems.append(Problem(_entry("[derive] year_from_school_year"),
                                    f"unknown column: the extract has no column '{self.year_from_school_year}' (it has {shown})"))
        renamed_away = set(self.columns)
        for dst, src in ((d, s) for s, d in self.columns.items()):
            if dst in present and dst not in renamed_away:
                problems.append(Problem(_entry(f"[columns] {src}"), f"duplicate target: the extract already has a column '{dst}'"))
        # Statements not listed on the scale would silently join the index: refuse them.
        for c in present:
            if c not in renamed_away and c.startswith(ITEM_PREFIX) and c not in self.items:
                problems.append(Problem(_entry(f"column {c}"), "an item not on the scale: add it to [scale] items or rename it"))
        return problems

    def rename(self, raw: pd.DataFrame, labels: dict | None = None) -> tuple[pd.DataFrame, dict]:
        """The extract under the contract's names (and the year from the school year, if so derived)."""
        out = raw.rename(columns=self.columns)
        if self.year_from_school_year is not None and self.year_from_school_year in raw.columns:
            out["year"] = school_year_end(raw[self.year_from_school_year])
        out.attrs = {REVERSE_ATTR: [self.columns.get(r, r) for r in self.reverse]} if self.reverse else {}
        return out, {self.columns.get(k, k): v for k, v in (labels or {}).items()}

    def recode_columns(self, frame: pd.DataFrame, labels: dict, problems: list[Problem], warnings: list[str]) -> None:
        """Replace codes by the contract's values, in place; recoded columns lose their value labels.

        Codes the table does not list take their value label when the column has value labels (so a
        table can list only the codes that differ). A code with neither is a problem (with its rows);
        an entry that matches no cell is a warning naming it (a typo, or a code this delivery does not use).
        """
        for column, table in self.recode.items():
            if column not in frame.columns:
                problems.append(Problem(_entry(f"[recode.{column}]"),
                                        f"unknown column: no column '{column}' after renaming (recode uses the contract's names)"))
                continue
            # Codes the table does not list take their value label, when the file has one: a recode
            # then only needs the codes that differ (e.g. a missing code -1 -> "onbekend").
            fallback = {code_text(k): str(v) for k, v in labels.get(column, {}).items()}
            recoded, missing_rows, missing_codes, used = _recode(frame[column], {**fallback, **table})
            used &= set(table)
            if missing_rows.any():
                codes = ", ".join(sorted(missing_codes)[:5])
                problems.append(Problem(_entry(f"[recode.{column}]"), f"a code without a value: code(s) {codes} occur in the data",
                                        [int(i) + 1 for i in np.flatnonzero(missing_rows)]))
            for code in table:
                if code not in used:
                    warnings.append(f"[recode.{column}] {code}: matches no cell of the extract")
            frame[column] = recoded
            labels.pop(column, None)

    def apply(self, raw: pd.DataFrame, labels: dict | None = None) -> tuple[pd.DataFrame, dict]:
        """Rename, recode and mark the reverse-worded items of one raw table (:mod:`oml.data.extract` does a delivery).

        Parameters
        ----------
        raw : DataFrame
            The extract as read (its own column names and codes).
        labels : dict, optional
            Stata/SPSS value labels per extract column; returned under the new names, without
            the recoded columns (their values are final).

        Returns
        -------
        (DataFrame, dict)
            The renamed, recoded table (``attrs`` lists the reverse-worded ``item_*`` columns)
            and the value labels still to apply.

        Raises
        ------
        MappingError
            Naming every entry at fault: unknown extract columns, codes without a value (with
            the rows), a rename onto a column the extract already has.
        """
        problems = self.check_columns([str(c) for c in raw.columns])
        if problems:
            raise MappingError(self.source, problems)
        out, labels = self.rename(raw, labels)
        self.recode_columns(out, labels, problems, [])
        if problems:
            raise MappingError(self.source, problems)
        return out, labels


def school_year_end(values: pd.Series) -> pd.Series:
    """The survey year of a school year given as text: "2022-2023" -> 2023 (the spring measurement).

    Cells that are no school year stay as they are, so the contract reports them.

    Examples
    --------
    >>> school_year_end(pd.Series(["2022-2023", "2019/2020", " 2024 - 2025 ", "x", None])).tolist()
    ['2023', '2020', '2025', 'x', None]
    """
    text = values.astype("string").str.strip()
    parts = text.str.extract(r"^(\d{4})\s*[-/]\s*(\d{4})$")
    consecutive = parts[0].notna() & (pd.to_numeric(parts[1], errors="coerce") == pd.to_numeric(parts[0], errors="coerce") + 1)
    return parts[1].where(consecutive, values).astype(object).where(values.notna(), None)


def code_text(value) -> str:
    """A code as the mapping writes it: 1.0 -> "1", " 2 " -> "2", "1.0" (CSV text) -> "1".

    Examples
    --------
    >>> [code_text(v) for v in (1, 1.0, " 2 ", "1.0", "hbo")]
    ['1', '1', '2', '1', 'hbo']
    """
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


def _recode(values: pd.Series, table: dict[str, object]) -> tuple[pd.Series, np.ndarray, set[str], set[str]]:
    """Replace codes by values; returns the new column, rows with an unmapped code, those codes, and the entries used."""
    present = values.notna() & (values.astype("string").str.strip() != "").fillna(False)
    codes = values.map(lambda v: code_text(v) if pd.notna(v) else None)
    mapped = codes.map(lambda c: table.get(c) if c is not None else None)
    missing = present & mapped.isna()
    kinds = {type(v) for v in table.values()}
    out = mapped.where(present, None)
    out = out.astype("string") if kinds == {str} else pd.to_numeric(out, errors="coerce").astype("Int64") if kinds == {int} else out.astype(object)
    used = set(codes[present & mapped.notna()].astype(str))
    return out, missing.to_numpy(dtype=bool), set(codes[missing].astype(str)), used



def _text_table(table, section: str, problems: list[Problem]) -> dict[str, str]:
    if not isinstance(table, dict):
        problems.append(Problem(_entry(f"[{section}]"), "must be a table of name = \"text\""))
        return {}
    out = {}
    for key, value in table.items():
        if not isinstance(value, str) or not value.strip():
            problems.append(Problem(_entry(f"[{section}] {key}"), "must be a non-empty text"))
        else:
            out[str(key)] = " ".join(value.split())
    return out


def _missing_table(table, problems: list[Problem]) -> dict[str, dict[str, str]]:
    """``[missing.<column>]`` (or ``[missing.items]``) ``code = "kind"``."""
    if not isinstance(table, dict):
        problems.append(Problem(_entry("[missing]"), "must hold tables [missing.<column>] of code = \"kind\""))
        return {}
    out = {}
    for column, codes in table.items():
        if not isinstance(codes, dict) or not codes:
            problems.append(Problem(_entry(f"[missing.{column}]"), "must be a table of code = \"kind of missing answer\""))
            continue
        kinds = _text_table(codes, f"missing.{column}", problems)
        out[str(column)] = {code_text(k): v for k, v in kinds.items()}
    return out


def _answers_table(table, problems: list[Problem]) -> dict[tuple[int, int], dict[int, str]]:
    """``[answers."2017-2022"]`` ``1 = "nooit"``: the answer labels of a span of years (or one year)."""
    out = {}
    if not isinstance(table, dict):
        problems.append(Problem(_entry("[answers]"), "must hold tables [answers.\"first-last\"] of code = \"label\""))
        return out
    for span, labels in table.items():
        parts = str(span).split("-")
        if not (1 <= len(parts) <= 2 and all(p.strip().isdigit() for p in parts)):
            problems.append(Problem(_entry(f"[answers.{span}]"), "name a year or a span of years, e.g. \"2017-2022\""))
            continue
        first, last = int(parts[0]), int(parts[-1])
        texts = _text_table(labels, f"answers.{span}", problems)
        try:
            out[(first, last)] = {int(code_text(k)): v for k, v in texts.items()}
        except ValueError:
            problems.append(Problem(_entry(f"[answers.{span}]"), "answer codes must be whole numbers"))
    return out


def _exclude_rules(entries, problems: list[Problem]) -> list[ExcludeRule]:
    """``[[exclude]]`` rule = "...", reason = "...", columns = [...] (for ``empty``)."""
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        problems.append(Problem(_entry("[[exclude]]"), "must be a list of tables with rule and reason"))
        return []
    out = []
    for i, e in enumerate(entries, start=1):
        where = _entry(f"[[exclude]] {i}")
        if not isinstance(e, dict):
            problems.append(Problem(where, "must be a table with rule and reason"))
            continue
        rule, reason, columns = e.get("rule"), e.get("reason"), e.get("columns", [])
        unknown = sorted(set(e) - {"rule", "reason", "columns"})
        if unknown:
            problems.append(Problem(where, f"unknown key(s) {', '.join(unknown)}"))
        if rule not in EXCLUDE_RULES:
            problems.append(Problem(where, f"rule must be one of {', '.join(EXCLUDE_RULES)}, not {rule!r}"))
            continue
        if not isinstance(reason, str) or not reason.strip():
            problems.append(Problem(where, "give the reason (reason = \"...\"): it is printed and published with the count"))
            continue
        if rule == "empty" and (not isinstance(columns, list) or not columns or not all(isinstance(c, str) for c in columns)):
            problems.append(Problem(where, "rule 'empty' needs columns = [\"...\"] (contract names)"))
            continue
        out.append(ExcludeRule(rule, " ".join(reason.split()), tuple(columns) if rule == "empty" else ()))
    return out
