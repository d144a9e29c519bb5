"""The documentation cannot drift: README.md, docs/ and the book's reading guide checked against the tree.

* ``docs/layout.md`` lists every module of the ``oml`` package (package ``__init__.py`` files excepted),
  and no module that does not exist;
* every relative link in README.md and docs/*.md points to an existing file (and heading);
* README.md stays a front door (at most 200 lines) and links every docs page, as docs/README.md does;
* the commands the docs show exist: ``make`` targets in the Makefile, ``oml`` subcommands and options in the CLI;
* the reading guide of ``book/intro.md`` links every page of ``_toc.yml``, in the book's order;
* the decryption example in docs/reports.md, run as printed, opens a published report.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
DOCS = REPO / "docs"
LAYOUT = DOCS / "layout.md"
INTRO = REPO / "book" / "intro.md"
TOC = REPO / "_toc.yml"

#: The heading of the module list in docs/layout.md; the list runs to the next heading of the same level.
MODULES_HEADING = "## Modules of the `oml` package"
#: One bullet per module: - `oml/…/name.py` — description
MODULE_LINE = re.compile(r"^- `(oml/[^`]+?\.py)` — \S")
#: The reading guide of the book's start page.
GUIDE_HEADING = "## Leeswijzer voor deze site"
#: A MyST cross-reference to a page: {doc}`path` or {doc}`title <path>`.
DOC_ROLE = re.compile(r"\{doc\}`(?:[^`<]*<)?([^`<>]+)>?`")
#: An inline Markdown link or image: [text](target) / ![alt](target), target without spaces.
MD_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~)")
MAX_README_LINES = 200


def _doc_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def _prose(text: str) -> str:
    """The text without fenced code blocks (lines kept blank, so line numbers stay right)."""
    out, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line.lstrip()):
            fenced = not fenced
            out.append("")
            continue
        out.append("" if fenced else line)
    return "\n".join(out)


def _section(text: str, heading: str) -> str | None:
    """The lines under ``heading`` up to the next heading of the same or a higher level."""
    level = len(heading) - len(heading.lstrip("#"))
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == heading)
    except StopIteration:
        return None
    end = len(lines)
    for i in range(start + 1, len(lines)):
        m = re.match(r"^(#+)\s", lines[i])
        if m and len(m.group(1)) <= level:
            end = i
            break
    return "\n".join(lines[start + 1:end])


def _slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to dashes."""
    text = "".join(c for c in heading.strip().lower() if c in " -_" or unicodedata.category(c)[0] in "LN")
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    anchors, seen = set(), {}
    for line in _prose(path.read_text(encoding="utf-8")).splitlines():
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            slug = _slug(m.group(1))
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


# ---------------------------------------------------------------------------------------------- layout

def test_layout_lists_every_module_of_the_package():
    section = _section(LAYOUT.read_text(encoding="utf-8"), MODULES_HEADING)
    assert section is not None, f"docs/layout.md has no section '{MODULES_HEADING}'"
    listed = [m.group(1) for line in section.splitlines() if (m := MODULE_LINE.match(line.strip()))]
    modules = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "oml").rglob("*.py")
                     if "__pycache__" not in p.parts and p.name != "__init__.py")
    missing = [m for m in modules if m not in listed]
    gone = [m for m in listed if not (REPO / m).is_file()]
    packages = [m for m in listed if m.endswith("/__init__.py")]
    twice = sorted({m for m in listed if listed.count(m) > 1})
    problems = []
    if missing:
        problems.append("modules of the oml package that docs/layout.md does not list (add a line "
                        "'- `oml/…/name.py` — what it does'):\n  " + "\n  ".join(missing))
    if gone:
        problems.append("modules docs/layout.md lists that do not exist (renamed or removed?):\n  " + "\n  ".join(gone))
    if packages:
        problems.append("package __init__.py files are not listed (the package's heading describes it):\n  "
                        + "\n  ".join(packages))
    if twice:
        problems.append("modules listed more than once:\n  " + "\n  ".join(twice))
    if problems:
        pytest.fail(f"docs/layout.md, section '{MODULES_HEADING}', is out of date:\n" + "\n".join(problems), pytrace=False)


