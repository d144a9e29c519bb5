"""What a notebook publishes: glued numbers, figure and table blocks, provenance, the manifest.

Every number shown in the book goes through :class:`Publisher`: it is formatted the Dutch
way, glued for the prose (``{glue:md}`key```), and recorded — key, exact value, text as
shown, page — for the site-wide ``numbers.json``.
"""
from __future__ import annotations

import itertools
import json
import math
import re
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


def _cell_number() -> int | None:
    """The execution count of the notebook cell running now (``In [n]`` in Jupyter); None outside a kernel."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is part of the pinned environment
        return None
    shell = get_ipython()
    return getattr(shell, "execution_count", None) if shell is not None else None


def provenance(notebook: str, functions: list[str], csv: str | None = None) -> str:
    """MyST block under a figure or table: one quiet line for readers, the details behind a toggle for reviewers.

    The line reads "Bron en data: CSV · notebook · code": the CSV of exactly the drawn numbers and the
    executed notebook are downloads; "code" opens a ``<details>`` (keyboard- and screen-reader-operable
    without script) that names the functions which computed the block and the notebook cell that
    called them. The PDF edition (:mod:`oml.site.pdf`) turns each block into a numbered note of its
    technical appendix.

    Parameters
    ----------
    notebook : str
        File name of the executed notebook (beside the page).
    functions : list of str
        Dotted names of the functions that computed and drew the block.
    csv : str, optional
        Path of the CSV of the drawn numbers, relative to the page.

    Returns
    -------
    str
        A MyST ``container`` of class ``oml-provenance``.

    Examples
    --------
    >>> print(provenance("x.ipynb", ["oml.stats.tables.table1"], "files/x.csv"))  # doctest: +NORMALIZE_WHITESPACE
    <BLANKLINE>
    ::::{container} oml-provenance
    Bron en data: {download}`CSV <files/x.csv>` · {download}`notebook <x.ipynb>` ·
    <BLANKLINE>
    <details class="oml-provenance-details"><summary>code</summary>
    <BLANKLINE>
    :::{container} oml-provenance-text
    Herkomst van deze cijfers: berekend door `oml.stats.tables.table1`, in notebook {download}`x.ipynb <x.ipynb>`. Cijfers: {download}`x.csv <files/x.csv>`.
    :::
    <BLANKLINE>
    </details>
    ::::
    <BLANKLINE>

    The reviewers' text is the only ``:::`` fence of the block, so a caller that adds to it (a second
    CSV) by replacing ``"\\n:::\\n"`` adds inside the toggle:

    >>> block = provenance("x.ipynb", ["f"]).replace("\\n:::\\n", " Meer.\\n:::\\n")
    >>> block.count(" Meer."), block.index(" Meer.") < block.index("</details>")
    (1, True)
    """
    line = ["Bron en data:"]
    if csv:
        line.append(f"{{download}}`CSV <{csv}>` ·")
    line.append(f"{{download}}`notebook <{notebook}>` ·")
    cell = _cell_number()
    where = f"in cel [{cell}] van notebook" if cell else "in notebook"
    detail = (f"Herkomst van deze cijfers: berekend door {', '.join(f'`{f}`' for f in functions)}, "
              f"{where} {{download}}`{notebook} <{notebook}>`.")
    if csv:
        detail += f" Cijfers: {{download}}`{csv.rsplit('/', 1)[-1]} <{csv}>`."
    # Raw HTML blocks around Markdown: MyST parses the Markdown between them, the browser opens and
    # closes the <details> without script. The outer fence has four colons, so the reviewers' text
    # closes the only ":::" fence: what a caller appends before it lands inside the toggle.
    return ("\n::::{container} oml-provenance\n" + " ".join(line) + "\n\n"
            '<details class="oml-provenance-details"><summary>code</summary>\n\n'
            ":::{container} oml-provenance-text\n" + detail + "\n:::\n\n</details>\n::::\n")


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


_NUMERIC = re.compile(r"[−-]?[\d.]+(,\d+)?(\u00a0%)?|[•–]")


def figure_table(frame: pd.DataFrame, caption: str, label: str = "Toon als tabel") -> str:
    """"Toon als tabel" under a figure: exactly its plotted values as an accessible HTML table that opens by tap.

    ``frame`` holds the cells as shown (text, formatted by :mod:`oml.report.text`), its column names are the
    headers and its first column heads each row. The table sits in a ``<details>`` (a native disclosure: keyboard,
    touch and screen readers work without script) and scrolls inside its own box when it is wider than the page;
    then ``oml.js`` makes the box focusable, so it scrolls with the keyboard too (only then: a closed or fitting
    table adds no tab stop). One HTML block without blank lines, so
    that MyST passes it through as it is. The PDF edition leaves it out (``oml-screen-only``): it prints the CSV's
    numbers nowhere else either, and a closed disclosure means nothing on paper.

    Examples
    --------
    >>> print(figure_table(pd.DataFrame({"Jaar": ["2023"], "Afwijking": ["0,12"]}), "Cijfers van Figuur 2"))
    <details class="oml-figure-table oml-screen-only"><summary>Toon als tabel</summary>
    <div class="oml-table-scroll">
    <table class="table"><caption>Cijfers van Figuur 2</caption>
    <thead><tr><th scope="col">Jaar</th><th scope="col">Afwijking</th></tr></thead>
    <tbody><tr><th scope="row" class="oml-num">2023</th><td class="oml-num">0,12</td></tr></tbody>
    </table></div></details>
    """
    from html import escape

    head = "".join(f'<th scope="col">{escape(str(c))}</th>' for c in frame.columns)
    def cell(k: int, v: str) -> str:
        if k == 0:
            return f'<th scope="row" class="oml-num">{escape(v)}</th>' if _NUMERIC.fullmatch(v) else f'<th scope="row">{escape(v)}</th>'
        # Numbers (and the symbols that stand in for one) align right, words left.
        return f'<td class="oml-num">{escape(v)}</td>' if _NUMERIC.fullmatch(v) else f"<td>{escape(v)}</td>"

    body = "".join("<tr>" + "".join(cell(k, str(v)) for k, v in enumerate(row)) + "</tr>"
                   for row in frame.astype(str).itertuples(index=False))
    caption = escape(" ".join(caption.split()))
    return (f'<details class="oml-figure-table oml-screen-only"><summary>{escape(label)}</summary>\n'
            '<div class="oml-table-scroll">\n'
            f'<table class="table"><caption>{caption}</caption>\n<thead><tr>{head}</tr></thead>\n<tbody>{body}</tbody>\n'
            "</table></div></details>")


def diamond_table(table: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """The cells of a diamond figure's table view: year, group, deviation and interval, as drawn (2 decimals).

    ``table`` is the frame the figure draws (``year, group, estimate, ci_low, ci_high``); a suppressed cell
    shows the suppression symbol, as in the site's tables.

    Examples
    --------
    >>> t = pd.DataFrame({"year": [2023, 2023], "group": ["jongen", "meisje"], "estimate": [0.123, float("nan")],
    ...                   "ci_low": [0.01, float("nan")], "ci_high": [0.2, float("nan")]})
    >>> diamond_table(t).values.tolist()
    [['2023', 'Jongens', '0,12', '0,01', '0,20'], ['2023', 'Meisjes', '•', '•', '•']]
    """
    from oml.report.text import group_label

    pct = nl_number(level * 100, 0)

    def cell(v) -> str:
        return SUPPRESSED if pd.isna(v) else nl_number(v, 2)

    return pd.DataFrame({
        "Jaar": [str(int(y)) for y in table["year"]],
        "Groep": [group_label(g) for g in table["group"]],
        "Afwijking (sd)": [cell(v) for v in table["estimate"]],
        f"{pct}%-interval van": [cell(v) for v in table["ci_low"]],
        "tot": [cell(v) for v in table["ci_high"]],
    })
