"""Readability of the texts a school leader reads first: the summary, the start page and a school report.

Measured with Flesch–Douma, the Dutch adaptation of Flesch's reading ease (Douma 1960):
``206,84 − 0,77 × lettergrepen per 100 woorden − 0,93 × woorden per zin``, as computed by the
maintained library ``textstat`` with its Dutch settings (``set_lang("nl")``: Pyphen's Dutch hyphenation
counts the syllables). Higher is easier; 60–70 reads as "redelijk makkelijk", the level of B1 texts such
as Rijksoverheid's. Only running text counts: paragraphs and list items, without tables, captions,
provenance boxes, navigation or code.

Targets (:data:`TARGETS`): at least 60 for the summary and the start page (B1), at least 50 for a school
report, whose method paragraphs are harder by nature ("redelijk moeilijk", B2). The script prints one
line per text and, with ``--check``, exits 1 when a text misses its target.

Usage::

    python bench/readability.py [ROOT] [--check]

``ROOT`` is a project whose site was built (``_build/html``; the school report is read from the
build's executed feedback notebooks in ``_build/cache``), the repository by default.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Flesch–Douma targets: the lowest acceptable score of each text.
TARGETS = {"samenvatting": 60.0, "startpagina": 60.0, "schoolrapport": 50.0}
PAGES = {"samenvatting": "book/rapport/resultaten-in-het-kort.html", "startpagina": "book/rapport/start.html"}


@dataclass
class Score:
    name: str
    source: str
    douma: float
    words: int
    sentences: int
    words_per_sentence: float
    syllables_per_word: float
    target: float

    @property
    def ok(self) -> bool:
        return self.douma >= self.target


def _clean(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    # A list item or paragraph without a full stop still ends a sentence for the reader.
    return text if not text or text[-1] in ".!?:;" else text + "."


def _blocks(markup: str) -> list[str]:
    """Paragraphs and list items of an HTML fragment, without tables, figures, provenance, navigation or code."""
    from bs4 import BeautifulSoup

    doc = BeautifulSoup(markup, "html.parser")
    article = doc.select_one("article") or doc
    for junk in article.select("table, figure, .oml-provenance, .admonition, nav, script, style, pre, .toctree-wrapper"):
        junk.decompose()
    # A list item that holds paragraphs: its paragraphs count, not the item a second time.
    return [_clean(el.get_text(" ")) for el in article.find_all(["p", "li"]) if not el.find(["p", "li"])]


def html_text(path: Path) -> str:
    """The running text of a built page: paragraphs and list items of the article, nothing else."""
    return " ".join(b for b in _blocks(path.read_text(encoding="utf-8")) if b)


def notebook_text(path: Path) -> str:
    """The running text of an executed feedback notebook: the paragraphs and list items of its HTML outputs."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    html = ["".join(o.get("data", {}).get("text/html", "")) for c in nb["cells"] for o in c.get("outputs", [])]
    return " ".join(b for b in _blocks("\n".join(html)) if b)


def school_notebook(root: Path) -> Path | None:
    """The first school's executed feedback notebook of the last build (sorted by name), if any."""
    found = sorted((root / "_build" / "cache").glob("school-*/school-*.ipynb"))
    return found[0] if found else None


def score(name: str, source: str, text: str) -> Score:
    import textstat

    textstat.set_lang("nl")  # Flesch reading ease with Douma's constants, Dutch syllables (Pyphen)
    words = textstat.lexicon_count(text)
    sentences = max(1, textstat.sentence_count(text))
    syllables = textstat.syllable_count(text)
    return Score(name, source, float(textstat.flesch_reading_ease(text)), words, sentences, words / sentences,
                 syllables / max(1, words), TARGETS[name])


def measure(root: Path = REPO) -> list[Score]:
    """Flesch–Douma of the summary, the start page and a school report of the site built under ``root``."""
    html = root / "_build" / "html"
    out = []
    for name, page in PAGES.items():
        if not (html / page).is_file():
            raise FileNotFoundError(f"{html / page}: no built page (run `make book` first)")
        out.append(score(name, page, html_text(html / page)))
    nb = school_notebook(root)
    if nb is not None:
        out.append(score("schoolrapport", nb.relative_to(root).as_posix(), notebook_text(nb)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", type=Path, default=REPO, help="project root with a built site")
    parser.add_argument("--check", action="store_true", help="exit 1 when a text misses its target")
    args = parser.parse_args(argv)
    scores = measure(args.root)
    print("readability (Flesch–Douma; higher is easier; B1 ≈ 60–70)")
    for s in scores:
        print(f"  {s.name:<14} {s.douma:6.1f}  target ≥ {s.target:.0f}  {'ok' if s.ok else 'BELOW TARGET'}  "
              f"({s.words} words, {s.sentences} sentences, {s.words_per_sentence:.1f} words/sentence, "
              f"{s.syllables_per_word:.2f} syllables/word; {s.source})")
    if not any(s.name == "schoolrapport" for s in scores):
        print("  schoolrapport  NOT RUN (no executed feedback notebook in _build/cache: build without --skip-feedback)")
    return 1 if args.check and not all(s.ok for s in scores) else 0


if __name__ == "__main__":
    sys.exit(main())
