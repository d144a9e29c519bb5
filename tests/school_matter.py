"""Test data where parental education "onbekend" is a matter of the school, not of the parents (issue 24).

In a realistic extract some schools deliver no parental education at all and the others deliver it for
(nearly) every pupil: "onbekend" then says which school a pupil attends, and a model that treats it as a
kind of parent can find a "difference" the data do not hold.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

#: The known categories and their shares among the pupils of a school that delivers them.
KNOWN = (["mbo of lager", "hbo", "wo"], [0.4, 0.38, 0.22])


def unknown_by_school(frame: pd.DataFrame, share: float = 0.45, seed: int = 24) -> pd.DataFrame:
    """A copy of ``frame`` in which ``share`` of the schools deliver no parental education and the others all.

    The pupils of the other schools who were "onbekend" get a known category drawn with :data:`KNOWN`.

    Examples
    --------
    >>> f = pd.DataFrame({"school_id": list("aabbcc"), "parent_education": ["onbekend", "hbo"] * 3})
    >>> out = unknown_by_school(f, share=0.34, seed=1)
    >>> int(out.groupby("school_id")["parent_education"].apply(lambda s: (s == "onbekend").all()).sum())
    1
    """
    out = frame.copy()
    rng = np.random.default_rng(seed)
    schools = out["school_id"].unique()
    none = rng.choice(schools, int(share * len(schools)), replace=False)
    delivered = ~out["school_id"].isin(none)
    unknown = out["parent_education"].astype(str) == "onbekend"
    fill = pd.Series(rng.choice(KNOWN[0], len(out), p=KNOWN[1]), index=out.index)
    out.loc[delivered & unknown, "parent_education"] = fill[delivered & unknown]
    out.loc[~delivered, "parent_education"] = "onbekend"
    return out
