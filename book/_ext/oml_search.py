"""The site's search index after an incremental build: as complete as after a fresh one.

Sphinx 7.4 keeps the search index of the pages it does not write again by loading the previous
``searchindex.js``, but that file's ``indexentries`` (here: the terms of the page Begrippen, which a
reader finds by name in the search box) are not loaded back. After one Markdown edit the published
index would have lost them (sphinx-doc/sphinx#12599, open). The build rewrites only changed pages
(``oml.site.sphinx``), so this extension feeds the pages Sphinx did not write and that have index entries
to the index again, from their stored doctrees, before Sphinx writes it (``html-collect-pages`` comes before
the dump).
A fresh build writes every page, and nothing is fed twice. (With parallel writing, which this build does not
use, the pages are written in worker processes that this one does not hear of: they are fed again, with the same
result.)
"""
from __future__ import annotations

#: The documents Sphinx wrote in this build, per application. ``html-page-context`` says so for each, after it was
#: given to the index; ``doctree-resolved`` would not do: other code may resolve a document without writing it,
#: and a document wrongly counted as written would lose its entries again.
_WRITTEN: dict[int, set[str]] = {}


def _builder_inited(app) -> None:
    _WRITTEN[id(app)] = set()


def _page_written(app, pagename, templatename, context, doctree) -> None:
    if doctree is not None:  # a document's page, not the index or the search page
        _WRITTEN.setdefault(id(app), set()).add(pagename)


def _index_unwritten_pages(app):
    """Feed every document Sphinx did not write this time to the search index, as writing it would."""
    builder = app.builder
    if getattr(builder, "indexer", None) is None:
        return []
    env = app.env
    # As Sphinx's own load_indexer: every document of the environment, less those written now; of those, only the
    # ones with index entries (the index domain lists them), since the entries are all the loaded index lacks.
    # Feeding every unwritten page cost about 1,5 s of an edit; here it is the page Begrippen.
    indexed = {docname for docname, entries in env.get_domain("index").entries.items() if entries}
    unwritten = sorted((set(env.all_docs) - _WRITTEN.pop(id(app), set())) & indexed)
    for docname in unwritten:
        # As StandaloneHTMLBuilder.write_doc_serialized gives it to the index: the resolved doctree, the rendered title.
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
