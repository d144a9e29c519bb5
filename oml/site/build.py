"""``oml build``: validate the data, execute the notebook templates, build the site.

Stages
------
1. **Data.** The given file, or the default synthetic dataset (written to ``_build/data/``),
   is read and validated once per build by the warm engine (:mod:`oml.site.engine`); invalid
   data stop the build with the full report before anything is written. A validation is
   remembered for the very same bytes and code, so a build with nothing to do reads no data.
2. **Notebooks.** Every run in ``notebooks/runs.toml`` — runs with ``for_each`` expanded into one
   page per value of a data column — is executed by papermill in a fresh fork of the warm
   engine, in parallel, into ``_build/cache/<page>/``. A run is re-executed only when something
   it depends on changed — its template, its parameters, the ``oml`` package source, the pinned
   requirements or the data (content hash); otherwise the cached copy is reused. ``force=True``
   re-executes all. Only when every notebook succeeded are the pages copied into
   ``book/rapport/`` (unchanged files are left untouched, so Sphinx re-reads only what changed).
3. **Site.** Jupyter Book builds with notebook execution off and ``-W -n --keep-going`` into a
   staging folder; only a successful build replaces ``_build/html``. A failed build leaves the
   previous site as it was. When no input of the site changed, Sphinx does not run at all.

This module imports no statistics: a build with nothing to do never loads pandas.
"""
from __future__ import annotations

import filecmp
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path

from oml import paths
from oml.data.files import file_sha256  # light: no statistics imported

GENERATED = "rapport"  # book/<GENERATED>/: executed pages the book picks up (gitignored)
#: Seconds a notebook may run before the engine stops it (``[build] timeout`` in runs.toml).
DEFAULT_TIMEOUT = 600.0


class BuildError(RuntimeError):
    """A build stage failed; the message says which and why."""


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
                                   "private", "keep_small", "warm"})
        if unknown:
            problems.append(f"run {i} ({r['page']}): unknown key(s) {', '.join(unknown)}")
        warm = r.get("warm")
        if warm is not None and not (isinstance(warm, str) and re.fullmatch(r"[\w.]+:\w+", warm)):
            problems.append(f"run {i} ({r['page']}): warm must be \"module:function\", not {warm!r}")
        for_each = r.get("for_each")
        if for_each is not None and not ("{slug}" in r["page"] and "{value}" in r["title"]):
            problems.append(f"run {i} ({r['page']}): a run with for_each needs '{{slug}}' in its page and "
                            f"'{{value}}' in its title")
        runs.append(Run(r["template"], r["page"], r["title"], {**defaults, **r.get("parameters", {})},
                        list(r.get("inputs", [])), for_each, r.get("part"), None, r.get("parameter"),
                        bool(r.get("private", False)), bool(r.get("keep_small", False)), r.get("warm")))
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


def expand_runs(runs: list[Run], groups: dict[str, dict[str, int]]) -> tuple[list[Run], list[LeftOut]]:
    """One run per value for every ``for_each`` run; values under the run's ``min_cell`` get no page.

    ``groups`` maps a column to its values and their number of pupils (from the data). The
    values come only from the data, in their order of first appearance sorted by name.

    Examples
    --------
    >>> run = Run("r.ipynb", "regio-{slug}", "Regio {value}", {"min_cell": 10}, for_each="region", part="regios")
    >>> pages, left = expand_runs([run], {"region": {"Noord": 50, "Zuid": 4}})
    >>> [(p.page, p.title, p.parameters["region"]) for p in pages]
    [('regio-noord', 'Regio Noord', 'Noord')]
    >>> left[0].value, left[0].reason
    ('Zuid', 'minder dan 10 leerlingen')
    """
    out, left = [], []
    for run in runs:
        if run.for_each is None:
            out.append(run)
            continue
        values = groups.get(run.for_each) or {}
        min_cell = int(run.parameters.get("min_cell", 0))
        for value in sorted(values):
            if values[value] < min_cell and not run.keep_small:
                left.append(LeftOut(run.part, run.for_each, value, f"minder dan {min_cell} leerlingen"))
                continue
            out.append(replace(run, page=run.page.replace("{slug}", slug(value)),
                               title=run.title.replace("{value}", value),
                               parameters={**run.parameters, run.parameter or run.for_each: value}, value=value))
    pages = [r.page for r in out]
    clash = sorted({p for p in pages if pages.count(p) > 1})
    if clash:
        raise BuildError(f"notebooks/runs.toml: the expanded runs give page name(s) {', '.join(clash)} more than once")
    return out, left


