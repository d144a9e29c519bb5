"""``oml build``: validate the data, execute the notebook templates, build the site.

Stages
------
1. **Data.** The given file, or the default synthetic dataset (written to
   ``_build/data/``), is validated against the contract; invalid data stop the build
   with the full report before anything is written.
2. **Notebooks.** Every run in ``notebooks/runs.toml`` is executed by papermill with its
   parameters, in parallel, into ``_build/cache/<page>/``. A run is re-executed only when
   something it depends on changed — its template, its parameters, the ``oml`` package
   source, the pinned requirements or the data (content hash); otherwise the cached copy is
   reused. ``force=True`` re-executes all. Only when every notebook succeeded are the pages
   copied into ``book/rapport/`` (unchanged files are left untouched, so Sphinx re-reads
   only what changed).
3. **Site.** Jupyter Book builds with notebook execution off and ``-W -n --keep-going``
   into a staging folder; only a successful build replaces ``_build/html``. A failed build
   leaves the previous site as it was.
"""
from __future__ import annotations

import concurrent.futures as futures
import filecmp
import hashlib
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from oml import paths
from oml.data.contract import DataValidationError

GENERATED = "rapport"  # book/<GENERATED>/: executed pages the book picks up (gitignored)


class BuildError(RuntimeError):
    """A build stage failed; the message says which and why."""


@dataclass
class Run:
    """One execution of a template with its parameters."""

    template: str
    page: str
    title: str
    parameters: dict = field(default_factory=dict)
    #: Files the notebook reads besides the data (relative to the project root): part of its cache key.
    inputs: list[str] = field(default_factory=list)


def load_runs(config: Path = paths.RUNS_CONFIG) -> list[Run]:
    """The runs of ``notebooks/runs.toml``, defaults merged into each run's parameters.

    Examples
    --------
    >>> runs = load_runs()
    >>> sum(r.template == "verschillen.ipynb" for r in runs)
    4
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
        runs.append(Run(r["template"], r["page"], r["title"], {**defaults, **r.get("parameters", {})}, list(r.get("inputs", []))))
    pages = [r.page for r in runs]
    problems += [f"page '{p}' appears more than once" for p in sorted({p for p in pages if pages.count(p) > 1})]
    if not runs and not problems:
        problems.append("no [[run]] entries")
    if problems:
        raise BuildError(f"{config}: " + "; ".join(problems))
    return runs


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


def _validate(path: str) -> dict:
    """Load and validate ``path`` (run in a child process): facts about the data, or the report."""
    from oml.data.io import load
    from oml.data.synth import is_synthetic

    try:
        frame = load(path)
    except DataValidationError as err:
        return {"report": err.report()}
    return {"synthetic": is_synthetic(frame), "rows": len(frame),
            "first_year": int(frame["year"].min()), "last_year": int(frame["year"].max())}  # for run titles


def prepare_data(data: str | None, build_dir: Path, root: Path = paths.ROOT) -> tuple[Path, str, dict]:
    """Resolve and validate the input; returns its path, content hash and build info."""
    from oml.data.io import file_sha256, save
    from oml.data.synth import generate

    if data is None:
        # Named after the generator's code and calibration config: a change to either makes new data.
        generator = _hash_files([root / "oml" / "data" / "synth.py", root / "oml" / "config" / "synthetic.toml"], root)[:12]
        path = build_dir / "data" / f"oml-synthetic-{generator}.parquet"
        if not path.exists():
            for stale in path.parent.glob("oml-synthetic-*.parquet"):
                stale.unlink()
            save(generate(), path)
    else:
        path = Path(data).resolve()
    sha = file_sha256(path) if path.is_file() else ""
    # Validation is skipped only for the very same bytes checked by the very same code.
    stamp = build_dir / "data" / f"validated-{hashlib.sha256((sha + code_fingerprint(root)).encode()).hexdigest()[:32]}.json"
    if sha and stamp.exists():
        return path, sha, json.loads(stamp.read_text(encoding="utf-8"))
    # Validate in a child process: the build process itself then never holds the dataset,
    # which matters for peak memory at national scale while the notebooks run.
    with futures.ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
        result = pool.submit(_validate, str(path)).result()
    if "report" in result:
        raise BuildError(f"invalid input data; the site was not changed.\n{result['report']}")
    info = {**result, "data_sha256": sha, "data_name": path.name}
    stamp.parent.mkdir(parents=True, exist_ok=True)
    for old in stamp.parent.glob("validated-*.json"):
        old.unlink()
    stamp.write_text(json.dumps(info, sort_keys=True), encoding="utf-8")
    return path, sha, info


def _mapped(data: str | None, mapping: str, build_dir: Path) -> str:
    """The extract ``data`` read through ``mapping``, validated and written as canonical Parquet."""
    from oml.data.mapping import convert

    if data is None:
        raise BuildError("--mapping needs --data: the mapping describes a data file")
    try:
        return str(convert(data, mapping, build_dir / "data"))
    except DataValidationError as err:
        raise BuildError(f"invalid input data; the site was not changed.\n{err.report()}") from None


def _postprocess(nb_path: Path, run: Run) -> None:
    """Give the executed page its title, hide papermill's injected-parameters cell, drop run-specific metadata."""
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags:
            cell.id = "injected-parameters"  # papermill draws a random id
            if "remove-cell" not in tags:
                tags.append("remove-cell")
    meta = nb.metadata.get("papermill", {})
    meta["input_path"] = f"notebooks/{run.template}"
    meta["output_path"] = f"book/{GENERATED}/{run.page}.ipynb"
    title = nbformat.v4.new_markdown_cell(f"# {run.title}")
    title.id = "title"
    nb.cells.insert(0, title)
    # No execution timestamps: the same inputs give the same page.
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata.get("papermill", {}).pop("start_time", None)
    nb.metadata.get("papermill", {}).pop("end_time", None)
    nb.metadata.get("papermill", {}).pop("duration", None)
    for cell in nb.cells:
        pm = cell.metadata.get("papermill")
        if pm:
            for k in ("start_time", "end_time", "duration"):
                pm.pop(k, None)
    nbformat.write(nb, nb_path)


