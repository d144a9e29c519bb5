"""The methods chapter's blocks on clustering (ICC, design effect) and on parental education "onbekend"."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from oml.report import pages
from oml.report.publish import Publisher
from oml.stats.clustering import clustering_by_period
from oml.stats.tables import unknown_by_school, unknown_share


@dataclass
class _Ctx:
    """The few fields of a notebook context the blocks use."""

    frame: pd.DataFrame
    pub: Publisher
    min_cell: int = 10
    notebook: str = "methoden.ipynb"
    level: float = 0.95


def _ctx(frame, tmp_path) -> _Ctx:
    return _Ctx(frame, Publisher("methoden", tmp_path, glue=False))


def _school_third_unknown(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    schools = out["school_id"].unique()
    third = np.random.default_rng(24).choice(schools, len(schools) // 3, replace=False)
    out.loc[out["school_id"].isin(third), "parent_education"] = "onbekend"
    return out


def _prose(block: str) -> str:
    """The running text of a block: no tables, no provenance boxes."""
    return re.sub(r":::\{(list-table|admonition)\}.*?\n:::", "", block, flags=re.S)


def _unknown(frame, tmp_path):
    ctx = _ctx(frame, tmp_path)
    return ctx, pages.unknown_block(ctx, unknown_share(frame, ctx.min_cell), unknown_by_school(frame, min_cell=ctx.min_cell))


def test_unknown_on_default_data_does_not_hang_on_schools(default_frame, tmp_path):
    ctx, block = _unknown(default_frame, tmp_path)
    text = _prose(block)
    assert "Bij geen van de" in text and "wijkt niet duidelijk af van toeval" in text
    assert "Waarschijnlijk levert een deel van de scholen" not in text
    assert "missing-indicatormethode" in text and "{numref}`fig-verschillen-opleiding-ouders`" in text
    shown = {e["key"]: e["text"] for e in ctx.pub.entries}
    assert shown["methoden/onbekend_percent"] == "62,6\u00a0%"  # Table 1 of the factsheet: 62,59 %


def test_unknown_made_a_school_matter_is_said_so(default_frame, tmp_path):
    ctx, block = _unknown(_school_third_unknown(default_frame), tmp_path)
    text = _prose(block)
    assert "veel meer scholen dan toeval" in text and "Waarschijnlijk levert een deel van de scholen" in text
    shown = {e["key"]: e for e in ctx.pub.entries}
    assert shown["methoden/onbekend_schools_all"]["value"] == default_frame["school_id"].nunique() // 3
    # Every number in the prose is a recorded (published) one, or a year ("groep 8" is a name).
    recorded = {e["text"] for e in ctx.pub.entries}
    for number in re.findall(r"\d[\d.,]*(?:\u00a0%)?", text.replace("groep 8", "groep")):
        assert number in recorded or re.fullmatch(r"20\d\d", number), number


def test_unknown_absent_or_rare(default_frame, tmp_path):
    none = default_frame.assign(parent_education=default_frame["parent_education"].replace({"onbekend": "hbo"}))
    assert _unknown(none, tmp_path / "a")[1] == ("In deze gegevens is de opleiding van de ouders van elke leerling bekend; "
                                                 "‘onbekend’ komt niet voor.")
    few = default_frame.copy()
    rows = few.index[few["parent_education"] == "onbekend"]
    few.loc[rows[3:], "parent_education"] = "hbo"
    ctx, block = _unknown(few, tmp_path / "b")
    assert "wordt niet getoond" in block and not any(e["key"].startswith("methoden/onbekend/") for e in ctx.pub.entries)


def test_clustering_block_words_the_current_period(long_frame, tmp_path):
    ctx = _ctx(long_frame[long_frame["year"] >= 2023], tmp_path)
    table = clustering_by_period(long_frame)
    block = pages.clustering_block(ctx, table)
    shown = {e["key"]: e for e in ctx.pub.entries}
    current = table.iloc[-1]
    assert shown["methoden/clustering_icc"]["value"] == pytest.approx(current["icc"])
    assert shown["methoden/clustering_design_effect"]["value"] == pytest.approx(current["design_effect"])
    assert f"het designeffect is {shown['methoden/clustering_design_effect']['text']}" in block
    # Both periods are in the table, one column each.
    assert {f"methoden/clustering/{p}/icc" for p in table["period"]} <= set(shown)
    assert "Vierpuntsschaal (2017–2022)" in block and "Vijfpuntsschaal (2023–2025)" in block


# ----------------------------------------------------------------------------- issue 24 points 2-4: how firm the conclusions are
def _numbers_recorded(ctx, block: str) -> None:
    """Every number in the running text is a recorded one, a year, or a figure/table reference."""
    recorded = {e["text"] for e in ctx.pub.entries}
    prose = _prose(block).replace("groep 8", "groep")
    prose = re.sub(r"\{(numref|ref)\}`[^`]*`", "", prose)
    for number in re.findall(r"(?<![A-Za-z\d])\d[\d.,]*(?:\u00a0%)?", prose):  # not the 1 of CR1
        assert number.rstrip(".,") in recorded or re.fullmatch(r"20\d\d", number), number


@pytest.fixture(scope="module")
def school_matter(default_frame):
    """The default data with "onbekend" a matter of the school: 45 % of the schools deliver none, the others all; with the index."""
    from oml.stats.index import add_index
    from school_matter import unknown_by_school

    return add_index(unknown_by_school(default_frame))


@pytest.mark.parametrize("data", ["frame", "school_matter"])
def test_sensitivity_block(data, request, tmp_path):
    from oml.report import methods
    from oml.stats.results import breakdowns
    from oml.stats.sensitivity import sensitivity

    frame = request.getfixturevalue(data)
    ctx = _ctx(frame, tmp_path)
    table = sensitivity(frame, breakdowns(frame), imputations=5)
    block = methods.sensitivity_block(ctx, table)
    changed = table["changed"].any()
    assert ("hangt het oordeel af van die keuze" in block) == changed
    assert ("Geen van de" in block) == (not changed)
    assert "{numref}`fig-verschillen-regio`" in block and ":name: tab-gevoeligheid" in block
    assert "n.v.t." in block  # no parental-education control on Figure 4: not a variant there
    _numbers_recorded(ctx, block)
    shown = {e["key"]: e for e in ctx.pub.entries}
    assert shown["methoden/gevoeligheid_conclusies"]["value"] == int((table["variant"] == "published").sum())


def test_sensitivity_block_without_unknown(frame, tmp_path):
    from oml.report import methods
    from oml.stats.results import breakdowns
    from oml.stats.sensitivity import sensitivity

    known = frame.assign(parent_education=frame["parent_education"].replace({"onbekend": "hbo"}))
    block = methods.sensitivity_block(_ctx(known, tmp_path), sensitivity(known, breakdowns(known)))
    assert "geen gevoeligheidsanalyse nodig" in block


def test_robustness_block_and_fragile_note(frame, tmp_path):
    from oml.report import methods
    from oml.stats.results import breakdown, breakdowns
    from oml.stats.robustness import check_all

    ctx = _ctx(frame, tmp_path / "a")
    results = breakdowns(frame)
    block = methods.robustness_block(ctx, check_all(frame, results))
    assert "Geen enkele conclusie verandert" in block and ":name: tab-robuustheid" in block
    _numbers_recorded(ctx, block)
    assert all(methods.fragile_note(ctx, r) == "" for r in results.values())  # nothing fragile: no mark anywhere

    # A trend made by participation only (as in tests/stats/test_robustness.py): the weakest schools miss the last year.
    means = frame.groupby("school_id", observed=True)["index"].mean()
    low = means.index[means <= means.quantile(0.35)]
    data = frame[~((frame["year"] == frame["year"].max()) & frame["school_id"].isin(low))].copy()
    ctx = _ctx(data, tmp_path / "b")
    results = {None: breakdown(data, None)}
    block = methods.robustness_block(ctx, check_all(data, results))
    assert "verandert het oordeel onder ten minste één controle" in block and "tab-robuustheid-anders" in block
    assert "alle leerlingen: tussen 2023 en 2025 positiever geworden" in block
    note = methods.fragile_note(ctx, results[None])
    assert note.startswith(":::{admonition} Let op: een conclusie is niet robuust")
    assert "trend binnen scholen, met vaste schooleffecten: gelijk gebleven" in note and "{ref}`methoden-robuustheid`" in note


def test_own_coverage_block(small_frame, tmp_path):
    from oml.report import methods
    from oml.stats.results import breakdowns
    from oml.stats.robustness import simulated_coverage

    ctx = _ctx(small_frame, tmp_path)
    cov = simulated_coverage(small_frame, breakdowns(small_frame), replications=200)
    block = methods.own_coverage_block(ctx, cov)
    assert ":name: tab-dekking-eigen" in block and "200 herhalingen" in block
    _numbers_recorded(ctx, block)
    shown = {e["key"]: e for e in ctx.pub.entries}
    assert shown["methoden/dekking-eigen/region/coverage/mean"]["value"] == pytest.approx(
        100 * cov.loc[cov["by"] == "region", "coverage"].mean())
