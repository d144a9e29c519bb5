"""Statistics of the private feedback report of one school or one board, with disclosure control.

Model. One OLS over all Limburg pupils with an index (as the public figures, but the cells
tell the unit apart from the rest): the standardised index on one indicator per
*year × part* cell plus the controls sex, age (linear) and parental education. The parts
are the unit (the school or board), the rest of the unit's region (schools only) and the
rest of Limburg; a board has one more, its pupils that count in its period only (see below),
and the pupils it does not count are in the rest of Limburg. Region is not a control: the
school sits in one region, so the comparison with its region and with Limburg is the point.

Adjusted means. As in :mod:`oml.stats.models`, a group's value is the average counterfactual
prediction, :math:`g^\\top\\hat\\beta` with :math:`g` the pupil-weighted mean of its cells'
indicators and the sample mean of every control column: the unit is its own cell, its
region is the unit plus the rest of the region, Limburg is every cell of the year (the
period: of every year). Differences and their z-tests use :math:`\\sqrt{d^\\top V d}`.

Covariance. A sandwich whose meat has parts. The pupils of *other* schools are clustered by
school (CR1, as the public figures), so that the region and Limburg carry the ordinary variation
between schools. The unit's own pupils are each a cluster of their own, with the HC2 small-sample
correction (MacKinnon & White 1985; CR2 of Bell & McCaffrey 2002 with clusters of one pupil): each
residual is divided by :math:`\\sqrt{1-h_{ii}}`, which makes the variance of a cell mean unbiased under
equal variances (HC0/CR1 would underestimate it by the factor :math:`(n_c-1)/n_c`). The report is about
this unit's pupils: its own sampling error is the spread between its pupils, which a cluster-robust
variance with the unit as one cluster cannot estimate (the unit's cell residuals sum to zero, so that
cluster's score is zero and the unit's standard error would be too small).

A *board* is judged as a group of schools: its pupils sit in schools, which differ from each other
also without any difference between boards. Its covariance adds the between-school part of the
random-intercept model for the board's own schools, :math:`\\hat\\tau^2 \\sum_s a_s a_s^\\top` with
:math:`a_s = (X^\\top X)^{-1} \\sum_{i \\in s} x_i` over the board's pupils of school :math:`s` and
:math:`\\hat\\tau^2` the between-school variance of the adjusted index (:func:`school_spread`, estimated
once per dataset from all schools). Clustering by the board's own schools (CR1/CR2) was the other
option; it cannot be used for the 18 boards of one school in the default data (one cluster, no
spread), gives one degree of freedom to a board of two, and a zero between-school score to a board
year with one shown school, whereas :math:`\\hat\\tau^2` rests on every school of Limburg.

Intervals and tests use the t distribution. Degrees of freedom per contrast :math:`d`: the unit's
part gets the Bell–McCaffrey (2002) Satterthwaite degrees of freedom of the HC2 variance
(:math:`(\\operatorname{tr} C)^2 / \\lVert C \\rVert_F^2`, :math:`C = D_u (I - H_{UU}) D_u`, so
:math:`n_c - 1` for one cell and :math:`n - 3` for three equal cells), the other schools' part
:math:`G_d - 1` with :math:`G_d` the other schools in the contrast's cells, a board's between-school
part the number of schools minus 1; they are combined by Welch–Satterthwaite.

Tests. The unit against Limburg and against its region per year, Bonferroni-corrected over the
shown years per reference; over the period (one test per reference) and its last against its first
shown year (one test). Every comparison's interval is the one of its test: per year at level
:math:`1 - \\alpha/m` for :math:`m` years, otherwise at :math:`1 - \\alpha`, so a difference is
significant exactly when its interval leaves out 0. Holm's step-down test has no intervals of that
simple form (its compatible intervals, Strassburger & Bretz 2008, only bound a rejected difference
at 0), and with at most three years per family Bonferroni loses little.

Funnel. Around Limburg's adjusted mean over the period :math:`\\theta_0`, the control limits
for a unit of :math:`n` pupils are :math:`\\theta_0 \\pm z_{(1+c)/2} \\sqrt{\\hat\\tau^2 + s^2/n}`, for
:math:`c` = 95 % and 99,8 %: the additive random-effects limits of Spiegelhalter (2005, "Funnel plots
for comparing institutional performance", Stat Med 24:1185–1202; and "Handling over-dispersion of
performance indicators", Qual Saf Health Care 14:347–351), with :math:`s` the within-school residual
standard deviation and :math:`\\hat\\tau^2` the DerSimonian–Laird between-school variance
(:func:`school_spread`). Limits :math:`\\theta_0 \\pm z\\, s/\\sqrt{n}` would treat the ordinary
differences between schools as signal: on the default data a third of the schools fell outside
their 95 % limits.

Disclosure control. A year with fewer than ``min_cell`` of the unit's pupils is not shown
on its own: its pupils count in the period. Because the years add up to the period, a
second year is hidden when the hidden ones could otherwise be recovered
(:func:`oml.stats.disclosure.secondary`). A unit with fewer than ``min_cell`` pupils over the
whole period shows nothing of its own. The region and Limburg are shown only when the
*other* schools in them number at least :data:`MIN_OTHER_SCHOOLS`, with together at least
``min_cell`` pupils, so no reader can subtract their own school and read another school's
figure; *other* means outside the unit's board(s), so that neither can a board holding all its
schools' reports.

Across a board's report and its schools' reports. A board can ask each of its schools for its
report, so the board's figures must not give more than those reports together: the board's
pupils of a year minus its schools' published pupils of that year would otherwise isolate a
small school or a school's hidden year (counts exactly, the adjusted index to about ±0,02, the
answers to about half a pupil). A board's figures are therefore made of what its schools'
reports show (:func:`board_coverage`): a year of the board counts the school-years that the
schools' own reports show; the board's period counts, in addition, the years a shown school
hides (as that school's own period does); a school below the threshold does not count at all.
Every board cell is then the sum of published school cells: the board minus its schools is
exactly nothing. The board's answers count the shown schools; per statement the board shows its
three categories, or one, or none, whichever first reveals no sum of hidden school counts of 1 to
``min_cell - 1`` pupils (:func:`board_answer_shares`, an exact audit of what the published counts
determine).
"""
from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import stdtr, stdtrit
from scipy.stats import norm

from oml.data.contract import item_columns
from oml.stats.direction import Direction, direction
from oml.stats.disclosure import MIN_CELL, secondary_mask

KINDS = ("school", "board")
CONTROLS = ("sex", "age", "parent_education")
UNIT, REGION, LIMBURG = "unit", "region", "limburg"
#: A board's pupils that count in its period but not in its years (a shown school's hidden years); never a group of its own.
POOLED = "pooled"
PERIOD = "totaal"
#: Fewest other schools a reference group (region, Limburg) must hold to be shown.
MIN_OTHER_SCHOOLS = 3
FUNNEL_LEVELS = (0.95, 0.998)
TIDY = ["year", "group", "estimate", "se", "df", "ci_low", "ci_high", "n", "suppressed"]
#: ``ci_level`` is the level of the comparison's interval (per year Bonferroni-corrected), ``p_adjusted`` its p-value
#: times the number of tests in its family (at most 1); ``significant`` is ``p_adjusted < 1 - level``.
COLUMNS = ["family", "group_a", "year_a", "group_b", "year_b", "estimate", "se", "df", "ci_level", "ci_low", "ci_high",
           "p", "p_adjusted", "significant"]
_ID_COLUMN = {"school": "school_id", "board": "board_id"}


