"""The last check before a site is published: no real access code, salt, key or report (oml.site.guard)."""
from __future__ import annotations

from pathlib import Path

import pytest

from oml.access.codes import display, new_code, normalise, write_codes
from oml.access.crypto import locator
from oml.paths import Layout
from oml.site.guard import check_site
from oml.site.messages import BuildError


@pytest.fixture
def project(tmp_path) -> tuple[Layout, Path, str]:
    """A project whose demo codes file has one synthetic school, and a staged site that shows its code."""
    layout = Layout(tmp_path)
    demo = new_code()
    layout.demo_codes.parent.mkdir(parents=True)
    write_codes(layout.demo_codes, {("school", "SYN-S0001"): normalise(demo)})
    html = tmp_path / "stage"
    (html / "terugkoppeling").mkdir(parents=True)
    (html / "index.html").write_text(f"<p>Democode: {display(demo)}</p>", encoding="utf-8")
    (html / "terugkoppeling" / "index.html").write_text("<p>code</p>", encoding="utf-8")
    (html / "terugkoppeling" / f"{locator(demo)}.html").write_text("<p>encrypted</p>", encoding="utf-8")
    return layout, html, demo


def test_the_demo_and_its_codes_may_be_published(project):
    layout, html, _ = project
    check_site(html, layout)


def test_a_real_code_anywhere_in_the_site_is_refused(project):
    layout, html, _ = project
    static = html / "_static"
    static.mkdir()
    (static / "notes.txt").write_text(f"school 12AB: {new_code().lower()}", encoding="utf-8")
    (static / "codes.js").write_text(f'const c = "{new_code()}";', encoding="utf-8")
    with pytest.raises(BuildError) as err:
        check_site(html, layout)
    assert "_static/codes.js: 1 access code(s) that are not the demo's" in str(err.value)
    assert "nothing was published" in str(err.value)


def test_private_files_and_reports_no_demo_code_opens_are_refused(project):
    layout, html, demo = project
    (html / "_static").mkdir()
    (html / "_static" / "CODES.csv").write_text("kind,id,code\n", encoding="utf-8")
    (html / "_static" / "codes.salts.csv").write_text("kind,id,salt\n", encoding="utf-8")
    (html / "terugkoppeling" / f"{locator(new_code())}.html").write_text("<p>a real report</p>", encoding="utf-8")
    with pytest.raises(BuildError) as err:
        check_site(html, layout)
    report = str(err.value)
    assert "_static/CODES.csv: a codes, salts or key file" in report and "_static/codes.salts.csv" in report
    assert "terugkoppeling/: 1 file(s) that no demo code opens" in report


def test_a_demo_codes_file_with_real_ids_is_refused(project):
    layout, html, demo = project
    # Written by hand (the access layer refuses to write a real id into the demo file at all).
    layout.demo_codes.write_text(f"kind,id,code\nschool,SYN-S0001,{display(demo)}\nschool,12AB00,{new_code()}\n",
                                 encoding="utf-8")
    with pytest.raises(BuildError, match="12AB00") as err:
        check_site(html, layout)
    assert "Restore the committed demo file" in str(err.value)
