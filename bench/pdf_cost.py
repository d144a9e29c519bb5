"""What the PDFs cost a build (issue 23, point 7): ``python bench/pdf_cost.py``.

Measures, in one throw-away copy of the project on this machine:

* a clean ``make book``: the site's pages (notebooks, Sphinx, every PDF) and the encrypted feedback
  demo, from a copy without ``_build`` (``oml build`` with ``force``, as ``make book`` after ``make clean``;
  the matplotlib font cache stays warm, so the clean build is, if anything, shorter than a user's);
* the PDF stage two ways on that built site: the whole report alone (what a build laid out before the
  short PDFs existed) and every PDF the site publishes (:func:`oml.site.pdf.documents`: the report, the
  short factsheet, one per region; laid out in parallel), each the median of three runs;
* ``make book`` after one Markdown edit (median of three edits), and which PDFs it laid out again.

Targets (the issue's words): the short PDFs make a clean ``make book`` at most 15 % longer, and a
Markdown edit costs at most 25 % of a clean ``make book``.

Results go to ``bench/results/pdf_cost.json``; the exit status is 1 when a target is missed.
"""
from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import REPEATS, REPO, markdown_edit_seconds, project_copy, quiet_build, timed  # noqa: E402

from oml.paths import Layout  # noqa: E402
from oml.site import pdf  # noqa: E402

#: The targets of issue 23, point 7.
MAX_CLEAN_GROWTH = 0.15
MAX_EDIT_SHARE = 0.25


def _clear_pdf_stamps(layout: Layout) -> None:
    for stamp in layout.stamps.glob("pdf*"):
        stamp.unlink()


def pdf_stage_seconds(root: Path, repeats: int = REPEATS) -> dict:
    """The PDF stage on a built site: the whole report alone, and every PDF (parallel), medians of ``repeats``."""
    layout = Layout(root)
    html = layout.html
    alone, every = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeats):
            seconds, _ = timed(pdf.build_pdf, layout, html, Path(tmp) / f"alone-{i}.pdf")
            alone.append(seconds)
            _clear_pdf_stamps(layout)
            seconds, _ = timed(pdf.build_pdf, layout, html)
            every.append(seconds)
    return {"report_alone": statistics.median(alone), "every_pdf": statistics.median(every),
            "report_alone_runs": alone, "every_pdf_runs": every}


def relaid_after_edit(root: Path) -> list[str]:
    """The PDFs one Markdown edit (a sentence in *Aanbevelingen*) lays out again."""
    html = Layout(root).html
    before = {p.name: p.stat().st_mtime_ns for p in html.glob("*.pdf")}
    page = root / "book" / "aanbevelingen.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nNog een zin voor de benchmark.\n", encoding="utf-8")
    quiet_build(root, feedback_demo=True)
    return sorted(p.name for p in html.glob("*.pdf") if before.get(p.name) != p.stat().st_mtime_ns)


def main() -> int:
    out_dir = REPO / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="oml-pdf-cost-") as base:
        root = project_copy(Path(base), "proj")
        # `make book`: the pages and the feedback demo, from nothing.
        clean, result = timed(quiet_build, root, force=True, feedback_demo=True)
        assert result["sphinx_ran"], "the clean build did not build the site"
        stage = pdf_stage_seconds(root)
        documents = sorted(p.name for p in Layout(root).html.glob("*.pdf"))
        pages = {name: pdf_pages(Layout(root).html / name) for name in documents}
        edit, edits = markdown_edit_seconds(root, feedback_demo=True)
        relaid = relaid_after_edit(root)
    extra = stage["every_pdf"] - stage["report_alone"]
    # The same clean make book with the whole report alone, as before the short PDFs.
    before = clean - extra
    growth = extra / before
    share = edit / clean
    results = {
        "clean_make_book_seconds": clean, **stage, "short_pdfs_extra_seconds": extra,
        "clean_growth": growth, "clean_growth_target": MAX_CLEAN_GROWTH,
        "markdown_edit_seconds": edit, "markdown_edit_runs": edits,
        "markdown_edit_share": share, "markdown_edit_target": MAX_EDIT_SHARE,
        "pdfs": pages, "relaid_after_markdown_edit": relaid,
    }
    (out_dir / "pdf_cost.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    ok_growth, ok_edit = growth <= MAX_CLEAN_GROWTH, share <= MAX_EDIT_SHARE
    print(f"clean make book (pages, PDFs, demo):   {clean:6.1f} s")
    print(f"PDF stage, whole report alone:          {stage['report_alone']:6.1f} s")
    print(f"PDF stage, every PDF ({len(documents)}, parallel):    {stage['every_pdf']:6.1f} s")
    print(f"clean make book growth, short PDFs:     {growth:6.1%}  (target <= {MAX_CLEAN_GROWTH:.0%}: "
          f"{'met' if ok_growth else 'MISSED'})")
    print(f"make book after a Markdown edit:        {edit:6.1f} s = {share:.1%} of a clean make book "
          f"(target <= {MAX_EDIT_SHARE:.0%}: {'met' if ok_edit else 'MISSED'})")
    print(f"PDFs laid out again after the edit:     {', '.join(relaid) or 'none'}")
    print("pages: " + ", ".join(f"{name} {n}" for name, n in pages.items()))
    return 0 if ok_growth and ok_edit else 1


def pdf_pages(path: Path) -> int | None:
    """The number of pages of a PDF, read by poppler's ``pdfinfo`` (None without poppler-utils)."""
    import re
    import shutil
    import subprocess

    if shutil.which("pdfinfo") is None:
        return None
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


if __name__ == "__main__":
    raise SystemExit(main())
