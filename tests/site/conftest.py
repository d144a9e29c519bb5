"""Fixtures shared by the site's browser tests: the built site served on 127.0.0.1, and a phone on it."""
from __future__ import annotations

import pytest

import browser


@pytest.fixture(scope="module")
def served(site):
    """(base URL, site folder) of the shared build on 127.0.0.1; skips (NOT RUN) when Chromium is missing."""
    reason = browser.missing()
    if reason:
        pytest.skip(reason)
    html = site / "_build" / "html"
    with browser.serve(html) as base:
        yield base, html


@pytest.fixture(scope="module")
def phone(served):
    """(Chromium emulating a 375 px touch phone, base URL, site folder)."""
    base, html = served
    with browser.chromium(phone=True) as driver:
        yield driver, base, html
