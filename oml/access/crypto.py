"""The encrypted report format: key derivation, AES-256-GCM, padding and the file locator.

A report (a UTF-8 HTML document) becomes one binary *blob*; docs/reports.md documents it byte by byte:

========  =====  ==========================================================================
offset    bytes  field
========  =====  ==========================================================================
0         4      magic ``OMLR``
4         1      format version, 1
5         4      PBKDF2 iterations, unsigned big-endian (600,000; a reader accepts 600,000 to 6,000,000)
9         16     salt, random per school or board, kept across builds
25        12     nonce (GCM IV)
37        n+16   AES-256-GCM ciphertext of the padded document, then the 16-byte tag
========  =====  ==========================================================================

* key = PBKDF2-HMAC-SHA256(password = canonical code as ASCII, salt, iterations, 32 bytes);
* the 25 header bytes (magic .. salt) are the GCM *additional data*: iterations and salt are authenticated;
* padded document = document bytes, one ``0x80`` byte, then ``0x00`` bytes up to a multiple of
  :data:`PAD_BLOCK` (ISO/IEC 7816-4 padding). :mod:`oml.access.publish` pads every report of a kind to
  one size (:func:`padded_size` of the largest school report, and of the largest board report), so no
  file size singles out a school or board, and a sentence variant cannot be read off the size;
* nonce = the first 12 bytes of HMAC-SHA256(nonce key, header || padded document), nonce key =
  HKDF-Expand-SHA256(key, info ``OML-terugkoppeling nonce v1``, 32 bytes). The nonce is a deterministic
  function of key and content ("synthetic IV", as in AES-GCM-SIV / RFC 5297): the same inputs give the
  same file, and a different document under the same key gets a different nonce (a repeat would need a
  96-bit HMAC collision). A reader does not need the nonce key: the nonce is stored in the file.

The blob is stored base64 in the report page; its file name (the *locator*) is
``sha256("OML-terugkoppeling/bestand/v1\\n" + canonical code)`` as hex, first 32 digits, plus ``.html``.
"""
from __future__ import annotations

import hashlib
import hmac
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from oml.access.codes import SALT_BYTES, AccessError, normalise

MAGIC = b"OMLR"
VERSION = 1
#: PBKDF2-SHA256 iterations: OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256.
ITERATIONS = 600_000
#: Readers refuse fewer iterations: a file cannot be made cheaper to attack than the format promises.
MIN_ITERATIONS = 600_000
#: Readers refuse more iterations (10 x the default): the count is read *before* the tag can be checked,
#: so a hostile file claiming 2**32 - 1 iterations would keep a browser busy for a quarter of an hour
#: (about 0.15 s per 600,000 in Chromium; far longer on a phone). 6,000,000 costs at most a few seconds
#: on a slow phone and leaves room to raise the default tenfold without changing the format.
MAX_ITERATIONS = 10 * ITERATIONS
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
HEADER = struct.Struct(">4sBI16s")  # magic, version, iterations, salt: 25 bytes
PAD_BLOCK = 16 * 1024
NONCE_INFO = b"OML-terugkoppeling nonce v1"
LOCATOR_PREFIX = b"OML-terugkoppeling/bestand/v1\n"
LOCATOR_HEX = 32


class WrongCode(AccessError):
    """The code does not open this report (the GCM tag did not verify)."""


def check_iterations(iterations: int) -> int:
    """``iterations`` if within ``MIN_ITERATIONS .. MAX_ITERATIONS``; else :class:`AccessError`.

    Example
    -------
    >>> check_iterations(600_000)
    600000
    >>> check_iterations(10**9)
    Traceback (most recent call last):
    ...
    oml.access.codes.AccessError: refusing a report with 1,000,000,000 PBKDF2 iterations (at most 6,000,000)
    """
    if iterations < MIN_ITERATIONS:
        raise AccessError(f"refusing a report with only {iterations:,} PBKDF2 iterations (minimum {MIN_ITERATIONS:,})")
    if iterations > MAX_ITERATIONS:
        raise AccessError(f"refusing a report with {iterations:,} PBKDF2 iterations (at most {MAX_ITERATIONS:,})")
    return iterations


