"""Stages 1 and 2 of the build: the data (validated once) and the notebooks (executed in the warm engine).

The build's handle on the engine process (:mod:`oml.site.engine`) lives here, with the cache keys
that decide which notebooks are stale.
"""
from __future__ import annotations

import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from oml import paths
from oml.data.facts import DataFacts
from oml.data.files import file_sha256  # light: no statistics imported
from oml.paths import Layout
from oml.site.messages import BuildError, progress
from oml.site.runs import DEFAULT_TIMEOUT, Run
from oml.site.stamps import Stamp, fingerprint, hash_files


def code_fingerprint(layout: Layout) -> str:
    """Hash of the ``oml`` package source and the pinned requirements (what every notebook runs on)."""
    files = [p for p in layout.package.rglob("*") if p.is_file() and p.suffix in (".py", ".toml")]
    return hash_files([*files, layout.requirements], layout.root)


def cache_key(run: Run, data_sha: str, code: str, layout: Layout) -> str:
    """Everything a page depends on, hashed: template, parameters, code, requirements, data, extra inputs."""
    template = hash_files([layout.template(run.template)], layout.notebooks)
    # hD (issue 22): an input may be a glob pattern (the start page reads every edition); a plain path stays a path.
    files = [p for f in run.inputs for p in (sorted(layout.root.glob(f)) if set(f) & set("*?[") else [layout.root / f])]
    inputs = hash_files(files, layout.root) if run.inputs else ""
    return fingerprint({"template": template, "parameters": run.parameters, "page": run.page, "title": run.title,
                        "code": code, "data": data_sha, "inputs": inputs})


def page_stamp(layout: Layout, page: str) -> Stamp:
    """The stamp of one executed page: the cache key of its last successful execution."""
    return Stamp(layout.stamp(f"page-{page}"))


@dataclass
class Data:
    """The build's input: where it is, and its facts (from the validation)."""

    path: Path
    facts: DataFacts

    @property
    def sha(self) -> str:
        return self.facts.sha256


def default_data_path(layout: Layout) -> Path:
    """The default synthetic dataset, named after the generator's code and configuration.

    The generator is all of ``oml/data`` (the school boards, the scales and the contract shape the
    data too) and the configuration it reads: a change to any of them makes new data.
    """
    sources = [p for p in (layout.package / "data").glob("*.py")] + [*(layout.package / "config").glob("*.toml")]
    generator = hash_files(sources, layout.root)[:12]
    return layout.data / f"oml-synthetic-{generator}.parquet"


def prepare_data(data: str | None, layout: Layout, groups: list[str], engine_factory,
                 boards_optional: bool = True) -> Data:
    """Resolve the input; validate it in the engine unless these bytes were validated by this code before.

    ``engine_factory()`` returns the build's (lazily started) engine. ``groups`` are the columns
    that runs fan out over: their values and counts are part of the remembered validation.
    ``boards_optional`` (the public build): board problems leave the boards out instead of refusing
    the data, as boards serve only the private reports (``oml reports`` passes False).
    """
    generate = False
    if data is None:
        path = default_data_path(layout)
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
    # Validation is skipped only for the very same bytes checked by the very same code.
    stamp = Stamp(layout.stamp("data-validation"))
    code = code_fingerprint(layout)
    if not generate:
        sha = file_sha256(path)
        known = stamp.payload(fingerprint(sha, code, sorted(groups), boards_optional))
        if known is not None:
            return Data(path, DataFacts.from_json(known))
    stamp.clear()
    engine = engine_factory()
    reply = engine.prepare(path, generate=generate, groups=groups, boards_optional=boards_optional)
    if not reply.get("ok"):
        raise BuildError(f"invalid input data; the site was not changed.\n{reply['report']}")
    sha = file_sha256(path)
    facts = DataFacts(name=path.name, sha256=sha, **reply["info"])
    stamp.record(fingerprint(sha, code, sorted(groups), boards_optional), facts.to_json())
    return Data(path, facts)


