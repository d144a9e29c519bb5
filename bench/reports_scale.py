"""Benchmark of the school and board feedback reports at national scale, and of the site's demo.

Two measures, each of a cold run (no report executed before, every key derived):

* **national**: ``oml reports`` on synthetic data of national size (about 6.000 schools in about
  1.000 boards: :func:`oml.data.synth.generate` with 70 pupils per school, the factsheet period), as an
  administrator runs it: one process tree (the command, its warm engine and the engine's forks),
  timed, with its peak memory sampled by :class:`run.PeakMemory` (largest process, and the whole tree
  by PSS). It renders and encrypts every school and board report into a folder.
* **demo**: the encrypted demo of the default synthetic data that ``make book`` publishes
  (:func:`oml.site.unit_reports.site_demo`, about 211 reports), in a fresh copy of the project: the
  engine is started and the data are made first, as the public pages of a build would have done, then
  the demo is timed on its own.

Run it alone (``.venv/bin/python bench/reports_scale.py``; ``--quick`` for a tiny scale, a minute or two,
which the test suite uses so the script cannot rot), or through ``make bench``, which calls it
and prints its targets with the others. It prints one line per measure and, with ``--json FILE``,
writes the figures there. Everything runs in a throw-away folder, never in the project's ``_build/``.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from run import IGNORE, MB, PeakMemory  # noqa: E402  (bench/run.py: the same memory sampler as the other measures)

#: Schools at national scale (groep-8 schools in the Netherlands: about 6.000, in about 1.000 boards).
NATIONAL_SCHOOLS = 6000
#: The tiny scale of ``--quick``: enough schools for boards of one, several and many schools.
QUICK_SCHOOLS = 8

#: Targets on the 2-core machine (docs/benchmark.md gives the reasoning): (name, key, limit, unit).
TARGETS = (
    ("national reports: all school and board reports, oml reports (fresh codes)", "national_seconds", 5400.0, "s"),
    ("national reports: CPU seconds per report", "national_cpu_seconds_per_report", 1.5, "s"),
    ("national reports: peak memory, largest process", "national_peak_process_mb", 3072.0, "MB"),
    ("national reports: peak memory, whole run (all processes, PSS)", "national_peak_pss_mb", 4096.0, "MB"),
    ("site demo of the feedback reports, cold (make book)", "demo_seconds", 60.0, "s"),
)


def pupils_per_school() -> int:
    """The generator's pupils per school over the three years (``oml/config/synthetic.toml``)."""
    from oml.data.synth import load_config

    return int(load_config()["schools"]["pupils_per_school"])


def children_cpu_seconds() -> float:
    """CPU seconds (user + system) of every finished child process tree of this process so far.

    On a shared machine the wall time stretches with the load; the CPU time of the same work barely does,
    so it is recorded beside it (over two cores, an idle machine needs about half of it in wall time).
    """
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def national_data(schools: int, path: Path) -> dict:
    """Synthetic data of about ``schools`` schools (factsheet period only) saved to ``path``; their counts."""
    from oml.data.io import save
    from oml.data.synth import generate

    frame = generate(n=schools * pupils_per_school(), history=False)
    save(frame, path)
    counts = {"pupils": len(frame), "schools": int(frame["school_id"].nunique()),
              "boards": int(frame["board_id"].nunique())}
    del frame
    return counts


def timed_process(command: list[str], what: str) -> tuple[float, float, PeakMemory, str]:
    """Run ``command`` (in the project, ``oml`` importable) in its own process tree: wall seconds, CPU seconds of
    the tree, its peak memory and its standard output. A failure stops the benchmark with ``what`` and the output."""
    env = {**os.environ, "OML_ROOT": str(REPO), "PYTHONPATH": str(REPO)}
    start, cpu = time.perf_counter(), children_cpu_seconds()
    proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with PeakMemory(pid=proc.pid) as mem:
        stdout, stderr = proc.communicate()
    seconds, cpu = time.perf_counter() - start, children_cpu_seconds() - cpu
    if proc.returncode != 0:
        raise SystemExit(f"{what} failed (exit {proc.returncode}):\n{stdout}\n{stderr}")
    return seconds, cpu, mem, stdout


