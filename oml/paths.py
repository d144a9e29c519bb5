"""Every path the project uses, in one place.

Paths are derived from the repository root (the folder holding ``_config.yml``), so
notebooks, the CLI and tests never write path literals of their own. :class:`Layout` names
every file and folder of a project at any root (the build works in copies of the project too);
the module constants are those of this checkout.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: Repository root: the folder that holds ``_config.yml`` and ``_toc.yml``.
ROOT = Path(os.environ.get("OML_ROOT", Path(__file__).resolve().parent.parent))



def set_cache_environment(root: Path = ROOT, env: dict | None = None) -> None:
    """Point every tool cache into ``.cache/`` of the repository unless already set (in ``env``, default ``os.environ``).

    The Makefile exports the same variables; this covers ``oml`` called directly.
    """
    env = os.environ if env is None else env
    cache = root / ".cache"
    defaults = {
        "MPLCONFIGDIR": cache / "matplotlib",
        "JUPYTER_RUNTIME_DIR": cache / "jupyter" / "runtime",
        "JUPYTER_DATA_DIR": cache / "jupyter" / "data",
        "IPYTHONDIR": cache / "ipython",
        "XDG_CACHE_HOME": cache / "xdg",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }
    for key, value in defaults.items():
        env.setdefault(key, str(value))


#: The site folder the feedback reports demo goes to (``_build/html/terugkoppeling``).
SITE_REPORTS = "terugkoppeling"


#: ``book/<GENERATED>/``: the pages the build writes for the book (executed notebooks, listings; gitignored).
GENERATED = "rapport"


@dataclass(frozen=True)
class Layout:
    """Every path of a project rooted at ``root``: its sources, and what ``oml build`` writes.

    Examples
    --------
    >>> lay = Layout(Path("/p"))
    >>> lay.html.as_posix(), lay.page_cache("algemeen-beeld").as_posix(), lay.stamp("pdf").as_posix()
    ('/p/_build/html', '/p/_build/cache/algemeen-beeld', '/p/_build/stamps/pdf')
    >>> lay.generated.relative_to(lay.root).as_posix(), lay.fragments.relative_to(lay.root).as_posix()
    ('book/rapport', 'book/rapport/files')
    """

    root: Path = ROOT
    #: The build folder, when not ``root/_build`` (the benchmark measures in a folder of its own).
    build_dir: Path | None = None

    def public_name(self, path: str | Path) -> str:
        """How a data file may be named in anything published: relative to the project when inside it, else
        its file name only (its folder may be private).

        Examples
        --------
        >>> lay = Layout(Path("/p"))
        >>> lay.public_name("/p/_build/data/x.parquet"), lay.public_name("/secure/levering/oml-2025.sav")
        ('_build/data/x.parquet', 'oml-2025.sav')
        """
        try:
            return Path(path).resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return Path(path).name

    # ------------------------------------------------------------------ sources
    @property
    def package(self) -> Path:
        """The ``oml`` package's source."""
        return self.root / "oml"

    @property
    def requirements(self) -> Path:
        return self.root / "requirements.txt"

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    @property
    def runs_config(self) -> Path:
        return self.notebooks / "runs.toml"

    def template(self, name: str) -> Path:
        """A notebook template of ``notebooks/``."""
        return self.notebooks / name

    @property
    def book(self) -> Path:
        return self.root / "book"

    @property
    def book_config(self) -> Path:
        return self.root / "_config.yml"

    @property
    def toc(self) -> Path:
        return self.root / "_toc.yml"

    @property
    def bibliography(self) -> Path:
        return self.book / "references.bib"

    @property
    def coverage(self) -> Path:
        """Result of the coverage simulation study (bench/coverage.py), committed: too slow to redo per build."""
        return self.root / "bench" / "coverage.csv"

    @property
    def editions(self) -> Path:
        """Committed editions (``oml release``)."""
        return self.root / "editions"

    @property
    def demo_codes(self) -> Path:
        """The committed access codes of the synthetic feedback demo (its salts file beside it)."""
        return self.book / "terugkoppeling" / "demo-codes.csv"

    # ------------------------------------------------------------------ what the build writes into the book
    @property
    def generated(self) -> Path:
        """``book/rapport/``: the executed pages and generated listings the book picks up."""
        return self.book / GENERATED

    @property
    def fragments(self) -> Path:
        """The pages' files: figures, CSVs and number manifests (``*.numbers.json``)."""
        return self.generated / "files"

    @property
    def build_info(self) -> Path:
        """What the current pages were built from (read by the site extension and the page Versies)."""
        return self.generated / "build-info.json"

    @property
    def versions_page(self) -> Path:
        return self.generated / "versies.md"

    # ------------------------------------------------------------------ the build folder
    @property
    def build(self) -> Path:
        return self.build_dir if self.build_dir is not None else self.root / "_build"

    @property
    def html(self) -> Path:
        """The published site."""
        return self.build / "html"

    @property
    def numbers_manifest(self) -> Path:
        """Every number the site publishes (``numbers.json``, written by the site extension)."""
        return self.html / "numbers.json"

    @property
    def html_old(self) -> Path:
        """The previous site during the swap (only between two renames)."""
        return self.build / "html.old"

    @property
    def stage(self) -> Path:
        """Where Sphinx builds before the site is swapped in."""
        return self.build / "stage"

    @property
    def stage_html(self) -> Path:
        return self.stage / "_build" / "html"

    @property
    def data(self) -> Path:
        """The generated synthetic data and extracts converted through a mapping."""
        return self.build / "data"

    @property
    def cache(self) -> Path:
        """Executed notebooks, one folder per page, with their logs."""
        return self.build / "cache"

    def page_cache(self, page: str) -> Path:
        return self.cache / page

    @property
    def stamps(self) -> Path:
        """One file per "skip when unchanged" step (:mod:`oml.site.stamps`)."""
        return self.build / "stamps"

    def stamp(self, name: str) -> Path:
        return self.stamps / name

    @property
    def engine_log(self) -> Path:
        return self.build / "engine.log"

    @property
    def sphinx_log(self) -> Path:
        return self.build / "sphinx.log"

    @property
    def record(self) -> Path:
        """What the site was built from: ``oml release`` checks it."""
        return self.build / "build-record.json"

    @property
    def report_demo(self) -> Path:
        """The encrypted feedback demo, made before Sphinx and copied into the site (synthetic data only)."""
        return self.build / "feedback-site"

    @property
    def demo_key_cache(self) -> Path:
        """Private key cache of the demo build (never inside the site)."""
        return self.cache / "access-demo-keys.json"

    @property
    def demo_keys(self) -> Path:
        """The committed keys of the demo codes (public like the codes; seeds the demo's key cache on a cold build)."""
        return self.book / "terugkoppeling" / "demo-codes.keys.json"


