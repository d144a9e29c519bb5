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
* Phones: one pair of sidebar toggles (the article header's), so the theme's handlers work; a close button
  in the drawers (``templates/oml-drawer-close.html``, ``_static/oml.js``).
* Light pages (``oml_assets.py``): one purged style sheet, inline SVG icons instead of Font Awesome, only
  the scripts a page uses, the search index only on the search page; a favicon, a description and Open
  Graph tags on every page.
"""
from __future__ import annotations

import html
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pybtex.plugin
import sphinxcontrib.bibtex.plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.template import href, names, sentence
from pybtex.style.template import field as bib_field
from sphinxcontrib.bibtex.style.referencing import PersonStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

import oml_assets
from oml.paths import REPORT_PDF

GENERATED = Path("book") / "rapport"
#: The PDF edition at the site root (written by ``oml.site.pdf.build_pdf`` where this link points).
PDF_NAME = REPORT_PDF
TEMPLATES = Path(__file__).resolve().parent / "templates"
#: The accessible name of the notice's landmark (the theme's default is the English "Announcement").
NOTICE_LABEL = "Let op: synthetische gegevens"
#: The sidebar of sphinx-book-theme, with the link to the PDF edition after the search button, and a close
#: button first (shown only when the sidebar opens as a drawer on a phone).
SIDEBAR = ["oml-drawer-close.html", "navbar-logo.html", "icon-links.html", "search-button-field.html", "oml-pdf-link.html",
           "sbt-sidebar-nav.html"]
#: The page contents (right-hand sidebar, a drawer on a phone), with the same close button.
SECONDARY_SIDEBAR = ["oml-drawer-close.html", "page-toc.html"]
#: What a page is about, for search engines and link previews (after the page title).
DESCRIPTION = ("levend rapport over de sociale relatie tussen leerlingen van groep 8 en hun leraren in Limburg, "
               "naar de factsheet van de OnderwijsMonitor Limburg. Alle cijfers opnieuw berekend uit de gegevens.")
#: Titles of the pages Sphinx makes itself (in Dutch, as the pages show them).
SPECIAL_TITLES = {"genindex": "Index", "search": "Zoeken"}
SYNTHETIC_NOTE = " Let op: deze versie is berekend uit synthetische (nagemaakte) gegevens."
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
    # pydata-sphinx-theme 0.17 fills its page header with a search button unless `navbar_persistent` is set,
    # and that header brings a second pair of sidebar toggles, hidden by sphinx-book-theme's CSS but first in
    # the page: both themes bind their click handlers to `document.querySelector(".primary-toggle")`, so the
    # visible toggles in the article header did nothing (a phone reader could not open the menu). An empty
    # `navbar_persistent` leaves that header empty, as sphinx-book-theme expects; templates/layout.html keeps
    # only the element the theme's script measures.
    options["navbar_persistent"] = []
    options["secondary_sidebar_items"] = SECONDARY_SIDEBAR
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
    'title="Link to this term"': 'title="Link naar dit begrip"',
    'title="Toggle primary sidebar"': 'title="Hoofdstukken tonen of verbergen"',
    'title="Toggle secondary sidebar"': 'title="Inhoud van deze pagina tonen of verbergen"',
    'title="previous page"': 'title="vorige pagina"',
    'title="next page"': 'title="volgende pagina"',
    # The drawers (modal dialogs) the sidebars open in on a phone: named, so a screen reader says what opened.
    '<dialog id="pst-primary-sidebar-modal">': '<dialog id="pst-primary-sidebar-modal" aria-label="Hoofdstukken">',
    '<dialog id="pst-secondary-sidebar-modal">': '<dialog id="pst-secondary-sidebar-modal" aria-label="Op deze pagina">',
    '<p class="prev-next-subtitle">previous</p>': '<p class="prev-next-subtitle">vorige</p>',
    '<p class="prev-next-subtitle">next</p>': '<p class="prev-next-subtitle">volgende</p>',
    # The sidebar's fold-out toggle of a chapter with sections (the region pages) is an icon only:
    # give its <summary> a name (axe: summary-name).
    '<summary><span class="toctree-toggle" role="presentation">':
        '<summary aria-label="Onderdelen tonen of verbergen"><span class="toctree-toggle" role="presentation">',
}


def _site_pages(outdir: Path) -> list[Path]:
    """The HTML pages Sphinx wrote (not the theme's files, not the feedback demo copied in later)."""
    return [p for p in sorted(outdir.rglob("*.html")) if "_static" not in p.parts]


def _finish_pages(app) -> None:
    """Every written page, and the site's style sheet; idempotent (a rebuild starts from the current site).

    Pages: the themes' English interface texts in Dutch and inline SVG icons instead of Font Awesome. Then
    the style-sheet bundle (:mod:`oml_assets`) from what these pages use, its hash in their link (so browsers
    fetch a changed bundle), and the files no page loads any more are removed.
    """
    outdir = Path(app.outdir)
    pages = {}
    for page in _site_pages(outdir):
        text = page.read_text(encoding="utf-8")
        done = text
        for english, nl in DUTCH_UI.items():
            done = done.replace(english, nl)
        pages[page] = (text, oml_assets.inline_icons(done))
    # The style sheets the pages would link, in cascade order: the theme's own (its templates link them), then
    # those of Sphinx and the extensions (all pages share them; the builder's list, sorted as Sphinx sorts it).
    registered = sorted(app.builder._css_files, key=lambda css: css.priority)
    sheets = list(dict.fromkeys([*oml_assets.THEME_CSS, *(str(css.filename).removeprefix("_static/") for css in registered)]))
    sheets = [s for s in sheets if s not in oml_assets.UNUSED_CSS and s != oml_assets.BUNDLE and "://" not in s]
    finished = [done for _, done in pages.values()]
    # The record of the last bundle lives beside the doctrees: a fresh build (no doctrees) purges again.
    digest = oml_assets.write_bundle(outdir / "_static", sheets, finished, oml_assets.loaded_scripts(outdir, finished),
                                     Path(app.doctreedir) / "oml-bundle.json")
    link = re.compile(re.escape(f"_static/{oml_assets.BUNDLE}") + r'(\?v=[0-9a-f]+)?"')
    for page, (text, done) in pages.items():
        done = link.sub(f'_static/{oml_assets.BUNDLE}?v={digest}"', done)
        if done != text:
            page.write_text(done, encoding="utf-8")
    for name in oml_assets.REMOVED_FILES:
        path = outdir / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        if path.parent.is_dir() and path.parent != outdir / "_static" and not any(path.parent.iterdir()):
            path.parent.rmdir()  # _static/vendor, once Font Awesome is gone


# docutils writes each bibliography entry as <div role="doc-biblioentry"> inside <div role="list">:
# the role is deprecated in ARIA 1.2, and a list may only hold list items (axe: aria-deprecated-role,
# aria-required-children). The entries are list items of the bibliography list.
#: What links to a PDF edition in a page's body (the start page's buttons, a region's short PDF): left out of a
#: site built without its PDFs (``oml build --no-pdf``, or no Pango), which oml.site.sphinx says by OML_PDF=0.
_NEEDS_PDF = re.compile(r'<(a|p)\b[^>]*\bclass="[^"]*\boml-needs-pdf\b[^"]*"[^>]*>.*?</\1>\s*', re.S)


def _pdf_linked() -> bool:
    return os.environ.get("OML_PDF", "1") != "0"


_BIBLIOENTRY = re.compile(r'(<div class="citation" id="[^"]+") role="doc-biblioentry"')


#: A figure's image in the page; a phone variant of it (``<name>-smal.svg``, :func:`oml.report.plotting.portrait_path`)
#: is served below this width: there the wide figure's text would fall under 11 CSS px (tests/site/test_figures_phone.py).
PORTRAIT_MEDIA = "(max-width: 40rem)"
PORTRAIT_SUFFIX = "-smal"
_FIGURE_IMAGE = re.compile(r'<img (?P<before>[^>]*?)src="(?P<dir>[^"]*_images/)(?P<name>[^"/]+)\.svg"(?P<after>[^>]*?)/?>')


def _portrait_pictures(app, body: str) -> str:
    """Each figure image that has a phone variant becomes a ``<picture>``: the narrow, tall variant below
    :data:`PORTRAIT_MEDIA`, the wide one above; the variant is copied next to the image (no page references it
    itself, so Sphinx would not). The alt text, the link and the figure's number stay as they are."""
    files = Path(app.srcdir) / GENERATED / "files"
    images = Path(app.outdir) / "_images"

    def swap(match: re.Match) -> str:
        name = f"{match['name']}{PORTRAIT_SUFFIX}.svg"
        source = files / name
        if match["name"].endswith(PORTRAIT_SUFFIX) or not source.is_file():
            return match[0]
        images.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, images / name)
        return (f'<picture class="oml-picture"><source media="{PORTRAIT_MEDIA}" srcset="{match["dir"]}{name}" '
                f'type="image/svg+xml" />{match[0]}</picture>')

    return _FIGURE_IMAGE.sub(swap, body)


def _page_context(app, pagename, templatename, context, doctree) -> None:
    context["oml_announcement_label"] = NOTICE_LABEL
    pdf = _pdf_linked()
    context["oml_pdf_name"] = PDF_NAME if pdf else ""  # templates/oml-pdf-link.html: no link without the PDF
    if "body" in context:
        if not pdf:
            context["body"] = _NEEDS_PDF.sub("", context["body"])
        context["body"] = _BIBLIOENTRY.sub(r'\1 role="listitem"', context["body"])
        context["body"] = _portrait_pictures(app, context["body"])
    # A description and Open Graph tags (templates/layout.html): the page's title, then what the site is.
    # The index and the search page set their title in their templates, after this.
    title = html.unescape(re.sub(r"<[^>]+>", "", context.get("title") or "")).strip() or SPECIAL_TITLES.get(pagename, "")
    site = context.get("docstitle") or app.config.project
    is_root = pagename == app.config.root_doc
    context["oml_og_title"] = site if is_root or not title else f"{title} — {site}"
    note = SYNTHETIC_NOTE if app.tags.has("synthetic") else ""
    context["oml_description"] = f"{title}: {DESCRIPTION}{note}" if title and not is_root else f"Een {DESCRIPTION}{note}"
    context["oml_og_type"] = "website" if is_root else "article"
    base = (app.config.html_baseurl or "").rstrip("/")
    context["oml_og_url"] = f"{base}/{app.builder.get_target_uri(pagename)}" if base else ""


def _page_assets(app, pagename, templatename, context, doctree) -> None:
    """Only what this page uses (runs after the themes' own handlers): the bundle and the scripts it needs."""
    from sphinx.builders.html._assets import _CascadingStyleSheet, _JavaScript

    context["css_files"] = [_CascadingStyleSheet(f"_static/{oml_assets.BUNDLE}", priority=200)]
    scripts = oml_assets.page_scripts(context.get("script_files", []), context.get("body", ""), pagename, _JavaScript)
    # The theme's script, last (its template linked it after Bootstrap, at the end of the page).
    scripts.append(_JavaScript("_static/scripts/pydata-sphinx-theme.js", priority=900, defer="defer"))
    context["script_files"] = scripts


def _build_finished(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    _finish_pages(app)
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
    app.connect("html-page-context", _page_assets, priority=900)
    app.connect("build-finished", _build_finished, priority=900)  # after the themes have written their files (pygments.css)
    app.add_css_file("oml.css")
    app.add_js_file("oml.js")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
