"""The published folder: nothing readable without a code, no codes, stable bytes, no nonce reuse, rotation;
one size per kind, a Content-Security-Policy on every page, written beside the folder and renamed into place
before the codes are saved, private files 0600 on every run, warnings for foreign or changed salts."""
from __future__ import annotations

import base64
import hashlib
import re
import stat

import pytest

import oml.access.publish as publish
from oml.access.codes import AccessError, display, read_codes, read_salts, salts_path, write_salts
from oml.access.crypto import HEADER, NONCE_BYTES, PAD_BLOCK, TAG_BYTES, decrypt, locator
from oml.access.publish import REPORT_FILE, key_cache_path, publish_reports
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
    for iterations in (1000, 10**9):
        with pytest.raises(AccessError, match="at least 600,000 and at most 6,000,000 PBKDF2 iterations"):
            publish_reports(documents(), tmp_path / "C.csv", tmp_path / "out", iterations=iterations)
    assert not (tmp_path / "C.csv").exists() and not (tmp_path / "out").exists()


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


# ---------------------------------------------------------------------------------------------- one size per kind

def _sized_documents() -> dict:
    """Reports of very different lengths: a school three times as long as the others, a board in between."""
    docs = documents()
    long_school = ("school", SAMPLES[0][1])
    docs[long_school] = docs[long_school].replace("</main>", "<p>" + "Toelichting bij de index. " * 1800 + "</p></main>")
    board = ("board", SAMPLES[3][1])
    docs[board] = docs[board].replace("</main>", "<p>" + "Deel per school. " * 1200 + "</p></main>")
    docs[("board", "SYN-B08")] = docs[board].replace("Deel per school. " * 1200, "")
    return docs