def execute(run: Run, data_path: Path, work: Path, root: Path = paths.ROOT) -> float:
    """Execute one run with papermill into ``work/<page>.ipynb`` (cwd = ``work``); returns seconds.

    Each run is its own papermill process: kernels are isolated, parallel runs cannot
    disturb each other, and kernel chatter is captured instead of cluttering the progress.
    """
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    out = work / f"{run.page}.ipynb"
    params = {**run.parameters, "data": _portable(data_path, root), "page": run.page}
    cmd = [sys.executable, "-m", "papermill", str(root / "notebooks" / run.template), str(out),
           "--cwd", str(work), "-y", json.dumps(params), "--kernel", "python3", "--no-progress-bar",
           "--no-request-save-on-cell-execute", "--no-log-output"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, env={**os.environ, "OML_ROOT": str(root)})
    if proc.returncode != 0:
        (work / "papermill.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
        reason = _papermill_reason(proc.stderr)
        raise BuildError(f"notebook {run.template} ({run.page}) failed: {reason} (log: {work / 'papermill.log'})")
    _postprocess(out, run)
    return time.perf_counter() - start


def _portable(path: Path, root: Path) -> str:
    """A data path as the notebooks get it: relative to the project root when inside it.

    The same inputs then give the same executed notebooks wherever the project lives;
    :func:`oml.report.notebook.load_frame` resolves relative paths against the project root.
    """
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _papermill_reason(stderr: str) -> str:
    """The informative part of a papermill failure: the failing cell and the exception line.

    Examples
    --------
    >>> _papermill_reason('PapermillExecutionError: \\nException encountered at "In [3]":\\nValueError: bad\\n')
    'cell In [3]: ValueError: bad'
    """
    import re

    text = re.sub(r"\x1b\[[0-9;]*m", "", stderr)
    lines = [line.strip() for line in text.splitlines() if line.strip() and not set(line.strip()) <= {"-"}]
    cell = re.search(r'Exception encountered at "([^"]+)"', text)
    last = lines[-1] if lines else "unknown error"
    return (f"cell {cell.group(1)}: {last}" if cell else last)[:600]


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
                  jobs: int | None, root: Path = paths.ROOT) -> dict:
    """Stage 2: execute stale runs in parallel, reuse the others; returns timing and counts."""
    code = code_fingerprint(root)
    cache = build_dir / "cache"
    todo, reused = [], []
    for run in runs:
        key = cache_key(run, data_sha, code, root)
        key_file = cache / f"{run.page}.key"
        done = cache / run.page / f"{run.page}.ipynb"
        if not force and key_file.exists() and key_file.read_text() == key and done.exists():
            reused.append(run)
            _log(f"  [cached]   {run.page}")
        else:
            todo.append((run, key, key_file))
    jobs = jobs or os.cpu_count() or 1
    start = time.perf_counter()
    failures = []
    for _, _, key_file in todo:
        # The key is written back only after success: an interrupted run is never taken for a cached one.
        key_file.unlink(missing_ok=True)
    with futures.ThreadPoolExecutor(max_workers=max(1, min(jobs, len(todo) or 1))) as pool:
        pending = {pool.submit(execute, run, data_path, cache / run.page, root): (run, key, key_file) for run, key, key_file in todo}
        for fut in futures.as_completed(pending):
            run, key, key_file = pending[fut]
            try:
                seconds = fut.result()
            except BuildError as err:
                failures.append(str(err))
                key_file.unlink(missing_ok=True)
                _log(f"  [FAILED]   {run.page}")
                continue
            key_file.write_text(key)
            _log(f"  [executed] {run.page} ({seconds:.1f} s)")
    if failures:
        raise BuildError("; ".join(failures) + ". The site was not changed.")
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


