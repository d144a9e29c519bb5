"""Read and write pupil data: .csv, .parquet, Stata .dta and SPSS .sav.

:func:`load` is the one entry point the build and the CLI use: read, map value labels,
validate against :mod:`oml.data.contract`, and either return the complete typed dataset or
raise :class:`oml.data.contract.DataValidationError` — never a partial dataset.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from oml.data.contract import (
    CATEGORIES,
    DataValidationError,
    REGION_ALIASES,
    Problem,
    item_columns,
    validate,
)
from oml.data.files import file_sha256  # noqa: F401 - part of this module's API (one definition)

SUPPORTED = (".csv", ".parquet", ".dta", ".sav")

#: Value labels seen in Stata/SPSS exports that mean a canonical category (compared case-insensitively).
LABEL_SYNONYMS: dict[str, dict[str, str]] = {
    "sex": {"jongen": "jongen", "jongens": "jongen", "boy": "jongen", "man": "jongen", "male": "jongen",
            "meisje": "meisje", "meisjes": "meisje", "girl": "meisje", "vrouw": "meisje", "female": "meisje"},
    "parent_education": {"mbo of lager": "mbo of lager", "mbo/lager": "mbo of lager", "laag": "mbo of lager",
                         "hbo": "hbo", "wo": "wo", "universiteit": "wo", "onbekend": "onbekend",
                         "unknown": "onbekend", "missing": "onbekend"},
    "region": {r.casefold(): r for r in CATEGORIES["region"]} | REGION_ALIASES,
}


def _fail(path: Path, rule: str) -> DataValidationError:
    return DataValidationError(str(path), [Problem("(file)", rule)])


def map_labels(frame: pd.DataFrame, labels: dict[str, dict], problems: list[Problem]) -> pd.DataFrame:
    """Replace coded values by their labels, then labels by canonical categories.

    A label that names no canonical category is a problem (added to ``problems``) naming the
    column, label and rows.
    """
    out = frame.copy()
    for column, allowed in CATEGORIES.items():
        if column not in out.columns:
            continue
        values = out[column]
        if column in labels:
            mapping = {float(k): str(v) for k, v in labels[column].items()}
            numeric = pd.to_numeric(values, errors="coerce")
            unlabelled = numeric.notna() & ~numeric.isin(list(mapping))
            if unlabelled.any():
                codes = sorted({f"{c:g}" for c in numeric[unlabelled]})[:5]
                rows = [int(i) + 1 for i in np.flatnonzero(unlabelled.to_numpy(dtype=bool))]
                problems.append(Problem(column, f"code(s) {', '.join(codes)} have no value label", rows))
                out[column] = pd.Series(pd.NA, index=out.index, dtype="string")
                continue
            values = numeric.map(mapping).where(numeric.notna(), values)
        text = values.astype("string").str.strip()
        canonical = text.str.casefold().map(LABEL_SYNONYMS[column])
        unknown = text.notna() & canonical.isna()
        if unknown.any():
            found = sorted(set(text[unknown].tolist()))[:5]
            rows = [int(i) + 1 for i in np.flatnonzero(unknown.to_numpy(dtype=bool))]
            problems.append(Problem(column, f"value label(s) {', '.join(repr(f) for f in found)} match no category of {', '.join(repr(a) for a in allowed)}", rows))
        out[column] = canonical.where(~unknown, text)
    return out


def whole_ids(frame: pd.DataFrame) -> None:
    """Numeric ids come back from Stata/SPSS as floats: write 17 as "17", not "17.0" (in place).

    Examples
    --------
    >>> f = pd.DataFrame({"board_id": [17.0, None]}); whole_ids(f); f["board_id"].tolist()
    ['17', None]
    """
    for col in ("pupil_id", "school_id", "board_id"):
        if col in frame and pd.api.types.is_float_dtype(frame[col]):
            whole = frame[col].notna() & (frame[col] % 1 == 0)
            frame[col] = frame[col].astype(object).where(~whole, frame[col][whole].astype("int64").astype(str))
            frame[col] = frame[col].where(frame[col].notna(), None)


def read_raw(path: str | Path) -> pd.DataFrame:
    """Read a data file as a raw table, mapping Stata/SPSS value labels to canonical categories.

    A delivery in its own names and codes (a mapping file, several files) is read by
    :func:`oml.data.extract.load_extract` instead.

    Raises
    ------
    DataValidationError
        For a missing, empty, unreadable or unsupported file, or value labels that name no category.
    """
    raw = read_file(path)
    frame, labels = raw.frame, raw.value_labels
    if raw.declared_missing:
        # A file read without a mapping: its declared missing codes are blanks, as SPSS shows them.
        for column, codes in raw.declared_missing.items():
            if column in frame:
                frame[column] = frame[column].where(~frame[column].isin(list(codes)))
    if labels is None:  # text formats: the contract types every cell
        return frame
    whole_ids(frame)
    attrs = frame.attrs
    problems: list[Problem] = []
    frame = map_labels(frame, labels, problems)
    if problems:
        raise DataValidationError(str(path), problems)
    frame.attrs = attrs
    return frame


@dataclass
class RawFile:
    """One file as stored: codes (not labels), with what Stata/SPSS say about its columns."""

    frame: pd.DataFrame
    #: Column -> code -> value label (None: a text format, which has none).
    value_labels: dict | None
    #: Column -> variable label (SPSS/Stata: a statement's wording).
    variable_labels: dict[str, str] = field(default_factory=dict)
    #: Column -> codes the file declares missing (SPSS user-missing values and ranges; Stata .a–.z).
    declared_missing: dict[str, set[float]] = field(default_factory=dict)


def _declared(meta) -> dict[str, set[float]]:
    """SPSS user-missing values (single codes and small whole ranges) per column."""
    out: dict[str, set[float]] = {}
    for column, ranges in (getattr(meta, "missing_ranges", None) or {}).items():
        codes = set()
        for r in ranges:
            lo, hi = r.get("lo"), r.get("hi")
            if isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and hi - lo <= 1000:
                codes |= {float(c) for c in np.arange(np.ceil(lo), np.floor(hi) + 1)} if lo != hi else {float(lo)}
        if codes:
            out[str(column)] = codes
    return out


def read_file(path: str | Path) -> RawFile:
    """Read one data file as stored: codes kept (SPSS user-missing codes too), labels beside them.

    Raises
    ------
    DataValidationError
        For a missing, empty, unreadable or unsupported file.
    """
    path = Path(path)
    frame, labels, meta = _read(path)
    if meta is None:
        return RawFile(frame, labels)
    variable = {str(k): " ".join(str(v).split()) for k, v in (meta.column_names_to_labels or {}).items() if v}
    return RawFile(frame, labels, variable, _declared(meta))


def _read(path: Path) -> tuple[pd.DataFrame, dict | None, object]:
    """The file's table as stored (codes, not labels), its value labels per column (None: a text format), its metadata."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise _fail(path, f"unsupported file type '{path.suffix or '(none)'}'; use one of {', '.join(SUPPORTED)}")
    if not path.is_file():
        raise _fail(path, "file does not exist")
    if path.stat().st_size == 0:
        raise _fail(path, "the file is empty")
    try:
        if suffix == ".csv":
            with path.open("rb") as fh:
                head = fh.read(65536)
            if b"\x00" in head:
                raise ValueError("binary content")
            try:
                head.decode("utf-8")
            except UnicodeDecodeError as exc:
                # A multi-byte character cut at the end of the sample is fine; anything earlier is not text.
                if exc.start < len(head) - 4:
                    raise ValueError("not UTF-8 text") from None
            # Every cell as text: the contract does the typing, so a bad cell is reported, not guessed.
            return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8"), None, None
        if suffix == ".parquet":
            return pd.read_parquet(path), None, None
        import pyreadstat

        if suffix == ".dta":
            frame, meta = pyreadstat.read_dta(str(path), apply_value_formats=False)
        else:
            # Declared missing codes stay codes: the mapping decides what each one is (oml.data.extract).
            frame, meta = pyreadstat.read_sav(str(path), apply_value_formats=False, user_missing=True)
        labels = {col: meta.variable_value_labels[col] for col in meta.variable_value_labels}
        return frame, labels, meta
    except DataValidationError:
        raise
    except pd.errors.EmptyDataError:
        raise _fail(path, "the file is empty") from None
    except Exception as exc:  # any parser failure is reported as an unreadable file, not a traceback
        kind = {".csv": "CSV (UTF-8 text)", ".parquet": "Parquet", ".dta": "Stata", ".sav": "SPSS"}[suffix]
        raise _fail(path, f"cannot be read as {kind}: {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}") from None


