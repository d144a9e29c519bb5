"""Light pages for the OML living report: what every page of the site loads, and nothing more.

Used by the site extension (``oml_site.py``); checked by ``tests/site/test_page_weight.py``.

* **One stylesheet.** The themes link eight style sheets (and ``@import`` one more), about 570 kB, most of
  it Bootstrap and Font Awesome rules no page uses. :func:`write_bundle` joins them, in the order the
  pages linked them, into ``_static/oml-site.css``, keeping only the rules whose classes and ids occur in
  a page of the site or in a script the pages load (classes that scripts add at run time are named in
  those scripts). One request instead of nine on the critical path.
* **No icon font.** Font Awesome's JavaScript (1,5 MB) and its web fonts drew about a dozen icons;
  :func:`inline_icons` replaces each ``<i class="fa-…">`` / ``<span class="fa-…">`` of the rendered pages
  by a small inline SVG drawn here (:data:`ICONS`, our own drawings), and the files are removed.
* **Only the scripts a page uses** (:func:`page_scripts`): no Thebe (off in this book), the copy button
  only on a page with code, the toggle button and the sphinx-design tabs only where a page has them, and
  every script deferred so that the text shows before any script runs. The search index is no longer
  loaded on every page: the search box sends the reader to the search page, which loads it.
"""
from __future__ import annotations

import hashlib
import json
import posixpath
import re
from pathlib import Path

import tinycss2
from tinycss2.serializer import serialize_string_value, serialize_url

#: The bundle every page links instead of the themes' style sheets (in ``_static``).
BUNDLE = "oml-site.css"
#: The themes' own style sheets, linked by their templates rather than through Sphinx, in their order.
#: ``styles/theme.css`` only ``@import``\ s Sphinx's ``basic.css``, so that file stands in its place.
THEME_CSS = ["basic.css", "styles/pydata-sphinx-theme.css"]
#: Style sheets of extensions this book does not use (Thebe: ``launch_buttons.thebe`` is off).
UNUSED_CSS = {"sphinx-thebe.css"}
#: Files the pages no longer load: removed from the built site so nothing can link them by accident.
REMOVED_FILES = [
    "_static/scripts/fontawesome.js", "_static/scripts/fontawesome.js.map", "_static/scripts/fontawesome.js.LICENSE.txt",
    "_static/scripts/bootstrap.js", "_static/scripts/bootstrap.js.map", "_static/scripts/bootstrap.js.LICENSE.txt",
    "_static/vendor/fontawesome",
    "_static/styles/theme.css", "_static/styles/pydata-sphinx-theme.css", "_static/styles/pydata-sphinx-theme.css.map",
    "_static/sphinx-thebe.js", "_static/sphinx-thebe.css",
]
#: Classes that scripts build from parts (so they are not found as whole words in the scripts): kept.
SAFE_CLASSES = {"show", "active", "hide", "scrolled", "pst-sidebar-hidden", "noprint", "highlighted", "empty"}
#: Named in the theme's script, for features this site does not have (version switcher and warning, a remote
#: announcement's close button, the collapsible sidebar button): their rules go.
UNUSED_NAMES = {"bd-header-version-warning", "version-switcher__menu", "version-switcher__button", "version-switcher__container",
                "pst-button-link-to-stable-version", "pst-collapse-sidebar-button", "pst-expand-sidebar-label", "fa-solid",
                "fa-xmark", "sidebar-message"}

# ------------------------------------------------------------------------------------------- icons

_STROKE = ('<svg class="oml-icon{cls}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="1em" height="1em" '
           'fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" '
           'aria-hidden="true" focusable="false"{attrs}>{shape}</svg>')
