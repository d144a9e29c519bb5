"""Editions (issue: editions): ``oml release`` refuses what it must, records what was built, and
the page "Versies" shows what changed between publications.

Release tests run in throw-away git repositories holding a tiny stand-in project: the build's
outputs (manifest fragments, the comparisons CSV, ``_build/html/numbers.json``) are written by
hand and :func:`write_build_record` is called exactly as ``oml build`` calls it at its end.
The page's strict Sphinx build is checked on the full default site (``site`` fixture).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from oml.data.facts import DataFacts
from oml.data.files import file_sha256
from oml.paths import Layout
from oml.site.editions import compare as comparing
from oml.site.editions import page as versies
from oml.site.editions import record as recording
from oml.site.editions.common import ReleaseError
from oml.site.editions.compare import ABSENT, Snapshot, compare, same_number
from oml.site.editions.page import change_text, subject, verdict
from oml.site.editions.record import finding_id, release, write_build_record
from oml.stats.direction import Direction
from conftest import REPO, run_oml

GIT_ENV = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "Test",
           "GIT_COMMITTER_EMAIL": "t@example.org", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}

RUNS = """
[[run]]
template = "v.ipynb"
page = "verschillen-jaar"
title = "Verschillen naar jaar"

[[run]]
template = "v.ipynb"
page = "verschillen-regio"
title = "Verschillen naar regio"
"""

#: Publication "old": data through 2024, two regions, the trend of all pupils stable.
OLD_NUMBERS = {
    "in-deze-factsheet/n_pupils": 100,
    "algemeen-beeld/alpha": 0.85,
    "verschillen-jaar/figuur/2023/totaal/estimate": 0.01,
    "verschillen-jaar/figuur/2024/totaal/estimate": 0.02,
    "verschillen-regio/figuur/2024/Noord/estimate": 0.1,
    "verschillen-regio/figuur/2024/Midden/estimate": -0.1,
}
OLD_FINDINGS = [
    {"figure": "verschillen-jaar", "family": "first_last", "group_a": "totaal", "year_a": 2023, "group_b": "totaal",
     "year_b": 2024, "estimate": 0.01, "p_holm": 0.7, "significant": False},
    {"figure": "verschillen-regio", "family": "between", "group_a": "Noord", "year_a": 2024, "group_b": "Midden",
     "year_b": 2024, "estimate": -0.2, "p_holm": 0.04, "significant": True},
]
#: Publication "new": a year more, more pupils, a new region, the trend now significantly lower.
NEW_NUMBERS = {**OLD_NUMBERS, "in-deze-factsheet/n_pupils": 150, "verschillen-jaar/figuur/2025/totaal/estimate": -0.3,
               "verschillen-regio/figuur/2025/Noord/estimate": 0.1, "verschillen-regio/figuur/2025/Zuid/estimate": 0.2}
NEW_FINDINGS = [
    {**OLD_FINDINGS[0], "year_b": 2025, "estimate": -0.31, "p_holm": 0.001, "significant": True},
    {**OLD_FINDINGS[1], "year_a": 2025, "year_b": 2025},
]


def git(root: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, env={**os.environ, **GIT_ENV})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.fixture()
def repo(tmp_path, monkeypatch):
    """A committed stand-in project in its own git repository."""
    for k, v in GIT_ENV.items():
        monkeypatch.setenv(k, v)
    root = tmp_path / "proj"
    (root / "oml").mkdir(parents=True)
    (root / "notebooks").mkdir()
    (root / ".gitignore").write_text("/_build/\n/book/rapport/\n/data/\n")
    (root / "oml" / "mod.py").write_text("VALUE = 1\n")
    (root / "requirements.txt").write_text("pandas==1\n")
    (root / "notebooks" / "runs.toml").write_text(RUNS)
    git(root, "init", "--quiet", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "start")
    return root


def fake_build(root: Path, numbers: dict, findings: list[dict], data: bytes = b"x\n1\n") -> Path:
    """Write what ``oml build`` leaves behind, then its build record (as its last step does)."""
    files = root / "book" / "rapport" / "files"
    files.mkdir(parents=True, exist_ok=True)
    for old in files.glob("*"):
        old.unlink()
    entries = [{"key": k, "value": v, "text": str(v), "page": k.split("/")[0]} for k, v in numbers.items()]
    (files / "p.numbers.json").write_text(json.dumps(entries))
    pd.DataFrame(findings).to_csv(files / "resultaten-toetsen.csv", index=False)
    html = root / "_build" / "html"
    html.mkdir(parents=True, exist_ok=True)
    (html / "numbers.json").write_text(json.dumps({"numbers": entries, "count": len(entries), "synthetic": True}))
    path = root / "data" / "pupils.csv"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    facts = DataFacts(path.name, file_sha256(path), 1, True, 2023, 2025)
    return write_build_record(Layout(root), facts, str(path))


def test_release_records_exactly_what_was_built_and_commits_it(repo):
    fake_build(repo, OLD_NUMBERS, OLD_FINDINGS)
    head = git(repo, "rev-parse", "HEAD")
    folder = release("2024", note="Eerste editie", root=repo, now="2025-06-01T10:00:00Z")
    meta = json.loads((folder / "edition.json").read_text())
    pub = meta["publications"][0]
    assert pub["commit"] == head and pub["text"] == "Eerste editie" and pub["kind"] == "publication"
    assert pub["data"]["name"] == "pupils.csv"
    assert pub["data"]["sha256"] == file_sha256(repo / "data" / "pupils.csv")
    stored = json.loads((folder / "1" / "numbers.json").read_text())
    assert {k: v for k, v, _ in stored["numbers"]} == OLD_NUMBERS and stored["count"] == len(OLD_NUMBERS)
    assert [k for k, _, _ in stored["numbers"]] == sorted(OLD_NUMBERS)
    assert json.loads((folder / "1" / "findings.json").read_text()) == sorted(OLD_FINDINGS, key=finding_id)
    # Committed: the tree is clean again and the last commit holds only the edition.
    assert recording.dirty_paths(repo) == []
    changed = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert changed and all(p.startswith("editions/2024/") for p in changed)


@pytest.mark.parametrize("dirt", ["modified", "untracked", "staged"])
def test_release_refuses_a_dirty_tree(repo, dirt):
    fake_build(repo, OLD_NUMBERS, OLD_FINDINGS)
    if dirt == "modified":
        (repo / "oml" / "mod.py").write_text("VALUE = 2\n")
    elif dirt == "untracked":
        (repo / "notes.txt").write_text("x")
    else:
        (repo / "extra.py").write_text("x")
        git(repo, "add", "extra.py")
    with pytest.raises(ReleaseError, match="working tree is not clean"):
        release("2024", root=repo)
    assert not (repo / "editions").exists()


def test_ignored_build_output_does_not_count_as_dirty(repo):
    fake_build(repo, OLD_NUMBERS, OLD_FINDINGS)
    (repo / "_build" / "leftover.txt").write_text("x")
    assert recording.dirty_paths(repo) == []
    release("2024", root=repo)


@pytest.mark.parametrize("stale", ["code committed after the build", "data changed", "site replaced", "never built"])
def test_release_refuses_a_stale_build(repo, stale):
    if stale != "never built":
        fake_build(repo, OLD_NUMBERS, OLD_FINDINGS)
    if stale == "code committed after the build":
        (repo / "oml" / "mod.py").write_text("VALUE = 2\n")
        git(repo, "commit", "--quiet", "-am", "change")
    elif stale == "data changed":
        (repo / "data" / "pupils.csv").write_text("x\n2\n")
    elif stale == "site replaced":
        (repo / "_build" / "html" / "numbers.json").write_text("{}")
    match = "no build record" if stale == "never built" else "not current"
    with pytest.raises(ReleaseError, match=match):
        release("2024", root=repo)
    assert not (repo / "editions").exists()


def test_a_build_of_uncommitted_files_is_current_once_they_are_committed(repo):
    # The record fingerprints the files, not the commit: build, commit exactly what was built, release.
    (repo / "oml" / "mod.py").write_text("VALUE = 2\n")
    fake_build(repo, OLD_NUMBERS, OLD_FINDINGS)
    git(repo, "commit", "--quiet", "-am", "change")
    folder = release("2024", root=repo)
    assert json.loads((folder / "edition.json").read_text())["publications"][0]["commit"] == git(repo, "rev-parse", "HEAD~1")


def test_names_and_kinds_are_checked(repo):
    fake_build(repo, OLD_NUMBERS, OLD_FINDINGS)
    with pytest.raises(ReleaseError, match="not allowed"):
        release("../x", root=repo)
    with pytest.raises(ReleaseError, match="no edition '2024' to correct"):
        release("2024", correction="fout", root=repo)
    release("2024", root=repo)
    fake_build(repo, OLD_NUMBERS, OLD_FINDINGS)
    with pytest.raises(ReleaseError, match="already exists.*--correction"):
        release("2024", root=repo)


def test_cli_release_refuses_with_a_message_and_exit_code(repo):
    fake_build(repo, OLD_NUMBERS, OLD_FINDINGS)
    (repo / "notes.txt").write_text("x")
    # Run this worktree's `oml` (cwd) against the stand-in project (OML_ROOT).
    proc = subprocess.run([sys.executable, "-m", "oml.cli", "release", "2024", "--note", "x"], cwd=REPO,
                          env={**os.environ, "OML_ROOT": str(repo)}, capture_output=True, text=True)
    assert proc.returncode == 4
    assert "REFUSED" in proc.stderr and "notes.txt" in proc.stderr and "Traceback" not in proc.stderr


def test_compare_finds_changed_number_flipped_finding_new_group():
    old = Snapshot("editie 2024", {k: (v, str(v)) for k, v in OLD_NUMBERS.items()}, OLD_FINDINGS)
    new = Snapshot("editie 2025", {k: (v, str(v)) for k, v in NEW_NUMBERS.items()}, NEW_FINDINGS)
    c = compare(old, new)
    pupils = next(h for h in c.headlines if h.label == "Leerlingen")
    assert (pupils.old, pupils.new) == (100, 150) and change_text(pupils) == "+50"
    index_2025 = next(h for h in c.headlines if h.label == "Gecorrigeerde index 2025, alle leerlingen")
    assert index_2025.old is ABSENT and change_text(index_2025) == "nieuw"
    # The trend of all pupils: stable through 2024, significantly lower through 2025.
    assert [(f.old.verdict, f.new.verdict) for f in c.changed_findings] == [(Direction.STABLE, Direction.LOWER)]
    assert [(subject(f.new), verdict(f.old), verdict(f.new)) for f in c.changed_findings] == [
        ("alle leerlingen, eerste tegenover laatste jaar", "stabiel (2023–2024)", "lager (2023–2025)")]
    # The same difference between regions in a later year is not a changed conclusion.
    assert not any(f.figure == "verschillen-regio" for f in c.changed_findings)
    assert c.groups_appeared == [("verschillen-regio", "Zuid")] and c.groups_disappeared == []
    assert c.years_appeared == [2025]
    assert (c.numbers_changed, c.numbers_added, c.numbers_removed) == (1, 3, 0)
    back = compare(new, old)
    assert back.groups_disappeared == [("verschillen-regio", "Zuid")] and back.years_disappeared == [2025]


def test_a_between_difference_that_reverses_is_a_changed_conclusion():
    # The estimate is group_b minus group_a (as oml.stats.findings reads it): -0.2 means Noord above Midden.
    reversed_ = [{**OLD_FINDINGS[1], "estimate": 0.2}]
    c = compare(Snapshot("a", {}, OLD_FINDINGS[1:]), Snapshot("b", {}, reversed_))
    assert [(f.old.verdict, f.new.verdict) for f in c.changed_findings] == [("Noord", "Midden")]
    assert [(verdict(f.old), verdict(f.new)) for f in c.changed_findings] == [("Noord hoger (2024)", "Midden hoger (2024)")]
    gone = [{**OLD_FINDINGS[1], "significant": False}]
    c = compare(Snapshot("a", {}, OLD_FINDINGS[1:]), Snapshot("b", {}, gone))
    assert [(f.old.verdict, f.new.verdict) for f in c.changed_findings] == [("Noord", None)]
    assert [verdict(f.new) for f in c.changed_findings] == ["geen significant verschil (2024)"]


def test_a_number_changes_only_when_its_text_or_its_value_beyond_the_tolerance_changes():
    # Floating-point results differ in the last digits between CPUs and BLAS builds (issue: 159 of 550
    # numbers "changed" in the 15th-17th digit on another machine): those are the same published number.
    old = {"a/x": (0.6500998716927024, "0,65"), "a/y": (0.10, "0,10"), "a/z": (0.651, "0,65"), "a/n": (12161, "12.161"),
           "a/s": (None, "•")}
    new = {"a/x": (0.6500998716927029, "0,65"), "a/y": (0.10, "0,1"), "a/z": (0.649, "0,65"), "a/n": (12161, "12.161"),
           "a/s": (None, "•")}
    c = compare(Snapshot("a", old, []), Snapshot("b", new, []))
    assert c.numbers_changed == 2  # y: its text; z: its value beyond 1e-9 (same rounded text)
    assert same_number(old["a/x"], new["a/x"]) and not same_number(old["a/z"], new["a/z"])
    assert not same_number((1.0, "1"), (1.0 + 2e-9, "1"))  # beyond the relative tolerance
    assert compare(Snapshot("a", old, []), Snapshot("b", old, [])).identical


def test_page_shows_editions_comparisons_and_correction_history(repo):
    fake_build(repo, OLD_NUMBERS, OLD_FINDINGS)
    release("2024", note="Gegevens t/m 2024", root=repo, now="2025-06-01T10:00:00Z")
    fake_build(repo, NEW_NUMBERS, NEW_FINDINGS)
    release("2025", note="Gegevens t/m 2025", source="oml synth --until-year 2025", root=repo, now="2026-06-01T10:00:00Z")
    # A code fix changes one number of edition 2025: corrected re-publication.
    (repo / "oml" / "mod.py").write_text("VALUE = 2\n")
    git(repo, "commit", "--quiet", "-am", "fix")
    fixed = {**NEW_NUMBERS, "in-deze-factsheet/n_pupils": 149}
    fake_build(repo, fixed, NEW_FINDINGS)
    fix_commit = git(repo, "rev-parse", "HEAD")
    release("2025", correction="Eén dubbele leerling verwijderd", root=repo, now="2026-07-02T10:00:00Z")
    meta = json.loads((repo / "editions" / "2025" / "edition.json").read_text())
    assert [p["kind"] for p in meta["publications"]] == ["publication", "correction"]
    assert (repo / "editions" / "2025" / "1" / "numbers.json").exists()  # the first publication is kept

    fake_build(repo, fixed, NEW_FINDINGS)  # the current build: the corrected one
    text = versies.page_markdown(repo)
    # For readers first: what changed, in sentences; then the tables; then hashes and commands.
    readers, tables, technical = (text.index(h) for h in ("## Wat is er veranderd", "## Kerngetallen naast elkaar",
                                                          "## Technische gegevens"))
    assert readers < tables < technical
    said = text[readers:tables]
    assert "sha256" not in text[:technical] and "git checkout" not in text[:technical] and "gewijzigd" not in said
    assert "### De huidige versie tegenover editie 2025" in said
    assert "De huidige versie publiceert precies dezelfde getallen en conclusies als editie 2025" in said
    assert "### Editie 2025 tegenover editie 2024" in said
    # A conclusion that changed, new groups and years, and the size of a changed headline number.
    assert ("- Verschillen naar jaar: volgens editie 2024 bleef de index van alle leerlingen van 2023 tot 2024 gelijk; "
            "volgens editie 2025 daalde de index van alle leerlingen van 2023 tot 2025.") in said
    assert "Nieuw in editie 2025: de groep Zuid (Verschillen naar regio)." in said
    assert "Nieuw in editie 2025: het jaar 2025." in said
    assert "- Leerlingen: gestegen van 100 naar 149 (+49)." in said  # 2024 against the corrected 2025
    assert "### Correctie 1 van editie 2025 (2 juli 2026)" in said and "Correctie: Eén dubbele leerling verwijderd" in said
    assert "- Leerlingen: gedaald van 150 naar 149 (−1)." in said
    assert said.index("De huidige versie") < said.index("### Editie 2025") < said.index("### Correctie 1")  # newest first
    assert "| Leerlingen | 100 | 149 | +49 |" in text[tables:technical]
    assert ("| Verschillen naar jaar | alle leerlingen, eerste tegenover laatste jaar | stabiel (2023–2024) "
            "| lager (2023–2025) |") in text[tables:technical]
    assert "| Leerlingen | 150 | 149 | −1 |" in text[tables:technical]
    assert f"alle {len(fixed)} gepubliceerde getallen" in text[technical:]  # current build = corrected 2025
    assert "1 gewijzigd (van de getallen die beide publiceren), 3 nieuw en 0 vervallen" in text[technical:]
    assert "#### Correctie 1 van editie 2025 (2 juli 2026)" in text[technical:]
    assert f"git checkout {fix_commit}" in text and "# gegevens: oml synth --until-year 2025" in text
    assert "Toelichting: Gegevens t/m 2024" in text and "1 juni 2025" in text
    assert text.index("### Editie 2025") < text.index("### Editie 2024")  # newest first
    page = versies.write_page(repo)
    assert page.read_text(encoding="utf-8") == text
    stamp = page.stat().st_mtime_ns
    versies.write_page(repo)
    assert page.stat().st_mtime_ns == stamp  # unchanged content: not rewritten, Sphinx re-reads nothing


def test_a_damaged_edition_record_is_a_clear_build_error(repo):
    from oml.site.messages import BuildError

    fake_build(repo, OLD_NUMBERS, OLD_FINDINGS)
    release("2024", root=repo)
    (repo / "editions" / "2024" / "1" / "numbers.json").write_text("{not json")
    with pytest.raises(BuildError, match="cannot be written.*editions"):
        versies.write_page(repo)


def test_synth_until_year_keeps_only_those_years(tmp_path, default_frame):
    out = tmp_path / "tot-2024.parquet"
    proc = run_oml(REPO, "synth", "--out", str(out), "--until-year", "2024")
    assert proc.returncode == 0, proc.stderr
    from oml.data.io import load

    from oml.data.synth import generate

    part = load(out)
    full = generate()  # `oml synth` writes the long default data (the earlier years included)
    expected = full[full["year"] <= 2024].reset_index(drop=True)
    assert part["year"].max() == 2024 and len(part) == len(expected) < len(full)
    assert part["pupil_id"].tolist() == expected["pupil_id"].tolist()
    proc = run_oml(REPO, "synth", "--out", str(out), "--until-year", "1999")
    assert proc.returncode == 2 and "leaves no pupils" in proc.stderr


@pytest.mark.slow
def test_versies_page_builds_strictly_with_the_demo_editions(site):
    # The site fixture builds the default report in a project copy, with the committed editions/.
    page = site / "_build" / "html" / "book" / "rapport" / "versies.html"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    assert "Versies" in soup.find("h1").get_text()
    text = " ".join(soup.get_text(" ").split())
    demo = [e for e in comparing.load_editions(site) if e.name in ("2024", "2025")]
    assert [e.name for e in demo] == ["2024", "2025"]  # oldest first
    assert "Editie 2025 tegenover editie 2024" in text and "De huidige versie tegenover editie" in text
    assert text.index("Wat is er veranderd") < text.index("Kerngetallen naast elkaar") < text.index("Technische gegevens")
    assert text.index("Technische gegevens") < text.index("sha256")
    for e in demo:
        assert e.latest.commit in text and e.latest.data["sha256"] in text
    # The demo editions differ in their number of pupils; both counts are shown as published.
    n = [e.latest.snapshot().numbers["in-deze-factsheet/n_pupils"][0] for e in demo]
    assert n[0] < n[1]
    from oml.report.text import nl_number

    assert f"Leerlingen {nl_number(n[0])} {nl_number(n[1])} +{nl_number(n[1] - n[0])}" in text
    log = (site / "_build" / "sphinx.log").read_text(encoding="utf-8")
    assert "WARNING" not in log


@pytest.mark.slow
def test_correction_history_builds_strictly_on_the_site(site_copy):
    # A corrected re-publication of the demo edition 2025, written as `oml release --correction` writes it
    # (the project copy has no git, so the release itself is tested above in temporary repositories).
    site = site_copy
    folder = site / "editions" / "2025"
    meta_file = folder / "edition.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    first = meta["publications"][0]
    numbers = json.loads((folder / "1" / "numbers.json").read_text(encoding="utf-8"))
    n_key = "in-deze-factsheet/n_pupils"
    n = next(v for k, v, _ in numbers["numbers"] if k == n_key)
    numbers["numbers"] = [[k, v - 1, t] if k == n_key else [k, v, t] for k, v, t in numbers["numbers"]]
    (folder / "2").mkdir()
    recording.write_numbers(folder / "2" / "numbers.json", {**numbers, "numbers": [
        {"key": k, "value": v, "text": t} for k, v, t in numbers["numbers"]]})
    (folder / "2" / "findings.json").write_bytes((folder / "1" / "findings.json").read_bytes())
    meta["publications"].append({**first, "number": 2, "kind": "correction", "released": "2027-01-05T09:00:00Z",
                                 "text": "Een leerling stond twee keer in de gegevens."})
    meta_file.write_text(json.dumps(meta), encoding="utf-8")
    proc = run_oml(site, "build")
    assert proc.returncode == 0, proc.stderr
    page = site / "_build" / "html" / "book" / "rapport" / "versies.html"
    text = " ".join(BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").get_text(" ").split())
    from oml.report.text import nl_number

    assert "Correctie 1 van editie 2025 (5 januari 2027)" in text
    assert "Correctie: Een leerling stond twee keer in de gegevens." in text
    assert f"Leerlingen {nl_number(n)} {nl_number(n - 1)} −1" in text
    assert "WARNING" not in (site / "_build" / "sphinx.log").read_text(encoding="utf-8")


def test_a_fresh_build_changes_no_published_number_of_edition_2025(site):
    # Edition 2025 (committed) was built from the default data on another machine; this build ran here,
    # perhaps on another CPU and BLAS. The same data must give the same published numbers: the same text
    # and values within 1e-9 (their last digits may differ), and the same conclusions.
    edition = next(e for e in comparing.load_editions(site) if e.name == "2025")
    assert edition.latest.data["default"] and edition.latest.data["synthetic"]
    current = Snapshot("huidige versie", recording.current_numbers(site), recording.current_findings(site))
    c = compare(edition.latest.snapshot(), current)
    # (Numbers and comparisons a later change of the report adds or drops are not changed numbers.)
    assert c.numbers_changed == 0 and c.changed_findings == []
    # ... and the page Versies says so to the reader.
    page = BeautifulSoup((site / "_build" / "html" / "book" / "rapport" / "versies.html").read_text(encoding="utf-8"),
                         "html.parser")
    section = page.find("section", id="de-huidige-versie-tegenover-editie-2025")
    said = " ".join(section.get_text(" ").split()) if section is not None else ""
    assert "Geen enkele conclusie veranderde" in said and "allebei publiceren, veranderde" in said, said
    assert "gestegen" not in said and "gedaald" not in said
    technical = " ".join(page.find("section", id="technische-gegevens").get_text(" ").split())
    assert "De huidige versie tegenover editie 2025: gepubliceerde getallen: 0 gewijzigd" in technical
    assert "{first_year}" not in page.get_text()  # page titles carry the data's years
