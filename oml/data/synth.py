"""Deterministic synthetic OML data, calibrated to the published factsheet.

The real pupil data are confidential, so the report ships data generated here. Every
calibration target sits in ``oml/config/synthetic.toml``. The model:

* exact Table 1 margins (sex, parental education, region) and an exact year split;
* pupils nested in schools nested in regions, with a normal school random effect;
* a latent relation :math:`\\eta_i = u_{s(i)} + \\delta_{r(i)} + e_i` with total variance about 1;
* six 5-point items from a one-factor model,
  :math:`y^*_{ij} = \\lambda \\eta_i + \\sqrt{1-\\lambda^2}\\,\\varepsilon_{ij}`, cut at normal
  quantiles of the target answer shares;
* a small share of blank answers and of pupils who skipped most statements;
* school boards and plainly synthetic school and board names (:mod:`oml.data.boards`, own random stream).

Identifiers start with ``SYN-``: that is how the build recognises synthetic data in any
file format and shows the notice on every page.
"""
from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
from scipy.stats import norm

from oml.data.boards import assign_boards
from oml.data.contract import CATEGORIES, REQUIRED

SYNTHETIC_PREFIX = "SYN-"


@lru_cache(maxsize=1)
def load_config() -> dict:
    """The calibration config (``oml/config/synthetic.toml``) as a dict."""
    text = resources.files("oml").joinpath("config/synthetic.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def exact_counts(shares: dict, n: int) -> dict:
    """Split ``n`` over categories in proportion to ``shares`` with exact total (largest remainder).

    Examples
    --------
    >>> exact_counts({"a": 1, "b": 1, "c": 1}, 10)
    {'a': 4, 'b': 3, 'c': 3}
    """
    keys = list(shares)
    w = np.array([float(shares[k]) for k in keys])
    if not (w >= 0).all() or w.sum() <= 0:
        raise ValueError(f"shares must be non-negative with a positive sum, not {shares}")
    raw = w / w.sum() * n
    counts = np.floor(raw).astype(int)
    # Hand out what flooring lost to the largest remainders; ties go to the earlier category.
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return {k: int(c) for k, c in zip(keys, counts)}


def _shuffled(counts: dict, rng: np.random.Generator) -> np.ndarray:
    values = np.repeat(np.array(list(counts), dtype=object), list(counts.values()))
    return rng.permutation(values)


def generate(n: int | None = None, seed: int | None = None) -> pd.DataFrame:
    """Generate a synthetic dataset that meets the data contract.

    Parameters
    ----------
    n : int, optional
        Number of pupils; default the published N. Other sizes scale every margin exactly.
    seed : int, optional
        Random seed; default the seed in the config. The same ``(n, seed)`` gives the same data.

    Returns
    -------
    DataFrame
        One row per pupil with the contract's columns and ``item_*`` answers (``Int64``, may be missing).

    Examples
    --------
    >>> df = generate(n=200, seed=3)
    >>> len(df), df["pupil_id"].is_unique
    (200, True)
    >>> generate(n=200, seed=3).equals(df)
    True
    """
    cfg = load_config()
    n = int(cfg["n"] if n is None else n)
    if n < 1:
        raise ValueError(f"n must be at least 1, not {n}")
    seed = int(cfg["seed"] if seed is None else seed)
    rng = np.random.default_rng(seed)

    margins = {var: exact_counts(cfg["margins"][var], n) for var in CATEGORIES}
    region_counts = margins["region"]

    # Schools within regions: sizes from a Dirichlet split so schools differ in size plausibly.
    region, school = [], []
    n_school_total = 0
    for name, count in region_counts.items():
        k = max(1, round(count / cfg["schools"]["pupils_per_school"]))
        sizes = rng.multinomial(count, rng.dirichlet(np.full(k, 8.0)))
        for j, size in enumerate(sizes):
            school += [n_school_total + j] * int(size)
        n_school_total += k
        region += [name] * count
    region = np.array(region, dtype=object)
    school = np.array(school)
    school_effect = rng.normal(0.0, cfg["schools"]["sd_school_effect"], n_school_total)

    years = exact_counts({int(k): v for k, v in cfg["years"].items()}, n)
    year = _shuffled(years, rng).astype(int)
    sex = _shuffled(margins["sex"], rng)
    parent_education = _shuffled(margins["parent_education"], rng)
    a = cfg["age"]
    age = np.round(np.clip(rng.normal(a["mean"], a["sd"], n), a["min"], a["max"]), 1)

    eff = cfg["effects"]
    shift = eff["year"] * (year - year.min())
    for var, values in (("sex", sex), ("parent_education", parent_education), ("region", region)):
        shift = shift + np.array([eff.get(f"{var}.{v}", 0.0) for v in values])
    residual_sd = np.sqrt(1.0 - cfg["schools"]["sd_school_effect"] ** 2)
    latent = school_effect[school] + shift + rng.normal(0.0, residual_sd, n)

    items = cfg["items"]
    lam = items["loading"]
    answers = {}
    for column, shares in items["shares"].items():
        cuts = norm.ppf(np.cumsum(shares)[:-1])
        ystar = lam * latent + np.sqrt(1 - lam**2) * rng.normal(size=n)
        answers[column] = 1 + (ystar[:, None] > cuts[None, :]).sum(axis=1)
    answer = pd.DataFrame(answers).astype("Int64")
    blank = rng.random(answer.shape) < items["missing_share"]
    # Pupils who skipped most statements: only the first one answered, so they get no index.
    skipped = rng.random(n) < items["nonresponder_share"]
    blank[skipped, 1:] = True
    answer = answer.mask(blank)

    frame = pd.DataFrame(
        {
            "school_id": [f"{SYNTHETIC_PREFIX}S{s + 1:04d}" for s in school],
            "year": year,
            "sex": sex,
            "age": age,
            "parent_education": parent_education,
            "region": region,
        }
    )
    frame = pd.concat([frame, answer], axis=1)
    frame = frame.sort_values(["year", "school_id"], kind="stable").reset_index(drop=True)
    frame.insert(0, "pupil_id", [f"{SYNTHETIC_PREFIX}{i + 1:07d}" for i in range(n)])
    for var, allowed in CATEGORIES.items():
        frame[var] = pd.Categorical(frame[var], categories=list(allowed))
    frame["year"] = frame["year"].astype("Int64")
    for c in ("pupil_id", "school_id"):
        frame[c] = frame[c].astype("string")
    # Boards and names come last, from their own random stream: nothing above changes.
    return assign_boards(frame[[*REQUIRED, *answers]], seed)


def is_synthetic(frame: pd.DataFrame) -> bool:
    """True when every pupil and school id carries the synthetic prefix.

    Examples
    --------
    >>> is_synthetic(generate(n=20, seed=1))
    True
    """
    ids = pd.concat([frame["pupil_id"], frame["school_id"]]).astype("string")
    return bool(ids.str.startswith(SYNTHETIC_PREFIX).all())
