"""Statistics of the private feedback report of one school or one board, with disclosure control.

Model. One OLS over all Limburg pupils with an index (as the public figures, but the cells
tell the unit apart from the rest): the standardised index on one indicator per
*year × part* cell plus the controls sex, age (linear) and parental education. The parts
are the unit (the school or board), the rest of the unit's region (schools only) and the
rest of Limburg. Region is not a control: the school sits in one region, so the comparison
with its region and with Limburg is the point.

Adjusted means. As in :mod:`oml.stats.models`, a group's value is the average counterfactual
prediction, :math:`g^\\top\\hat\\beta` with :math:`g` the pupil-weighted mean of its cells'
indicators and the sample mean of every control column: the unit is its own cell, its
region is the unit plus the rest of the region, Limburg is every cell of the year (the
period: of every year). Differences and their z-tests use :math:`\\sqrt{d^\\top V d}`.

Covariance. Sandwich (CR1) with the pupils of *other* schools clustered by school, and
every pupil of the unit a cluster of their own. The report is about this unit's pupils:
its own sampling error is the spread between its pupils, which a cluster-robust variance
with the unit as one cluster cannot estimate (the unit's cell residuals sum to zero, so
that cluster's score is zero and the unit's standard error would be too small). Region and
Limburg keep the school-clustered variance of the public figures.

Funnel. Around Limburg's adjusted mean over the period :math:`\\theta_0`, the control limits
for a unit of :math:`n` pupils are :math:`\\theta_0 \\pm z_{(1+c)/2}\\, s / \\sqrt{n}` with
:math:`s` the pupil-level residual standard deviation of the model (Spiegelhalter 2005,
normal approximation), for :math:`c` = 95 % and 99,8 %.

Disclosure control. A year with fewer than ``min_cell`` of the unit's pupils is not shown
on its own: its pupils count in the period. Because the years add up to the period, a
second year is hidden when the hidden ones could otherwise be recovered
(:func:`oml.stats.disclosure.secondary`). A unit with fewer than ``min_cell`` pupils over the
whole period shows nothing of its own. The region and Limburg are shown only when the
*other* schools in them number at least :data:`MIN_OTHER_SCHOOLS` with at least ``min_cell``
pupils, so no reader can subtract their own school and read another school's figure.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtr
from scipy.stats import norm

from oml.data.contract import item_columns
from oml.stats.comparisons import holm
from oml.stats.direction import Direction, direction
from oml.stats.disclosure import MIN_CELL, secondary_mask
from oml.stats.models import ols_cluster

KINDS = ("school", "board")
CONTROLS = ("sex", "age", "parent_education")
UNIT, REGION, LIMBURG = "unit", "region", "limburg"
PERIOD = "totaal"
#: Fewest other schools a reference group (region, Limburg) must hold to be shown.
MIN_OTHER_SCHOOLS = 3
FUNNEL_LEVELS = (0.95, 0.998)
TIDY = ["year", "group", "estimate", "se", "ci_low", "ci_high", "n", "suppressed"]
COLUMNS = ["family", "group_a", "year_a", "group_b", "year_b", "estimate", "se", "ci_low", "ci_high", "p", "p_holm",
           "significant"]
_ID_COLUMN = {"school": "school_id", "board": "board_id"}


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
    #: Pupil-level residual standard deviation of the model (the funnel's spread).
    residual_sd: float = float("nan")
    years: list[int] = field(default_factory=list)

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
    controls: np.ndarray  # control columns (sex and parental-education dummies, age)
    n_all: int  # rows of the frame (pupils with and without an index)
    #: Results of :func:`adjusted_unit_means` kept by :func:`remember`, by (kind, unit, level, min_cell).
    memo: dict = field(default_factory=dict)


_PREPARED: dict[int, tuple] = {}


def prepare(frame: pd.DataFrame) -> Prepared:
    """The model's shared arrays for ``frame`` (cached per frame object for the life of the process)."""
    import weakref

    # Same object, same length, same index values: an in-place change of the data is not served stale.
    stamp = (len(frame), float(np.nansum(frame["index"].to_numpy(dtype=float))))
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
    prepared = Prepared(
        index=data["index"].to_numpy(dtype=float),
        year=data["year"].astype("int64").to_numpy(),
        region=data["region"].astype(str).to_numpy(),
        school=school,
        board=data["board_id"].astype(str).to_numpy() if "board_id" in data else None,
        school_code=pd.factorize(school)[0],
        controls=np.hstack(blocks),
        n_all=len(frame),
    )
    try:
        _PREPARED.clear()  # one dataset at a time: a build holds one
        _PREPARED[id(frame)] = (weakref.ref(frame), prepared, stamp)
    except TypeError:  # an object without weak references: just do not cache
        pass
    return prepared


