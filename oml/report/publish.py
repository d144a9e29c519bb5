"""What a notebook publishes: glued numbers, figure and table blocks, provenance, the manifest.

Every number shown in the book goes through :class:`Publisher`: it is formatted the Dutch
way, glued for the prose (``{glue:md}`key```), and recorded — key, exact value, text as
shown, page — for the site-wide ``numbers.json``.
"""
from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pandas as pd

from oml.report.text import NOT_ASKED, SUPPRESSED, nl_number

#: Folder (relative to the executed notebook) for figures, CSVs and manifest fragments.
FILES = "files"
SUPPRESSION_LEGEND = f"{SUPPRESSED} = niet getoond: gebaseerd op minder dan {{min_cell}} leerlingen."
#: A statement not asked in a year has its own symbol: nothing is hidden there (never the disclosure symbol).
NOT_ASKED_LEGEND = f"{NOT_ASKED} = niet gevraagd in dat jaar."


def _clean(value):
    """JSON-safe exact value: floats stay unrounded, NaN (suppressed) becomes null."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


class Publisher:
    """Collects the published numbers of one page and writes its manifest fragment.

    Examples
    --------
    >>> import tempfile
    >>> pub = Publisher("demo", out_dir=tempfile.mkdtemp(), glue=False)
    >>> pub.number("n", 12161)
    '12.161'
    >>> pub.entries[0]["value"], pub.entries[0]["text"]
    (12161, '12.161')
    """

    def __init__(self, page: str, out_dir: str | Path = ".", glue: bool = True):
        self.page = page
        self.out_dir = Path(out_dir)
        self.files = self.out_dir / FILES
        self.files.mkdir(parents=True, exist_ok=True)
        self.glue = glue
        self.entries: list[dict] = []

    def record(self, key: str, value, text: str) -> None:
        self.entries.append({"key": f"{self.page}/{key}", "value": _clean(value), "text": text, "page": self.page})

    def number(self, key: str, value, decimals: int = 0, suffix: str = "") -> str:
        """Format, record and glue one number; returns the text as shown."""
        text = nl_number(value, decimals) + suffix
        self.record(key, value, text)
        self.text(key, text)
        return text

    def formatter(self):
        """A ``fmt(key, value, decimals=0)`` for the sentences of :mod:`oml.report.text`.

        Each number goes through :meth:`number` (formatted, recorded, glued) under
        ``<key>-<n>``, with ``n`` counting the numbers this formatter has formatted (from 0),
        so that a key used twice in one text stays two entries.

        Examples
        --------
        >>> import tempfile
        >>> pub = Publisher("demo", out_dir=tempfile.mkdtemp(), glue=False)
        >>> fmt = pub.formatter()
        >>> fmt("mean", 0.123, 2), fmt("mean", 4)
        ('0,12', '4')
        >>> [e["key"] for e in pub.entries]
        ['demo/mean-0', 'demo/mean-1']
        """
        counter = itertools.count()

        def fmt(key, value, decimals=0):
            return self.number(f"{key}-{next(counter)}", value, decimals)

        return fmt

    def text(self, key: str, text: str) -> None:
        """Glue a piece of text (a rendered sentence, a year span) for ``{glue:md}``."""
        if self.glue:
            from IPython.display import Markdown
            from myst_nb import glue

            glue(key, Markdown(text), display=False)

    def table(self, key: str, frame: pd.DataFrame, id_columns: list[str], value_columns: dict[str, int]) -> None:
        """Record every shown cell of a table: ``key/<ids>/<column>`` with its decimals."""
        for row in frame.itertuples(index=False):
            ident = "/".join(str(getattr(row, c)) for c in id_columns)
            for column, decimals in value_columns.items():
                value = getattr(row, column)
                self.record(f"{key}/{ident}/{column}", value, nl_number(value, decimals))

    def csv(self, name: str, frame: pd.DataFrame) -> str:
        """Write exactly the drawn numbers as CSV (suppressed cells empty); returns its relative path."""
        path = self.files / f"{self.page}-{name}.csv"
        frame.to_csv(path, index=False, float_format="%.17g", lineterminator="\n")
        return f"{FILES}/{path.name}"

    @property
    def manifest_path(self) -> Path:
        return self.files / f"{self.page}.numbers.json"

    def save(self) -> None:
        """Write the manifest fragment of this page (read by the site build into numbers.json).

        Returns nothing, so that it can end a notebook cell without producing output.
        """
        self.manifest_path.write_text(json.dumps(self.entries, ensure_ascii=False, indent=1, allow_nan=False), encoding="utf-8")


def suppression_legend(frame: pd.DataFrame, min_cell: int) -> str:
    """The legend under a figure or table that hides cells (its ``suppressed`` column); empty when it hides none.

    Examples
    --------
    >>> suppression_legend(pd.DataFrame({"suppressed": [False, True]}), 10)
    '\\n\\n• = niet getoond: gebaseerd op minder dan 10 leerlingen.'
    >>> suppression_legend(pd.DataFrame({"suppressed": [False]}), 10)
    ''
    """
    if "suppressed" in frame and frame["suppressed"].any():
        return "\n\n" + SUPPRESSION_LEGEND.format(min_cell=nl_number(min_cell))
    return ""


def provenance(notebook: str, functions: list[str], csv: str | None = None) -> str:
    """MyST block under a figure or table: notebook download, computing functions, CSV download.

    Examples
    --------
    >>> print(provenance("x.ipynb", ["oml.stats.tables.table1"], "files/x.csv"))  # doctest: +NORMALIZE_WHITESPACE
    <BLANKLINE>
    :::{admonition} Herkomst van deze cijfers
    :class: oml-provenance
    Berekend door `oml.stats.tables.table1`. Notebook: {download}`x.ipynb <x.ipynb>`. Cijfers: {download}`CSV <files/x.csv>`.
    :::
    <BLANKLINE>
    """
    parts = [f"Berekend door {', '.join(f'`{f}`' for f in functions)}.",
             f"Notebook: {{download}}`{notebook} <{notebook}>`."]
    if csv:
        parts.append(f"Cijfers: {{download}}`CSV <{csv}>`.")
    return "\n:::{admonition} Herkomst van deze cijfers\n:class: oml-provenance\n" + " ".join(parts) + "\n:::\n"


def figure_block(path: str, name: str, caption: str, alt: str) -> str:
    """A numbered MyST figure with caption and alt text.

    Examples
    --------
    >>> print(figure_block("files/f.svg", "fig-x", "Bijschrift", "Alt"))  # doctest: +NORMALIZE_WHITESPACE
    :::{figure} files/f.svg
    :name: fig-x
    :alt: Alt
    :width: 100%
    <BLANKLINE>
    Bijschrift
    :::
    """
    alt = " ".join(alt.split())
    return f":::{{figure}} {path}\n:name: {name}\n:alt: {alt}\n:width: 100%\n\n{caption}\n:::"


def table_block(frame: pd.DataFrame, name: str, caption: str, header: list[str], align: str | None = None) -> str:
    """A numbered MyST list-table from already formatted (text) cells.

    Examples
    --------
    >>> print(table_block(pd.DataFrame({"a": ["x"], "b": ["1"]}), "tab-x", "Cap", ["A", "B"]))
    :::{list-table} Cap
    :name: tab-x
    :header-rows: 1
    <BLANKLINE>
    * - A
      - B
    * - x
      - 1
    :::
    """
    lines = [f":::{{list-table}} {caption}", f":name: {name}", ":header-rows: 1"]
    if align:
        lines.append(f":align: {align}")
    lines.append("")
    for row in [header, *frame.astype(str).values.tolist()]:
        lines.append(f"* - {row[0]}")
        lines.extend(f"  - {cell}" for cell in row[1:])
    lines.append(":::")
    return "\n".join(lines)
