"""Figures: one function for every diamond figure (2–5), one for the answer bars (Figure 1).

Theme, palette and size are set once here (:func:`set_theme`). Functions take ``ax=None``
and return the Axes; titles are left to the caption.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: papermill kernels and tests have no display
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from oml.data import codebook, scales
from oml.report.text import group_label, nl_number

#: Okabe–Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
#: Diverging, colour-blind-safe shades for answers 1 (helemaal niet) … 5 (helemaal wel).
ANSWER_COLOURS = ["#b35806", "#f1a340", "#d9d9d9", "#998ec3", "#542788"]
FIGSIZE = (7.5, 4.2)
Y_LIMIT = 0.4
#: Figure 1 is narrow and tall (labels above the bars), so that at a phone's column width (about
#: 310 CSS px) its 10-pt text still shows at 11 CSS px or more; the site caps its width on wide screens.
ANSWER_FIG_WIDTH = 3.5
#: Smallest text in any figure, in points. Diamond figures are shown at about 0,8 CSS px per point-pixel
#: in a 1280-px window: 11 pt stays above 11 CSS px there (tests/site/test_a11y.py measures it).
MIN_FONT = 11
ANSWER_FONT = 10


def set_theme() -> None:
    """House style for every figure; reproducible SVG output (no date, fixed ids)."""
    sns.set_theme(context="notebook", style="whitegrid")
    plt.rcParams.update(
        {
            # Legible on screen: no text below MIN_FONT (seaborn's notebook context goes down to 11 pt).
            "xtick.labelsize": MIN_FONT,
            "ytick.labelsize": MIN_FONT,
            "legend.fontsize": MIN_FONT,
            "axes.labelsize": MIN_FONT + 1,
            "figure.figsize": FIGSIZE,
            "figure.dpi": 110,
            "svg.hashsalt": "oml",  # deterministic element ids in SVG
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.formatter.use_locale": False,
        }
    )


def _nl_ticks(ax, axis: str = "y", decimals: int = 1) -> None:
    fmt = matplotlib.ticker.FuncFormatter(lambda v, _: nl_number(v, decimals))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def diamond_plot(table: pd.DataFrame, comparisons: pd.DataFrame | None = None, ax=None, level: float = 0.95,
                 breaks: list[int] | None = None):
    """Adjusted deviations from the overall mean per year and group, with CI lines.

    Parameters
    ----------
    table : DataFrame
        Tidy ``year, group, estimate, ci_low, ci_high`` (suppressed cells are empty and not drawn).
    comparisons : DataFrame, optional
        From :func:`oml.stats.comparisons.compare`; significant ones are marked with ``*``.
    ax : matplotlib Axes, optional
    level : float
        Confidence level, for the legend text.
    breaks : list of int, optional
        Years from which a new answer scale applies: a dashed vertical line is drawn just
        before each (:func:`draw_breaks`); diamonds on either side are not comparable.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> t = pd.DataFrame({"year": [2023, 2025], "group": ["totaal"] * 2, "estimate": [0.0, 0.1],
    ...                   "ci_low": [-0.1, 0.0], "ci_high": [0.1, 0.2]})
    >>> ax = diamond_plot(t)
    >>> tuple(float(v) for v in ax.get_ylim())
    (-0.4, 0.4)
    >>> plt.close(ax.figure)
    """
    if ax is None:
        _, ax = plt.subplots(figsize=FIGSIZE)
    years = sorted(table["year"].unique())
    groups = list(dict.fromkeys(table["group"]))
    width = 0.7
    offsets = np.linspace(-width / 2, width / 2, len(groups) + 2)[1:-1] if len(groups) > 1 else [0.0]
    pos = {}
    for k, (group, colour) in enumerate(zip(groups, PALETTE)):
        part = table[table["group"] == group].set_index("year").reindex(years)
        x = np.arange(len(years)) + offsets[k]
        ok = part["estimate"].notna().to_numpy()
        ax.vlines(x[ok], part["ci_low"][ok], part["ci_high"][ok], color=colour, linewidth=2)
        ax.plot(x[ok], part["estimate"][ok], linestyle="none", marker="D", markersize=8, color=colour,
                markeredgecolor="white", label=group_label(group))
        pos.update({(y, group): (xi, hi) for y, xi, hi in zip(years, x, part["ci_high"])})
    ax.axhline(0.0, color="black", linewidth=1)
    finite = table[["ci_low", "ci_high"]].to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    reach = max(Y_LIMIT, float(np.abs(finite).max()) * 1.15 if finite.size else 0.0)
    ax.set_ylim(-reach, reach)
    ax.set_xticks(range(len(years)), [str(y) for y in years])
    ax.set_xlim(-0.6, len(years) - 0.4)
    ax.set_ylabel("Afwijking van het gemiddelde (sd)")
    ax.set_xlabel("")
    _nl_ticks(ax)
    marked = False
    if comparisons is not None and len(comparisons):
        for row in comparisons[comparisons["significant"] & (comparisons["family"] != "consecutive")].itertuples():
            (xa, ha), (xb, hb) = pos[(row.year_a, row.group_a)], pos[(row.year_b, row.group_b)]
            top = np.nanmax([ha, hb]) + 0.04 * reach
            ax.plot([xa, xa, xb, xb], [top - 0.02 * reach, top, top, top - 0.02 * reach], color="0.3", linewidth=1)
            ax.text((xa + xb) / 2, top, "*", ha="center", va="bottom", fontsize=MIN_FONT + 3, color="0.2")
            marked = True
    if breaks:
        draw_breaks(ax, years, breaks)
    handles, labels = ax.get_legend_handles_labels()
    if marked:
        handles.append(matplotlib.lines.Line2D([], [], color="0.3", linewidth=1))
        labels.append("* significant verschil")
    ax.grid(axis="x", visible=False)  # a grid line would run through the middle group's interval
    if len(groups) > 1 or marked or breaks:
        ncol = len(labels) if len(labels) <= 4 else (len(labels) + 1) // 2
        ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=ncol, frameon=False)
    return ax


def _default_words() -> codebook.Words:
    """The project's codebook and scale config: what a figure shows when no table's words are passed (synthetic)."""
    return codebook.Words(None, synthetic=True)


def answer_bars(distribution: pd.DataFrame, ax=None, labels: dict[str, str] | None = None,
                legend: dict[int, str] | None = None):
    """Stacked bars: percentage of each answer per statement (pooled years), the statement above its bar.

    ``distribution`` is :func:`oml.stats.distribution.answer_distribution` output; the
    ``"totaal"`` period is drawn. Suppressed (empty) statements are left out. The figure is
    narrow and tall (:data:`ANSWER_FIG_WIDTH`), so that it stays legible on a phone.

    ``labels`` (statement -> text above its bar) and ``legend`` (answer -> legend text) come from
    the data's words (:class:`oml.data.codebook.Words`); without them, the project's codebook and
    the current scale's labels of ``oml/config/scales.toml``.

    Examples
    --------
    >>> d = pd.DataFrame({"period": "totaal", "item": "item_gemak", "answer": [1, 2, 3, 4, 5],
    ...                   "percent": [5.0, 10.0, 15.0, 30.0, 40.0]})
    >>> ax = answer_bars(d)
    >>> len(ax.patches)
    5
    >>> plt.close(ax.figure)
    """
    pooled = distribution[distribution["period"] == "totaal"]
    wide = pooled.pivot(index="item", columns="answer", values="percent").dropna()
    wide = wide.loc[[i for i in dict.fromkeys(pooled["item"]) if i in wide.index]]
    if labels is None:
        labels = {i: _default_words().label(i, "\u00a0†") for i in wide.index}
    if legend is None:
        current = scales.current()
        legend = {a: codebook.answer_legend(a, t) for a, t in _default_words().period_labels(current, [current.first_year]).items()}
    # Statement texts wrapped to the bar's width, drawn above each bar: no label column eats the width.
    labels = [textwrap.fill(labels[i], 38) for i in wide.index]
    lines = [label.count("\n") + 1 for label in labels]
    if ax is None:
        height = sum(0.3 + 0.2 * n for n in lines) + 1.1
        _, ax = plt.subplots(figsize=(ANSWER_FIG_WIDTH, height))
    # One slot per statement, as high as its label needs: bar (0.5) plus 0.35 per label line.
    slots = np.array([0.5 + 0.35 * n + 0.25 for n in lines])
    tops = np.concatenate([[0.0], np.cumsum(slots)[:-1]])
    y = -(tops + slots - 0.25)  # bar centres, top to bottom
    left = np.zeros(len(wide))
    for answer, colour in zip(wide.columns, ANSWER_COLOURS):
        values = wide[answer].to_numpy()
        ax.barh(y, values, left=left, color=colour, label=legend[int(answer)], height=0.5, edgecolor="white")
        for yi, start, v in zip(y, left, values):
            if v >= 7:
                # White only on the two dark ends of the scale: enough contrast everywhere.
                ax.text(start + v / 2, yi, nl_number(v, 0), ha="center", va="center", fontsize=ANSWER_FONT,
                        color="white" if answer in (1, 5) else "black")
        left += values
    for yi, label in zip(y, labels):
        ax.text(0, yi + 0.3, label, ha="left", va="bottom", fontsize=ANSWER_FONT, linespacing=1.15)
    ax.set_yticks([])
    ax.set_ylim(-float(slots.sum()), 0.05)
    ax.set_xlim(0, 100)
    ax.set_xlabel("Percentage leerlingen", fontsize=ANSWER_FONT)
    ax.tick_params(axis="x", labelsize=ANSWER_FONT)
    _nl_ticks(ax, "x", 0)
    ax.grid(axis="y", visible=False)
    ax.spines["left"].set_visible(False)
    # The legend in the order of the scale, left-aligned and no wider than the bars (it sets the figure's width):
    # three columns, fewer when the data's own answer labels are long.
    ncol = legend_columns([legend[int(a)] for a in wide.columns])
    ax.legend(loc="upper left", bbox_to_anchor=(-0.01, -0.5 / ax.figure.get_size_inches()[1] - 0.04), ncol=ncol,
              frameon=False, fontsize=ANSWER_FONT, handlelength=1.0, handletextpad=0.4, columnspacing=0.8,
              borderaxespad=0, borderpad=0)
    return ax


def legend_columns(labels: list[str], most: int = 3, width: float = ANSWER_FIG_WIDTH) -> int:
    """The most legend columns (up to ``most``) whose estimated width fits ``width`` inches at :data:`ANSWER_FONT`.

    Matplotlib fills a legend column by column; a column is as wide as its longest label plus
    the handle. Text is estimated at 0,55 em per character.

    Examples
    --------
    >>> legend_columns(["1 helemaal niet", "2", "3", "4", "5 helemaal wel"])
    3
    >>> legend_columns(["1 klopt helemaal niet", "2 klopt niet", "3 neutraal", "4 klopt wel", "5 klopt helemaal"])
    2
    """
    em = ANSWER_FONT / 72  # inches
    for ncol in range(most, 1, -1):
        rows = -(-len(labels) // ncol)
        columns = [labels[k:k + rows] for k in range(0, len(labels), rows)]
        text = sum(max(len(t) for t in col) for col in columns) * 0.55 * em
        if text + len(columns) * 1.4 * em + (len(columns) - 1) * 0.8 * em <= width:
            return ncol
    return 1


def save(fig, path: str | Path) -> Path:
    """Save a figure reproducibly (no creation date in the file) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight", metadata={"Date": None} if path.suffix == ".svg" else None)
    plt.close(fig)
    return path