_PARTS = (UNIT, REGION, LIMBURG)
_MEMBERS = {UNIT: (UNIT,), REGION: (UNIT, REGION), LIMBURG: (UNIT, REGION, LIMBURG)}


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
        ``table`` (``year, group, estimate, se, ci_low, ci_high, n, suppressed``; groups ``unit``,
        ``region``, ``limburg``; ``year`` ``"totaal"`` = the period) and the comparisons.

    Examples
    --------
    >>> from oml.data.synth import generate
    >>> from oml.stats.index import add_index
    >>> df = add_index(generate(n=1500, seed=4, history=False))
    >>> um = adjusted_unit_means(df, "school", df["school_id"].iloc[0])
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


def _adjusted_unit_means(frame: pd.DataFrame, pre: Prepared, kind: str, unit: str, level: float,
                         min_cell: int) -> UnitMeans:
    mask_all = unit_mask(frame, kind, unit)
    region = unit_region(frame, mask_all) if kind == "school" else None
    own = (pre.school if kind == "school" else pre.board) == str(unit)
    # Part of every pupil: 0 = the unit, 1 = the rest of its region, 2 = the rest of Limburg.
    part = np.full(len(own), 2)
    if region is not None:
        part[pre.region == region] = 1
    part[own] = 0
    years = sorted(int(y) for y in np.unique(pre.year))
    year_code = np.searchsorted(years, pre.year)
    codes = year_code * 3 + part
    # Observed cells and each pupil's cell number (codes are small integers: a lookup, no sort).
    cells = np.flatnonzero(np.bincount(codes, minlength=3 * len(years)))
    lookup = np.zeros(3 * len(years), dtype=np.int64)
    lookup[cells] = np.arange(len(cells))
    index = lookup[codes]
    x = np.zeros((len(codes), len(cells) + pre.controls.shape[1]))
    x[np.arange(len(codes)), index] = 1.0
    x[:, len(cells):] = pre.controls
    # Clusters: schools for the other pupils; each of the unit's pupils is a cluster of their own.
    n_schools = int(pre.school_code.max()) + 1 if len(pre.school_code) else 0
    clusters = np.where(own, n_schools + np.arange(len(own)), pre.school_code)
    params, cov = ols_cluster(x, pre.index, clusters)
    resid = pre.index - x @ params
    residual_sd = float(np.sqrt(resid @ resid / (x.shape[0] - x.shape[1])))
    control_means = x[:, len(cells):].mean(axis=0)
    n_cell = np.bincount(index, minlength=len(cells))
    cell_year = [years[c // 3] for c in cells]
    cell_part = [_PARTS[c % 3] for c in cells]
    groups = [UNIT, REGION, LIMBURG] if region is not None else [UNIT, LIMBURG]
    # Other schools behind each cell (pupils with an index), for the "other schools" rule.
    pairs = np.unique(index[~own] * (n_schools + 1) + pre.school_code[~own])
    schools_per_cell = np.bincount(pairs // (n_schools + 1), minlength=len(cells))
    schools_by_period = {p: len(np.unique(pre.school_code[(~own) & (part == k)])) for k, p in enumerate(_PARTS)}

    rows, grads = [], []
    for year in [*years, PERIOD]:
        for group in groups:
            members = [j for j in range(len(cells))
                       if (year == PERIOD or cell_year[j] == year) and cell_part[j] in _MEMBERS[group]]
            n = int(n_cell[members].sum()) if members else 0
            g = np.zeros(x.shape[1])
            if n:
                g[members] = n_cell[members] / n
                g[len(cells):] = control_means
            other_pupils = int(sum(n_cell[j] for j in members if cell_part[j] != UNIT))
            others = [p for p in _MEMBERS[group] if p != UNIT]
            if year == PERIOD:
                other_schools = sum(schools_by_period[p] for p in others)
            else:
                other_schools = int(sum(schools_per_cell[j] for j in members if cell_part[j] != UNIT))
            rows.append({"year": year, "group": group, "n": n, "other_pupils": other_pupils, "other_schools": other_schools})
            grads.append(g)
    grads = np.array(grads)
    table = pd.DataFrame(rows)
    estimate = grads @ params
    se = np.sqrt(np.einsum("ij,jk,ik->i", grads, cov, grads))
    z = norm.ppf(0.5 + level / 2)
    table["estimate"], table["se"] = estimate, se
    table["ci_low"], table["ci_high"] = estimate - z * se, estimate + z * se

    hidden, pooled, protecting = _disclosure(table, min_cell)
    for c in ("estimate", "se", "ci_low", "ci_high"):
        table.loc[hidden, c] = np.nan
    table["n"] = table["n"].astype("float64").where(~hidden)
    table["suppressed"] = hidden
    table["year"] = table["year"].astype(object)
    comparisons = _compare(table, grads, params, cov, level, years, groups)
    return UnitMeans(kind, str(unit), region, level, min_cell, table[TIDY].reset_index(drop=True), comparisons,
                     pooled, protecting, residual_sd, years)


def _disclosure(table: pd.DataFrame, min_cell: int) -> tuple[np.ndarray, list[int], list[int]]:
    """Hidden cells: the unit's small years (+ protecting years), and references without enough other schools."""
    year = table["year"].to_numpy()
    n = table["n"].to_numpy(dtype=float)
    is_period = np.array([str(y) == PERIOD for y in year])
    unit = table["group"].to_numpy() == UNIT
    hidden = np.zeros(len(table), dtype=bool)
    # The unit over the period: below the threshold, nothing of it is shown.
    unit_hidden = bool(n[unit & is_period][0] < min_cell)
    rows = np.flatnonzero(unit & ~is_period)  # the unit's years, in table order
    counts = n[rows]
    small = counts < min_cell
    protect = np.zeros(len(rows), dtype=bool)
    if unit_hidden:
        hidden[unit] = True
        small &= counts > 0
    else:
        # Years add up to the published period: hide another year if a hidden one could be recovered.
        # An empty year reveals nothing and protects nothing.
        nonempty = counts > 0
        protect[nonempty] = secondary_mask(counts[nonempty], small[nonempty], min_cell) & ~small[nonempty]
        hidden[rows] = small | protect
    pooled = [int(year[r]) for r in rows[small & (counts > 0)]]
    protecting = [int(year[r]) for r in rows[protect]]
    # References: enough other pupils and schools, or the unit's own figure could be subtracted out.
    too_few = ((table["other_pupils"].to_numpy() < min_cell) | (table["other_schools"].to_numpy() < MIN_OTHER_SCHOOLS)
               | (n < min_cell))
    hidden[~unit & too_few] = True
    return hidden, pooled, protecting


def _test(grads, params, cov, a: int, b: int, z: float) -> dict:
    d = grads[a] - grads[b]
    est = float(d @ params)
    se = float(np.sqrt(d @ cov @ d))
    # ndtr(-x) is exactly norm.sf(x) (scipy's own definition), without the distribution object's per-call cost.
    p = float(2 * ndtr(-abs(est) / se))
    return {"estimate": est, "se": se, "ci_low": est - z * se, "ci_high": est + z * se, "p": p}


def _compare(table: pd.DataFrame, grads, params, cov, level: float, years: list[int], groups: list[str]) -> pd.DataFrame:
    """Unit minus reference per shown year and over the period; the unit's last minus first shown year.

    Families, Holm-adjusted within each: ``limburg`` and ``region`` (one test per year, per
    reference), ``period`` (one test per reference: each is its own question, and its sentence
    shows its interval, which must agree with the test), ``first_last`` (one test).
    ``estimate`` is ``group_a`` minus ``group_b`` (the unit minus the reference; later minus earlier).
    """
    z = norm.ppf(0.5 + level / 2)
    where = {(str(y), g): i for i, (y, g) in enumerate(zip(table["year"], table["group"]))}
    shown = ~table["suppressed"].to_numpy()
    rows = []

    def add(family, ga, ya, gb, yb):
        a, b = where[(str(ya), ga)], where[(str(yb), gb)]
        if shown[a] and shown[b]:
            rows.append({"family": family, "group_a": ga, "year_a": ya, "group_b": gb, "year_b": yb,
                         **_test(grads, params, cov, a, b, z)})

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
    families: dict[tuple[str, str], list[int]] = {}
    for k, row in enumerate(rows):
        families.setdefault((row["family"], row["group_b"]), []).append(k)
    p_holm = np.full(len(rows), np.nan)
    for members in families.values():
        p_holm[members] = holm(np.array([rows[k]["p"] for k in members]))
    out = pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in ("p_holm", "significant")])
    out["p_holm"] = p_holm
    out["significant"] = p_holm < 1 - level
    return out[COLUMNS]


# ----------------------------------------------------------------------------- funnel
def funnel_limits(target: float, sd: float, n, levels=FUNNEL_LEVELS) -> pd.DataFrame:
    """Control limits of a funnel plot: :math:`\\theta_0 \\pm z_{(1+c)/2}\\, s/\\sqrt{n}` per level :math:`c`.

    Examples
    --------
    >>> f = funnel_limits(0.0, 1.0, [25, 100], levels=(0.95,))
    >>> [round(v, 4) for v in f["high"]]
    [0.392, 0.196]
    """
    n = np.atleast_1d(np.asarray(n, dtype=float))
    parts = []
    for level in levels:
        half = norm.ppf(0.5 + level / 2) * sd / np.sqrt(n)
        parts.append(pd.DataFrame({"level": level, "n": n, "low": target - half, "high": target + half}))
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True)
class FunnelPosition:
    """Where the unit lies in the funnel: its point, the target and its own limits."""

    n: int
    estimate: float
    target: float
    sd: float
    limits: pd.DataFrame  # funnel_limits at the unit's own n
    position: str  # "inside", "between" (outside 95 %, inside 99.8 %) or "outside"
    direction: Direction  # HIGHER or LOWER: the sign of estimate - target


