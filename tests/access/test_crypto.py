"""The encrypted report format, checked against an independent reading of its description in docs/reports.md.

``_independent_decrypt`` follows docs/reports.md ("The format, for an independent decryptor") step by step with
other primitives than oml.access.crypto (hashlib's PBKDF2 and SHA-256, a regular expression for the
payload, manual byte slicing): if the description and the code disagree, this test fails. Like every reader
(oml.access.crypto, the page's script, the snippet in docs/reports.md) it refuses an iteration count outside
600,000 .. 6,000,000 before deriving anything, and a plaintext whose padding is wrong.
"""
from __future__ import annotations

import base64
import hashlib
import re
import struct
import time
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from oml.access.codes import AccessError, normalise
from oml.access.crypto import (HEADER, ITERATIONS, MAX_ITERATIONS, MIN_ITERATIONS, PAD_BLOCK, WrongCode, decrypt,
                               derive_key, encrypt, locator, pad, padded_size, parse, unpad)
from oml.access.publish import publish_reports
from oml.access.codes import read_codes
from sample_reports import SAMPLES, documents

CODE = "K7QM-2XPD-9HTR-WA4E-NB6C"
SALT = bytes(range(16))
DOCS = Path(__file__).resolve().parents[2] / "docs" / "reports.md"


def _independent_decrypt(folder, code: str) -> str:
    """Decrypt the report a code opens, from docs/reports.md alone."""
    canonical = re.sub(r"[\s\-_.]", "", code.upper())
    name = hashlib.sha256(b"OML-terugkoppeling/bestand/v1\n" + canonical.encode("ascii")).hexdigest()[:32] + ".html"
    page = (folder / name).read_text(encoding="utf-8")
    payload = re.search(r'<script id="oml-report" type="application/octet-stream">([A-Za-z0-9+/=]+)</script>', page)
    blob = base64.b64decode(payload.group(1))
    return _independent_open(blob, canonical)


def _independent_open(blob: bytes, canonical: str) -> str:
    if blob[0:4] != b"OMLR" or blob[4] != 1:
        raise ValueError("not an OML report of format version 1")
    iterations = int.from_bytes(blob[5:9], "big")
    if not 600_000 <= iterations <= 6_000_000:  # checked before deriving: a hostile count must not cost hours
        raise ValueError(f"iterations outside 600,000 .. 6,000,000: {iterations:,}")
    salt, nonce, ciphertext = blob[9:25], blob[25:37], blob[37:]
    key = hashlib.pbkdf2_hmac("sha256", canonical.encode("ascii"), salt, iterations, dklen=32)
    padded = AESGCM(key).decrypt(nonce, ciphertext, blob[0:25])
    body = padded.rstrip(b"\x00")
    if not body.endswith(b"\x80") or len(padded) % 16384:
        raise ValueError("bad padding")
    return body[:-1].decode("utf-8")


def _forged(document: bytes, iterations: int = ITERATIONS, pad_to: int | None = None) -> bytes:
    """A blob built by hand (not with oml.access.crypto): correct GCM tag under CODE, any header and padding."""
    header = b"OMLR\x01" + iterations.to_bytes(4, "big") + SALT
    key = hashlib.pbkdf2_hmac("sha256", normalise(CODE).encode(), SALT, min(iterations, ITERATIONS), dklen=32)
    nonce = bytes(12)
    plain = document if pad_to is None else document + b"\x80" + bytes(pad_to - len(document) - 1)
    return header + nonce + AESGCM(key).encrypt(nonce, plain, header)


def _docs_snippet() -> str:
    text = DOCS.read_text(encoding="utf-8")
    return re.search(r"```python\n(import base64, hashlib, re\n.*?)```", text, re.S).group(1)


def _run_snippet(folder: Path, code: str) -> str:
    """docs/reports.md's decryption example as printed (only the folder filled in), as tests/test_docs.py runs it."""
    source = _docs_snippet().replace('f"DIR/{name}"', f'f"{folder}/{{name}}"')
    namespace = {"typed": code}
    exec(compile(source, "docs/reports.md", "exec"), namespace)
    return namespace["html"]


