"""Benchmark of the portable engine: a clean build with the spawn engine next to one with the fork engine.

The spawn engine (:mod:`oml.site.engine`) is what runs on Windows and macOS, where the build
cannot fork: warm worker processes each import the stack and read the data once, then execute
notebooks one after another. This script times, on this machine and in one run (so the two are
comparable), a clean ``oml build`` of the default synthetic report (pages, feedback demo, PDF)
with ``OML_ENGINE=fork`` and with ``OML_ENGINE=spawn``, each in a throw-away copy of the project,
``repeat`` times (the median is reported), and checks that both published the same numbers.

Results go to ``bench/results/engine_spawn.json``; one line per engine is printed. Run it as
``python bench/engine_spawn.py [--repeat N]`` (``make bench`` runs it).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
IGNORE = shutil.ignore_patterns(".venv", "_build", ".git", ".cache", "rapport", "__pycache__", "*.egg-info", "results")


def clean_build(engine: str, workdir: Path) -> tuple[float, dict, str]:
    """One clean ``oml build`` with ``OML_ENGINE=engine`` in a fresh copy: (seconds, numbers by key, output)."""
    root = Path(shutil.copytree(REPO, workdir / f"project-{engine}", ignore=IGNORE))
    env = {**os.environ, "OML_ROOT": str(root), "PYTHONPATH": str(root), "OML_ENGINE": engine}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "oml.cli", "build"], cwd=root, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"the {engine} build failed:\n{proc.stdout}\n{proc.stderr}")
    numbers = json.loads((root / "_build" / "html" / "numbers.json").read_text(encoding="utf-8"))["numbers"]
    shutil.rmtree(root, ignore_errors=True)
    return seconds, {n["key"]: n for n in numbers}, proc.stdout


def same_numbers(a: dict, b: dict) -> bool:
    """The same published numbers: the same keys and texts, values equal up to floating-point noise.

    Examples
    --------
    >>> same_numbers({"k": {"text": "1,0", "value": 1.0}}, {"k": {"text": "1,0", "value": 1.0 + 1e-15}})
    True
    """
    def close(x, y):
        return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12) if isinstance(x, float) and isinstance(y, float) else x == y

    return a.keys() == b.keys() and all(a[k].get("text") == b[k].get("text") and close(a[k].get("value"), b[k].get("value"))
                                        for k in a)


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--repeat", type=int, default=1, help="clean builds per engine (the median is reported)")
    args.add_argument("--out", default=str(REPO / "bench" / "results" / "engine_spawn.json"))
    opts = args.parse_args(argv)
    result = {"cores": os.cpu_count(), "repeat": opts.repeat, "engines": {}}
    numbers = {}
    with tempfile.TemporaryDirectory(prefix="oml-bench-engine-") as tmp:
        for engine in ("fork", "spawn"):
            times = []
            for i in range(opts.repeat):
                seconds, numbers[engine], _ = clean_build(engine, Path(tmp) / str(i))
                times.append(seconds)
            result["engines"][engine] = {"clean_build_seconds": statistics.median(times), "runs": times}
    result["same_numbers"] = same_numbers(numbers["fork"], numbers["spawn"])
    fork, spawn = (result["engines"][e]["clean_build_seconds"] for e in ("fork", "spawn"))
    result["spawn_over_fork"] = spawn / fork
    out = Path(opts.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"clean build, fork engine:  {fork:6.1f} s")
    print(f"clean build, spawn engine: {spawn:6.1f} s ({spawn / fork:.2f}x; same numbers: {result['same_numbers']})")
    return 0 if result["same_numbers"] else 1


if __name__ == "__main__":
    sys.exit(main())