#: The icons the pages use, drawn on a 24-unit grid with round 2-unit strokes (our own simple drawings,
#: in the style of the theme's icons). Keyed by the Font Awesome name the themes' templates ask for.
ICONS = {
    "bars": '<path d="M4 6h16M4 12h16M4 18h16"/>',
    "list": '<path d="M9 6h11M9 12h11M9 18h11M4.5 6h.01M4.5 12h.01M4.5 18h.01"/>',
    "outdent": '<path d="M9 6h11M9 12h11M9 18h11M4.5 6h.01M4.5 12h.01M4.5 18h.01"/>',
    "magnifying-glass": '<circle cx="10.5" cy="10.5" r="6.5"/><path d="m20 20-4.9-4.9"/>',
    "file": '<path d="M14 3H6.5A1.5 1.5 0 0 0 5 4.5v15A1.5 1.5 0 0 0 6.5 21h11a1.5 1.5 0 0 0 1.5-1.5V8z"/><path d="M14 3v5h5"/>',
    "file-pdf": ('<path d="M14 3H6.5A1.5 1.5 0 0 0 5 4.5v15A1.5 1.5 0 0 0 6.5 21h11a1.5 1.5 0 0 0 1.5-1.5V8z"/>'
                 '<path d="M14 3v5h5M8.5 13h7M8.5 17h4.5"/>'),
    "download": '<path d="M12 4v11M7 10l5 5 5-5M5 20h14"/>',
    "expand": '<path d="M4 9V4h5M15 4h5v5M20 15v5h-5M9 20H4v-5"/>',
    "sun": ('<circle cx="12" cy="12" r="4"/><path d="M12 2.5v2M12 19.5v2M2.5 12h2M19.5 12h2M5.3 5.3l1.4 1.4M17.3 17.3l1.4 1.4'
            'M5.3 18.7l1.4-1.4M17.3 6.7l1.4-1.4"/>'),
    "moon": '<path d="M20.5 14.1A8.5 8.5 0 1 1 9.9 3.5a6.8 6.8 0 0 0 10.6 10.6z"/>',
    "circle-half-stroke": '<circle cx="12" cy="12" r="8.5"/><path d="M12 3.5v17a8.5 8.5 0 0 0 0-17z" fill="currentColor"/>',
    "arrow-up": '<path d="M12 20V5M5.5 11.5 12 5l6.5 6.5"/>',
    "chevron-down": '<path d="m6 9 6 6 6-6"/>',
    "angle-left": '<path d="m15 18-6-6 6-6"/>',
    "angle-right": '<path d="m9 18 6-6-6-6"/>',
    "xmark": '<path d="M6 6l12 12M18 6 6 18"/>',
}
#: Font Awesome's style and size classes: dropped (``fa-lg`` becomes our ``oml-icon-lg``).
_FA_STYLE = {"fa", "fas", "far", "fab", "fa-solid", "fa-regular", "fa-brands", "fa-fw"}
# An empty <i> or <span> whose classes name a Font Awesome icon; its other attributes are kept.
_FA_ELEMENT = re.compile(r'<(i|span) class="([^"]*\bfa-[a-z-]+[^"]*)"([^>]*)>\s*</\1>')


def icon(name: str, classes: str = "", attrs: str = "") -> str:
    """The inline SVG of the icon ``name`` (a key of :data:`ICONS`), hidden from assistive technology.

    >>> icon("bars").startswith('<svg class="oml-icon"') and 'aria-hidden="true"' in icon("bars")
    True
    """
    return _STROKE.format(cls=f" {classes}" if classes else "", attrs=attrs, shape=ICONS[name])


def _replace_icon(match: re.Match) -> str:
    classes = match.group(2).split()
    names = [c[3:] for c in classes if c.startswith("fa-") and c not in _FA_STYLE and c != "fa-lg"]
    known = [n for n in names if n in ICONS]
    if not known:
        raise ValueError(f"no inline icon for Font Awesome {names} in {match.group(0)!r}: draw it in ICONS (book/_ext/oml_assets.py)")
    kept = [c for c in classes if not c.startswith("fa-") and c not in _FA_STYLE]
    if "fa-lg" in classes:
        kept.append("oml-icon-lg")
    attrs = re.sub(r'\s*aria-hidden="true"', "", match.group(3))
    return icon(known[0], " ".join(kept), attrs)


