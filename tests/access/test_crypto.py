"""The encrypted report format, checked against an independent reading of its description in docs/reports.md.

``_independent_decrypt`` follows docs/reports.md ("The format, for an independent decryptor") step by step with
other primitives than oml.access.crypto (hashlib's PBKDF2 and SHA-256, a regular expression for the
payload, manual byte slicing): if the description and the code disagree, this test fails.
"""
from __future__ import annotations

import base64
import hashlib
import re
import struct

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from oml.access.codes import AccessError, normalise
from oml.access.crypto import (HEADER, ITERATIONS, PAD_BLOCK, WrongCode, decrypt, derive_key, encrypt, locator, pad,
                               parse, unpad)
from oml.access.publish import publish_reports
from oml.access.codes import read_codes
from sample_reports import SAMPLES, documents

CODE = "K7QM-2XPD-9HTR-WA4E-NB6C"
SALT = bytes(range(16))


def _independent_decrypt(folder, code: str) -> str:
    """Decrypt the report a code opens, from docs/reports.md alone."""
    canonical = re.sub(r"[\s\-_.]", "", code.upper())
    name = hashlib.sha256(b"OML-terugkoppeling/bestand/v1\n" + canonical.encode("ascii")).hexdigest()[:32] + ".html"
    page = (folder / name).read_text(encoding="utf-8")
    payload = re.search(r'<script id="oml-report" type="application/octet-stream">([A-Za-z0-9+/=]+)</script>', page)
    blob = base64.b64decode(payload.group(1))
    assert blob[0:4] == b"OMLR" and blob[4] == 1
    iterations = int.from_bytes(blob[5:9], "big")
    salt, nonce, ciphertext = blob[9:25], blob[25:37], blob[37:]
    key = hashlib.pbkdf2_hmac("sha256", canonical.encode("ascii"), salt, iterations, dklen=32)
    padded = AESGCM(key).decrypt(nonce, ciphertext, blob[0:25])
    body = padded.rstrip(b"\x00")
    assert body.endswith(b"\x80") and len(padded) % 16384 == 0
    return body[:-1].decode("utf-8")


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


def test_locator_depends_on_the_code_only():
    assert locator(CODE) == hashlib.sha256(b"OML-terugkoppeling/bestand/v1\n" + normalise(CODE).encode()).hexdigest()[:32]
    assert locator(CODE) != locator("K7QM-2XPD-9HTR-WA4E-NB6D")
    assert SAMPLES  # the sample reports exist for the other tests
