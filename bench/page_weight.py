"""Page weight and first text on slow 4G, measured in Chromium on a built site: `make bench` (issue 22, point 5).

For every page in the site's reading order: the bytes it loads in all (document and every resource,
uncompressed), and for the typical text page the first contentful paint on emulated slow 4G (median of
three, empty cache). The same helpers and limits as ``tests/site/test_page_weight.py``, which guards
them; here they are reported with the rest of the benchmark. Run alone on a built project::

    .venv/bin/python bench/page_weight.py [ROOT]
"""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

import browser  # noqa: E402  (tests/browser.py: the Chromium helpers of the browser tests)
from browser import MAX_FIRST_TEXT_MS, MAX_PAGE_BYTES, TEXT_PAGE  # noqa: E402

from oml.site.pdf import reading_order  # noqa: E402


def measure(root: Path) -> dict:
    """``{"pages": {page: bytes}, "heaviest_bytes", "first_text_ms", ...}`` for the site built under ``root``;
    ``{"not_run": reason}`` when Chromium is missing."""
    reason = browser.missing()
    if reason:
        return {"not_run": reason}
    html = (root / "_build" / "html").resolve()
    pages = [p.relative_to(html).as_posix() for p in reading_order(html)]
    with browser.serve(html) as base, browser.chromium(1280, 900, network_log=True) as driver:
        weights = {page: sum(i["bytes"] for i in browser.page_weight(driver, f"{base}/{page}")) for page in pages}
        times = [browser.first_text_ms(driver, f"{base}/{TEXT_PAGE}") for _ in range(3)]
    return {"pages": weights, "heaviest_bytes": max(weights.values()), "heaviest_page": max(weights, key=weights.get),
            "limit_bytes": MAX_PAGE_BYTES, "first_text_ms": statistics.median(times), "first_text_runs_ms": times,
            "first_text_page": TEXT_PAGE, "limit_first_text_ms": MAX_FIRST_TEXT_MS}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    r = measure(Path(args[0]) if args else REPO)
    if "not_run" in r:
        print(f"page weight: NOT RUN ({r['not_run']})")
        return 0
    print(f"page weight: heaviest {r['heaviest_page']} {r['heaviest_bytes'] / 1000:.0f} kB (limit "
          f"{r['limit_bytes'] / 1000:.0f} kB) over {len(r['pages'])} pages; first text of {r['first_text_page']} on "
          f"slow 4G {r['first_text_ms']:.0f} ms (limit {r['limit_first_text_ms']} ms)")
    return 0 if r["heaviest_bytes"] <= r["limit_bytes"] and r["first_text_ms"] <= r["limit_first_text_ms"] else 1


if __name__ == "__main__":
    sys.exit(main())