@contextmanager
def private_folder():
    """A folder for private intermediate files (pupil-level data, unencrypted reports): mode 0700, in the
    system's temporary folder (outside the repository), removed when the block ends, also on failure."""
    folder = Path(tempfile.mkdtemp(prefix="oml-private-"))  # mkdtemp: readable by this user only
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def delivered_input(data: str | list[str] | None, mapping: str | None, private: Path,
                    boards_optional: bool = True) -> str | None:
    """The file the build reads: the one file given, or a delivery (several files, a mapping) as canonical Parquet.

    A delivery is read, mapped and checked (:func:`oml.data.extract.convert`) into ``private``
    (:func:`private_folder`): the pupil-level copy never lands in the repository and is gone after the run.
    """
    if data is None:
        if mapping is not None:
            raise BuildError("--mapping needs --data: the mapping describes a delivery")
        return None
    from oml.data.contract import DataValidationError
    from oml.data.extract import convert, resolve_sources

    try:
        sources = resolve_sources([data] if isinstance(data, str | Path) else data)
        if len(sources) == 1 and mapping is None:
            return str(sources[0])
        return str(convert(sources, mapping, private, boards_optional)[0])
    except DataValidationError as err:
        raise BuildError(f"invalid input data; the site was not changed.\n{err.report()}") from None


