"""Stages 1 and 2 of the build: the data (validated once) and the notebooks (executed in the warm engine).

The build's handle on the engine process (:mod:`oml.site.engine`) lives here, with the cache keys
that decide which notebooks are stale.
"""
from __future__ import annotations

import filecmp
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from oml import paths
from oml.data.files import file_sha256  # light: no statistics imported
from oml.site.messages import BuildError, progress
from oml.site.layout import GENERATED
from oml.site.runs import DEFAULT_TIMEOUT, Run
from oml.site.stamps import hash_files

def code_fingerprint(root: Path = paths.ROOT) -> str:
    """Hash of the ``oml`` package source and the pinned requirements (what every notebook runs on)."""
    files = [p for p in (root / "oml").rglob("*") if p.is_file() and p.suffix in (".py", ".toml")]
    return hash_files([*files, root / "requirements.txt"], root)


def cache_key(run: Run, data_sha: str, code: str, root: Path = paths.ROOT) -> str:
    """Everything a page depends on, hashed: template, parameters, code, requirements, data, extra inputs."""
    template = (root / "notebooks" / run.template).read_bytes()
    inputs = hash_files([root / f for f in run.inputs], root) if run.inputs else ""
    payload = json.dumps(
        {"template": hashlib.sha256(template).hexdigest(), "parameters": run.parameters, "page": run.page,
         "title": run.title, "code": code, "data": data_sha, "inputs": inputs},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()



def _portable(path: Path, root: Path) -> str:
    """A data path as the notebooks get it: relative to the project root when inside it.

    The same inputs then give the same executed notebooks wherever the project lives;
    :func:`oml.report.notebook.load_frame` resolves relative paths against the project root.
    """
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


@dataclass
class Data:
    """The build's input: where it is, its hash, facts about it (from the validation)."""

    path: Path
    sha: str
    info: dict


def default_data_path(build_dir: Path, root: Path = paths.ROOT) -> Path:
    """The default synthetic dataset, named after the generator's code and calibration config."""
    generator = hash_files([root / "oml" / "data" / "synth.py", root / "oml" / "config" / "synthetic.toml"], root)[:12]
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


def mapped_extract(data: str | None, mapping: str, build_dir: Path) -> str:
    """The extract ``data`` read through ``mapping``, validated and written as canonical Parquet."""
    from oml.data.contract import DataValidationError
    from oml.data.mapping import convert

    if data is None:
        raise BuildError("--mapping needs --data: the mapping describes a data file")
    try:
        return str(convert(data, mapping, build_dir / "data"))
    except DataValidationError as err:
        raise BuildError(f"invalid input data; the site was not changed.\n{err.report()}") from None


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


class LazyEngine:
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
        progress(f"  [cached]   {len(reused)} page(s) unchanged")
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
                    progress(f"  [executed] {run.page} ({event['seconds']:.2f} s)")
                else:
                    failures.append(f"notebook {run.template} ({run.page}) failed: {event['reason']} "
                                    f"(log: {cache / (run.page + '.log')})")
                    progress(f"  [FAILED]   {run.page}")
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
