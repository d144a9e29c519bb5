"""Simulation study: coverage of the feedback reports' intervals under the data's school clustering (issue 21).

The design is the default synthetic data (:func:`oml.data.synth.generate`, ``history=False``, with the
index): its schools and their sizes, years, regions, boards and the pupils' controls. From the same data
come the parameters of a random-intercept model of the index (:func:`oml.stats.units.school_spread`): the
between-school variance :math:`\\tau^2` (DerSimonian–Laird; ICC about 0,045) and the within-school
residuals. Each replication replaces the index by a draw from that model,

.. math:: y_i = u_{s(i)} + e_i, \\qquad u_s \\sim N(0, \\tau^2),

with no effect of year or the controls (as in the generator) and pupil errors :math:`e_i` of variance
:math:`s^2`, drawn two ways (column ``errors``): ``normal``, the random-intercept model itself; and
``empirical``, resampled from the data's within-school-year deviations (rescaled to :math:`s^2`): the
index's own shape, skewed to the left (skewness about −0,7), which no t-interval is exact for (even the
one-sample t-interval of 10 such pupils covers about 93,8 %). Then it cuts a few schools per size band to a size drawn within the band (a random
subset of their pupils, so their years get small and hidden as in a real small school) and computes
each cut school's report model (:func:`oml.stats.units.adjusted_unit_means`, the report's own code):

* ``school mean``: the school's adjusted mean over the period, 95 % interval; truth :math:`u_s` (the
  school is fixed: the report is about its pupils);
* ``school - Limburg``: the period test against Limburg; truth :math:`(1 - w_s) u_s`, with :math:`w_s` the
  school's share of Limburg's pupils (the other schools' effects are random: they are the test's noise);
* ``board - Limburg`` (every ``board_every``-th replication, every board of two or more schools): the
  period test against Limburg; truth 0 (boards are made of schools drawn at random: no board effect),
  so its non-coverage is the share of boards wrongly called significant.

Coverage is the share of intervals that contain the truth, per size band (the unit's pupils over the
period; for boards the number of schools). Beside the school's own interval, ``t_coverage`` is the coverage
of the textbook one-sample t-interval of the same pupils on the same draws: exact for normal errors, so
that the difference between the two shows what the model adds, and its distance from 95 % what is Monte
Carlo noise (or, for the empirical errors, the index's skewness). Run ``python bench/unit_coverage.py`` to write
``bench/unit_coverage.csv`` (committed; ``tests/stats/test_unit_verdicts.py`` reads it): 2,000 replications per
error distribution, about 17 minutes on two cores.
"""
from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import stdtrit

from oml.data.synth import generate
from oml.stats import units
from oml.stats.disclosure import MIN_CELL
from oml.stats.index import add_index

OUT = Path(__file__).resolve().parent / "unit_coverage.csv"
DEFAULT_SEED = 2_100_000
COLUMNS = ["statistic", "errors", "band", "n_low", "n_high", "coverage", "mc_se", "t_coverage", "intervals", "mean_se",
           "sd_error", "mean_df", "level", "replications", "between_var", "within_sd", "icc"]
#: School size bands (pupils over the period), from min_cell up to the largest school of the default data.
SCHOOL_BANDS = [(MIN_CELL, 14), (15, 19), (20, 24), (25, 34), (35, 49), (50, 74), (75, 99), (100, 180)]
BOARD_BANDS = [(2, 5), (6, 9), (10, 18)]
_FRAME_COLUMNS = ["school_id", "board_id", "year", "region", *units.CONTROLS, "index"]

_DESIGN: dict = {}


