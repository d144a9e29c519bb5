"""The coverage study (bench/coverage.py): interface, and coverage of the 95 % intervals.

The slow test is the statistical check: over fresh synthetic datasets, the intervals of
contrasts whose true value is 0 must contain 0 in about 95 % of replications, within
3 Monte Carlo standard errors of the nominal level.
"""
from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

NOMINAL = 0.95


@pytest.fixture(scope="module")
def bench():
    # Loaded by path under its own name: "coverage" alone would clash with the coverage.py package.
    name = "bench_coverage"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[2] / "bench" / "coverage.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # worker processes find the module's functions by this name
        spec.loader.exec_module(module)
    return sys.modules[name]


def test_run_coverage_interface(bench):
    out = bench.run_coverage(replications=3, n=600, seed=11, processes=1)
    assert out.columns.tolist()[:4] == ["contrast", "coverage", "mc_se", "replications"]
    assert out.columns.tolist() == bench.COLUMNS
    assert out["contrast"].tolist() == [c[0] for c in bench.CONTRASTS]
    assert (out["replications"] == 3).all() and (out["n"] == 600).all() and (out["truth"] == 0).all()
    assert out["coverage"].isin([0.0, 1 / 3, 2 / 3, 1.0]).all()
    # Reference: binomial Monte Carlo SE sqrt(c (1 - c) / R)
    np.testing.assert_allclose(out["mc_se"], np.sqrt(out["coverage"] * (1 - out["coverage"]) / 3), atol=1e-15)
    assert (out["mean_se"] > 0).all()


def test_run_coverage_is_reproducible(bench):
    a = bench.run_coverage(replications=2, n=500, seed=5, processes=1)
    b = bench.run_coverage(replications=2, n=500, seed=5, processes=1)
    assert a.equals(b)


def test_refuses_when_truth_is_not_zero(bench, monkeypatch):
    config = copy.deepcopy(bench.load_config())
    config["effects"]["year"] = 0.1
    monkeypatch.setattr(bench, "load_config", lambda: config)
    with pytest.raises(ValueError, match="effects.year"):
        bench.run_coverage(replications=1, n=500, processes=1)


def test_rejects_zero_replications(bench):
    with pytest.raises(ValueError, match="replications must be at least 1"):
        bench.run_coverage(replications=0)


@pytest.mark.slow
def test_coverage_is_nominal(bench):
    replications = 100
    out = bench.run_coverage(replications=replications, seed=424_242, processes=2)
    # Monte Carlo SE of a coverage estimate at the nominal level
    mc_se = np.sqrt(NOMINAL * (1 - NOMINAL) / replications)
    for row in out.itertuples(index=False):
        assert abs(row.coverage - NOMINAL) <= 3 * mc_se, f"{row.contrast}: coverage {row.coverage:.3f}"
    # The reported SEs track the spread of the estimates over replications (CR1 is not far off)
    ratio = out["mean_se"] / out["sd_estimate"]
    assert ((ratio > 0.7) & (ratio < 1.4)).all(), ratio.tolist()
