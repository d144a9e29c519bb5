"""One colour and one marker per entity, told apart under the three common colour-vision deficiencies (issue 22).

* The simulation (Machado et al. 2009, severity 1) and the CIELAB conversion agree with an independent
  implementation: colorspacious 1.1.2 (``cspace_convert(rgb, {"name": "sRGB1+CVD", "cvd_type": ...,
  "severity": 100}, "sRGB1")``, clipped to 0–1, and ``cspace_convert(rgb, "sRGB1", "CIELab")``), run once by hand
  to get the reference values below; the package is not a dependency of the project.
* Every set of entities that can share a figure keeps a CIELAB distance of at least ``MIN_CVD_DISTANCE`` between any
  two of its colours, with normal vision and under simulated protanopia, deuteranopia and tritanopia.
* Every entity colour has a contrast of at least 3:1 against the white page (WCAG 2.2, 1.4.11, graphical objects).
* The figures draw each entity in its mapped colour and marker, whatever the order of the groups in a figure: the
  SVG's ``oml-entity-*`` group carries them.
"""
from __future__ import annotations

import re

import matplotlib
import numpy as np
import pandas as pd
import pytest

from oml.data.contract import PARENT_EDUCATIONS, REGIONS, SEXES
from oml.report import plotting

# colorspacious 1.1.2, by hand (see the module docstring): simulated sRGB, clipped to 0–1, and its CIELAB.
REFERENCE = {
    ("#EE6677", "protanopia"): ([0.5192, 0.5071, 0.4665], [54.081, -0.778, 6.011]),
    ("#EE6677", "deuteranopia"): ([0.6548, 0.6160, 0.4545], [64.655, -2.921, 22.888]),
    ("#EE6677", "tritanopia"): ([1.0, 0.3206, 0.4262], [60.207, 66.858, 22.913]),
    ("#009988", "protanopia"): ([0.5702, 0.5610, 0.5308], [59.411, -0.576, 4.388]),
    ("#009988", "deuteranopia"): ([0.5043, 0.5126, 0.5393], [54.670, 0.613, -3.940]),
    ("#009988", "tritanopia"): ([0.0, 0.6121, 0.5794], [57.975, -35.893, -5.445]),
    ("#8A6D00", "protanopia"): ([0.4842, 0.4227, 0.0], [45.532, -3.867, 51.904]),
    ("#8A6D00", "deuteranopia"): ([0.5116, 0.4541, 0.0457], [48.579, -4.805, 51.982]),
    ("#8A6D00", "tritanopia"): ([0.5903, 0.3847, 0.3606], [47.054, 20.479, 12.253]),
}


@pytest.fixture(scope="module", autouse=True)
def theme():
    plotting.set_theme()


@pytest.mark.parametrize(("colour", "kind"), list(REFERENCE))
def test_cvd_simulation_and_cielab_match_an_independent_implementation(colour, kind):
    rgb, lab = REFERENCE[(colour, kind)]
    simulated = plotting.simulate_cvd(colour, kind)
    assert np.allclose(simulated, rgb, atol=2e-3), (colour, kind, simulated)
    assert np.allclose(plotting.cielab(np.array(rgb)), lab, atol=0.05)


def test_every_entity_of_the_data_contract_has_its_own_style():
    for group in [*SEXES, *PARENT_EDUCATIONS, *REGIONS, "totaal", "Limburg"]:
        assert group in plotting.ENTITY_STYLES, group
    for name, groups in plotting.ENTITY_SETS.items():
        styles = [plotting.group_style(g) for g in groups]
        colours = [c for c, _ in styles if c != plotting.REFERENCE_STYLE[0]]
        assert len(set(colours)) == len(colours), f"{name}: two entities share a colour"
        assert len({m for _, m in styles}) == len(styles) or name == "feedback", f"{name}: two entities share a marker"


@pytest.mark.parametrize("name", list(plotting.ENTITY_SETS))
def test_colours_that_share_a_figure_stay_apart_under_every_simulated_cvd(name):
    distances = plotting.cvd_distances(plotting.ENTITY_SETS[name])
    assert set(distances["vision"]) == {"normal", "protanopia", "deuteranopia", "tritanopia"}
    worst = distances.loc[distances["delta_e"].idxmin()]
    assert worst["delta_e"] >= plotting.MIN_CVD_DISTANCE, f"{name}: {worst.to_dict()}"


