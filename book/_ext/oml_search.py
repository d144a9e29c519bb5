"""The site's search index after an incremental build: as complete as after a fresh one.

Sphinx 7.4 keeps the search index of the pages it does not write again by loading the previous
``searchindex.js``, but that file's ``indexentries`` (here: the terms of the page Begrippen, which a
reader finds by name in the search box) are not loaded back. After one Markdown edit the published
index would have lost them (sphinx-doc/sphinx#12599, open). The build rewrites only changed pages
(``oml.site.sphinx``), so this extension feeds the pages Sphinx did not write to the index again,
from their stored doctrees, before Sphinx writes it (``html-collect-pages`` comes before the dump).
A fresh build writes every page, and nothing is fed twice.
"""
from __future__ import annotations

#: The pages Sphinx wrote in this build (names of documents), per application.
_WRITTEN: dict[int, set[str]] = {}


def _builder_inited(app) -> None:
    _WRITTEN[id(app)] = set()


def _page_written(app, pagename, templatename, context, doctree) -> None:
    if doctree is not None:
        _WRITTEN.setdefault(id(app), set()).add(pagename)


def _index_unwritten_pages(app):
    """Feed every document Sphinx did not write this time to the search index, as writing it would."""
    builder = app.builder
    if getattr(builder, "indexer", None) is None:
        return []
    written = _WRITTEN.pop(id(app), set())
    env = app.env
    for docname in sorted(set(env.found_docs) - written):
        # As StandaloneHTMLBuilder.write_doc gives it to the index: the resolved doctree and the rendered title.
        doctree = env.get_and_resolve_doctree(docname, builder)
        title_node = env.longtitles.get(docname)
        title = builder.render_partial(title_node)["title"] if title_node else ""
        builder.index_page(docname, doctree, title)
    return []


def setup(app):
    app.connect("builder-inited", _builder_inited)
    app.connect("html-page-context", _page_written)
    app.connect("html-collect-pages", _index_unwritten_pages)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