BREAK_LABEL = "nieuwe antwoordschaal"


def draw_breaks(ax, years: list[int], breaks: list[int]) -> None:
    """Dashed vertical line between the last year of one answer scale and the first of the next.

    ``years`` are the x positions 0, 1, … in order; a break year not among them is skipped.
    The line carries a legend entry, so the figure explains itself without colour.
    """
    for b in breaks:
        if b in list(years):
            x = list(years).index(b) - 0.5
            ax.axvline(x, color="0.25", linestyle=(0, (5, 3)), linewidth=1.5,
                       label=BREAK_LABEL if BREAK_LABEL not in ax.get_legend_handles_labels()[1] else None)


def agreement_lines(table: pd.DataFrame, breaks: list[int] | None = None, ax=None, labels: dict[str, str] | None = None):
    """Share agreeing per statement and year: one line per statement, interrupted at every scale break.

    ``table`` is :func:`oml.stats.series.agreement_by_year` output (suppressed cells and years a
    statement was not asked are empty, not drawn). ``labels``: statement -> legend text (from the
    data's words, :class:`oml.data.codebook.Words`; default the project's codebook).

    Examples
    --------
    >>> t = pd.DataFrame({"year": [2022, 2023] * 2, "item": ["item_gemak"] * 2 + ["item_praten"] * 2,
    ...                   "percent": [70.0, 60.0, 65.0, 55.0]})
    >>> ax = agreement_lines(t, breaks=[2023])
    >>> len(ax.lines)  # two statements x two periods, plus the break line
    5
    >>> plt.close(ax.figure)
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(FIGSIZE[0], FIGSIZE[1] + 0.8))
    years = sorted(int(y) for y in table["year"].unique())
    x_of = {y: i for i, y in enumerate(years)}
    bounds = sorted(set(breaks or []))
    segment = np.searchsorted(bounds, np.array(years), side="right")  # period number of each year
    for k, (item, part) in enumerate(table.groupby("item", sort=False)):
        colour = PALETTE[k % len(PALETTE)]
        marker = "osD^vP"[k % 6]  # markers as well as colours: lines stay apart in grey print
        part = part.set_index(part["year"].astype(int)).reindex(years)
        for seg in np.unique(segment):
            ys = [y for y, s_ in zip(years, segment) if s_ == seg]
            ax.plot([x_of[y] for y in ys], part.loc[ys, "percent"].to_numpy(dtype=float), color=colour, marker=marker,
                    markersize=6, linewidth=1.8,
                    label=textwrap.fill(labels[item] if labels is not None else _default_words().label(item), 40)
                    if seg == segment[0] else None)
    if breaks:
        draw_breaks(ax, years, breaks)
    ax.set_xticks(range(len(years)), [str(y) for y in years])
    ax.set_xlim(-0.5, len(years) - 0.5)
    ax.set_ylim(0, 100)
    ax.set_ylabel("Percentage (helemaal) eens")
    _nl_ticks(ax, "y", 0)
    ax.grid(axis="x", visible=False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2, frameon=False, fontsize=9)
    return ax


def funnel_plot(target: float, sd: float, n: int, estimate: float, ax=None, levels=(0.95, 0.998),
                label: str = "Uw school", reference: str = "Limburg", between_var: float = 0.0):
    """Funnel plot of ONE unit: its point and the random-effects control limits around the reference mean.

    The limits :math:`\\theta_0 \\pm z_{(1+c)/2} \\sqrt{\\tau^2 + s^2/n}` (:func:`oml.stats.units.funnel_limits`)
    are drawn over a range of pupil counts that depends only on the unit's own ``n`` (``n/4`` to ``3n``, at
    least up to 100), so the figure reveals nothing about other schools: no other points, no other sizes.

    Parameters
    ----------
    target, sd : float
        Reference mean :math:`\\theta_0` and within-school standard deviation :math:`s`.
    n : int
        The unit's number of pupils.
    estimate : float
        The unit's (adjusted) mean.
    ax : matplotlib Axes, optional
    levels : tuple of float
        Control-limit levels, inner first.
    label, reference : str
        Legend labels of the point and the reference line.
    between_var : float
        The between-school variance :math:`\\tau^2` the limits allow for (0: the plain normal limits).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> ax = funnel_plot(0.0, 1.0, 60, 0.3, between_var=0.045)
    >>> len(ax.lines)  # reference line, two limits on each side, the point
    6
    >>> plt.close(ax.figure)
    """
    from oml.stats.units import funnel_limits

    if ax is None:
        _, ax = plt.subplots(figsize=FIGSIZE)
    lo, hi = max(2.0, n / 4), max(100.0, 3.0 * n)
    grid = np.linspace(lo, hi, 200)
    ax.axhline(target, color="black", linewidth=1, label=f"Gemiddelde {reference}")
    styles = ["--", ":"]
    for k, level in enumerate(levels):
        f = funnel_limits(target, sd, grid, (level,), between_var)
        pct = nl_number(level * 100, 1 if abs(level * 100 - round(level * 100)) > 1e-9 else 0)
        style = styles[k % len(styles)]
        ax.plot(grid, f["high"], color="0.35", linestyle=style, linewidth=1.3, label=f"{pct}%-grenzen")
        ax.plot(grid, f["low"], color="0.35", linestyle=style, linewidth=1.3)
    ax.plot([n], [estimate], linestyle="none", marker="D", markersize=10, color=PALETTE[0], markeredgecolor="white",
            label=label)
    outer = float(funnel_limits(target, sd, [lo], (max(levels),), between_var)["high"].iloc[0]) - target
    reach = max(abs(estimate - target) * 1.2, min(outer * 1.1, 1.5), 0.2)
    ax.set_ylim(target - reach, target + reach)
    ax.set_xlim(0, hi)
    ax.set_xlabel("Aantal leerlingen")
    ax.set_ylabel("Afwijking van het gemiddelde (sd)")
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=8, steps=[1, 2, 5, 10]))  # one decimal never rounds a tick
    _nl_ticks(ax)
    _nl_ticks(ax, "x", 0)
    # Two columns: four entries in one row are wider than the figure (the last one was cut off).
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, frameon=False)
    return ax


def svg_string(fig, prefix: str, tight: bool = True) -> str:
    """The figure as an inline ``<svg>`` element (no XML header), every id prefixed with ``prefix``.

    Several inline SVGs in one HTML document must not share element ids (matplotlib reuses
    glyph and clip-path ids), so each figure gets its own prefix. The figure is closed.
    ``tight=False`` keeps the figure's own layout: one draw instead of two (set the margins first).

    Examples
    --------
    >>> fig, ax = plt.subplots()
    >>> s = svg_string(fig, "f1")
    >>> s.startswith("<svg") and 'id="f1-' in s
    True
    """
    import io
    import re

    buffer = io.StringIO()
    # Text as <text> elements, not glyph paths: smaller, faster, selectable and read by screen readers.
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight" if tight else None, metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', text)
    text = re.sub(r'(xlink:href|href)="#([^"]+)"', rf'\1="#{prefix}-\2"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", text)
    return text