def national_reports(data: Path, tmp: Path, jobs: int | None = None) -> dict:
    """``oml reports`` on ``data`` in its own process tree: seconds, peak memory, reports and bytes written."""
    codes, out = tmp / "CODES.csv", tmp / "reports-out"
    command = [sys.executable, "-m", "oml.cli", "reports", "--data", str(data), "--codes", str(codes), "--out", str(out)]
    if jobs:
        command += ["--jobs", str(jobs)]
    seconds, cpu, mem, stdout = timed_process(command, "oml reports")
    files = [p for p in out.glob("*.html") if p.name != "index.html"]
    return {"national_seconds": seconds, "national_cpu_seconds": cpu, "national_reports": len(files),
            "national_cpu_seconds_per_report": cpu / max(len(files), 1),
            "national_seconds_per_report": seconds / max(len(files), 1),
            "national_bytes": sum(p.stat().st_size for p in files),
            "national_peak_process_mb": mem.largest / MB, "national_peak_pss_mb": mem.pss / MB,
            "national_peak_total_mb": mem.total / MB, "national_summary": stdout.strip().splitlines()[-2:]}


def _sample(runs: list, size: int) -> list:
    """About ``size`` of the report runs, evenly spread over the schools and over the boards (in proportion)."""
    step = max(1, round(len(runs) / size))
    by_kind: dict = {}
    for run in runs:
        by_kind.setdefault(run.parameters["kind"], []).append(run)
    return [run for kind in sorted(by_kind) for run in by_kind[kind][::step]]


def sample_worker(data: Path, tmp: Path, size: int, jobs: int | None) -> dict:
    """What ``oml reports`` does (:func:`oml.site.unit_reports.render_reports`, then publishing), for a sample.

    The data are read and the engine warmed as for every report; then about ``size`` reports, spread over the
    schools and the boards, are rendered and encrypted. Runs in its own process (``--worker``), so the
    memory measured is that of this work alone.
    """
    from oml.access.publish import publish_reports, start_keys
    from oml.paths import Layout
    from oml.site.runner import EngineClient, LazyEngine, prepare_data, private_folder
    from oml.site.runs import expand_runs, load_config
    from oml.site.unit_reports import documents, private_runs, report_entries

    codes, out = tmp / "CODES.csv", tmp / "sample-out"
    start = time.perf_counter()
    with private_folder() as private:
        layout = Layout(REPO, build_dir=private)
        layout.build.mkdir(exist_ok=True)
        runs, settings = load_config(layout.runs_config)
        runs = private_runs(runs)
        engine = EngineClient(layout)
        try:
            groups = sorted({r.for_each for r in runs if r.for_each})
            data_ = prepare_data(str(data), layout, groups, lambda: engine, boards_optional=False)
            expanded, _ = expand_runs(runs, data_.facts.groups, data_.facts.schools)
            chosen = _sample(expanded, size)
            keys = start_keys(report_entries(chosen), codes, jobs=jobs)
            runner = engine if engine.proc is not None else LazyEngine(engine, data_.path, groups, boards_optional=False)
            ready, ready_cpu = time.perf_counter(), _tree_cpu_seconds(engine)
            docs, _ = documents(chosen, data_, layout, runner, jobs, settings.timeout)
        finally:
            engine.close()
    result = publish_reports(docs, codes, out, synthetic=True, keys=keys, jobs=jobs)
    end = time.perf_counter()
    kinds = [k for k, _ in docs]
    return {"sample_all_reports": len(expanded), "sample_reports": len(docs), "sample_schools": kinds.count("school"),
            "sample_boards": kinds.count("board"), "sample_prepare_seconds": ready - start,
            "sample_prepare_cpu_seconds": ready_cpu,
            "sample_reports_seconds": end - ready, "sample_summary": result.summary()}