def derive_key(code: str, salt: bytes, iterations: int = ITERATIONS) -> bytes:
    """The 32-byte AES key of a code: PBKDF2-HMAC-SHA256(canonical code, salt, iterations).

    Example
    -------
    >>> derive_key("K7QM-2XPD-9HTR-WA4E-NB6C", bytes(16), 1000).hex()[:16] == derive_key("k7qm2xpd9htrwa4enb6c", bytes(16), 1000).hex()[:16]
    True
    """
    if len(salt) != SALT_BYTES:
        raise AccessError(f"the salt must be {SALT_BYTES} bytes, not {len(salt)}")
    return PBKDF2HMAC(hashes.SHA256(), KEY_BYTES, salt, iterations).derive(normalise(code).encode("ascii"))


def locator(code: str) -> str:
    """The file name stem of the report a code opens: 32 hex digits of a domain-separated SHA-256.

    It depends on the code alone, so the reader's browser finds the file before it knows the salt, and a
    school that keeps its code keeps its file name. It reveals nothing about the school; guessing a code
    from it means searching 98 bits.

    Example
    -------
    >>> locator("K7QM-2XPD-9HTR-WA4E-NB6C") == locator("k7qm 2xpd 9htr wa4e nb6c")
    True
    >>> len(locator("K7QM-2XPD-9HTR-WA4E-NB6C"))
    32
    """
    return hashlib.sha256(LOCATOR_PREFIX + normalise(code).encode("ascii")).hexdigest()[:LOCATOR_HEX]


