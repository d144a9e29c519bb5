"""The PDF edition: the whole report, as built for the site, in one printable document.

The chapters are taken from the built HTML site itself (each page's article, in the order of
the site's "next" links), so the PDF says exactly what the site says: the same text, the same
figure and table numbers and captions, the same glued numbers. WeasyPrint (PyPI; Debian's Pango
underneath) lays them out on A4 with a table of contents with page numbers, page numbers on
every page, vector figures (the SVGs are drawn as paths, not pictures) and, when the data are
synthetic, the site's notice at the top of every page. It is a tagged PDF/UA-1 document, so
screen readers get its structure and the figures' alt texts. WeasyPrint reads no network and runs
no browser; any warning it gives is an error here, like Sphinx's ``-W``.
"""
from __future__ import annotations

import hashlib
import logging
import os
import posixpath
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from oml.paths import Layout
from oml.site.messages import BuildError
from oml.site.stamps import Stamp


#: Print layout. Page-area texts are Dutch; ``string(chapter)`` repeats the chapter title in the header.
CSS = """
@page {
  size: A4; margin: 24mm 18mm 20mm 18mm;
  @top-center { content: element(notice); width: 100%; vertical-align: bottom; }
  @bottom-left { content: string(chapter); font-size: 8pt; color: #555; }
  @bottom-center { content: "Pagina " counter(page) " van " counter(pages); font-size: 8pt; color: #333; }
}
@page :first { @bottom-left { content: none; } }
html { font-family: "Liberation Sans", "DejaVu Sans", sans-serif; font-size: 10pt; line-height: 1.4; color: #111; }
body { margin: 0; hyphens: auto; }
.oml-running-notice { position: running(notice); font-size: 7.5pt; color: #5c4400; background: #fff3cd;
  padding: 1.5mm 3mm; border-radius: 1mm; margin-bottom: 2mm; }
.cover { padding-top: 50mm; }
.cover h1 { font-size: 24pt; line-height: 1.2; margin: 0 0 6mm 0; bookmark-level: none; }
.cover .author { font-size: 12pt; color: #333; }
.cover .oml-synthetic-banner { margin-top: 20mm; padding: 4mm; background: #fff3cd; color: #5c4400; font-size: 11pt; }
.cover .edition { margin-top: 10mm; color: #333; }
nav.toc { break-before: page; }
nav.toc h1 { bookmark-level: none; }
nav.toc ol { list-style: none; padding: 0; margin: 0; }
nav.toc li { margin: 0 0 2.5mm 0; }
nav.toc li.level-2 { margin-left: 6mm; font-size: 9pt; margin-bottom: 1.5mm; }
nav.toc a { color: inherit; text-decoration: none; }
nav.toc a::after { content: leader('.') target-counter(attr(href), page); }
section.chapter { break-before: page; }
td p, th p { margin: 0; }
.admonition, .oml-provenance { break-inside: avoid; }
section.chapter > section > h1, section.chapter h1:first-child { string-set: chapter content(text); }
h1 { font-size: 18pt; margin: 0 0 4mm 0; line-height: 1.2; }
h2 { font-size: 13pt; margin: 6mm 0 2mm 0; break-after: avoid; }
h3 { font-size: 11pt; margin: 4mm 0 1.5mm 0; break-after: avoid; }
p, li { orphans: 2; widows: 2; }
a { color: #0b4f8a; text-decoration: none; }
figure { margin: 4mm 0; break-inside: avoid; text-align: center; }
figure img { width: 100%; max-width: 165mm; }
figure img[src$="figuur-1.svg"] { max-width: 85mm; }
figcaption, caption { font-size: 9pt; text-align: left; color: #222; }
.caption-number { font-weight: bold; }
table { border-collapse: collapse; margin: 3mm 0; font-size: 8.5pt; break-inside: auto; }
caption { caption-side: top; margin-bottom: 1.5mm; }
th, td { border-bottom: 0.4pt solid #bbb; padding: 1mm 2mm; vertical-align: top; }
thead th { border-bottom: 0.8pt solid #333; }
tr { break-inside: avoid; }
.text-right, .text-end { text-align: right; }
.oml-local { color: inherit; }
.citation { display: flex; gap: 2mm; margin-bottom: 2mm; font-size: 9pt; }
.citation .label { flex: none; }
.citation p { margin: 0; }
pre, code { font-family: "DejaVu Sans Mono", monospace; font-size: 8.5pt; hyphens: none; }
.admonition, .note, .important { border-left: 1mm solid #0b4f8a; padding: 1mm 4mm; margin: 3mm 0; background: #f3f6fa; }
.admonition-title { font-weight: bold; }
dl dt { font-weight: bold; }
"""

# Parts of a page that only make sense on screen.
_DROP = ["a.headerlink", "script", "style", "button", "form", "#searchbox", ".toctree-wrapper", "input", ".oml-screen-only"]


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