# ---------------------------------------------------------------------------------------------- links

def _relative_links(path: Path) -> list[tuple[int, str]]:
    links = []
    for number, line in enumerate(_prose(path.read_text(encoding="utf-8")).splitlines(), start=1):
        for target in MD_LINK.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("//"):
                continue  # https:, mailto:, …
            links.append((number, target))
    return links


def test_every_relative_link_points_to_an_existing_file():
    broken = []
    for path in _doc_files():
        for number, target in _relative_links(path):
            file_part, _, anchor = target.partition("#")
            dest = (path.parent / file_part).resolve() if file_part else path
            where = f"{path.relative_to(REPO)}:{number}: ({target})"
            if not dest.exists():
                broken.append(f"{where}: {file_part} does not exist")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                broken.append(f"{where}: {dest.relative_to(REPO)} has no heading with anchor #{anchor}")
    if broken:
        pytest.fail("broken links in the documentation:\n" + "\n".join(broken), pytrace=False)


def test_readme_is_a_front_door():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, (
        f"README.md has {len(lines)} lines (at most {MAX_README_LINES}): it is the front door; move the detail to docs/")


@pytest.mark.parametrize("index", [README, DOCS / "README.md"], ids=["README.md", "docs/README.md"])
def test_every_docs_page_is_linked_from_the_indexes(index):
    linked = {(index.parent / t.partition("#")[0]).resolve() for _, t in _relative_links(index)}
    pages = [p for p in sorted(DOCS.glob("*.md")) if p.name != "README.md"]
    unlinked = [p.relative_to(REPO).as_posix() for p in pages if p.resolve() not in linked]
    assert not unlinked, f"{index.relative_to(REPO)} does not link these docs pages: {', '.join(unlinked)}"


# ---------------------------------------------------------------------------------------------- commands

#: A shown command: ``make TARGET…``, ``oml COMMAND…``, ``.venv/bin/oml …`` or ``… python -m oml.cli …``.
COMMAND = re.compile(r"^(?:make|(?:\.venv/bin/)?oml|(?:\.venv/bin/)?python3? -m oml\.cli) ")


def _commands(path: Path) -> list[str]:
    """The commands a page shows: inline code and lines of fenced code blocks that start with a command."""
    spans, fenced = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        spans += [line.split(" # ", 1)[0]] if fenced else re.findall(r"`([^`]+)`", line)
    return [s.strip() for s in spans if COMMAND.match(s.strip())]


def test_make_targets_in_the_docs_exist():
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z0-9_-]*):", makefile, re.M))
    unknown = sorted({f"{p.relative_to(REPO)}: {c}" for p in _doc_files() for c in _commands(p) if c.startswith("make ")
                      for word in c.split("#")[0].split()[1:] if "=" not in word and word not in targets})
    assert not unknown, "make targets the docs show but the Makefile lacks:\n" + "\n".join(unknown)


def test_oml_commands_and_options_in_the_docs_exist():
    from oml.cli import parser

    commands = next(a for a in parser()._actions if a.__class__.__name__ == "_SubParsersAction").choices
    unknown = set()
    for path in _doc_files():
        for command in _commands(path):
            m = re.match(r"^(?:\S*oml|\S*python3? -m oml\.cli) (\S+)(.*)$", command)
            if not m:
                continue
            name, rest = m.groups()
            rest = re.sub(r'"[^"]*"', '""', rest)  # a quoted argument is text, not options
            if name not in commands:
                unknown.add(f"{path.relative_to(REPO)}: {command}  (no command '{name}')")
                continue
            options = commands[name]._option_string_actions
            for option in re.findall(r"(?<!\S)(--[a-z][a-z-]*)", rest):
                if option not in options:
                    unknown.add(f"{path.relative_to(REPO)}: {command}  (oml {name} has no {option})")
    assert not unknown, "oml commands or options the docs show but the CLI lacks:\n" + "\n".join(sorted(unknown))


# ---------------------------------------------------------------------------------------------- reading guide

def _toc_files(node) -> list[str]:
    """Every ``file:`` of _toc.yml in reading order (globs left out: the region pages are found by the build)."""
    found = []
    if isinstance(node, dict):
        if "file" in node:
            found.append(node["file"])
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key, []):
                found += _toc_files(child)
    return found


