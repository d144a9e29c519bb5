"""Begrippen: the first use of each glossary term on a page links to its explanation on the page Begrippen.

The terms are those of the ``{glossary}`` on ``book/begrippen.md`` (Sphinx's standard glossary, so
each term has its own anchor). After the references are resolved, a post-transform walks each
page's running text and turns the *first* occurrence of each term (inflected forms included, see
:data:`FORMS`) into a link; later occurrences stay plain text, so a page is not full of links.
Headings, captions, links, code, raw HTML, the provenance boxes and the glossary page itself are
left alone. Glued text from the notebooks is part of the doctree by then, so generated sentences
get their links as the prose does.

Also the role ``{oml-rule}`effect-size``` : the effect-size rule in words, from
:func:`oml.report.text.effect_size_rule` (the one place the rule lives), so the page Begrippen
types no threshold.
"""
from __future__ import annotations

import re

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms.post_transforms import SphinxPostTransform

#: The glossary page (docname).
GLOSSARY_DOC = "book/begrippen"
#: Each glossary term (as written on the page Begrippen) -> the regular expression of its forms in running text.
FORMS = {
    "betrouwbaarheid": r"betrouwbaarheid",
    "betrouwbaarheidsinterval": r"betrouwbaarheidsinterval(?:len)?",
    "effectgrootte": r"effectgrootte",
    "gecorrigeerd": r"gecorrigeerde?",
    "Holm-correctie": r"Holm-correctie",
    "index": r"index",
    "levend rapport": r"levende? rapport",
    "nullijn": r"nullijn",
    "rest van Limburg": r"rest van Limburg",
    "significant": r"significante?",
    "standaarddeviatie": r"standaarddeviaties?",
    "synthetische gegevens": r"synthetische gegevens",
    "trechterfiguur": r"trechterfiguur",
    "zelfrapportage": r"zelfrapportage",
}
#: Parents under which no term is linked.
SKIP = (nodes.reference, nodes.literal, nodes.literal_block, nodes.title, nodes.caption, nodes.raw, nodes.term,
        nodes.math, nodes.math_block, nodes.comment, nodes.substitution_definition, nodes.rubric, nodes.field_name,
        nodes.system_message, nodes.problematic, addnodes.glossary, addnodes.toctree)
SKIP_CLASSES = {"oml-provenance", "toctree-wrapper", "oml-no-glossary"}
CLASS = "oml-term"


def pattern(term: str) -> re.Pattern:
    """The case-insensitive pattern of ``term``'s forms, whole words only.

    Examples
    --------
    >>> bool(pattern("significant").search("niet significante verschillen")), bool(pattern("significant").search("significantie"))
    (True, False)
    >>> pattern("betrouwbaarheid").search("95%-betrouwbaarheidsinterval") is None
    True
    """
    return re.compile(rf"(?<![\w-]){FORMS[term]}(?![\w])", re.IGNORECASE)


def _skipped(node: nodes.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, SKIP) or SKIP_CLASSES & set(parent.get("classes", [])):
            return True
        parent = parent.parent
    return False


def link_terms(doctree: nodes.Node, targets: dict[str, str]) -> list[str]:
    """Link the first use of each term in ``doctree`` to ``targets[term]`` (a URI); returns the terms linked, in order.

    Examples
    --------
    >>> from docutils.core import publish_doctree
    >>> tree = publish_doctree("De index is significant. De index blijft.")
    >>> link_terms(tree, {"index": "b.html#term-index", "significant": "b.html#term-significant"})
    ['index', 'significant']
    >>> [r.astext() for r in tree.findall(nodes.reference)]
    ['index', 'significant']
    """
    patterns = {t: pattern(t) for t in targets}
    done: list[str] = []
    for text in list(doctree.findall(nodes.Text)):
        if not patterns or _skipped(text):
            continue
        source = str(text)
        hits = sorted((m.start(), m.end(), t) for t, p in patterns.items() if (m := p.search(source)))
        if not hits:
            continue
        pieces: list[nodes.Node] = []
        pos = 0
        for start, end, term in hits:
            if start < pos or term not in patterns:
                continue  # overlaps a term linked just before in the same text
            pieces.append(nodes.Text(source[pos:start]))
            pieces.append(nodes.reference(source[start:end], source[start:end], internal=True,
                                          refuri=targets[term], classes=[CLASS], reftitle=f"Begrippen: {term}"))
            pos = end
            done.append(term)
            del patterns[term]
        pieces.append(nodes.Text(source[pos:]))
        text.parent.replace(text, [p for p in pieces if not (isinstance(p, nodes.Text) and not str(p))])
    return done


class LinkGlossaryTerms(SphinxPostTransform):
    """The post-transform that links each page's first use of each term (HTML and the site's PDF alike)."""

    default_priority = 900  # after references are resolved: only running text is left

    def run(self, **kwargs) -> None:
        docname = self.env.docname
        if docname == GLOSSARY_DOC or GLOSSARY_DOC not in self.env.all_docs:
            return
        std = self.env.get_domain("std")
        targets = {}
        for term in FORMS:
            # The standard domain keeps glossary terms lower-cased ((type, name) -> (docname, anchor)).
            found = std.objects.get(("term", term.lower())) or std.objects.get(("term", term))
            if found:
                doc, anchor = found
                targets[term] = self.app.builder.get_relative_uri(docname, doc) + "#" + anchor
        link_terms(self.document, targets)


def effect_size_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``{oml-rule}`effect-size```: the effect-size rule in words."""
    from oml.report.text import effect_size_rule

    if text != "effect-size":
        msg = inliner.reporter.error(f"oml-rule: unknown rule {text!r} (known: effect-size)", line=lineno)
        return [inliner.problematic(rawtext, rawtext, msg)], [msg]
    return [nodes.Text(effect_size_rule())], []


def setup(app):
    app.add_post_transform(LinkGlossaryTerms)
    app.add_role("oml-rule", effect_size_role)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
