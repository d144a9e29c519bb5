"""A delivery as it arrives (tests/realistic_extract.py): several yearly SPSS files, their missing codes,
their wording, a statement not asked in one year, a board merger, rows to exclude; and a Stata variant.

The references are counted straight from the delivered files with pyreadstat, independently of
oml.data.extract.
"""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from oml.data.contract import DataValidationError
from oml.data.delivery import BLANK, NOT_ASKED, delivery_of
from oml.data.extract import load_extract, read_extract, resolve_sources
from oml.data.files import file_sha256
from oml.data.mapfile import Mapping
from oml.paths import ROOT
from realistic_extract import FIVE, FOUR, MAPPING, NOT_ASKED as NOT_ASKED_IN, STATEMENTS, write_delivery


@pytest.fixture(scope="module")
def delivery(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("delivery")
    write_delivery(folder / "levering")
    (folder / "mapping.toml").write_text(MAPPING, encoding="utf-8")
    return folder / "levering", folder / "mapping.toml"


@pytest.fixture(scope="module")
def loaded(delivery):
    files, mapping = delivery
    return load_extract(resolve_sources([files]), mapping)


def _raw(path: Path) -> pd.DataFrame:
    """A delivered file as stored, declared missing codes kept (the reference reading)."""
    return pyreadstat.read_sav(str(path), apply_value_formats=False, user_missing=True)[0]


# --------------------------------------------------------------------------- naming the files
def test_a_folder_a_glob_and_repeated_files_name_the_same_delivery(delivery):
    files, _ = delivery
    by_folder = resolve_sources([files])
    assert [p.name for p in by_folder] == sorted(p.name for p in files.glob("*.sav")) and len(by_folder) == 9
    assert resolve_sources([str(files / "oml-groep8-20*.sav")]) == by_folder
    assert resolve_sources([str(p) for p in by_folder]) == by_folder


def test_a_file_named_twice_or_a_pattern_without_files_is_refused(delivery, tmp_path):
    files, _ = delivery
    with pytest.raises(DataValidationError, match="named 2 times"):
        resolve_sources([files, files / "oml-groep8-2020.sav"])
    with pytest.raises(DataValidationError, match="no file matches this pattern"):
        resolve_sources([str(files / "*.dta")])
    with pytest.raises(DataValidationError, match="the folder holds no data file"):
        resolve_sources([tmp_path])


# --------------------------------------------------------------------------- the delivery read
def test_every_file_is_recorded_and_every_row_is_kept_or_excluded_with_a_reason(delivery, loaded):
    files, _ = delivery
    frame, extract = loaded
    d = delivery_of(frame)
    assert [(f.name, f.sha256, f.rows) for f in d.files] == [
        (p.name, file_sha256(p), len(_raw(p))) for p in sorted(files.glob("*.sav"))]
    assert [(e.rule, e.reason, e.rows) for e in d.exclusions] == [
        ("duplicate_rows", "dubbel geleverde leerling", 1), ("empty (school_id, sex)", "school of geslacht ontbreekt", 4)]
    assert len(frame) == sum(f.rows for f in d.files) - 5  # nothing else dropped
    assert d.mapping.name == "mapping.toml" and d.mapping.text == MAPPING


def test_the_year_comes_from_the_school_year_and_a_school_may_change_board(delivery, loaded):
    files, _ = delivery
    frame, _ = loaded
    per_file = {int(p.stem[-4:]): len(_raw(p)) for p in files.glob("*.sav")}
    counts = frame["year"].value_counts().to_dict()
    assert set(counts) == set(per_file) and all(counts[y] <= per_file[y] for y in per_file)
    boards = frame.groupby("school_id", observed=True)["board_id"].nunique()
    assert boards.max() == 2  # the merger
    assert frame.groupby(["school_id", "year"], observed=True)["board_id"].nunique().max() == 1


def test_declared_missing_codes_are_counted_by_kind_before_they_become_blanks(delivery, loaded):
    files, _ = delivery
    frame, _ = loaded
    d = delivery_of(frame)
    raw = _raw(files / "oml-groep8-2021.sav")  # no row of 2021 is excluded
    kinds = {(m.column, m.kind): m.n for m in d.missing if m.year == 2021}
    for src, (item, _) in STATEMENTS.items():
        assert kinds.get((item, "weet niet"), 0) == int((raw[src] == 8).sum())
        assert kinds.get((item, "geen antwoord"), 0) == int((raw[src] == 9).sum())
        # Not filled in: the declared -1, the undeclared 99 the mapping declares, and blank cells.
        assert kinds.get((item, BLANK), 0) == int(raw[src].isin([-1, 99]).sum() + raw[src].isna().sum())
    assert frame.loc[frame["year"] == 2021, "item_praten"].isin([8, 9, -1, 99]).sum() == 0


def test_a_declared_missing_code_the_mapping_recodes_becomes_a_category(delivery, loaded):
    files, _ = delivery
    frame, _ = loaded
    raw = _raw(files / "oml-groep8-2021.sav")
    expected = int(raw["opleiding_ouders"].isin([-1, 9]).sum())  # -1 recoded; 9 labelled "onbekend"
    assert int((frame.loc[frame["year"] == 2021, "parent_education"] == "onbekend").sum()) == expected


def test_a_statement_not_asked_in_a_year_is_detected(delivery, loaded):
    files, _ = delivery
    frame, _ = loaded
    column, year = NOT_ASKED_IN
    item = STATEMENTS[column][0]
    d = delivery_of(frame)
    assert [(m.column, m.year, m.n) for m in d.missing if m.kind == NOT_ASKED] == [
        (item, year, len(_raw(files / f"oml-groep8-{year}.sav")))]
    assert frame.loc[frame["year"] == year, item].isna().all()


def test_the_extract_s_own_wording_and_answer_labels_travel_with_the_data(tmp_path, loaded):
    frame, _ = loaded
    d = delivery_of(frame)
    assert d.wording == {item: wording for item, wording in STATEMENTS.values()}
    assert d.answer_labels[2020] == {int(k): v for k, v in FOUR.items()}
    assert d.answer_labels[2025] == {int(k): v for k, v in FIVE.items()}
    assert frame.attrs["oml_reverse"] == ["item_vragen"]
    # ... and through the canonical Parquet file the build reads.
    from oml.data.io import load

    path = tmp_path / "canonical.parquet"
    frame.to_parquet(path)
    assert delivery_of(load(path)).wording == d.wording


# --------------------------------------------------------------------------- problems, all at once
def test_without_exclusion_rules_the_bad_rows_are_refused(delivery):
    files, _ = delivery
    cfg = MAPPING.split("[[exclude]]")[0]
    with pytest.raises(DataValidationError) as err:
        load_extract(resolve_sources([files]), Mapping.from_dict(tomllib.loads(cfg)))
    report = err.value.report()
    assert "column 'pupil_id': must be unique" in report
    assert "column 'school_id': must not be empty" in report and "column 'sex': must not be empty" in report
    # Each row is named by its file and its row there.
    assert re.search(r"oml-groep8-\d{4}\.sav rows? \d+", report)


def test_every_problem_of_every_stage_is_reported_at_once_with_its_file_and_row(delivery, tmp_path):
    files, mapping = delivery
    # A second delivery: one file gets an unknown sex label and an answer code nobody declared.
    bad = tmp_path / "bad"
    bad.mkdir()
    for p in sorted(files.glob("*.sav")):
        frame, meta = pyreadstat.read_sav(str(p), apply_value_formats=False, user_missing=True)
        labels = dict(meta.variable_value_labels)
        if p.stem.endswith("2019"):
            frame.loc[3, "rel_gemak"] = 7.0
            frame.loc[6, "geslacht"] = 3.0
            labels["geslacht"] = {**labels["geslacht"], 3.0: "Anders"}
        pyreadstat.write_sav(frame, str(bad / p.name), variable_value_labels=labels,
                             missing_ranges={c: [8.0, 9.0, -1.0] for c in STATEMENTS if c in frame})
    text = mapping.read_text(encoding="utf-8").replace('[columns]\n', '[columns]\nbestaat_niet = "school_name"\n')
    (tmp_path / "m.toml").write_text(text, encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        load_extract(resolve_sources([bad]), tmp_path / "m.toml")
    report = err.value.report()
    assert "m.toml [columns] bestaat_niet: unknown column" in report  # the mapping
    assert "value label(s) 'Anders' match no category" in report and "oml-groep8-2019.sav row 7" in report  # labels
    assert re.search(r"column 'item_gemak': must lie between 1 and 4 .*oml-groep8-2019\.sav row 4\b", report)  # scale


def test_a_recode_entry_that_matches_nothing_is_a_warning(delivery):
    files, _ = delivery
    text = MAPPING.replace('[recode.parent_education]\n', '[recode.parent_education]\n7 = "wo"\n')
    extract = read_extract(resolve_sources([files]), Mapping.from_dict(tomllib.loads(text)))
    assert extract.warnings == ["[recode.parent_education] 7: matches no cell of the extract"]


def test_a_stata_delivery_reads_through_the_mapping_that_declares_its_missing_codes(tmp_path):
    write_delivery(tmp_path / "stata", kind="dta")
    plain = Mapping.from_dict(tomllib.loads(MAPPING))
    with pytest.raises(DataValidationError, match="must lie between 1 and 4"):  # 8, 9, -1: not declared in Stata
        load_extract(resolve_sources([tmp_path / "stata"]), plain)
    text = MAPPING.replace('99 = "niet ingevuld"', '99 = "niet ingevuld"\n8 = "weet niet"\n9 = "geen antwoord"\n-1 = "niet ingevuld"')
    frame, _ = load_extract(resolve_sources([tmp_path / "stata"]), Mapping.from_dict(tomllib.loads(text)))
    kinds = {m.kind for m in delivery_of(frame).missing}
    assert {"weet niet", "geen antwoord", BLANK, NOT_ASKED} <= kinds


# --------------------------------------------------------------------------- the command line
def _oml(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oml.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "OML_ROOT": str(ROOT)})


def test_validate_prints_each_file_the_exclusions_and_the_missing_answers(delivery):
    files, mapping = delivery
    result = _oml("validate", str(files), "--mapping", str(mapping), cwd=files.parent)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("9 files: valid (real data)")
    assert re.search(r"oml-groep8-2020\.sav: [\d,]+ rows; 8 contract columns, 5 statements", out)
    assert "excluded: 1 row(s) by rule duplicate_rows: dubbel geleverde leerling" in out
    assert "not asked: item_interesse in 2020" in out and "weet niet" in out
    assert re.search(r"board change: school BRIN\d+: \d+ -> 999 in 2024", out)  # the merger, reported


def test_convert_writes_the_canonical_file_with_its_delivery(delivery, tmp_path):
    files, mapping = delivery
    out = tmp_path / "canonical.parquet"
    result = _oml("convert", "--data", *map(str, sorted(files.glob("*.sav"))), "--mapping", str(mapping), "--out", str(out),
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    frame = pd.read_parquet(out)
    assert len(delivery_of(frame).files) == 9 and "item_vragen" in frame.columns
    refused = _oml("convert", "--data", str(files), "--out", str(tmp_path / "x.csv"), cwd=tmp_path)
    assert refused.returncode == 2 and "must end in .parquet" in refused.stderr
