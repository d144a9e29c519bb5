"""Region pages and incremental builds on the built site (issue: engine)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from conftest import copy_project, run_oml
from oml.site.runs import slug

pytestmark = pytest.mark.slow


def _html(site: Path, page: str) -> BeautifulSoup:
    return BeautifulSoup((site / "_build" / "html" / page).read_text(encoding="utf-8"), "html.parser")


def test_one_page_per_region_in_the_data(site, default_frame):
    regions = sorted(default_frame["region"].astype(str).unique())
    listing = _html(site, "book/regios.html")
    links = [a.get_text(" ", strip=True) for a in listing.select("main a.reference.internal")]
    for region in regions:
        page = _html(site, f"book/rapport/regio-{slug(region)}.html")
        assert page.find("h1").get_text(strip=True).startswith(f"Regio {region}")
        assert f"Regio {region}" in links
        text = page.get_text(" ", strip=True)
        assert "rest van Limburg" in text and "Herkomst van deze cijfers" in text
        assert "oml.stats.regions.region_result" in text
        assert len(page.select("figure img, figure object, img")) >= 3  # region vs Limburg, by sex, by parents
    assert "Geen eigen pagina" not in listing.get_text()


def test_region_numbers_are_published_and_match_the_statistics(site, frame):
    from oml.stats.regions import region_result

    numbers = json.loads((site / "_build" / "html" / "numbers.json").read_text(encoding="utf-8"))["numbers"]
    region = "Sittard-Geleen"
    page = f"regio-{slug(region)}"
    entries = {e["key"]: e for e in numbers if e["key"].startswith(f"{page}/")}
    assert entries, "no numbers of the region page in numbers.json"
    drawn = pd.read_csv(site / "book" / "rapport" / "files" / f"{page}-figuur.csv")
    expected = region_result(frame, region).table
    np.testing.assert_allclose(drawn["estimate"].to_numpy(), expected["estimate"].to_numpy(), rtol=1e-12)
    for row in expected.itertuples():
        assert entries[f"{page}/figuur/{row.year}/{row.group}/estimate"]["value"] == pytest.approx(row.estimate, rel=1e-12)


def test_noop_build_runs_nothing_and_does_not_import_the_statistics(site_copy):
    site = site_copy
    before = (site / "_build" / "html" / "index.html").stat().st_mtime_ns
    code = ("import sys\nfrom oml.cli import main\nrc = main(['build'])\n"
            "print('STACK', sorted(m for m in ('pandas', 'scipy', 'statsmodels', 'matplotlib') if m in sys.modules))\n"
            "sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=site, env={**os.environ, "OML_ROOT": str(site)},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "0 executed" in proc.stdout and "nothing changed" in proc.stdout and "Sphinx not run" in proc.stdout
    assert "STACK []" in proc.stdout
    assert (site / "_build" / "html" / "index.html").stat().st_mtime_ns == before


def test_markdown_edit_rebuilds_the_site_without_executing_notebooks(site_copy):
    site = site_copy
    page = site / "book" / "regios.md"
    original = page.read_text(encoding="utf-8")
    page.write_text(original.replace("# Regio's", "# Regio's\n\nEen toegevoegde zin voor de test.", 1), encoding="utf-8")
    proc = run_oml(site, "build")
    assert proc.returncode == 0, proc.stderr
    assert "0 executed" in proc.stdout and "site built" in proc.stdout
    assert "Een toegevoegde zin voor de test." in (site / "_build" / "html" / "book" / "regios.html").read_text()


def test_small_region_gets_no_page_and_the_listing_says_why(tmp_path, default_frame):
    from oml.data.io import save

    root = copy_project(tmp_path / "project")
    region = "Noord-Limburg"
    frame = default_frame[(default_frame["region"] != region) | (default_frame.groupby("region").cumcount() < 7)]
    data = tmp_path / "small.parquet"
    save(frame, data)
    proc = run_oml(root, "build", "--data", str(data), "--skip-feedback")  # the reports are not the point here
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"[no page]  region = {region}" in proc.stdout
    assert not (root / "_build" / "html" / "book" / "rapport" / f"regio-{slug(region)}.html").exists()
    listing = _html(root, "book/regios.html").get_text(" ", strip=True)
    assert f"{region}: minder dan 10 leerlingen" in listing
    assert "Regio Sittard-Geleen" in listing