def inline_icons(html: str) -> str:
    """Every Font Awesome icon element of a rendered page replaced by its inline SVG (idempotent).

    >>> inline_icons('<button><i class="theme-switch fa-solid fa-sun fa-lg" data-mode="light"></i></button>')[:70]
    '<button><svg class="oml-icon theme-switch oml-icon-lg" xmlns="http://w'
    >>> 'data-mode="light"' in inline_icons('<i class="theme-switch fa-solid fa-sun" data-mode="light"></i>')
    True
    """
    return _FA_ELEMENT.sub(_replace_icon, html)


# ------------------------------------------------------------------------------------------- scripts

#: Scripts of extensions this book never needs on a page: Thebe (off; it would also name unpkg.com).
_NEVER_JS = {"sphinx-thebe.js"}
#: Scripts (and their inline settings) that only a page with certain content needs: file -> test on the body.
_ONLY_WITH = {
    "clipboard.min.js": re.compile(r'class="[^"]*\bhighlight'),
    "copybutton.js": re.compile(r'class="[^"]*\bhighlight'),
    "togglebutton.js": re.compile(r'class="[^"]*\b(toggle|dropdown)\b'),
    "design-tabs.js": re.compile(r'class="[^"]*\bsd-tab'),
}
#: Inline scripts that only configure one of the scripts above (or Thebe), by a word they contain.
_INLINE_FOR = {"THEBE_JS_URL": "sphinx-thebe.js", "toggleHint": "togglebutton.js", "toggleOpenOnPrint": "togglebutton.js",
               "togglebuttonSelector": "togglebutton.js"}
#: Must run before the inline settings that follow it (``DOCUMENTATION_OPTIONS.pagename = …``): stays blocking (319 bytes).
_BLOCKING = {"documentation_options.js"}


def page_scripts(scripts: list, body: str, pagename: str, make) -> list:
    """The scripts of one page: those it needs, deferred (``make(filename, **attributes)`` builds a Sphinx asset).

    The search page keeps Sphinx's search scripts as they are (they are added by its template, after these).
    """
    kept, seen = [], set()
    for script in scripts:
        name = posixpath.basename(str(script.filename or ""))
        body_js = script.attributes.get("body", "")
        if name in _NEVER_JS or (name in _ONLY_WITH and not _ONLY_WITH[name].search(body)):
            continue
        owner = next((js for word, js in _INLINE_FOR.items() if word in body_js), None)
        if owner and (owner in _NEVER_JS or not _ONLY_WITH[owner].search(body)):
            continue
        key = (script.filename, body_js)
        if key in seen:  # jupyter-book adds some settings twice
            continue
        seen.add(key)
        if script.filename and name not in _BLOCKING and pagename != "search" and "async" not in script.attributes:
            attributes = {k: v for k, v in script.attributes.items() if k != "defer"}
            script = make(script.filename, priority=script.priority, defer="defer", **attributes)
        kept.append(script)
    return kept


# ------------------------------------------------------------------------------------------- style sheets

_WORD = re.compile(r"[A-Za-z_][\w-]*")
_CLASS_ATTR = re.compile(r'\bclass="([^"]*)"')
_ID_ATTR = re.compile(r'\bid="([^"]*)"')


def used_names(pages: list[str], scripts: list[str]) -> tuple[set[str], set[str]]:
    """(classes, ids) a style rule may need: those in the pages' markup, and every word of the scripts the pages load.

    >>> used_names(['<p class="a b" id="c">'], ['el.classList.add("is-open")'])[0] >= {"a", "b", "is-open"}
    True
    """
    classes, ids = set(SAFE_CLASSES), set()
    for html in pages:
        for value in _CLASS_ATTR.findall(html):
            classes.update(value.split())
        ids.update(_ID_ATTR.findall(html))
    for js in scripts:
        words = set(_WORD.findall(js))
        classes |= words
        ids |= words
    return classes - UNUSED_NAMES, ids - UNUSED_NAMES


