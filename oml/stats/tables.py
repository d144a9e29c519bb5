"""Who is in the data: Table 1 (counts and percentages by sex, parental education and region), and
how often parental education is unknown ("onbekend") and whether that depends on the school.

"Onbekend" is no level of education: it says the data hold none for the pupil. Where it comes from
matters for how the figures can be read (:mod:`oml.stats.comparisons` draws it but never compares it),
so the methods chapter shows it in the open: :func:`unknown_share` per year, region and school size
class, and :func:`unknown_by_school`, which counts the schools where (almost) every pupil or (almost)
none has "onbekend" against what chance alone would give if "onbekend" did not depend on the school.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import binom

from oml.data.contract import CATEGORIES, LABELS, VARIABLE_LABELS
from oml.stats.disclosure import MIN_CELL, primary, secondary, suppress

#: The category of parental education that says it is unknown.
UNKNOWN = "onbekend"
#: School size classes: groep-8 pupils of the school per year (its pupils in the data divided by its years there).
SIZE_BOUNDS = (15, 30)
#: A school where at least this share of the pupils has "onbekend" counts as "(almost) all unknown";
#: at most 1 minus it, as "(almost) none".
SCHOOL_SHARE = 0.9
#: "More than chance" when chance alone gives at least this many such schools with at most this probability.
CHANCE_P = 0.001


def table1(frame: pd.DataFrame, min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Counts and percentages of pupils per category, all years together, with disclosure control.

    Returns a tidy frame: ``variable``, ``group`` (canonical category), ``label`` (Dutch),
    ``n``, ``percent`` (of all pupils, unrounded) and ``suppressed``; a final row with
    ``variable == "totaal"`` holds N. Categories with fewer than ``min_cell`` pupils are
    suppressed, with secondary suppression so that they cannot be recovered from N.

    Examples
    --------
    >>> from oml.data.synth import generate
    >>> t = table1(generate(n=1000, seed=1, history=False))
    >>> t.loc[t.variable == "totaal", "n"].item()
    1000.0
    """
    total = len(frame)
    parts = []
    for variable, categories in CATEGORIES.items():
        counts = frame[variable].value_counts().reindex(list(categories), fill_value=0)
        part = pd.DataFrame(
            {
                "variable": variable,
                "variable_label": VARIABLE_LABELS[variable].capitalize(),
                "group": list(categories),
                "label": [LABELS[c] for c in categories],
                "n": counts.to_numpy(),
                "percent": 100.0 * counts.to_numpy() / total,
            }
        )
        hidden = secondary(part["n"], primary(part["n"], min_cell), min_cell)
        parts.append(suppress(part, hidden, ["n", "percent"]))
    parts.append(pd.DataFrame([{"variable": "totaal", "variable_label": "Totaal", "group": "totaal", "label": "Totaal",
                                "n": float(total), "percent": 100.0, "suppressed": total < min_cell}]))
    return pd.concat(parts, ignore_index=True)


def size_labels(bounds: tuple[int, ...] = SIZE_BOUNDS) -> list[str]:
    """The school size classes in words, smallest first.

    Examples
    --------
    >>> size_labels((15, 30))
    ['minder dan 15', '15 tot 30', '30 of meer']
    """
    out = [f"minder dan {bounds[0]}"]
    out += [f"{a} tot {b}" for a, b in zip(bounds[:-1], bounds[1:])]
    return out + [f"{bounds[-1]} of meer"]


def school_size_class(frame: pd.DataFrame, bounds: tuple[int, ...] = SIZE_BOUNDS) -> pd.Series:
    """Per pupil, the size class of their school: its pupils in ``frame`` per year it took part (:func:`size_labels`).

    Examples
    --------
    >>> df = pd.DataFrame({"school_id": ["a"] * 20 + ["b"] * 70, "year": [2023] * 10 + [2024] * 10 + [2024] * 70})
    >>> school_size_class(df).drop_duplicates().tolist()
    ['minder dan 15', '30 of meer']
    """
    school = frame["school_id"].astype(str)
    per_year = school.map(school.value_counts() / frame.groupby(school)["year"].nunique())
    codes = np.searchsorted(np.asarray(bounds, dtype=float), per_year.to_numpy(dtype=float), side="right")
    labels = size_labels(bounds)
    return pd.Series(pd.Categorical.from_codes(codes, labels), index=frame.index, name="school_size")