def _chapter(html_dir: Path, page: Path, soup_class, included: set[Path] | None = None):
    """One page's article as a ``section.chapter``, ids made unique and links made internal."""
    soup = soup_class(page.read_text(encoding="utf-8"), "html.parser")
    article = soup.select_one("article.bd-article")
    if article is None:
        raise PdfError(f"{page}: no <article class=\"bd-article\"> (not a page of the Jupyter Book site?)")
    for selector in _DROP:
        for tag in article.select(selector):
            tag.decompose()
    slug = _slug(html_dir, page)
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
            # A download (notebook, CSV) or a page outside the report (the encrypted feedback demo) belongs
            # to the site: the printed text names it, without a dead link.
            del tag["href"]
            tag["class"] = [*tag.get("class", []), "oml-local"]
    for img in article.find_all("img", src=True):
        img["src"] = (page.parent / unquote(img["src"])).resolve().as_uri()
    h1 = article.find("h1")
    title = " ".join(h1.get_text(" ", strip=True).split()) if h1 else slug
    # A section's id sits on the <section>, not on its heading.
    h2s = [(f"#{h.parent['id']}" if h.parent.get("id") else None, " ".join(h.get_text(" ", strip=True).split()))
           for h in article.find_all("h2")]
    article.name = "section"
    article.attrs = {"class": ["chapter"], "id": slug}
    return str(article), title, h2s


def compose(html_dir: Path, title: str, author: str) -> str:
    """The PDF's HTML: cover (with the synthetic notice when the site shows one), contents, chapters.

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

    pages = reading_order(html_dir)
    if not pages:
        raise PdfError(f"{html_dir}: no pages found from index.html; build the site first")
    first = BeautifulSoup(pages[0].read_text(encoding="utf-8"), "html.parser")
    banner = first.select_one(".oml-synthetic-banner")
    chapters, toc = [], []
    for page in pages:
        body, heading, sections = _chapter(html_dir, page, BeautifulSoup, {p.resolve() for p in pages})
        chapters.append(body)
        toc.append(f'<li class="level-1"><a href="#{_slug(html_dir, page)}">{_escape(heading)}</a></li>')
        toc += [f'<li class="level-2"><a href="{href}">{_escape(text)}</a></li>' for href, text in sections if href]
    notice = ""
    cover_notice = ""
    if banner is not None:
        notice = f'<div class="oml-running-notice">{banner.decode_contents()}</div>'
        cover_notice = str(banner)
    return (
        '<!DOCTYPE html>\n<html lang="nl"><head><meta charset="utf-8">'
        f"<title>{_escape(title)}</title><meta name=\"author\" content=\"{_escape(author)}\">"
        f"<style>{CSS}</style></head><body>{notice}"
        f'<section class="cover"><h1>{_escape(title)}</h1><p class="author">{_escape(author)}</p>{cover_notice}'
        '<p class="edition">Pdf-editie van het levend rapport: dezelfde tekst, tabellen en figuren als de website.</p>'
        "</section>"
        f'<nav class="toc"><h1>Inhoud</h1><ol>{"".join(toc)}</ol></nav>'
        + "".join(chapters) + "</body></html>"
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _inputs_digest(html_dir: Path) -> str:
    """Hash of what the PDF is made of: every page in reading order, the images, this module."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    pages = reading_order(html_dir)
    images = sorted((html_dir / "_images").glob("*")) if (html_dir / "_images").exists() else []
    for path in [*pages, *images]:
        digest.update(path.relative_to(html_dir).as_posix().encode() + b"\0" + path.read_bytes())
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


def build_pdf(layout: Layout, html_dir: Path, out: Path | None = None) -> Path:
    """Write the PDF edition of the built site ``html_dir`` to ``out`` (default: where the site links it).

    The site's own PDF (``out`` not given) is reused when nothing it is made of changed (its stamp,
    :mod:`oml.site.stamps`). A PDF written elsewhere is always made afresh and leaves that stamp alone, so the
    site's PDF is not laid out again on the next build. Written to a temporary file and renamed, so a
    failure never leaves half a PDF.

    Parameters
    ----------
    layout : Layout
        The project (``_config.yml`` gives title and author; the build folder holds the stamp).
    html_dir : Path
        The built site.
    out : Path, optional
        Where to write the PDF (default: where the site links it).

    Returns
    -------
    Path
        The PDF.

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
    own = out is None
    out = linked_pdf(html_dir) if own else Path(out)
    stamp = Stamp(layout.stamp("pdf"))
    digest = _inputs_digest(html_dir)
    key = f"{out.name}\n{digest}"  # by name: the site is built in a staging folder, then moved
    if own and out.exists() and stamp.matches(key):
        return out
    import yaml

    config = yaml.safe_load(layout.book_config.read_text(encoding="utf-8")) or {}
    document = compose(html_dir, str(config.get("title", "Rapport")), str(config.get("author", "")))
    import weasyprint

    collect = _Collect()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collect)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        html = weasyprint.HTML(string=document, base_url=str(html_dir.resolve()) + posixpath.sep)
        # PDF/UA-1: a tagged PDF (headings, lists, tables, figures with their alt text) that screen
        # readers can follow. No dates, a fixed identifier: the same site gives a byte-identical PDF.
        html.write_pdf(tmp, pdf_variant="pdf/ua-1", pdf_identifier=digest[:32].encode(), custom_metadata=False)
    finally:
        logger.removeHandler(collect)
    if collect.messages:
        tmp.unlink(missing_ok=True)
        shown = "\n".join(f"- {m}" for m in collect.messages[:20])
        raise PdfError(f"the PDF edition was not written: WeasyPrint warned ({len(collect.messages)}), and warnings are errors:\n{shown}")
    if own:
        stamp.clear()
    tmp.replace(out)
    if own:
        stamp.record(key)
    return out
