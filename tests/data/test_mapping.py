"""Mapping files (:mod:`oml.data.mapping`): the real extract as it comes, in its own names and codes.

The round trips write the synthetic data the way an OML extract looks (Dutch column names,
numeric codes, SPSS value labels, a reverse-worded statement) and read them back through the
committed example mapping: the result must be exactly the contract's frame.
"""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import numpy as np
import pandas as pd
import pytest

from oml.data import scales
from oml.data.contract import CATEGORIES, reversed_items, validate
from oml.data.extract import load_extract
from oml.data.io import load
from oml.data.mapping import Mapping, MappingError
from oml.data.synth import generate
from oml.paths import ROOT

EXAMPLE = ROOT / "examples" / "oml-extract-mapping.toml"
CFG = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def contract_frame(n: int = 300, seed: int = 4) -> pd.DataFrame:
    """Synthetic data (both scale periods) plus a reverse-worded statement: the mirror of item_gemak."""
    frame = generate(n=n, seed=seed)
    mirror = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    for scale, part in scales.periods(frame):
        mirror.loc[part.index] = scale.lowest + scale.highest - part["item_gemak"]
    return frame.assign(item_afstand=mirror)


def _load(path, mapping) -> pd.DataFrame:
    """One extract file through a mapping (oml.data.extract, as `oml validate` and `oml build` read it)."""
    return load_extract([path], mapping)[0]