def _luminance(hex_colour: str) -> float:
    return float(np.array([0.2126, 0.7152, 0.0722]) @ plotting._linear(hex_colour))


def test_every_entity_colour_has_3_to_1_contrast_on_white():
    low = {g: round(1.05 / (_luminance(c) + 0.05), 2) for g, (c, _) in plotting.ENTITY_STYLES.items()
           if 1.05 / (_luminance(c) + 0.05) < 3}
    assert not low, low


def _svg_styles(svg: str) -> dict[str, tuple[str, str]]:
    """entity -> (fill colour, marker path) of the markers in one SVG written by plotting.save."""
    found = {}
    for gid, body in re.findall(r'<g id="(oml-entity-[^"]+)">(.*?)</g>', svg, flags=re.S):
        # matplotlib leaves out a black fill (SVG's default).
        fills = set(re.findall(r"fill:\s*(#[0-9a-fA-F]{6})", body)) or {"#000000"}
        marker = re.search(r'<path id="[^"]+" d="([^"]+)"', body)
        assert len(fills) == 1, (gid, fills)
        found[gid] = (fills.pop().upper(), marker.group(1) if marker else "")
    return found


def _regions_table(order: list[str]) -> pd.DataFrame:
    rows = [{"year": y, "group": g, "estimate": 0.02 * k, "ci_low": 0.02 * k - 0.1, "ci_high": 0.02 * k + 0.1}
            for y in (2023, 2024, 2025) for k, g in enumerate(order)]
    return pd.DataFrame(rows)


def test_figures_draw_each_entity_in_its_colour_whatever_the_order(tmp_path):
    seen = {}
    for n, order in enumerate([["totaal", *REGIONS], list(reversed(REGIONS)), [REGIONS[2], "Limburg"]]):
        for draw in (plotting.diamond_plot, plotting.diamond_portrait):
            ax = draw(_regions_table(order))
            svg = plotting.save(ax.figure, tmp_path / f"f{n}-{draw.__name__}.svg").read_text(encoding="utf-8")
            for gid, (colour, _) in _svg_styles(svg).items():
                seen.setdefault(gid, set()).add(colour)
    for group in [*REGIONS, "totaal"]:
        assert seen[plotting.entity_id(group)] == {plotting.group_style(group)[0].upper()}, group


def test_markers_follow_the_mapping():
    ax = plotting.diamond_plot(_regions_table([*SEXES]))
    markers = {ln.get_gid(): ln.get_marker() for ln in ax.get_lines() if ln.get_gid()}
    assert markers == {plotting.entity_id(g): plotting.group_style(g)[1] for g in SEXES}
    matplotlib.pyplot.close(ax.figure)


def test_a_significant_difference_is_marked_visibly_in_both_layouts():
    table = _regions_table([*SEXES])
    comparisons = pd.DataFrame([{"family": "between", "year_a": 2025, "group_a": "jongen", "year_b": 2025,
                                 "group_b": "meisje", "significant": True}])
    for draw in (plotting.diamond_plot, plotting.diamond_portrait):
        ax = draw(table, comparisons)
        stars = [t for t in ax.texts if t.get_text() == "*"]
        assert len(stars) == 1 and stars[0].get_fontsize() >= 18 and stars[0].get_fontweight() == "bold"
        legend = ax.get_legend() or ax.figure.legends[0]
        assert plotting.SIGNIFICANCE_LABEL in [t.get_text() for t in legend.get_texts()]
        matplotlib.pyplot.close(ax.figure)


def test_the_statements_axis_fits_the_data():
    t = pd.DataFrame({"year": [2022, 2023] * 2, "item": ["item_gemak"] * 2 + ["item_praten"] * 2,
                      "percent": [71.0, 64.0, 88.0, 82.0]})
    for ax in (plotting.agreement_lines(t, breaks=[2023]), plotting.agreement_portrait(t, breaks=[2023])):
        lo, hi = ax.get_ylim()
        assert 50 <= lo <= 64 and 88 <= hi <= 100, (lo, hi)
        matplotlib.pyplot.close(ax.figure)
