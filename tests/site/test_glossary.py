"""Begrippen (issue 23 point 2): the first use of each term on a page links to the glossary, later uses do not.

The unit tests run the extension's :func:`link_terms` on small docutils trees; the site test reads every
built page in document order and checks, term by term, that its first occurrence in running text is a
link to the term on the page Begrippen and that no later occurrence is.
"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, NavigableString
from docutils import nodes
from docutils.core import publish_doctree

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("oml_glossary", REPO / "book" / "_ext" / "oml_glossary.py")
glossary = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(glossary)

TARGETS = {t: f"begrippen.html#term-{t.lower().replace(' ', '-')}" for t in glossary.FORMS}
#: HTML parents whose text the extension leaves alone (the docutils nodes of glossary.SKIP, as rendered).
SKIP_HTML = ("h1", "h2", "h3", "h4", "h5", "h6", "code", "pre", "figcaption", "caption", "script", "style", "dt",
             "nav", "button", "label")
SKIP_HTML_CLASSES = {"oml-provenance", "toctree-wrapper", "admonition-title", "rubric", "caption-text", "headerlink",
                     "oml-no-glossary"}


def _linked(tree) -> list[tuple[str, str]]:
    return [(r.astext(), r["refuri"]) for r in tree.findall(nodes.reference)]


def test_only_the_first_use_of_each_term_is_linked():
    tree = publish_doctree("De index daalt niet significant.\n\nDe index en de standaarddeviatie: significant.")
    assert glossary.link_terms(tree, TARGETS) == ["index", "significant", "standaarddeviatie"]
    assert _linked(tree) == [("index", TARGETS["index"]), ("significant", TARGETS["significant"]),
                             ("standaarddeviatie", TARGETS["standaarddeviatie"])]


def test_inflected_forms_are_found_and_longer_words_are_not():
    tree = publish_doctree("Significante verschillen en standaarddeviaties; de significantie en het indexcijfer niet.")
    glossary.link_terms(tree, TARGETS)
    assert [t for t, _ in _linked(tree)] == ["Significante", "standaarddeviaties"]


def test_headings_literals_and_existing_links_are_left_alone():
    tree = publish_doctree("Index\n=====\n\n``index`` en `index <https://example.org>`_, dan de index.")
    glossary.link_terms(tree, TARGETS)
    linked = [r for r in tree.findall(nodes.reference) if r.get("classes") == [glossary.CLASS]]
    assert len(linked) == 1 and linked[0].astext() == "index"
    assert isinstance(linked[0].parent, nodes.paragraph)
    paragraph = linked[0].parent
    external = next(r for r in paragraph.findall(nodes.reference) if r.get("refuri") == "https://example.org")
    assert paragraph.index(external) < paragraph.index(linked[0])  # the plain "index" after the link is the first use


def test_the_effect_size_rule_on_the_glossary_page_comes_from_the_code():
    from oml.report.text import effect_size_rule

    page = (REPO / "book" / "begrippen.md").read_text(encoding="utf-8")
    assert "{oml-rule}`effect-size`" in page
    assert not re.search(r"\b0,[258]\b", page), "the glossary types the thresholds instead of using the rule"
    assert "0,20" in effect_size_rule()


def test_every_term_of_the_extension_is_on_the_glossary_page():
    page = (REPO / "book" / "begrippen.md").read_text(encoding="utf-8")
    # Every glossary block (a term for synthetic data only sits in a block under `{only} synthetic`).
    blocks = [part.split("```")[0] for part in page.split("```{glossary}")[1:]]
    terms = [t for block in blocks for t in re.findall(r"^(\S[^\n]*)\n  \S", block, flags=re.MULTILINE)]
    assert sorted(terms, key=str.lower) == sorted(glossary.FORMS, key=str.lower)


# --------------------------------------------------------------------------- the built site
def _skipped(node) -> bool:
    for parent in node.parents:
        if parent.name in SKIP_HTML or SKIP_HTML_CLASSES & set(parent.get("class") or []):
            return True
        if parent.name == "a" and "oml-term" not in (parent.get("class") or []):
            return True
        if parent.name == "article":
            return False
    return False


def _occurrences(article) -> dict[str, list[bool]]:
    """For each term, its occurrences in running text in document order: True where it is a glossary link."""
    found: dict[str, list[bool]] = {t: [] for t in glossary.FORMS}
    patterns = {t: glossary.pattern(t) for t in glossary.FORMS}
    for text in article.find_all(string=True):
        if not isinstance(text, NavigableString) or _skipped(text):
            continue
        link = text.parent if text.parent.name == "a" else None
        for term, p in patterns.items():
            for _ in p.finditer(str(text)):
                found[term].append(link is not None and "begrippen.html#term-" in link.get("href", ""))
    return found


@pytest.mark.slow
def test_on_every_page_the_first_use_links_and_later_uses_do_not(site):
    html = site / "_build" / "html"
    pages = [p for p in sorted(html.rglob("*.html"))
             if p.name not in ("genindex.html", "search.html", "begrippen.html", "index.html")
             and "terugkoppeling" not in p.relative_to(html).parts[:1] and "_static" not in p.parts]
    assert len(pages) >= 20
    problems, linked_pages = [], 0
    for page in pages:
        article = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").select_one("article")
        if article is None:
            continue
        seen = _occurrences(article)
        linked_pages += any(any(v) for v in seen.values())
        for term, links in seen.items():
            if links and not links[0]:
                problems.append(f"{page.relative_to(html)}: the first '{term}' is not linked")
            if any(links[1:]):
                problems.append(f"{page.relative_to(html)}: a later '{term}' is linked too")
    assert not problems, "\n".join(problems[:30])
    assert linked_pages >= 15
