"""The answer scale of each survey year (``oml/config/scales.toml``).

The OML statements were asked on a 4-point scale from 2017 to 2022 and on a 5-point scale
from 2023 on. Scores on the two scales are not on one footing, so the data are split into
*scale periods*: the contract checks every answer against the scale of its own year
(:func:`oml.data.contract.validate`), the index is standardised within each period
(:func:`oml.stats.index.add_index`), and changes are tested only within a period. The
factsheet pages cover the latest period only (:func:`current_period`); its first year
comes from the config, never from a typed literal.

Examples
--------
>>> [s.name for s in load_scales()]
['vierpuntsschaal', 'vijfpuntsschaal']
>>> scale_for_year(2020).highest, scale_for_year(2024).highest
(4, 5)
>>> current().first_year
2023
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

CONFIG = "config/scales.toml"


@dataclass(frozen=True)
class Scale:
    """The answer scale of one period of years."""

    name: str
    first_year: int
    last_year: int | None  # None: still in use
    lowest: int
    highest: int
    agree_from: int
    labels: dict[int, str] = field(default_factory=dict, compare=False)
    labels_source: str = ""

    @property
    def answers(self) -> list[int]:
        """Every possible answer, lowest first.

        Examples
        --------
        >>> scale_for_year(2018).answers
        [1, 2, 3, 4]
        """
        return list(range(self.lowest, self.highest + 1))

    @property
    def points(self) -> int:
        """Number of answer categories."""
        return self.highest - self.lowest + 1

    def covers(self, years) -> np.ndarray:
        """Boolean array: which of ``years`` (missing allowed) fall in this period."""
        y = pd.to_numeric(pd.Series(np.asarray(years, dtype=object)), errors="coerce").to_numpy(dtype=float)
        last = np.inf if self.last_year is None else self.last_year
        with np.errstate(invalid="ignore"):
            return (y >= self.first_year) & (y <= last)

    def years_text(self) -> str:
        """The period as the text names it: "2017–2022" or "vanaf 2023".

        Examples
        --------
        >>> [s.years_text() for s in load_scales()]
        ['2017–2022', 'vanaf 2023']
        """
        return f"vanaf {self.first_year}" if self.last_year is None else f"{self.first_year}–{self.last_year}"

    def answer_label(self, answer: int) -> str:
        """Dutch label of an answer as a legend shows it ("1 helemaal niet", "2").

        Examples
        --------
        >>> scale_for_year(2024).answer_label(5), scale_for_year(2024).answer_label(3)
        ('5 helemaal wel', '3')
        """
        label = self.labels.get(int(answer), "")
        return str(answer) if label in ("", str(answer)) else f"{answer} {label}"

    def reverse(self, values):
        """Reverse-code answers on this scale: :math:`x' = \\text{lowest} + \\text{highest} - x`.

        Examples
        --------
        >>> scale_for_year(2019).reverse(np.array([1, 4])).tolist()
        [4, 1]
        """
        return self.lowest + self.highest - values


def _parse(cfg: dict, source: str) -> tuple[Scale, ...]:
    """Turn the config into scales, or raise a ValueError naming the period and the rule."""
    entries = cfg.get("period", [])
    if not entries:
        raise ValueError(f"{source}: no [[period]] entries")
    scales = []
    for i, e in enumerate(entries, start=1):
        name = e.get("name", f"period {i}")
        where = f"{source}: period '{name}'"
        missing = [k for k in ("name", "first_year", "lowest", "highest", "agree_from", "labels") if k not in e]
        if missing:
            raise ValueError(f"{where}: missing {', '.join(missing)}")
        lo, hi = int(e["lowest"]), int(e["highest"])
        if not lo < hi:
            raise ValueError(f"{where}: lowest ({lo}) must be below highest ({hi})")
        if not lo < int(e["agree_from"]) <= hi:
            raise ValueError(f"{where}: agree_from must lie above {lo} and at most {hi}")
        labels = {int(k): str(v) for k, v in e["labels"].items()}
        if sorted(labels) != list(range(lo, hi + 1)):
            raise ValueError(f"{where}: labels must name every answer {lo}..{hi}, found {sorted(labels)}")
        last = e.get("last_year")
        if last is not None and int(last) < int(e["first_year"]):
            raise ValueError(f"{where}: last_year before first_year")
        scales.append(Scale(str(e["name"]), int(e["first_year"]), None if last is None else int(last), lo, hi,
                            int(e["agree_from"]), labels, str(e.get("labels_source", ""))))
    scales.sort(key=lambda s: s.first_year)
    for a, b in zip(scales, scales[1:]):
        if a.last_year is None or a.last_year >= b.first_year:
            raise ValueError(f"{source}: periods '{a.name}' and '{b.name}' overlap (only the last may have no last_year)")
    return tuple(scales)


@lru_cache(maxsize=4)
def load_scales(path: str | None = None) -> tuple[Scale, ...]:
    """The scale periods, oldest first, from ``oml/config/scales.toml`` (or ``path``).

    Raises
    ------
    ValueError
        For a config that names no periods, overlapping periods or incomplete labels.
    """
    if path is None:
        text, source = resources.files("oml").joinpath(CONFIG).read_text(encoding="utf-8"), f"oml/{CONFIG}"
    else:
        text, source = Path(path).read_text(encoding="utf-8"), str(path)
    return _parse(tomllib.loads(text), source)


def scale_for_year(year: int, scales: tuple[Scale, ...] | None = None) -> Scale | None:
    """The scale of one year, or None when no period covers it."""
    for s in scales or load_scales():
        if s.covers([year])[0]:
            return s
    return None


def current(scales: tuple[Scale, ...] | None = None) -> Scale:
    """The latest scale period: the one the factsheet pages cover."""
    return (scales or load_scales())[-1]


def period_of(years, scales: tuple[Scale, ...] | None = None) -> pd.Series:
    """The scale period's name for each year (missing where no period covers the year).

    Examples
    --------
    >>> period_of([2017, 2023, 2016]).tolist()
    ['vierpuntsschaal', 'vijfpuntsschaal', <NA>]
    """
    years = np.asarray(years, dtype=object)
    out = pd.Series(pd.NA, index=range(len(years)), dtype="string")
    for s in scales or load_scales():
        out[s.covers(years)] = s.name
    return out


def periods(frame: pd.DataFrame, scales: tuple[Scale, ...] | None = None) -> list[tuple[Scale, pd.DataFrame]]:
    """The scale periods present in ``frame``, oldest first, each with its rows (index kept).

    Examples
    --------
    >>> df = pd.DataFrame({"year": [2017, 2024, 2018]})
    >>> [(s.name, len(part)) for s, part in periods(df)]
    [('vierpuntsschaal', 2), ('vijfpuntsschaal', 1)]
    """
    out = []
    for s in scales or load_scales():
        mask = s.covers(frame["year"].to_numpy())
        if mask.any():
            out.append((s, frame.loc[mask]))
    return out


def current_period(frame: pd.DataFrame, scales: tuple[Scale, ...] | None = None) -> pd.DataFrame:
    """The rows of the latest scale period (what the factsheet pages show), index renumbered.

    The first year of the factsheet follows from the config: the latest period's ``first_year``.
    Data that hold only that period come back unchanged (same values, same 0..n-1 index).

    Raises
    ------
    ValueError
        When the data have no rows in the latest period.

    Examples
    --------
    >>> df = pd.DataFrame({"year": [2021, 2023, 2025], "x": [1, 2, 3]})
    >>> current_period(df)["x"].tolist()
    [2, 3]
    """
    scale = current(scales)
    mask = scale.covers(frame["year"].to_numpy())
    if not mask.any():
        raise ValueError(f"the data hold no rows of the current answer scale ('{scale.name}', {scale.years_text()}; "
                         f"oml/{CONFIG}); the factsheet pages cover only that period")
    if mask.all():
        return frame
    out = frame.loc[mask].reset_index(drop=True)
    return out
