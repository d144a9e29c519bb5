"""Read and write pupil data: .csv, .parquet, Stata .dta and SPSS .sav.

:func:`load` is the one entry point the build and the CLI use: read, map value labels,
validate against :mod:`oml.data.contract`, and either return the complete typed dataset or
raise :class:`oml.data.contract.DataValidationError` — never a partial dataset.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from oml.data.contract import (
    CATEGORIES,
    DataValidationError,
    Problem,
    item_columns,
    validate,
)
from oml.data.files import file_sha256  # noqa: F401 - part of this module's API (one definition)
from oml.data.mapfile import Mapping

SUPPORTED = (".csv", ".parquet", ".dta", ".sav")

#: Value labels seen in Stata/SPSS exports that mean a canonical category (compared case-insensitively).
LABEL_SYNONYMS: dict[str, dict[str, str]] = {
    "sex": {"jongen": "jongen", "jongens": "jongen", "boy": "jongen", "man": "jongen", "male": "jongen",
            "meisje": "meisje", "meisjes": "meisje", "girl": "meisje", "vrouw": "meisje", "female": "meisje"},
    "parent_education": {"mbo of lager": "mbo of lager", "mbo/lager": "mbo of lager", "laag": "mbo of lager",
                         "hbo": "hbo", "wo": "wo", "universiteit": "wo", "onbekend": "onbekend",
                         "unknown": "onbekend", "missing": "onbekend"},
    "region": {r.casefold(): r for r in CATEGORIES["region"]} | {"parkstad": "Parkstad Limburg"},
}


def _fail(path: Path, rule: str) -> DataValidationError:
    return DataValidationError(str(path), [Problem("(file)", rule)])


def _map_labels(frame: pd.DataFrame, labels: dict[str, dict], source: str) -> pd.DataFrame:
    """Replace coded values by their labels, then labels by canonical categories.

    A label that names no canonical category is an error naming the column, label and rows.
    """
    problems: list[Problem] = []
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
    if problems:
        raise DataValidationError(source, problems)
    return out


def read_raw(path: str | Path, mapping=None) -> pd.DataFrame:
    """Read a data file as a raw table, mapping Stata/SPSS value labels to canonical categories.

    Parameters
    ----------
    path : path
        The data file.
    mapping : path or :class:`oml.data.mapping.Mapping`, optional
        A mapping file for an extract in its own names and codes: applied (rename, recode,
        reverse-worded items) before the value labels.

    Raises
    ------
    DataValidationError
        For a missing, empty, unreadable or unsupported file; :class:`oml.data.mapping.MappingError`
        for a mapping that does not fit.
    """
    if mapping is not None and not isinstance(mapping, Mapping):
        mapping = Mapping.read(mapping)
    frame, labels = _read(Path(path))
    if mapping is not None:
        frame, mapped = mapping.apply(frame, labels or {})
        labels = None if labels is None else mapped
    if labels is None:  # text formats: the contract types every cell
        return frame
    for col in ("pupil_id", "school_id", "board_id"):
        # Numeric ids come back as floats; show 17 as "17", not "17.0".
        if col in frame and pd.api.types.is_float_dtype(frame[col]):
            whole = frame[col].notna() & (frame[col] % 1 == 0)
            frame[col] = frame[col].astype(object).where(~whole, frame[col][whole].astype("int64").astype(str))
    attrs = frame.attrs
    frame = _map_labels(frame, labels, str(path))
    frame.attrs = attrs
    return frame


def _read(path: Path) -> tuple[pd.DataFrame, dict]:
    """The file's table as stored (codes, not labels) and its Stata/SPSS value labels per column (None: a text format)."""
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
            return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8"), None
        if suffix == ".parquet":
            return pd.read_parquet(path), None
        import pyreadstat

        reader = pyreadstat.read_dta if suffix == ".dta" else pyreadstat.read_sav
        frame, meta = reader(str(path), apply_value_formats=False)
        labels = {col: meta.variable_value_labels[col] for col in meta.variable_value_labels}
        return frame, labels
    except DataValidationError:
        raise
    except pd.errors.EmptyDataError:
        raise _fail(path, "the file is empty") from None
    except Exception as exc:  # any parser failure is reported as an unreadable file, not a traceback
        kind = {".csv": "CSV (UTF-8 text)", ".parquet": "Parquet", ".dta": "Stata", ".sav": "SPSS"}[suffix]
        raise _fail(path, f"cannot be read as {kind}: {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}") from None


def load(path: str | Path, mapping=None) -> pd.DataFrame:
    """Read and validate a data file: the complete typed dataset or a :class:`DataValidationError`.

    ``mapping`` (a mapping file path, see :mod:`oml.data.mapping`) reads an extract in its own
    column names and codes; its reverse-worded items are listed in ``frame.attrs``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from oml.data.synth import generate
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "mini.csv"
    >>> save(generate(n=50, seed=1, history=False), p)
    >>> load(p).shape[0]
    50
    """
    return validate(read_raw(path, mapping), str(path))


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
