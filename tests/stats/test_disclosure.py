"""Disclosure control: primary and secondary suppression, and small cells in the published figures."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oml.stats.comparisons import not_compared
from oml.stats.disclosure import MIN_CELL, primary, secondary, suppress
from oml.stats.results import breakdown
from oml.report.text import summary_sentences


# --------------------------------------------------------------------------- building blocks
def test_primary_threshold():
    n = pd.Series([0, 3, 9, 10, 11, 250])
    assert primary(n).tolist() == [True, True, True, False, False, False]
    assert primary(n, min_cell=3).tolist() == [True, False, False, False, False, False]
    assert MIN_CELL == 10


def test_primary_keeps_index():
    n = pd.Series([5, 50], index=["x", "y"])
    assert primary(n).index.tolist() == ["x", "y"]


@pytest.mark.parametrize("seed", range(30))
def test_secondary_makes_hidden_counts_unrecoverable(seed):
    rng = np.random.default_rng(seed)
    counts = pd.Series(rng.integers(0, 40, size=rng.integers(2, 7)))
    first = primary(counts)
    hidden = secondary(counts, first)
    # Properties a published set of counts with its total must have (by hand, not the algorithm):
    assert (hidden | ~first).all()  # every primary cell stays hidden
    if first.any() and (~hidden).any():
        # more than one hidden cell, and together they are at least the threshold, so neither
        # N minus the visible cells nor the hidden total narrows a hidden cell below min_cell
        assert hidden.sum() >= 2 and counts[hidden].sum() >= MIN_CELL
    if not first.any():
        assert not hidden.any()
    # Minimality of the greedy rule: what was added is the smallest of what was visible
    added = hidden & ~first
    if added.any() and (~hidden).any():
        assert counts[added].max() <= counts[~hidden].min()


def test_secondary_worked_examples():
    # One small cell: hide the next smallest as well.
    assert secondary(pd.Series([4, 30, 50, 900]), pd.Series([True, False, False, False])).tolist() == [
        True, True, False, False]
    # Two small cells that still add up to < 10: a third one goes.
    assert secondary(pd.Series([4, 3, 50, 900]), pd.Series([True, True, False, False])).tolist() == [
        True, True, True, False]
    # Two small cells adding up to >= 10: nothing more.
    assert secondary(pd.Series([6, 5, 50, 900]), pd.Series([True, True, False, False])).tolist() == [
        True, True, False, False]


def test_suppress_sets_missing_and_flag():
    t = pd.DataFrame({"n": [5, 50], "percent": [10.0, 90.0], "label": ["a", "b"]})
    out = suppress(t, pd.Series([True, False]), ["n", "percent"])
    assert np.isnan(out.loc[0, "n"]) and np.isnan(out.loc[0, "percent"])
    assert out.loc[1, "n"] == 50 and out["suppressed"].tolist() == [True, False]
    assert out.loc[0, "label"] == "a"
    assert t.loc[0, "n"] == 5  # input untouched


# --------------------------------------------------------------------------- a tiny cell in a figure
TINY = 4


@pytest.fixture(scope="module")
def tiny(frame) -> tuple[pd.DataFrame, int, int]:
    """Default data where only TINY 'wo' pupils with an index remain in the last year."""
    frame = frame.copy()  # changed below: the shared session data stay as they are
    first, last = int(frame["year"].min()), int(frame["year"].max())
    wo_last = frame.index[(frame["parent_education"] == "wo") & (frame["year"] == last) & frame["index"].notna()]
    frame.loc[wo_last[TINY:], "parent_education"] = "hbo"
    return frame, first, last


@pytest.fixture(scope="module")
def tiny_figure(tiny):
    return breakdown(tiny[0], "parent_education")


def test_tiny_cell_published_empty(tiny, tiny_figure):
    _, _, last = tiny
    t = tiny_figure.table.set_index(["year", "group"])
    cell = t.loc[(last, "wo")]
    assert cell["suppressed"]
    assert cell[["estimate", "se", "ci_low", "ci_high", "n"]].isna().all()
    others = t.drop(index=(last, "wo"))
    # Secondary suppression hides exactly one more cell of that year: the smallest remaining group.
    raw_n = tiny_figure.means.table.set_index(["year", "group"])["n"]
    same_year = others.loc[last]
    assert same_year["suppressed"].sum() == 1
    assert same_year["suppressed"].idxmax() == raw_n.loc[last].drop("wo").idxmin()
    rest = others.drop(index=last, level="year")
    assert not rest["suppressed"].any() and rest[["estimate", "se", "n"]].notna().all().all()
    # The unsuppressed model still saw the 4 pupils
    raw = tiny_figure.means.table.set_index(["year", "group"])
    assert raw.loc[(last, "wo"), "n"] == TINY


def test_tiny_cell_left_out_of_comparisons(tiny, tiny_figure):
    _, _, last = tiny
    c = tiny_figure.comparisons
    involved = ((c["group_a"] == "wo") & (c["year_a"] == last)) | ((c["group_b"] == "wo") & (c["year_b"] == last))
    assert not involved.any()
    sizes = c.groupby("family").size().reindex(["first_last", "consecutive", "between"], fill_value=0)
    # Expected counts from the published (unsuppressed) cells: a comparison needs both of its cells.
    shown = tiny_figure.table[~tiny_figure.table["suppressed"]]
    visible = {(int(y), g) for y, g in zip(shown["year"], shown["group"])}
    years = sorted(tiny_figure.table["year"].unique())
    # "onbekend" is drawn but never compared (oml.stats.comparisons.NOT_COMPARED).
    groups = [g for g in dict.fromkeys(tiny_figure.table["group"]) if g not in not_compared("parent_education")]
    first_last = sum((years[0], g) in visible and (years[-1], g) in visible for g in groups)
    consecutive = sum((a, g) in visible and (b, g) in visible for g in groups for a, b in zip(years[:-1], years[1:]))
    k = sum((years[-1], g) in visible for g in groups)
    assert (sizes["first_last"], sizes["consecutive"], sizes["between"]) == (first_last, consecutive, k * (k - 1) // 2)
    assert "wo" not in [t.group for t in tiny_figure.findings.trends]
    assert all("wo" not in (d.higher, d.lower) for d in tiny_figure.findings.differences)


def test_tiny_cell_visible_with_lower_threshold(tiny):
    frame, _, last = tiny
    fig = breakdown(frame, "parent_education", min_cell=3)
    t = fig.table.set_index(["year", "group"])
    assert not t.loc[(last, "wo"), "suppressed"] and t.loc[(last, "wo"), "n"] == TINY
    c = fig.comparisons
    assert ((c["group_b"] == "wo") & (c["year_b"] == last)).any()


def test_tiny_cell_n_cannot_be_recovered_from_published_margins(tiny, tiny_figure):
    frame, _, last = tiny
    year_total = breakdown(frame, None).table.set_index("year").loc[last, "n"]
    t = tiny_figure.table
    visible = t.loc[(t["year"] == last), "n"].sum(skipna=True)
    hidden = t.loc[(t["year"] == last) & t["suppressed"]]
    # Published: the year total and the visible groups. Their difference is the sum of the hidden cells;
    # it must not single out a small cell (today: one hidden cell, and the difference is exactly TINY).
    assert len(hidden) >= 2 and year_total - visible >= MIN_CELL


def test_sentence_does_not_claim_all_groups_when_one_was_not_tested(tiny_figure):
    _, trend = summary_sentences(tiny_figure.findings)
    assert "alle opleidingsniveaus" not in trend
    assert "te weinig leerlingen" in trend  # the untested group is named instead


# --------------------------------------------------------------------------- across published tables
def test_figure2_hides_a_second_year_so_the_model_total_does_not_reveal_a_small_year(frame):
    from oml.stats.results import breakdown

    last = int(frame["year"].max())
    small = pd.concat([frame[frame["year"] != last], frame[frame["year"] == last].head(6)])
    b = breakdown(small, None)
    hidden = b.table[b.table["suppressed"]]
    assert len(hidden) >= 2  # the small year and a second one
    # Published: the pupils in the model (methods chapter) and the visible years. Their difference
    # covers at least two years and at least min_cell pupils.
    assert b.means.n_model - b.table["n"].sum(skipna=True) >= MIN_CELL


def test_answer_counts_cannot_be_recovered_from_the_pooled_period(frame):
    from oml.stats.disclosure import suppress_distribution
    from oml.stats.distribution import answer_distribution

    data = frame.copy()
    last = int(data["year"].max())
    rows = data.index[(data["year"] == last) & (data["item_gemak"] == 1)]
    data.loc[rows[3:], "item_gemak"] = 2  # only 3 pupils answer 1 in the last year
    d = suppress_distribution(answer_distribution(data))
    cell = d[(d["item"] == "item_gemak") & (d["answer"] == 1)]
    years = cell[cell["period"] != "totaal"]
    assert years.loc[years["period"] == last, "suppressed"].item()
    # Across years (the pooled count is their sum): at least two hidden, together >= min_cell.
    raw = answer_distribution(data)
    raw_years = raw[(raw["item"] == "item_gemak") & (raw["answer"] == 1) & (raw["period"] != "totaal")]
    hidden_years = years["suppressed"].to_numpy()
    assert hidden_years.sum() >= 2 and raw_years["count"].to_numpy()[hidden_years].sum() >= MIN_CELL
    # Within the last year (its answers add up to its n): at least two hidden as well.
    last_year = d[(d["item"] == "item_gemak") & (d["period"] == last)]
    assert last_year["suppressed"].sum() >= 2


def test_quality_year_with_few_pupils_without_index_is_hidden_whole():
    from oml.stats.disclosure import suppress_quality

    q = pd.DataFrame({"year": [2023, 2024, 2025, "totaal"], "rows": [500, 480, 470, 1450],
                      "with_index": [496, 450, 440, 1386], "without_index": [4, 30, 30, 64],
                      "all_items_answered": [400, 410, 420, 1230], "missing_answers": [90, 80, 70, 240]})
    out = suppress_quality(q)
    assert out["suppressed"].iloc[0] and not out["suppressed"].iloc[-1]
    assert out["suppressed"].iloc[:3].sum() == 2  # the small year and the smallest other year
    assert out.loc[0, ["rows", "with_index", "without_index", "all_items_answered"]].isna().all()
    # The year total is published, so a second year is hidden: rows cannot be recovered by subtraction.
    assert out.loc[out["year"] != "totaal", "rows"].isna().sum() == 2
