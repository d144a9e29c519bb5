"""``oml reports``: codes file, output folder, rotation and clean failures.

The report content is another module's job; here ``oml.site.unit_reports.render_reports`` is replaced by the
sample reports, so the command's own work (codes, encryption, folder) is what is tested.
"""
from __future__ import annotations



import pytest

import oml.site.unit_reports as feedback_site
from oml.access.codes import display, read_codes
from oml.access.crypto import locator
from oml.cli import EXIT_INVALID, main
from oml.paths import ROOT
from sample_reports import SAMPLES, documents


@pytest.fixture
def samples(monkeypatch):
    seen = []

    def render(data=None, before_execute=None, mapping=None, **options):
        seen.append((data, mapping))
        docs = documents()
        if before_execute is not None:  # as the real one: the reports are known before any executes
            before_execute(list(docs))
        return docs

    monkeypatch.setattr(feedback_site, "render_reports", render)
    return seen


def test_reports_writes_the_folder_and_the_codes_file(tmp_path, samples, capsys):
    codes_path, out = tmp_path / "CODES.csv", tmp_path / "out"
    assert main(["reports", "--data", "x.csv", "--mapping", "m.toml", "--codes", str(codes_path), "--out", str(out)]) == 0
    assert samples == [(["x.csv"], "m.toml")]  # the same delivery and mapping as `oml build` takes
    codes = read_codes(codes_path)
    assert set(codes) == {s[:2] for s in SAMPLES}
    assert sorted(p.name for p in out.iterdir()) == sorted(["index.html"] + [f"{locator(c)}.html" for c in codes.values()])
    assert 'class="oml-synthetic-banner"' in (out / "index.html").read_text()  # SYN- ids: synthetic notice
    printed = capsys.readouterr().out
    assert f"{len(SAMPLES)} reports" in printed and f"{len(SAMPLES)} new codes" in printed
    assert not any(display(c) in printed or c in printed for c in codes.values())  # logs never show codes

    assert main(["reports", "--codes", str(codes_path), "--out", str(out), "--rotate", SAMPLES[3][1]]) == 0
    rotated = read_codes(codes_path)
    changed = {k for k in codes if codes[k] != rotated[k]}
    assert changed == {SAMPLES[3][:2]}
    assert "1 rotated" in capsys.readouterr().out


