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
* the years before the 2023 change of answer scale (``[history]``, illustrative): the same
  schools and latent model with a latent mean per year, answered on that period's 4-point
  scale (:mod:`oml.data.scales`), drawn from their own random stream and appended after the
  2023–2025 rows, which stay exactly as without them (:func:`add_history`);
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

from oml.data import SYNTHETIC_PREFIX, scales  # the prefix lives in oml.data, where light code can import it
from oml.data.boards import assign_boards
from oml.data.contract import CATEGORIES, REQUIRED


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


def generate(n: int | None = None, seed: int | None = None, history: bool = True) -> pd.DataFrame:
    """Generate a synthetic dataset that meets the data contract.

    Parameters
    ----------
    n : int, optional
        Number of pupils; default the published N. Other sizes scale every margin exactly.
    seed : int, optional
        Random seed; default the seed in the config. The same ``(n, seed)`` gives the same data.
    history : bool
        Append the earlier years on their own answer scale (config ``[history]``; about
        1,9 × ``n`` pupils more). ``False`` gives the ``n`` pupils of the factsheet period only:
        exactly the first ``n`` rows of the data with history.

    Returns
    -------
    DataFrame
        One row per pupil with the contract's columns and ``item_*`` answers (``Int64``, may be missing).

    Examples
    --------
    >>> df = generate(n=200, seed=3)
    >>> len(df), df["pupil_id"].is_unique
    (582, True)
    >>> generate(n=200, seed=3).equals(df)
    True
    >>> generate(n=200, seed=3, history=False).equals(df.iloc[:200])
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
    frame = frame[[*REQUIRED, *answers]]
    if history:
        frame = add_history(frame, seed, school, region, school_effect)
    # Boards and names come last, from their own random stream: nothing above changes. The earlier
    # years use only schools of 2023-2025, so the boards are the same with or without them.
    return assign_boards(frame, seed)


def _four_point_shares(shares, middle_split: float) -> np.ndarray:
    """4-point answer shares from 5-point ones: the middle answer split over the two inner answers.

    Examples
    --------
    >>> _four_point_shares([0.1, 0.2, 0.2, 0.3, 0.2], 0.5).round(2).tolist()
    [0.1, 0.3, 0.4, 0.2]
    """
    s = np.asarray(shares, dtype=float)
    if len(s) != 5:
        raise ValueError(f"expected 5 answer shares, not {len(s)}")
    return np.array([s[0], s[1] + middle_split * s[2], (1 - middle_split) * s[2] + s[3], s[4]])


def add_history(frame: pd.DataFrame, seed: int, school: np.ndarray, region: np.ndarray,
                school_effect: np.ndarray) -> pd.DataFrame:
    """Append the earlier years (config ``[history]``) after the rows of ``frame``, which stay untouched.

    The earlier pupils go to the same schools (in proportion to their 2023–2025 size, so with
    the same region and school effect), get the same background effects and item loading, a
    latent mean per year (``[history.year_effect]``) and answer on the scale of their year
    (:func:`oml.data.scales.scale_for_year`, four points until 2022) with thresholds from the
    5-point shares (:func:`_four_point_shares`). They are drawn from their own random stream,
    ``default_rng([seed, stream])``, and numbered on from the last pupil id of ``frame``.

    ``school`` and ``region`` are each 2023–2025 pupil's school number and region (in the
    order :func:`generate` drew them) and ``school_effect`` the effect per school.
    """
    cfg = load_config()
    hist = cfg["history"]
    rng = np.random.default_rng([seed, int(hist["stream"])])
    n = len(frame)
    years = exact_counts({int(k): v * n for k, v in hist["years"].items()}, round(sum(hist["years"].values()) * n))
    school_size = np.bincount(school, minlength=len(school_effect)).astype(float)
    school_region = pd.Series(region).groupby(school).first()
    eff, items = cfg["effects"], cfg["items"]
    residual_sd = np.sqrt(1.0 - cfg["schools"]["sd_school_effect"] ** 2)
    parts = []
    for year, count in years.items():
        if count == 0:
            continue
        scale = scales.scale_for_year(year)
        if scale is None or scale.points != 4:
            raise ValueError(f"[history] year {year}: needs a 4-point scale in oml/{scales.CONFIG}, found {scale}")
        sch = rng.choice(len(school_effect), size=count, p=school_size / school_size.sum())
        pupil_region = school_region.reindex(sch).to_numpy()
        sex = _shuffled(exact_counts(cfg["margins"]["sex"], count), rng)
        parent_education = _shuffled(exact_counts(cfg["margins"]["parent_education"], count), rng)
        a = cfg["age"]
        age = np.round(np.clip(rng.normal(a["mean"], a["sd"], count), a["min"], a["max"]), 1)
        shift = np.full(count, float(hist["year_effect"][str(year)]))
        for var, values in (("sex", sex), ("parent_education", parent_education), ("region", pupil_region)):
            shift = shift + np.array([eff.get(f"{var}.{v}", 0.0) for v in values])
        latent = school_effect[sch] + shift + rng.normal(0.0, residual_sd, count)
        lam = items["loading"]
        answers = {}
        for column, shares in items["shares"].items():
            cuts = norm.ppf(np.cumsum(_four_point_shares(shares, hist["middle_split"]))[:-1])
            ystar = lam * latent + np.sqrt(1 - lam**2) * rng.normal(size=count)
            answers[column] = scale.lowest + (ystar[:, None] > cuts[None, :]).sum(axis=1)
        answer = pd.DataFrame(answers).astype("Int64")
        blank = rng.random(answer.shape) < items["missing_share"]
        skipped = rng.random(count) < items["nonresponder_share"]
        blank[skipped, 1:] = True
        part = pd.DataFrame({"school_id": [f"{SYNTHETIC_PREFIX}S{s + 1:04d}" for s in sch], "year": year, "sex": sex,
                             "age": age, "parent_education": parent_education, "region": pupil_region})
        parts.append(pd.concat([part, answer.mask(blank)], axis=1))
    if not parts:
        return frame
    earlier = pd.concat(parts, ignore_index=True).sort_values(["year", "school_id"], kind="stable").reset_index(drop=True)
    earlier.insert(0, "pupil_id", [f"{SYNTHETIC_PREFIX}{n + i + 1:07d}" for i in range(len(earlier))])
    for var, allowed in CATEGORIES.items():
        earlier[var] = pd.Categorical(earlier[var], categories=list(allowed))
    earlier["year"] = earlier["year"].astype("Int64")
    for c in ("pupil_id", "school_id"):
        earlier[c] = earlier[c].astype("string")
    return pd.concat([frame, earlier[frame.columns]], ignore_index=True)


def is_synthetic(frame: pd.DataFrame) -> bool:
    """True when every pupil and school id carries the synthetic prefix.

    Examples
    --------
    >>> is_synthetic(generate(n=20, seed=1))
    True
    """
    ids = pd.concat([frame["pupil_id"], frame["school_id"]]).astype("string")
    return bool(ids.str.startswith(SYNTHETIC_PREFIX).all())
