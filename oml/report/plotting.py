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

#: Okabe–Ito, kept for callers that colour something that is not an entity (``PALETTE[0]``: "your school").
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
#: Diverging, colour-blind-safe shades for answers 1 (helemaal niet) … 5 (helemaal wel).
ANSWER_COLOURS = ["#b35806", "#f1a340", "#d9d9d9", "#998ec3", "#542788"]

# ----------------------------------------------------------------------------- one style per entity
#: The reference (all pupils, Limburg as a whole): black diamonds, as in the factsheet.
REFERENCE_STYLE = ("#000000", "D")
#: The regions get these styles in the order of ``oml/config/regions.toml`` (a delivery with other regions keeps
#: the rule: the n-th region, the n-th style). Chosen (from Paul Tol's and Okabe–Ito's sets) for the largest
#: smallest CVD distance of five colours plus black (:func:`cvd_distances`), each at least 3:1 against white.
REGION_STYLES = [("#4477AA", "o"), ("#EE6677", "s"), ("#8A6D00", "^"), ("#882255", "v"), ("#332288", "P")]
#: Colours of the statements (Figure 7, the long series), in the order of the codebook; markers as well.
STATEMENT_STYLES = [("#4477AA", "o"), ("#EE6677", "s"), ("#C2185B", "D"), ("#5D3A9B", "^"), ("#B8860B", "v"),
                    ("#994F00", "P")]
#: For a group no mapping names (another extract's categories): grey, told apart by marker and label.
FALLBACK_STYLES = [("#555555", "o"), ("#555555", "s"), ("#555555", "^"), ("#555555", "v")]


def _entity_styles() -> dict[str, tuple[str, str]]:
    from oml.data.codebook import CODEBOOK
    from oml.data.contract import REGIONS

    styles = {
        # One entity, one style, on every page and in every feedback report: "totaal" (all pupils) and Limburg
        # are the same pupils; the feedback reports call them "limburg" and the school "unit".
        "totaal": REFERENCE_STYLE, "Limburg": REFERENCE_STYLE, "limburg": REFERENCE_STYLE,
        "rest van Limburg": ("#777777", "o"),
        "unit": (PALETTE[0], "D"), "region": ("#777777", "s"),
        "jongen": ("#994F00", "s"), "meisje": ("#009988", "o"),
        "mbo of lager": ("#117733", "^"), "hbo": ("#B8860B", "s"), "wo": ("#7B3294", "o"), "onbekend": ("#777777", "X"),
    }
    styles.update(zip(REGIONS, REGION_STYLES))
    styles.update(zip((item.column for item in CODEBOOK), STATEMENT_STYLES))
    return styles


#: entity (group code, region name, statement column) -> (colour, marker): the one mapping of the site and the reports.
ENTITY_STYLES: dict[str, tuple[str, str]] = _entity_styles()
def _regions() -> tuple[str, ...]:
    from oml.data.contract import REGIONS

    return REGIONS


#: The sets of entities that can share a figure: their colours must stay apart under every simulated CVD.
ENTITY_SETS: dict[str, list[str]] = {
    "sex": ["totaal", "jongen", "meisje"],
    "parent_education": ["totaal", "mbo of lager", "hbo", "wo", "onbekend"],
    "region": ["totaal", *_regions()],
    "statement": [g for g, s in ENTITY_STYLES.items() if g.startswith("item_")],
    "feedback": ["unit", "region", "limburg"],
}
#: Smallest CIELAB ΔE (CIE76) between two colours of one set, with normal vision and each simulated CVD.
MIN_CVD_DISTANCE = 15.0


def group_style(group: str, k: int = 0) -> tuple[str, str]:
    """The colour and marker of an entity (a group, a region, a statement), the same in every figure.

    ``k`` (the group's position in its figure) picks a grey fallback style for a group no mapping names.

    Examples
    --------
    >>> group_style("meisje")
    ('#009988', 'o')
    >>> group_style("Noord-Limburg") == REGION_STYLES[0]
    True
    >>> group_style("iets anders", 1)
    ('#555555', 's')
    """
    return ENTITY_STYLES.get(group, FALLBACK_STYLES[k % len(FALLBACK_STYLES)])