_SCRIPT_SRC = re.compile(r'<script[^>]*\bsrc="([^"?]+)')
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


#: Scripts that hold data, not code: no class or id comes from them. The search index holds every word of the site:
#: read as names, each new word of an edited page would make the bundle look changed.
DATA_SCRIPTS = {"searchindex.js"}


def loaded_scripts(outdir: Path, pages: list[str]) -> list[str]:
    """The text of every script the pages load (files in ``outdir``, and the pages' inline scripts), but data.

    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp())
    >>> for name, text in (("a.js", "el.classList.add('open')"), ("searchindex.js", "Search.setIndex({})")):
    ...     _ = (out / name).write_text(text)
    >>> loaded_scripts(out, ['<script src="a.js"></script><script src="searchindex.js"></script><script>x()</script>'])
    ["el.classList.add('open')", 'x()']
    """
    names = {posixpath.normpath(src).lstrip("./") for html in pages for src in _SCRIPT_SRC.findall(html)}
    names = {name for name in names if posixpath.basename(name) not in DATA_SCRIPTS}
    files = {p for name in names for p in outdir.glob(f"**/{posixpath.basename(name)}") if p.suffix == ".js"}
    inline = [js for html in pages for js in _INLINE_SCRIPT.findall(html)]
    return [p.read_text(encoding="utf-8") for p in sorted(files)] + inline


def _selector_used(tokens: list, classes: set[str], ids: set[str]) -> bool:
    """Whether every class and id of one selector is used (those inside ``:not()``, ``:is()`` … are not required)."""
    for i, token in enumerate(tokens):
        if token.type == "literal" and token.value == "." and i + 1 < len(tokens) and tokens[i + 1].type == "ident":
            if tokens[i + 1].value not in classes:
                return False
        elif token.type == "hash" and token.value not in ids:
            return False
    return True


def _split_selectors(prelude: list) -> list[list]:
    selectors, current = [], []
    for token in prelude:
        if token.type == "literal" and token.value == ",":
            selectors.append(current)
            current = []
        else:
            current.append(token)
    selectors.append(current)
    return selectors


def _rebase_urls(tokens, base: str) -> None:
    """Rewrite relative ``url()``\\ s in place from the folder ``base`` (relative to ``_static``) to ``_static``."""
    for token in tokens or []:
        if token.type == "url":
            token.value = _rebased(token.value, base)
            token.representation = f"url({serialize_url(token.value)})"
        elif token.type == "function" and token.lower_name == "url":
            for arg in token.arguments:
                if arg.type == "string":
                    arg.value = _rebased(arg.value, base)
                    arg.representation = f'"{serialize_string_value(arg.value)}"'
        elif token.type in ("function", "() block", "[] block", "{} block"):
            _rebase_urls(getattr(token, "arguments", None) or getattr(token, "content", None), base)


def _rebased(url: str, base: str) -> str:
    if not base or re.match(r"^([a-z][a-z0-9+.-]*:|/|#)", url, re.I):
        return url
    return posixpath.normpath(posixpath.join(base, url))


def purge_css(text: str, classes: set[str], ids: set[str], base: str = "") -> str:
    """The rules of a style sheet that can apply to the site, serialised; ``base``: the sheet's folder in ``_static``.

    Drops rules whose every selector names a class or id that no page and no script has, ``@font-face`` rules
    of Font Awesome, ``@charset`` and ``@import`` (the bundle has one charset, and the imported sheet in it).

    >>> purge_css(".a{color:red}.b,.a p{margin:0}@media print{.b{x:y}}", {"a"}, set())
    '.a{color:red}\\n.a p{margin:0}\\n'
    """
    out = []
    for rule in tinycss2.parse_stylesheet(text, skip_whitespace=True, skip_comments=True):
        if rule.type == "qualified-rule":
            kept = [s for s in _split_selectors(rule.prelude) if _selector_used(s, classes, ids)]
            if kept:
                _rebase_urls(rule.content, base)
                selector = ",".join(tinycss2.serialize(s).strip() for s in kept)
                out.append(f"{selector}{{{tinycss2.serialize(rule.content).strip()}}}\n")
        elif rule.type == "at-rule":
            keyword = rule.lower_at_keyword
            prelude = tinycss2.serialize(rule.prelude)
            if keyword in ("charset", "import"):
                continue
            if keyword == "font-face" and "Font Awesome" in tinycss2.serialize(rule.content or []).replace("\\ ", " "):
                continue
            if keyword in ("media", "supports", "layer", "container") and rule.content is not None:
                inner = purge_css(tinycss2.serialize(rule.content), classes, ids, base)
                if inner:
                    out.append(f"@{keyword}{prelude}{{\n{inner}}}\n")
                continue
            _rebase_urls(rule.content, base)
            body = f"{{{tinycss2.serialize(rule.content)}}}" if rule.content is not None else ";"
            out.append(f"@{keyword}{prelude}{body}\n")
    return "".join(out)


