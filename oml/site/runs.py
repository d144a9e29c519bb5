"""The run model of ``notebooks/runs.toml``: the runs, their settings and the fan-out over data values."""
from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path

from oml import paths
from oml.site.messages import BuildError
from oml.paths import GENERATED, Layout

#: Seconds a notebook may run before the engine stops it (``[build] timeout`` in runs.toml).
DEFAULT_TIMEOUT = 600.0


@dataclass
class Run:
    """One execution of a template with its parameters (or, with ``for_each``, one per value)."""

    template: str
    page: str
    title: str
    parameters: dict = field(default_factory=dict)
    #: Files the notebook reads besides the data (relative to the project root): part of its cache key.
    inputs: list[str] = field(default_factory=list)
    #: Expand into one page per value of this data column (the value is passed as a parameter of that name).
    for_each: str | None = None
    #: For a fan-out: the listing written to ``book/rapport/<part>.md`` (pages made, values left out).
    part: str | None = None
    #: The value of ``for_each`` this run was expanded for.
    value: str | None = None
    #: The template parameter that gets the value (default: the column's name).
    parameter: str | None = None
    #: A private run (a school's or board's feedback report): never a page of the book.
    private: bool = False
    #: Expand also for values under ``min_cell`` (a feedback report says itself that it is too small).
    keep_small: bool = False
    #: A fan-out value behind fewer schools gets no page (a region of one or two schools is a school's own result:
    #: with two, each could subtract its own report). 0: no minimum.
    min_schools: int = 0
    #: "module:function" the engine calls with the parameters just before it forks this run, to fill
    #: caches the notebook then finds (oml.site.engine._warm). A speed-up only, never part of the result.
    warm: str | None = None


@dataclass
class Settings:
    """The ``[build]`` table of runs.toml."""

    timeout: float = DEFAULT_TIMEOUT