def entity_id(group: str) -> str:
    """The SVG id of an entity's markers (``oml-entity-<name>``): tests read every figure's colour map from it.

    Examples
    --------
    >>> entity_id("mbo of lager")
    'oml-entity-mbo-of-lager'
    """
    import re

    return "oml-entity-" + re.sub(r"[^0-9A-Za-z_]+", "-", group).strip("-")


# Machado, Oliveira & Fernandes (2009), "A physiologically-based model for simulation of color vision deficiency",
# IEEE TVCG 15(6): the matrices for severity 1,0, from the authors' table
# (https://www.inf.ufrgs.br/~oliveira/pubs_files/CVD_Simulation/CVD_Simulation.html), applied to linear sRGB.
# No maintained library is pinnable for this (colorspacious 1.1.2 and daltonlens 0.1.5 are from 2018 and 2021);
# tests/report/test_colours.py checks these against colorspacious's output.
MACHADO_2009 = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}


def _linear(hex_colour: str) -> np.ndarray:
    rgb = np.array([int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)])
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def simulate_cvd(hex_colour: str, kind: str | None) -> np.ndarray:
    """The colour as seen with a colour-vision deficiency (``None``: as is), as sRGB in 0–1.

    Examples
    --------
    >>> [round(float(v), 3) for v in simulate_cvd("#ffffff", "deuteranopia")]
    [1.0, 1.0, 1.0]
    """
    linear = _linear(hex_colour)
    if kind is not None:
        linear = np.clip(np.array(MACHADO_2009[kind]) @ linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)


