"""The few lines every notebook template starts with: load the data, set the theme, publish.

A template's ``parameters`` cell holds only defaults; :func:`setup` turns them into a
:class:`Context`. Opened in Jupyter and run as is, a template uses the default synthetic
data (and prints one line saying so), so a researcher can re-run any chapter without the build.

:func:`show` displays a page block as MyST Markdown, which the book renders. Outside the build
(Jupyter, or papermill run by hand) it also displays every figure of the block as an SVG image
and every table as an HTML table, so the notebook looks like the page; inside the build (the
engine sets ``OML_IN_BUILD``) the MyST alone is the output, so the book's pages are unchanged.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from oml.data import codebook
from oml.data.scales import current_period
from oml.stats.index import add_index
from oml.report.publish import Publisher


@dataclass
class Context:
    """What a notebook works with."""

    frame: pd.DataFrame  # validated pupil data (with the index columns added)
    data: pd.DataFrame  # the same object: kept as a name for the index analyses
    pub: Publisher
    notebook: str  # file name of the executed notebook (for the provenance links)
    level: float
    min_cell: int
    synthetic: bool
    #: Every year of the data (all answer-scale periods, no index columns), for what concerns the whole
    #: series (which years asked fewer statements); None: only ``frame`` is known.
    all_years: pd.DataFrame | None = None

    @property
    def every_year(self) -> pd.DataFrame:
        """:attr:`all_years` when known, else the page's own ``frame``."""
        return self.all_years if self.all_years is not None else self.frame

    @cached_property
    def words(self) -> codebook.Words:
        """The statements' wording and answer labels this page may print: the data's delivery first (:mod:`oml.data.codebook`)."""
        return codebook.words(self.frame, self.synthetic)


def parse_by(by: str | None) -> str | None:
    """Breakdown parameter from the run config (``"none"`` = the overall figure).

    Examples
    --------
    >>> parse_by("none") is None, parse_by("region")
    (True, 'region')
    """
    return None if by in (None, "", "none") else by


#: Frames the build's engine read and validated once, before forking the notebooks:
#: path -> (validated frame, with the index in the current answer-scale period: what :func:`setup` gives).
_PRELOADED: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}


def _resolve(data: str | Path) -> str:
    """An absolute data path: relative paths lie in the project; a bare file name may be the engine's data file.

    The build names a data file outside the project by its name only (its folder may be private); the
    engine sets ``OML_DATA`` to the file itself.
    """
    import os

    from oml.paths import ROOT

    path = Path(data)
    given = os.environ.get("OML_DATA")
    if not path.is_absolute() and len(path.parts) == 1 and given and Path(given).name == path.name \
            and not (ROOT / path).exists():
        return str(Path(given).resolve())
    return str((path if path.is_absolute() else ROOT / path).resolve())


def preload(path: str | Path, frame: pd.DataFrame) -> None:
    """Keep the validated ``frame`` of ``path`` (and its index) for every notebook of this build.

    Called once by the build's engine (:mod:`oml.site.engine`) before it forks the notebooks:
    they then share the data instead of each reading and validating the file again. A notebook
    opened in Jupyter has nothing preloaded and reads the file itself.
    """
    _PRELOADED[_resolve(path)] = (frame, current_period(add_index(frame)))


def preloaded() -> dict:
    """Everything preloaded in this process (a copy of the mapping), for the spawn engine to hand on.

    Examples
    --------
    >>> isinstance(preloaded(), dict)
    True
    """
    return dict(_PRELOADED)


def replace_preloaded(frames: dict) -> None:
    """Make ``frames`` (as :func:`preloaded` gave them) the preloaded data: the spawn engine gives each notebook a fresh copy.

    Examples
    --------
    >>> before = preloaded(); replace_preloaded({}); preloaded(); replace_preloaded(before)
    {}
    """
    _PRELOADED.clear()
    _PRELOADED.update(frames)


def preloaded_current(path: str | Path) -> pd.DataFrame:
    """The preloaded frame of ``path`` with its index, in the current answer-scale period (what :func:`setup` gives).

    Every notebook of a build works on this one object (each in its own fork, so a change one
    notebook makes stays in that notebook), which lets per-frame caches be filled once, before
    the forks. Raises ``KeyError`` when nothing was preloaded for ``path``.
    """
    return _PRELOADED[_resolve(path)][1]


def load_frame(data: str | None, mapping: str | None = None) -> pd.DataFrame:
    """The validated dataset at ``data``, or the default synthetic data when ``data`` is None.

    With a ``mapping``, or when ``data`` names a folder or a pattern, ``data`` is a delivery in its
    own names and codes, read as ``oml build --data … --mapping …`` reads it (:mod:`oml.data.extract`).
    """
    if data is None:
        if mapping is not None:
            raise ValueError("mapping needs data: the mapping describes a delivery")
        from oml.data.synth import generate

        return generate()
    if mapping is None and _resolve(data) in _PRELOADED:
        return _PRELOADED[_resolve(data)][0]
    from oml.data.extract import GLOB_CHARS, load_extract, resolve_sources

    if mapping is not None or Path(_resolve(data)).is_dir() or GLOB_CHARS & set(str(data)):
        return load_extract(resolve_sources([data]), mapping)[0]
    from oml.data.io import load

    return load(_resolve(data))


