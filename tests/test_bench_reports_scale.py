"""The scale benchmark of the feedback reports (bench/reports_scale.py) runs, at a tiny scale, so it cannot rot.

`make bench` runs it at national scale (about 6.000 schools); here ``--quick`` runs the same code paths
(the ``oml reports`` command and the site's demo, each cold) on 8 schools and checks what it reports.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "reports_scale.py"


@pytest.fixture(scope="module")
def bench():
    name = "bench_reports_scale"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, SCRIPT)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.mark.slow
def test_quick_run_measures_every_report(tmp_path):
    out = tmp_path / "scale.json"
    env = {**os.environ, "MPLCONFIGDIR": str(tmp_path / "mpl"), "TMPDIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--json", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    r = json.loads(out.read_text(encoding="utf-8"))
    # One report per school and per board, made by `oml reports` and again by the site's demo.
    assert r["national_reports"] == r["schools"] + r["boards"] == r["demo_reports"]
    assert r["schools"] >= 5 and r["boards"] >= 2
    assert 0 < r["national_seconds"] < 900 and 0 < r["demo_seconds"] < 900
    # Memory is sampled while the command runs: at least the size of a Python process with the stack loaded.
    assert 50 < r["national_peak_process_mb"] <= r["national_peak_pss_mb"] + r["national_peak_process_mb"]
    assert r["targets"] == []  # a tiny run checks no target
    assert "national reports:" in proc.stdout and "site demo (cold):" in proc.stdout
    # Nothing left behind: the throw-away folder is gone with everything it held.
    assert not list(tmp_path.glob("oml-bench-reports-*")) and not list(tmp_path.glob("oml-private-*"))


def test_targets_met_and_missed(bench):
    result = {"national_seconds": 10.0, "demo_seconds": 61.0}
    checked = {t["target"]: t for t in bench.targets(result)}
    assert len(checked) == 2  # only what was measured
    by_key = {key: name for name, key, _, _ in bench.TARGETS}
    assert checked[by_key["national_seconds"]]["met"] is True
    assert checked[by_key["demo_seconds"]]["met"] is False  # the demo must stay within 60 s


def test_sample_spreads_over_schools_and_boards(bench):
    from oml.site.runs import Run

    runs = [Run("t.ipynb", f"s{i}", "", {"kind": "school"}) for i in range(60)]
    runs += [Run("t.ipynb", f"b{i}", "", {"kind": "board"}) for i in range(10)]
    chosen = bench._sample(runs, 7)
    kinds = [r.parameters["kind"] for r in chosen]
    assert kinds.count("school") == 6 and kinds.count("board") == 1