def cielab(srgb: np.ndarray) -> np.ndarray:
    """sRGB (0–1) to CIELAB (D65 white).

    Examples
    --------
    >>> [round(float(v), 1) + 0.0 for v in cielab(np.array([1.0, 1.0, 1.0]))]  # + 0.0: no -0.0
    [100.0, 0.0, 0.0]
    """
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]])
    xyz = (m @ linear) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def cvd_distances(groups: list[str]) -> pd.DataFrame:
    """Every pair of the groups' colours: CIELAB ΔE with normal vision and under each simulated CVD.

    Examples
    --------
    >>> d = cvd_distances(["jongen", "meisje"])
    >>> list(d.columns)
    ['a', 'b', 'vision', 'delta_e']
    >>> bool(d["delta_e"].min() >= MIN_CVD_DISTANCE)
    True
    """
    rows = []
    for i, a in enumerate(groups):
        for b in groups[i + 1:]:
            for kind in (None, *MACHADO_2009):
                la, lb = (cielab(simulate_cvd(group_style(g)[0], kind)) for g in (a, b))
                rows.append({"a": a, "b": b, "vision": kind or "normal", "delta_e": float(np.linalg.norm(la - lb))})
    return pd.DataFrame(rows, columns=["a", "b", "vision", "delta_e"])
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
                 breaks: list[int] | None = None, styles: dict[str, tuple[str, str]] | None = None):
    """Adjusted deviations from the overall mean per year and group, with CI lines.

    Every group keeps its colour and marker on every page (:func:`group_style`); the markers carry the
    SVG id :func:`entity_id`. :func:`diamond_portrait` draws the same numbers for a phone.

    Parameters
    ----------
    table : DataFrame
        Tidy ``year, group, estimate, ci_low, ci_high`` (suppressed cells are empty and not drawn).
    comparisons : DataFrame, optional
        From :func:`oml.stats.comparisons.compare`; significant ones are marked with a bracket and ``*``.
    ax : matplotlib Axes, optional
    level : float
        Confidence level, for the legend text.
    breaks : list of int, optional
        Years from which a new answer scale applies: a dashed vertical line is drawn just
        before each (:func:`draw_breaks`); diamonds on either side are not comparable.
    styles : dict, optional
        group -> (colour, marker) for groups whose entity the group code does not name (a feedback report's
        ``"region"`` is one region: pass ``{"region": group_style(name)}``); other groups use :func:`group_style`.

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
    for k, group in enumerate(groups):
        colour, marker = (styles or {}).get(group) or group_style(group, k)
        part = table[table["group"] == group].set_index("year").reindex(years)
        x = np.arange(len(years)) + offsets[k]
        ok = part["estimate"].notna().to_numpy()
        ax.vlines(x[ok], part["ci_low"][ok], part["ci_high"][ok], color=colour, linewidth=2)
        # A group with every cell suppressed has no point: no legend entry either (a leading "_" hides it), or a
        # small school's report would list "Uw school" above a figure without it.
        (line,) = ax.plot(x[ok], part["estimate"][ok], linestyle="none", marker=marker, markersize=8, color=colour,
                          markeredgecolor="white", label=group_label(group) if ok.any() else f"_{group_label(group)}")
        line.set_gid(entity_id(group))
        pos.update({(y, group): (xi, hi) for y, xi, hi in zip(years, x, part["ci_high"])})
    ax.axhline(0.0, color="black", linewidth=1)
    reach = _reach(table)
    ax.set_ylim(-reach, reach)
    ax.set_xticks(range(len(years)), [str(y) for y in years])
    ax.set_xlim(-0.6, len(years) - 0.4)
    ax.set_ylabel("Afwijking van het gemiddelde (sd)")
    ax.set_xlabel("")
    _nl_ticks(ax)
    marked = False
    for row in _marked(comparisons).itertuples():
        (xa, ha), (xb, hb) = pos[(row.year_a, row.group_a)], pos[(row.year_b, row.group_b)]
        top = np.nanmax([ha, hb]) + 0.05 * reach
        # A bracket and a star large enough to see at a glance (the factsheet's was easy to miss).
        ax.plot([xa, xa, xb, xb], [top - 0.03 * reach, top, top, top - 0.03 * reach], color=SIGNIFICANCE_COLOUR,
                linewidth=1.6, solid_capstyle="butt")
        ax.text((xa + xb) / 2, top - 0.01 * reach, "*", ha="center", va="bottom", fontsize=STAR_FONT, fontweight="bold",
                color=SIGNIFICANCE_COLOUR)
        marked = True
    if breaks:
        draw_breaks(ax, years, breaks)
    handles, labels = ax.get_legend_handles_labels()
    if marked:
        handles.append(_significance_handle())
        labels.append(SIGNIFICANCE_LABEL)
    ax.grid(axis="x", visible=False)  # a grid line would run through the middle group's interval
    if len(groups) > 1 or marked or breaks:
        ncol = len(labels) if len(labels) <= 4 else (len(labels) + 1) // 2
        ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=ncol, frameon=False)
    return ax


#: Significance marks: a dark bracket with a bold star, explained in the legend.
SIGNIFICANCE_COLOUR = "0.1"
SIGNIFICANCE_LABEL = "* significant verschil"
STAR_FONT = 20
#: Width of the phone variants (:func:`diamond_portrait`, :func:`agreement_portrait`), in inches. In a phone's
#: column of about 343 CSS px, 11-pt text then shows at about 14 CSS px (the rule: at least 11).
PORTRAIT_WIDTH = 3.6
#: The phone variant of ``x.svg`` is ``x-smal.svg``; the site serves it to narrow screens (book/_ext/oml_site.py).
PORTRAIT_SUFFIX = "-smal"


def portrait_path(path: str | Path) -> Path:
    """Where the phone variant of the figure at ``path`` is saved: ``x.svg`` -> ``x-smal.svg``.

    Examples
    --------
    >>> portrait_path("files/a-figuur.svg").as_posix()
    'files/a-figuur-smal.svg'
    """
    path = Path(path)
    return path.with_name(f"{path.stem}{PORTRAIT_SUFFIX}{path.suffix}")


def _reach(table: pd.DataFrame) -> float:
    """Half the range of the deviation axis: symmetric around the mean, at least :data:`Y_LIMIT`, room for every interval."""
    finite = table[["ci_low", "ci_high"]].to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    return max(Y_LIMIT, float(np.abs(finite).max()) * 1.15 if finite.size else 0.0)


def _marked(comparisons: pd.DataFrame | None) -> pd.DataFrame:
    """The comparisons a figure marks: significant, not between consecutive years (those are in the text)."""
    if comparisons is None or not len(comparisons):
        return pd.DataFrame(columns=["year_a", "group_a", "year_b", "group_b"])
    return comparisons[comparisons["significant"].astype(bool) & (comparisons["family"] != "consecutive")]


def _significance_handle():
    return matplotlib.lines.Line2D([], [], color=SIGNIFICANCE_COLOUR, linewidth=1.6)


def diamond_portrait(table: pd.DataFrame, comparisons: pd.DataFrame | None = None, level: float = 0.95,
                     breaks: list[int] | None = None, ax=None, styles: dict[str, tuple[str, str]] | None = None):
    """The diamond figure for a phone: one row per year and group, horizontal intervals, years one under the other.

    The same numbers, colours and markers as :func:`diamond_plot`, in a narrow, tall figure
    (:data:`PORTRAIT_WIDTH`): every year and group is labelled by name beside its row (no legend to decode),
    a significant comparison is a bracket with a star to the right of its two rows, a change of answer scale a
    dashed line between two years. A suppressed cell keeps its row, labelled with the suppression symbol.
    ``styles`` as in :func:`diamond_plot`.

    Examples
    --------
    >>> t = pd.DataFrame({"year": [2023, 2023, 2025, 2025], "group": ["jongen", "meisje"] * 2,
    ...                   "estimate": [0.0, 0.1, -0.1, 0.2], "ci_low": [-0.1, 0.0, -0.2, 0.1], "ci_high": [0.1, 0.2, 0.0, 0.3]})
    >>> ax = diamond_portrait(t)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['2023', 'Jongens', 'Meisjes', '2025', 'Jongens', 'Meisjes']
    >>> float(ax.figure.get_size_inches()[0]) == PORTRAIT_WIDTH
    True
    >>> plt.close(ax.figure)
    """
    from oml.report.text import SUPPRESSED

    years = sorted(table["year"].unique())
    groups = list(dict.fromkeys(table["group"]))
    single = len(groups) == 1
    rows = []
    for year in years:
        if not single:
            rows.append((year, None))  # the year's heading row
        rows.extend((year, g) for g in groups)
    y_of = {r: -float(i) for i, r in enumerate(rows)}
    marks = _marked(comparisons)
    legend_rows = int(len(marks) > 0) + int(bool(breaks))
    if ax is None:
        _, ax = plt.subplots(figsize=(PORTRAIT_WIDTH, 0.3 * len(rows) + 1.0 + 0.3 * legend_rows), layout="constrained")
    estimates = table.set_index(["year", "group"])
    for k, group in enumerate(groups):
        colour, marker = (styles or {}).get(group) or group_style(group, k)
        part = table[table["group"] == group].set_index("year").reindex(years)
        y = np.array([y_of[(yr, group)] for yr in years])
        ok = part["estimate"].notna().to_numpy()
        ax.hlines(y[ok], part["ci_low"][ok], part["ci_high"][ok], color=colour, linewidth=2)
        (line,) = ax.plot(part["estimate"][ok], y[ok], linestyle="none", marker=marker, markersize=8, color=colour,
                          markeredgecolor="white")
        line.set_gid(entity_id(group))
    ax.axvline(0.0, color="black", linewidth=1)
    reach = _reach(table)
    labels = []
    for year, group in rows:
        name = str(year) if group is None or single else group_label(group)
        shown = (year, group) in estimates.index and pd.notna(estimates.loc[(year, group), "estimate"])
        labels.append(name if group is None or shown else f"{name} {SUPPRESSED}")
    ax.set_yticks([y_of[r] for r in rows], labels)
    for (_, group), tick in zip(rows, ax.get_yticklabels()):
        if group is None:
            tick.set_fontweight("bold")
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="y", visible=False)
    # Brackets to the right of the intervals, the shortest nearest, each a step further out.
    spans = sorted(((abs(y_of[(r.year_a, r.group_a)] - y_of[(r.year_b, r.group_b)]), r) for r in marks.itertuples()),
                   key=lambda s: s[0])
    step = 0.16 * reach
    for j, (_, r) in enumerate(spans):
        ya, yb = y_of[(r.year_a, r.group_a)], y_of[(r.year_b, r.group_b)]
        x = reach * 1.02 + j * step
        ax.plot([x - 0.04 * reach, x, x, x - 0.04 * reach], [ya, ya, yb, yb], color=SIGNIFICANCE_COLOUR, linewidth=1.6)
        ax.text(x + 0.015 * reach, (ya + yb) / 2, "*", ha="left", va="center", fontsize=STAR_FONT, fontweight="bold",
                color=SIGNIFICANCE_COLOUR)
    right = reach * 1.02 + len(spans) * step + 0.05 * reach if spans else reach
    ax.set_xlim(-reach, right)
    ax.set_ylim(-len(rows) + 0.5, 0.6)
    # Few ticks: the axis is narrow, and with brackets beside it narrower still (labels must not touch).
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=2 if len(marks) else 4, steps=[1, 2, 2.5, 5, 10]))
    # Right-aligned: the label is wider than the narrow axes and would stick out of the figure (and so shrink it).
    ax.set_xlabel("Afwijking van het gemiddelde (sd)", loc="right")
    _nl_ticks(ax, "x")
    if spans:
        ax.set_xticks([t for t in ax.get_xticks() if -reach <= t <= reach])  # no ticks under the brackets
    handles, names = [], []
    for b in breaks or []:
        before = [r for r in rows if r[0] < b]
        if before and b in years:
            ax.axhline(y_of[before[-1]] - 0.5, color="0.25", linestyle=(0, (5, 3)), linewidth=1.5)
            if not names:
                handles.append(matplotlib.lines.Line2D([], [], color="0.25", linestyle=(0, (5, 3)), linewidth=1.5))
                names.append(BREAK_LABEL)
    if spans:
        handles.append(_significance_handle())
        names.append(SIGNIFICANCE_LABEL)
    if handles:
        ax.figure.legend(handles, names, loc="outside lower left", ncol=1, frameon=False)
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


def _percent_limits(values) -> tuple[float, float]:
    """A percentage axis that fits the data: 10-point steps around them (at least 30 points), within 0–100.

    Examples
    --------
    >>> _percent_limits([62.0, 88.5])
    (50.0, 100.0)
    >>> _percent_limits([40.0, 45.0])
    (20.0, 50.0)
    """
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if not finite.size:
        return 0.0, 100.0
    lo = max(0.0, np.floor((finite.min() - 5) / 10) * 10)
    hi = min(100.0, np.ceil((finite.max() + 5) / 10) * 10)
    while hi - lo < 30:
        lo, hi = (max(0.0, lo - 10), hi) if lo > 0 else (lo, min(100.0, hi + 10))
    return float(lo), float(hi)


def _agreement_segments(ax, part: pd.DataFrame, years: list[int], segment, colour: str, marker: str, gid: str, label=None):
    """One statement's line, interrupted at every change of answer scale; the first segment carries the legend label."""
    x_of = {y: i for i, y in enumerate(years)}
    for n, seg in enumerate(np.unique(segment)):
        ys = [y for y, s_ in zip(years, segment) if s_ == seg]
        (line,) = ax.plot([x_of[y] for y in ys], part.loc[ys, "percent"].to_numpy(dtype=float), color=colour, marker=marker,
                          markersize=6, linewidth=1.8, label=label if n == 0 else None)
        if n == 0:
            line.set_gid(gid)


