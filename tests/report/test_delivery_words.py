"""The extract's own words reach every page, and a statement not asked in a year is shown as "niet gevraagd".

The data: a small synthetic set (2017–2025) given a delivery (:class:`oml.data.delivery.Delivery`) with
a wording for every statement, answer labels for every year and counts of missing answers by kind,
and with ``item_eerlijk`` not asked in 2024. The project's own codebook wordings must then appear
nowhere, and the disclosure symbol never stands for a statement that was not asked.
"""
from __future__ import annotations

import re

import pandas as pd
import pytest

from oml.data import codebook
from oml.data.codebook import CODEBOOK, WordingError, unknown_wordings, wording_problem
from oml.data.delivery import BLANK, DELIVERY_ATTR, NOT_ASKED, Delivery, MissingCount, delivery_of
from oml.data.scales import current_period
from oml.data.synth import generate
from oml.report import notebook, pages, series as reeks
from oml.report import unit_report as fr
from oml.report.notebook import Context
from oml.report.plotting import set_theme
from oml.report.publish import NOT_ASKED_LEGEND, Publisher
from oml.report.text import NOT_ASKED as NOT_ASKED_SYMBOL
from oml.report.text import SUPPRESSED, nl_number
from oml.stats.distribution import answer_distribution
from oml.stats.index import add_index, quality_summary
from oml.stats.reliability import item_statistics
from oml.stats.series import agreement_by_year, series

WORDING = {
    "item_praten": "Met mijn leerkracht kan ik over problemen praten.",
    "item_gemak": "Bij mijn leerkracht voel ik mij op mijn gemak.",
    "item_eerlijk": "Mijn leerkracht is eerlijk tegen mij.",
    "item_helpen": "Mijn leerkracht helpt mij als dat nodig is.",
    "item_interesse": "Mijn leerkracht wil weten hoe het met mij gaat.",
    "item_vertrouwen": "Ik kan mijn leerkracht vertrouwen.",
}
LABELS = {1: "klopt helemaal niet", 2: "klopt niet", 3: "neutraal", 4: "klopt wel", 5: "klopt helemaal", 9: "weet niet"}
SKIPPED = ("item_eerlijk", 2024)


