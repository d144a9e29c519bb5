"""The published folder: nothing readable without a code, no codes, stable bytes, no nonce reuse, rotation."""
from __future__ import annotations

import base64
import hashlib
import re

import pytest

import oml.access.publish as publish
from oml.access.codes import AccessError, display, read_codes
from oml.access.crypto import decrypt, locator
from oml.access.publish import REPORT_FILE, publish_reports
from sample_reports import SAMPLES, documents, markers


def _digest(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _blob(path) -> bytes:
    text = path.read_text(encoding="utf-8")
    return base64.b64decode(re.search(r'type="application/octet-stream">([^<]+)</script>', text).group(1))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("publish")
    result = publish_reports(documents(), tmp / "private" / "CODES.csv", tmp / "out")
    return tmp, result


def test_folder_holds_index_and_one_file_per_report(built):
    tmp, result = built
    names = sorted(p.name for p in (tmp / "out").iterdir())
    assert names[-1] == "index.html" and len(names) == len(SAMPLES) + 1
    assert all(REPORT_FILE.match(n) for n in names[:-1])
    codes = read_codes(tmp / "private" / "CODES.csv")
    assert {result.files[k] for k in codes} == set(names[:-1])
    for entry, name in result.files.items():
        assert name == f"{locator(codes[entry])}.html"  # named after the code, not the school


def test_no_report_text_number_or_id_is_readable_in_any_published_file(built):
    tmp, _ = built
    files = sorted((tmp / "out").iterdir())
    assert files
    for path in files:
        raw = path.read_bytes()
        blob = _blob(path) if path.name != "index.html" else b""
        for sample in SAMPLES:
            for marker in markers(sample):
                assert marker.encode() not in raw, f"{marker!r} in {path.name}"
                assert marker.encode() not in blob, f"{marker!r} in the payload of {path.name}"
        for word in ("SYN-", "Synthetisch", "significant", "Kwartelkoning", "<svg", "<figure"):
            assert word.encode() not in raw


def test_report_files_are_the_same_size_and_identical_apart_from_the_payload(built):
    tmp, _ = built
    reports = [p for p in (tmp / "out").iterdir() if p.name != "index.html"]
    assert len({p.stat().st_size for p in reports}) == 1  # 16 KiB padding: school and board look alike here
    frames = {re.sub(r'octet-stream">[^<]+<', "", p.read_text()) for p in reports}
    assert len(frames) == 1  # no title, id, kind or other metadata outside the ciphertext


def test_codes_never_reach_the_published_folder(built):
    tmp, _ = built
    codes = read_codes(tmp / "private" / "CODES.csv")
    everything = b"".join(p.read_bytes() for p in (tmp / "out").rglob("*") if p.is_file())
    for code in codes.values():
        for form in (code, display(code), code.lower(), display(code).lower()):
            assert form.encode() not in everything
    assert not any(p.suffix == ".csv" or p.name.endswith(".keys.json") for p in (tmp / "out").rglob("*"))


def test_private_files_inside_the_published_folder_are_refused(tmp_path):
    with pytest.raises(AccessError, match="lies inside the published folder"):
        publish_reports(documents(), tmp_path / "out" / "CODES.csv", tmp_path / "out")
    with pytest.raises(AccessError, match="key cache .* lies inside"):
        publish_reports(documents(), tmp_path / "CODES.csv", tmp_path / "out", key_cache=tmp_path / "out" / "k.json")


def test_rebuild_is_byte_identical_and_costs_no_key_derivation(built, tmp_path, monkeypatch):
    tmp, _ = built
    before = _digest(tmp / "out")

    def no_derivation(*args, **kwargs):
        raise AssertionError("an unchanged code must not be derived again")

    monkeypatch.setattr(publish, "derive_key", no_derivation)
    again = publish_reports(documents(), tmp / "private" / "CODES.csv", tmp / "out")
    assert (again.derived, again.cached, again.written) == (0, len(SAMPLES), 0)
    assert _digest(tmp / "out") == before
    # A fresh folder from the same codes and salts: the same bytes.
    publish_reports(documents(), tmp / "private" / "CODES.csv", tmp_path / "fresh")
    assert _digest(tmp_path / "fresh") == before


def test_no_nonce_is_reused_with_different_content(built, tmp_path):
    tmp, first = built
    changed = documents()
    target = ("school", SAMPLES[0][1])
    changed[target] = changed[target].replace("0,4137", "0,4138")
    publish_reports(changed, tmp / "private" / "CODES.csv", tmp_path / "v2")
    seen: dict[tuple[bytes, bytes], bytes] = {}  # (salt, nonce) -> ciphertext; a salt fixes the key
    for folder in (tmp / "out", tmp_path / "v2"):
        for path in folder.glob("*.html"):
            if path.name == "index.html":
                continue
            blob = _blob(path)
            salt, nonce, ciphertext = blob[9:25], blob[25:37], blob[37:]
            assert seen.setdefault((salt, nonce), ciphertext) == ciphertext, "a nonce was reused with other content"
    name = first.files[target]
    old, new = _blob(tmp / "out" / name), _blob(tmp_path / "v2" / name)
    assert old[:25] == new[:25] and old[25:37] != new[25:37]
    codes = read_codes(tmp / "private" / "CODES.csv")
    assert "0,4138" in decrypt(new, codes[target])


def test_rotation_gives_a_new_file_and_the_old_code_opens_nothing(tmp_path):
    codes_path = tmp_path / "CODES.csv"
    publish_reports(documents(), codes_path, tmp_path / "out")
    old = read_codes(codes_path)
    id_ = SAMPLES[1][1]
    result = publish_reports(documents(), codes_path, tmp_path / "out", rotate=[id_])
    new = read_codes(codes_path)
    assert result.rotated == (("school", id_),) and result.derived == 1 and result.removed == 1
    assert new[("school", id_)] != old[("school", id_)]
    assert not (tmp_path / "out" / f"{locator(old[('school', id_)])}.html").exists()
    page = tmp_path / "out" / f"{locator(new[('school', id_)])}.html"
    assert id_ in decrypt(_blob(page), new[("school", id_)])


def test_bad_documents_are_refused_by_name(tmp_path):
    with pytest.raises(AccessError, match="kind 'school' or 'board'"):
        publish_reports({("class", "A"): "<p>x</p>"}, tmp_path / "C.csv", tmp_path / "out")
    with pytest.raises(AccessError, match="school A: the report must be a non-empty HTML string"):
        publish_reports({("school", "A"): " "}, tmp_path / "C.csv", tmp_path / "out")
    with pytest.raises(AccessError, match="at least 600,000 PBKDF2 iterations"):
        publish_reports(documents(), tmp_path / "C.csv", tmp_path / "out", iterations=1000)


def test_pages_are_complete_and_show_the_synthetic_notice_only_when_asked():
    from oml.access.codes import ALPHABET
    from oml.access.publish import index_page, report_page

    for page in (index_page(), report_page(b"OMLR"), index_page(True), report_page(b"OMLR", True)):
        assert "@@" not in page
    notice = 'class="oml-synthetic-banner"'
    assert notice in index_page(True) and notice in report_page(b"x", True)
    assert notice not in index_page() and notice not in report_page(b"x")
    # The reader's hint on allowed symbols matches the alphabet: digits 2-9, letters without I, L, O, U.
    assert "de cijfers 2 tot en met 9 en hoofdletters (geen I, L, O of U)" in index_page()
    assert ALPHABET == "23456789" + "".join(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in "ILOU")


def test_files_are_written_in_name_order_not_school_order(tmp_path, monkeypatch):
    from pathlib import Path

    order = []
    real_write = Path.write_bytes

    def spy(self, data):
        order.append(self.name)
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", spy)
    publish_reports(documents(), tmp_path / "CODES.csv", tmp_path / "out")
    reports = [n for n in order if n != "index.html"]
    assert len(reports) == len(SAMPLES) and reports == sorted(reports)