def design(n: int | None = None, seed: int | None = None) -> dict:
    """The design and the model's parameters from the synthetic data ``generate(n, seed, history=False)``."""
    frame = add_index(generate(n=n, seed=seed, history=False))
    frame = frame.loc[frame["index"].notna(), _FRAME_COLUMNS].reset_index(drop=True)
    spread = units.school_spread(frame)
    school = frame["school_id"].astype(str).to_numpy()
    codes, ids = pd.factorize(school)
    cell = pd.factorize(pd.Series(school) + "|" + frame["year"].astype(str))[0]
    y = frame["index"].to_numpy(dtype=float)
    size = np.bincount(cell)
    deviation = y - (np.bincount(cell, weights=y) / size)[cell]
    pool = deviation[size[cell] > 1]
    pool = pool * spread.within_sd / pool.std()
    return {"frame": frame, "codes": codes, "ids": np.asarray(ids, dtype=object), "sizes": np.bincount(codes),
            "boards": frame.groupby("board_id", observed=True)["school_id"].nunique(), "pool": pool, "spread": spread}


def _replicate(task: tuple) -> list[dict]:
    seed, r, per_band, board_every, level, min_cell, errors = task
    d = _DESIGN
    rng = np.random.default_rng([seed, r])
    tau = np.sqrt(d["spread"].between_var)
    u = rng.normal(0.0, tau, len(d["ids"]))
    if errors == "normal":
        e = rng.normal(0.0, d["spread"].within_sd, len(d["codes"]))
    elif errors == "empirical":
        e = rng.choice(d["pool"], len(d["codes"]))
    else:
        raise ValueError(f"errors must be 'normal' or 'empirical', not {errors!r}")
    y = u[d["codes"]] + e
    frame = d["frame"].copy()
    frame["index"] = y
    drop, chosen = [], []
    sizes, taken = d["sizes"], set()
    for lo, hi in SCHOOL_BANDS:
        for _ in range(per_band):
            target = int(rng.integers(lo, hi + 1))
            candidates = [k for k in np.flatnonzero(sizes >= target) if k not in taken]
            if not candidates:
                continue
            k = int(rng.choice(candidates))
            taken.add(k)
            rows = np.flatnonzero(d["codes"] == k)
            keep = rng.choice(rows, target, replace=False)
            drop.extend(np.setdiff1d(rows, keep))
            chosen.append((k, lo, hi, target, y[keep]))
    frame = frame.drop(index=np.asarray(drop, dtype=np.int64)).reset_index(drop=True)
    total = len(frame)
    out = []
    for k, lo, hi, target, own_y in chosen:
        um = units.adjusted_unit_means(frame, "school", d["ids"][k], level, min_cell)
        own = um.period(units.UNIT)
        # Alongside, on the same draws: the textbook one-sample t-interval of the school's pupils (exact for normal
        # errors, where the model is y = u + e), so that what is left of a shortfall shows as Monte Carlo noise.
        half = stdtrit(target - 1, 0.5 + level / 2) * own_y.std(ddof=1) / np.sqrt(target)
        out.append({**_row("school mean", lo, hi, own.estimate, own.se, own.df, own.ci_low, own.ci_high, u[k]),
                    "t_covered": bool(abs(own_y.mean() - u[k]) <= half)})
        c = um.comparisons
        test = c[(c["family"] == "period") & (c["group_b"] == units.LIMBURG)]
        if len(test):
            t = test.iloc[0]
            out.append(_row("school - Limburg", lo, hi, t.estimate, t.se, t.df, t.ci_low, t.ci_high,
                            (1 - target / total) * u[k]))
    if board_every and r % board_every == 0:
        for board, schools in d["boards"].items():
            band = next((b for b in BOARD_BANDS if b[0] <= schools <= b[1]), None)
            if band is None:
                continue
            c = units.adjusted_unit_means(frame, "board", str(board), level, min_cell).comparisons
            test = c[(c["family"] == "period") & (c["group_b"] == units.LIMBURG)]
            if len(test):
                t = test.iloc[0]
                out.append(_row("board - Limburg", *band, t.estimate, t.se, t.df, t.ci_low, t.ci_high, 0.0))
    return out


def _row(statistic, lo, hi, estimate, se, df, low, high, truth) -> dict:
    return {"statistic": statistic, "n_low": lo, "n_high": hi, "error": float(estimate - truth), "se": float(se),
            "df": float(df), "covered": bool(low <= truth <= high)}