def _hash_files(files, root: Path) -> str:
    digest = hashlib.sha256()
    for f in sorted(files):
        digest.update(str(Path(f).relative_to(root)).encode())
        digest.update(Path(f).read_bytes())
    return digest.hexdigest()


def code_fingerprint(root: Path = paths.ROOT) -> str:
    """Hash of the ``oml`` package source and the pinned requirements (what every notebook runs on)."""
    files = [p for p in (root / "oml").rglob("*") if p.is_file() and p.suffix in (".py", ".toml")]
    return _hash_files([*files, root / "requirements.txt"], root)


def cache_key(run: Run, data_sha: str, code: str, root: Path = paths.ROOT) -> str:
    """Everything a page depends on, hashed: template, parameters, code, requirements, data, extra inputs."""
    template = (root / "notebooks" / run.template).read_bytes()
    inputs = _hash_files([root / f for f in run.inputs], root) if run.inputs else ""
    payload = json.dumps(
        {"template": hashlib.sha256(template).hexdigest(), "parameters": run.parameters, "page": run.page,
         "title": run.title, "code": code, "data": data_sha, "inputs": inputs},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _log(msg: str) -> None:
    print(msg, flush=True)


def _portable(path: Path, root: Path) -> str:
    """A data path as the notebooks get it: relative to the project root when inside it.

    The same inputs then give the same executed notebooks wherever the project lives;
    :func:`oml.report.notebook.load_frame` resolves relative paths against the project root.
    """
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


# ----------------------------------------------------------------------------- stage 1: data
@dataclass
class Data:
    """The build's input: where it is, its hash, facts about it (from the validation)."""

    path: Path
    sha: str
    info: dict


def default_data_path(build_dir: Path, root: Path = paths.ROOT) -> Path:
    """The default synthetic dataset, named after the generator's code and calibration config."""
    generator = _hash_files([root / "oml" / "data" / "synth.py", root / "oml" / "config" / "synthetic.toml"], root)[:12]
    return build_dir / "data" / f"oml-synthetic-{generator}.parquet"


def prepare_data(data: str | None, build_dir: Path, groups: list[str], engine_factory, root: Path = paths.ROOT) -> Data:
    """Resolve the input; validate it in the engine unless these bytes were validated by this code before.

    ``engine_factory()`` returns the build's (lazily started) engine. ``groups`` are the columns
    that runs fan out over: their values and counts are part of the remembered validation.
    """
    generate = False
    if data is None:
        path = default_data_path(build_dir, root)
        if not path.exists():
            for stale in path.parent.glob("oml-synthetic-*.parquet"):
                stale.unlink()
            path.parent.mkdir(parents=True, exist_ok=True)
            generate = True
    else:
        path = Path(data).resolve()
        if not path.is_file():
            # The same words as `oml validate` (oml.data.io), without starting the engine.
            what = "is a folder, not a data file" if path.is_dir() else "file does not exist"
            raise BuildError(f"invalid input data; the site was not changed.\n{data}: {what}")
    sha = "" if generate else file_sha256(path)
    # Validation is skipped only for the very same bytes checked by the very same code.
    key = hashlib.sha256(json.dumps([sha, code_fingerprint(root), sorted(groups)]).encode()).hexdigest()[:32]
    stamp = build_dir / "data" / f"validated-{key}.json"
    if sha and stamp.exists():
        return Data(path, sha, json.loads(stamp.read_text(encoding="utf-8")))
    engine = engine_factory()
    reply = engine.prepare(path, generate=generate, groups=groups)
    if not reply.get("ok"):
        raise BuildError(f"invalid input data; the site was not changed.\n{reply['report']}")
    if generate:
        sha = file_sha256(path)
        key = hashlib.sha256(json.dumps([sha, code_fingerprint(root), sorted(groups)]).encode()).hexdigest()[:32]
        stamp = build_dir / "data" / f"validated-{key}.json"
    info = {**reply["info"], "data_sha256": sha, "data_name": path.name}
    stamp.parent.mkdir(parents=True, exist_ok=True)
    for old in stamp.parent.glob("validated-*.json"):
        old.unlink()
    stamp.write_text(json.dumps(info, sort_keys=True), encoding="utf-8")
    return Data(path, sha, info)


# ----------------------------------------------------------------------------- stage 2: notebooks
class EngineClient:
    """The build's handle on the warm engine process (:mod:`oml.site.engine`), started on first use."""

    def __init__(self, root: Path, build_dir: Path):
        self.root, self.build_dir = root, build_dir
        self.proc: subprocess.Popen | None = None
        self.log = build_dir / "engine.log"

    def _start(self) -> None:
        import oml

        self.build_dir.mkdir(parents=True, exist_ok=True)
        self.log.write_text("", encoding="utf-8")
        # The engine imports the same `oml` package as this process (its folder first on the path).
        package_home = Path(oml.__file__).resolve().parent.parent
        env = {**os.environ, "OML_ROOT": str(self.root), "OML_ENGINE_LOG": str(self.log),
               "PYTHONPATH": os.pathsep.join([str(package_home), *filter(None, [os.environ.get("PYTHONPATH")])])}
        paths.set_cache_environment(self.root, env)
        for key in ("MPLCONFIGDIR", "IPYTHONDIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR", "XDG_CACHE_HOME"):
            Path(env[key]).mkdir(parents=True, exist_ok=True)  # IPython warns about a missing one
        self.proc = subprocess.Popen([sys.executable, "-m", "oml.site.engine"], cwd=package_home, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self._expect("ready")

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            self.proc.stdout.close()
            tail = self.log.read_text(encoding="utf-8", errors="replace")[-2000:] if self.log.exists() else ""
            raise BuildError(f"the notebook engine stopped unexpectedly (exit {self.proc.returncode}); "
                             f"log: {self.log}\n{tail}")
        return json.loads(line)

    def _expect(self, event: str) -> dict:
        message = self._read()
        if message.get("event") != event:
            raise BuildError(f"the notebook engine answered {message} instead of '{event}'; log: {self.log}")
        return message

    def _send(self, command: dict) -> None:
        if self.proc is None:
            self._start()
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def prepare(self, path: Path, generate: bool, groups: list[str]) -> dict:
        """Have the engine (generate,) read and validate the data once and keep it for the notebooks."""
        self._send({"cmd": "prepare", "path": str(path), "generate": generate, "groups": groups})
        return self._read()

    def execute(self, jobs: list[dict], parallel: int, timeout: float):
        """Execute notebooks; yields the engine's ``done``/``failed`` events as they come."""
        self._send({"cmd": "execute", "runs": jobs, "jobs": parallel, "timeout": timeout})
        while True:
            message = self._read()
            if message.get("event") == "finished":
                return
            if "event" not in message or message["event"] == "error":
                raise BuildError(f"the notebook engine failed: {message.get('report')}; log: {self.log}")
            yield message

    def close(self) -> None:
        if self.proc is not None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
            finally:
                self.proc.stdout.close()
            self.proc = None


def _data_title(title: str, info: dict) -> str:
    """A run title with the data's years filled in: "Langere reeks {first_year}–{last_year}".

    Examples
    --------
    >>> _data_title("Langere reeks {first_year}–{last_year}", {"first_year": 2017, "last_year": 2025})
    'Langere reeks 2017–2025'
    >>> _data_title("Regio {value}", {})
    'Regio {value}'
    """
    for key in ("first_year", "last_year"):
        if "{" + key + "}" in title:
            title = title.replace("{" + key + "}", str(info[key]))
    return title


def _mapped(data: str | None, mapping: str, build_dir: Path) -> str:
    """The extract ``data`` read through ``mapping``, validated and written as canonical Parquet."""
    from oml.data.contract import DataValidationError
    from oml.data.mapping import convert

    if data is None:
        raise BuildError("--mapping needs --data: the mapping describes a data file")
    try:
        return str(convert(data, mapping, build_dir / "data"))
    except DataValidationError as err:
        raise BuildError(f"invalid input data; the site was not changed.\n{err.report()}") from None


def _job(run: Run, data_path: Path, work: Path, root: Path) -> dict:
    """What the engine needs to execute one run into ``work/<page>.ipynb`` (cwd = ``work``)."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    params = {**run.parameters, "data": _portable(data_path, root), "page": run.page}
    # The log and the error note live next to the page's folder: the folder itself is published.
    log, error = work.parent / f"{run.page}.log", work.parent / f"{run.page}.error"
    error.unlink(missing_ok=True)
    # The engine's child finishes the executed notebook as a page (oml.site.engine.finish_notebook).
    finish = {"title": run.title, "input_path": f"notebooks/{run.template}", "output_path": f"book/{GENERATED}/{run.page}.ipynb"}
    return {"page": run.page, "template": str(root / "notebooks" / run.template), "out": str(work / f"{run.page}.ipynb"),
            "parameters": params, "log": str(log), "error": str(error), "finish": finish, "warm": run.warm}


def _sync(src: Path, dst: Path) -> int:
    """Copy ``src`` into ``dst``; files with identical content are left untouched. Returns files written."""
    written = 0
    for f in src.rglob("*"):
        if f.is_dir():
            continue
        target = dst / f.relative_to(src)
        if target.exists() and filecmp.cmp(f, target, shallow=False):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, target)
        written += 1
    return written


def run_notebooks(runs: list[Run], data_path: Path, data_sha: str, build_dir: Path, force: bool,
                  jobs: int | None, root: Path = paths.ROOT, engine: EngineClient | None = None,
                  timeout: float = DEFAULT_TIMEOUT, publish: bool = True) -> dict:
    """Stage 2: execute stale runs in parallel in the warm engine, reuse the others; returns timing and counts.

    ``engine`` is the build's engine, which may already hold the validated data; without one, a
    new engine is started (and the notebooks read the data themselves) only if something is stale.
    With ``publish=False`` (private runs: feedback reports) nothing is copied into the book.
    """
    code = code_fingerprint(root)
    cache = build_dir / "cache"
    todo, reused = [], []
    for run in runs:
        key = cache_key(run, data_sha, code, root)
        key_file = cache / f"{run.page}.key"
        done = cache / run.page / f"{run.page}.ipynb"
        if not force and key_file.exists() and key_file.read_text() == key and done.exists():
            reused.append(run)
        else:
            todo.append((run, key, key_file))
    if reused:
        _log(f"  [cached]   {len(reused)} page(s) unchanged")
    start = time.perf_counter()
    failures = []
    for _, _, key_file in todo:
        # The key is written back only after success: an interrupted run is never taken for a cached one.
        key_file.unlink(missing_ok=True)
    if todo:
        own = engine is None
        engine = engine or EngineClient(root, build_dir)
        by_page = {run.page: (run, key, key_file) for run, key, key_file in todo}
        jobs_ = [_job(run, data_path, cache / run.page, root) for run, _, _ in todo]
        try:
            for event in engine.execute(jobs_, parallel=max(1, min(jobs or os.cpu_count() or 1, len(todo))),
                                        timeout=timeout):
                run, key, key_file = by_page[event["page"]]
                if event["event"] == "done":
                    key_file.write_text(key)
                    _log(f"  [executed] {run.page} ({event['seconds']:.2f} s)")
                else:
                    failures.append(f"notebook {run.template} ({run.page}) failed: {event['reason']} "
                                    f"(log: {cache / (run.page + '.log')})")
                    _log(f"  [FAILED]   {run.page}")
        finally:
            if own:
                engine.close()
    if failures:
        raise BuildError("; ".join(sorted(failures)) + ". The site was not changed.")
    if not publish:
        return {"executed": len(todo), "reused": len(reused), "seconds": time.perf_counter() - start,
                "files_written": 0, "executed_pages": sorted(run.page for run, _, _ in todo),
                "reused_pages": sorted(run.page for run in reused)}
    generated = root / "book" / GENERATED
    # Pages no longer in the config would linger in the book: remove them.
    keep = {r.page for r in runs}
    if generated.exists():
        for f in [*generated.glob("*.ipynb"), *generated.glob("files/*")]:
            page = f.stem if f.suffix == ".ipynb" else next((p for p in keep if f.name.startswith(f"{p}-") or f.name.startswith(f"{p}.")), None)
            if page not in keep:
                f.unlink()
    written = sum(_sync(cache / run.page, generated) for run in runs)
    return {"executed": len(todo), "reused": len(reused), "seconds": time.perf_counter() - start, "files_written": written,
            "executed_pages": sorted(run.page for run, _, _ in todo), "reused_pages": sorted(run.page for run in reused)}


# ----------------------------------------------------------------------------- fan-out listings
#: How a fan-out column is named in the listing of its part.
COLUMN_LABELS = {"region": "regio", "school_id": "school", "board_id": "bestuur"}
PART_LISTING = """Deze pagina's worden per {column_label} gemaakt uit de gegevens: er is een pagina voor elke
{column_label} die in de gegevens voorkomt.

{pages}
{left_out}"""


def write_listings(runs: list[Run], left_out: list[LeftOut], root: Path = paths.ROOT) -> list[Path]:
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
        target = root / "book" / GENERATED / f"{part}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


# ----------------------------------------------------------------------------- stage 3: site
def run_sphinx(build_dir: Path, root: Path = paths.ROOT) -> float:
    """Stage 3: strict Jupyter Book build into a staging folder, swapped in only on success."""
    stage = build_dir / "stage"
    stage_html = stage / "_build" / "html"
    final = build_dir / "html"
    old = build_dir / "html.old"
    if old.exists() and not final.exists():
        # A previous build died between the two renames of the swap: put the last good site back.
        old.rename(final)
    # Sphinx re-reads changed pages by itself, but not when the book's machinery changes (the
    # site extension, the configuration, the table of contents, the bibliography, the run list,
    # the kind of data): then start from scratch, so no page keeps an old rendering.
    stamp_file = build_dir / "sphinx.stamp"
    stamp = sphinx_fingerprint(root)
    fresh = not stamp_file.exists() or stamp_file.read_text() != stamp
    if fresh and stage.exists():
        shutil.rmtree(stage)
    stamp_file.unlink(missing_ok=True)
    # Otherwise start from the current site, so Sphinx rewrites only changed pages.
    if stage_html.exists():
        shutil.rmtree(stage_html)
    if final.exists() and not fresh:
        shutil.copytree(final, stage_html, copy_function=shutil.copy2)
    start = time.perf_counter()
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(root), "--path-output", str(stage),
           "-W", "-n", "--keep-going", "--quiet"]
    env = {**os.environ, "OML_ROOT": str(root)}
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    log = proc.stdout + proc.stderr
    (build_dir / "sphinx.log").write_text(log, encoding="utf-8")
    if proc.returncode != 0 or not (stage_html / "index.html").exists():
        problems = [line for line in log.splitlines() if any(k in line for k in ("WARNING", "ERROR", "Error", "Exception"))]
        shown = "\n".join(problems[:30]) or log[-3000:]
        raise BuildError(f"the Jupyter Book build failed (warnings are errors); the previous site is unchanged. "
                         f"Full log: {build_dir / 'sphinx.log'}\n{shown}")
    # The PDF edition, linked from every page, made from the staged site: a failure (a BuildError) leaves
    # the previous site and its PDF as they were.
    from oml.site.pdf import build_pdf

    pdf_start = time.perf_counter()
    build_pdf(root, stage_html)
    _log(f"  PDF edition: {time.perf_counter() - pdf_start:.1f} s")
    # The feedback reports demo (synthetic data only) is not a Sphinx page: it is copied in as it is.
    # A site built from real data never keeps one, not even from an earlier build.
    shutil.rmtree(stage_html / "terugkoppeling", ignore_errors=True)
    demo = build_dir / "feedback-site" / "terugkoppeling"
    if demo.is_dir():
        shutil.copytree(demo, stage_html / "terugkoppeling")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        final.rename(old)
    stage_html.rename(final)
    if old.exists():
        shutil.rmtree(old)
    stamp_file.write_text(stamp)
    return seconds


def sphinx_fingerprint(root: Path = paths.ROOT) -> str:
    """Hash of what every page's rendering depends on besides its own source.

    The site extension and static files, ``_config.yml``, ``_toc.yml``, the bibliography,
    the run list and the build info (synthetic or real data). A change means a fresh Sphinx build.
    """
    files = [p for folder in (root / "book" / "_ext", root / "book" / "_static") if folder.exists()
             for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    files += [root / "_config.yml", root / "_toc.yml", root / "book" / "references.bib", root / "notebooks" / "runs.toml"]
    info = root / "book" / GENERATED / "build-info.json"
    return _hash_files([f for f in files if f.exists()] + ([info] if info.exists() else []), root)


def site_inputs(root: Path = paths.ROOT) -> str:
    """Hash of every input of the Sphinx build: the whole book folder and the book's configuration.

    When it equals the hash recorded after the last successful Sphinx run, the site is current.
    """
    files = [p for p in (root / "book").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    files += [p for p in (root / "_build" / "feedback-site").rglob("*") if p.is_file()]  # the reports demo
    files += [root / "_config.yml", root / "_toc.yml", root / "notebooks" / "runs.toml"]
    return _hash_files([f for f in files if f.exists()], root)


def build(data: str | None = None, force: bool = False, jobs: int | None = None, root: Path = paths.ROOT,
          timeout: float | None = None, feedback_demo: bool = True, mapping: str | None = None) -> dict:
    """Run the three stages; raise :class:`BuildError` on any failure. Returns timings."""
    build_dir = root / "_build"
    build_dir.mkdir(exist_ok=True)
    if mapping is not None:  # an extract in its own names and codes -> canonical Parquet (oml.data.mapping)
        data = _mapped(data, mapping, build_dir)
    t0 = time.perf_counter()
    _log(f"oml build: data {'(default synthetic)' if data is None else data}")
    runs, settings = load_config(root / "notebooks" / "runs.toml")
    engine = EngineClient(root, build_dir)
    try:
        groups = sorted({r.for_each for r in runs if r.for_each})
        data_ = prepare_data(data, build_dir, groups, lambda: engine, root)
        _log(f"  data valid: {data_.info['rows']:,} pupils ({'synthetic' if data_.info['synthetic'] else 'real'} data), "
             f"sha256 {data_.sha[:12]}")
        runs = [replace(r, title=_data_title(r.title, data_.info)) for r in runs]  # "{first_year}" in titles
        expanded, left_out = expand_runs(runs, data_.info.get("groups", {}))
        public = [r for r in expanded if not r.private]
        # Data validated by an earlier build: the engine starts, and reads them once, only if a notebook is stale.
        runner = engine if engine.proc is not None else _LazyPrepared(engine, data_.path, groups)
        timeout_ = timeout if timeout is not None else settings.timeout
        nb = run_notebooks(public, data_.path, data_.sha, build_dir, force, jobs, root, runner, timeout_)
        from oml.site import feedback

        # The school and board reports: a demo of synthetic data, encrypted; never with real data.
        # `--skip-feedback` (quick previews) leaves the demo as the last full build made it.
        demo = (feedback.site_demo(expanded, data_, build_dir, root, runner, jobs, timeout_, force)
                if feedback_demo or not data_.info["synthetic"] else None)
        if demo:
            _log(f"  feedback reports: {demo['executed']} executed, {demo['reused']} cached"
                 + (f"; {demo['published']}" if "published" in demo else ""))
    finally:
        engine.close()
    generated = root / "book" / GENERATED
    generated.mkdir(parents=True, exist_ok=True)
    write_listings(expanded, left_out, root)
    for lo in left_out:
        _log(f"  [no page]  {lo.column} = {lo.value}: {lo.reason}")
    info_file = generated / "build-info.json"
    facts = {k: data_.info[k] for k in ("synthetic", "rows", "data_sha256", "data_name")}
    text = json.dumps(facts, indent=1, sort_keys=True)
    if not info_file.exists() or info_file.read_text() != text:
        info_file.write_text(text)
    _log(f"  notebooks: {nb['executed']} executed, {nb['reused']} cached ({nb['seconds']:.1f} s)")
    _versions_page(root, build_dir)
    inputs = site_inputs(root)
    stamp = build_dir / "site-inputs.sha256"
    if (build_dir / "html" / "index.html").exists() and stamp.exists() and stamp.read_text() == inputs:
        _record_build(build_dir, facts, data, root, only_if_stale=True)
        total = time.perf_counter() - t0
        _log(f"  nothing changed: the site is current, Sphinx not run: {build_dir / 'html' / 'index.html'} (total {total:.1f} s)")
        return {"notebooks": nb, "sphinx_seconds": 0.0, "total_seconds": total, "sphinx_ran": False}
    stamp.unlink(missing_ok=True)
    sphinx_seconds = run_sphinx(build_dir, root)
    stamp.write_text(inputs)
    _record_build(build_dir, facts, data, root)  # what `oml release` checks and records
    total = time.perf_counter() - t0
    _log(f"  site built in {sphinx_seconds:.1f} s: {build_dir / 'html' / 'index.html'} (total {total:.1f} s)")
    return {"notebooks": nb, "sphinx_seconds": sphinx_seconds, "total_seconds": total, "sphinx_ran": True}


class _LazyPrepared:
    """An engine that reads the (already validated) data only when a notebook actually runs."""

    def __init__(self, engine: EngineClient, path: Path, groups: list[str]):
        self.engine, self.path, self.groups = engine, path, groups
        self.prepared = engine.proc is not None

    def execute(self, jobs, parallel, timeout):
        if not self.prepared:
            reply = self.engine.prepare(self.path, generate=False, groups=self.groups)
            if not reply.get("ok"):
                raise BuildError(f"invalid input data; the site was not changed.\n{reply['report']}")
            self.prepared = True
        yield from self.engine.execute(jobs, parallel, timeout)


# ----------------------------------------------------------------------------- editions
def _versions_page(root: Path, build_dir: Path) -> None:
    """(Re)write the page "Versies" (:func:`oml.site.editions.write_page`) when one of its inputs changed.

    Its inputs: the recorded editions, this build's number manifests and comparisons, the build
    info, the run list and the module itself. Checked by hash, so a build with nothing to do
    imports nothing for it.
    """
    generated = root / "book" / GENERATED
    files = [p for p in (root / "editions").rglob("*") if p.is_file()] if (root / "editions").is_dir() else []
    files += [*generated.glob("files/*.numbers.json"), *generated.glob("files/*-toetsen.csv"),
              generated / "build-info.json", root / "notebooks" / "runs.toml", root / "oml" / "site" / "editions.py"]
    key = _hash_files([f for f in files if f.exists()], root)
    stamp = build_dir / "versies.stamp"
    page = generated / "versies.md"
    if page.exists() and stamp.exists() and stamp.read_text() == key:
        return
    from oml.site import editions

    editions.write_page(root)
    stamp.write_text(key)


def _record_build(build_dir: Path, info: dict, data: str | None, root: Path, only_if_stale: bool = False) -> None:
    """Write the build record ``oml release`` checks (:func:`oml.site.editions.write_build_record`).

    After a build that changed nothing, the record is rewritten only when the working tree or the
    data differ from what it records (e.g. a README edit), so ``oml release`` can then go ahead.
    """
    from oml.site import editions

    record = build_dir / editions.RECORD
    if only_if_stale and record.exists():
        try:
            old = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        if (old.get("source") == editions.source_fingerprint(root) and old.get("data", {}).get("sha256") == info["data_sha256"]
                and old.get("data", {}).get("default") == (data is None)):
            return
    editions.write_build_record(build_dir, info, data, root)