def test_bad_codes_file_is_a_message_not_a_traceback(tmp_path, samples, capsys):
    codes_path = tmp_path / "CODES.csv"
    codes_path.write_text("kind,id,code\nschool,A,NOT-A-CODE\n")
    assert main(["reports", "--codes", str(codes_path), "--out", str(tmp_path / "out")]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "column 'code': must be 20 symbols" in err and "(rows 1)" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_failed_run_hands_out_no_code(tmp_path, monkeypatch, capsys):
    # The keys are begun before the reports execute; the codes file is written only when they are published.
    from oml.cli import EXIT_BUILD_FAILED
    from oml.site.messages import BuildError

    def render(data=None, before_execute=None, **options):
        before_execute(list(documents()))
        raise BuildError("notebook terugkoppeling.ipynb (school-x) failed")

    monkeypatch.setattr(feedback_site, "render_reports", render)
    codes_path = tmp_path / "CODES.csv"
    assert main(["reports", "--codes", str(codes_path), "--out", str(tmp_path / "out")]) == EXIT_BUILD_FAILED
    assert "FAILED: notebook terugkoppeling.ipynb (school-x) failed" in capsys.readouterr().err
    assert not codes_path.exists() and not (tmp_path / "out").exists()


def test_unknown_rotation_is_refused(tmp_path, samples, capsys):
    assert main(["reports", "--codes", str(tmp_path / "C.csv"), "--out", str(tmp_path / "o"), "--rotate", "NOPE"]) == EXIT_INVALID
    assert "--rotate NOPE: no school or board" in capsys.readouterr().err


@pytest.mark.parametrize("option, inside", [
    ("--out", "_build/html/terugkoppeling-test"),      # the site itself
    ("--out", "_build/feedback-site/terugkoppeling"),  # the demo folder the build copies into the site
    ("--codes", "book/_static/CODES.csv"),            # published with the book's static files
    ("--codes", "book/terugkoppeling/demo-codes.csv"),  # the demo codes: listed on the public page
])
def test_reports_and_codes_never_go_into_the_project(tmp_path, samples, capsys, option, inside):
    paths = {"--out": str(tmp_path / "out"), "--codes": str(tmp_path / "C.csv"), option: str(ROOT / inside)}
    before = (ROOT / inside).exists()
    assert main(["reports", "--codes", paths["--codes"], "--out", paths["--out"]]) == EXIT_INVALID
    assert "lies inside the project" in capsys.readouterr().err
    assert (ROOT / inside).exists() == before and samples == []  # refused before anything ran


@pytest.mark.slow
def test_render_reports_gives_one_document_per_school_and_board(tmp_path):
    """Every school and board of a small synthetic dataset gets a document (through the engine, in a copy
    of the project), and ``oml reports`` publishes them."""
    from conftest import copy_project, run_oml
    from oml.data.io import save
    from oml.data.synth import generate

    frame = generate(n=1500, seed=3, history=False)
    data = tmp_path / "small.parquet"
    save(frame, data)
    root = copy_project(tmp_path / "project")
    import tempfile

    private = tmp_path / "tmp"  # this run's temporary folder: other runs' private folders do not count
    private.mkdir()
    old, tempfile.tempdir = tempfile.tempdir, str(private)
    try:
        docs = feedback_site.render_reports(data, root=root)
    finally:
        tempfile.tempdir = old
    # Nothing private stays behind: no unencrypted report in the project, the private folder removed.
    assert not (root / "_build").exists() or not any((root / "_build").rglob("*.ipynb"))
    assert list(private.iterdir()) == []
    expected = {("school", s) for s in frame["school_id"].astype(str).unique()}
    expected |= {("board", b) for b in frame["board_id"].dropna().astype(str).unique()}
    assert set(docs) == expected
    assert all(d.lstrip().startswith("<!DOCTYPE html>") for d in docs.values())
    proc = run_oml(root, "reports", "--data", str(data), "--codes", str(tmp_path / "C.csv"), "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    assert len(list((tmp_path / "out").glob("*.html"))) == len(expected) + 1


@pytest.mark.slow
def test_a_terminated_run_leaves_nothing_private_behind(tmp_path):
    """SIGTERM (a scheduler's stop, a closed terminal's SIGHUP alike) while reports execute: the command ends
    through its cleanup, so the private folder with the unencrypted reports is removed and no code is handed out."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from conftest import copy_project
    from oml.data.io import save
    from oml.data.synth import generate

    data = tmp_path / "small.parquet"
    save(generate(n=1500, seed=3, history=False), data)
    root = copy_project(tmp_path / "project")
    private = tmp_path / "tmp"  # the run's temporary folder (TMPDIR), where its private folder goes
    private.mkdir()
    env = {**os.environ, "OML_ROOT": str(root), "PYTHONPATH": str(root), "TMPDIR": str(private)}
    codes, out = tmp_path / "CODES.csv", tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "oml.cli", "reports", "--data", str(data), "--codes", str(codes),
                             "--out", str(out)], cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        deadline, executed = time.monotonic() + 300, []
        while time.monotonic() < deadline and proc.poll() is None and not executed:
            executed = list(private.glob("oml-private-*/**/*.ipynb"))  # an unencrypted report exists now
            time.sleep(0.1)
        assert executed and proc.poll() is None, "no report was being made to interrupt"
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, output
    assert list(private.glob("oml-private-*")) == [], output
    assert not codes.exists() and not out.exists()