@dataclass(frozen=True)
class BoardCoverage:
    """Which of a board's pupils its figures count: exactly what its schools' own reports show.

    ``schools``: the schools whose pupils count in the board's index (each a school whose own report
    shows its figures); ``small``: the schools below the threshold in their own report, not counted
    at all; ``period_only``: school -> its years that its own report does not show on their own,
    counted in the board's period but not in the board's years; ``not_counted``: school -> years of
    a counted school that count nowhere (hidden in the school's report, while another of its hidden
    years lies in another board, so that the board cannot count its hidden years as one whole);
    ``answer_schools``: the schools whose answers count in the board's answers (shown, and every
    pupil of theirs in this board, as their own report's answers count every pupil of the school).
    No counts: a small school's size is not shown.
    """

    board: str
    schools: tuple[str, ...] = ()
    small: tuple[str, ...] = ()
    period_only: dict[str, tuple[int, ...]] = field(default_factory=dict)
    not_counted: dict[str, tuple[int, ...]] = field(default_factory=dict)
    answer_schools: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """Every pupil of the board counts in the board's years (nothing left out or counted in the period only)."""
        return not (self.small or self.period_only or self.not_counted)


@dataclass(frozen=True)
class SchoolSpread:
    """How much the adjusted index varies within and between the schools of a dataset (:func:`school_spread`).

    ``between_var`` is :math:`\\hat\\tau^2`, the DerSimonian–Laird between-school variance of the schools'
    adjusted means; ``within_sd`` the pupil-level residual standard deviation within a school and year;
    ``schools`` the schools, ``q`` Cochran's heterogeneity statistic, ``mean`` the pupil-weighted mean of the
    schools' adjusted means (the centre of the estimate). Aggregates over every school: no school's figure.
    """

    between_var: float
    within_sd: float
    schools: int
    q: float
    mean: float

    @property
    def icc(self) -> float:
        """The school intraclass correlation of the adjusted index, :math:`\\tau^2 / (\\tau^2 + s^2)`."""
        return self.between_var / (self.between_var + self.within_sd ** 2)


@dataclass
class UnitMeans:
    """Adjusted index of one unit next to its references, per year and over the period."""

    kind: str
    unit: str
    region: str | None
    level: float
    min_cell: int
    #: Tidy, one row per (year, group) plus the period (``year`` = ``"totaal"``); hidden cells empty.
    table: pd.DataFrame
    #: Unit vs references: families ``limburg``/``region`` (per year), ``period``, ``first_last``.
    comparisons: pd.DataFrame
    #: Years of the unit hidden because they are too small (primary) or to protect those (secondary).
    pooled_years: list[int] = field(default_factory=list)
    protecting_years: list[int] = field(default_factory=list)
    #: Pupil-level residual standard deviation of the report's model (schools not in it: includes their spread).
    residual_sd: float = float("nan")
    years: list[int] = field(default_factory=list)
    #: A board's report: which schools and years its figures count (:func:`board_coverage`); ``None`` for a school.
    coverage: BoardCoverage | None = None
    #: The spread of the adjusted index within and between schools of the whole dataset (:func:`school_spread`).
    spread: SchoolSpread | None = None

    def __post_init__(self):
        self._rows = {(str(r.year), r.group): r for r in self.table.itertuples(index=False)}

    def cell(self, year, group: str):
        """The row (named tuple) of one cell; ``year`` an int or ``"totaal"``."""
        return self._rows[(str(year), group)]

    @property
    def below_threshold(self) -> bool:
        """The unit has fewer than ``min_cell`` pupils with an index over the whole period."""
        return bool(self.cell(PERIOD, UNIT).suppressed)

    def period(self, group: str):
        """The period row of ``group``."""
        return self.cell(PERIOD, group)

    def yearly(self) -> pd.DataFrame:
        """The per-year rows (``year`` as int), for the diamond figure."""
        t = self.table[self.table["year"].astype(str) != PERIOD].copy()
        t["year"] = t["year"].astype("int64")
        return t.reset_index(drop=True)


