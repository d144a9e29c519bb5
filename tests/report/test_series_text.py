"""The chapter 'Langere reeks': sentences rendered from the within-period tests, every number recorded."""
from __future__ import annotations

import dataclasses
import re

import pytest

from oml.data.synth import generate
from oml.report import series as reeks
from oml.report.notebook import Context
from oml.report.publish import Publisher
from oml.stats.findings import findings
from oml.stats.index import add_index
from oml.stats.series import series


@pytest.fixture(scope="module")
def long_series(long_frame):
    return series(long_frame)


def _ctx(tmp_path, frame=None) -> Context:
    pub = Publisher("langere-reeks", tmp_path, glue=False)
    return Context(frame=frame, data=frame, pub=pub, notebook="langere-reeks.ipynb", level=0.95, min_cell=10, synthetic=True)


def test_each_period_gets_its_sentences_and_the_break_is_not_tested(tmp_path, long_series):
    ctx = _ctx(tmp_path)
    text = reeks.index_text(ctx, long_series)
    assert "**Vierpuntsschaal (2017–2022).**" in text and "**Vijfpuntsschaal (2023–2025).**" in text
    assert "Tussen 2022 en 2023 veranderde de antwoordschaal" in text
    assert "tussen 2022 en 2023 gelijk" not in text and "Van 2022 op 2023" not in text
    # Every significant consecutive change gets a sentence, and only those.
    c = long_series.comparisons
    sig = c[(c["family"] == "consecutive") & c["significant"]]
    assert len(re.findall(r"Van \d{4} op \d{4} is er een significante", text)) == len(sig)
    # Every number shown is recorded for numbers.json.
    shown = {e["text"] for e in ctx.pub.entries}
    for number in re.findall(r"−?\d+,\d{2}", text):
        assert number in shown


def test_sentence_follows_the_test_not_the_estimate(tmp_path, long_series):
    # Make the first period's first-vs-last test non-significant: the sentence must say 'gelijk gebleven'.
    period = long_series.periods[0]
    comps = period.result.comparisons.assign(significant=False)
    groups = ["totaal"]
    stable = dataclasses.replace(period.result, comparisons=comps, findings=findings(comps, None, groups, [2017, 2022]))
    changed = dataclasses.replace(long_series, periods=[dataclasses.replace(period, result=stable), *long_series.periods[1:]])
    text = reeks.index_text(_ctx(tmp_path), changed)
    assert "zijn tussen 2017 en 2022 gelijk gebleven" in text
    assert "Geen van de veranderingen van jaar op jaar is significant" in text


def test_one_period_only_has_no_break_sentence(tmp_path):
    single = series(add_index(generate(n=600, seed=3, history=False)))
    assert single.breaks == []
    ctx = _ctx(tmp_path)
    assert "veranderde de antwoordschaal" not in reeks.index_text(ctx, single)
    assert "dezelfde antwoordschaal" in reeks.intro_text(ctx, single)