def _worker_setup() -> None:
    gc.freeze()  # the design and modules stay out of every collection (as bench/coverage.py)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(1)  # two workers on two cores: one BLAS thread each


def run(replications: int = 2000, per_band: int = 3, board_every: int = 8, seed: int = DEFAULT_SEED,
        level: float = 0.95, min_cell: int = MIN_CELL, processes: int | None = None, n: int | None = None,
        data_seed: int | None = None, errors: tuple[str, ...] = ("normal", "empirical")) -> pd.DataFrame:
    """Coverage per statistic, error distribution and size band (one row each, :data:`COLUMNS`).

    ``per_band`` schools are cut per band and replication; boards are reported every ``board_every``-th
    replication (0: never). ``n``/``data_seed`` choose the synthetic design (default: the book's data).
    Each error distribution gets its own ``replications`` (the same seeds).
    """
    if replications < 1:
        raise ValueError(f"replications must be at least 1, not {replications}")
    _DESIGN.clear()
    _DESIGN.update(design(n, data_seed))
    tasks = [(seed, r, per_band, board_every, level, min_cell, e) for e in errors for r in range(replications)]
    processes = min(2, os.cpu_count() or 1) if processes is None else processes
    if processes > 1:
        with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"),
                                 initializer=_worker_setup) as pool:
            results = list(pool.map(_replicate, tasks, chunksize=max(1, len(tasks) // (8 * processes))))
    else:
        results = [_replicate(t) for t in tasks]
    results = [[{**row, "errors": t[-1]} for row in rows] for t, rows in zip(tasks, results)]
    draws = pd.DataFrame([row for rows in results for row in rows])
    if "t_covered" not in draws:
        draws["t_covered"] = np.nan
    draws["t_covered"] = draws["t_covered"].astype(float)
    spread = _DESIGN["spread"]
    out = []
    for (statistic, errors_, lo, hi), part in draws.groupby(["statistic", "errors", "n_low", "n_high"], sort=False):
        coverage = float(part["covered"].mean())
        unit = "schools" if statistic.startswith("board") else "pupils"
        out.append({"statistic": statistic, "errors": errors_, "band": f"{lo}–{hi} {unit}", "n_low": lo, "n_high": hi,
                    "coverage": coverage, "mc_se": float(np.sqrt(coverage * (1 - coverage) / len(part))),
                    "t_coverage": float(part["t_covered"].mean()) if part["t_covered"].notna().any() else float("nan"),
                    "intervals": len(part), "mean_se": float(part["se"].mean()),
                    "sd_error": float(part["error"].std(ddof=1)) if len(part) > 1 else float("nan"),
                    "mean_df": float(part["df"].mean()), "level": level, "replications": replications,
                    "between_var": spread.between_var, "within_sd": spread.within_sd, "icc": spread.icc})
    order = {"school mean": 0, "school - Limburg": 1, "board - Limburg": 2, "normal": 0, "empirical": 1}
    table = pd.DataFrame(out, columns=COLUMNS)
    table = table.sort_values(["errors", "statistic", "n_low"],
                              key=lambda s: s.map(order) if s.name in ("statistic", "errors") else s)
    return table.reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replications", type=int, default=2000)
    p.add_argument("--per-band", type=int, default=3)
    p.add_argument("--board-every", type=int, default=8)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--processes", type=int, default=None)
    p.add_argument("--errors", nargs="+", choices=["normal", "empirical"], default=["normal", "empirical"])
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    start = time.perf_counter()
    table = run(args.replications, args.per_band, args.board_every, args.seed, processes=args.processes,
                errors=tuple(args.errors))
    elapsed = time.perf_counter() - start
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False, lineterminator="\n")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.drop(columns=["level", "replications", "between_var", "within_sd"]).to_string(
            index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"\n{args.replications} replications in {elapsed:.0f} s; written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