def unit_mask(frame: pd.DataFrame, kind: str, unit: str) -> pd.Series:
    """Pupils of the school or board ``unit``.

    Raises ``ValueError`` naming the column and the value when the unit is not in the data.

    Examples
    --------
    >>> df = pd.DataFrame({"school_id": ["a", "a", "b"]})
    >>> unit_mask(df, "school", "a").tolist()
    [True, True, False]
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    column = _ID_COLUMN[kind]
    if column not in frame:
        raise ValueError(f"a {kind} report needs the column '{column}', which the data do not have")
    mask = frame[column].astype("string") == str(unit)
    if not mask.any():
        raise ValueError(f"column '{column}': no pupils with the value {unit!r}")
    return mask.fillna(False).astype(bool)


def unit_region(frame: pd.DataFrame, mask: pd.Series) -> str:
    """The region of a school: the region of most of its pupils (ties: the first in the contract's order)."""
    counts = frame.loc[mask, "region"].value_counts(sort=False)
    return str(counts.idxmax())


@dataclass
class Prepared:
    """What every report's model shares, computed once per dataset: pupils with an index as arrays.

    A build makes one report per school and per board from the same data; the control
    columns, codes and ids are the same for all of them, only the unit's cells differ.
    """

    index: np.ndarray
    year: np.ndarray  # int
    region: np.ndarray  # str
    school: np.ndarray  # str
    board: np.ndarray | None  # str, when the data have boards
    school_code: np.ndarray  # int codes of school
    school_ids: np.ndarray  # school id of each code
    board_known: np.ndarray  # bool: the pupil's board is known (data without boards: all False)
    controls: np.ndarray  # control columns (sex and parental-education dummies, age)
    n_all: int  # rows of the frame (pupils with and without an index)
    # Integer codes of the columns a report compares with one value, so that a report at national scale
    # (hundreds of thousands of pupils, thousands of reports) compares integers, not strings.
    years: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # sorted distinct years
    year_code: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # position in ``years``
    region_code: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    region_of: dict = field(default_factory=dict)  # region -> its code
    board_code: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # of ``board``; -1: no boards
    board_of: dict = field(default_factory=dict)  # board id -> its code
    school_of: dict = field(default_factory=dict)  # school id -> its code in ``school_code``
    #: The controls' sample means as a report's model computes them, by its number of cells.
    control_means: dict = field(default_factory=dict)
    school_sums: object = None  # :func:`_school_sums`
    #: :func:`answer_shares` of the whole frame, by ``min_cell``.
    answers: dict = field(default_factory=dict)
    school_n: np.ndarray | None = None  # pupils with an index per school code
    #: Results of :func:`adjusted_unit_means` kept by :func:`remember`, by (kind, unit, level, min_cell).
    memo: dict = field(default_factory=dict)
    #: :func:`school_spread` of the data, computed on first use and kept (one per dataset, as the arrays).
    spread: SchoolSpread | None = None


_PREPARED: dict[int, tuple] = {}


def prepare(frame: pd.DataFrame) -> Prepared:
    """The model's shared arrays for ``frame`` (cached per frame object for the life of the process)."""
    import weakref

    stamp = _stamp(frame)
    hit = _PREPARED.get(id(frame))
    if hit is not None and hit[0]() is frame and hit[2] == stamp:
        return hit[1]
    keep = frame["index"].notna().to_numpy()
    data = frame.loc[keep]
    blocks = []
    for c in CONTROLS:
        if c == "age":
            blocks.append(data[[c]].to_numpy(dtype=float))
        else:
            values = pd.Categorical(data[c]).remove_unused_categories()
            codes = values.codes
            dummies = np.zeros((len(codes), len(values.categories) - 1))
            rows = np.flatnonzero(codes > 0)
            dummies[rows, codes[rows] - 1] = 1.0
            blocks.append(dummies)
    school = data["school_id"].astype(str).to_numpy()
    school_code, school_ids = pd.factorize(school)
    year = data["year"].astype("int64").to_numpy()
    years, year_code = np.unique(year, return_inverse=True)
    region = data["region"].astype(str).to_numpy()
    region_code, region_ids = pd.factorize(region)
    board = data["board_id"].astype(str).to_numpy() if "board_id" in data else None
    board_known = data["board_id"].notna().to_numpy() if "board_id" in data else np.zeros(len(data), dtype=bool)
    board_code, board_ids = pd.factorize(board) if board is not None else (np.full(len(data), -1), [])
    prepared = Prepared(
        index=data["index"].to_numpy(dtype=float),
        year=year,
        region=region,
        school=school,
        board=board,
        school_code=school_code,
        school_ids=np.asarray(school_ids, dtype=object),
        board_known=board_known,
        controls=np.hstack(blocks),
        n_all=len(frame),
        years=years.astype(np.int64),
        year_code=year_code.reshape(-1).astype(np.int64),
        region_code=region_code.astype(np.int64),
        region_of={str(r): k for k, r in enumerate(region_ids)},
        board_code=board_code.astype(np.int64),
        board_of={str(b): k for k, b in enumerate(board_ids)},
        school_of={str(s): k for k, s in enumerate(school_ids)},
    )
    try:
        _PREPARED.clear()  # one dataset at a time: a build holds one
        _PREPARED[id(frame)] = (weakref.ref(frame), prepared, stamp)
    except TypeError:  # an object without weak references: just do not cache
        pass
    return prepared


def _stamp(frame: pd.DataFrame) -> tuple:
    # Same object, same length, same index values: an in-place change of the data is not served stale.
    return len(frame), float(np.nansum(frame["index"].to_numpy(dtype=float)))


def _prepared_for(frame: pd.DataFrame) -> Prepared | None:
    """The arrays :func:`prepare` keeps for exactly this frame, if it made them (never computed here)."""
    hit = _PREPARED.get(id(frame))
    if hit is None or hit[0]() is not frame or "index" not in frame or hit[2] != _stamp(frame):
        return None
    return hit[1]


def school_spread(frame: pd.DataFrame) -> SchoolSpread:
    """Between- and within-school spread of the adjusted index: the funnel's :math:`\\hat\\tau^2` and :math:`s`.

    Computed once per dataset (kept with :func:`prepare`'s arrays). The model is the reports' model with
    every school-year its own cell: the index on one indicator per school × year plus the controls, fitted
    by projecting the controls out within the cells (Frisch–Waugh–Lovell; the same coefficients as the
    dummy regression, without its 500 columns). Then, per school :math:`j` with :math:`n_j` pupils:

    * its adjusted mean over the period :math:`y_j`, the mean over its pupils of
      :math:`y_i - \\hat\\gamma^\\top (c_i - \\bar c)` (what a report's period estimate is, up to the
      controls' coefficients of its own model);
    * its within variance :math:`v_j = s^2 / n_j`, :math:`s^2` the residual variance within the cells
      (:math:`N` minus cells minus controls degrees of freedom);
    * the DerSimonian–Laird estimate (DerSimonian & Laird 1986; the method-of-moments estimate
      Spiegelhalter 2005 uses for funnel limits):
      :math:`\\hat\\tau^2 = \\max\\big(0, \\frac{Q - (I-1)}{S_1 - S_2/S_1}\\big)`, with :math:`w_j = 1/v_j`,
      :math:`S_r = \\sum_j w_j^r`, :math:`Q = \\sum_j w_j (y_j - \\bar y_w)^2` and :math:`I` schools. With
      weights proportional to :math:`n_j`, :math:`\\bar y_w` is the pupil-weighted mean: Limburg's mean,
      the funnel's target.

    A closed form, chosen over a REML fit (statsmodels ``MixedLM``) for being instant and the same number on
    every machine; the two agree on the default data (tested).

    Examples
    --------
    >>> from oml.data.synth import generate
    >>> from oml.stats.index import add_index
    >>> spread = school_spread(add_index(generate(n=3000, seed=11, history=False)))
    >>> spread.schools, 0.0 <= spread.icc < 0.2
    (44, True)
    """
    return _school_spread(prepare(frame))


def _school_spread(pre: Prepared) -> SchoolSpread:
    if pre.spread is not None:
        return pre.spread
    y, c = pre.index, pre.controls
    years, year_code = np.unique(pre.year, return_inverse=True)
    cell = pre.school_code.astype(np.int64) * len(years) + year_code
    cells, cell = np.unique(cell, return_inverse=True)
    size = np.bincount(cell, minlength=len(cells)).astype(float)

    def within(v):  # deviations from the cell means, column by column
        v = v.reshape(len(v), -1)
        means = np.column_stack([np.bincount(cell, weights=v[:, j], minlength=len(cells)) for j in range(v.shape[1])])
        return v - means[cell] / size[cell, None]

    yw, cw = within(y)[:, 0], within(c)
    gamma = np.linalg.lstsq(cw, yw, rcond=None)[0] if c.shape[1] else np.zeros(0)
    resid = yw - cw @ gamma
    dof = len(y) - len(cells) - c.shape[1]
    s2 = float(resid @ resid / dof) if dof > 0 else float("nan")
    adjusted = y - (c - c.mean(axis=0)) @ gamma
    n_school = np.bincount(pre.school_code, minlength=len(pre.school_ids)).astype(float)
    keep = n_school > 0
    means = np.bincount(pre.school_code, weights=adjusted, minlength=len(pre.school_ids))[keep] / n_school[keep]
    w = n_school[keep] / s2
    centre = float(w @ means / w.sum())
    q = float(w @ (means - centre) ** 2)
    k = int(keep.sum())
    denominator = w.sum() - (w @ w) / w.sum()
    tau2 = max(0.0, (q - (k - 1)) / denominator) if k > 1 and denominator > 0 else 0.0
    pre.spread = SchoolSpread(float(tau2), float(np.sqrt(s2)), k, q, centre)
    return pre.spread


_PARTS = (UNIT, REGION, LIMBURG, POOLED)
#: The parts of a group per year; over the period the unit also has its pooled part (a board's schools' hidden years).
_MEMBERS = {UNIT: (UNIT,), REGION: (UNIT, POOLED, REGION), LIMBURG: (UNIT, POOLED, REGION, LIMBURG)}
_PERIOD_MEMBERS = {**_MEMBERS, UNIT: (UNIT, POOLED)}


def remember(frame: pd.DataFrame, kind: str, unit: str, level: float = 0.95, min_cell: int = MIN_CELL) -> None:
    """Compute :func:`adjusted_unit_means` now and keep it with ``frame``'s shared arrays (:func:`prepare`).

    The build's engine calls this (through :func:`oml.report.unit_report.warm`) in its warm process just
    before it forks a report: the report's notebook then gets the result from the same function at
    once, instead of paying for the model in a fresh fork. A pure cache: the result is the same object
    the notebook would compute, and it is dropped with the arrays when the frame changes.

    Examples
    --------
    >>> from oml.data.synth import generate
    >>> from oml.stats.index import add_index
    >>> df = add_index(generate(n=1500, seed=4, history=False))
    >>> unit = df["school_id"].iloc[0]
    >>> remember(df, "school", unit)
    >>> kept = adjusted_unit_means(df, "school", unit)
    >>> kept.table.equals(_adjusted_unit_means(df, prepare(df), "school", unit, 0.95, 10).table)
    True
    """
    pre = prepare(frame)
    key = _memo_key(kind, unit, level, min_cell)
    if key not in pre.memo:
        pre.memo[key] = _adjusted_unit_means(frame, pre, kind, unit, level, min_cell)
    answer_shares(frame, min_cell)  # every report shows Limburg's answers: kept with the arrays too


def _memo_key(kind: str, unit: str, level: float, min_cell: int) -> tuple:
    return kind, str(unit), float(level), int(min_cell)


def adjusted_unit_means(frame: pd.DataFrame, kind: str, unit: str, level: float = 0.95,
                        min_cell: int = MIN_CELL) -> UnitMeans:
    """Adjusted index of a school or board, its region (schools) and Limburg, per year and over the period.

    Parameters
    ----------
    frame : DataFrame
        All pupils, with the ``index`` column (:func:`oml.stats.index.add_index`).
    kind : {"school", "board"}
    unit : str
        The ``school_id`` or ``board_id``.
    level : float
        Confidence level of intervals and tests.
    min_cell : int
        Disclosure threshold (pupils).

    Returns
    -------
    UnitMeans
        ``table`` (``year, group, estimate, se, df, ci_low, ci_high, n, suppressed``: t intervals; groups ``unit``,
        ``region``, ``limburg``; ``year`` ``"totaal"`` = the period) and the comparisons.

    Examples
    --------
    >>> from oml.data.synth import generate
    >>> from oml.stats.index import add_index
    >>> df = add_index(generate(n=1500, seed=4, history=False))
    >>> um = adjusted_unit_means(df, "school", "SYN-S0013")  # its region holds three schools of other boards
    >>> sorted(um.table["group"].unique())
    ['limburg', 'region', 'unit']
    >>> um.comparisons["family"].unique().tolist()
    ['limburg', 'region', 'first_last', 'period']
    """
    pre = prepare(frame)
    kept = pre.memo.get(_memo_key(kind, unit, level, min_cell))
    if kept is not None:
        return copy.deepcopy(kept)  # a copy: what a caller changes stays with that caller
    return _adjusted_unit_means(frame, pre, kind, unit, level, min_cell)


def _equals(codes: np.ndarray, code: int | None) -> np.ndarray:
    """``codes == code`` (all False when ``code`` is None: a value not among the coded rows)."""
    return codes == code if code is not None else np.zeros(len(codes), dtype=bool)


def _distinct(values: np.ndarray, size: int) -> np.ndarray:
    """``np.unique(values)`` of integers in ``[0, size)``: sorted, by counting instead of sorting or hashing.

    Examples
    --------
    >>> _distinct(np.array([5, 1, 5, 0]), 8).tolist()
    [0, 1, 5]
    """
    return np.flatnonzero(np.bincount(values, minlength=size)) if len(values) else np.empty(0, dtype=np.int64)


def _adjusted_unit_means(frame: pd.DataFrame, pre: Prepared, kind: str, unit: str, level: float,
                         min_cell: int) -> UnitMeans:
    mask_all = unit_mask(frame, kind, unit)
    region = unit_region(frame, mask_all) if kind == "school" else None
    years = [int(y) for y in pre.years]
    year_code = pre.year_code
    # Part of every pupil: 0 = the unit, 1 = the rest of its region, 2 = the rest of Limburg, 3 = the unit's
    # pupils counted in its period only (a board's schools' hidden years).
    part = np.full(len(pre.index), 2)
    coverage = None
    if kind == "school":
        if region is not None and region in pre.region_of:
            part[pre.region_code == pre.region_of[region]] = 1
        own = _equals(pre.school_code, pre.school_of.get(str(unit)))
        part[own] = 0
        # The boards the school belongs to: their other schools do not count as "other" for the references.
        boards = np.unique(pre.board_code[own & pre.board_known]) if pre.board is not None else np.empty(0, dtype=int)
        if len(boards):
            of_boards = np.zeros(len(pre.board_of), dtype=bool)
            of_boards[boards] = True
            same_board = own | (pre.board_known & of_boards[pre.board_code])
        else:
            same_board = own
    else:
        in_board = _equals(pre.board_code, pre.board_of.get(str(unit)))
        counted, coverage = _board_cover(frame, pre, str(unit), year_code, np.array(years), min_cell)
        part[counted == _COUNTED] = 0
        part[counted == _PERIOD_ONLY] = 3
        own = (counted == _COUNTED) | (counted == _PERIOD_ONLY)
        same_board = in_board  # left-out pupils of the board (small schools) are not "other" either
    codes = year_code * 4 + part
    # Observed cells and each pupil's cell number (codes are small integers: a lookup, no sort).
    cells = np.flatnonzero(np.bincount(codes, minlength=4 * len(years)))
    lookup = np.zeros(4 * len(years), dtype=np.int64)
    lookup[cells] = np.arange(len(cells))
    index = lookup[codes]
    x = np.zeros((len(codes), len(cells) + pre.controls.shape[1]))
    x[np.arange(len(codes)), index] = 1.0
    x[:, len(cells):] = pre.controls
    n_schools = int(pre.school_code.max()) + 1 if len(pre.school_code) else 0
    spread = _school_spread(pre)
    fit = _sandwich(x, pre, own, index, len(cells), n_schools, spread if kind == "board" else None)
    params = fit.params
    resid = pre.index - x @ params
    residual_sd = float(np.sqrt(resid @ resid / (x.shape[0] - x.shape[1])))
    # The same for every report with this many cells: kept (the very expression, so the very same bits).
    control_means = pre.control_means.get(len(cells))
    if control_means is None:
        control_means = pre.control_means[len(cells)] = x[:, len(cells):].mean(axis=0)
    n_cell = np.bincount(index, minlength=len(cells))
    cell_year = np.array([years[c // 4] for c in cells])
    cell_part = np.array([_PARTS[c % 4] for c in cells], dtype=object)
    groups = [UNIT, REGION, LIMBURG] if region is not None else [UNIT, LIMBURG]
    # Pupils and schools outside the unit's board(s) behind each cell, for the "other schools" rule.
    outside = ~same_board
    outside_pupils = np.bincount(index[outside], minlength=len(cells))
    pairs = _distinct(index[outside] * (n_schools + 1) + pre.school_code[outside], len(cells) * (n_schools + 1))
    pair_cell, pair_school = pairs // (n_schools + 1), pairs % (n_schools + 1)

    rows, grads = [], []
    for year in [*years, PERIOD]:
        in_year = np.ones(len(cells), dtype=bool) if year == PERIOD else cell_year == year
        for group in groups:
            parts = (_PERIOD_MEMBERS if year == PERIOD else _MEMBERS)[group]
            members = np.flatnonzero(in_year & np.isin(cell_part, parts))
            n = int(n_cell[members].sum())
            g = np.zeros(x.shape[1])
            if n:
                g[members] = n_cell[members] / n
                g[len(cells):] = control_means
            other_schools = len(np.unique(pair_school[np.isin(pair_cell, members)]))
            rows.append({"year": year, "group": group, "n": n, "other_pupils": int(outside_pupils[members].sum()),
                         "other_schools": other_schools})
            grads.append(g)
    grads = np.array(grads)
    table = pd.DataFrame(rows)
    estimate = grads @ params
    se, df = np.array([fit.se_df(g) for g in grads]).T if len(grads) else (np.empty(0), np.empty(0))
    half = stdtrit(df, 0.5 + level / 2) * se
    table["estimate"], table["se"], table["df"] = estimate, se, df
    table["ci_low"], table["ci_high"] = estimate - half, estimate + half

    hidden, pooled, protecting = _disclosure(table, min_cell)
    for c in ("estimate", "se", "df", "ci_low", "ci_high"):
        table.loc[hidden, c] = np.nan
    table["n"] = table["n"].astype("float64").where(~hidden)
    table["suppressed"] = hidden
    table["year"] = table["year"].astype(object)
    comparisons = _compare(table, grads, fit, level, years, groups)
    return UnitMeans(kind, str(unit), region, level, min_cell, table[TIDY].reset_index(drop=True), comparisons,
                     pooled, protecting, residual_sd, years, coverage, spread)


@dataclass
class _Fit:
    """The report's OLS and its covariance in parts, and what the degrees of freedom of a contrast need."""

    params: np.ndarray
    unit: np.ndarray  # HC2 part: the unit's pupils, each a cluster of one
    between: np.ndarray  # a board's between-school part, tau^2 sum_s a_s a_s'; zeros for a school
    other: np.ndarray  # CR1 part: the other pupils clustered by school
    xtx_inv: np.ndarray
    unit_rows: np.ndarray  # the unit's rows of X
    inflate: np.ndarray  # 1 / sqrt(1 - h_ii) per unit pupil (0 where h_ii = 1: a residual of exactly 0)
    one_minus_h: np.ndarray
    presence: np.ndarray  # (cells x schools): an other school has pupils in the cell
    n_cells: int
    other_df: float  # other schools - 1
    between_df: float  # schools of the dataset - 1

    @property
    def cov(self) -> np.ndarray:
        return self.unit + self.between + self.other

    def se_df(self, d: np.ndarray) -> tuple[float, float]:
        """Standard error and Welch–Satterthwaite degrees of freedom of the contrast ``d`` (module docstring)."""
        parts = [float(d @ self.unit @ d), float(d @ self.between @ d), float(d @ self.other @ d)]
        # C = D_u (I - H_UU) D_u with H_UU = R M R': tr C = sum u^2 (1 - h), and, without the n x n matrix,
        # ||C||_F^2 = sum u^4 (1 - 2h) + tr(S M S M) with S = R' diag(u^2) R.
        a2 = (self.unit_rows @ (self.xtx_inv @ d)) ** 2
        u2 = a2 * self.inflate ** 2
        lone = self.inflate == 0
        if lone.any() and not lone.all():  # a lone pupil's share rests on the others' residuals (see _sandwich)
            u2[~lone] += a2[lone].sum() / (~lone).sum() * self.inflate[~lone] ** 2
        sm = (self.unit_rows.T @ (self.unit_rows * u2[:, None])) @ self.xtx_inv
        trace = float(u2 @ self.one_minus_h)
        frobenius = float(u2 ** 2 @ (1.0 - 2.0 * (1.0 - self.one_minus_h)) + np.einsum("ij,ji->", sm, sm))
        unit_df = trace ** 2 / frobenius if frobenius > 0 else np.inf
        used = np.flatnonzero(d[:self.n_cells])
        schools = int(self.presence[used].any(axis=0).sum()) if len(used) else 0
        other_df = schools - 1.0 if schools >= 2 else self.other_df
        variance = sum(parts)
        spread = sum(v * v / f for v, f in zip(parts, (unit_df, self.between_df, other_df)) if v > 0 and f > 0)
        df = variance ** 2 / spread if spread > 0 else np.inf
        return float(np.sqrt(variance)), float(min(df, 1e6))


def _school_sums(pre: Prepared, n_schools: int):
    """The sparse (schools x pupils) 0/1 matrix that sums rows by school (made once per dataset)."""
    if pre.school_sums is None or pre.school_sums.shape[0] != n_schools:
        from scipy.sparse import csr_matrix

        n = len(pre.school_code)
        pre.school_sums = csr_matrix((np.ones(n), (pre.school_code, np.arange(n))), shape=(n_schools, n))
        pre.school_sums.sort_indices()
    return pre.school_sums


def _sandwich(x: np.ndarray, pre: Prepared, own: np.ndarray, index: np.ndarray, n_cells: int, n_schools: int,
              spread: SchoolSpread | None) -> _Fit:
    """OLS with the report's covariance: HC2 for the unit's pupils, CR1 by school for the others, and for a
    board (``spread`` given) the between-school part of its own schools (module docstring)."""
    y = pre.index
    xtx_inv = np.linalg.inv(x.T @ x)
    params = xtx_inv @ (x.T @ y)
    resid = y - x @ params
    n, k = x.shape
    # Other pupils: CR1 by school, with the small-sample factor of the public figures (G/(G-1) (N-1)/(N-K)).
    other = ~own
    codes = pre.school_code[other]
    g = len(_distinct(codes, n_schools))
    # Each school's score sum_i x_i e_i over its other pupils, as one sparse (schools x pupils) product: it adds
    # each school's pupils in row order, as np.bincount does, so the sums are the very same. The unit's rows
    # weigh exactly 0 (adding 0.0 leaves a sum as it was), which spares selecting the other rows of X.
    scores = _school_sums(pre, n_schools) @ (x * np.where(other, resid, 0.0)[:, None])
    factor = (g / (g - 1)) * ((n - 1) / (n - k)) if g > 1 else 1.0
    cov_other = factor * (xtx_inv @ (scores.T @ scores) @ xtx_inv)
    # The unit's pupils: HC2, each residual over sqrt(1 - h_ii).
    rows = x[own]
    one_minus_h = 1.0 - np.einsum("ij,ij->i", rows @ xtx_inv, rows)
    ok = one_minus_h > 1e-8
    inflate = np.where(ok, 1.0 / np.sqrt(np.where(ok, one_minus_h, 1.0)), 0.0)
    adjusted = rows * (resid[own] * inflate)[:, None]
    meat = adjusted.T @ adjusted
    # A pupil alone in a cell (h_ii = 1) is fitted exactly: its residual says nothing about its variance, which
    # then is the mean HC2 squared residual of the unit's other pupils (unbiased under equal variances).
    lone = ~ok
    if lone.any() and ok.any():
        meat += float(np.mean((resid[own] * inflate)[ok] ** 2)) * (rows[lone].T @ rows[lone])
    cov_unit = xtx_inv @ meat @ xtx_inv
    # A board: tau^2 sum over its schools of a_s a_s', a_s = (X'X)^-1 (sum of the school's rows).
    cov_between = np.zeros((k, k))
    if spread is not None and spread.between_var > 0 and own.any():
        school, _ = pd.factorize(pre.school_code[own])
        sums = np.column_stack([np.bincount(school, weights=rows[:, j]) for j in range(k)])
        a = sums @ xtx_inv
        cov_between = spread.between_var * (a.T @ a)
    presence = np.zeros((n_cells, max(n_schools, 1)), dtype=bool)
    presence[index[other], codes] = True
    return _Fit(params, cov_unit, cov_between, cov_other, xtx_inv, rows, inflate, one_minus_h,
                presence, n_cells, float(max(g - 1, 1)),
                float(max((spread.schools if spread is not None else 2) - 1, 1)))


def hidden_years(counts, min_cell: int = MIN_CELL) -> tuple[bool, np.ndarray, np.ndarray]:
    """What a unit's own report hides of its years, from its pupils (with an index) per year.

    Returns ``(below, small, protect)``: ``below`` when the unit has fewer than ``min_cell`` pupils
    over the period (then nothing of it is shown); ``small`` the years with 1 to ``min_cell - 1``
    pupils (below the threshold: every year); ``protect`` the years hidden too, because the years add
    up to the published period and a small one could otherwise be recovered. An empty year reveals
    nothing and protects nothing.

    Examples
    --------
    >>> below, small, protect = hidden_years([30, 4, 25])
    >>> below, small.tolist(), protect.tolist()
    (False, [False, True, False], [False, False, True])
    """
    counts = np.asarray(counts, dtype=float)
    small = counts < min_cell
    protect = np.zeros(len(counts), dtype=bool)
    below = bool(counts.sum() < min_cell)
    nonempty = counts > 0
    if below:
        small &= nonempty
    else:
        protect[nonempty] = secondary_mask(counts[nonempty], small[nonempty], min_cell) & ~small[nonempty]
        small &= nonempty
    return below, small, protect


#: What :func:`_board_cover` says of a board's pupil: counted in the board's years (and period), in its period only.
_COUNTED, _PERIOD_ONLY, _NOT_COUNTED = 0, 3, -2


def _board_cover(frame: pd.DataFrame, pre: Prepared, board: str, year_code: np.ndarray, years: np.ndarray,
                 min_cell: int) -> tuple[np.ndarray, BoardCoverage]:
    """Per pupil with an index: 0 counted in the board's years and period, 3 in its period only, -2 a pupil
    of the board not counted, -1 not of the board; and the :class:`BoardCoverage`.

    Each school of the board is judged as its own report judges it (:func:`hidden_years` on all its
    pupils, whatever their board): its shown years count where the whole school-year lies in this
    board; its hidden years count in the board's period when all of them lie in this board (then they
    are exactly the school's period minus its shown years, which its own report protects), else not.
    """
    n_schools, n_years = (int(pre.school_code.max()) + 1 if len(pre.school_code) else 0), len(years)
    cell = pre.school_code * n_years + year_code
    in_board = _equals(pre.board_code, pre.board_of.get(board))
    counts = np.bincount(cell, minlength=n_schools * n_years).reshape(n_schools, n_years)
    here = np.bincount(cell[in_board], minlength=n_schools * n_years).reshape(n_schools, n_years)
    whole = (counts > 0) & (here == counts)  # the school's whole year is in this board
    status = np.full((n_schools, n_years), _NOT_COUNTED)
    schools, small, period_only, not_counted = [], [], {}, {}
    for code in np.unique(pre.school_code[in_board]):
        school = str(pre.school_ids[code])
        below, tiny, protect = hidden_years(counts[code], min_cell)
        if below:
            small.append(school)
            continue
        nonempty = counts[code] > 0
        hide = (tiny | protect) & nonempty
        status[code, ~hide & whole[code]] = _COUNTED
        if hide.any() and whole[code][hide].all():
            status[code, hide] = _PERIOD_ONLY
        left = (here[code] > 0) & (status[code] == _NOT_COUNTED)
        if (status[code] != _NOT_COUNTED).any():
            schools.append(school)
        if (status[code] == _PERIOD_ONLY).any():
            period_only[school] = tuple(int(y) for y in years[status[code] == _PERIOD_ONLY])
        if left.any():
            not_counted[school] = tuple(int(y) for y in years[left])
    counted = np.where(in_board, status[pre.school_code, year_code], -1)
    coverage = BoardCoverage(board, tuple(sorted(schools)), tuple(sorted(small)), period_only, not_counted,
                             _answer_schools(frame, board, schools))
    return counted, coverage


def _answer_schools(frame: pd.DataFrame, board: str, shown: list[str]) -> tuple[str, ...]:
    """The shown schools every pupil of which (with an index or not, every year) is in ``board``."""
    ids = frame["school_id"].astype("string")
    mine = ids.isin(shown)
    if not mine.any():
        return ()
    inside = (frame.loc[mine, "board_id"].astype("string") == board).fillna(False)
    whole = inside.groupby(ids[mine].to_numpy()).all()
    return tuple(sorted(str(s) for s in whole.index[whole.to_numpy()]))


def board_coverage(frame: pd.DataFrame, board: str, min_cell: int = MIN_CELL) -> BoardCoverage:
    """Which schools and years a board's figures count (see :class:`BoardCoverage`).

    Examples
    --------
    >>> df = pd.DataFrame({"school_id": ["a"] * 36 + ["b"] * 6, "board_id": "B", "year": [2023, 2024, 2025] * 14,
    ...                    "region": "R", "sex": "jongen", "age": 12.0, "parent_education": "laag", "index": 0.0})
    >>> c = board_coverage(df, "B")
    >>> c.schools, c.small, c.complete
    (('a',), ('b',), False)
    """
    pre = prepare(frame)
    unit_mask(frame, "board", board)  # a clear error for an unknown board
    return _board_cover(frame, pre, str(board), pre.year_code, pre.years, min_cell)[1]


def _disclosure(table: pd.DataFrame, min_cell: int) -> tuple[np.ndarray, list[int], list[int]]:
    """Hidden cells: the unit's small years (+ protecting years), and references without enough other schools."""
    year = table["year"].to_numpy()
    n = table["n"].to_numpy(dtype=float)
    is_period = np.array([str(y) == PERIOD for y in year])
    unit = table["group"].to_numpy() == UNIT
    hidden = np.zeros(len(table), dtype=bool)
    rows = np.flatnonzero(unit & ~is_period)  # the unit's years, in table order
    counts = n[rows]
    # A school's years add up to its period; a board's years are its schools' shown years, each at least
    # min_cell, and its period adds what the schools hide (so a board never has a small year of its own).
    _, small, protect = hidden_years(counts, min_cell)
    if n[unit & is_period][0] < min_cell:  # the unit over the period: below the threshold, nothing of it is shown
        hidden[unit] = True
        protect[:] = False
    else:
        hidden[rows] = small | protect | (counts == 0)  # an empty year has no figure
    pooled = [int(year[r]) for r in rows[small]]
    protecting = [int(year[r]) for r in rows[protect]]
    # References: enough other pupils and schools (outside the unit's board), or the unit's own figure could be
    # subtracted out.
    too_few = ((table["other_pupils"].to_numpy() < min_cell) | (table["other_schools"].to_numpy() < MIN_OTHER_SCHOOLS)
               | (n < min_cell))
    hidden[~unit & too_few] = True
    return hidden, pooled, protecting


def _compare(table: pd.DataFrame, grads, fit: _Fit, level: float, years: list[int], groups: list[str]) -> pd.DataFrame:
    """Unit minus reference per shown year and over the period; the unit's last minus first shown year.

    Families: ``limburg`` and ``region`` (one test per shown year, per reference, Bonferroni over the
    years: p-values times :math:`m`, intervals at level :math:`1 - \\alpha/m`), ``period`` (one test per
    reference: each is its own question) and ``first_last`` (one test). t-tests with the contrast's
    degrees of freedom; every interval is the one of its test, so ``significant`` is exactly "the
    interval leaves out 0". ``estimate`` is ``group_a`` minus ``group_b`` (the unit minus the reference;
    later minus earlier).
    """
    where = {(str(y), g): i for i, (y, g) in enumerate(zip(table["year"], table["group"]))}
    shown = ~table["suppressed"].to_numpy()
    pairs = []

    def add(family, ga, ya, gb, yb):
        a, b = where[(str(ya), ga)], where[(str(yb), gb)]
        if shown[a] and shown[b]:
            pairs.append(({"family": family, "group_a": ga, "year_a": ya, "group_b": gb, "year_b": yb}, a, b))

    refs = [g for g in (LIMBURG, REGION) if g in groups]
    for ref in refs:
        for y in years:
            add(ref, UNIT, y, ref, y)
    unit_years = [y for y in years if shown[where[(str(y), UNIT)]]]
    if len(unit_years) >= 2:
        add("first_last", UNIT, unit_years[-1], UNIT, unit_years[0])
    for ref in refs:
        add("period", UNIT, PERIOD, ref, PERIOD)
    # A family is one question asked of several cells: per year against one reference.
    size: dict[tuple[str, str], int] = {}
    for row, _, _ in pairs:
        key = (row["family"], row["group_b"])
        size[key] = size.get(key, 0) + 1
    alpha = 1 - level
    rows = []
    for row, a, b in pairs:
        m = size[(row["family"], row["group_b"])]
        d = grads[a] - grads[b]
        est = float(d @ fit.params)
        se, df = fit.se_df(d)
        half = float(stdtrit(df, 1 - alpha / (2 * m))) * se
        p = float(2 * stdtr(df, -abs(est) / se))
        rows.append({**row, "estimate": est, "se": se, "df": df, "ci_level": 1 - alpha / m, "ci_low": est - half,
                     "ci_high": est + half, "p": p, "p_adjusted": min(1.0, m * p)})
    out = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "significant"])
    out["significant"] = out["p_adjusted"].to_numpy(dtype=float) < alpha
    return out[COLUMNS]


# ----------------------------------------------------------------------------- funnel
def funnel_limits(target: float, sd: float, n, levels=FUNNEL_LEVELS, between_var: float = 0.0) -> pd.DataFrame:
    """Control limits of a funnel plot: :math:`\\theta_0 \\pm z_{(1+c)/2} \\sqrt{\\tau^2 + s^2/n}` per level :math:`c`.

    The additive random-effects limits of Spiegelhalter (2005): ``between_var`` is the between-school
    variance :math:`\\tau^2` (:func:`school_spread`), ``sd`` the within-school standard deviation :math:`s`.
    With ``between_var`` 0 they are the plain normal limits :math:`\\theta_0 \\pm z\\, s/\\sqrt{n}`.

    Examples
    --------
    >>> f = funnel_limits(0.0, 1.0, [25, 100], levels=(0.95,))
    >>> [round(v, 4) for v in f["high"]]
    [0.392, 0.196]
    >>> [round(v, 4) for v in funnel_limits(0.0, 1.0, [25, 100], (0.95,), between_var=0.04)["high"]]
    [0.5544, 0.4383]
    """
    n = np.atleast_1d(np.asarray(n, dtype=float))
    parts = []
    for level in levels:
        half = norm.ppf(0.5 + level / 2) * np.sqrt(between_var + sd ** 2 / n)
        parts.append(pd.DataFrame({"level": level, "n": n, "low": target - half, "high": target + half}))
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True)
class FunnelPosition:
    """Where the unit lies in the funnel: its point, the target and its own limits."""

    n: int
    estimate: float
    target: float
    sd: float  # within-school standard deviation s
    limits: pd.DataFrame  # funnel_limits at the unit's own n
    position: str  # "inside", "between" (outside 95 %, inside 99.8 %) or "outside"
    direction: Direction  # HIGHER or LOWER: the sign of estimate - target
    between_var: float = 0.0  # tau^2: the ordinary variance between schools the limits allow for


def funnel_position(um: UnitMeans, levels=FUNNEL_LEVELS) -> FunnelPosition | None:
    """The unit's point in the funnel around Limburg's adjusted mean over the period.

    ``None`` when the unit is below the threshold or Limburg's period is not shown. Uses only the
    unit's own period estimate and pupil count, Limburg's period mean and the spread within and
    between all schools of Limburg (:func:`school_spread`): nothing about any other single school.
    """
    if um.below_threshold or um.period(LIMBURG).suppressed:
        return None
    own, ref = um.period(UNIT), um.period(LIMBURG)
    n = int(own.n)
    spread = um.spread
    sd = spread.within_sd if spread is not None else um.residual_sd
    tau2 = spread.between_var if spread is not None else 0.0
    limits = funnel_limits(float(ref.estimate), sd, [n], levels, tau2)
    est = float(own.estimate)
    outside = [(est < r.low or est > r.high) for r in limits.itertuples()]
    position = "outside" if all(outside) else ("between" if any(outside) else "inside")
    return FunnelPosition(n, est, float(ref.estimate), sd, limits, position, direction(est - float(ref.estimate)), tau2)


# ----------------------------------------------------------------------------- answers
CATEGORY_ANSWERS = {"oneens": (1, 2), "neutraal": (3,), "eens": (4, 5)}


def answer_shares(frame: pd.DataFrame, min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Share of pupils (dis)agreeing per statement over the period, with disclosure control.

    Answers 1–2 are ``oneens``, 3 ``neutraal``, 4–5 ``eens``. A statement answered by fewer
    than ``min_cell`` pupils is hidden whole; a category with 1 to ``min_cell - 1`` pupils is
    hidden, and within a statement a second category when the hidden ones could be
    recovered from ``n`` (:func:`oml.stats.disclosure.secondary`).

    Returns a tidy frame: ``item, category, count, n, percent, suppressed``.

    Examples
    --------
    >>> df = pd.DataFrame({"item_a": pd.array([5] * 12 + [1] * 3 + [3] * 20, dtype="Int64")})
    >>> answer_shares(df)[["category", "suppressed"]].values.tolist()  # 3 pupils disagree; 12 hidden too, else 3 = 35 - 20 - 12
    [['oneens', True], ['neutraal', False], ['eens', True]]
    """
    # All pupils' answers (Limburg's, in every report) are counted once per dataset: at national scale a count
    # over every pupil per report is no small cost.
    pre = _prepared_for(frame)
    kept = pre.answers.get(int(min_cell)) if pre is not None else None
    if kept is None:
        items, counts, n = _answer_counts(frame)
        kept = _shares(items, counts, n, _answer_hidden(counts, n, np.zeros(counts.shape, dtype=bool), min_cell),
                       min_cell)
        if pre is not None:
            pre.answers[int(min_cell)] = kept
    return kept.copy()  # a copy: what a caller changes stays with that caller


def _answer_counts(frame: pd.DataFrame) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Statements, pupils per (statement, category) and pupils per statement who answered it."""
    items = item_columns(frame.columns)
    # Which answers make each category, as a (category x answer 0-5) 0/1 matrix.
    member = np.zeros((len(CATEGORY_ANSWERS), 6))
    for k, answers in enumerate(CATEGORY_ANSWERS.values()):
        member[k, list(answers)] = 1.0
    counts = np.zeros((len(items), len(CATEGORY_ANSWERS)))
    n = np.zeros(len(items))
    for i, item in enumerate(items):
        values = frame[item].to_numpy(dtype=float, na_value=np.nan)
        # Answers 1-5 counted in one pass (the contract guarantees whole numbers 1-5 or blank).
        per_answer = np.bincount(values[~np.isnan(values)].astype(np.int64), minlength=6)[:6]
        n[i] = per_answer.sum()
        counts[i] = member @ per_answer
    return items, counts, n


def _answer_hidden(counts: np.ndarray, n: np.ndarray, hidden: np.ndarray, min_cell: int) -> np.ndarray:
    """Hidden (statement, category) cells: ``hidden`` plus the primary rule, then secondary within each statement."""
    out = hidden.copy()
    for i in range(len(n)):
        if n[i] < min_cell:
            out[i] = True
        else:
            out[i] = secondary_mask(counts[i], out[i] | ((counts[i] > 0) & (counts[i] < min_cell)), min_cell)
    return out


def _shares(items: list[str], counts: np.ndarray, n: np.ndarray, hidden: np.ndarray, min_cell: int) -> pd.DataFrame:
    k = len(CATEGORY_ANSWERS)
    count, hidden = counts.reshape(-1), hidden.reshape(-1)
    n = np.repeat(n, k).astype(float)
    percent = np.where(n > 0, 100.0 * count / np.where(n > 0, n, 1.0), np.nan)  # nobody answered: no percentage
    return pd.DataFrame({
        "item": np.repeat(np.array(items, dtype=object), k),
        "category": np.tile(np.array(list(CATEGORY_ANSWERS), dtype=object), len(items)),
        "count": np.where(hidden, np.nan, count),
        "n": np.where(n >= min_cell, n, np.nan),
        "percent": np.where(hidden, np.nan, percent),
        "suppressed": hidden,
    })


def board_answer_shares(frame: pd.DataFrame, board: str, min_cell: int = MIN_CELL,
                        coverage: BoardCoverage | None = None) -> pd.DataFrame:
    """A board's answer shares: its shown schools' answers together, showing only what reveals no hidden count.

    The board's answers are those of :attr:`BoardCoverage.answer_schools` (a small school's answers
    would be the board's minus the others'). A school's report hides some categories of some
    statements, so the board's count of a category minus the counts the other schools show could
    give a hidden count. Per statement the board therefore shows all three categories, or one, or
    none: the first of these that passes :func:`_answers_reveal_nothing` — no sum of hidden school
    counts that the published numbers determine rests on 1 to ``min_cell - 1`` pupils — and the
    board's own rules (small counts hidden, hidden ones together at least ``min_cell``). Same
    columns as :func:`answer_shares`.

    Examples
    --------
    >>> answers = [1] * 3 + [3] * 12 + [5] * 15 + [1] * 10 + [3] * 10 + [5] * 10 + [5] * 3
    >>> df = pd.DataFrame({"school_id": ["a"] * 30 + ["b"] * 30 + ["c"] * 3, "board_id": "B", "year": 2024,
    ...                    "region": "R", "sex": "jongen", "age": 12.0, "parent_education": "laag", "index": 0.0,
    ...                    "item_a": pd.array(answers, dtype="Int64")})
    >>> shares = board_answer_shares(df, "B")  # c is small: not counted; a hides its 3 + 12, b shows 10/10/10
    >>> shares[["category", "count", "suppressed"]].values.tolist()  # 13 - 10 would give a's 3
    [['oneens', nan, True], ['neutraal', nan, True], ['eens', 25.0, False]]
    """
    coverage = coverage if coverage is not None else board_coverage(frame, board, min_cell)
    ids = frame["school_id"].astype("string")
    rows = ids.isin(coverage.answer_schools).fillna(False).to_numpy()
    items = item_columns(frame.columns)
    k = len(CATEGORY_ANSWERS)
    # Per school (of the answer schools), statement and category: the counts, in one pass.
    code, schools = pd.factorize(ids[rows].to_numpy())
    member = np.zeros((6, k))
    for j, answers in enumerate(CATEGORY_ANSWERS.values()):
        member[list(answers), j] = 1.0
    per_school = np.zeros((len(schools), len(items), k))
    values = frame.loc[rows, items].to_numpy(dtype=float, na_value=np.nan) if items else np.empty((0, 0))
    for i in range(len(items)):
        ok = ~np.isnan(values[:, i])
        per_answer = np.bincount(code[ok] * 6 + values[ok, i].astype(np.int64), minlength=6 * len(schools))
        per_school[:, i] = per_answer.reshape(len(schools), 6) @ member
    counts, n = per_school.sum(axis=0), per_school.sum(axis=(0, 2))
    hidden = np.ones(counts.shape, dtype=bool)
    for i in range(len(items)):
        if n[i] < min_cell:
            continue
        x = per_school[:, i]
        school_n = x.sum(axis=1)
        school_hidden = np.array([_answer_hidden(x[s:s + 1], school_n[s:s + 1], np.zeros((1, k), dtype=bool),
                                                 min_cell)[0] for s in range(len(schools))]).reshape(-1, k)
        order = np.argsort(-counts[i], kind="stable")  # one category alone: the largest first
        for shown in ([*range(k)], *([int(c)] for c in order)):
            hide = np.ones(k, dtype=bool)
            hide[shown] = False
            small = (counts[i] > 0) & (counts[i] < min_cell)
            own_rule = not (small & ~hide).any() and (not hide.any() or counts[i][hide].sum() >= min_cell)
            if own_rule and _answers_reveal_nothing(x, school_hidden, school_n >= min_cell, shown, min_cell):
                hidden[i] = hide
                break
    return _shares(items, counts, n, hidden, min_cell)


def _answers_reveal_nothing(x: np.ndarray, hidden: np.ndarray, row_known: np.ndarray, shown: list[int],
                            min_cell: int) -> bool:
    """Whether a board may show its totals of the categories ``shown`` of one statement.

    ``x`` (schools × categories) are the schools' counts, ``hidden`` what each school's own report
    hides, ``row_known`` whether a reader knows the school's number of pupils who answered (assumed
    whenever it reaches ``min_cell``, though the reports do not print it). A reader then knows: per
    school, the sum of its hidden counts; per shown category, the board's count minus the counts the
    schools show, i.e. the sum of the hidden counts of that category; and (the board's pupils being
    assumed known too) the sum of the hidden counts of the other categories together.

    A sum of hidden counts is determined exactly when its 0/1 coefficients are a combination of those
    equations: :math:`v_{sc} = \\alpha_s + \\beta_{g(c)}` on every hidden cell, with :math:`\\alpha_s = 0`
    for a school whose pupils are not known and :math:`g(c)` the category's group (each shown category
    its own, the others one). With three categories every such :math:`\\beta` lies in {-2, …, 2}; given
    :math:`\\beta`, each school's :math:`\\alpha_s` is forced or free between "none of its hidden cells"
    and "all of them" (which adds its hidden total, at least ``min_cell``). So the smallest determined
    sum for each :math:`\\beta` is found directly; it must be 0 or at least ``min_cell``.

    Examples
    --------
    >>> x = np.array([[3, 12, 15], [10, 10, 10]])  # school a hides 3 and 12; b hides nothing
    >>> h = np.array([[True, True, False], [False, False, False]])
    >>> _answers_reveal_nothing(x, h, np.array([True, True]), [0, 1, 2], 10)  # 13 - 10 = 3
    False
    >>> _answers_reveal_nothing(x, h, np.array([True, True]), [2], 10)
    True
    """
    rows = hidden.any(axis=1)
    x, hidden, row_known = x[rows].astype(float), hidden[rows], row_known[rows]
    if not len(x):
        return True
    k = x.shape[1]
    group = np.full(k, len(shown))
    group[shown] = np.arange(len(shown))
    n_groups = len(shown) + (len(shown) < k)
    betas = np.array(list(itertools.product(range(-2, 3), repeat=n_groups)), dtype=float)[:, group]  # (B, k)
    value = np.zeros(len(betas))
    valid = np.ones(len(betas), dtype=bool)
    for s in range(len(x)):
        b = betas[:, hidden[s]]  # (B, cells)
        cells = x[s, hidden[s]]
        if not row_known[s]:
            ok = np.isin(b, (0.0, 1.0)).all(axis=1)
            valid &= ok
            value += b @ cells
            continue
        options = [(-b[:, :1]) + b, (1 - b[:, :1]) + b]  # alpha = -beta_first or 1 - beta_first
        fits = [np.isin(v, (0.0, 1.0)).all(axis=1) for v in options]
        free = fits[0] & fits[1]  # all its betas equal: none or all of its cells (choose none: the smallest)
        forced = np.where(fits[0][:, None], options[0], options[1])
        valid &= fits[0] | fits[1]
        value += np.where(free, 0.0, forced @ cells)
    small = valid & (value >= 1) & (value < min_cell)
    return not small.any()


def board_schools(frame: pd.DataFrame, board: str, min_cell: int = MIN_CELL) -> pd.DataFrame:
    """The schools of a board and whether each meets the threshold, as its own report decides it.

    A school meets the threshold when it has at least ``min_cell`` pupils with an index over the
    period: all its pupils, also those of years it spent in another board (its own report counts
    them all). Returns ``school_id, meets_threshold`` in school-id order (no counts: a small
    school's size is not shown).

    Examples
    --------
    >>> df = pd.DataFrame({"school_id": ["a"] * 12 + ["b"] * 3, "board_id": "B", "index": 0.0})
    >>> board_schools(df, "B").values.tolist()
    [['a', True], ['b', False]]
    """
    pre = _prepared_for(frame)
    if pre is None:
        ids = frame["school_id"].astype(str)
        schools = sorted(ids[unit_mask(frame, "board", board)].unique())
        n = ids[frame["index"].notna() & ids.isin(schools)].value_counts().reindex(schools, fill_value=0).to_numpy()
    else:  # the same counts from the kept arrays (their rows are the pupils with an index), without a string pass
        schools = sorted(frame.loc[unit_mask(frame, "board", board), "school_id"].astype(str).unique())
        if pre.school_n is None:
            pre.school_n = np.bincount(pre.school_code, minlength=len(pre.school_ids))
        n = np.array([pre.school_n[pre.school_of[s]] if s in pre.school_of else 0 for s in schools], dtype=np.int64)
    return pd.DataFrame({"school_id": schools, "meets_threshold": n >= min_cell})
