"""Tests of reading and writing pupil data: :mod:`oml.data.io`.

Round trips through every supported format must give back exactly the generated frame;
every unreadable, empty or unsupported file must end in a
:class:`~oml.data.contract.DataValidationError` with a clear message — never another exception type.
"""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from oml.data.contract import CATEGORIES, DataValidationError, item_columns
from oml.data.io import SUPPORTED, file_sha256, load, read_raw, save
from oml.data.synth import generate

STATS_FORMATS = (".dta", ".sav")
WRITERS = {".dta": pyreadstat.write_dta, ".sav": pyreadstat.write_sav}
READERS = {".dta": pyreadstat.read_dta, ".sav": pyreadstat.read_sav}


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    # Its own data: 500 pupils without the index, small enough to write in every format many times.
    return generate(n=500, seed=7, history=False)


def _coded(frame: pd.DataFrame, labels: dict[str, dict[float, str]]) -> pd.DataFrame:
    """``frame`` as a statistics package stores it: categories as numeric codes, numbers as doubles.

    ``labels`` maps a column to {code: value label}; each label's code replaces the canonical value
    it stands for (matched by the canonical category at the same position).
    """
    out = frame.copy()
    for column, allowed in CATEGORIES.items():
        mapping = labels[column]
        code_of = {canonical: code for canonical, code in zip(allowed, mapping)}
        out[column] = out[column].astype(str).map(code_of).astype("float64")
    for c in ["year", *item_columns(out.columns)]:
        out[c] = out[c].astype("float64")
    for c in ("pupil_id", "school_id"):
        out[c] = out[c].astype(str)
    return out


def _canonical_labels() -> dict[str, dict[float, str]]:
    return {column: {float(i + 1): value for i, value in enumerate(allowed)} for column, allowed in CATEGORIES.items()}


# --------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("suffix", SUPPORTED)
def test_round_trip_gives_back_the_generated_frame(small, tmp_path, suffix):
    path = tmp_path / f"pupils{suffix}"
    save(small, path)
    assert path.stat().st_size > 0
    loaded = load(path)
    # Exact: same rows, order, values, missing answers and canonical dtypes.
    pd.testing.assert_frame_equal(loaded, small, check_dtype=True)


def test_round_trip_of_the_full_default_data_as_csv(default_frame, tmp_path):
    path = tmp_path / "oml.csv"
    save(default_frame, path)
    pd.testing.assert_frame_equal(load(path), default_frame, check_dtype=True)


def test_round_trip_preserves_missing_answers(small, tmp_path):
    items = item_columns(small.columns)
    assert small[items].isna().to_numpy().any(), "the test needs blank answers in the data"
    path = tmp_path / "pupils.csv"
    save(small, path)
    loaded = load(path)
    assert (loaded[items].isna().to_numpy() == small[items].isna().to_numpy()).all()


def test_save_accepts_uppercase_suffix(small, tmp_path):
    path = tmp_path / "PUPILS.CSV"
    save(small, path)
    pd.testing.assert_frame_equal(load(path), small)


def test_save_creates_missing_folders(small, tmp_path):
    path = tmp_path / "a" / "b" / "pupils.parquet"
    save(small, path)
    assert path.is_file()


def test_save_refuses_unsupported_format(small, tmp_path):
    with pytest.raises(ValueError, match=r"cannot write '\.xlsx'.*\.csv"):
        save(small, tmp_path / "pupils.xlsx")


def test_parquet_output_is_byte_identical_for_the_same_data(small, tmp_path):
    # save() promises no index and no creation time: same data, same bytes (the cache relies on it).
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    save(small, a)
    save(small.copy(), b)
    assert a.read_bytes() == b.read_bytes()


# --------------------------------------------------------------------------- value labels
@pytest.mark.parametrize("suffix", STATS_FORMATS)
def test_saved_categories_are_labelled_codes(small, tmp_path, suffix):
    path = tmp_path / f"pupils{suffix}"
    save(small, path)
    frame, meta = READERS[suffix](str(path), apply_value_formats=False)
    for column, allowed in CATEGORIES.items():
        assert pd.api.types.is_numeric_dtype(frame[column]), column
        labels = meta.variable_value_labels[column]
        assert sorted(labels.values()) == sorted(allowed)
        decoded = frame[column].map(labels)
        assert decoded.tolist() == small[column].astype(str).tolist()


@pytest.mark.parametrize("suffix", STATS_FORMATS)
def test_value_labels_written_by_a_statistics_package_map_to_categories(small, tmp_path, suffix):
    # Labels as a colleague's Stata/SPSS export might have them: other case, plural, synonyms,
    # other codes. Listed in the order of CATEGORIES so each label stands for that category.
    labels = {
        "sex": {10.0: "Jongens", 20.0: "MEISJE"},
        "parent_education": {1.0: "mbo/lager", 2.0: "HBO", 3.0: "universiteit", 9.0: "Onbekend"},
        "region": {1.0: "Noord-Limburg", 2.0: "midden-limburg", 3.0: "Sittard-Geleen",
                   4.0: "MAASTRICHT-HEUVELLAND", 5.0: "Parkstad"},
    }
    path = tmp_path / f"export{suffix}"
    WRITERS[suffix](_coded(small, labels), str(path), variable_value_labels=labels)
    pd.testing.assert_frame_equal(load(path), small, check_dtype=True)


@pytest.mark.parametrize("suffix", STATS_FORMATS)
def test_categories_stored_as_text_are_read_too(small, tmp_path, suffix):
    out = _coded(small, _canonical_labels())
    for column in CATEGORIES:
        out[column] = small[column].astype(str).str.upper()
    path = tmp_path / f"text{suffix}"
    WRITERS[suffix](out, str(path))
    pd.testing.assert_frame_equal(load(path), small)


