"""The site's style-sheet bundle (book/_ext/oml_assets.py): what it keeps, and that an unchanged bundle is kept.

The extension lives outside the ``oml`` package (Sphinx loads it from ``book/_ext``), so pytest's
``--doctest-modules`` does not collect it: its examples run here, with unit tests of the bundle's record.
"""
from __future__ import annotations

import doctest
import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("oml_assets", REPO / "book" / "_ext" / "oml_assets.py")
assets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(assets)

SHEET = ":root{--kept:1px;--dropped:2px}.used{margin:var(--kept)}.unused{color:blue}#menu{color:red}"


def test_the_extension_examples_run():
    result = doctest.testmod(assets, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


@pytest.fixture
def static(tmp_path):
    folder = tmp_path / "_static"
    folder.mkdir()
    (folder / "a.css").write_text(SHEET, encoding="utf-8")
    return folder


def _purges(monkeypatch) -> list[int]:
    calls = []
    real = assets.purge_css

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(assets, "purge_css", counting)
    return calls


def test_an_unchanged_bundle_is_kept_and_not_purged_again(static, tmp_path, monkeypatch):
    cache = tmp_path / "bundle.json"
    first = assets.write_bundle(static, ["a.css"], ['<p class="used">'], [], cache)
    text = (static / assets.BUNDLE).read_text(encoding="utf-8")
    assert ".used{" in text and ".unused" not in text and "--dropped" not in text and "#menu" not in text
    purges = _purges(monkeypatch)
    # Another page text with the same names (a Markdown edit): the bundle is kept as it is.
    assert assets.write_bundle(static, ["a.css"], ['<p class="used">Een zin meer.</p>'], [], cache) == first
    assert purges == [] and (static / assets.BUNDLE).read_text(encoding="utf-8") == text


@pytest.mark.parametrize("change", ["new class", "new id", "new custom property", "sheet edited", "bundle replaced",
                                    "no record"])
def test_a_bundle_is_purged_again_when_what_it_is_made_of_changed(static, tmp_path, monkeypatch, change):
    cache = tmp_path / "bundle.json"
    pages, scripts = ['<p class="used">'], []
    assets.write_bundle(static, ["a.css"], pages, scripts, cache)
    if change == "new class":
        pages = ['<p class="used unused">']
    elif change == "new id":
        pages = ['<p class="used" id="menu">']
    elif change == "new custom property":
        scripts = ['el.style.setProperty("--dropped", "3px")']
    elif change == "sheet edited":
        (static / "a.css").write_text(SHEET + ".used p{margin:0}", encoding="utf-8")
    elif change == "bundle replaced":  # e.g. the stage started again from an older site: the record does not match
        (static / assets.BUNDLE).write_text("/* old */", encoding="utf-8")
    else:
        cache.unlink()
    purges = _purges(monkeypatch)
    digest = assets.write_bundle(static, ["a.css"], pages, scripts, cache)
    assert purges == [1]
    # The same bundle as one purged from scratch, without a record.
    assert assets.write_bundle(static, ["a.css"], pages, scripts) == digest
