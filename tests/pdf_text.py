"""Reading a PDF back with poppler (Debian poppler-utils), for the tests of the PDF editions.

A missing tool skips the test with a ``NOT RUN`` reason (``make setup`` installs poppler-utils as root).
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest


def poppler(tool: str) -> str:
    """The path of a poppler tool (``pdftotext``, ``pdfinfo``…); skips the test when it is missing."""
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"NOT RUN: {tool} is missing (install Debian poppler-utils: make setup as root)")
    return path


def page_texts(pdf: Path) -> list[str]:
    """The text of every page in layout order (``pdftotext -layout``; pages end with a form feed)."""
    text = subprocess.run([poppler("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    return text.split("\f")[:-1]


def word_boxes(pdf: Path) -> list[tuple[tuple[float, float], list[tuple[float, float, float, float, str]]]]:
    """Per page: its (width, height) and every word's (xMin, yMin, xMax, yMax, text), from ``pdftotext -bbox``."""
    out = subprocess.run([poppler("pdftotext"), "-bbox", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    pages = []
    for w, h, body in re.findall(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', out, re.S):
        words = [(float(a), float(b), float(c), float(d), t) for a, b, c, d, t in re.findall(
            r'<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">(.*?)</word>', body)]
        pages.append(((float(w), float(h)), words))
    assert pages, f"pdftotext -bbox found no pages in {pdf.name}"
    return pages


def off_page(pdf: Path) -> list[str]:
    """The words that lie (half a point or more) beyond a page's left or right edge or below its foot."""
    return [word for (width, height), words in word_boxes(pdf) for x0, _y0, x1, y1, word in words
            if x1 > width + 0.5 or x0 < -0.5 or y1 > height + 0.5]
