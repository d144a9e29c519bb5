"""Stage 3 of the build: the strict Jupyter Book build into a staging folder, swapped in only on success."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from oml import paths
from oml.site.messages import BuildError, progress
from oml.site.layout import GENERATED
from oml.site.stamps import hash_files

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
    progress(f"  PDF edition: {time.perf_counter() - pdf_start:.1f} s")
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
    return hash_files([f for f in files if f.exists()] + ([info] if info.exists() else []), root)


def site_inputs(root: Path = paths.ROOT) -> str:
    """Hash of every input of the Sphinx build: the whole book folder and the book's configuration.

    When it equals the hash recorded after the last successful Sphinx run, the site is current.
    """
    files = [p for p in (root / "book").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    files += [p for p in (root / "_build" / "feedback-site").rglob("*") if p.is_file()]  # the reports demo
    files += [root / "_config.yml", root / "_toc.yml", root / "notebooks" / "runs.toml"]
    return hash_files([f for f in files if f.exists()], root)