def as_extract(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The frame in the example mapping's extract names and codes, with SPSS-style value labels."""
    to_extract = {dst: src for src, dst in CFG["columns"].items()}
    out = frame.rename(columns=to_extract)
    labels = {}
    for column, table in CFG["recode"].items():
        code = {value: float(k) for k, value in table.items()}
        out[to_extract[column]] = frame[column].astype(object).map(code).astype("float64")
        labels[to_extract[column]] = {float(k): v.capitalize() for k, v in table.items()}
    out["meetjaar"] = out["meetjaar"].astype("float64")
    for c in CFG["scale"]["items"]:
        out[c] = out[c].astype("float64")
    return out, labels


def test_example_mapping_is_valid_and_documents_every_section():
    m = Mapping.read(EXAMPLE)
    assert set(CFG) == {"columns", "recode", "scale", "missing", "wording", "answers", "exclude"}
    assert m.wording_of("item_afstand") and m.missing_codes("item_praten", is_item=True)
    assert m.reverse == ["rel_afstand"]
    assert all(m.columns[i].startswith("item_") for i in m.items)


@pytest.mark.parametrize("suffix", [".csv", ".sav"])
def test_round_trip_through_the_example_mapping(tmp_path, suffix):
    import pyreadstat

    original = contract_frame()
    extract, labels = as_extract(original)
    path = tmp_path / f"extract{suffix}"
    if suffix == ".csv":
        extract.to_csv(path, index=False)
    else:
        pyreadstat.write_sav(extract, str(path), variable_value_labels=labels)
    loaded = _load(path, EXAMPLE)
    expected = validate(original)
    pd.testing.assert_frame_equal(loaded, expected)
    assert reversed_items(loaded) == ["item_afstand"]


def test_reverse_mark_survives_parquet_and_reaches_the_index(tmp_path):
    from oml.data.io import save
    from oml.stats.index import raw_index

    extract, _ = as_extract(contract_frame())
    extract.to_csv(tmp_path / "x.csv", index=False)
    loaded = _load(tmp_path / "x.csv", EXAMPLE)
    save(loaded, tmp_path / "x.parquet")
    again = load(tmp_path / "x.parquet")
    assert reversed_items(again) == ["item_afstand"]
    # Reference: the mirror item reverse-coded is item_gemak again, so the index equals the one with a plain copy.
    plain = again.assign(item_afstand=again["item_gemak"])
    plain.attrs = {}
    pd.testing.assert_series_equal(raw_index(again), raw_index(plain))


def test_labels_apply_when_a_column_has_no_recode(tmp_path):
    import pyreadstat

    cfg = {k: (dict(v) if isinstance(v, dict) else list(v)) for k, v in CFG.items()}
    cfg["recode"] = {k: v for k, v in CFG["recode"].items() if k != "sex"}
    extract, labels = as_extract(contract_frame(n=60))
    path = tmp_path / "x.sav"
    pyreadstat.write_sav(extract, str(path), variable_value_labels=labels)
    loaded = _load(path, Mapping.from_dict(cfg))
    assert set(loaded["sex"].astype(str)) == set(CATEGORIES["sex"])  # via the labels "Jongen"/"Meisje"


# --------------------------------------------------------------------------- mistakes in the mapping
def _cfg(**changes) -> dict:
    cfg = {"columns": dict(CFG["columns"]), "recode": {k: dict(v) for k, v in CFG["recode"].items()},
           "scale": {k: list(v) for k, v in CFG["scale"].items()}}
    for path, value in changes.items():
        section, _, key = path.partition("__")
        if value is None:
            cfg[section].pop(key)
        else:
            cfg[section][key] = value
    return cfg


@pytest.mark.parametrize("cfg, entry, rule", [
    (_cfg(columns__leerlingnr="pupil_id"), "[columns] leerlingnummer, leerlingnr", "duplicate target: all map to 'pupil_id'"),
    (_cfg(scale__reverse=["rel_onbekend"]), "[scale] reverse rel_onbekend", "an item not on the scale"),
    (_cfg(columns__rel_extra="item_extra"), "[columns] rel_extra", "'item_extra' is an item not on the scale"),
    (_cfg(scale__items=[*CFG["scale"]["items"], "leeftijd"]), "[scale] items leeftijd", "needs a [columns] entry naming its 'item_…' column"),
    (_cfg(recode__sex={"1": "jongen", "2": ""}), "[recode.sex] 2", "declare a missing code in [missing.sex] instead"),
    (_cfg(recode__sex={"1": "jongen", "2": 1.5}), "[recode.sex] 2", "a code without a value"),
    ({**_cfg(), "kolommen": {}}, "[kolommen]", "unknown section"),
])
def test_broken_mapping_names_the_entry(cfg, entry, rule):
    with pytest.raises(MappingError) as err:
        Mapping.from_dict(cfg, "m.toml")
    report = err.value.report()
    assert report.startswith("m.toml: the mapping file does not fit")
    assert f"- {entry}: {rule}" in report, report


def test_unknown_extract_column_names_the_entry_and_the_columns_there_are():
    extract, _ = as_extract(contract_frame(n=30))
    m = Mapping.from_dict(_cfg(columns__leerlingnr="leerling"), "m.toml")
    with pytest.raises(MappingError, match=re.escape("- [columns] leerlingnr: unknown column: the extract has no column 'leerlingnr' (it has leerlingnummer, ")):
        m.apply(extract)


def test_code_in_the_data_without_a_value_names_entry_code_and_rows():
    extract, _ = as_extract(contract_frame(n=30))
    extract.loc[[4, 9], "geslacht"] = 3.0
    m = Mapping.from_dict(_cfg(), "m.toml")
    with pytest.raises(MappingError, match=re.escape("- [recode.sex]: a code without a value: code(s) 3 occur in the data: 2 rows (rows 5, 10)")):
        m.apply(extract)


def test_rename_onto_an_existing_column_is_a_duplicate_target():
    extract, _ = as_extract(contract_frame(n=30))
    extract["pupil_id"] = "x"
    with pytest.raises(MappingError, match=re.escape("- [columns] leerlingnummer: duplicate target: the extract already has a column 'pupil_id'")):
        Mapping.from_dict(_cfg(), "m.toml").apply(extract)


def test_statement_column_not_on_the_scale_is_refused():
    extract, _ = as_extract(contract_frame(n=30))
    extract["item_los"] = 3.0
    with pytest.raises(MappingError, match=re.escape("- column item_los: an item not on the scale")):
        Mapping.from_dict(_cfg(), "m.toml").apply(extract)


def test_unreadable_mapping_file(tmp_path):
    bad = tmp_path / "m.toml"
    bad.write_text("[columns\nx = 1\n", encoding="utf-8")
    with pytest.raises(MappingError, match="cannot be read as TOML"):
        Mapping.read(bad)
    with pytest.raises(MappingError, match="mapping file does not exist"):
        Mapping.read(tmp_path / "missing.toml")


def test_answer_outside_its_years_scale_after_mapping_is_a_contract_error(tmp_path):
    from oml.data.contract import DataValidationError

    extract, _ = as_extract(contract_frame(n=60))
    row = int(np.flatnonzero(extract["meetjaar"].to_numpy() < 2023)[0])
    extract.loc[row, "rel_praten"] = 5.0
    extract.to_csv(tmp_path / "x.csv", index=False)
    with pytest.raises(DataValidationError, match=re.escape(f"column 'item_praten': must lie between 1 and 4 (the 4-point scale of 2017–2022): 1 row (rows {row + 1})")):
        _load(tmp_path / "x.csv", EXAMPLE)


# --------------------------------------------------------------------------- the command line
def _oml(*args, cwd):
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "oml.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


def test_cli_validate_with_mapping(tmp_path):
    extract, _ = as_extract(contract_frame(n=80))
    extract.to_csv(tmp_path / "x.csv", index=False)
    ok = _oml("validate", "x.csv", "--mapping", str(EXAMPLE), cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "valid" in ok.stdout
    without = _oml("validate", "x.csv", cwd=tmp_path)
    assert without.returncode == 2 and "required column is missing" in without.stderr
    (tmp_path / "m.toml").write_text('[columns]\nnope = "pupil_id"\n', encoding="utf-8")
    bad = _oml("validate", "x.csv", "--mapping", "m.toml", cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "[columns] nope: unknown column" in bad.stderr