def unknown_share(frame: pd.DataFrame, min_cell: int = MIN_CELL, bounds: tuple[int, ...] = SIZE_BOUNDS) -> pd.DataFrame:
    """Share of pupils whose parental education is "onbekend": in all, per year, per region and per school size class.

    Tidy: ``variable`` (``"totaal"``, ``"year"``, ``"region"``, ``"school_size"``), ``group``, ``pupils``,
    ``unknown`` (pupils with "onbekend"), ``percent`` (unrounded) and ``suppressed``. Disclosure
    control: a share is hidden when its cell has fewer than ``min_cell`` pupils, or when 1 to
    ``min_cell − 1`` of them have "onbekend" or a known education (the share and the cell's published
    total would give that count); then, within each variable (whose cells add up to the total), a
    second one where the hidden count could be recovered by subtraction.

    Examples
    --------
    >>> from oml.data.synth import generate
    >>> t = unknown_share(generate(n=1000, seed=1, history=False))
    >>> t.loc[t["variable"] == "totaal", "percent"].round(1).item(), t["variable"].unique().tolist()
    (62.6, ['totaal', 'year', 'region', 'school_size'])
    """
    unknown = (frame["parent_education"].astype(str) == UNKNOWN).astype(int)
    columns = {"year": frame["year"].astype(int), "region": frame["region"], "school_size": school_size_class(frame, bounds)}
    parts = [pd.DataFrame({"variable": ["totaal"], "group": ["totaal"], "pupils": [len(frame)], "unknown": [int(unknown.sum())]})]
    for variable, values in columns.items():
        counts = unknown.groupby(values, observed=False).agg(["size", "sum"])
        counts = counts[counts["size"] > 0]  # a class no pupil is in is not shown (nothing hidden there)
        parts.append(pd.DataFrame({"variable": variable, "group": [str(g) for g in counts.index],
                                   "pupils": counts["size"].to_numpy(), "unknown": counts["sum"].to_numpy()}))
    parts = [p.assign(percent=100.0 * p["unknown"] / p["pupils"].where(p["pupils"] > 0)) for p in parts]
    out = []
    for part in parts:
        known = part["pupils"] - part["unknown"]
        small = primary(part["pupils"], min_cell) | ((part["unknown"] > 0) & (part["unknown"] < min_cell)) \
            | ((known > 0) & (known < min_cell))
        if part["variable"].iat[0] != "totaal":
            small = secondary(part["unknown"], small, min_cell) | small
        out.append(suppress(part, small, ["unknown", "percent"]))
    return pd.concat(out, ignore_index=True)


def _at_least(probabilities: np.ndarray, k: int) -> float:
    """P(at least ``k`` successes) of independent Bernoulli trials with these ``probabilities`` (Poisson binomial).

    Exact, by the convolution recursion over the trials, kept to the counts below ``k``:
    :math:`1 - P(K \\le k - 1)` (so the cost grows with ``k``, not with the number of trials squared).

    Examples
    --------
    >>> round(_at_least(np.array([0.5, 0.5]), 1), 4), _at_least(np.array([0.5]), 0)
    (0.75, 1.0)
    """
    if k <= 0:
        return 1.0
    below = np.zeros(k)  # P(K = 0), ..., P(K = k - 1) over the trials so far
    below[0] = 1.0
    for q in probabilities:
        below[1:] = below[1:] * (1 - q) + below[:-1] * q
        below[0] *= 1 - q
    return float(min(1.0, max(0.0, 1.0 - below.sum())))


def unknown_by_school(frame: pd.DataFrame, share: float = SCHOOL_SHARE, min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Schools by their share of pupils with "onbekend", against what chance alone would give.

    Three rows (``kind``): ``"all"`` — schools where at least ``share`` of the pupils have "onbekend"
    ("(almost) all"); ``"none"`` — at most ``1 − share`` ("(almost) none"); ``"mixed"`` — the rest. Each
    with ``schools``, ``pupils``, ``unknown`` (their pupils with "onbekend"), ``percent_of_unknown``
    (the share of all pupils with "onbekend" that sit in those schools), ``expected`` — the number of
    such schools if every pupil had "onbekend" independently with the overall share (binomial per
    school, summed) — and ``p_chance``, the probability of at least this many such schools under that
    independence (Poisson binomial, exact), and ``more_than_chance`` (``p_chance < CHANCE_P``; never for
    ``"mixed"``). Pupil counts of 1 to ``min_cell − 1`` are hidden, and a second row where the hidden
    one could be recovered from the total.

    Examples
    --------
    >>> from oml.data.synth import generate
    >>> df = generate(n=1200, seed=2, history=False)
    >>> unknown_by_school(df)["more_than_chance"].tolist()  # the generator draws "onbekend" for pupils, not schools
    [False, False, False]
    >>> whole = df["school_id"].isin(df["school_id"].unique()[::3])
    >>> df["parent_education"] = df["parent_education"].where(~whole, "onbekend")
    >>> unknown_by_school(df)["more_than_chance"].tolist()
    [True, False, False]
    """
    unknown = (frame["parent_education"].astype(str) == UNKNOWN).astype(int)
    per_school = unknown.groupby(frame["school_id"].astype(str)).agg(["size", "sum"])
    m = per_school["size"].to_numpy()
    k = per_school["sum"].to_numpy()
    p = k.sum() / m.sum()
    # "At least share" and "at most 1 - share" in integers, so that no rounding decides a school's class.
    lowest_all = np.ceil(share * m - 1e-9).astype(int)
    highest_none = np.floor((1 - share) * m + 1e-9).astype(int)
    kinds = {
        "all": (k >= lowest_all, binom.sf(lowest_all - 1, m, p)),
        "none": (k <= highest_none, binom.cdf(highest_none, m, p)),
    }
    kinds["mixed"] = (~(kinds["all"][0] | kinds["none"][0]), None)
    rows = []
    for kind, (mask, chance) in kinds.items():
        expected = float(np.sum(chance)) if chance is not None else math.nan
        p_chance = _at_least(np.asarray(chance), int(mask.sum())) if chance is not None else math.nan
        rows.append({"kind": kind, "schools": int(mask.sum()), "pupils": int(m[mask].sum()), "unknown": int(k[mask].sum()),
                     "percent_of_unknown": 100.0 * k[mask].sum() / k.sum() if k.sum() else math.nan,
                     "expected": expected, "p_chance": p_chance,
                     "more_than_chance": bool(chance is not None and mask.sum() > 0 and p_chance < CHANCE_P)})
    out = pd.DataFrame(rows)
    hidden = secondary(out["pupils"], (out["pupils"] > 0) & (out["pupils"] < min_cell), min_cell)
    return suppress(out, hidden, ["pupils", "unknown", "percent_of_unknown"])
