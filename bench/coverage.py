"""Simulation study: coverage of the 95 % intervals of the adjusted-mean contrasts.

Each replication draws a fresh synthetic dataset from :func:`oml.data.synth.generate` (new
schools, school effects, pupils; seed ``seed + r``), builds the index, fits the figures'
models with school-clustered (CR1) covariance and forms the contrasts of
:func:`oml.stats.comparisons.compare`. Coverage is the share of replications whose interval
contains the true value.

Why only contrasts whose truth is 0: the index is standardised within each dataset, so a
cell's true adjusted mean on the index scale is not a config number (and the
Maastricht-Heuvelland - Sittard-Geleen gap of 0.26 on the latent scale is not known on
the index scale). A contrast whose true value is 0 on the latent scale, however, is 0 on
any rescaling of it. In the generator the latent relation depends on school and region
only (``effects.year = 0``; sex and parental education are drawn independently of
everything), and year, sex and parental education are assigned independently of school,
so these contrasts have truth 0:

* every year contrast (last vs first year), overall and within each sex;
* girls vs boys in the last year;
* two regions with the same configured region effect (Noord- vs Midden-Limburg);
* two parental-education groups in the last year (the two smallest groups).

Run ``python bench/coverage.py`` to write ``bench/coverage.csv`` (committed: the methods chapter reads it; ``--out`` writes elsewhere).

**The data at hand** (``--data PATH [--mapping FILE]``, issue 24 point 4): the study above simulates the
generator's clustering, not that of the data being published. With ``--data`` the simulation starts from the
data themselves (:func:`run_coverage_on_data`, i.e. :func:`oml.stats.robustness.simulated_coverage`): their
schools, cluster sizes and participation per year, their pupils' backgrounds, and the ICC and residual variance
of the random-intercept model fitted to them; every published conclusion's interval (CR1 as published, and CR2
with t) is checked. It writes ``bench/results/coverage-data.csv`` (not the committed file; ``--out`` elsewhere).
Every build runs the same function on its own data (1,000 draws, a few seconds) and shows the result in the
methods chapter, so a real build reports the coverage of its own intervals without this script.
"""
from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from oml.stats.comparisons import compare
from oml.stats.index import add_index
from oml.stats.models import adjusted_means
from oml.paths import COVERAGE
from oml.data.synth import generate, load_config

COLUMNS = ["contrast", "coverage", "mc_se", "replications", "by", "truth", "mean_estimate", "sd_estimate", "mean_se",
           "level", "n"]
DEFAULT_SEED = 700_000  # far from the book's seed, so replication 0 is not the published dataset

#: (name, breakdown, family, group_a, group_b); the estimate is b minus a (later minus earlier year).
CONTRASTS = [
    ("jaar: laatste t.o.v. eerste jaar, alle leerlingen", None, "first_last", "totaal", "totaal"),
    ("jaar: laatste t.o.v. eerste jaar, jongens", "sex", "first_last", "jongen", "jongen"),
    ("jaar: laatste t.o.v. eerste jaar, meisjes", "sex", "first_last", "meisje", "meisje"),
    ("geslacht: meisjes t.o.v. jongens, laatste jaar", "sex", "between", "jongen", "meisje"),
    ("regio: Midden-Limburg t.o.v. Noord-Limburg, laatste jaar", "region", "between", "Noord-Limburg", "Midden-Limburg"),
    ("opleiding ouders: wo t.o.v. mbo of lager, laatste jaar", "parent_education", "between", "mbo of lager", "wo"),
]


def _check_truth_is_zero() -> None:
    """Refuse to run if the generator's config no longer makes these contrasts 0."""
    effects = load_config()["effects"]
    if effects["year"] != 0:
        raise ValueError(f"effects.year is {effects['year']}; the year contrasts no longer have truth 0")
    for _, by, _family, a, b in CONTRASTS:
        if by == "region" and effects.get(f"region.{a}", 0.0) != effects.get(f"region.{b}", 0.0):
            raise ValueError(f"regions {a!r} and {b!r} have different effects; their contrast is not 0")


def _replicate(args: tuple[int, int | None, float]) -> list[dict]:
    """One replication: the contrasts of CONTRASTS on a fresh dataset."""
    seed, n, level = args
    frame = add_index(generate(n=n, seed=seed, history=False))
    rows = []
    cache: dict = {}
    for name, by, family, a, b in CONTRASTS:
        if by not in cache:
            cache[by] = compare(adjusted_means(frame, by, level=level))
        c = cache[by]
        hit = c[(c["family"] == family) & (c["group_a"] == a) & (c["group_b"] == b)]
        if len(hit) != 1:
            raise RuntimeError(f"seed {seed}: expected one {family} comparison {a!r} vs {b!r}, found {len(hit)}")
        r = hit.iloc[0]
        rows.append({"contrast": name, "by": "totaal" if by is None else by, "seed": seed,
                     "estimate": float(r["estimate"]), "se": float(r["se"]),
                     "covered": bool(r["ci_low"] <= 0.0 <= r["ci_high"])})
    return rows