def test_unknown_value_label_names_column_label_and_rows(small, tmp_path):
    labels = _canonical_labels()
    labels["sex"] = {1.0: "jongen", 2.0: "meisje", 3.0: "anders"}
    out = _coded(small, labels)
    bad_rows = [2, 5]  # 1-based data rows
    out.loc[[r - 1 for r in bad_rows], "sex"] = 3.0
    path = tmp_path / "anders.sav"
    pyreadstat.write_sav(out, str(path), variable_value_labels=labels)
    with pytest.raises(
        DataValidationError, match=r"column 'sex': value label\(s\) 'anders' match no category.*: 2 rows \(rows 2, 5\)"
    ) as err:
        load(path)
    assert str(err.value).startswith(str(path))
    assert [p.column for p in err.value.problems] == ["sex"]


def test_unlabelled_code_is_not_loaded(small, tmp_path):
    # A code without a value label must not pass as data; it is reported for column 'sex'.
    labels = _canonical_labels()
    out = _coded(small, labels)
    out.loc[0, "sex"] = 7.0
    path = tmp_path / "code7.sav"
    pyreadstat.write_sav(out, str(path), variable_value_labels=labels)
    with pytest.raises(DataValidationError, match=r"column 'sex': .*1 row \(rows 1\)"):
        load(path)


def test_bad_cell_in_csv_is_reported_by_data_row(small, tmp_path):
    path = tmp_path / "pupils.csv"
    save(small, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    data_row = 3  # line 4 of the file: the header is not a data row
    header = lines[0].split(",")
    cells = lines[data_row].split(",")
    cells[header.index("age")] = "oud"
    lines[data_row] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match=rf"column 'age': must be a number.*1 row \(rows {data_row}\)"):
        load(path)


def test_csv_with_utf8_bom_is_read(small, tmp_path):
    # Excel's "CSV UTF-8" starts with a byte-order mark; the first column must still be found.
    path = tmp_path / "excel.csv"
    small.to_csv(path, index=False, encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    pd.testing.assert_frame_equal(load(path), small)


# --------------------------------------------------------------------------- bad files
@pytest.mark.parametrize("suffix", SUPPORTED)
def test_non_existent_file(tmp_path, suffix):
    path = tmp_path / f"nowhere{suffix}"
    with pytest.raises(DataValidationError, match=r"file does not exist") as err:
        load(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("suffix", SUPPORTED)
def test_empty_file(tmp_path, suffix):
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    with pytest.raises(DataValidationError, match=r"the file is empty"):
        load(path)


@pytest.mark.parametrize("suffix", SUPPORTED)
def test_header_only_file(small, tmp_path, suffix):
    path = tmp_path / f"header{suffix}"
    if suffix == ".csv":
        path.write_text(",".join(small.columns) + "\n", encoding="utf-8")
    else:
        save(small.iloc[:0], path)
    with pytest.raises(DataValidationError, match=r"header but no data rows"):
        load(path)


GARBAGE = np.random.default_rng(20251201).bytes(4096)


@pytest.mark.parametrize(
    ("suffix", "kind"),
    [(".csv", "CSV"), (".parquet", "Parquet"), (".dta", "Stata"), (".sav", "SPSS")],
)
def test_binary_garbage(tmp_path, suffix, kind):
    path = tmp_path / f"garbage{suffix}"
    path.write_bytes(GARBAGE)
    with pytest.raises(DataValidationError, match=rf"cannot be read as {kind}") as err:
        load(path)
    # The report is one short line per problem, not a dump of the parser's internals.
    assert all(len(line) < 400 for line in str(err.value).splitlines())


def test_csv_that_is_not_utf8(small, tmp_path):
    path = tmp_path / "latin1.csv"
    text = small.head(20).to_csv(index=False).replace("Noord-Limburg", "Noörd-Limburg")
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(DataValidationError, match=r"cannot be read as CSV.*UTF-8"):
        load(path)


@pytest.mark.parametrize("name", ["pupils.xlsx", "pupils", "pupils.csv.gz"])
def test_unsupported_extension(small, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(small.head(5).to_csv(index=False).encode())
    with pytest.raises(DataValidationError, match=r"unsupported file type .*use one of \.csv, \.parquet, \.dta, \.sav"):
        load(path)


def test_unsupported_extension_names_the_suffix(tmp_path):
    with pytest.raises(DataValidationError, match=r"unsupported file type '\.xlsx'"):
        read_raw(tmp_path / "pupils.xlsx")
    with pytest.raises(DataValidationError, match=r"unsupported file type '\(none\)'"):
        read_raw(tmp_path / "pupils")


def test_folder_is_not_a_data_file(tmp_path):
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(DataValidationError, match=r"does not exist"):
        load(folder)


# --------------------------------------------------------------------------- file hash
def test_file_sha256_matches_hashlib_and_tracks_content(small, tmp_path):
    path = tmp_path / "pupils.csv"
    save(small, path)
    first = file_sha256(path)
    # Reference: hashlib over the whole file in one go (independent of the chunked reading).
    assert first == hashlib.sha256(path.read_bytes()).hexdigest()
    assert file_sha256(path) == first  # stable

    changed = small.copy()
    changed.loc[0, "age"] = changed.loc[0, "age"] + 0.1
    save(changed, path)
    assert file_sha256(path) != first

    save(small, path)
    assert file_sha256(path) == first  # same content again, same hash


def test_file_sha256_of_a_large_file_spans_blocks(tmp_path):
    path = tmp_path / "big.bin"
    content = np.random.default_rng(1).bytes(3 * (1 << 20) + 17)  # more than one 1 MiB block
    path.write_bytes(content)
    assert file_sha256(path) == hashlib.sha256(content).hexdigest()