def test_an_independent_reader_following_the_readme_decrypts_every_report(tmp_path):
    docs = documents()
    publish_reports(docs, tmp_path / "CODES.csv", tmp_path / "out")
    codes = read_codes(tmp_path / "CODES.csv")
    for entry, html in docs.items():
        assert _independent_decrypt(tmp_path / "out", codes[entry]) == html


def test_key_is_pbkdf2_sha256_of_the_canonical_code():
    # Reference: hashlib.pbkdf2_hmac (CPython's OpenSSL binding), a different API from cryptography's PBKDF2HMAC.
    expected = hashlib.pbkdf2_hmac("sha256", b"K7QM2XPD9HTRWA4ENB6C", SALT, ITERATIONS, dklen=32)
    assert derive_key("k7qm 2xpd 9htr wa4e nb6c", SALT) == expected


def test_layout_header_is_authenticated_and_wrong_code_fails_cleanly():
    key = derive_key(CODE, SALT)
    blob = encrypt("<p>Gemiddelde index 0,4137</p>", key, SALT)
    magic, version, iterations, salt = HEADER.unpack_from(blob)
    assert (magic, version, iterations, salt) == (b"OMLR", 1, ITERATIONS, SALT)
    assert HEADER.size == 25 and len(blob) == 25 + 12 + PAD_BLOCK + 16
    with pytest.raises(WrongCode, match="does not open"):
        decrypt(blob, "K7QM-2XPD-9HTR-WA4E-NB6D")
    # Changing the iteration count or salt in the header breaks the tag (they are the GCM additional data).
    tampered = bytearray(blob)
    tampered[5:9] = struct.pack(">I", ITERATIONS + 1)
    with pytest.raises(InvalidTag):
        AESGCM(key).decrypt(bytes(tampered[25:37]), bytes(tampered[37:]), bytes(tampered[:25]))
    with pytest.raises(AccessError, match="refusing a report with only 1,000 PBKDF2 iterations"):
        parse(blob[:5] + struct.pack(">I", 1000) + blob[9:])
    with pytest.raises(AccessError, match="refusing a report with 6,000,001 PBKDF2 iterations"):
        parse(blob[:5] + struct.pack(">I", MAX_ITERATIONS + 1) + blob[9:])
    with pytest.raises(AccessError, match="not an OML report"):
        parse(b"PK\x03\x04" + blob[4:])


def test_encryption_is_deterministic_and_nonces_follow_the_content():
    key = derive_key(CODE, SALT)
    a1, a2 = encrypt("<p>versie A</p>", key, SALT), encrypt("<p>versie A</p>", key, SALT)
    b = encrypt("<p>versie B</p>", key, SALT)
    assert a1 == a2  # same inputs, same bytes
    assert a1[25:37] != b[25:37]  # other content, other nonce under the same key
    # Many versions under one key: all nonces distinct.
    nonces = {encrypt(f"<p>versie {i}</p>", key, SALT)[25:37] for i in range(500)}
    assert len(nonces) == 500


def test_padding_hides_the_exact_length():
    key = derive_key(CODE, SALT)
    short = encrypt("<p>De index verschilt niet significant van die in Limburg.</p>", key, SALT)
    long_ = encrypt("<p>De index ligt significant hoger dan in Limburg.</p>" * 40, key, SALT)
    assert len(short) == len(long_)
    assert len(pad(b"x" * PAD_BLOCK)) == 2 * PAD_BLOCK  # the 0x80 marker always fits
    with pytest.raises(AccessError, match="padding"):
        unpad(b"abc\x00\x00")
    # Padded to a chosen size (the largest report of the kind): any multiple of the block with room for the marker.
    third = encrypt("<p>kort</p>", key, SALT, size=3 * PAD_BLOCK)
    assert len(third) == 25 + 12 + 3 * PAD_BLOCK + 16 and decrypt(third, CODE) == "<p>kort</p>"
    for size in (PAD_BLOCK + 1, 0):
        with pytest.raises(AccessError, match="cannot pad"):
            pad(b"x", size=size)
    with pytest.raises(AccessError, match="cannot pad"):
        pad(b"x" * PAD_BLOCK, size=PAD_BLOCK)
    assert padded_size(PAD_BLOCK - 1) == PAD_BLOCK and padded_size(PAD_BLOCK) == 2 * PAD_BLOCK