class EngineClient:
    """The build's handle on the warm engine process (:mod:`oml.site.engine`), started on first use."""

    def __init__(self, layout: Layout):
        self.layout = layout
        self.proc: subprocess.Popen | None = None
        self.log = layout.engine_log
        #: "fork" or "spawn" once started (:func:`oml.site.engine.engine_mode`).
        self.mode: str | None = None

    def _start(self) -> None:
        import oml

        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.log.write_text("", encoding="utf-8")
        # The engine imports the same `oml` package as this process (its folder first on the path).
        package_home = Path(oml.__file__).resolve().parent.parent
        env = {**os.environ, "OML_ROOT": str(self.layout.root), "OML_ENGINE_LOG": str(self.log),
               "PYTHONPATH": os.pathsep.join([str(package_home), *filter(None, [os.environ.get("PYTHONPATH")])])}
        paths.set_cache_environment(self.layout.root, env)
        for key in ("MPLCONFIGDIR", "IPYTHONDIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR", "XDG_CACHE_HOME"):
            Path(env[key]).mkdir(parents=True, exist_ok=True)  # IPython warns about a missing one
        self.proc = subprocess.Popen([sys.executable, "-m", "oml.site.engine"], cwd=package_home, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
                                     encoding="utf-8")
        message = self._read()
        if message.get("event") == "error":
            self.close()
            raise BuildError(f"the notebook engine did not start: {message.get('report')}")
        if message.get("event") != "ready":
            raise BuildError(f"the notebook engine answered {message} instead of 'ready'; log: {self.log}")
        self.mode = message.get("mode", "fork")
        if self.mode != "fork":
            # Slower than forks (imports and data once per notebook): say so, and why.
            progress(f"  notebooks run in spawned worker processes ({message.get('why')}): no fork engine here")

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            self.proc.stdout.close()
            tail = self.log.read_text(encoding="utf-8", errors="replace")[-2000:] if self.log.exists() else ""
            raise BuildError(f"the notebook engine stopped unexpectedly (exit {self.proc.returncode}); "
                             f"log: {self.log}\n{tail}")
        return json.loads(line)

    def _send(self, command: dict) -> None:
        if self.proc is None:
            self._start()
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def prepare(self, path: Path, generate: bool, groups: list[str], boards_optional: bool = True) -> dict:
        """Have the engine (generate,) read and validate the data once and keep it for the notebooks."""
        self._send({"cmd": "prepare", "path": str(path), "generate": generate, "groups": groups,
                    "boards_optional": boards_optional})
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

    #: Set when the command is being stopped (SIGTERM, SIGHUP: :func:`oml.cli.exit_cleanly_on_termination`): then
    #: :meth:`close` stops the engine at once instead of letting it finish the notebooks it was given.
    terminating = False

    def close(self) -> None:
        if self.proc is not None:
            try:
                if EngineClient.terminating:
                    self.proc.terminate()
                self.proc.stdin.close()
                self.proc.wait(timeout=5 if EngineClient.terminating else 30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
            finally:
                self.proc.stdout.close()
            self.proc = None


class LazyEngine:
    """An engine that reads the (already validated) data only when a notebook actually runs."""

    def __init__(self, engine: EngineClient, path: Path, groups: list[str], boards_optional: bool = True):
        self.engine, self.path, self.groups, self.boards_optional = engine, path, groups, boards_optional
        self.prepared = engine.proc is not None

    def execute(self, jobs, parallel, timeout):
        if not self.prepared:
            reply = self.engine.prepare(self.path, generate=False, groups=self.groups, boards_optional=self.boards_optional)
            if not reply.get("ok"):
                raise BuildError(f"invalid input data; the site was not changed.\n{reply['report']}")
            self.prepared = True
        yield from self.engine.execute(jobs, parallel, timeout)


def _job(run: Run, data_path: Path, layout: Layout) -> dict:
    """What the engine needs to execute one run into ``<page cache>/<page>.ipynb`` (cwd = that folder)."""
    work = layout.page_cache(run.page)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    # Published with the notebook: the data file by a public name only; the engine knows the file itself
    # (OML_DATA, resolved by oml.report.notebook.load_frame).
    params = {**run.parameters, "data": layout.public_name(data_path), "page": run.page}
    # The log and the error note live next to the page's folder: the folder itself is published.
    log, error = work.parent / f"{run.page}.log", work.parent / f"{run.page}.error"
    error.unlink(missing_ok=True)
    # The engine's child finishes the executed notebook as a page (oml.site.engine.finish_notebook).
    finish = {"title": run.title, "input_path": layout.template(run.template).relative_to(layout.root).as_posix(),
              "output_path": (layout.generated / f"{run.page}.ipynb").relative_to(layout.root).as_posix()}
    return {"page": run.page, "template": str(layout.template(run.template)), "out": str(work / f"{run.page}.ipynb"),
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


def executed_notebook(layout: Layout, page: str) -> Path:
    """Where the executed notebook of ``page`` is kept."""
    return layout.page_cache(page) / f"{page}.ipynb"


def run_notebooks(runs: list[Run], data_path: Path, data_sha: str, layout: Layout, force: bool,
                  jobs: int | None, engine: EngineClient | None = None,
                  timeout: float = DEFAULT_TIMEOUT, publish: bool = True) -> dict:
    """Stage 2: execute stale runs in parallel in the warm engine, reuse the others; returns timing and counts.

    ``engine`` is the build's engine, which may already hold the validated data; without one, a
    new engine is started (and the notebooks read the data themselves) only if something is stale.
    With ``publish=False`` (private runs: feedback reports) nothing is copied into the book.
    """
    code = code_fingerprint(layout)
    todo, reused = [], []
    for run in runs:
        key = cache_key(run, data_sha, code, layout)
        stamp = page_stamp(layout, run.page)
        if not force and stamp.matches(key) and executed_notebook(layout, run.page).exists():
            reused.append(run)
        else:
            todo.append((run, key, stamp))
    if reused:
        progress(f"  [cached]   {len(reused)} page(s) unchanged")
    start = time.perf_counter()
    failures = []
    for _, _, stamp in todo:
        stamp.clear()  # recorded only after success: an interrupted run is never taken for a cached one
    if todo:
        own = engine is None
        engine = engine or EngineClient(layout)
        by_page = {run.page: (run, key, stamp) for run, key, stamp in todo}
        jobs_ = [_job(run, data_path, layout) for run, _, _ in todo]
        try:
            for event in engine.execute(jobs_, parallel=max(1, min(jobs or os.cpu_count() or 1, len(todo))),
                                        timeout=timeout):
                run, key, stamp = by_page[event["page"]]
                if event["event"] == "done":
                    stamp.record(key)
                    progress(f"  [executed] {run.page} ({event['seconds']:.2f} s)")
                else:
                    failures.append(f"notebook {run.template} ({run.page}) failed: {event['reason']} "
                                    f"(log: {layout.cache / (run.page + '.log')})")
                    progress(f"  [FAILED]   {run.page}")
        finally:
            if own:
                engine.close()
    if failures:
        raise BuildError("; ".join(sorted(failures)) + ". The site was not changed.")
    summary = {"executed": len(todo), "reused": len(reused), "seconds": time.perf_counter() - start,
               "files_written": 0, "executed_pages": sorted(run.page for run, _, _ in todo),
               "reused_pages": sorted(run.page for run in reused)}
    if not publish:
        return summary
    generated = layout.generated
    # Pages no longer in the config would linger in the book: remove them.
    keep = {r.page for r in runs}
    if generated.exists():
        for f in [*generated.glob("*.ipynb"), *layout.fragments.glob("*")]:
            page = f.stem if f.suffix == ".ipynb" else next((p for p in keep if f.name.startswith(f"{p}-") or f.name.startswith(f"{p}.")), None)
            if page not in keep:
                f.unlink()
    summary["files_written"] = sum(_sync(layout.page_cache(run.page), generated) for run in runs)
    return summary
