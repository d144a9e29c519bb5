"""The direction rule, in one place: which way a tested difference points, and when it counts.

A difference counts only when it is significant (after the Holm correction of its family);
then its sign says higher or lower. Light on purpose (no pandas): the editions of the site
compare conclusions with it on every build.
"""
from __future__ import annotations

import enum


class Direction(enum.StrEnum):
    """Stable, higher or lower; str-valued, so records and CSVs hold the plain words."""

    STABLE = "stable"
    HIGHER = "higher"
    LOWER = "lower"


def direction(estimate: float, significant: bool = True) -> Direction:
    """The direction of a difference ``estimate`` (b minus a): stable unless significant, then its sign.

    Parameters
    ----------
    estimate : float
        The difference, b minus a (a later year minus an earlier one, a unit minus its reference).
    significant : bool, default True
        Whether the difference is significant (after the Holm correction of its family). Leave
        it True where the sign alone counts (the side of the target a unit lies on in the funnel).

    Returns
    -------
    Direction
        ``STABLE`` when not significant, else ``HIGHER`` if ``estimate > 0`` and ``LOWER`` otherwise.

    Examples
    --------
    >>> direction(0.2, significant=False).value, direction(0.2).value, direction(-0.01).value
    ('stable', 'higher', 'lower')
    """
    if not significant:
        return Direction.STABLE
    return Direction.HIGHER if estimate > 0 else Direction.LOWER
