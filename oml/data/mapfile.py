"""The mapping file itself: parse and check it, apply it to a raw extract.

The format and an example are in :mod:`oml.data.mapping`, the public face of mapping files. This
module sits below :mod:`oml.data.io` (which applies a mapping while reading a data file), and
:mod:`oml.data.mapping` sits above it (its :func:`~oml.data.mapping.convert` loads through
:mod:`oml.data.io`): imports go one way.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from oml.data.contract import ITEM_PREFIX, REVERSE_ATTR, DataValidationError, Problem

SECTIONS = ("columns", "recode", "scale")


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
                if isinstance(value, str) and not value.strip() or not isinstance(value, (str, int)) or isinstance(value, bool):
                    problems.append(Problem(_entry(f"[recode.{column}] {code}"), "a code without a value: give text or a whole number"))
            clean[str(column)] = {str(k).strip(): v for k, v in table.items()}
        if problems:
            raise MappingError(source, problems)
        return cls(columns, clean, items, reverse, source)

    @classmethod
    def read(cls, path: str | Path) -> Mapping:
        """Read and check a mapping file (TOML)."""
        path = Path(path)
        try:
            cfg = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise MappingError(str(path), [Problem("(file)", "mapping file does not exist")]) from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
            raise MappingError(str(path), [Problem("(file)", f"cannot be read as TOML: {err}")]) from None
        return cls.from_dict(cfg, str(path))

    # ------------------------------------------------------------------ applying
    def apply(self, raw: pd.DataFrame, labels: dict | None = None) -> tuple[pd.DataFrame, dict]:
        """Rename, recode and mark the reverse-worded items of a raw extract.

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
        labels = dict(labels or {})
        problems: list[Problem] = []
        present = [str(c) for c in raw.columns]
        shown = ", ".join(present[:12]) + (", …" if len(present) > 12 else "")
        for src in self.columns:
            if src not in present:
                problems.append(Problem(_entry(f"[columns] {src}"), f"unknown column: the extract has no column '{src}' (it has {shown})"))
        for i in self.items:
            if i not in present and i not in self.columns:
                problems.append(Problem(_entry(f"[scale] items {i}"), f"unknown column: the extract has no column '{i}'"))
        renamed_away = set(self.columns)
        for dst, src in ((d, s) for s, d in self.columns.items()):
            if dst in present and dst not in renamed_away:
                problems.append(Problem(_entry(f"[columns] {src}"), f"duplicate target: the extract already has a column '{dst}'"))
        # Statements not listed on the scale would silently join the index: refuse them.
        for c in present:
            if c not in renamed_away and c.startswith(ITEM_PREFIX) and c not in self.items:
                problems.append(Problem(_entry(f"column {c}"), "an item not on the scale: add it to [scale] items or rename it"))
        if problems:
            raise MappingError(self.source, problems)

        out = raw.rename(columns=self.columns)
        labels = {self.columns.get(k, k): v for k, v in labels.items()}
        for column, table in self.recode.items():
            if column not in out.columns:
                problems.append(Problem(_entry(f"[recode.{column}]"),
                                        f"unknown column: no column '{column}' after renaming (recode uses the contract's names)"))
                continue
            recoded, missing_rows, missing_codes = _recode(out[column], table)
            if missing_rows.any():
                codes = ", ".join(sorted(missing_codes)[:5])
                problems.append(Problem(_entry(f"[recode.{column}]"), f"a code without a value: code(s) {codes} occur in the data",
                                        [int(i) + 1 for i in np.flatnonzero(missing_rows)]))
            out[column] = recoded
            labels.pop(column, None)
        if problems:
            raise MappingError(self.source, problems)
        out.attrs = {REVERSE_ATTR: [self.columns.get(r, r) for r in self.reverse]} if self.reverse else {}
        return out, labels


def _code_text(value) -> str:
    """A code as the mapping writes it: 1.0 -> "1", " 2 " -> "2", "1.0" (CSV text) -> "1".

    Examples
    --------
    >>> [_code_text(v) for v in (1, 1.0, " 2 ", "1.0", "hbo")]
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


def _recode(values: pd.Series, table: dict[str, object]) -> tuple[pd.Series, np.ndarray, set[str]]:
    """Replace codes by values; returns the new column, rows with an unmapped code, and those codes."""
    present = values.notna() & (values.astype("string").str.strip() != "").fillna(False)
    codes = values.map(lambda v: _code_text(v) if pd.notna(v) else None)
    mapped = codes.map(lambda c: table.get(c) if c is not None else None)
    missing = present & mapped.isna()
    kinds = {type(v) for v in table.values()}
    out = mapped.where(present, None)
    out = out.astype("string") if kinds == {str} else pd.to_numeric(out, errors="coerce").astype("Int64") if kinds == {int} else out.astype(object)
    return out, missing.to_numpy(dtype=bool), set(codes[missing].astype(str))