_VAR = re.compile(r"var\(\s*(--[\w-]+)")
_CUSTOM = re.compile(r"--[\w-]+")


def _walk(rules):
    """(rule, declarations) for every style rule, also inside ``@media`` and the like; keyframes stay whole."""
    for rule in rules:
        if rule.type == "qualified-rule":
            yield rule, [d for d in tinycss2.parse_declaration_list(rule.content, skip_whitespace=True, skip_comments=True)
                         if d.type == "declaration"]
        elif rule.type == "at-rule" and rule.content is not None and rule.lower_at_keyword in ("media", "supports", "layer", "container"):
            yield from _walk(tinycss2.parse_rule_list(rule.content, skip_whitespace=True, skip_comments=True))


def prune_unused(text: str, mentions: str = "") -> str:
    """Drop the custom properties (``--x: …``) that nothing reads and the ``@keyframes`` that nothing runs.

    A property counts as read when a kept declaration uses it in ``var()``, or when ``mentions`` (the pages and
    their scripts, which may set or read one) names it.

    >>> prune_unused(":root{--a:1px;--b:var(--c);--c:red;--d:0}.x{margin:var(--a);animation:spin 1s}"
    ...              "@keyframes spin{to{opacity:0}}@keyframes other{to{opacity:1}}")
    ':root{--a:1px}\\n.x{margin:var(--a);animation:spin 1s}\\n@keyframes spin{to{opacity:0}}\\n'
    """
    rules = tinycss2.parse_stylesheet(text, skip_whitespace=True, skip_comments=True)
    styled = list(_walk(rules))
    custom: dict[str, list[str]] = {}
    used = set(_CUSTOM.findall(mentions))
    animations: set[str] = set()
    for _, declarations in styled:
        for d in declarations:
            value = tinycss2.serialize(d.value)
            if d.name.startswith("--"):
                custom.setdefault(d.name, []).append(value)
            else:
                used.update(_VAR.findall(value))
                if d.lower_name in ("animation", "animation-name"):
                    animations.update(t.value for t in d.value if t.type == "ident")
    todo = list(used)
    while todo:
        for value in custom.get(todo.pop(), []):
            new = set(_VAR.findall(value)) - used
            used |= new
            todo += new
    return _serialize_pruned(rules, used, animations)


def _serialize_pruned(rules, used: set[str], animations: set[str]) -> str:
    out = []
    for rule in rules:
        if rule.type == "qualified-rule":
            declarations = [d for d in tinycss2.parse_declaration_list(rule.content, skip_whitespace=True, skip_comments=True)
                            if d.type == "declaration" and (not d.name.startswith("--") or d.name in used)]
            if declarations:
                body = ";".join(f"{d.name}:{tinycss2.serialize(d.value).strip()}{'!important' if d.important else ''}"
                                for d in declarations)
                out.append(f"{tinycss2.serialize(rule.prelude).strip()}{{{body}}}\n")
        elif rule.type == "at-rule":
            keyword, prelude = rule.lower_at_keyword, tinycss2.serialize(rule.prelude)
            if keyword in ("media", "supports", "layer", "container") and rule.content is not None:
                inner = _serialize_pruned(tinycss2.parse_rule_list(rule.content, skip_whitespace=True, skip_comments=True),
                                          used, animations)
                if inner:
                    out.append(f"@{keyword}{prelude}{{\n{inner}}}\n")
            elif keyword.endswith("keyframes") and prelude.strip() not in animations:
                continue
            else:
                body = f"{{{tinycss2.serialize(rule.content)}}}" if rule.content is not None else ";"
                out.append(f"@{rule.at_keyword}{prelude}{body}\n")
    return "".join(out)


