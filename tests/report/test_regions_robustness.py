"""The mark of a fragile conclusion on a region page, and the region pages in the methods chapter's robustness section."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd
import pytest

from oml.report import methods, regions
from oml.report.publish import Publisher
from oml.stats.regions import WITHIN, page_regions, region_result
from oml.stats.robustness import check_all
from oml.stats.results import breakdowns

from region_data import REGION, fragile_region, one_school_region  # the data of the stats tests of the region checks


@dataclass
class _Ctx:
    """The fields of a notebook context the region and methods blocks use."""

    frame: pd.DataFrame
    pub: Publisher
    min_cell: int = 10
    notebook: str = "regio.ipynb"
    level: float = 0.95
    synthetic: bool = True
    all_years: pd.DataFrame | None = None

    @property
    def data(self) -> pd.DataFrame:
        return self.frame

    @property
    def every_year(self) -> pd.DataFrame:
        return self.frame

    @property
    def words(self):
        from oml.data import codebook

        return codebook.words(self.frame, self.synthetic)


def _page(frame, region, tmp_path) -> tuple[_Ctx, dict[str, str]]:
    """The blocks of a region page that may carry a mark: the figure against the rest, the breakdowns within."""
    ctx = _Ctx(frame, Publisher("regio-test", tmp_path, glue=False))
    rr = region_result(frame, region, ctx.level, ctx.min_cell)
    return ctx, {"figure": regions.figure(ctx, rr), **{by: regions.within(ctx, rr, by) for by in WITHIN}}


def _methods(frame, tmp_path) -> tuple[_Ctx, str]:
    ctx = _Ctx(frame, Publisher("methoden", tmp_path, glue=False), notebook="methoden.ipynb")
    regs = {r: region_result(frame, r, ctx.level, ctx.min_cell) for r in page_regions(frame, ctx.min_cell)}
    return ctx, methods.robustness_block(ctx, check_all(frame, breakdowns(frame), ctx.level, regs))


def _numbers_recorded(ctx, block: str) -> None:
    """Every number in the running text is a recorded one, a year, or part of a reference (as test_methods_blocks)."""
    recorded = {e["text"] for e in ctx.pub.entries}
    prose = re.sub(r":::\{(list-table|admonition)\}.*?\n:::", "", block, flags=re.S)
    prose = re.sub(r"\{(numref|ref)\}`[^`]*`", "", prose)
    for number in re.findall(r"(?<![A-Za-z\d])\d[\d.,]*(?:\u00a0%)?", prose):
        assert number.rstrip(".,") in recorded or re.fullmatch(r"20\d\d", number), number


def test_no_mark_on_default_data(frame, tmp_path):
    _, blocks = _page(frame, "Maastricht-Heuvelland", tmp_path / "page")
    assert all("oml-fragile" not in b for b in blocks.values())
    ctx, block = _methods(frame, tmp_path / "methods")
    assert "Geen enkele conclusie verandert" in block and "en op de regiopagina's." in block
    assert "De regiopagina's trekken er nog" in block and "tab-robuustheid-anders" not in block
    shown = {e["key"]: e["value"] for e in ctx.pub.entries}
    assert shown["methoden/robuustheid_conclusies"] == 25  # the figures, as before
    assert shown["methoden/robuustheid_conclusies_totaal"] == 25 + shown["methoden/robuustheid_conclusies_regio"]
    _numbers_recorded(ctx, block)


def test_fragile_region_conclusions_are_marked_and_listed(frame, tmp_path):
    data = fragile_region(frame)
    _, blocks = _page(data, REGION, tmp_path / "page")
    sex = blocks["sex"]
    assert sex.startswith(":::{admonition} Let op: conclusies zijn niet robuust")
    assert "‘jongens: tussen 2023 en 2025 positiever geworden’" in sex and "‘meisjes: tussen 2023 en 2025 positiever geworden’" in sex
    assert "multilevelmodel met een willekeurig intercept per school: gelijk gebleven" in sex
    assert "{ref}`methoden-robuustheid`" in sex
    figure = blocks["figure"]
    assert "oml-fragile" in figure and "in de samenvatting bovenaan en bij de figuur hieronder" in figure
    assert f"‘leerlingen in {REGION}: tussen 2023 en 2025 positiever geworden’" in figure
    assert figure.index("oml-fragile") < figure.index(":::{figure}")  # above the figure

    ctx, block = _methods(data, tmp_path / "methods")
    assert "verandert het oordeel onder ten minste één controle" in block and "Op de pagina van die figuur of regio" in block
    table = block[block.index(":name: tab-robuustheid-anders"):]
    assert f"Regio {REGION}, naar geslacht" in table and "jongens: tussen 2023 en 2025 positiever geworden" in table
    assert f"Regio {REGION}, naar opleiding ouders" in table
    _numbers_recorded(ctx, block)


def test_difference_with_the_rest_is_worded_from_the_region(frame, tmp_path):
    # With stronger school effects (and its weakest schools gone in 2025) the region is published above the rest
    # ("significant positiever dan in de rest van Limburg" in the summary); the random intercept finds no difference.
    data = fragile_region(frame, sd=0.8)
    ctx, blocks = _page(data, REGION, tmp_path)
    rr = region_result(data, REGION)
    assert "significant positiever dan in de rest van Limburg" in regions.summary(ctx, rr)
    assert (f"‘in 2025 leerlingen in {REGION} hoger dan leerlingen in de rest van Limburg’ (multilevelmodel met een "
            "willekeurig intercept per school: geen verschil)") in blocks["figure"]


def test_a_region_of_one_school_builds(small_frame, tmp_path):
    data = one_school_region(small_frame)
    ctx, blocks = _page(data, REGION, tmp_path / "page")
    for by, label in (("sex", "geslacht"), ("parent_education", "opleiding ouders")):
        assert blocks[by] == (f"Voor een uitsplitsing naar {label} binnen {REGION} zijn minstens 2 scholen nodig, omdat de "
                              "onzekerheid van de cijfers rekening houdt met verschillen tussen scholen. In "
                              f"{REGION} doen in deze gegevens minder scholen mee.")
    assert "oml-fragile" not in blocks["figure"]
    rr = region_result(data, REGION)
    said = (f"In {REGION} doet in deze gegevens 1 school mee. De onzekerheid van de cijfers houdt rekening met "
            "verschillen tussen scholen, en dat kan pas vanaf 2 scholen. Daarom tonen we voor")
    assert regions.summary(ctx, rr).startswith(f"- {said}")
    assert "significant" not in regions.summary(ctx, rr) and "Het verschil met de rest" not in regions.summary(ctx, rr)
    # The build makes no page for it (fewer than three schools: runs.toml min_schools), so the methods chapter,
    # which checks the pages the build makes, neither checks nor names it.
    assert REGION not in page_regions(data)
    ctx, block = _methods(data, tmp_path / "methods")
    assert f"Regio {REGION}" not in block and "Niet getoetst" not in block  # (Figure 5 still names the region)
    _numbers_recorded(ctx, block)


@pytest.mark.parametrize("region", ["Parkstad Limburg"])
def test_region_notes_name_the_region_page(region):
    assert methods.page_name(region, "area") == f"Regio {region}"
    assert methods.page_name(None, "totaal") == "{numref}`fig-verschillen-jaar`"
