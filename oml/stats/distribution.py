"""Answer distribution per statement (Figure 1)."""
from __future__ import annotations

import pandas as pd

from oml.data.codebook import not_asked
from oml.data.contract import ANSWER_RANGE, item_columns

POOLED = "totaal"


def answer_distribution(frame: pd.DataFrame) -> pd.DataFrame:
    """Percentage of each answer 1–5 per statement, pooled over all years and per year.

    Returns a tidy frame with one row per (period, item, answer): ``period`` (``"totaal"``
    for all years together, else the year), ``item``, ``answer``, ``count``, ``n`` (pupils
    who answered that statement in that period) and ``percent`` (``100 * count / n``).
    Blank answers are excluded from ``n``; ``percent`` sums to 100 per (period, item).

    A statement not asked in a year (:func:`oml.data.codebook.not_asked`) has no rows for that
    year (it is not a small cell to hide, and the years still add up to the pooled count), and
    no pooled rows when no year asked it.

    Examples
    --------
    >>> df = pd.DataFrame({"year": [2023, 2023, 2024], "item_a": pd.array([5, 4, None], dtype="Int64")})
    >>> d = answer_distribution(df)
    >>> d[(d.period == "totaal") & (d.answer >= 4)]["percent"].tolist()
    [50.0, 50.0]
    >>> sorted(set(d["period"].astype(str)))  # item_a was not asked in 2024
    ['2023', 'totaal']
    """
    items = item_columns(frame.columns)
    missing = not_asked(frame)
    all_years = {int(y) for y in frame["year"].unique()} if "year" in frame.columns else set()
    lo, hi = ANSWER_RANGE
    answers = list(range(lo, hi + 1))
    periods = [(POOLED, frame)] + [(int(y), g) for y, g in frame.groupby("year", sort=True)]
    rows = []
    for period, part in periods:
        for item in items:
            skipped = set(missing.get(item, ()))
            if (period == POOLED and skipped and skipped >= all_years) or (period != POOLED and period in skipped):
                continue
            counts = part[item].value_counts().reindex(answers, fill_value=0)
            n = int(counts.sum())
            for answer in answers:
                c = int(counts.loc[answer])
                rows.append({"period": period, "item": item, "answer": answer, "count": c, "n": n,
                             "percent": 100.0 * c / n if n else float("nan")})
    out = pd.DataFrame(rows, columns=["period", "item", "answer", "count", "n", "percent"])
    out["period"] = out["period"].astype(object)
    return out


def agreement(frame: pd.DataFrame, item: str, agree_from: int = 4) -> float:
    """Share (0–1) of pupils who answered ``item`` with ``agree_from`` or higher (4 or 5 = agree).

    Examples
    --------
    >>> agreement(pd.DataFrame({"item_a": [5, 4, 2, None]}), "item_a")
    0.6666666666666666
    """
    answered = frame[item].dropna()
    return float((answered >= agree_from).mean())