def funnel_position(um: UnitMeans, levels=FUNNEL_LEVELS) -> FunnelPosition | None:
    """The unit's point in the funnel around Limburg's adjusted mean over the period (``None`` below the threshold).

    Uses only the unit's own period estimate and pupil count, Limburg's period mean and the
    model's residual sd: nothing about any other school.
    """
    if um.below_threshold:
        return None
    own, ref = um.period(UNIT), um.period(LIMBURG)
    n = int(own.n)
    limits = funnel_limits(float(ref.estimate), um.residual_sd, [n], levels)
    est = float(own.estimate)
    outside = [(est < r.low or est > r.high) for r in limits.itertuples()]
    position = "outside" if all(outside) else ("between" if any(outside) else "inside")
    return FunnelPosition(n, est, float(ref.estimate), um.residual_sd, limits, position,
                          direction(est - float(ref.estimate)))


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
    items = item_columns(frame.columns)
    categories = list(CATEGORY_ANSWERS)
    # Which answers make each category, as a (category x answer 0-5) 0/1 matrix.
    member = np.zeros((len(categories), 6))
    for k, answers in enumerate(CATEGORY_ANSWERS.values()):
        member[k, list(answers)] = 1.0
    count_rows, n_rows, hidden_rows = [], [], []
    for item in items:
        values = frame[item].to_numpy(dtype=float, na_value=np.nan)
        # Answers 1-5 counted in one pass (the contract guarantees whole numbers 1-5 or blank).
        per_answer = np.bincount(values[~np.isnan(values)].astype(np.int64), minlength=6)[:6]
        n = int(per_answer.sum())
        counts = member @ per_answer
        if n < min_cell:
            hidden = np.ones(len(categories), dtype=bool)
        else:
            hidden = secondary_mask(counts, (counts > 0) & (counts < min_cell), min_cell)
        count_rows.append(counts)
        n_rows.append(np.full(len(categories), n))
        hidden_rows.append(hidden)
    count = np.concatenate(count_rows) if items else np.empty(0)
    n = np.concatenate(n_rows).astype(float) if items else np.empty(0)
    hidden = np.concatenate(hidden_rows) if items else np.empty(0, dtype=bool)
    percent = np.where(n > 0, 100.0 * count / np.where(n > 0, n, 1.0), np.nan)  # nobody answered: no percentage
    return pd.DataFrame({
        "item": np.repeat(np.array(items, dtype=object), len(categories)),
        "category": np.tile(np.array(categories, dtype=object), len(items)),
        "count": np.where(hidden, np.nan, count),
        "n": np.where(n >= min_cell, n, np.nan),
        "percent": np.where(hidden, np.nan, percent),
        "suppressed": hidden,
    })


def board_schools(frame: pd.DataFrame, board: str, min_cell: int = MIN_CELL) -> pd.DataFrame:
    """The schools of a board and whether each meets the threshold (pupils with an index over the period).

    Returns ``school_id, meets_threshold`` in school-id order (no counts: a small school's size is not shown).

    Examples
    --------
    >>> df = pd.DataFrame({"school_id": ["a"] * 12 + ["b"] * 3, "board_id": "B", "index": 0.0})
    >>> board_schools(df, "B").values.tolist()
    [['a', True], ['b', False]]
    """
    part = frame[unit_mask(frame, "board", board)]
    n = part[part["index"].notna()].groupby(part["school_id"].astype(str)).size()
    schools = sorted(part["school_id"].astype(str).unique())
    n = n.reindex(schools, fill_value=0)
    return pd.DataFrame({"school_id": schools, "meets_threshold": (n >= min_cell).to_numpy()})
