"""School boards (besturen) and invented names for the synthetic data.

The real OML extract can carry ``board_id``, ``school_name`` and ``board_name`` (optional
columns of :mod:`oml.data.contract`); the synthetic data get them here, so the private
feedback reports (one per school and per board) can be built and demonstrated.

The boards are a plausible mix, as in Limburg: many boards with one school, some with a
handful, and a few large boards with 10–25 schools. A board takes consecutive school
numbers, and the generator numbers schools region by region, so most boards lie within one
region and some span two. Every name starts with "Synthetische"/"Synthetisch": no one can
mistake them for real schools or boards.

This draws from its *own* random stream (a seed sequence derived from the dataset's seed
and a fixed tag), after the pupil data are complete: no existing column or row changes, so
every number of the public report stays exactly the same.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from oml.data import SYNTHETIC_PREFIX

#: Tag mixed into the dataset seed: an independent stream, whatever the generator draws.
STREAM_TAG = 0xB0A2D
#: Board size mix: share of schools in one-school boards, schools per large board, size of the others.
SINGLE_SHARE = 0.10
SCHOOLS_PER_LARGE_BOARD = 30  # one large board per this many schools
LARGE_SIZES = (10, 25)
MEDIUM_SIZES = (2, 10)

_KINDS = ("Synthetische basisschool", "Synthetisch kindcentrum", "Synthetische Montessorischool",
          "Synthetische Jenaplanschool", "Synthetische Daltonschool", "Synthetisch integraal kindcentrum")
_NOUNS = (
    "De Esdoorn", "De Vlinderboom", "Het Kompas", "De Regenboog", "De Zonnewijzer", "Het Klavertje",
    "De Linde", "De Kastanje", "De Wilgenhoek", "Het Vogelnest", "De Meidoorn", "De Notelaar",
    "De Beuk", "De Zwaluw", "De Lijster", "Het Palet", "De Windroos", "De Vuurtoren", "De Uitkijk",
    "Het Anker", "De Ster", "De Maasoever", "De Heuvelrand", "Het Beekdal", "De Kersenboom",
    "De Hazelaar", "De Ooievaar", "Het Lover", "De Spreeuw", "De Sleutelbloem", "De Vlier",
    "De Korenbloem", "Het Mozaïek", "De Brug",
)
_BOARDS = (
    "Heuvelland", "Maasdal", "Geuldal", "Roerstreek", "Peelrand", "Kempenrand", "Mergelland", "Beekdal",
    "Wormdal", "Swalmdal", "Leudal", "Graetheide", "Bocholtz", "Plateau", "Kasteelroute", "Vijverpark",
)


def board_sizes(n_schools: int, rng: np.random.Generator) -> list[int]:
    """Number of schools per board, adding up to ``n_schools``, in a shuffled order.

    About :data:`SINGLE_SHARE` of the schools are a board on their own; one large board of
    :data:`LARGE_SIZES` schools per :data:`SCHOOLS_PER_LARGE_BOARD` schools; the rest in boards
    of :data:`MEDIUM_SIZES` schools (the last one takes what is left).

    Examples
    --------
    >>> sizes = board_sizes(170, np.random.default_rng(1))
    >>> sum(sizes), max(sizes) <= 25, sizes.count(1) >= 17
    (170, True, True)
    """
    if n_schools < 1:
        raise ValueError(f"n_schools must be at least 1, not {n_schools}")
    singles = max(1, round(n_schools * SINGLE_SHARE))
    sizes = [1] * min(singles, n_schools)
    left = n_schools - len(sizes)
    for _ in range(n_schools // SCHOOLS_PER_LARGE_BOARD):
        size = int(rng.integers(LARGE_SIZES[0], LARGE_SIZES[1] + 1))
        if size > left:
            break
        sizes.append(size)
        left -= size
    while left > 0:
        size = min(left, int(rng.integers(MEDIUM_SIZES[0], MEDIUM_SIZES[1] + 1)))
        sizes.append(size)
        left -= size
    return [int(s) for s in rng.permutation(sizes)]


def _names(count: int, parts: list[tuple[str, ...]], template: str) -> list[str]:
    """``count`` distinct names from the product of ``parts``, numbered once the product runs out."""
    combos = [template.format(*combo) for combo in _product(parts)]
    out = []
    for k in range(count):
        base = combos[k % len(combos)]
        out.append(base if k < len(combos) else f"{base} {k // len(combos) + 1}")
    return out


def _product(parts):
    # Nouns vary fastest, so the first names are all "basisschool …" and look ordinary.
    import itertools

    return [tuple(reversed(c)) for c in itertools.product(*reversed(parts))]


def assign_boards(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Copy of ``frame`` with ``board_id``, ``school_name`` and ``board_name`` for every school.

    Parameters
    ----------
    frame : DataFrame
        Pupil data with ``school_id`` (synthetic ids ``SYN-S0001``, … numbered by region).
    seed : int
        The dataset's seed; the boards use their own stream ``SeedSequence([seed, STREAM_TAG])``.

    Returns
    -------
    DataFrame
        The same rows and columns, plus the three columns (``string``) after ``region``.

    Examples
    --------
    >>> from oml.data.synth import generate
    >>> df = generate(n=400, seed=3)
    >>> int(df.groupby("school_id")["board_id"].nunique().max())
    1
    >>> df["school_name"].iloc[0].startswith("Synthetisch")
    True
    """
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), STREAM_TAG]))
    schools = sorted(frame["school_id"].astype(str).unique())
    sizes = board_sizes(len(schools), rng)
    prefix = SYNTHETIC_PREFIX if all(s.startswith(SYNTHETIC_PREFIX) for s in schools) else ""
    board_of = {}
    start = 0
    for b, size in enumerate(sizes):
        for school in schools[start:start + size]:
            board_of[school] = f"{prefix}B{b + 1:03d}"
        start += size
    # Names are drawn in a shuffled order so neighbouring schools do not get neighbouring names.
    school_names = _names(len(schools), [_KINDS, _NOUNS], "{0} {1}")
    school_names = [school_names[i] for i in rng.permutation(len(school_names))]
    board_names = _names(len(sizes), [_BOARDS], "Synthetisch bestuur {0}")
    school_name = dict(zip(schools, school_names))
    ids = frame["school_id"].astype(str)
    out = frame.copy()
    position = list(out.columns).index("region") + 1
    board = ids.map(board_of)
    out.insert(position, "board_id", board.astype("string"))
    out.insert(position + 1, "school_name", ids.map(school_name).astype("string"))
    out.insert(position + 2, "board_name", board.map(lambda b: board_names[int(b[-3:]) - 1]).astype("string"))
    return out