def test_every_report_of_a_kind_has_one_size_the_largest_rounded_up(tmp_path):
    docs = _sized_documents()
    result = publish_reports(docs, tmp_path / "CODES.csv", tmp_path / "out")
    codes = read_codes(tmp_path / "CODES.csv")
    lengths = {entry: len(html.encode()) for entry, html in docs.items()}
    for kind in ("school", "board"):
        largest = max(n for (k, _), n in lengths.items() if k == kind)
        expected = -(-(largest + 1) // PAD_BLOCK) * PAD_BLOCK  # the largest of the kind, rounded up to 16 KiB
        assert result.sizes[kind] == expected
        entries = [e for e in docs if e[0] == kind]
        blobs = {e: _blob(tmp_path / "out" / result.files[e]) for e in entries}
        assert {len(b) for b in blobs.values()} == {HEADER.size + NONCE_BYTES + expected + TAG_BYTES}
        assert len({(tmp_path / "out" / result.files[e]).stat().st_size for e in entries}) == 1  # one file size
        for entry, blob in blobs.items():
            assert decrypt(blob, codes[entry]) == docs[entry]
    assert result.sizes["school"] == 3 * PAD_BLOCK and result.sizes["board"] == 2 * PAD_BLOCK
    # The short school report was padded from under 16 KiB to the long one's 48 KiB: its size says nothing.
    assert lengths[("school", SAMPLES[1][1])] < PAD_BLOCK


# ---------------------------------------------------------------------------------------------- the pages

def test_every_page_carries_a_csp_that_allows_its_own_script_only(built):
    tmp, _ = built
    for path in sorted((tmp / "out").iterdir()):
        page = path.read_text(encoding="utf-8")
        csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
        assert csp and page.index(csp.group(0)) < page.index("<style"), f"{path.name}: no CSP before the first style"
        policy = dict(d.strip().split(" ", 1) for d in csp.group(1).split(";"))
        assert policy["default-src"] == "'none'" and policy["connect-src"] == "'self'"
        assert policy["base-uri"] == "'none'" and policy["form-action"] == "'none'"
        assert "unsafe-inline" not in policy["script-src"] and "unsafe-eval" not in policy["script-src"]
        scripts = re.findall(r"<script>(.*?)</script>", page, re.S)  # the one executable script (the payload is data)
        assert len(scripts) == 1
        digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
        assert policy["script-src"] == f"'sha256-{digest}'"
        # A generic title, the same on every page; the code field has no name, so no form ever sends it.
        assert re.search(r"<title>(.*?)</title>", page).group(1) == "Terugkoppeling OML"
        assert 'id="oml-code"' in page and 'name="code"' not in page
        assert "welk versleuteld bestand is opgevraagd, wanneer en vanaf welk IP-adres" in page


# ---------------------------------------------------------------------------------------------- a failed run

def _tree(folder):
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_files_are_in_place_before_the_codes_are_saved(tmp_path, monkeypatch):
    codes_path, out = tmp_path / "private" / "CODES.csv", tmp_path / "site" / "out"
    seen = []
    real_save = publish.save_codes

    def spy(path, book):
        # At this moment every report of the new codes is already in its final place.
        names = {p.name for p in out.iterdir()}
        seen.append(all(f"{locator(book.codes[e])}.html" in names for e in documents()) and "index.html" in names)
        return real_save(path, book)

    monkeypatch.setattr(publish, "save_codes", spy)
    publish_reports(documents(), codes_path, out)
    assert seen == [True] and codes_path.exists()
    assert sorted(p.name for p in out.parent.iterdir()) == ["out"]  # no staging folder left beside it


def test_a_failed_write_hands_out_no_code_and_leaves_the_folder_as_it_was(tmp_path, monkeypatch):
    from pathlib import Path

    codes_path, out = tmp_path / "private" / "CODES.csv", tmp_path / "site" / "out"
    out.mkdir(parents=True)
    (out / "README.txt").write_text("not ours")
    (out / "extra").mkdir()
    (out / "extra" / "note.txt").write_text("also not ours")
    real_write = Path.write_bytes
    calls, fail_at = [], [3]

    def failing(self, data):
        calls.append(self.name)
        if len(calls) == fail_at[0]:
            raise OSError(28, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", failing)
    with pytest.raises(OSError, match="No space left"):
        publish_reports(documents(), codes_path, out)
    monkeypatch.undo()
    assert not codes_path.exists() and not salts_path(codes_path).exists()  # no code handed out
    assert _tree(out) == {"README.txt": (b"not ours", (out / "README.txt").stat().st_mtime_ns),
                          "extra/note.txt": (b"also not ours", (out / "extra" / "note.txt").stat().st_mtime_ns)}
    assert sorted(p.name for p in out.parent.iterdir()) == ["out"]

    # A rotation that fails: the old code keeps opening its file, the codes file is unchanged.
    publish_reports(documents(), codes_path, out)
    before, codes_before = _tree(out), codes_path.read_bytes()
    assert "README.txt" in before and "extra/note.txt" in before  # other files are carried over
    calls.clear()
    fail_at[0] = 1  # the rotated report is the only file written (unchanged files are carried over)
    monkeypatch.setattr(Path, "write_bytes", failing)
    with pytest.raises(OSError):
        publish_reports(documents(), codes_path, out, rotate=[SAMPLES[0][1]])
    monkeypatch.undo()
    assert _tree(out) == before and codes_path.read_bytes() == codes_before
    entry = ("school", SAMPLES[0][1])
    assert SAMPLES[0][1] in decrypt(_blob(out / f"{locator(read_codes(codes_path)[entry])}.html"), read_codes(codes_path)[entry])


def test_a_failed_save_of_the_codes_puts_the_old_folder_back(tmp_path, monkeypatch):
    codes_path, out = tmp_path / "CODES.csv", tmp_path / "out"
    publish_reports(documents(), codes_path, out)
    before, codes_before = _tree(out), codes_path.read_bytes()

    def broken(path, book):
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(publish, "save_codes", broken)
    with pytest.raises(OSError, match="Permission denied"):
        publish_reports(documents(), codes_path, out, rotate=[SAMPLES[1][1]])
    assert _tree(out) == before and codes_path.read_bytes() == codes_before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["CODES.csv", "CODES.salts.csv", "CODES.keys.json", "out"])
    # First run ever, and the save fails: no folder appears at all.
    with pytest.raises(OSError):
        publish_reports(documents(), tmp_path / "new" / "CODES.csv", tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists() and not (tmp_path / "new" / "CODES.csv").exists()


# ---------------------------------------------------------------------------------------------- file modes

def test_private_files_are_0600_on_every_run(tmp_path):
    codes_path = tmp_path / "CODES.csv"
    private = [codes_path, salts_path(codes_path), key_cache_path(codes_path)]
    publish_reports(documents(), codes_path, tmp_path / "out")
    assert [stat.S_IMODE(p.stat().st_mode) for p in private] == [0o600] * 3
    for path in private:  # e.g. copied in from a backup with the default mode
        path.chmod(0o644)
    content = [p.read_bytes() for p in private]
    again = publish_reports(documents(), codes_path, tmp_path / "out")
    assert again.written == 0 and [p.read_bytes() for p in private] == content  # nothing changed ...
    assert [stat.S_IMODE(p.stat().st_mode) for p in private] == [0o600] * 3  # ... and still the mode is fixed
    assert stat.S_IMODE((tmp_path / "out" / "index.html").stat().st_mode) & 0o044  # published files stay readable


# ---------------------------------------------------------------------------------------------- salt warnings

def test_a_changed_salt_for_an_existing_code_is_a_warning_without_the_code(tmp_path):
    codes_path, out = tmp_path / "CODES.csv", tmp_path / "out"
    first = publish_reports(documents(), codes_path, out)
    assert first.warnings == ()
    salts = read_salts(salts_path(codes_path))
    entry = ("school", SAMPLES[2][1])
    salts[entry] = bytes(16)  # the salt file regenerated (or replaced) for an unchanged code
    write_salts(salts_path(codes_path), salts)
    again = publish_reports(documents(), codes_path, out)
    assert len(again.warnings) == 1 and "the salt of 1 existing code(s) changed (school:SYN-S0103)" in again.warnings[0]
    summary = again.summary()
    assert "WARNING: the salt of 1 existing code(s) changed" in summary
    for code in read_codes(codes_path).values():
        assert code not in summary and display(code) not in summary
    assert decrypt(_blob(out / first.files[entry]), read_codes(codes_path)[entry])  # the code still opens it
    assert publish_reports(documents(), codes_path, out).warnings == ()  # once published, the new salt is the salt


def test_a_lost_salt_file_is_a_warning(tmp_path):
    codes_path, out = tmp_path / "CODES.csv", tmp_path / "out"
    publish_reports(documents(), codes_path, out)
    salts_path(codes_path).unlink()
    result = publish_reports(documents(), codes_path, out)
    text = "\n".join(result.warnings)
    assert f"no salt on file for {len(SAMPLES)} existing code(s)" in text
    assert f"the salt of {len(SAMPLES)} existing code(s) changed" in text