def _tree_cpu_seconds(engine) -> float:
    """CPU seconds so far of this process and of the engine (with its finished forks)."""
    own = os.times()
    total = own.user + own.system + own.children_user + own.children_system
    if engine.proc is not None:
        try:
            fields = Path(f"/proc/{engine.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime
        except OSError:
            pass
    return total


def sample_reports(data: Path, tmp: Path, size: int, jobs: int | None = None) -> dict:
    """:func:`sample_worker` in its own process tree, timed, with its peak memory; and the whole run extrapolated."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", str(data), str(tmp), str(size)]
    if jobs:
        command += ["--jobs", str(jobs)]
    seconds, cpu, mem, stdout = timed_process(command, "the sample of reports")
    r = json.loads(stdout.strip().splitlines()[-1])
    per_report = r["sample_reports_seconds"] / r["sample_reports"]
    cpu_per_report = (cpu - r["sample_prepare_cpu_seconds"]) / r["sample_reports"]
    r["sample_cpu_seconds_per_report"] = cpu_per_report
    # An idle 2-core machine: the CPU time spread over both cores (the reports run two at a time).
    r["sample_extrapolated_idle_seconds"] = (cpu + cpu_per_report * (r["sample_all_reports"] - r["sample_reports"])) / 2
    r.update({"sample_seconds": seconds, "sample_cpu_seconds": cpu, "sample_seconds_per_report": per_report,
              "sample_extrapolated_seconds": seconds + per_report * (r["sample_all_reports"] - r["sample_reports"]),
              "sample_peak_process_mb": mem.largest / MB, "sample_peak_pss_mb": mem.pss / MB})
    return r


def demo_reports(tmp: Path, data: Path | None = None, jobs: int | None = None) -> dict:
    """The site's demo (:func:`oml.site.unit_reports.site_demo`), cold, in a fresh copy of the project.

    ``data`` None is the default synthetic data (what ``make book`` uses). The engine start and the data
    are not timed: in a build the public pages have paid for them before the demo runs.
    """
    from oml.paths import Layout
    from oml.site.runner import EngineClient, LazyEngine, prepare_data
    from oml.site.runs import expand_runs, load_config
    from oml.site.unit_reports import private_runs, site_demo

    root = tmp / "demo-project"
    shutil.copytree(REPO, root, ignore=IGNORE)
    layout = Layout(root)
    layout.build.mkdir(exist_ok=True)
    runs, settings = load_config(layout.runs_config)
    engine = EngineClient(layout)
    try:
        groups = sorted({r.for_each for r in runs if r.for_each})
        data_ = prepare_data(None if data is None else str(data), layout, groups, lambda: engine)
        expanded, _ = expand_runs(runs, data_.facts.groups, data_.facts.schools)
        runner = engine if engine.proc is not None else LazyEngine(engine, data_.path, groups)
        start, cpu = time.perf_counter(), _tree_cpu_seconds(engine)
        with contextlib.redirect_stdout(io.StringIO()):
            demo = site_demo(expanded, data_, layout, runner, jobs, settings.timeout)
        seconds, cpu = time.perf_counter() - start, _tree_cpu_seconds(engine) - cpu
    finally:
        engine.close()
    if not demo or demo["executed"] != len(private_runs(expanded)):
        raise SystemExit(f"the demo did not execute every report cold: {demo}")
    files = [p for p in layout.report_demo.rglob("*.html") if p.name != "index.html"]
    shutil.rmtree(root, ignore_errors=True)
    return {"demo_seconds": seconds, "demo_cpu_seconds": cpu, "demo_reports": len(files),
            "demo_published": demo.get("published", "")}


def targets(result: dict) -> list[dict]:
    """Each target of :data:`TARGETS` that ``result`` measured, with its value and whether it is met."""
    return [{"target": name, "value": result[key], "limit": limit, "unit": unit, "met": result[key] <= limit}
            for name, key, limit, unit in TARGETS if key in result]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"a tiny scale ({QUICK_SCHOOLS} schools, the demo on the same data): checks that it runs")
    parser.add_argument("--schools", type=int, default=None, help=f"schools at national scale (default {NATIONAL_SCHOOLS})")
    parser.add_argument("--skip-demo", action="store_true", help="measure the national run only")
    parser.add_argument("--skip-national", action="store_true", help="measure the site demo only")
    parser.add_argument("--jobs", type=int, default=None, help="reports at a time (default: all cores)")
    parser.add_argument("--sample", type=int, default=None,
                        help="national data, but only about this many reports (spread over schools and boards), "
                             "and the whole run extrapolated: a quick look at a scale the full run takes long for")
    parser.add_argument("--json", type=Path, default=None, help="write the figures to this file")
    parser.add_argument("--worker", nargs=3, metavar=("DATA", "TMP", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        data, tmp, size = args.worker
        print(json.dumps(sample_worker(Path(data), Path(tmp), int(size), args.jobs)))
        return 0
    schools = args.schools or (QUICK_SCHOOLS if args.quick else NATIONAL_SCHOOLS)
    r: dict = {"machine": {"cores": os.cpu_count()}, "quick": args.quick, "schools_asked": schools}
    with tempfile.TemporaryDirectory(prefix="oml-bench-reports-") as tmp:
        tmp = Path(tmp)
        data = tmp / "national.parquet"
        if not args.skip_national or args.quick:
            r.update(national_data(schools, data))
        if not args.skip_national:
            print(f"national data: {r['pupils']:,} pupils, {r['schools']:,} schools, {r['boards']:,} boards", flush=True)
        if args.sample and not args.skip_national:
            r.update(sample_reports(data, tmp, args.sample, args.jobs))
            print(f"national data, a sample of {r['sample_reports']} reports ({r['sample_schools']} schools, "
                  f"{r['sample_boards']} boards) of {r['sample_all_reports']:,}: {r['sample_seconds']:.1f} s, of which "
                  f"engine and data {r['sample_prepare_seconds']:.1f} s and {r['sample_seconds_per_report']:.3f} s per "
                  f"report; CPU {r['sample_cpu_seconds']:.0f} s, {r['sample_cpu_seconds_per_report']:.2f} s per report; "
                  f"all reports extrapolated: {r['sample_extrapolated_seconds'] / 60:.0f} min at this load, "
                  f"{r['sample_extrapolated_idle_seconds'] / 60:.0f} min on 2 idle cores; peak memory "
                  f"{r['sample_peak_process_mb']:.0f} MB (largest process), {r['sample_peak_pss_mb']:.0f} MB (PSS)",
                  flush=True)
        elif not args.skip_national:
            r.update(national_reports(data, tmp, args.jobs))
            print(f"national reports: {r['national_reports']:,} in {r['national_seconds']:.1f} s "
                  f"({r['national_seconds_per_report']:.3f} s per report; CPU {r['national_cpu_seconds_per_report']:.2f} s "
                  f"per report), {r['national_bytes'] / MB:.0f} MB written; "
                  f"peak memory {r['national_peak_process_mb']:.0f} MB (largest process), "
                  f"{r['national_peak_pss_mb']:.0f} MB (all processes, PSS)", flush=True)
        if not args.skip_demo:
            # --quick: the demo's code path on the tiny data; otherwise the default data of `make book`.
            r.update(demo_reports(tmp, data if args.quick else None, args.jobs))
            print(f"site demo (cold): {r['demo_reports']} reports in {r['demo_seconds']:.1f} s (CPU "
                  f"{r['demo_cpu_seconds']:.1f} s; load average {os.getloadavg()[0]:.1f})", flush=True)
    r["load_average"] = os.getloadavg()  # the machine is shared: a high load stretches every time above
    r["targets"] = targets(r) if not (args.quick or args.sample) else []
    for t in r["targets"]:
        print(f"  {t['target']}: {t['value']:.2f} {t['unit']} (limit {t['limit']:g}): {'met' if t['met'] else 'MISSED'}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(r, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