def test_the_reading_guide_links_every_chapter_in_order():
    toc = yaml.safe_load(TOC.read_text(encoding="utf-8"))
    root = toc["root"]
    chapters = [f for f in _toc_files(toc) if f != root]  # the guide is on the root page itself
    guide = _section(INTRO.read_text(encoding="utf-8"), GUIDE_HEADING)
    assert guide is not None, f"book/intro.md has no section '{GUIDE_HEADING}'"
    base = INTRO.parent.relative_to(REPO)
    linked = [(base / target).as_posix() for target in DOC_ROLE.findall(guide)]
    missing = [c for c in chapters if c not in linked]
    assert not missing, ("the reading guide of book/intro.md does not link these pages of _toc.yml "
                         "(a line '{doc}`path`' per chapter, path relative to book/):\n  " + "\n  ".join(missing))
    stray = [t for t in linked if t not in chapters]
    assert not stray, "the reading guide links pages that are not in _toc.yml:\n  " + "\n  ".join(stray)
    in_guide = list(dict.fromkeys(linked))
    assert in_guide == chapters, ("the reading guide lists the chapters in another order than _toc.yml:\n"
                                  f"  guide: {in_guide}\n  toc:   {chapters}")


def test_the_reading_guide_types_no_numbers():
    """Numbers come from the data (glue); the guide describes chapters, it does not quote results."""
    guide = _prose(_section(INTRO.read_text(encoding="utf-8"), GUIDE_HEADING) or "")
    guide = DOC_ROLE.sub("", guide)
    numbers = re.findall(r"\d+(?:[.,]\d+)?\s*%|\b\d+[.,]\d+\b", guide)
    assert not numbers, f"the reading guide of book/intro.md types numbers: {numbers}"


# ---------------------------------------------------------------------------------------------- decryption example

def test_the_decryption_example_in_docs_opens_a_published_report(tmp_path):
    """docs/reports.md's Python example, run as printed (only the folder is filled in), decrypts a report."""
    from oml.access.codes import display, read_codes
    from oml.access.publish import publish_reports

    text = (DOCS / "reports.md").read_text(encoding="utf-8")
    snippet = re.search(r"```python\n(import base64, hashlib, re\n.*?)```", text, re.S)
    assert snippet, "docs/reports.md lost its decryption example"
    html = '<!DOCTYPE html>\n<html lang="nl"><head><meta charset="utf-8"><title>t</title></head>' \
           "<body><p>Rapport van school SYN-S001: 0,12</p></body></html>\n"
    publish_reports({("school", "SYN-S001"): html}, tmp_path / "CODES.csv", tmp_path / "DIR")
    (key, code), = read_codes(tmp_path / "CODES.csv").items()
    source = snippet.group(1).replace('f"DIR/{name}"', f'f"{tmp_path}/DIR/{{name}}"')
    assert source != snippet.group(1), "the example no longer reads the report from f\"DIR/{name}\""
    namespace = {"typed": display(code).lower().replace("-", " ")}
    exec(compile(source, "docs/reports.md", "exec"), namespace)
    assert namespace["html"] == html


def test_the_demo_count_in_docs_is_the_committed_demo_file():
    """docs/reports.md states how many demo reports there are; the committed demo codes file decides."""
    import csv

    text = (DOCS / "reports.md").read_text(encoding="utf-8")
    stated = re.search(r"(\d+) in all \((\d+) schools, (\d+) boards\)", text)
    assert stated, "docs/reports.md no longer says how many demo reports there are ('N in all (S schools, B boards)')"
    with (REPO / "book" / "terugkoppeling" / "demo-codes.csv").open(encoding="utf-8", newline="") as fh:
        kinds = [row["kind"] for row in csv.DictReader(fh)]
    actual = (len(kinds), kinds.count("school"), kinds.count("board"))
    assert tuple(map(int, stated.groups())) == actual, (
        f"docs/reports.md says {stated.group(0)}; book/terugkoppeling/demo-codes.csv has {actual[0]} codes "
        f"({actual[1]} schools, {actual[2]} boards)")
