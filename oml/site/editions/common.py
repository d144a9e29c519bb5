"""Names shared by the editions modules: the release error, the edition-name rule and the site's words they reuse."""
from __future__ import annotations

import re

# The build calls the editions modules on every run, also when nothing changed: they import no
# statistics at the top (pandas and the text module load only when a page or a record is written).
SUPPRESSED = "\u2022"  # as oml.report.text.SUPPRESSED


def nl_number(value, decimals: int = 0) -> str:
    """:func:`oml.report.text.nl_number`, imported when first needed."""
    from oml.report.text import nl_number as fmt

    return fmt(value, decimals)


def nl_date(day) -> str:
    """:func:`oml.report.text.nl_date`, imported when first needed."""
    from oml.report.text import nl_date as words

    return words(day)


def group_label(group: str) -> str:
    """:func:`oml.report.text.group_label`, imported when first needed."""
    from oml.report.text import group_label as label

    return label(group)


NAME_RULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class ReleaseError(RuntimeError):
    """``oml release`` cannot record the edition; the message says why and what to do."""