def test_every_reader_refuses_a_wrong_padding():
    # Authentic blobs (right code, right tag) whose plaintext breaks the padding rule: not a multiple of
    # 16,384 bytes, or no 0x80 marker. oml.access.crypto, the independent reader and the docs' snippet refuse both.
    canonical = normalise(CODE)
    for blob in (_forged(b"<p>x</p>\x80"), _forged(b"<p>x</p>" + bytes(PAD_BLOCK - 8))):
        with pytest.raises(AccessError, match="no valid padding"):
            decrypt(blob, CODE)
        with pytest.raises(ValueError, match="bad padding"):
            _independent_open(blob, canonical)
    assert _independent_open(_forged(b"<p>x</p>", pad_to=PAD_BLOCK), canonical) == "<p>x</p>"
    assert decrypt(_forged(b"<p>x</p>", pad_to=PAD_BLOCK), CODE) == "<p>x</p>"


@pytest.mark.parametrize("iterations", [10**9, 2**32 - 1, MAX_ITERATIONS + 1, MIN_ITERATIONS - 1, 1000])
def test_an_iteration_count_outside_the_bounds_is_refused_before_any_derivation(iterations):
    # A hostile file claiming 10**9 iterations would cost a reader minutes of PBKDF2: refused at once.
    blob = _forged(b"<p>x</p>", iterations, pad_to=PAD_BLOCK)
    started = time.perf_counter()
    with pytest.raises(AccessError, match="PBKDF2 iterations"):
        decrypt(blob, CODE)
    with pytest.raises(ValueError, match="iterations outside"):
        _independent_open(blob, normalise(CODE))
    assert time.perf_counter() - started < 1  # no derivation happened
    with pytest.raises(AccessError, match="PBKDF2 iterations"):
        encrypt("<p>x</p>", derive_key(CODE, SALT, 1000), SALT, iterations)  # and no writer makes one


def test_the_docs_snippet_enforces_the_bounds_and_the_padding(tmp_path):
    docs = documents()
    publish_reports(docs, tmp_path / "CODES.csv", tmp_path / "out")
    codes = read_codes(tmp_path / "CODES.csv")
    entry = sorted(docs)[0]
    assert _run_snippet(tmp_path / "out", codes[entry]) == docs[entry]
    # The same file with a hostile count in its header (10**9) or a wrong padding: the snippet refuses it, fast.
    page = tmp_path / "out" / f"{locator(codes[entry])}.html"
    text = page.read_text(encoding="utf-8")
    payload = re.search(r'octet-stream">([^<]+)</script>', text).group(1)
    blob = base64.b64decode(payload)
    hostile = blob[:5] + (10**9).to_bytes(4, "big") + blob[9:]
    page.write_text(text.replace(payload, base64.b64encode(hostile).decode()), encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(ValueError, match="iterations"):
        _run_snippet(tmp_path / "out", codes[entry])
    assert time.perf_counter() - started < 1
    # A wrong padding under the right key: forged for CODE, served under CODE's file name.
    (tmp_path / "out" / f"{locator(CODE)}.html").write_text(
        text.replace(payload, base64.b64encode(_forged(b"<p>x</p>" + bytes(100))).decode()), encoding="utf-8")
    with pytest.raises(ValueError, match="padding"):
        _run_snippet(tmp_path / "out", CODE)


def test_locator_depends_on_the_code_only():
    assert locator(CODE) == hashlib.sha256(b"OML-terugkoppeling/bestand/v1\n" + normalise(CODE).encode()).hexdigest()[:32]
    assert locator(CODE) != locator("K7QM-2XPD-9HTR-WA4E-NB6D")
    assert SAMPLES  # the sample reports exist for the other tests