# This checkout's paths, for code that runs only here (notebooks, the command line's defaults).
_HERE = Layout(ROOT)
NOTEBOOKS = _HERE.notebooks
RUNS_CONFIG = _HERE.runs_config
COVERAGE = _HERE.coverage
#: The committed access codes of the feedback demo (its salt file beside it, see oml.access.codes.salts_path).
DEMO_CODES = _HERE.demo_codes
DEMO_KEY_CACHE = _HERE.demo_key_cache
DEMO_KEYS = _HERE.demo_keys


# The PDFs' file names, at the site's root: written by oml.site.pdf, linked by the pages (oml.report), one place.
#: The stable stem of every PDF's file name (the main edition keeps the name the site links).
PDF_STEM = "sociale-relaties-met-leraren"
#: The whole report.
REPORT_PDF = f"{PDF_STEM}.pdf"
#: The short factsheet.
FACTSHEET_PDF = f"{PDF_STEM}-factsheet.pdf"


def region_pdf_name(page: str) -> str:
    """The stable file name of a region's short PDF, from its page (``book/rapport/regio-<slug>`` or the slug).

    Examples
    --------
    >>> region_pdf_name("book/rapport/regio-noord-limburg")
    'sociale-relaties-met-leraren-regio-noord-limburg.pdf'
    """
    return f"{PDF_STEM}-{page.rsplit('/', 1)[-1]}.pdf"
