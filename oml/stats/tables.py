"""Table 1: who is in the data — counts and percentages by sex, parental education and region."""
from __future__ import annotations

import pandas as pd

from oml.data.contract import CATEGORIES, LABELS, VARIABLE_LABELS
from oml.stats.disclosure import MIN_CELL, primary, secondary, suppress


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