def _deliver(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.loc[out["year"] == SKIPPED[1], SKIPPED[0]] = pd.NA
    missing = []
    for item in WORDING:
        for year, part in out.groupby("year"):
            blank = int(part[item].isna().sum())
            if blank == len(part):
                missing.append(MissingCount(item, int(year), NOT_ASKED, blank))
            else:  # every count 0 or at least 10: nothing hidden, so no disclosure symbol can appear
                missing += [MissingCount(item, int(year), "weet niet", 0), MissingCount(item, int(year), BLANK, blank)]
    labels = {y: ({k: v for k, v in LABELS.items() if k != 5} if y < 2023 else LABELS) for y in range(2017, 2026)}
    out.attrs[DELIVERY_ATTR] = Delivery(wording=WORDING, answer_labels=labels, missing=missing).to_json()
    return out


@pytest.fixture(scope="module")
def delivered() -> pd.DataFrame:
    """All years, with the delivery in attrs and one statement not asked (its own data: the shared ones are read only)."""
    set_theme()
    return _deliver(generate(n=1500, seed=7))


def _ctx(tmp_path, full: pd.DataFrame, synthetic: bool = True, page: str = "methoden") -> Context:
    frame = current_period(add_index(full))
    return Context(frame=frame, data=frame, pub=Publisher(page, tmp_path, glue=False), notebook=f"{page}.ipynb", level=0.95,
                   min_cell=10, synthetic=synthetic, all_years=full)


def _svg_text(path) -> str:
    """The text of a saved figure (matplotlib writes each text line as a comment), lines joined by spaces."""
    return " ".join(re.findall(r"<!-- (.*?) -->", path.read_text(encoding="utf-8")))


def _illustrations() -> list[str]:
    return [i.wording for i in CODEBOOK]


# --------------------------------------------------------------------------- the extract's words
def test_the_delivery_survives_the_pages_own_selections(delivered):
    frame = current_period(add_index(delivered))
    assert delivery_of(frame).wording == WORDING
    assert delivery_of(frame[frame["year"] == 2025]).wording == WORDING


def test_the_delivery_reaches_a_page_through_the_build_preloaded_frame(delivered, tmp_path, monkeypatch):
    monkeypatch.setattr(notebook, "_PRELOADED", {})  # this test's own store, gone afterwards
    path = str(tmp_path / "levering.parquet")  # never read: the build's engine preloads the validated frame
    notebook.preload(path, delivered)
    ctx = notebook.setup(path, "methoden", out_dir=str(tmp_path))
    assert ctx.words.delivery is not None and ctx.words.wording("item_gemak") == WORDING["item_gemak"]
    assert ctx.all_years is delivered


def test_codebook_table_prints_the_delivered_wordings(delivered, tmp_path):
    ctx = _ctx(tmp_path, delivered)
    table = pages.codebook_block(ctx)
    for item, words in WORDING.items():
        assert f"`{item}`\n  - {words}\n  - {codebook.SOURCE_DELIVERY}" in table
    assert not any(w in table for w in _illustrations())
    # The statement not asked in 2024 says so in its row.
    assert re.search(r"`item_eerlijk`\n(  - .*\n){3}  - 2024\n", table)
    assert pages.codebook_intro(ctx).startswith("De formulering van alle stellingen komt uit de gegevens zelf")


def test_statement_figure_labels_legend_and_alt_text_come_from_the_delivery(delivered, tmp_path):
    ctx = _ctx(tmp_path, delivered, page="algemeen-beeld")
    block = pages.answers_figure(ctx, answer_distribution(ctx.frame))
    drawn = _svg_text(tmp_path / "files" / "algemeen-beeld-figuur-1.svg")
    for words in WORDING.values():
        assert words in drawn  # wrapped over lines, joined again here
    for code in range(1, 6):
        assert f"{code} {LABELS[code]}" in drawn  # the legend: code and the extract's label
    assert "weet niet" not in drawn  # a missing code's label is no answer
    alt = re.search(r":alt: (.*)", block).group(1)
    assert f"1 ({LABELS[1]}) tot en met 5 ({LABELS[5]})" in alt
    assert any(f"('{w}')" in alt for w in WORDING.values())
    assert not any(w in block + drawn for w in _illustrations()) and "†" not in block
    # The statement not asked in 2024: the caption says so; nothing is hidden for it.
    assert f"De stelling ‘{WORDING['item_eerlijk']}’ is in 2024 niet gevraagd" in block
    assert SUPPRESSED not in block


def test_private_report_prints_the_delivered_wordings_and_notes_the_year_not_asked(delivered):
    frame = current_period(add_index(delivered))
    counts = frame.groupby("school_id", observed=True).size()
    unit = str(counts.idxmax())
    html = fr.report_html(frame, "school", unit, synthetic=True)
    for words in WORDING.values():
        assert f'<th scope="row">{words}</th>' in html
    assert not any(w in html for w in _illustrations())
    assert f"De stelling ‘{WORDING['item_eerlijk']}’ is in 2024 niet gevraagd" in html
    assert f"In 2024 rust de index op {nl_number(5)} van de {nl_number(6)} stellingen" in html


# --------------------------------------------------------------------------- refusing what a real build may not print
def _real(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["pupil_id"] = out["pupil_id"].str.replace("SYN-", "L", regex=False)
    out["school_id"] = out["school_id"].str.replace("SYN-", "BRIN", regex=False)
    return out


def test_unknown_wordings_lists_what_a_real_build_would_have_to_invent(delivered, long_data):
    real = _real(delivered)
    assert unknown_wordings(real) == []
    partial = real.copy()
    partial.attrs[DELIVERY_ATTR] = Delivery(wording={k: v for k, v in WORDING.items() if k != "item_vertrouwen"}).to_json()
    partial["item_vragen"] = partial["item_praten"]
    assert unknown_wordings(partial) == ["item_vertrouwen", "item_vragen"]
    bare = real.copy()
    bare.attrs = {}
    # Without a delivery the factsheet's two descriptions are real; the four illustrations are not.
    assert unknown_wordings(bare) == ["item_eerlijk", "item_helpen", "item_interesse", "item_vertrouwen"]
    assert unknown_wordings(long_data) == []  # synthetic: its illustrations may be printed
    message = wording_problem(unknown_wordings(partial))
    assert "- item_vertrouwen:" in message and "- item_vragen:" in message and "[wording]" in message
    assert 'item_vragen = "Ik ..."' in message and "variable label" in message


def test_a_real_page_refuses_an_illustrative_wording_and_never_prints_a_column_name(delivered, tmp_path):
    bare = _real(delivered)
    bare.attrs = {}
    ctx = _ctx(tmp_path, bare, synthetic=False)
    with pytest.raises(WordingError, match="item_eerlijk: only an illustrative wording"):
        pages.codebook_block(ctx)
    odd = delivered.assign(item_vragen=delivered["item_praten"])
    with pytest.raises(WordingError, match="item_vragen: no wording"):
        pages.codebook_block(_ctx(tmp_path, odd))


# --------------------------------------------------------------------------- not asked
def test_long_series_draws_and_says_not_asked_never_the_disclosure_symbol(delivered, tmp_path):
    ctx = _ctx(tmp_path, delivered, page="langere-reeks")
    full = add_index(delivered)
    s = series(full)
    block = reeks.agreement_figure(ctx, s, agreement_by_year(full))
    drawn = _svg_text(tmp_path / "files" / "langere-reeks-stellingen.svg")
    assert "(niet gevraagd in 2024)" in drawn
    assert f"‘{WORDING['item_eerlijk']}’ is in 2024 niet gevraagd; de lijn is daar onderbroken" in block
    assert SUPPRESSED not in block and SUPPRESSED not in drawn
    # The cell is neither recorded for numbers.json nor hidden in the CSV: n = 0, no percentage.
    assert not any("item_eerlijk/2024" in e["key"] for e in ctx.pub.entries)
    csv = pd.read_csv(tmp_path / "files" / "langere-reeks-stellingen.csv")
    row = csv[(csv["item"] == "item_eerlijk") & (csv["year"] == 2024)].iloc[0]
    assert row["n"] == 0 and pd.isna(row["percent"]) and not row["suppressed"]
    text = reeks.index_text(ctx, s)
    assert f"In 2024 rust de index op {nl_number(5)} van de {nl_number(6)} stellingen" in text


def test_alpha_text_says_which_statements_alpha_leaves_out_and_why(delivered, tmp_path):
    from oml.stats.reliability import alpha_by_period

    ctx = _ctx(tmp_path, delivered, page="langere-reeks")
    block = reeks.alpha_block(ctx, alpha_by_period(add_index(delivered)))
    assert f"In de vijfpuntsschaal (2023–2025) telt ‘{WORDING['item_eerlijk']}’ niet mee; de alfa rust daar op {nl_number(5)} stellingen." in block
    assert "geen alfa per jaar" in block
    assert "left_out" not in (tmp_path / "files" / "langere-reeks-alfa.csv").read_text(encoding="utf-8")


def test_methods_notes_fewer_statements_and_shows_not_asked_in_datakwaliteit(delivered, tmp_path):
    ctx = _ctx(tmp_path, delivered)
    items = pages.items_block(ctx, item_statistics(ctx.frame))
    assert f"In 2024 rust de index op {nl_number(5)} van de {nl_number(6)} stellingen" in items
    assert f"* - {WORDING['item_eerlijk']}\n" + f"  - {NOT_ASKED_SYMBOL}\n" * 4 in items
    quality = pages.quality_block(ctx, quality_summary(ctx.frame))
    assert "tab-ontbrekend" in quality and NOT_ASKED_LEGEND in quality
    # The statement's rows: 2024 not asked in every column (never the disclosure symbol), the other years counted.
    heading = f"* - **{WORDING['item_eerlijk']}**"
    rows = quality[quality.index(heading):].split("* - ")[2:5]
    assert [r[:4] for r in rows] == ["2023", "2024", "2025"]
    assert rows[1] == "2024\n" + f"  - {NOT_ASKED_SYMBOL}\n" * 3
    assert NOT_ASKED_SYMBOL not in rows[0] + rows[2]
    assert quality.count(f"  - {NOT_ASKED_SYMBOL}\n") == 3  # only there: every other statement was asked in 2024
    assert "‘weet niet’ en ‘niet ingevuld’" in quality  # every kind counted apart


def test_synthetic_pages_without_a_delivery_stay_as_they_were(long_data, tmp_path):
    ctx = _ctx(tmp_path, long_data)
    assert pages.missing_block(ctx) == ""
    assert pages.codebook_intro(ctx) == ("Alleen de twee stellingen die in de factsheet worden genoemd, hebben hier hun echte "
                                         "OML-formulering; de overige formuleringen zijn ter illustratie (de factsheet publiceert ze niet).")
    assert "Niet gevraagd in" not in pages.codebook_block(ctx)
    assert pages.alpha_items(ctx, []) == "alle stellingen"