def load_config(config: Path = paths.RUNS_CONFIG) -> tuple[list[Run], Settings]:
    """The runs of ``notebooks/runs.toml`` (defaults merged into each run's parameters) and the build settings.

    Examples
    --------
    >>> runs, settings = load_config()
    >>> sum(r.template == "verschillen.ipynb" for r in runs), settings.timeout > 0
    (4, True)
    """
    try:
        cfg = tomllib.loads(Path(config).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise BuildError(f"{config}: cannot read the run configuration: {err}") from None
    defaults = cfg.get("defaults", {})
    runs, problems = [], []
    for i, r in enumerate(cfg.get("run", []), start=1):
        missing = [k for k in ("template", "page", "title") if k not in r]
        if missing:
            problems.append(f"run {i}: missing {', '.join(missing)}")
            continue
        unknown = sorted(set(r) - {"template", "page", "title", "parameters", "inputs", "for_each", "part", "parameter",
                                   "private", "keep_small", "warm", "min_schools"})
        if unknown:
            problems.append(f"run {i} ({r['page']}): unknown key(s) {', '.join(unknown)}")
        warm = r.get("warm")
        if warm is not None and not (isinstance(warm, str) and re.fullmatch(r"[\w.]+:\w+", warm)):
            problems.append(f"run {i} ({r['page']}): warm must be \"module:function\", not {warm!r}")
        for_each = r.get("for_each")
        if for_each is not None and not ("{slug}" in r["page"] and "{value}" in r["title"]):
            problems.append(f"run {i} ({r['page']}): a run with for_each needs '{{slug}}' in its page and "
                            f"'{{value}}' in its title")
        min_schools = r.get("min_schools", 0)
        if not isinstance(min_schools, int) or isinstance(min_schools, bool) or min_schools < 0:
            problems.append(f"run {i} ({r['page']}): min_schools must be a whole number of schools, not {min_schools!r}")
            min_schools = 0
        runs.append(Run(r["template"], r["page"], r["title"], {**defaults, **r.get("parameters", {})},
                        list(r.get("inputs", [])), for_each, r.get("part"), None, r.get("parameter"),
                        bool(r.get("private", False)), bool(r.get("keep_small", False)), min_schools=min_schools,
                        warm=r.get("warm")))
    pages = [r.page for r in runs]
    problems += [f"page '{p}' appears more than once" for p in sorted({p for p in pages if pages.count(p) > 1})]
    if not runs and not problems:
        problems.append("no [[run]] entries")
    try:
        settings = Settings(timeout=float(cfg.get("build", {}).get("timeout", DEFAULT_TIMEOUT)))
    except (TypeError, ValueError):
        problems.append("[build] timeout must be a number of seconds")
        settings = Settings()
    if settings.timeout <= 0:
        problems.append("[build] timeout must be positive")
    if problems:
        raise BuildError(f"{config}: " + "; ".join(problems))
    return runs, settings


def load_runs(config: Path = paths.RUNS_CONFIG) -> list[Run]:
    """The runs of ``notebooks/runs.toml`` (fan-outs not yet expanded).

    Examples
    --------
    >>> runs = load_runs()
    >>> sum(r.template == "verschillen.ipynb" for r in runs)
    4
    """
    return load_config(config)[0]


def slug(value: str) -> str:
    """A file-name-safe, lower-case form of a data value.

    Examples
    --------
    >>> slug("Parkstad Limburg"), slug("Maastricht-Heuvelland"), slug("Één / twee")
    ('parkstad-limburg', 'maastricht-heuvelland', 'een-twee')
    """
    ascii_ = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-") or "x"


@dataclass
class LeftOut:
    """A value of a fan-out column that gets no page, and why."""

    part: str | None
    column: str
    value: str
    reason: str


def expand_runs(runs: list[Run], groups: dict[str, dict[str, int]],
                schools: dict[str, dict[str, int]] | None = None) -> tuple[list[Run], list[LeftOut]]:
    """One run per value for every ``for_each`` run; values under the run's ``min_cell`` get no page.

    ``groups`` maps a column to its values and their number of pupils (from the data). The
    values come only from the data, in their order of first appearance sorted by name. ``schools``
    maps the same to the number of schools behind each value: a value behind fewer than the run's
    ``min_schools`` gets no page either (a run without a minimum does not need it).

    Examples
    --------
    >>> run = Run("r.ipynb", "regio-{slug}", "Regio {value}", {"min_cell": 10}, for_each="region", part="regios",
    ...           min_schools=3)
    >>> pages, left = expand_runs([run], {"region": {"Noord": 50, "Zuid": 4, "Oost": 60}},
    ...                           {"region": {"Noord": 5, "Zuid": 1, "Oost": 2}})
    >>> [(p.page, p.title, p.parameters["region"]) for p in pages]
    [('regio-noord', 'Regio Noord', 'Noord')]
    >>> [(lo.value, lo.reason) for lo in left]
    [('Oost', 'minder dan 3 scholen'), ('Zuid', 'minder dan 10 leerlingen')]
    """
    out, left = [], []
    for run in runs:
        if run.for_each is None:
            out.append(run)
            continue
        values = groups.get(run.for_each) or {}
        min_cell = int(run.parameters.get("min_cell", 0))
        per_value = (schools or {}).get(run.for_each) or {}
        if run.min_schools and values and not per_value:
            raise BuildError(f"notebooks/runs.toml: the run {run.page} needs the number of schools per {run.for_each} "
                             "(min_schools), and the data facts do not give it")
        for value in sorted(values):
            if values[value] < min_cell and not run.keep_small:
                left.append(LeftOut(run.part, run.for_each, value, f"minder dan {min_cell} leerlingen"))
                continue
            if per_value.get(value, 0) < run.min_schools:
                left.append(LeftOut(run.part, run.for_each, value, f"minder dan {run.min_schools} scholen"))
                continue
            out.append(replace(run, page=run.page.replace("{slug}", slug(value)),
                               title=run.title.replace("{value}", value),
                               parameters={**run.parameters, run.parameter or run.for_each: value}, value=value))
    pages = [r.page for r in out]
    clash = sorted({p for p in pages if pages.count(p) > 1})
    if clash:
        raise BuildError(f"notebooks/runs.toml: the expanded runs give page name(s) {', '.join(clash)} more than once")
    return out, left


def data_title(title: str, first_year: int | None, last_year: int | None) -> str:
    """A run title with the data's years filled in: "Langere reeks {first_year}–{last_year}" (unknown years: as it is).

    Examples
    --------
    >>> data_title("Langere reeks {first_year}–{last_year}", 2017, 2025), data_title("Regio {value}", 2017, 2025)
    ('Langere reeks 2017–2025', 'Regio {value}')
    """
    for key, year in (("first_year", first_year), ("last_year", last_year)):
        if year is not None:
            title = title.replace("{" + key + "}", str(year))
    return title


#: How a fan-out column is named in the listing of its part.
COLUMN_LABELS = {"region": "regio", "school_id": "school", "board_id": "bestuur"}
PART_LISTING = """Deze pagina's worden per {column_label} gemaakt uit de gegevens: er is een pagina voor elke
{column_label} die in de gegevens voorkomt.

{pages}
{left_out}"""


def write_listings(runs: list[Run], left_out: list[LeftOut], layout: Layout) -> list[Path]:
    """Write ``book/rapport/<part>.md`` for every fan-out part: its pages, and the values left out and why.

    The prose page of the part (e.g. ``book/regios.md``) includes this listing, so the list of
    pages and of what was left out always follows the data.
    """
    written = []
    parts = {(r.part, r.for_each) for r in runs if r.part and r.value is not None}
    parts |= {(lo.part, lo.column) for lo in left_out if lo.part}
    for part, column in sorted(parts):
        label = COLUMN_LABELS.get(column, column)
        # Links relative to the book folder: the listing is included by book/<part>.md.
        pages = "\n".join(f"- {{doc}}`{r.title} <{GENERATED}/{r.page}>`" for r in runs if r.part == part and r.value is not None)
        gone = [lo for lo in left_out if lo.part == part]
        left = ("\nGeen eigen pagina (te weinig leerlingen om cijfers te mogen tonen):\n\n"
                + "\n".join(f"- {lo.value}: {lo.reason}" for lo in gone) + "\n") if gone else ""
        text = PART_LISTING.format(column_label=label, pages=pages or "(geen)", left_out=left)
        target = layout.generated / f"{part}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        written.append(target)
    return written