def load(path: str | Path, boards_optional: bool = False) -> pd.DataFrame:
    """Read and validate one data file in the contract's names: the complete typed dataset or a :class:`DataValidationError`.

    A delivery in its own names and codes, or in several files, is read by :func:`oml.data.extract.load_extract`.
    ``boards_optional``: see :func:`oml.data.contract.validate`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from oml.data.synth import generate
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "mini.csv"
    >>> save(generate(n=50, seed=1, history=False), p)
    >>> load(p).shape[0]
    50
    """
    return validate(read_raw(path), str(path), boards_optional)


def save(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a dataset as .csv, .parquet, .dta or .sav (categories as labelled codes in Stata/SPSS)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        # No pandas index and no creation time: the same data give the same bytes.
        frame.to_parquet(path, index=False)
    elif suffix in (".dta", ".sav"):
        import pyreadstat

        out = frame.copy()
        value_labels = {}
        for column, allowed in CATEGORIES.items():
            codes = {label: i + 1 for i, label in enumerate(allowed)}
            out[column] = out[column].astype("string").map(codes).astype("float64")
            value_labels[column] = {float(i): label for label, i in codes.items()}
        for c in ["year", *item_columns(out.columns)]:
            out[c] = out[c].astype("float64")
        for c in ("pupil_id", "school_id"):
            out[c] = out[c].astype(str)
        writer = pyreadstat.write_dta if suffix == ".dta" else pyreadstat.write_sav
        writer(out, str(path), variable_value_labels=value_labels)
    else:
        raise ValueError(f"cannot write '{path.suffix}': use one of {', '.join(SUPPORTED)}")
