"""What the public site must never hold: a last check of the staged site before it is swapped in.

Real access codes, salts, derived keys and encrypted reports are private (:mod:`oml.access`). The
only ones a site may show are the synthetic demo's: codes of ``SYN-`` schools and boards from the
committed demo codes file, and their encrypted reports. A mistake anywhere upstream — real codes
copied under ``book/_static``, ``oml reports --out`` pointed into the build, a real codes file given
as the demo's — is caught here, and the build stops before anything is published.
"""
from __future__ import annotations

import re
from pathlib import Path

from oml import paths
from oml.paths import Layout
from oml.site.messages import BuildError

#: Files of the site read as text for the check (everything a browser or the search index may show).
TEXT_SUFFIXES = {".html", ".htm", ".js", ".json", ".txt", ".csv", ".md", ".ipynb", ".xml", ".svg", ".css", ".py"}
#: Names of private files that never belong in a site.
PRIVATE_NAMES = re.compile(r"(?i)(codes.*\.csv|.*\.salts\.csv|.*\.keys\.json)$")


def _code_pattern():
    from oml.access.codes import ALPHABET, GROUP_SIZE, GROUPS

    symbol = f"[{ALPHABET}]"
    group = symbol + "{" + str(GROUP_SIZE) + "}"
    return re.compile(rf"(?<![{ALPHABET}\w]){group}(?:-{group}){{{GROUPS - 1}}}(?![{ALPHABET}\w])")


def demo_codes(layout: Layout) -> set[str]:
    """The committed demo codes (canonical form), each for a synthetic school or board; refuses any other."""
    from oml.access.codes import AccessError, read_codes
    from oml.data import SYNTHETIC_PREFIX

    try:
        codes = read_codes(layout.demo_codes)
    except AccessError as err:  # e.g. real ids in the demo file: refused by the reader itself
        raise BuildError(f"{err}. Restore the committed demo file.") from None
    real = sorted(id_ for _, id_ in codes if not str(id_).startswith(SYNTHETIC_PREFIX))
    if real:
        raise BuildError(f"{layout.demo_codes.relative_to(layout.root)}: the demo codes file holds ids that are not "
                         f"synthetic ({', '.join(real[:5])}{', …' if len(real) > 5 else ''}): real codes never go into "
                         "the site. Restore the committed demo file.")
    return set(codes.values())


def check_site(html: Path, layout: Layout) -> None:
    """Refuse a staged site that holds a private file, a non-demo access code or a non-demo encrypted report.

    Raises
    ------
    BuildError
        Naming every file at fault; the previous site stays as it was.
    """
    from oml.access.codes import normalise
    from oml.access.crypto import locator

    allowed = demo_codes(layout)
    pattern = _code_pattern()
    problems = []
    for path in sorted(p for p in html.rglob("*") if p.is_file()):
        rel = path.relative_to(html).as_posix()
        if PRIVATE_NAMES.match(path.name):
            problems.append(f"{rel}: a codes, salts or key file")
            continue
        if path.suffix.lower() in TEXT_SUFFIXES:
            text = path.read_text(encoding="utf-8", errors="replace")
            foreign = sorted({m.group(0) for m in pattern.finditer(text) if normalise(m.group(0)) not in allowed})
            if foreign:
                problems.append(f"{rel}: {len(foreign)} access code(s) that are not the demo's")
    reports = html / paths.SITE_REPORTS
    if reports.is_dir():
        expected = {f"{locator(code)}.html" for code in allowed}
        stray = sorted(p.name for p in reports.iterdir() if p.is_file() and p.name != "index.html" and p.name not in expected)
        if stray:
            problems.append(f"{paths.SITE_REPORTS}/: {len(stray)} file(s) that no demo code opens ({', '.join(stray[:3])}"
                            f"{', …' if len(stray) > 3 else ''}): reports of real data never go into the site")
    if problems:
        shown = "\n".join(f"- {p}" for p in problems[:20])
        raise BuildError(f"the site would publish private material; nothing was published:\n{shown}")
