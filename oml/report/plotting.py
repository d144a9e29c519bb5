"""Figures: one function for every diamond figure (2–5), one for the answer bars (Figure 1).

Theme, palette and size are set once here (:func:`set_theme`). Functions take ``ax=None``
and return the Axes; titles are left to the caption.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: papermill kernels and tests have no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from oml.data.contract import ANSWER_LABELS, is_illustrative, item_wording  # noqa: E402
from oml.report.text import group_label, nl_number  # noqa: E402

#: Okabe–Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
#: Diverging, colour-blind-safe shades for answers 1 (helemaal niet) … 5 (helemaal wel).
ANSWER_COLOURS = ["#b35806", "#f1a340", "#d9d9d9", "#998ec3", "#542788"]
FIGSIZE = (7.5, 4.2)
Y_LIMIT = 0.4


def set_theme() -> None:
    """House style for every figure; reproducible SVG output (no date, fixed ids)."""
    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.95)
    plt.rcParams.update(
        {
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
            ax.text((xa + xb) / 2, top, "*", ha="center", va="bottom", fontsize=13, color="0.2")
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


def answer_bars(distribution: pd.DataFrame, ax=None):
    """Horizontal stacked bars: percentage of each answer per statement (pooled years).

    ``distribution`` is :func:`oml.stats.distribution.answer_distribution` output; the
    ``"totaal"`` period is drawn. Suppressed (empty) statements are left out.

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
    if ax is None:
        _, ax = plt.subplots(figsize=(FIGSIZE[0], 0.6 * len(wide) + 1.4))
    # Wrapped statement texts keep the bars wide enough to read at page width.
    labels = [textwrap.fill(item_wording(i) + (" †" if is_illustrative(i) else ""), 34) for i in wide.index]
    left = np.zeros(len(wide))
    y = np.arange(len(wide))[::-1]
    for answer, colour in zip(wide.columns, ANSWER_COLOURS):
        values = wide[answer].to_numpy()
        ax.barh(y, values, left=left, color=colour, label=ANSWER_LABELS[int(answer)], height=0.7, edgecolor="white")
        for yi, l, v in zip(y, left, values):
            if v >= 6:
                # White only on the two dark ends of the scale: enough contrast everywhere.
                ax.text(l + v / 2, yi, nl_number(v, 0), ha="center", va="center", fontsize=10,
                        color="white" if answer in (1, 5) else "black")
        left += values
    ax.set_yticks(y, labels)
    ax.set_xlim(0, 100)
    ax.set_xlabel("Percentage leerlingen")
    _nl_ticks(ax, "x", 0)
    ax.grid(axis="y", visible=False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=5, frameon=False, fontsize=10)
    return ax


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


def agreement_lines(table: pd.DataFrame, breaks: list[int] | None = None, ax=None):
    """Share agreeing per statement and year: one line per statement, interrupted at every scale break.

    ``table`` is :func:`oml.stats.series.agreement_by_year` output (suppressed cells empty, not drawn).

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
                    label=textwrap.fill(item_wording(item) + (" †" if is_illustrative(item) else ""), 40) if seg == segment[0] else None)
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
