"""The factsheet's figure style, kept while the figures were made legible (issue: accessibility).

Zero line, diamonds with interval lines and Dutch decimal commas on the axes, read from the
Axes and from the SVG the site shows; Figure 1's text sizes against the legibility rule.
"""
from __future__ import annotations

import re

import matplotlib
import numpy as np
import pandas as pd
import pytest

from oml.report import plotting


@pytest.fixture(scope="module", autouse=True)
def theme():
    plotting.set_theme()


def _table() -> pd.DataFrame:
    rows = []
    for year, shift in ((2023, -0.12), (2024, 0.03), (2025, 0.18)):
        for group, g in (("jongen", -0.05), ("meisje", 0.05)):
            est = shift + g
            rows.append({"year": year, "group": group, "estimate": est, "ci_low": est - 0.1, "ci_high": est + 0.1})
    return pd.DataFrame(rows)


def test_diamond_plot_keeps_zero_line_diamonds_and_intervals():
    table = _table()
    ax = plotting.diamond_plot(table)
    zero = [ln for ln in ax.get_lines() if np.allclose(ln.get_ydata(), 0.0) and len(ln.get_ydata()) == 2]
    assert len(zero) == 1 and zero[0].get_color() == "black"
    # One marker per estimate: the reference a diamond, each group its own shape (plotting.group_style, issue 22).
    markers = [ln for ln in ax.get_lines() if ln.get_gid()]
    assert sum(len(ln.get_xdata()) for ln in markers) == len(table)
    assert {ln.get_marker() for ln in markers} == {plotting.group_style(g)[1] for g in table["group"]}
    intervals = [c for c in ax.collections if isinstance(c, matplotlib.collections.LineCollection)]
    segments = [s for c in intervals for s in c.get_segments()]
    assert sorted(round(float(s[1][1] - s[0][1]), 6) for s in segments) == [0.2] * len(table)
    matplotlib.pyplot.close(ax.figure)


def test_a_group_without_any_shown_cell_has_no_legend_entry():
    # A small school: every year of "meisje" (standing in for "Uw school") suppressed; the legend lists only what is drawn.
    table = _table()
    table.loc[table["group"] == "meisje", ["estimate", "ci_low", "ci_high"]] = np.nan
    limburg = _table().query("group == 'jongen'").assign(group="Limburg")
    table = pd.concat([table, limburg], ignore_index=True)
    ax = plotting.diamond_plot(table)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Jongens", "Limburg"]
    matplotlib.pyplot.close(ax.figure)


def test_svg_axes_have_dutch_decimal_commas(tmp_path):
    ax = plotting.diamond_plot(_table())
    svg = plotting.save(ax.figure, tmp_path / "f.svg").read_text(encoding="utf-8")
    # matplotlib writes each text as glyph paths, preceded by a comment with the text itself.
    texts = re.findall(r'<g id="text_\d+">\s*<!-- (.*?) -->', svg)
    ticks = [t for t in texts if re.fullmatch(r"[−-]?\d+[,.]\d+", t)]
    assert len(ticks) >= 5 and all("," in t and "." not in t for t in ticks), ticks
    assert "0,0" in ticks and "Afwijking van het gemiddelde (sd)" in texts


def test_no_figure_text_below_the_minimum_font_size():
    d = pd.DataFrame({"period": "totaal", "item": ["item_gemak"] * 5 + ["item_praten"] * 5, "answer": [1, 2, 3, 4, 5] * 2,
                      "percent": [5.0, 10.0, 15.0, 30.0, 40.0] * 2})
    for ax in (plotting.diamond_plot(_table()), plotting.answer_bars(d), plotting.diamond_portrait(_table()),
               plotting.agreement_portrait(d.assign(year=2023, percent=60.0).drop_duplicates("item"))):
        ax.figure.canvas.draw()
        sizes = [t.get_fontsize() for t in ax.figure.findobj(matplotlib.text.Text) if t.get_text().strip() and t.get_visible()]
        assert sizes and min(sizes) >= plotting.ANSWER_FONT
        matplotlib.pyplot.close(ax.figure)


def test_answer_bars_is_narrow_with_labels_above_the_bars():
    d = pd.DataFrame({"period": "totaal", "item": ["item_gemak"] * 5 + ["item_praten"] * 5, "answer": [1, 2, 3, 4, 5] * 2,
                      "percent": [5.0, 10.0, 15.0, 30.0, 40.0] * 2})
    ax = plotting.answer_bars(d)
    assert ax.figure.get_size_inches()[0] == plotting.ANSWER_FIG_WIDTH
    assert list(ax.get_yticks()) == []  # no label column: each statement is written above its bar
    labels = [t for t in ax.texts if "juf/meester" in t.get_text()]
    assert len(labels) == 2 and all(t.get_va() == "bottom" and t.get_position()[0] == 0 for t in labels)
    matplotlib.pyplot.close(ax.figure)


def test_phone_variants_are_narrow_and_label_every_row():
    ax = plotting.diamond_portrait(_table())
    assert ax.figure.get_size_inches()[0] == plotting.PORTRAIT_WIDTH
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["2023", "Jongens", "Meisjes", "2024", "Jongens", "Meisjes", "2025", "Jongens", "Meisjes"]
    # Horizontal intervals: each one runs along x, at its row.
    segments = [s for c in ax.collections for s in c.get_segments()]
    assert len(segments) == len(_table()) and all(s[0][1] == s[1][1] for s in segments)
    matplotlib.pyplot.close(ax.figure)