def _year_ticks(ax, years: list[int], most: int) -> None:
    """Every year a tick, at most ``most`` of them labelled (evenly, the last one always)."""
    every = -(-len(years) // most)
    ax.set_xticks(range(len(years)), [str(y) if (len(years) - 1 - i) % every == 0 else "" for i, y in enumerate(years)])


def agreement_lines(table: pd.DataFrame, breaks: list[int] | None = None, ax=None, labels: dict[str, str] | None = None):
    """Share agreeing per statement and year: one line per statement, interrupted at every scale break.

    ``table`` is :func:`oml.stats.series.agreement_by_year` output (suppressed cells and years a
    statement was not asked are empty, not drawn). ``labels``: statement -> legend text (from the
    data's words, :class:`oml.data.codebook.Words`; default the project's codebook). Each statement keeps
    its colour and marker (:func:`group_style`); the axis fits the data (:func:`_percent_limits`).
    :func:`agreement_portrait` draws the same numbers for a phone.

    Examples
    --------
    >>> t = pd.DataFrame({"year": [2022, 2023] * 2, "item": ["item_gemak"] * 2 + ["item_praten"] * 2,
    ...                   "percent": [70.0, 60.0, 65.0, 55.0]})
    >>> ax = agreement_lines(t, breaks=[2023])
    >>> len(ax.lines)  # two statements x two periods, plus the break line
    5
    >>> tuple(float(v) for v in ax.get_ylim())
    (50.0, 80.0)
    >>> plt.close(ax.figure)
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(FIGSIZE[0], FIGSIZE[1] + 0.8))
    years = sorted(int(y) for y in table["year"].unique())
    bounds = sorted(set(breaks or []))
    segment = np.searchsorted(bounds, np.array(years), side="right")  # period number of each year
    for k, (item, part) in enumerate(table.groupby("item", sort=False)):
        colour, marker = group_style(item, k)  # markers as well as colours: lines stay apart in grey print
        part = part.set_index(part["year"].astype(int)).reindex(years)
        label = textwrap.fill(labels[item] if labels is not None else _default_words().label(item), 40)
        _agreement_segments(ax, part, years, segment, colour, marker, entity_id(item), label)
    if breaks:
        draw_breaks(ax, years, breaks)
    ax.set_xticks(range(len(years)), [str(y) for y in years])
    ax.set_xlim(-0.5, len(years) - 0.5)
    ax.set_ylim(*_percent_limits(table["percent"]))
    ax.set_ylabel("Percentage (helemaal) eens")
    _nl_ticks(ax, "y", 0)
    ax.grid(axis="x", visible=False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2, frameon=False, fontsize=ANSWER_FONT)
    return ax


def agreement_portrait(table: pd.DataFrame, breaks: list[int] | None = None, labels: dict[str, str] | None = None):
    """The statements figure for a phone: one small panel per statement, one under the other, the statement above it.

    Same numbers, colours, markers and axis as :func:`agreement_lines`; the panels share both axes, so
    they compare at a glance, and no line hides another. Returns the first panel's Axes.

    Examples
    --------
    >>> t = pd.DataFrame({"year": [2022, 2023] * 2, "item": ["item_gemak"] * 2 + ["item_praten"] * 2,
    ...                   "percent": [70.0, 60.0, 65.0, 55.0]})
    >>> ax = agreement_portrait(t, breaks=[2023])
    >>> len(ax.figure.axes), float(ax.figure.get_size_inches()[0]) == PORTRAIT_WIDTH
    (2, True)
    >>> plt.close(ax.figure)
    """
    years = sorted(int(y) for y in table["year"].unique())
    bounds = sorted(set(breaks or []))
    segment = np.searchsorted(bounds, np.array(years), side="right")
    items = list(dict.fromkeys(table["item"]))
    # Wrapped to the figure's width (10-pt text, 0,55 em a character): a wider title would widen and so shrink it.
    titles = {i: textwrap.fill(labels[i] if labels is not None else _default_words().label(i), 40) for i in items}
    heights = [1.1 + 0.19 * titles[i].count("\n") for i in items]
    fig, axes = plt.subplots(len(items), 1, figsize=(PORTRAIT_WIDTH, sum(heights) + 0.9), sharex=True, sharey=True,
                             layout="constrained", gridspec_kw={"height_ratios": heights}, squeeze=False)
    limits = _percent_limits(table["percent"])
    for k, (item, ax) in enumerate(zip(items, axes[:, 0])):
        colour, marker = group_style(item, k)
        part = table[table["item"] == item]
        part = part.set_index(part["year"].astype(int)).reindex(years)
        _agreement_segments(ax, part, years, segment, colour, marker, entity_id(item))
        if breaks:
            draw_breaks(ax, years, breaks)
        ax.set_title(titles[item], loc="left", fontsize=ANSWER_FONT, linespacing=1.15)
        ax.set_xlim(-0.5, len(years) - 0.5)
        ax.set_ylim(*limits)
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=3, steps=[1, 2, 5, 10]))
        _nl_ticks(ax, "y", 0)
        ax.tick_params(labelsize=ANSWER_FONT)
        ax.grid(axis="x", visible=False)
    _year_ticks(axes[-1, 0], years, 5)
    fig.supylabel("Percentage (helemaal) eens", fontsize=ANSWER_FONT)
    if breaks:
        fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower left", frameon=False, fontsize=ANSWER_FONT)
    return axes[0, 0]


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