def write_bundle(static: Path, sheets: list[str], pages: list[str], scripts: list[str], cache: Path | None = None) -> str:
    """Write ``static/BUNDLE`` from the style sheets ``sheets`` (paths in ``static``, in cascade order); returns its hash.

    Only the rules :func:`purge_css` keeps for the classes and ids of ``pages`` and ``scripts``, without the custom
    properties and animations nothing uses (:func:`prune_unused`); the sheets' licence notices (``/*! … */``) stay.

    With ``cache`` (a file beside Sphinx's doctrees) a bundle already in ``static`` is kept when everything it is made
    of is unchanged: the sheets, the names the pages and scripts use, and this module. Purging takes about two seconds
    and gives the same bytes, so an edit of one page's text (which adds no class) no longer pays for it.

    Examples
    --------
    >>> import tempfile
    >>> static = Path(tempfile.mkdtemp())
    >>> _ = (static / "a.css").write_text(".used{color:red}.unused{color:blue}")
    >>> cache = static.parent / f"{static.name}-bundle.json"
    >>> first = write_bundle(static, ["a.css"], ['<p class="used">'], [], cache)
    >>> ".unused" in (static / BUNDLE).read_text(), write_bundle(static, ["a.css"], ['<p class="used">'], [], cache) == first
    (False, True)
    >>> write_bundle(static, ["a.css"], ['<p class="used unused">'], [], cache) == first  # a new class: purged again
    False
    """
    classes, ids = used_names(pages, scripts)
    texts = []
    for sheet in sheets:
        path = static / sheet
        if not path.exists():
            raise FileNotFoundError(f"{path}: a style sheet the pages link is missing from the built site")
        texts.append(path.read_text(encoding="utf-8"))
    mentions = "\n".join([*pages, *scripts])
    key = _bundle_key(sheets, texts, classes, ids, set(_CUSTOM.findall(mentions)))
    bundle = static / BUNDLE
    if cache is not None and bundle.exists():
        try:
            recorded = json.loads(cache.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            recorded = {}
        digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
        if recorded == {"key": key, "bundle": digest}:
            return digest[:10]
    notices, rules = [], []
    for sheet, text in zip(sheets, texts):
        notices += re.findall(r"/\*!.*?\*/", text, re.S)
        rules.append(purge_css(text, classes, ids, posixpath.dirname(sheet)))
    text = ('@charset "UTF-8";\n/* The style sheets of the site\'s themes and extensions, in their order, without what no page '
            f'uses (book/_ext/oml_assets.py): {", ".join(sheets)}. */\n' + "\n".join(dict.fromkeys(notices)) + "\n"
            + prune_unused("".join(rules), mentions))
    data = text.encode()
    bundle.write_bytes(data)  # bytes: the hash of the file is the hash of the text (no newline translation)
    digest = hashlib.sha256(data).hexdigest()
    if cache is not None:
        cache.write_text(json.dumps({"key": key, "bundle": digest}), encoding="utf-8")
    return digest[:10]


def _bundle_key(sheets: list[str], texts: list[str], classes: set[str], ids: set[str], custom: set[str]) -> str:
    """Hash of everything the bundle is made of (the custom properties the pages and scripts name included)."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for part in (sheets, texts, sorted(classes), sorted(ids), sorted(custom)):
        digest.update(json.dumps(part).encode() + b"\0")
    return digest.hexdigest()