def build(data: str | None = None, force: bool = False, jobs: int | None = None, root: Path = paths.ROOT,
          mapping: str | None = None) -> dict:
    """Run the three stages; raise :class:`BuildError` on any failure. Returns timings."""
    build_dir = root / "_build"
    build_dir.mkdir(exist_ok=True)
    if mapping is not None:  # an extract in its own names and codes -> canonical Parquet (oml.data.mapping)
        data = _mapped(data, mapping, build_dir)
    t0 = time.perf_counter()
    _log(f"oml build: data {'(default synthetic)' if data is None else data}")
    data_path, data_sha, info = prepare_data(data, build_dir, root)
    _log(f"  data valid: {info['rows']:,} pupils ({'synthetic' if info['synthetic'] else 'real'} data), sha256 {data_sha[:12]}")
    runs = load_runs(root / "notebooks" / "runs.toml")
    runs = [Run(r.template, r.page, r.title.format_map(info), r.parameters, r.inputs) for r in runs]  # "{first_year}" in titles
    nb = run_notebooks(runs, data_path, data_sha, build_dir, force, jobs, root)
    generated = root / "book" / GENERATED
    generated.mkdir(parents=True, exist_ok=True)
    info_file = generated / "build-info.json"
    text = json.dumps(info, indent=1, sort_keys=True)
    if not info_file.exists() or info_file.read_text() != text:
        info_file.write_text(text)
    _log(f"  notebooks: {nb['executed']} executed, {nb['reused']} cached ({nb['seconds']:.1f} s)")
    sphinx_seconds = run_sphinx(build_dir, root)
    total = time.perf_counter() - t0
    _log(f"  site built in {sphinx_seconds:.1f} s: {build_dir / 'html' / 'index.html'} (total {total:.1f} s)")
    return {"notebooks": nb, "sphinx_seconds": sphinx_seconds, "total_seconds": total}
