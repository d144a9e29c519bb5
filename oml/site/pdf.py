"""The PDF editions: the whole report, a short factsheet and one short PDF per region, from the built site.

The chapters are taken from the built HTML site itself (each page's article, in the order of
the site's "next" links), so every PDF says exactly what the site says: the same text, the same
figure and table numbers and captions, the same glued numbers. WeasyPrint (PyPI; Debian's Pango
underneath) lays them out on A4 with vector figures (the SVGs are drawn as paths, not pictures)
and, when the data are synthetic, the site's notice at the top of every page. Each is a tagged
PDF/UA-1 document, so screen readers get its structure and the figures' alt texts. WeasyPrint reads
no network and runs no browser; any warning it gives is an error here, like Sphinx's ``-W``.

The documents (:func:`documents`; file names stable, next to the site's ``index.html``):

- ``sociale-relaties-met-leraren.pdf`` — the whole report: a cover (title, edition, date, site
  address, contact), contents, every chapter, *Bronnen*, and a technical appendix with one
  numbered note per figure or table saying which functions, notebook cell and CSV made it (on
  the site: the "Bron en data" line under it).
- ``sociale-relaties-met-leraren-factsheet.pdf`` — the factsheet's own sections (intro, in deze
  factsheet, resultaten in het kort, Tabel 1 and Figuur 1, Figuren 2–5 with their text,
  aanbevelingen, bronnen): what a school leader prints and forwards.
- ``sociale-relaties-met-leraren-regio-<region>.pdf`` — one region page each.

Each document has its own stamp (:mod:`oml.site.stamps`): it is laid out again only when one of its
own pages, its figures, its cover or this module changed, and the stale ones are laid out in
parallel (forked processes).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import posixpath
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from oml.paths import FACTSHEET_PDF, PDF_STEM, Layout, region_pdf_name
from oml.report.text import CONTROLS_LEAD, nl_date
from oml.site.messages import BuildError
from oml.site.stamps import Stamp


#: Print layout. Page-area texts are Dutch; ``string(chapter)`` repeats the chapter title at the foot of a page.
CSS = """
@page {
  size: A4; margin: 24mm 18mm 20mm 18mm;
  @top-center { content: element(notice); width: 100%; vertical-align: bottom; }
  @bottom-left { content: string(chapter); font-size: 8pt; color: #555; width: 60%; }
  @bottom-right { content: "Pagina " counter(page) " van " counter(pages); font-size: 8pt; color: #333; width: 35%; }
}
@page :first { @bottom-left { content: none; } }
@page handout { margin: 20mm 15mm 16mm 15mm; }
html { font-family: "Liberation Sans", "DejaVu Sans", sans-serif; font-size: 10pt; line-height: 1.4; color: #111; }
body { margin: 0; hyphens: auto; }
.oml-running-notice { position: running(notice); font-size: 7.5pt; color: #5c4400; background: #fff3cd;
  padding: 1.5mm 3mm; border-radius: 1mm; margin-bottom: 2mm; hyphens: manual; }
.cover { padding-top: 30mm; hyphens: manual; }
.cover h1 { font-size: 24pt; line-height: 1.2; margin: 0 0 4mm 0; bookmark-level: none; }
.cover .subtitle { font-size: 13pt; color: #222; margin: 0 0 12mm 0; }
.cover .oml-synthetic-banner { margin: 0 0 10mm 0; padding: 4mm; background: #fff3cd; color: #5c4400; font-size: 11pt; }
.cover dl { display: block; margin: 0; font-size: 10.5pt; }
.cover dt { float: left; clear: left; width: 32mm; font-weight: bold; }
.cover dd { margin: 0 0 2mm 34mm; overflow-wrap: anywhere; }
.cover .about { margin-top: 14mm; font-size: 9.5pt; color: #333; }
.short .cover { padding-top: 0; border-bottom: 0.8pt solid #333; padding-bottom: 4mm; margin-bottom: 6mm; }
.short .cover h1 { font-size: 20pt; }
.short .cover .subtitle { margin-bottom: 5mm; }
.short .cover .oml-synthetic-banner { margin-bottom: 4mm; font-size: 9.5pt; padding: 2.5mm; }
.short .cover .about { margin-top: 3mm; }
nav.toc { break-before: page; }
nav.toc h1 { bookmark-level: none; }
nav.toc ol { list-style: none; padding: 0; margin: 0; }
nav.toc li { margin: 0 0 2.5mm 0; }
nav.toc li.level-2 { margin-left: 6mm; font-size: 9pt; margin-bottom: 1.5mm; }
nav.toc a { color: inherit; text-decoration: none; }
nav.toc a::after { content: leader('.') target-counter(attr(href), page); }
section.chapter { break-before: page; }
.short section.chapter { break-before: auto; margin-top: 6mm; }
.short section.chapter.oml-new-page { break-before: page; margin-top: 0; }
td p, th p { margin: 0; }
.admonition { break-inside: avoid; }
section.chapter > section > h1, section.chapter h1:first-child { string-set: chapter content(text); }
h1 { font-size: 18pt; margin: 0 0 4mm 0; line-height: 1.2; break-after: avoid; }
.short h1 { font-size: 14pt; margin-bottom: 2mm; }
.short h2 { font-size: 11.5pt; margin-top: 4mm; }
h2 { font-size: 13pt; margin: 6mm 0 2mm 0; break-after: avoid; }
h3 { font-size: 11pt; margin: 4mm 0 1.5mm 0; break-after: avoid; }
p, li { orphans: 2; widows: 2; }
a { color: #0b4f8a; text-decoration: none; }
figure { margin: 4mm 0; break-inside: avoid; text-align: center; }
figure img { width: 100%; max-width: 165mm; }
figure img[src$="figuur-1.svg"] { max-width: 85mm; }
/* A short PDF is a handout: smaller type and figures, so the factsheet fits in about seven pages. */
body.short { font-size: 9pt; line-height: 1.32; page: handout; }
.short figure { margin: 2mm 0; }
.short figure img { max-width: 100mm; }
.short figure img[src$="figuur-1.svg"] { max-width: 68mm; }
.short section#book-bronnen .citation { font-size: 7.5pt; margin-bottom: 1mm; }
.short section#book-bronnen div[role="list"], .short section#book-bronnen .citation-list { columns: 2; column-gap: 6mm; }
figcaption, caption { font-size: 9pt; text-align: left; color: #222; }
.caption-number { font-weight: bold; }
/* A table keeps its caption: a short table never breaks, a long one breaks between rows only, after its
   caption and first rows (the caption is the table's own first box, so it never stands alone). */
table { border-collapse: collapse; margin: 3mm 0; font-size: 8.5pt; break-inside: auto; max-width: 100%; }
table.oml-keep { break-inside: avoid; }
.oml-table-wrap { break-inside: avoid; }
caption { caption-side: top; margin-bottom: 1.5mm; break-after: avoid; }
th, td { border-bottom: 0.4pt solid #bbb; padding: 1mm 2mm; vertical-align: top; overflow-wrap: anywhere; }
thead th { border-bottom: 0.8pt solid #333; hyphens: manual; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
.text-right, .text-end { text-align: right; }
.oml-local { color: inherit; }
.citation { display: flex; gap: 2mm; margin-bottom: 2mm; font-size: 9pt; }
.citation .label { flex: none; }
.citation p { margin: 0; }
/* Nothing runs off a page: commands, hashes and file names wrap. */
pre, code { font-family: "DejaVu Sans Mono", monospace; font-size: 8.5pt; hyphens: none; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; word-break: break-all; }
code, .pre { overflow-wrap: anywhere; word-break: break-all; }
p, li, dd, td { overflow-wrap: break-word; }
.admonition, .note, .important { border-left: 1mm solid #0b4f8a; padding: 1mm 4mm; margin: 3mm 0; background: #f3f6fa; }
.admonition-title { font-weight: bold; }
dl dt { font-weight: bold; }
/* Provenance: a numbered note in the technical appendix instead of a box under each figure and table. */
.oml-note-ref { font-size: 8pt; color: #444; font-weight: normal; }
section.oml-appendix ol { padding-left: 8mm; font-size: 8.5pt; }
section.oml-appendix li { margin-bottom: 2mm; break-inside: avoid; hyphens: manual; overflow-wrap: anywhere; }
section.oml-appendix a.oml-page::after { content: " (pagina " target-counter(attr(href), page) ")"; }
"""

# Parts of a page that only make sense on screen.
_DROP = ["a.headerlink", "script", "style", "button", "form", "#searchbox", ".toctree-wrapper", "input", ".oml-screen-only"]
#: Sections of the site's pages that are about the site, left out of the short factsheet (section ids).
_SITE_ONLY_SECTIONS = ("over-deze-site-een-levend-rapport", "leeswijzer-voor-deze-site", "over-deze-site",
                       "leeswijzer")
#: A table with at most this many rows is never split over two pages.
_KEEP_ROWS = 30

#: The OML's own address and contact, as the factsheet gives them (seed 000 of the issue's sources).
OML_SITE = "https://onderwijsmonitorlimburg.nl/"
OML_CONTACT = "oml-sbe@maastrichtuniversity.nl"
STEM = PDF_STEM
#: The pages of the short factsheet, in this order (paths of the built site without ``.html``).
FACTSHEET_PAGES = ("book/intro", "book/rapport/in-deze-factsheet", "book/rapport/resultaten-in-het-kort",
                   "book/rapport/algemeen-beeld", "book/rapport/verschillen-jaar", "book/rapport/verschillen-geslacht",
                   "book/rapport/verschillen-opleiding-ouders", "book/rapport/verschillen-regio", "book/aanbevelingen",
                   "book/bronnen")
#: Pages that go to the end of the whole report, in this order (the technical appendix follows them).
LAST_PAGES = ("book/bronnen",)
#: Pages of the site only: the start page is a landing page (buttons, the PDF link, a digest of the chapters);
#: the PDF's cover and its chapters take its place.
SITE_ONLY_PAGES = ("book/rapport/start",)


class PdfError(BuildError):
    """The PDF edition could not be written; the message says why (a build error: ``oml build`` reports it)."""


def reading_order(html_dir: Path) -> list[Path]:
    """The site's pages in reading order: from the root page along the theme's ``rel="next"`` links.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=a.html" />')
    >>> _ = (d / "a.html").write_text('<link rel="next" title="B" href="b.html" />')
    >>> _ = (d / "b.html").write_text('<p>end</p>')
    >>> [p.name for p in reading_order(d)]
    ['a.html', 'b.html']
    """
    page = html_dir / "index.html"
    text = page.read_text(encoding="utf-8")
    redirect = re.match(r'<meta http-equiv="Refresh" content="0; url=([^"]+)"', text)
    if redirect:
        page = (html_dir / redirect.group(1)).resolve()
    order: list[Path] = []
    while page.exists() and page not in order:
        order.append(page)
        nxt = re.search(r'<link rel="next"[^>]*href="([^"]+)"', page.read_text(encoding="utf-8"))
        if not nxt:
            break
        page = (page.parent / unquote(nxt.group(1))).resolve()
    return order


def _slug(html_dir: Path, page: Path) -> str:
    return page.resolve().relative_to(html_dir.resolve()).with_suffix("").as_posix().replace("/", "-")



def _text(tag) -> str:
    return " ".join(tag.get_text("").split())


def _caption(target):
    """The caption element of a figure or table (where its number and title are), or None."""
    if target.name == "table":
        return target.find("caption")
    caption = target.find("figcaption")
    return (caption.find_all("p") or [caption])[-1] if caption is not None else None


def _provenance_notes(article, soup, slug: str, chapter: str, notes: list[dict] | None) -> None:
    """Each provenance block under a figure or table becomes a numbered note (``notes``), or goes (``notes=None``).

    The figure's or table's caption gets "(herkomst: noot N)"; the note keeps what the block says on the
    site behind "code": the functions, the notebook cell, the CSV, with a page reference back.
    """
    for box in article.select(".oml-provenance"):
        if notes is None:
            box.decompose()
            continue
        source = box.select_one(".oml-provenance-details") or box
        for tag in source.select("summary, .admonition-title"):
            tag.decompose()
        text = re.sub(r"^Herkomst van deze cijfers:\s*", "", _text(source))
        text = text[:1].upper() + text[1:]
        number = len(notes) + 1
        target = box.find_previous(["figure", "table"])
        if target is not None and target.find_next(class_="oml-provenance") is not box:
            target = None  # the nearest figure above has its own block: this one stands alone
        caption = _caption(target) if target is not None else None
        label = chapter
        if caption is not None:
            num = caption.find(class_="caption-number")
            label = f"{_text(num)} ({chapter})" if num is not None else chapter
            if not target.get("id"):
                target["id"] = f"herkomst-bron-{number}"
            ref = soup.new_tag("span", attrs={"class": "oml-note-ref"})
            ref.string = f" (herkomst: noot {number})"
            caption.append(ref)
            anchor = f"{slug}--{target['id']}"
            box.decompose()
        else:
            note = soup.new_tag("p", attrs={"class": "oml-note-ref", "id": f"herkomst-bron-{number}"})
            note.string = f"Herkomst: noot {number} in de technische bijlage."
            box.replace_with(note)
            anchor = f"{slug}--herkomst-bron-{number}"
        notes.append({"number": number, "label": label, "anchor": anchor, "text": text})


def _guides_once(article, guides: list[str]) -> None:
    """Under a later figure, a reading guide the document printed whole already keeps only its last sentence.

    That sentence (from :data:`oml.report.text.CONTROLS_LEAD` on) says what that figure's means are controlled for.
    ``guides`` holds the guides printed whole so far (their text before that sentence), shared by the chapters of
    one document: a guide is shortened only when the same guide was printed before, so a different one (the long
    series', a region's own figure) stays whole. For a short PDF, where the same guide under each of the factsheet's
    four diamond figures took about half a page.
    """
    for p in article.find_all("p"):
        general, lead, controls = _text(p).partition(CONTROLS_LEAD)
        if not general.startswith("Leeswijzer.") or not lead:
            continue
        if general not in guides:
            guides.append(general)
            continue
        p.clear()
        p.string = lead + controls


def _chapter(html_dir: Path, page: Path, soup_class, included: set[Path] | None = None, notes: list[dict] | None = None,
             drop: tuple[str, ...] = (), guides: list[str] | None = None):
    """One page's article as a ``section.chapter``, ids made unique and links made internal.

    ``notes`` collects the page's provenance blocks as numbered notes (None: the blocks are left
    out); sections with an id in ``drop`` are left out; with ``guides``, the reading guides are
    printed whole once (:func:`_guides_once`).
    """
    soup = soup_class(page.read_text(encoding="utf-8"), "html.parser")
    article = soup.select_one("article.bd-article")
    if article is None:
        raise PdfError(f"{page}: no <article class=\"bd-article\"> (not a page of the Jupyter Book site?)")
    for selector in _DROP:
        for tag in article.select(selector):
            tag.decompose()
    for ident in drop:
        for tag in article.find_all("section", id=ident):
            tag.decompose()
    slug = _slug(html_dir, page)
    h1 = article.find("h1")
    title = _text(h1) if h1 else slug
    _provenance_notes(article, soup, slug, title, notes)
    if guides is not None:
        _guides_once(article, guides)
    for table in article.find_all("table"):
        if len(table.find_all("tr")) <= _KEEP_ROWS:
            table["class"] = [*table.get("class", []), "oml-keep"]
    for tag in article.find_all(id=True):
        tag["id"] = f"{slug}--{tag['id']}"
    for tag in article.find_all("a", href=True):
        href = tag["href"]
        parts = urlsplit(href)
        if parts.scheme or href.startswith("//"):
            continue  # an outside link stays a link
        path = unquote(parts.path)
        target = page.resolve() if not path else (page.parent / path).resolve()
        if target.suffix == ".html" and (included is None or target in included):
            other = _slug(html_dir, target)
            tag["href"] = f"#{other}--{parts.fragment}" if parts.fragment else f"#{other}"
        else:
            # A download (notebook, CSV) or a page outside this PDF belongs to the site: the printed text
            # names it, without a dead link.
            del tag["href"]
            tag["class"] = [*tag.get("class", []), "oml-local"]
    for img in article.find_all("img", src=True):
        img["src"] = (page.parent / unquote(img["src"])).resolve().as_uri()
    # A section's id sits on the <section>, not on its heading.
    h2s = [(f"#{h.parent['id']}" if h.parent.get("id") else None, _text(h)) for h in article.find_all("h2")]
    article.name = "section"
    article.attrs = {"class": ["chapter"], "id": slug}
    return str(article), title, h2s


@dataclass(frozen=True)
class Cover:
    """What the first page says besides the title: what the document is, its edition and date, where and whom to ask.

    Examples
    --------
    >>> "OnderwijsMonitor Limburg" in Cover().subtitle, Cover().contact == OML_CONTACT
    (True, True)
    """

    subtitle: str = ("Levend rapport naar de factsheet ‘Sociale relaties met leraren’ van de "
                     "OnderwijsMonitor Limburg")
    edition: str = ""
    date: str = ""
    site: str = ""
    contact: str = OML_CONTACT


def _inflected(subtitle: str) -> str:
    """The subtitle after "uit het": 'Levend rapport naar …' becomes 'levende rapport naar …' (after a definite
    article the adjective takes -e; the copy check of tests/site/test_copy.py flags 'het levend rapport')."""
    return re.sub(r"^levend rapport\b", "levende rapport", subtitle[:1].lower() + subtitle[1:])


def _cover_html(title: str, cover: Cover, banner: str, short: bool) -> str:
    rows = [("Editie", cover.edition), ("Datum", cover.date),
            ("Website", cover.site or "niet online gepubliceerd (een lokale bouw)"),
            ("Contact", f"OnderwijsMonitor Limburg, {cover.contact}, {OML_SITE}" if cover.contact else "")]
    dl = "".join(f"<dt>{_escape(k)}</dt><dd>{_escape(v)}</dd>" for k, v in rows if v)
    about = ("Een selectie uit het levende rapport: dezelfde tekst, tabellen en figuren als op de website. "
             "De herkomst van elke figuur en tabel staat in de volledige pdf en op de website." if short else
             "Pdf-editie van het levende rapport: dezelfde tekst, tabellen en figuren als de website. De herkomst van "
             "elke figuur en tabel staat in de technische bijlage achterin.")
    return (f'<section class="cover"><h1>{_escape(title)}</h1><p class="subtitle">{_escape(cover.subtitle)}</p>'
            f'{banner}<dl>{dl}</dl><p class="about">{about}</p></section>')


def _appendix_html(notes: list[dict]) -> str:
    items = "".join(f'<li id="herkomst-{n["number"]}"><a class="oml-page" href="#{n["anchor"]}">{_escape(n["label"])}</a>: '
                    f'{_escape(n["text"])}</li>' for n in notes)
    return ('<section class="chapter oml-appendix" id="technische-bijlage"><h1>Technische bijlage: herkomst van de cijfers</h1>'
            "<p>Elke figuur en tabel in dit rapport is berekend door code die iedereen kan inzien en opnieuw kan uitvoeren. "
            "Per figuur en tabel staat hieronder welke functies van het pakket <code>oml</code> de cijfers berekenden, in "
            "welke cel van welk notebook dat gebeurde en in welk CSV-bestand precies de getoonde cijfers staan. Op de "
            "website staan het notebook en het CSV-bestand onder de figuur of tabel, in de regel ‘Bron en data’.</p>"
            f"<ol>{items}</ol></section>")


def pdf_order(html_dir: Path) -> list[Path]:
    """The pages of the whole report in the PDF's order: the site's reading order without :data:`SITE_ONLY_PAGES`,
    :data:`LAST_PAGES` moved to the end.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); (d / "book").mkdir()
    >>> _ = (d / "index.html").write_text('<link rel="next" href="book/bronnen.html" />')
    >>> _ = (d / "book" / "bronnen.html").write_text('<link rel="next" href="x.html" />')
    >>> _ = (d / "book" / "x.html").write_text('<p>end</p>')
    >>> [p.name for p in pdf_order(d)]
    ['index.html', 'x.html', 'bronnen.html']
    """
    pages = [p for p in reading_order(html_dir) if _key(html_dir, p) not in SITE_ONLY_PAGES]
    last = [p for key in LAST_PAGES for p in pages if _key(html_dir, p) == key]
    return [p for p in pages if p not in last] + last


def _key(html_dir: Path, page: Path) -> str:
    return page.resolve().relative_to(html_dir.resolve()).with_suffix("").as_posix()


def compose(html_dir: Path, title: str, author: str, pages: list[Path] | None = None, cover: Cover | None = None,
            short: bool = False) -> str:
    """The PDF's HTML: cover (with the synthetic notice when the site shows one), contents, chapters, appendix.

    ``pages`` (default: :func:`pdf_order`) are the site's pages to print. The whole report (``short``
    false) has a cover page, a table of contents, a page per chapter and the technical appendix with a
    numbered note per provenance block; a short PDF starts with a cover block on its first page, runs
    its chapters on, prints the figures' reading guide once and leaves provenance to the whole report.

    Raises :class:`PdfError` when the site has no pages.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "index.html").write_text('<article class="bd-article"><section id="a"><h1>Eerste</h1>'
    ...                                   '<a href="#a">hier</a></section></article>')
    >>> doc = compose(d, "Rapport", "Auteur")
    >>> '<a href="#index">Eerste</a>' in doc, 'href="#index--a"' in doc, 'class="oml-running-notice"' in doc
    (True, True, False)
    """
    from bs4 import BeautifulSoup

    pages = pdf_order(html_dir) if pages is None else pages
    if not pages:
        raise PdfError(f"{html_dir}: no pages found from index.html; build the site first")
    cover = cover or Cover()
    first = BeautifulSoup(pages[0].read_text(encoding="utf-8"), "html.parser")
    banner = first.select_one(".oml-synthetic-banner")
    included = {p.resolve() for p in pages}
    chapters, toc, notes = [], [], []
    guides: list[str] | None = [] if short else None  # a handout prints each reading guide once
    for page in pages:
        drop = _SITE_ONLY_SECTIONS if short else ()
        body, heading, sections = _chapter(html_dir, page, BeautifulSoup, included, None if short else notes, drop, guides)
        chapters.append(body)
        toc.append(f'<li class="level-1"><a href="#{_slug(html_dir, page)}">{_escape(heading)}</a></li>')
        toc += [f'<li class="level-2"><a href="{href}">{_escape(text)}</a></li>' for href, text in sections if href]
    if notes:
        chapters.append(_appendix_html(notes))
        toc.append('<li class="level-1"><a href="#technische-bijlage">Technische bijlage: herkomst van de cijfers</a></li>')
    notice = cover_notice = ""
    if banner is not None:
        # On paper the notice speaks of this document, not of "deze site".
        printed = banner.decode_contents().replace("op deze site", "in dit document").replace("deze site", "dit document")
        notice = f'<div class="oml-running-notice">{printed}</div>'
        cover_notice = f'<div class="oml-synthetic-banner">{printed}</div>'
    contents = "" if short else f'<nav class="toc"><h1>Inhoud</h1><ol>{"".join(toc)}</ol></nav>'
    return (
        f'<!DOCTYPE html>\n<html lang="nl"><head><meta charset="utf-8">'
        f"<title>{_escape(title)}</title><meta name=\"author\" content=\"{_escape(author)}\">"
        f'<style>{CSS}</style></head><body class="{"short" if short else "full"}">{notice}'
        + _cover_html(title.split(" — ")[0] if not short else title, cover, cover_notice, short)
        + contents + "".join(chapters) + "</body></html>"
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@dataclass(frozen=True)
class Document:
    """One PDF made from the built site: its file name, the pages it prints and its cover."""

    name: str
    title: str
    pages: tuple[str, ...]  # site pages, relative to the site's root, without ".html"
    short: bool = False
    cover: Cover = field(default_factory=Cover)

    def paths(self, html_dir: Path) -> list[Path]:
        return [html_dir / f"{p}.html" for p in self.pages]




def documents(html_dir: Path, title: str, cover: Cover) -> list[Document]:
    """Every PDF of the site, the whole report first: the report, the short factsheet, one per region page.

    The region pages are found in the site's reading order (``book/rapport/regio-*``), so a region
    without a page gets no PDF either.
    """
    html_dir = Path(html_dir)
    order = pdf_order(html_dir)
    keys = [_key(html_dir, p) for p in order]
    short = title.split(" — ")[0]
    out = [Document(linked_pdf(html_dir).name, title, tuple(keys), False, cover),
           Document(FACTSHEET_PDF, f"{short} — factsheet", tuple(k for k in FACTSHEET_PAGES if k in keys), True,
                    replace(cover, subtitle="Factsheet uit het " + _inflected(cover.subtitle)))]
    for key, page in zip(keys, order):
        if re.fullmatch(r"book/rapport/regio-[^/]+", key):
            from bs4 import BeautifulSoup

            h1 = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").select_one("article.bd-article h1")
            for link in h1.select("a.headerlink") if h1 else []:
                link.decompose()
            region = _text(h1) if h1 else key.rsplit("/", 1)[-1]
            out.append(Document(region_pdf_name(key), f"{short} — {region}", (key,), True,
                                replace(cover, subtitle="Regiopagina uit het " + _inflected(cover.subtitle))))
    return out


def _digest(html_dir: Path, doc: Document) -> str:
    """Hash of what one PDF is made of: its pages, the figures they show, its cover (not its date), this module."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(repr((doc.name, doc.title, doc.pages, doc.short, replace(doc.cover, date=""))).encode())
    images: set[Path] = set()
    for path in doc.paths(html_dir):
        text = path.read_bytes()
        digest.update(path.relative_to(html_dir).as_posix().encode() + b"\0" + text)
        for src in re.findall(rb'<img[^>]+src="([^"]+)"', text):
            images.add((path.parent / unquote(src.decode())).resolve())
    for image in sorted(images):
        digest.update(image.name.encode() + b"\0" + (image.read_bytes() if image.exists() else b"missing"))
    return digest.hexdigest()


def linked_pdf(html_dir: Path) -> Path:
    """Where the site links its PDF edition (the ``oml-pdf-link`` of its first page, set by the site extension).

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "index.html").write_text('<p class="oml-pdf-link"><a href="rapport.pdf" download>pdf</a></p>')
    >>> linked_pdf(d).name
    'rapport.pdf'
    """
    pages = reading_order(html_dir)
    link = re.search(r'class="oml-pdf-link"><a href="([^"]+)"', pages[0].read_text(encoding="utf-8")) if pages else None
    if not link:
        raise PdfError(f"{html_dir}: the site links no PDF edition (no 'oml-pdf-link' in book/_ext/templates)")
    return (pages[0].parent / unquote(link.group(1))).resolve()




def _today() -> dt.date:
    # SOURCE_DATE_EPOCH (reproducible-builds.org) fixes the printed date for a byte-identical rebuild.
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date()
    return dt.datetime.now(dt.UTC).date()


def edition_line(layout: Layout) -> str:
    """The cover's edition: the latest recorded edition when this build published exactly its numbers, else "after" it.

    Examples
    --------
    >>> import tempfile
    >>> edition_line(Layout(Path(tempfile.mkdtemp())))
    'nog geen editie vastgelegd'
    """
    from oml.site.editions.compare import Snapshot, compare, load_editions
    from oml.site.editions.record import current_findings, current_numbers

    try:
        synthetic = json.loads(layout.build_info.read_text(encoding="utf-8")).get("synthetic")
    except (OSError, ValueError):
        synthetic = None
    editions = [e for e in load_editions(layout.root)
                if synthetic is None or bool(e.latest.data.get("synthetic")) == bool(synthetic)]
    if not editions:
        return "nog geen editie vastgelegd"
    latest = editions[-1]
    name = f"editie {latest.name}" + (f", correctie {len(latest.publications) - 1}" if len(latest.publications) > 1 else "")
    numbers = current_numbers(layout.root)
    if numbers and compare(latest.latest.snapshot(), Snapshot("", numbers, current_findings(layout.root))).identical:
        return name[0].upper() + name[1:]
    return f"bijgewerkte versie na {name} (zie de pagina Versies)"


def _cover(layout: Layout, config: dict) -> Cover:
    site = str((config.get("html") or {}).get("baseurl") or "").strip()
    return Cover(edition=edition_line(layout), date=nl_date(_today()), site=site)


def _write(job: tuple) -> list[str]:
    """Compose and lay out one PDF into its temporary file; returns WeasyPrint's warnings (run in a worker)."""
    html_dir, doc, author, tmp, identifier = job
    import weasyprint

    document = compose(html_dir, doc.title, author, doc.paths(html_dir), doc.cover, doc.short)
    collect = _Collect()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collect)
    try:
        html = weasyprint.HTML(string=document, base_url=str(html_dir) + posixpath.sep)
        # PDF/UA-1: a tagged PDF (headings, lists, tables, figures with their alt text) that screen
        # readers can follow. No dates in the metadata, a fixed identifier: the same site gives the same PDF.
        html.write_pdf(tmp, pdf_variant="pdf/ua-1", pdf_identifier=identifier, custom_metadata=False)
    finally:
        logger.removeHandler(collect)
    return collect.messages


def _lay_out(jobs: list[tuple]) -> list[list[str]]:
    """Lay out the PDFs, in parallel forked processes when there are several (WeasyPrint is single-threaded)."""
    import multiprocessing

    # Without os.fork (Windows, and where the build runs its spawn engine) one after the other: a spawned
    # worker would pay the imports again.
    if len(jobs) <= 1 or (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [_write(job) for job in jobs]
    from concurrent.futures import ProcessPoolExecutor

    import weasyprint  # noqa: F401 - imported once, before the fork, so no worker pays for it

    workers = min(len(jobs), os.cpu_count() or 1)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(_write, jobs))


def build_pdf(layout: Layout, html_dir: Path, out: Path | None = None) -> Path:
    """Write the PDFs of the built site ``html_dir``; returns the whole report's.

    Without ``out``: every document of :func:`documents` (the whole report where the site links it,
    the short factsheet, one per region), each beside the site's ``index.html`` and each reused when
    nothing it is made of changed (its stamp, :mod:`oml.site.stamps`); the stale ones are laid out in
    parallel. With ``out``: only the whole report, always made afresh, into ``out``, leaving the
    stamps alone. Each is written to a temporary file and renamed, so a failure never leaves half a PDF.

    Parameters
    ----------
    layout : Layout
        The project (``_config.yml`` gives title, author and ``html.baseurl``; the build folder holds the stamps).
    html_dir : Path
        The built site.
    out : Path, optional
        Where to write the whole report instead (and nothing else).

    Returns
    -------
    Path
        The whole report's PDF.

    Raises
    ------
    PdfError
        When the site has no pages, or WeasyPrint warns (a missing image, a CSS error): warnings are errors.

    Examples
    --------
    >>> build_pdf(Layout(Path(".")), Path("no-such-site"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    oml.site.pdf.PdfError: no-such-site: no built site (index.html is missing); build the site first
    """
    if not (Path(html_dir) / "index.html").exists():
        raise PdfError(f"{html_dir}: no built site (index.html is missing); build the site first")
    html_dir = Path(html_dir).resolve()
    import yaml

    config = yaml.safe_load(layout.book_config.read_text(encoding="utf-8")) or {}
    title, author = str(config.get("title", "Rapport")), str(config.get("author", ""))
    docs = documents(html_dir, title, _cover(layout, config))
    own = out is None
    targets = [(doc, html_dir / doc.name) for doc in docs] if own else [(docs[0], Path(out))]
    stale = []
    for doc, path in targets:
        digest = _digest(html_dir, doc)
        key = f"{doc.name}\n{digest}"  # by name: the site is built in a staging folder, then moved
        stamp = Stamp(layout.stamp("pdf" if doc is docs[0] else f"pdf-{Path(doc.name).stem}"))
        if own and path.exists() and stamp.matches(key):
            continue
        if own:
            stamp.clear()
        stale.append((doc, path, stamp, key, digest))
    jobs = [(html_dir, doc, author, path.with_name(f".{path.name}.{os.getpid()}.tmp"), digest[:32].encode())
            for doc, path, _, _, digest in stale]
    try:
        results = _lay_out(jobs)
    except Exception:
        for job in jobs:
            job[3].unlink(missing_ok=True)
        raise
    problems = [(doc.name, messages) for (doc, *_), messages in zip(stale, results) if messages]
    if problems:
        for job in jobs:
            job[3].unlink(missing_ok=True)
        shown = "\n".join(f"- {name}: {m}" for name, messages in problems for m in messages[:20])
        count = sum(len(m) for _, m in problems)
        raise PdfError(f"the PDF edition was not written: WeasyPrint warned ({count}), and warnings are errors:\n{shown}")
    for (_doc, path, stamp, key, _), job in zip(stale, jobs):
        job[3].replace(path)
        if own:
            stamp.record(key)
    return targets[0][1]
