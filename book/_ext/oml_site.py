"""Sphinx extension for the OML living report.

* Shows the synthetic-data notice on every page when the build used synthetic data
  (read from ``book/rapport/build-info.json``, written by ``oml build``); no notice for real data.
* Writes ``numbers.json`` at the site root: every published number (key, exact value, text
  as shown, page), merged from the pages' manifest fragments.
* Accessibility (checked with axe-core in ``tests/site/test_a11y.py``): the notice is one labelled
  landmark, not a live region; the bibliography is a list of list items (docutils marks its entries
  with the deprecated ARIA role ``doc-biblioentry``); the search and colour-mode buttons are named
  by their own text (templates in ``templates/``); the themes' English interface texts become Dutch.
* Links the PDF edition (``oml.site.pdf``) from the sidebar of every page.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pybtex.plugin
import sphinxcontrib.bibtex.plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.template import href, names, sentence
from pybtex.style.template import field as bib_field
from sphinxcontrib.bibtex.style.referencing import PersonStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

GENERATED = Path("book") / "rapport"
#: The PDF edition at the site root (written by ``oml.site.pdf.build_pdf`` where this link points).
PDF_NAME = "sociale-relaties-met-leraren.pdf"
TEMPLATES = Path(__file__).resolve().parent / "templates"
#: The accessible name of the notice's landmark (the theme's default is the English "Announcement").
NOTICE_LABEL = "Let op: synthetische gegevens"
#: The sidebar of sphinx-book-theme, with the link to the PDF edition after the search button.
SIDEBAR = ["navbar-logo.html", "icon-links.html", "search-button-field.html", "oml-pdf-link.html", "sbt-sidebar-nav.html"]
BANNER = (
    "Let op: alle cijfers, tabellen en figuren op deze site zijn berekend uit <strong>synthetische</strong> "
    "(nagemaakte) gegevens. Het zijn <strong>geen resultaten van de OnderwijsMonitor Limburg</strong>."
)


class DutchBibliographyStyle(PlainStyle):
    """pybtex's plain style with Dutch joining words ("en") and a bare link instead of "URL:"."""

    def format_names(self, role, as_sentence=True):
        formatted = names(role, sep=", ", sep2=" en ", last_sep=" en ")
        return sentence[formatted] if as_sentence else formatted

    def format_url(self, e):
        url = bib_field("url", raw=True)
        return href(url)[url]


@dataclass
class DutchAuthorYearStyle(AuthorYearReferenceStyle):
    """Author–year citations joined with "en" ("Sivan en Chan, 2013")."""

    person: PersonStyle = field(default_factory=lambda: PersonStyle(sep2=" en ", last_sep=" en "))


pybtex.plugin.register_plugin("pybtex.style.formatting", "plain_nl", DutchBibliographyStyle)
sphinxcontrib.bibtex.plugin.register_plugin("sphinxcontrib.bibtex.style.referencing", "author_year_nl", DutchAuthorYearStyle)


def _build_info(app) -> dict:
    path = Path(app.srcdir) / GENERATED / "build-info.json"
    if not path.exists():
        raise RuntimeError(f"{path} is missing: build the site with `oml build` (or `make book`), not jupyter-book directly")
    return json.loads(path.read_text(encoding="utf-8"))


def _config_inited(app, config) -> None:
    info = _build_info(app)
    if info["synthetic"]:
        # Pages can show synthetic-only text with the `{only} synthetic` directive. A change of
        # data kind changes the build info, and `oml build` then rebuilds every page.
        app.tags.add("synthetic")
    # Our templates (search button, announcement, PDF link) come before the theme's.
    config.templates_path = [str(TEMPLATES), *config.templates_path]
    config.html_sidebars = {"**": SIDEBAR}
    options = dict(config.html_theme_options or {})
    options["announcement"] = f'<div class="oml-synthetic-banner">{BANNER}</div>' if info["synthetic"] else ""
    config.html_theme_options = options


#: Screen-reader and tooltip texts that the themes hard-code in English or have no Dutch translation
#: for, exactly as they appear in the HTML, and their Dutch: a page in lang="nl" speaks Dutch throughout.
DUTCH_UI = {
    ">Skip to main content<": ">Naar de hoofdinhoud<",
    ">Back to top<": ">Naar boven<",
    'aria-label="Main"': 'aria-label="Hoofdstukken"',
    'aria-label="Page"': 'aria-label="Pagina"',
    'aria-label="Site navigation"': 'aria-label="Sitenavigatie"',
    'aria-label="On this page"': 'aria-label="Op deze pagina"',
    'aria-label="Search..."': 'aria-label="Zoeken"',
    'placeholder="Search..."': 'placeholder="Zoeken…"',
    'title="Link to this heading"': 'title="Link naar deze kop"',
    'title="Link to this table"': 'title="Link naar deze tabel"',
    'title="Link to this image"': 'title="Link naar deze figuur"',
    'title="Toggle primary sidebar"': 'title="Hoofdstukken tonen of verbergen"',
    'title="Toggle secondary sidebar"': 'title="Inhoud van deze pagina tonen of verbergen"',
    'title="previous page"': 'title="vorige pagina"',
    'title="next page"': 'title="volgende pagina"',
    # The sidebar's fold-out toggle of a chapter with sections (the region pages) is an icon only:
    # give its <summary> a name (axe: summary-name).
    '<summary><span class="toctree-toggle" role="presentation">':
        '<summary aria-label="Onderdelen tonen of verbergen"><span class="toctree-toggle" role="presentation">',
}


def _dutch_ui(outdir: Path) -> None:
    """Replace the themes' English interface texts by Dutch in every written page (idempotent)."""
    for page in outdir.rglob("*.html"):
        if "_static" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        dutch = text
        for english, nl in DUTCH_UI.items():
            dutch = dutch.replace(english, nl)
        if dutch != text:
            page.write_text(dutch, encoding="utf-8")


# docutils writes each bibliography entry as <div role="doc-biblioentry"> inside <div role="list">:
# the role is deprecated in ARIA 1.2, and a list may only hold list items (axe: aria-deprecated-role,
# aria-required-children). The entries are list items of the bibliography list.
_BIBLIOENTRY = re.compile(r'(<div class="citation" id="[^"]+") role="doc-biblioentry"')


def _page_context(app, pagename, templatename, context, doctree) -> None:
    context["oml_announcement_label"] = NOTICE_LABEL
    context["oml_pdf_name"] = PDF_NAME
    if "body" in context:
        context["body"] = _BIBLIOENTRY.sub(r'\1 role="listitem"', context["body"])


def _build_finished(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    _dutch_ui(Path(app.outdir))
    entries = []
    for fragment in sorted((Path(app.srcdir) / GENERATED).glob("files/*.numbers.json")):
        for entry in json.loads(fragment.read_text(encoding="utf-8")):
            docname = f"{GENERATED.as_posix()}/{entry['page']}"
            entries.append({**entry, "page": app.builder.get_target_uri(docname)})
    manifest = {"numbers": entries, "count": len(entries), "synthetic": _build_info(app)["synthetic"]}
    out = Path(app.outdir) / "numbers.json"
    out.write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True, allow_nan=False), encoding="utf-8")


def setup(app):
    app.connect("config-inited", _config_inited)
    app.connect("html-page-context", _page_context)
    app.connect("build-finished", _build_finished)
    app.add_css_file("oml.css")
    app.add_js_file("oml.js")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