def setup(data: str | None, page: str, level: float = 0.95, min_cell: int = 10, out_dir: str = ".",
          mapping: str | None = None) -> Context:
    """Load and validate the data, add the index, set the figure theme, open a :class:`Publisher`.

    ``data`` with a ``mapping`` is a delivery in its own names and codes (a folder, files or a pattern),
    so a researcher can run one template with papermill on the extract as it came.
    """
    from oml.report.plotting import set_theme
    from oml.data.synth import is_synthetic

    if data is None:
        print(SYNTHETIC_NOTE)
    set_theme()
    # One copy of the data in memory: the frame with its index columns serves both roles
    # (functions that do not use the index ignore those columns).
    # The frames keep the data's attrs (pandas carries them through copy and selection): the delivery
    # (oml.data.delivery) with the extract's own words travels with every page's data.
    if data is not None and mapping is None and _resolve(data) in _PRELOADED:
        everything, data_ = _PRELOADED[_resolve(data)]
    else:
        everything = load_frame(data, mapping)
        data_ = current_period(add_index(everything))  # pages show the latest answer scale only (oml/config/scales.toml)
    return Context(
        frame=data_,
        data=data_,
        pub=Publisher(page, out_dir),
        notebook=f"{page}.ipynb",
        level=float(level),
        min_cell=int(min_cell),
        synthetic=is_synthetic(data_),
        all_years=everything,
    )


#: The one line a template run on the default data prints (Dutch: what the reader of the notebook sees).
SYNTHETIC_NOTE = ("Let op: deze notebook gebruikt de synthetische standaardgegevens, geen OML-resultaten; "
                  "geef `data` (en `mapping`) op voor de echte levering (docs/researcher.md).")

#: ``OML_IN_BUILD`` is set by the build's engine (oml.site.engine): the MyST alone is then the output.
IN_BUILD = "OML_IN_BUILD"

_FIGURE = re.compile(r"^:::\{figure\} (?P<path>\S+)\n(?P<options>(?::[\w-]+:.*\n)*)\n(?P<caption>.*?)\n:::$",
                     re.MULTILINE | re.DOTALL)
_TABLE = re.compile(r"^:::\{list-table\} (?P<caption>.*)\n(?P<options>(?::[\w-]+:.*\n)*)\n(?P<rows>(?:[* ] - .*\n)+):::$",
                    re.MULTILINE)


def jupyter_outputs(markdown: str, folder: str | Path = ".") -> list[tuple[str, str]]:
    """The figures and tables of a MyST block as ordinary Jupyter outputs: ``("image/svg+xml", svg)`` or ``("text/html", table)``.

    Figures are the ``{figure}`` directives of :func:`oml.report.publish.figure_block` (their file read
    from ``folder``, where the notebook writes it); tables the ``{list-table}`` directives of
    :func:`oml.report.publish.table_block`, as an HTML table with the caption and header row. Other
    MyST (text, notes) stays in the Markdown output beside them.

    Examples
    --------
    >>> from oml.report.publish import table_block
    >>> import pandas as pd
    >>> block = "Tekst.\\n\\n" + table_block(pd.DataFrame({"a": ["x <1"], "b": ["12,5"]}), "tab-x", "Tabel 1", ["A", "B"])
    >>> [(kind, html[:59]) for kind, html in jupyter_outputs(block)]
    [('text/html', '<table><caption>Tabel 1</caption><thead><tr><th>A</th><th>B')]
    >>> jupyter_outputs(block)[0][1].count("<td>"), "x &lt;1" in jupyter_outputs(block)[0][1]
    (2, True)
    """
    found = []
    for match in _FIGURE.finditer(markdown):
        path = Path(folder) / match["path"]
        if path.suffix == ".svg" and path.exists():
            found.append((match.start(), "image/svg+xml", path.read_text(encoding="utf-8")))
    for match in _TABLE.finditer(markdown):
        rows: list[list[str]] = []
        for line in match["rows"].splitlines():
            cell = html.escape(line[4:])
            if line.startswith("* - "):
                rows.append([cell])
            else:
                rows[-1].append(cell)
        header = "".join(f"<th>{c}</th>" for c in rows[0]) if "header-rows: 1" in match["options"] else ""
        body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows[1 if header else 0:])
        table = (f"<table><caption>{html.escape(match['caption'])}</caption>"
                 + (f"<thead><tr>{header}</tr></thead>" if header else "") + f"<tbody>{body}</tbody></table>")
        found.append((match.start(), "text/html", table))
    return [(kind, content) for _, kind, content in sorted(found, key=lambda f: f[0])]


def show(markdown: str) -> None:
    """Display MyST Markdown as cell output (rendered by myst-nb as MyST); outside the build, also its figures and tables.

    The extra outputs (:func:`jupyter_outputs`) make the notebook in Jupyter look like the page; the
    build (``OML_IN_BUILD`` set) leaves them out, as the book renders the MyST.
    """
    import os

    from IPython.display import Markdown, display

    display(Markdown(markdown))
    if os.environ.get(IN_BUILD):
        return
    for kind, content in jupyter_outputs(markdown):
        display({kind: content}, raw=True)
