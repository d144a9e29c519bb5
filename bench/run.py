"""Benchmark of the build and the statistics: `make bench`.

Measures, in one run on this machine (so the ratios are comparable):

* clean build of the default synthetic report (papermill and Sphinx time split), median of three;
* no-op rebuild; rebuild after one Markdown edit (median of three edits); rebuild after a data change;
* ``make book`` as a reader gets it (pages, PDF and the encrypted feedback demo): clean, and one edit
  (median of three);
* the single-process floor: every table, figure and finding computed without notebooks;
* the build's floor: importing the stack once (a fresh process) + a Sphinx-only build of the
  same, already executed pages (each the median of three); the clean build is compared with it;
* the marginal cost of one more fan-out page: 50 variants of one template through the engine;
* the statistics of the whole factsheet in one process (default data and 600,000 pupils);
* a national-scale clean build (600,000 synthetic pupils) with its peak memory;
* every school and board report at national scale (about 6.000 schools, 1.000 boards) and the site's
  demo of the reports, each cold: ``bench/reports_scale.py``, run in its own process.

Results go to ``bench/results/bench.json`` (and a Markdown summary next to it); the
targets of the speed issue are checked and printed as met or missed, with the ratio.
Builds run in throw-away copies of the project, never in the developer's ``_build/``.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from oml.site.build import build  # noqa: E402

IGNORE = shutil.ignore_patterns(".venv", "_build", ".git", ".cache", "rapport", "__pycache__", "*.egg-info", "results")
NATIONAL_N = 600_000
MB = 1024 * 1024


class PeakMemory:
    """Samples the memory of this process and all its descendants: largest process, and the whole tree.

    The whole tree is measured twice. ``total`` sums each process's resident set (RSS): the
    engine's forked children share the engine's pages copy-on-write, and RSS counts a shared page
    once in every process that maps it, so this sum overstates what the machine holds. ``pss``
    sums the proportional set size (``Pss`` in ``/proc/<pid>/smaps_rollup``), where a page shared
    by k processes counts 1/k in each: the sum is the memory actually in use.
    """

    def __init__(self, interval: float = 0.25, pid: int | None = None):
        self.interval, self.total, self.largest, self.pss = interval, 0, 0, 0
        self.pid = pid or os.getpid()
        self._stop = threading.Event()

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for status in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = status.read_text().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(status.parent.name))
            except (OSError, IndexError, ValueError):
                continue
        out, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo.extend(children.get(pid, []))
        return out

    @staticmethod
    def _field(pid: int, file: str, name: str) -> int:
        """Bytes of one ``name:  <n> kB`` line of ``/proc/<pid>/<file>`` (0 when the process is gone)."""
        try:
            for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
                if line.startswith(name + ":"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def _run(self):
        while not self._stop.is_set():
            tree = self._tree()
            sizes = [self._field(p, "status", "VmRSS") for p in tree]
            self.total = max(self.total, sum(sizes))
            self.largest = max(self.largest, max(sizes, default=0))
            self.pss = max(self.pss, sum(self._field(p, "smaps_rollup", "Pss") for p in tree))
            time.sleep(self.interval)

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def project_copy(base: Path, name: str) -> Path:
    root = base / name
    shutil.copytree(REPO, root, ignore=IGNORE)
    return root


def quiet_build(root: Path, **kwargs) -> dict:
    # The build prints one line per notebook; keep the benchmark output to its table.
    import contextlib
    import io

    # The pages of the site: the feedback reports demo (~200 encrypted reports) has its own measure
    # below (`oml reports`), so the build ratios compare the pages with their floor.
    kwargs.setdefault("feedback_demo", False)
    with contextlib.redirect_stdout(io.StringIO()):
        return build(root=root, **kwargs)


#: How many times the short, noisy measures are repeated; the median is reported.
REPEATS = 3


def markdown_edit_seconds(root: Path, edits: int = REPEATS, **kwargs) -> tuple[float, list[float]]:
    """The median of ``edits`` rebuilds, each after one more sentence in one Markdown page, and every run.

    One edit costs about ten seconds, where a single run varies by a few seconds: the median is the
    figure, the runs are kept beside it.
    """
    page = root / "book" / "aanbevelingen.md"
    runs = []
    for i in range(edits):
        page.write_text(page.read_text(encoding="utf-8") + f"\nExtra zin {i + 1} voor de benchmark.\n", encoding="utf-8")
        seconds, result = timed(quiet_build, root, **kwargs)
        assert result["notebooks"]["executed"] == 0 and result["sphinx_ran"]
        runs.append(seconds)
    return statistics.median(runs), runs


def floor(frame) -> float:
    """Every table, figure and finding without notebooks or Sphinx, in this process."""
    import matplotlib.pyplot as plt

    from oml.stats.index import add_index
    from oml.report.plotting import answer_bars, diamond_plot, set_theme
    from oml.stats.results import compute_all
    from oml.report.text import summary_sentences

    set_theme()
    start = time.perf_counter()
    result = compute_all(frame)
    add_index(frame)
    for b in result["breakdowns"].values():
        diamond_plot(b.table, b.comparisons).figure.savefig(os.devnull, format="svg")
        summary_sentences(b.findings)
    answer_bars(result["distribution"]).figure.savefig(os.devnull, format="svg")
    plt.close("all")
    return time.perf_counter() - start


def import_stack_seconds() -> float:
    """Importing everything the notebooks use, once, in a fresh process (what the engine pays per build)."""
    code = ("import time; t = time.perf_counter()\nfrom oml.site.engine import warm_up\nwarm_up()\n"
            "print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def sphinx_only_seconds(root: Path) -> float:
    """A fresh Sphinx build of the already executed pages of ``root`` (no notebook runs)."""
    from oml.paths import Layout
    from oml.site.pdf import build_pdf
    from oml.site.sphinx import build_pages, publish_site, site_inputs, site_stamp

    layout = Layout(root)
    shutil.rmtree(layout.stamps, ignore_errors=True)  # a fresh Sphinx build; the PDF is laid out again too
    shutil.rmtree(layout.stage, ignore_errors=True)

    def pages_pdf_swap() -> None:  # what `oml build` does after the notebooks
        build_pages(layout)
        build_pdf(layout, layout.stage_html)
        publish_site(layout)

    seconds = timed(pages_pdf_swap)[0]
    # Leave the project as a finished build left it, so the no-op measure that follows is a no-op.
    site_stamp(layout).record(site_inputs(layout))
    return seconds


def fanout_marginal_seconds(root: Path, variants: int = 50) -> dict:
    """Seconds per extra page: ``variants`` runs of one template against one run, through one warm engine each."""
    from oml.data.files import file_sha256
    from oml.paths import Layout
    from oml.site.runner import EngineClient, default_data_path, run_notebooks
    from oml.site.runs import Run, load_config

    layout = Layout(root)
    bench = Layout(root, build_dir=layout.build / "bench")  # its own cache and stamps: the build's stay as they are
    runs, _ = load_config(layout.runs_config)
    base = next(r for r in runs if r.template == "in_deze_factsheet.ipynb")
    data = default_data_path(layout)

    def execute(n: int) -> float:
        pages = [Run(base.template, f"variant-{i:02d}", f"Variant {i}", base.parameters) for i in range(n)]
        engine = EngineClient(bench)
        try:
            engine.prepare(data, generate=False, groups=[])
            start = time.perf_counter()
            import contextlib
            import io

            with contextlib.redirect_stdout(io.StringIO()):
                run_notebooks(pages, data, file_sha256(data), bench, True, None, engine)
            return time.perf_counter() - start
        finally:
            engine.close()
            shutil.rmtree(layout.generated, ignore_errors=True)

    one, many = execute(1), execute(variants)
    return {"one_seconds": one, "many_seconds": many, "variants": variants,
            "marginal_seconds": (many - one) / (variants - 1)}


def main() -> int:
    from oml.data.io import save
    from oml.stats.results import compute_all
    from oml.data.synth import generate

    out_dir = REPO / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    r: dict = {"machine": {"cores": os.cpu_count()}}
    with tempfile.TemporaryDirectory(prefix="oml-bench-") as tmp:
        tmp = Path(tmp)
        default = generate(history=False)  # the factsheet: floor and statistics timing as before
        r["floor_seconds"] = floor(default)
        r["stats_default_seconds"], _ = timed(compute_all, default)
        print(f"floor (single process, all tables/figures/findings): {r['floor_seconds']:.2f} s", flush=True)

        # The clean build and its floor are the median of three runs each: a single 20-second build on
        # this machine varies by up to a quarter from one run to the next.
        clean_runs = []
        for i in range(REPEATS):
            copy = project_copy(tmp, "default" if i == 0 else f"default-{i + 1}")
            with PeakMemory() as mem:
                seconds, clean = timed(quiet_build, copy)
            clean_runs.append((seconds, clean, mem.total / MB, mem.largest / MB))
            if i:
                shutil.rmtree(copy)
        root = tmp / "default"  # the later measures go on from the first clean build
        r["clean_runs"] = [run[0] for run in clean_runs]
        r["clean_seconds"], clean, total_mb, largest_mb = sorted(clean_runs, key=lambda run: run[0])[REPEATS // 2]
        r["clean_papermill_seconds"] = clean["notebooks"]["seconds"]
        r["clean_sphinx_seconds"] = clean["sphinx_seconds"]
        r["clean_peak_total_mb"], r["clean_peak_process_mb"] = total_mb, largest_mb
        print(f"clean build: {r['clean_seconds']:.1f} s, median of {r['clean_runs']} "
              f"(papermill {r['clean_papermill_seconds']:.1f} s, Sphinx {r['clean_sphinx_seconds']:.1f} s)", flush=True)

        r["import_stack_runs"] = [import_stack_seconds() for _ in range(REPEATS)]
        r["import_stack_seconds"] = statistics.median(r["import_stack_runs"])
        r["sphinx_only_runs"] = [sphinx_only_seconds(root) for _ in range(REPEATS)]
        r["sphinx_only_seconds"] = statistics.median(r["sphinx_only_runs"])
        print(f"build floor: import the stack once {r['import_stack_seconds']:.1f} s + Sphinx-only build "
              f"{r['sphinx_only_seconds']:.1f} s (medians of {REPEATS})", flush=True)

        r["noop_seconds"], noop = timed(quiet_build, root)
        assert noop["notebooks"]["executed"] == 0
        r["markdown_edit_seconds"], r["markdown_edit_runs"] = markdown_edit_seconds(root)
        changed = tmp / "changed.parquet"
        save(generate(seed=7), changed)
        r["data_change_seconds"], dc = timed(quiet_build, root, data=str(changed))
        r["data_change_executed"] = dc["notebooks"]["executed"]
        print(f"no-op {r['noop_seconds']:.1f} s; one Markdown edit {r['markdown_edit_seconds']:.1f} s (median of {REPEATS}); "
              f"data change {r['data_change_seconds']:.1f} s", flush=True)

        # The same, for `make book` as a reader of the site gets it: the pages, the PDF and the
        # demo of the encrypted feedback reports (about 200 reports) in one clean build, then one edit.
        froot = project_copy(tmp, "full")
        r["full_clean_seconds"], _ = timed(quiet_build, froot, feedback_demo=True)
        r["full_markdown_edit_seconds"], r["full_markdown_edit_runs"] = markdown_edit_seconds(froot, feedback_demo=True)
        # Readability (Flesch-Douma) of the summary, the start page and a school report, on this full build.
        from readability import measure as readability  # bench/readability.py (bench/ is this script's folder)

        r["readability"] = [{"text": s.name, "douma": s.douma, "target": s.target} for s in readability(froot)]
        # Page weight and first text on slow 4G in Chromium (bench/page_weight.py), on the same build.
        from page_weight import measure as page_weight

        r["page_weight"] = page_weight(froot)
        shutil.rmtree(froot)
        print(f"make book with the feedback demo: clean {r['full_clean_seconds']:.1f} s; one Markdown edit "
              f"{r['full_markdown_edit_seconds']:.1f} s (median of {REPEATS})", flush=True)

        fan = fanout_marginal_seconds(root)  # last use of this copy: it replaces its pages
        r["fanout"] = fan
        print(f"fan-out: 1 page {fan['one_seconds']:.2f} s, {fan['variants']} pages {fan['many_seconds']:.2f} s: "
              f"{fan['marginal_seconds']:.3f} s per extra page", flush=True)

        # All school and board reports of the default data, as `oml reports` makes them (fresh codes, so
        # every key is derived), and again with the codes unchanged.
        rroot = project_copy(tmp, "reports")
        for label in ("reports_seconds", "reports_again_seconds"):
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "oml.cli", "reports", "--codes", str(tmp / "CODES.csv"),
                                   "--out", str(tmp / "reports-out")], cwd=rroot, env={**os.environ, "OML_ROOT": str(rroot)},
                                  capture_output=True, text=True)
            r[label] = time.perf_counter() - start
            if proc.returncode != 0:
                raise SystemExit(f"oml reports failed:\n{proc.stdout}\n{proc.stderr}")
        r["reports_count"] = len(list((tmp / "reports-out").glob("*.html"))) - 1
        print(f"feedback reports: {r['reports_count']} in {r['reports_seconds']:.1f} s (fresh codes); "
              f"unchanged rebuild {r['reports_again_seconds']:.1f} s", flush=True)

        national = generate(n=NATIONAL_N, history=False)  # the factsheet period at national scale
        r["stats_national_seconds"], result = timed(compute_all, national)
        del result
        path = tmp / "national.parquet"
        save(national, path)
        del national
        nroot = project_copy(tmp, "national")
        # As a researcher runs it: the `oml build` command in its own process, whose whole
        # process tree (papermill, kernels, Sphinx) is measured — not this benchmark's memory.
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "oml.cli", "build", "--data", str(path), "--skip-feedback"], cwd=nroot,
                                env={**os.environ, "OML_ROOT": str(nroot)}, stdout=subprocess.PIPE, text=True)
        with PeakMemory(pid=proc.pid) as mem:
            out, _ = proc.communicate()
        r["national_seconds"] = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"national build failed:\n{out}")
        r["national_peak_total_mb"], r["national_peak_process_mb"] = mem.total / MB, mem.largest / MB
        r["national_peak_pss_mb"] = mem.pss / MB
        print(f"national ({NATIONAL_N:,} pupils): statistics {r['stats_national_seconds']:.1f} s; clean build "
              f"{r['national_seconds']:.1f} s, peak memory {r['national_peak_process_mb']:.0f} MB (largest process), "
              f"{r['national_peak_pss_mb']:.0f} MB (all processes, PSS), {r['national_peak_total_mb']:.0f} MB "
              "(all processes, RSS summed: shared pages counted once per process)", flush=True)

    # The reports at national scale and the site's demo, cold: their own script, in its own process (its
    # lines print as it goes); its targets join the table below.
    scale_json = out_dir / "reports_scale.json"
    subprocess.run([sys.executable, str(REPO / "bench" / "reports_scale.py"), "--json", str(scale_json)], cwd=REPO,
                   check=True)
    r["reports_scale"] = json.loads(scale_json.read_text(encoding="utf-8"))
    # The PDFs' cost and the spawn engine beside the fork engine: their own scripts too (each exits 1 on a
    # missed target or differing numbers; the table below says which).
    for script in ("pdf_cost", "engine_spawn"):
        subprocess.run([sys.executable, str(REPO / "bench" / f"{script}.py")], cwd=REPO, check=False)
        r[script] = json.loads((out_dir / f"{script}.json").read_text(encoding="utf-8"))
    print(f"spawn engine: clean build {r['engine_spawn']['engines']['spawn']['clean_build_seconds']:.1f} s against "
          f"{r['engine_spawn']['engines']['fork']['clean_build_seconds']:.1f} s with fork", flush=True)

    targets = [
        ("statistics, default data, one process", r["stats_default_seconds"], "<", 2.0, "s"),
        ("statistics, 600,000 pupils, one process", r["stats_national_seconds"], "<", 30.0, "s"),
        ("no-op rebuild / clean build", r["noop_seconds"] / r["clean_seconds"], "<=", 0.10, "ratio"),
        ("one Markdown edit / clean make book (pages, PDF, feedback demo)",
         r["full_markdown_edit_seconds"] / r["full_clean_seconds"], "<=", 0.25, "ratio"),
        ("one Markdown edit / clean build of the pages and PDF only",
         r["markdown_edit_seconds"] / r["clean_seconds"], "<=", 0.25, "ratio"),
        ("clean build / (import the stack once + Sphinx-only build)",
         r["clean_seconds"] / (r["import_stack_seconds"] + r["sphinx_only_seconds"]), "<=", 1.5, "ratio"),
        ("marginal cost of one more fan-out page (2 cores)", r["fanout"]["marginal_seconds"], "<=", 0.5, "s"),
        ("all school and board reports, oml reports (fresh codes)", r["reports_seconds"], "<=", 60.0, "s"),
        ("national clean build / default clean build", r["national_seconds"] / r["clean_seconds"], "<=", 3.0, "ratio"),
        ("national peak memory, largest process", r["national_peak_process_mb"], "<=", 2048.0, "MB"),
        ("national peak memory, whole build (all processes, PSS)", r["national_peak_pss_mb"], "<=", 2048.0, "MB"),
        *[(t["target"], t["value"], "<=", t["limit"], t["unit"]) for t in r["reports_scale"]["targets"]],
        ("clean make book growth by the short PDFs", r["pdf_cost"]["clean_growth"], "<=", 0.15, "ratio"),
        ("make book after one Markdown edit / clean make book", r["pdf_cost"]["markdown_edit_share"], "<=", 0.25, "ratio"),
        ("spawn engine: numbers differing from the fork engine's", 0.0 if r["engine_spawn"]["same_numbers"] else 1.0,
         "<=", 0.0, "count"),
        *([] if "not_run" in r["page_weight"] else [
            ("heaviest page, all it loads (Chromium)", r["page_weight"]["heaviest_bytes"] / 1000, "<=",
             r["page_weight"]["limit_bytes"] / 1000, "kB"),
            ("first text of a text page on slow 4G (Chromium)", r["page_weight"]["first_text_ms"], "<=",
             r["page_weight"]["limit_first_text_ms"], "ms")]),
        # Flesch-Douma: higher is easier, so the limit is a floor (negated to fit the table's <=).
        *[(f"readability of {t['text']} (Flesch-Douma, negated: >= {t['target']:g})", -t["douma"], "<=",
           -t["target"], "points") for t in r["readability"]],
    ]
    r["targets"] = [{"target": name, "value": value, "limit": limit, "unit": unit,
                     "met": value < limit if op == "<" else value <= limit} for name, value, op, limit, unit in targets]
    (out_dir / "bench.json").write_text(json.dumps(r, indent=1), encoding="utf-8")
    lines = ["| target | measured | limit | met |", "|---|---|---|---|"]
    for t in r["targets"]:
        lines.append(f"| {t['target']} | {t['value']:.2f} {t['unit']} | {t['limit']:g} {t['unit']} | {'yes' if t['met'] else 'NO'} |")
    (out_dir / "bench.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
