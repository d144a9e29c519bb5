"""The data contract: what one row of OML pupil data must look like.

One row per pupil. Required columns:

================== ============================================================================
column             rule
================== ============================================================================
``pupil_id``       text, present, unique
``school_id``      text, present
``year``           whole number, 2009–2100 (survey year)
``sex``            one of ``jongen``, ``meisje``
``age``            number of years, 10–15 (groep 8 pupils are about 11–12)
``parent_education`` one of ``mbo of lager``, ``hbo``, ``wo``, ``onbekend``
``region``         one of the five Limburg regions in :data:`REGIONS`
``item_*``         at least two statements; whole numbers on the answer scale of the row's
                   year (:mod:`oml.data.scales`: 1–4 until 2022, 1–5 from 2023), missing allowed
================== ============================================================================

Optional columns (:data:`OPTIONAL`), used only by the private feedback reports:

================== ============================================================================
``board_id``       text, present; one board (bestuur) per school and year (a school may change board)
``school_name``    text; one name per school (blank for all its rows: the report names the id)
``board_name``     text, needs ``board_id``; one name per board
================== ============================================================================

:func:`validate` turns a raw table (every cell as read from the file) into a typed,
canonical DataFrame, or raises :class:`DataValidationError` listing *every* problem at
once: column, rule, number of rows and the first row numbers. Nothing is dropped.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa

from oml.data import scales as _scales
from oml.data.codebook import CODEBOOK, ITEM_PREFIX, item_columns
from oml.data.delivery import DELIVERY_ATTR

SEXES = ("jongen", "meisje")
PARENT_EDUCATIONS = ("mbo of lager", "hbo", "wo", "onbekend")


def load_regions() -> tuple[tuple[str, ...], dict[str, str]]:
    """The regions (in the order the site shows them) and their other spellings, from ``oml/config/regions.toml``.

    Examples
    --------
    >>> regions, aliases = load_regions()
    >>> regions[0], aliases["parkstad"]
    ('Noord-Limburg', 'Parkstad Limburg')
    """
    import tomllib
    from importlib import resources

    cfg = tomllib.loads(resources.files("oml").joinpath("config", "regions.toml").read_text(encoding="utf-8"))
    names = tuple(str(r["name"]) for r in cfg["region"])
    aliases = {str(a).casefold(): str(r["name"]) for r in cfg["region"] for a in r.get("aliases", [])}
    return names, aliases


#: The regions, in the order every table and figure shows them (configuration, not code: oml/config/regions.toml).
REGIONS, REGION_ALIASES = load_regions()
CATEGORIES: dict[str, tuple[str, ...]] = {
    "sex": SEXES,
    "parent_education": PARENT_EDUCATIONS,
    "region": REGIONS,
}
YEAR_RANGE = (2009, 2100)
AGE_RANGE = (10.0, 15.0)
#: Answer range of the current scale period (the factsheet's); earlier years: :mod:`oml.data.scales`.
ANSWER_RANGE = (_scales.current().lowest, _scales.current().highest)
MIN_ITEMS = 2
ID_COLUMNS = ("pupil_id", "school_id")
REQUIRED = ("pupil_id", "school_id", "year", "sex", "age", "parent_education", "region")
#: Optional columns: the school board (bestuur) and display names, for the feedback reports.
OPTIONAL = ("board_id", "school_name", "board_name")

#: Dutch display labels (Table 1, figure legends).
LABELS: dict[str, str] = {
    "jongen": "Jongens",
    "meisje": "Meisjes",
    "mbo of lager": "Mbo of lager",
    "hbo": "Hbo",
    "wo": "Wo",
    "onbekend": "Onbekend",
    **{r: r for r in REGIONS},
}

#: Dutch names of the background variables (table headings, reading guides).
VARIABLE_LABELS: dict[str, str] = {
    "sex": "geslacht",
    "age": "leeftijd",
    "parent_education": "opleiding ouders",
    "region": "regio",
    "year": "jaar",
}

#: The statements' codebook (:data:`CODEBOOK`), their wording and answer labels: :mod:`oml.data.codebook`.


#: ``DataFrame.attrs`` key listing reverse-worded item columns of a dataset (set by a mapping file,
#: :mod:`oml.data.mapping`; kept through validation and Parquet files).
REVERSE_ATTR = "oml_reverse"


def reversed_items(frame: pd.DataFrame) -> list[str]:
    """The reverse-worded ``item_*`` columns of a dataset: codebook flags plus the data's own list.

    Examples
    --------
    >>> df = pd.DataFrame({"item_a": [1], "item_b": [2]})
    >>> reversed_items(df)
    []
    >>> df.attrs[REVERSE_ATTR] = ["item_b"]
    >>> reversed_items(df)
    ['item_b']
    """
    flagged = {item.column for item in CODEBOOK if item.reverse} | set(frame.attrs.get(REVERSE_ATTR, ()))
    return [c for c in item_columns(frame.columns) if c in flagged]


# --------------------------------------------------------------------------- problems
MAX_ROWS_SHOWN = 5


@dataclass
class Problem:
    """One broken rule: which column, which rule, and the 1-based data rows (header excluded)."""

    column: str
    rule: str
    rows: list[int] = field(default_factory=list)

    def line(self, located: list[tuple[str, int]] | None = None) -> str:
        """The problem as one line of a report; ``located`` names the file and row of each data row.

        Examples
        --------
        >>> Problem("sex", "must not be empty", [2, 3, 5]).line([("a.sav", 1), ("a.sav", 2), ("b.sav", 1), ("b.sav", 2), ("b.sav", 3)])
        "- column 'sex': must not be empty: 3 rows (a.sav row 2; b.sav rows 1, 3)"
        """
        where = self.column.strip("()") if self.column.startswith("(") else f"column '{self.column}'"
        if not self.rows:
            return f"- {where}: {self.rule}"
        n = len(self.rows)
        more = ", …" if n > MAX_ROWS_SHOWN else ""
        if located is None:
            shown = ", ".join(str(r) for r in self.rows[:MAX_ROWS_SHOWN])
            return f"- {where}: {self.rule}: {n} row{'s' if n != 1 else ''} (rows {shown}{more})"
        by_file: dict[str, list[int]] = {}
        for r in self.rows[:MAX_ROWS_SHOWN]:
            name, row = located[r - 1]
            by_file.setdefault(name, []).append(row)
        shown = "; ".join(f"{name} row{'s' if len(rows) != 1 else ''} {', '.join(map(str, rows))}" for name, rows in by_file.items())
        return f"- {where}: {self.rule}: {n} row{'s' if n != 1 else ''} ({shown}{more})"


class DataValidationError(ValueError):
    """Raised for input that breaks the contract; the message is the full report."""

    def __init__(self, source: str, problems: list[Problem], where: list[tuple[str, int]] | None = None):
        self.source = source
        self.problems = problems
        #: (file, row in that file) of every data row, when the data came from several files.
        self.where = where
        super().__init__(self.report())

    def report(self) -> str:
        head = f"{self.source}: the data do not meet the OML data contract ({len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}); nothing was loaded. Rows are counted from 1 = the first data row."
        if self.where is not None:
            head += " Each row is named by its file and its row in that file."
        return "\n".join([head, *(p.line(self.where) for p in self.problems)])


def _rows(mask: pd.Series) -> list[int]:
    """1-based data row numbers where ``mask`` is true (row 1 = first row under the header)."""
    return [int(i) + 1 for i in np.flatnonzero(np.asarray(mask, dtype=bool))]


# --------------------------------------------------------------------------- parsing
def _parse_number(raw: pd.Series, column: str, whole: bool, problems: list[Problem]) -> pd.Series:
    """Parse text or numbers to floats, reporting cells that are not numbers / not whole."""
    if pd.api.types.is_bool_dtype(raw):
        problems.append(Problem(column, "must be a number, found true/false values", _rows(raw.notna())))
        return pd.Series(np.nan, index=raw.index)
    text_missing = raw.isna() | raw.astype("string").str.strip().isin(["", "NA", "nan", "NaN"]).fillna(True)
    parsed = pd.to_numeric(raw.where(~text_missing), errors="coerce").astype("float64")
    not_number = ~text_missing & parsed.isna()
    if not_number.any():
        problems.append(Problem(column, "must be a number (found text)", _rows(not_number)))
    # inf or absurdly large values cannot be stored as whole numbers; report them, do not crash.
    with np.errstate(invalid="ignore"):
        absurd = parsed.notna() & (~np.isfinite(parsed) | (parsed.abs() > 1e15))
    if absurd.any():
        problems.append(Problem(column, "must be a finite number of plausible size", _rows(absurd)))
        parsed = parsed.where(~absurd)
    if whole:
        fractional = parsed.notna() & (np.floor(parsed) != parsed)
        if fractional.any():
            problems.append(Problem(column, "must be a whole number", _rows(fractional)))
            parsed = parsed.where(~fractional)
    return parsed


def _parse_category(raw: pd.Series, column: str, allowed: tuple[str, ...], problems: list[Problem],
                    aliases: dict[str, str] | None = None) -> pd.Series:
    """Map text to the canonical category (case and surrounding spaces ignored; ``aliases``: other spellings)."""
    lookup = {a.casefold(): a for a in allowed} | (aliases or {})
    text = raw.astype("string").str.strip()
    canonical = text.str.casefold().map(lookup)
    unknown = text.notna() & (text != "") & canonical.isna()
    if unknown.any():
        found = sorted(set(text[unknown].tolist()))[:MAX_ROWS_SHOWN]
        problems.append(
            Problem(
                column,
                f"must be one of {', '.join(repr(a) for a in allowed)}; unknown value(s) {', '.join(repr(f) for f in found)}",
                _rows(unknown),
            )
        )
    return pd.Categorical(canonical.where(~unknown), categories=list(allowed))


def _schema(items: list[str], present=()) -> pa.DataFrameSchema:
    """Pandera schema for the typed frame: presence, ranges and uniqueness."""
    lo_y, hi_y = YEAR_RANGE
    lo_a, hi_a = AGE_RANGE
    columns = {
        "pupil_id": pa.Column("string", nullable=False, unique=True, report_duplicates="all"),
        "school_id": pa.Column("string", nullable=False),
        "year": pa.Column("Int64", pa.Check.in_range(lo_y, hi_y), nullable=False),
        "sex": pa.Column("category", nullable=False),
        "age": pa.Column("float64", pa.Check.in_range(lo_a, hi_a), nullable=False),
        "parent_education": pa.Column("category", nullable=False),
        "region": pa.Column("category", nullable=False),
    }
    if "board_id" in present:
        columns["board_id"] = pa.Column("string", nullable=False)
    for c in items:
        # The range of an answer depends on its year's scale: checked per row in _check_scales.
        columns[c] = pa.Column("Int64", nullable=True)
    return pa.DataFrameSchema(columns, strict=False, coerce=False)


_RULE_TEXT = {
    "not_nullable": "must not be empty",
    "field_uniqueness": "must be unique (duplicate values)",
}


def _rule_text(column: str, check: str) -> str:
    if check in _RULE_TEXT:
        return _RULE_TEXT[check]
    if check.startswith("in_range"):
        lo, hi = {
            "year": YEAR_RANGE,
            "age": AGE_RANGE,
        }.get(column, ANSWER_RANGE)
        return f"must lie between {lo:g} and {hi:g}"
    return check


def _span_en(scale) -> str:
    return f"{scale.first_year} onwards" if scale.last_year is None else f"{scale.first_year}–{scale.last_year}"


def _check_scales(typed: pd.DataFrame, items: list[str], problems: list[Problem]) -> None:
    """Every answer on the scale of its own year; every (valid) year covered by a scale period."""
    scales = _scales.load_scales()
    year = typed["year"].astype("float64").to_numpy()
    lo_y, hi_y = YEAR_RANGE
    with np.errstate(invalid="ignore"):
        valid_year = ~np.isnan(year) & (year >= lo_y) & (year <= hi_y)
    covered = np.zeros(len(typed), dtype=bool)
    for scale in scales:
        rows = scale.covers(year) & valid_year
        covered |= rows
        for c in items:
            values = typed[c].astype("float64").to_numpy()
            with np.errstate(invalid="ignore"):
                outside = rows & ~np.isnan(values) & ((values < scale.lowest) | (values > scale.highest))
            if outside.any():
                problems.append(Problem(c, f"must lie between {scale.lowest} and {scale.highest} "
                                           f"(the {scale.points}-point scale of {_span_en(scale)})", _rows(outside)))
    uncovered = valid_year & ~covered
    if uncovered.any():
        known = ", ".join(f"{s.points}-point {_span_en(s)}" for s in scales)
        problems.append(Problem("year", f"has no answer scale in oml/{_scales.CONFIG} ({known})", _rows(uncovered)))


#: ``attrs`` key: why the board columns were left out of a table (boards optional, and not usable).
BOARDS_LEFT_OUT_ATTR = "oml_boards_left_out"
BOARD_COLUMNS = ("board_id", "board_name")


def validate(raw: pd.DataFrame, source: str = "data", boards_optional: bool = False) -> pd.DataFrame:
    """Check a raw table against the contract and return the typed, canonical frame.

    The board columns serve only the private school and board reports. With ``boards_optional``
    (the public build) a problem in them leaves them out, with the reason in
    ``attrs[BOARDS_LEFT_OUT_ATTR]``, instead of refusing the data; ``oml reports`` needs them right.

    Parameters
    ----------
    raw : DataFrame
        The table as read from the file: any dtypes, text allowed.
    source : str
        Name used in the report (usually the file path).

    Returns
    -------
    DataFrame
        Columns :data:`REQUIRED`, the :data:`OPTIONAL` columns present (``string``), then the items; ``year`` and items ``Int64``, ``age``
        float, the categories as ``Categorical`` with the contract's category order. Same rows, same order.

    Raises
    ------
    DataValidationError
        Listing every problem: column, rule, number of rows and the first row numbers.

    Examples
    --------
    >>> raw = pd.DataFrame({"pupil_id": ["a", "b"], "school_id": ["s", "s"], "year": [2025, 2025],
    ...     "sex": ["jongen", "Meisje"], "age": [11.5, 12.0], "parent_education": ["hbo", "wo"],
    ...     "region": ["Noord-Limburg", "Noord-Limburg"], "item_a": [4, None], "item_b": [5, 3]})
    >>> validate(raw)["sex"].tolist()
    ['jongen', 'meisje']
    >>> try:
    ...     validate(raw.assign(item_a=[4, 9]), "x.csv")
    ... except DataValidationError as err:
    ...     print(err)
    x.csv: the data do not meet the OML data contract (1 problem); nothing was loaded. Rows are counted from 1 = the first data row.
    - column 'item_a': must lie between 1 and 5 (the 5-point scale of 2023 onwards): 1 row (rows 2)
    """
    problems: list[Problem] = []
    raw = raw.reset_index(drop=True)
    if len(raw.columns) == 0:
        raise DataValidationError(source, [Problem("(all)", "the file has no columns")])
    repeated = sorted({str(c) for c in raw.columns[raw.columns.duplicated()]})
    if repeated:
        raise DataValidationError(source, [Problem(c, "column name appears more than once") for c in repeated])
    missing = [c for c in REQUIRED if c not in raw.columns]
    for c in missing:
        problems.append(Problem(c, "required column is missing"))
    items = item_columns(raw.columns)
    if len(items) < MIN_ITEMS:
        problems.append(
            Problem(f"{ITEM_PREFIX}*", f"at least {MIN_ITEMS} statement columns named '{ITEM_PREFIX}…' are required; found {len(items)}")
        )
    if len(raw) == 0:
        problems.append(Problem("(all)", "the file has a header but no data rows"))
    if "board_name" in raw.columns and "board_id" not in raw.columns:
        problems.append(Problem("board_name", "needs the column 'board_id' (a name belongs to a board)"))
    if problems:
        raise DataValidationError(source, problems)
    optional = [c for c in OPTIONAL if c in raw.columns]

    typed = pd.DataFrame(index=raw.index)
    for c in ID_COLUMNS:
        text = raw[c].astype("string").str.strip()
        typed[c] = text.mask(text == "")
    typed["year"] = _parse_number(raw["year"], "year", True, problems).astype("Int64")
    typed["sex"] = _parse_category(raw["sex"], "sex", SEXES, problems)
    typed["age"] = _parse_number(raw["age"], "age", False, problems)
    typed["parent_education"] = _parse_category(raw["parent_education"], "parent_education", PARENT_EDUCATIONS, problems)
    typed["region"] = _parse_category(raw["region"], "region", REGIONS, problems, REGION_ALIASES)
    for c in items:
        typed[c] = _parse_number(raw[c], c, True, problems).astype("Int64")
    for c in optional:
        text = raw[c].astype("string").str.strip()
        typed[c] = text.mask(text == "")
    problems += _hierarchy_problems(typed)

    # Type problems already name their rows; a cell that failed parsing is now missing, so the
    # schema would report it again as "must not be empty" — skip those rows in the schema report.
    unparsed = {(p.column, r) for p in problems for r in p.rows}
    try:
        _schema(items, optional).validate(typed, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        for (column, check), grp in cases.groupby(["column", "check"], sort=False, dropna=False):
            index = pd.to_numeric(grp["index"], errors="coerce").dropna().astype(int)
            rows = sorted({int(i) + 1 for i in index} - {r for (col, r) in unparsed if col == column})
            if rows:
                problems.append(Problem(str(column), _rule_text(str(column), str(check)), rows))
            elif index.empty:
                problems.append(Problem(str(column), _rule_text(str(column), str(check))))
    _check_scales(typed, items, problems)
    reverse = [str(c) for c in raw.attrs.get(REVERSE_ATTR, ())]
    unknown = [c for c in reverse if c not in items]
    if unknown:
        problems.append(Problem(f"{ITEM_PREFIX}*", f"marked reverse-worded but not a statement column: {', '.join(unknown)}"))
    board_problems = [p for p in problems if p.column in BOARD_COLUMNS]
    if boards_optional and board_problems:
        problems = [p for p in problems if p not in board_problems]
        optional = [c for c in optional if c not in BOARD_COLUMNS]
    if problems:
        order = {c: i for i, c in enumerate([*REQUIRED, *optional, *items])}
        problems.sort(key=lambda p: order.get(p.column, math.inf))
        raise DataValidationError(source, problems)
    out = typed[[*REQUIRED, *optional, *items]]
    out.attrs = {REVERSE_ATTR: reverse} if reverse else {}
    if DELIVERY_ATTR in raw.attrs:  # what came with the data (oml.data.delivery) stays with it
        out.attrs[DELIVERY_ATTR] = raw.attrs[DELIVERY_ATTR]
    if boards_optional and board_problems:
        out.attrs[BOARDS_LEFT_OUT_ATTR] = "; ".join(p.line().removeprefix("- ") for p in board_problems)
    return out


def _one_value_per(typed: pd.DataFrame, key: str, column: str, what: str, blank_is_value: bool) -> Problem | None:
    """Rows where ``column`` differs from its most frequent value within the same ``key`` (blank counts as a value).

    One school has one board and one name, one board one name: the rows that disagree with
    the group's most common value are reported (ties: the first value in the file).
    """
    if column not in typed or key not in typed:
        return None
    keys = typed[key]
    values = typed[column].fillna("\u0000")
    # A blank name is a value of its own (a school named in some rows only is inconsistent); a blank
    # board is already reported as "must not be empty".
    known = keys.notna() & (True if blank_is_value else typed[column].notna())
    if not known.any():
        return None
    frame = pd.DataFrame({"key": keys[known], "value": values[known]})
    counts = frame.groupby(["key", "value"], sort=False).size().reset_index(name="n")
    # Most frequent value per key; stable sort keeps the first-seen value on ties.
    modal = counts.sort_values("n", ascending=False, kind="stable").drop_duplicates("key").set_index("key")["value"]
    wrong = frame["value"] != frame["key"].map(modal)
    if not wrong.any():
        return None
    groups = sorted(set(frame.loc[wrong, "key"]))
    shown = ", ".join(repr(g) for g in groups[:MAX_ROWS_SHOWN]) + (", …" if len(groups) > MAX_ROWS_SHOWN else "")
    mask = pd.Series(False, index=typed.index)
    mask[wrong[wrong].index] = True
    return Problem(column, f"must have one value per {what} (differs within {key} {shown})", _rows(mask))


def _hierarchy_problems(typed: pd.DataFrame) -> list[Problem]:
    """One board per school and year (a school may change board: a merger), one name per school, one per board."""
    keyed = typed
    if "board_id" in typed and "school_id" in typed:
        keyed = typed.assign(**{"school_id and year": typed["school_id"] + " " + typed["year"].astype("string")})
    checks = [("school_id and year", "board_id", "school and year", False), ("school_id", "school_name", "school", True),
              ("board_id", "board_name", "board", True)]
    return [p for p in (_one_value_per(keyed, *check) for check in checks) if p is not None]
