"""Answer distribution per statement (Figure 1)."""
from __future__ import annotations

import pandas as pd

from oml.data.contract import ANSWER_RANGE, item_columns

POOLED = "totaal"


def answer_distribution(frame: pd.DataFrame) -> pd.DataFrame:
    """Percentage of each answer 1–5 per statement, pooled over all years and per year.

    Returns a tidy frame with one row per (period, item, answer): ``period`` (``"totaal"``
    for all years together, else the year), ``item``, ``answer``, ``count``, ``n`` (pupils
    who answered that statement in that period) and ``percent`` (``100 * count / n``).
    Blank answers are excluded from ``n``; ``percent`` sums to 100 per (period, item).

    Examples
    --------
    >>> df = pd.DataFrame({"year": [2023, 2023, 2024], "item_a": pd.array([5, 4, None], dtype="Int64")})
    >>> d = answer_distribution(df)
    >>> d[(d.period == "totaal") & (d.answer >= 4)]["percent"].tolist()
    [50.0, 50.0]
    """
    items = item_columns(frame.columns)
    lo, hi = ANSWER_RANGE
    answers = list(range(lo, hi + 1))
    periods = [(POOLED, frame)] + [(int(y), g) for y, g in frame.groupby("year", sort=True)]
    rows = []
    for period, part in periods:
        for item in items:
            counts = part[item].value_counts().reindex(answers, fill_value=0)
            n = int(counts.sum())
            for answer in answers:
                c = int(counts.loc[answer])
                rows.append({"period": period, "item": item, "answer": answer, "count": c, "n": n,
                             "percent": 100.0 * c / n if n else float("nan")})
    out = pd.DataFrame(rows)
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