def padded_size(length: int, block: int = PAD_BLOCK) -> int:
    """The smallest multiple of ``block`` that holds ``length`` bytes and the ``0x80`` marker.

    Example
    -------
    >>> padded_size(0), padded_size(PAD_BLOCK - 1), padded_size(PAD_BLOCK)
    (16384, 16384, 32768)
    """
    return -(-(length + 1) // block) * block


def pad(data: bytes, block: int = PAD_BLOCK, size: int | None = None) -> bytes:
    """ISO/IEC 7816-4 padding: ``0x80`` then zeros up to ``size`` (default: the next multiple of ``block``).

    ``size`` must be a multiple of ``block`` with room for the data and the marker; :mod:`oml.access.publish`
    passes the size of the largest report of the kind, so all reports of a kind are equally long.

    Example
    -------
    >>> len(pad(b"abc", 16)), pad(b"abc", 16)[3:5]
    (16, b'\\x80\\x00')
    >>> len(pad(b"abc", 16, size=64))
    64
    """
    size = padded_size(len(data), block) if size is None else size
    if size % block or size < len(data) + 1:
        raise AccessError(f"cannot pad {len(data):,} bytes to {size:,}: a multiple of {block:,} with room for the marker")
    return data + b"\x80" + b"\x00" * (size - len(data) - 1)


def unpad(data: bytes, block: int = PAD_BLOCK) -> bytes:
    """Remove :func:`pad`'s padding, checking it: a multiple of ``block`` bytes, ending in ``0x80`` and zeros.

    Example
    -------
    >>> unpad(pad("één".encode(), 16), 16).decode()
    'één'
    """
    end = data.rstrip(b"\x00")
    if len(data) % block or not end.endswith(b"\x80"):
        raise AccessError("the decrypted report has no valid padding")
    return end[:-1]


def _nonce(key: bytes, header: bytes, padded: bytes) -> bytes:
    # Synthetic IV: a PRF of the whole message under a subkey of the report key, so equal inputs give
    # equal files and different content never shares a nonce under one key.
    nonce_key = HKDFExpand(hashes.SHA256(), 32, NONCE_INFO).derive(key)
    return hmac.new(nonce_key, header + padded, hashlib.sha256).digest()[:NONCE_BYTES]


def encrypt(document: str, key: bytes, salt: bytes, iterations: int = ITERATIONS, size: int | None = None) -> bytes:
    """Encrypt one report into a blob (layout in the module docstring).

    Parameters
    ----------
    document : str
        The report, a self-contained HTML document.
    key : bytes
        ``derive_key(code, salt, iterations)`` (passed in so a cached key costs no derivation).
    salt : bytes
        The report's salt (written into the header).
    iterations : int
        The PBKDF2 iteration count the key was derived with (written into the header; within
        ``MIN_ITERATIONS .. MAX_ITERATIONS``, or no reader would open the file).
    size : int, optional
        Length of the padded document, a multiple of :data:`PAD_BLOCK` (default: the next one).

    Example
    -------
    >>> key = derive_key("K7QM-2XPD-9HTR-WA4E-NB6C", bytes(16))
    >>> blob = encrypt("<p>hallo</p>", key, bytes(16))
    >>> blob[:4], len(blob) == HEADER.size + NONCE_BYTES + PAD_BLOCK + TAG_BYTES
    (b'OMLR', True)
    >>> encrypt("<p>hallo</p>", key, bytes(16)) == blob
    True
    >>> len(encrypt("<p>hallo</p>", key, bytes(16), size=3 * PAD_BLOCK)) == HEADER.size + NONCE_BYTES + 3 * PAD_BLOCK + TAG_BYTES
    True
    """
    if len(key) != KEY_BYTES:
        raise AccessError(f"the key must be {KEY_BYTES} bytes")
    check_iterations(iterations)
    header = HEADER.pack(MAGIC, VERSION, iterations, salt)
    padded = pad(document.encode("utf-8"), size=size)
    nonce = _nonce(key, header, padded)
    return header + nonce + AESGCM(key).encrypt(nonce, padded, header)


def parse(blob: bytes) -> tuple[bytes, int, bytes, bytes, bytes]:
    """Split a blob into ``(header, iterations, salt, nonce, ciphertext with tag)``, checking the header.

    The iteration count is checked against both bounds here, before any key derivation: it is only
    authenticated once the key is known.
    """
    if len(blob) < HEADER.size + NONCE_BYTES + TAG_BYTES:
        raise AccessError("not an OML report file: too short")
    magic, version, iterations, salt = HEADER.unpack_from(blob)
    if magic != MAGIC or version != VERSION:
        raise AccessError(f"not an OML report file of format version {VERSION}")
    check_iterations(iterations)
    start = HEADER.size + NONCE_BYTES
    return blob[:HEADER.size], iterations, salt, blob[HEADER.size:start], blob[start:]


def decrypt(blob: bytes, code: str) -> str:
    """Open a blob with a code; the report's HTML. A wrong code raises :class:`WrongCode`.

    Refuses (:class:`AccessError`) a header outside the format (magic, version, iterations outside
    ``MIN_ITERATIONS .. MAX_ITERATIONS``) before deriving anything, and a plaintext whose padding is not
    a multiple of :data:`PAD_BLOCK` ending in ``0x80`` and zeros.

    Example
    -------
    >>> import secrets
    >>> salt = secrets.token_bytes(16)
    >>> blob = encrypt("<p>hallo</p>", derive_key("K7QM-2XPD-9HTR-WA4E-NB6C", salt), salt)
    >>> decrypt(blob, "k7qm 2xpd 9htr wa4e nb6c")
    '<p>hallo</p>'
    >>> decrypt(blob, "K7QM-2XPD-9HTR-WA4E-NB6D")
    Traceback (most recent call last):
    ...
    oml.access.crypto.WrongCode: this code does not open this report
    """
    header, iterations, salt, nonce, ciphertext = parse(blob)
    key = derive_key(code, salt, iterations)
    try:
        padded = AESGCM(key).decrypt(nonce, ciphertext, header)
    except InvalidTag:
        raise WrongCode("this code does not open this report") from None
    return unpad(padded).decode("utf-8")
