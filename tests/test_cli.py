"""Tests of the ``oml`` command line, run as a user runs it: a separate process.

Every expected failure must end with a clear message on stderr and a non-zero exit code,
never a Python traceback.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from oml.cli import EXIT_BUILD_FAILED, EXIT_INVALID
from oml.data.io import save
from oml.data.synth import generate, load_config

CFG = load_config()


def oml(*args: str, cwd) -> subprocess.CompletedProcess:
    """Run ``python -m oml.cli ARGS`` in ``cwd`` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "oml.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _assert_clean_failure(result: subprocess.CompletedProcess, code: int = EXIT_INVALID) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip(), "a failure must say why on stderr"


# --------------------------------------------------------------------------- synth + validate
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_synth_then_validate(tmp_path, suffix, long_data):
    name = f"x{suffix}"
    made = oml("synth", "--out", name, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert (tmp_path / name).is_file()

    checked = oml("validate", name, cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    lines = checked.stdout.strip().splitlines()
    assert len(lines) == 1, checked.stdout
    summary = lines[0]
    assert "valid" in summary
    assert "synthetic" in summary
    # The default N of the factsheet period plus the earlier years of the config.
    assert f"{len(long_data):,} pupils" in summary
    for year in [*CFG["years"], *CFG["history"]["years"]]:
        assert str(year) in summary
    assert "Traceback" not in checked.stderr


def test_synth_respects_n(tmp_path):
    made = oml("synth", "--out", "small.csv", "--n", "123", "--seed", "4", "--no-history", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    checked = oml("validate", "small.csv", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "123 pupils" in checked.stdout


@pytest.mark.parametrize("name", ["x.txt", "x"])
def test_synth_refuses_unsupported_output(tmp_path, name):
    result = oml("synth", "--out", name, cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "--out must end in .csv or .parquet" in result.stderr
    assert not (tmp_path / name).exists()


def test_synth_same_seed_identical_bytes_different_seed_different(tmp_path):
    for name, seed in [("a.csv", "1"), ("b.csv", "1"), ("c.csv", "2")]:
        result = oml("synth", "--out", name, "--seed", seed, "--n", "500", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    a, b, c = ((tmp_path / n).read_bytes() for n in ("a.csv", "b.csv", "c.csv"))
    assert a == b
    assert a != c



# --------------------------------------------------------------------------- validate failures
def _csv_with(tmp_path, name: str, n: int, column: str, rows: tuple[int, ...], value: str):
    """Synthetic data as CSV with ``value`` written into ``column`` at the given 1-based data rows."""
    path = tmp_path / name
    save(generate(n=n, seed=2, history=False), path)
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    for data_row in rows:
        cells = lines[data_row].split(",")
        cells[header.index(column)] = value
        lines[data_row] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_validate_bad_file_reports_without_traceback(tmp_path):
    _csv_with(tmp_path, "bad.csv", 50, "item_praten", (2, 7), "9")
    result = oml("validate", "bad.csv", cwd=tmp_path)
    _assert_clean_failure(result)
    assert "item_praten" in result.stderr
    assert "rows" in result.stderr
    assert "(rows 2, 7)" in result.stderr
    assert "valid (" not in result.stdout  # nothing claims success



def test_validate_non_existent_path(tmp_path):
    result = oml("validate", "nowhere.csv", cwd=tmp_path)
    _assert_clean_failure(result)
    assert "nowhere.csv" in result.stderr
    assert "does not exist" in result.stderr


def test_validate_unsupported_file(tmp_path):
    (tmp_path / "data.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    result = oml("validate", "data.xlsx", cwd=tmp_path)
    _assert_clean_failure(result)
    assert "unsupported file type" in result.stderr



# --------------------------------------------------------------------------- help
def test_help_lists_the_commands(tmp_path):
    result = oml("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: oml")
    for command in ("validate", "synth", "build"):
        assert command in result.stdout


def test_no_command_is_a_usage_error(tmp_path):
    result = oml(cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "usage: oml" in result.stderr


# --------------------------------------------------------------------------- formerly bugs, fixed
def test_validate_infinite_year_reports_without_traceback(tmp_path):
    _csv_with(tmp_path, "inf.csv", 20, "year", (1,), "inf")
    result = oml("validate", "inf.csv", cwd=tmp_path)
    _assert_clean_failure(result)
    assert "year" in result.stderr


def test_synth_zero_n_fails_cleanly(tmp_path):
    result = oml("synth", "--out", "x.csv", "--n", "0", cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "--n" in result.stderr or "n must" in result.stderr


# --------------------------------------------------------------------------- build through a mapping
def test_build_refuses_an_invalid_extract_through_a_mapping(tmp_path):
    # Was a NameError traceback (an `except` naming a class it never imported); now the plain report.
    from conftest import copy_project, run_oml

    root = copy_project(tmp_path / "project")
    extract = tmp_path / "extract.csv"
    extract.write_text("leerlingnummer,brin_vestiging,meetjaar\n1,BRIN01,2025\n", encoding="utf-8")
    result = run_oml(root, "build", "--data", str(extract), "--mapping", str(root / "examples" / "oml-extract-mapping.toml"),
                     "--skip-feedback")
    _assert_clean_failure(result, code=EXIT_BUILD_FAILED)
    assert "invalid input data; the site was not changed" in result.stderr
    assert "oml-extract-mapping.toml" in result.stderr and "no column 'rel_praten'" in result.stderr
    assert not (root / "_build" / "html").exists()


def test_a_repeated_data_option_keeps_every_file():
    # Was: a repeated --data silently kept only the last file.
    from oml.cli import parser

    args = parser().parse_args(["build", "--data", "a.sav", "--data", "b.sav", "c.sav", "--mapping", "m.toml"])
    assert args.data == ["a.sav", "b.sav", "c.sav"] and args.mapping == "m.toml"
    assert parser().parse_args(["reports", "--data", "x", "--data", "y", "--codes", "C", "--out", "O"]).data == ["x", "y"]


def test_no_pdf_is_an_option_of_build():
    # `oml build --no-pdf` builds everything but the PDF edition (oml.site.build); the full build without Pango,
    # where the PDF is skipped by itself, is tests/site/test_portable.py.
    from oml.cli import parser

    assert parser().parse_args(["build", "--no-pdf"]).no_pdf is True
    assert parser().parse_args(["build"]).no_pdf is False


def test_an_unknown_engine_fails_the_build_cleanly(tmp_path):
    # OML_ENGINE names the notebook engine (oml.site.engine.engine_mode); a typo is a message, not a traceback.
    import os

    env = {**os.environ, "OML_ENGINE": "threads", "OML_ROOT": str(tmp_path)}
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "runs.toml").write_text('[[run]]\ntemplate = "t.ipynb"\npage = "t"\ntitle = "T"\n')
    (tmp_path / "requirements.txt").write_text("pandas==1\n")
    data = tmp_path / "d.csv"
    save(generate(n=400, history=False), data)
    result = subprocess.run([sys.executable, "-m", "oml.cli", "build", "--data", str(data)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    _assert_clean_failure(result, EXIT_BUILD_FAILED)
    assert "OML_ENGINE='threads' is not one of auto, fork, spawn" in result.stderr


def test_termination_handlers_keep_an_ignored_hangup_and_fire_once():
    # `nohup oml build &` ignores SIGHUP on purpose: the command must keep it ignored. SIGTERM gets the clean exit,
    # and after the first stop both are ignored, so a second one cannot cut the clean-up short.
    import signal
    import threading

    from oml.cli import exit_cleanly_on_termination

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers can only be set in the main thread")
    saved = {n: signal.getsignal(n) for n in (signal.SIGTERM, signal.SIGHUP)}
    try:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        old = exit_cleanly_on_termination()
        assert set(old) == {signal.SIGTERM} and signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
        handler = signal.getsignal(signal.SIGTERM)
        with pytest.raises(SystemExit) as stopped:
            handler(signal.SIGTERM, None)
        assert stopped.value.code == 128 + signal.SIGTERM
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)
        import oml.site.runner

        oml.site.runner.EngineClient.terminating = False
