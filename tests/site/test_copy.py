"""Copy-editing (issue 23 point 5): no placeholders, no informal address, no leftovers in any built page.

Every page's visible text (code, the bibliography's English titles and the page's scripts left out) is
scanned for a list of errors a Dutch editor flagged or a template can leave behind. The generated
sentences are part of the pages, so a broken template fails here; fix the template, not the output.
The unit test checks the scanner itself, so that this test can fail.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

#: (pattern, why): each must not occur in a page's visible text.
ERRORS = (
    (r"(?i)(?<![\w'’-])(je|jij|jouw|jullie)(?![\w'’-])", "informal address: the site says 'u'"),
    (r"[{}]", "a MyST role or placeholder left unrendered"),
    (r"(?<![\w.])(nan|NaN|None|null|undefined|TODO|FIXME|XXX)(?![\w.])", "a placeholder or missing value"),
    (r"\S {2,}\S", "a double space"),
    (r"waren het aantal", "wrong agreement ('was het aantal')"),
    (r"(?<![\w])‘s (?=\w)", "wrong apostrophe ('s ochtends)"),
    (r"(?i)\b(dit|het|deze) levend rapport\b", "'dit levende rapport' (inflected)"),
    (r"(?i)\bDoor Levend rapport\b", "the footer's author line"),
    (r"\d %-", "a space inside a compound with % ('95%-betrouwbaarheidsinterval')"),
    (r"\d%(?![-\w])", "a percentage without its (non-breaking) space: '60 %'"),
    (r"(?i)(?<![\w-])(the|and|with|which|not|see|figure|table|page|click|here)(?![\w-])", "an English leftover"),
    (r"\b(\w+) \1\b", "a word repeated"),
    (r" [,.;:](?!\d)", "a space before punctuation"),
)
#: Proper names that the English-leftover check must not flag.
NAMES = ("School of Business and Economics",)
#: Parts of a page that are not prose: code, the (English) bibliography and citations, machine-readable tables.
NOT_PROSE = ("script", "style", "code", "pre", "kbd", "samp", ".bibliography", ".citation", "dl.citation",
             "div.footnote", ".oml-provenance-details", ".oml-provenance", "math", ".math")


def visible_text(html: str) -> str:
    """The page's article text as a reader sees it: whitespace collapsed, code and references left out."""
    doc = BeautifulSoup(html, "html.parser")
    article = doc.select_one("article") or doc.body
    for junk in article.select(", ".join(NOT_PROSE)):
        # Code inside a sentence stays a word ("de versie van `oml`"): a gap would read as a space before a comma.
        junk.replace_with("x" if junk.name in ("code", "kbd", "samp") else "")
    blocks = [" ".join(el.get_text("").split()) for el in article.find_all(["p", "li", "dd", "td", "th", "caption",
                                                                           "h1", "h2", "h3", "figcaption"])
              if not el.find(["p", "li"])]
    return "\n".join(b for b in blocks if b)


def problems(text: str) -> list[str]:
    """Every error of :data:`ERRORS` in ``text``, with some context."""
    found = []
    for name in NAMES:
        text = text.replace(name, "Naam")
    for pattern, why in ERRORS:
        for m in re.finditer(pattern, text):
            found.append(f"{why}: …{text[max(0, m.start() - 40):m.end() + 40]!r}…")
    return found


@pytest.mark.parametrize("bad", ["Kun je dat zien?", "jouw school", "{glue:md}`x`", "de index is nan", "None",
                                 "twee  spaties", "waren het aantal leerlingen", "‘s ochtends", "dit levend rapport",
                                 "95 %-betrouwbaarheidsinterval", "60% van de leerlingen", "see the figure",
                                 "de de index", "de index , zo"])
def test_the_scanner_finds_each_error(bad):
    assert problems(bad), bad


@pytest.mark.parametrize("good", ["Kunt u dat zien?", "60\u00a0% van de leerlingen", "95%-betrouwbaarheidsinterval",
                                  "dit levende rapport", "een levend rapport", "’s ochtends", "0,27 standaarddeviatie",
                                  "Noord-Limburg en Parkstad Limburg."])
def test_the_scanner_leaves_correct_text_alone(good):
    assert not problems(good), problems(good)


@pytest.mark.slow
def test_no_page_has_errors_or_placeholders(site):
    html = Path(site) / "_build" / "html"
    pages = [p for p in sorted(html.rglob("*.html"))
             if p.name not in ("genindex.html", "search.html", "index.html") and "_static" not in p.parts
             and p.relative_to(html).parts[0] != "terugkoppeling"]
    assert len(pages) >= 20
    found = []
    for page in pages:
        found += [f"{page.relative_to(html)}: {p}" for p in problems(visible_text(page.read_text(encoding="utf-8")))]
    assert not found, f"{len(found)} errors:\n" + "\n".join(found[:60])