def _worker_setup() -> None:
    # statsmodels' multipletests(method="holm") calls gc.collect() on every call (statsmodels PR #8671,
    # not merged in 0.15); with pandas/statsmodels/scipy loaded that full collection costs ~0.08 s and
    # compare() makes ~3 per figure. Freezing the objects alive at start-up (modules, config) takes
    # them out of every later collection: same results, about 2.5x faster replications.
    gc.freeze()
    # Two worker processes on two cores: keep each one's BLAS to one thread (no oversubscription).
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional; results do not depend on it
        return
    threadpool_limits(1)


def run_coverage(replications: int = 500, n: int | None = None, seed: int = DEFAULT_SEED, level: float = 0.95,
                 processes: int | None = None) -> pd.DataFrame:
    """Coverage of the ``level`` intervals of contrasts with true value 0, over fresh synthetic datasets.

    Parameters
    ----------
    replications : int
        Number of datasets; replication ``r`` uses ``generate(n, seed + r)``.
    n : int, optional
        Pupils per dataset; default the published N.
    seed : int
        Base seed.
    level : float
        Confidence level of the intervals.
    processes : int, optional
        Worker processes; default ``min(2, cores)``; 1 runs in this process.

    Returns
    -------
    DataFrame
        One row per contrast: ``contrast``, ``coverage`` (share of intervals containing 0),
        ``mc_se`` (Monte Carlo SE, :math:`\\sqrt{\\hat c(1-\\hat c)/R}`), ``replications``, then
        ``by``, ``truth``, ``mean_estimate``, ``sd_estimate`` (spread of the estimates over
        replications), ``mean_se`` (mean reported SE; close to ``sd_estimate`` when the
        cluster-robust SE is right), ``level`` and ``n``.
    """
    if replications < 1:
        raise ValueError(f"replications must be at least 1, not {replications}")
    _check_truth_is_zero()
    processes = min(2, os.cpu_count() or 1) if processes is None else processes
    tasks = [(seed + r, n, level) for r in range(replications)]
    if processes > 1:
        # fork: workers inherit the imported modules (and, under pytest, the warning filters)
        with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"),
                                 initializer=_worker_setup) as pool:
            results = list(pool.map(_replicate, tasks, chunksize=max(1, replications // (4 * processes))))
    else:
        gc.freeze()  # see _worker_setup; undone below so the caller's process is left as it was
        try:
            results = [_replicate(t) for t in tasks]
        finally:
            gc.unfreeze()
    draws = pd.DataFrame([row for rows in results for row in rows])
    out = []
    for name, *_ in CONTRASTS:
        d = draws[draws["contrast"] == name]
        coverage = float(d["covered"].mean())
        out.append({
            "contrast": name,
            "coverage": coverage,
            "mc_se": float(np.sqrt(coverage * (1 - coverage) / len(d))),
            "replications": len(d),
            "by": d["by"].iloc[0],
            "truth": 0.0,
            "mean_estimate": float(d["estimate"].mean()),
            "sd_estimate": float(d["estimate"].std(ddof=1)) if len(d) > 1 else float("nan"),
            "mean_se": float(d["se"].mean()),
            "level": level,
            "n": int(load_config()["n"] if n is None else n),
        })
    return pd.DataFrame(out, columns=COLUMNS)


def run_coverage_on_data(data: str | Path, mapping: str | Path | None = None, replications: int = 1000,
                         level: float = 0.95, seed: int | None = None) -> pd.DataFrame:
    """Coverage of every published conclusion's interval, simulated from the data at ``data`` (module docstring).

    ``data`` and ``mapping`` as ``oml build --data … --mapping …`` takes them; the factsheet's period (the latest
    answer scale) is used, as on the pages.
    """
    from oml.data.scales import current_period
    from oml.report.notebook import load_frame
    from oml.stats.results import breakdowns
    from oml.stats.robustness import COVERAGE_SEED, simulated_coverage

    frame = current_period(add_index(load_frame(str(data), None if mapping is None else str(mapping))))
    return simulated_coverage(frame, breakdowns(frame, level), replications, level,
                              COVERAGE_SEED if seed is None else seed)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replications", type=int, default=500)
    p.add_argument("--n", type=int, default=None, help="pupils per dataset (default: the published N)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--processes", type=int, default=None)
    # Default: the committed result the methods chapter reads (oml.paths.COVERAGE).
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--data", default=None, help="simulate from these data (file, folder or pattern) instead of the generator")
    p.add_argument("--mapping", default=None, help="mapping file (TOML) of --data, as for `oml build`")
    args = p.parse_args(argv)
    if args.mapping is not None and args.data is None:
        p.error("--mapping needs --data")
    if args.data is not None:
        start = time.perf_counter()
        table = run_coverage_on_data(args.data, args.mapping, args.replications, seed=args.seed if args.seed != DEFAULT_SEED else None)
        out = args.out or COVERAGE.parent / "results" / "coverage-data.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, index=False)
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(table.drop(columns=["between_var", "within_var"]).to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        print(f"\n{args.replications} replications from {args.data} in {time.perf_counter() - start:.0f} s; written to {out}")
        return 0
    args.out = args.out or COVERAGE
    start = time.perf_counter()
    table = run_coverage(args.replications, args.n, args.seed, processes=args.processes)
    elapsed = time.perf_counter() - start
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"\n{args.replications} replications in {elapsed:.0f} s; written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
