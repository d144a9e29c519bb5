"""Access codes for the feedback reports and the files that keep them.

A code is 20 characters drawn with :mod:`secrets` from a 30-symbol alphabet without look-alikes
(no 0/O, 1/I/L, and no U, as in Crockford's base 32), shown in five groups of four:
``K7QM-2XPD-9HTR-WA4E-NB6C``. That is ``20 * log2(30) = 98.1`` random bits (the brief asks >= 80).
What a reader types is normalised before use: case, spaces, dashes, dots and underscores do not matter.

Two private files sit side by side and never go into the site:

* the **codes file** ``CODES.csv`` (columns ``kind,id,code``; kind ``school`` or ``board``), created on
  first use and extended when new schools or boards appear, so that a school keeps its code year after year;
* the **salt file** ``CODES.salts.csv`` (``kind,id,salt``): the random PBKDF2 salt of each report, kept so
  that a rebuild gives byte-identical files. It is as private as the codes: the salt is also written in
  the published file, so this file links every published file to its school.
"""
from __future__ import annotations

import csv
import io
import math
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: The symbols of a code: digits 2-9 and A-Z without I, L, O and U (no 0/O, 1/I/L look-alikes).
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUPS = 5
GROUP_SIZE = 4
LENGTH = GROUPS * GROUP_SIZE
#: Random bits in one code.
BITS = LENGTH * math.log2(len(ALPHABET))
KINDS = ("school", "board")
#: Characters a reader may type between the groups; they are dropped by :func:`normalise`.
SEPARATORS = " \t-_.\u2010\u2011\u2012\u2013\u2014"
SALT_BYTES = 16
COLUMNS = ["kind", "id", "code"]
SALT_COLUMNS = ["kind", "id", "salt"]

Key = tuple[str, str]


class AccessError(ValueError):
    """Bad access input (codes file, salt file, code, rotation request): the message says what and where."""


def new_code() -> str:
    """A fresh random access code in its grouped display form.

    Returns
    -------
    str
        ``GROUPS`` groups of ``GROUP_SIZE`` symbols of :data:`ALPHABET`, joined with dashes.

    Example
    -------
    >>> code = new_code()
    >>> len(normalise(code)) == LENGTH and code.count("-") == GROUPS - 1
    True
    """
    return display(''.join(secrets.choice(ALPHABET) for _ in range(LENGTH)))


def normalise(text: str) -> str:
    """The canonical form of a typed code: upper case, separators removed.

    The canonical form (20 symbols, no dashes, ASCII) is what the key derivation and the file locator use.

    Parameters
    ----------
    text : str
        A code as typed or stored, e.g. ``"k7qm 2xpd-9htr wa4e nb6c"``.

    Returns
    -------
    str

    Raises
    ------
    AccessError
        When the result has the wrong length or a symbol outside :data:`ALPHABET`.

    Example
    -------
    >>> normalise(" k7qm 2xpd-9htr_wa4e.nb6c ")
    'K7QM2XPD9HTRWA4ENB6C'
    """
    # Any whitespace (also a pasted non-breaking space) counts as a separator, as in the browser's \s.
    compact = "".join(ch for ch in str(text).upper() if not ch.isspace() and ch not in SEPARATORS)
    bad = sorted({ch for ch in compact if ch not in ALPHABET})
    if bad:
        raise AccessError(f"a code uses only {ALPHABET}; found {', '.join(repr(c) for c in bad)}")
    if len(compact) != LENGTH:
        raise AccessError(f"a code has {LENGTH} symbols (without dashes), not {len(compact)}")
    return compact


def display(code: str) -> str:
    """The grouped form of a code, as printed for readers and stored in the codes file.

    Example
    -------
    >>> display("K7QM2XPD9HTRWA4ENB6C")
    'K7QM-2XPD-9HTR-WA4E-NB6C'
    """
    canonical = normalise(code)
    return "-".join(canonical[i:i + GROUP_SIZE] for i in range(0, LENGTH, GROUP_SIZE))


def _rows(path: Path, columns: list[str], what: str) -> list[dict]:
    """The data rows of a small private CSV file, checked for exactly ``columns``."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise AccessError(f"{path}: the {what} is not UTF-8 text ({err.reason})") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if header != columns:
        raise AccessError(f"{path}: the {what} must have exactly the columns {','.join(columns)}; "
                          f"found {','.join(header) or '(nothing)'}")
    reader.fieldnames = header
    return [{k: (v or "").strip() for k, v in row.items() if k is not None} for row in reader]


def _rows_text(rows: list[int]) -> str:
    shown = ", ".join(map(str, rows[:10]))
    return f"{len(rows)} row{'s' if len(rows) != 1 else ''} (rows {shown}{', ...' if len(rows) > 10 else ''})"


def _check_keys(path: Path, rows: list[dict], problems: list[str]) -> None:
    """Kind and id rules shared by the codes and the salt file (rows counted from 1 = first data row)."""
    bad_kind = [i for i, r in enumerate(rows, 1) if r["kind"] not in KINDS]
    if bad_kind:
        problems.append(f"column 'kind': must be 'school' or 'board': {_rows_text(bad_kind)}")
    empty = [i for i, r in enumerate(rows, 1) if not r["id"]]
    if empty:
        problems.append(f"column 'id': must not be empty: {_rows_text(empty)}")
    seen: dict[Key, int] = {}
    dup = []
    for i, r in enumerate(rows, 1):
        key = (r["kind"], r["id"])
        if key in seen:
            dup.append(i)
        seen.setdefault(key, i)
    if dup:
        problems.append(f"columns 'kind','id': each school or board once (duplicates): {_rows_text(dup)}")


def _raise(path: Path, what: str, problems: list[str]) -> None:
    if problems:
        raise AccessError(f"{path}: the {what} is invalid ({len(problems)} problem{'s' if len(problems) > 1 else ''}; "
                          "row 1 is the first data row):\n" + "\n".join(f"- {p}" for p in problems))


def read_codes(path: Path) -> dict[Key, str]:
    """Read a codes file; ``{(kind, id): canonical code}``. A missing file is an empty book.

    Every problem is reported at once: unknown kind, empty id, a school or board twice, a malformed code,
    and the same code for two entries (two reports would share a file name).

    Example
    -------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "CODES.csv"
    >>> _ = p.write_text("kind,id,code\\nschool,SYN-S0001,k7qm-2xpd-9htr-wa4e-nb6c\\n")
    >>> read_codes(p)
    {('school', 'SYN-S0001'): 'K7QM2XPD9HTRWA4ENB6C'}
    """
    path = Path(path)
    if not path.exists():
        return {}
    rows = _rows(path, COLUMNS, "codes file")
    problems: list[str] = []
    _check_keys(path, rows, problems)
    bad_code, codes = [], {}
    for i, r in enumerate(rows, 1):
        try:
            codes[i] = normalise(r["code"])
        except AccessError:
            bad_code.append(i)
    if bad_code:
        problems.append(f"column 'code': must be {LENGTH} symbols of {ALPHABET} (dashes and spaces allowed): "
                        f"{_rows_text(bad_code)}")
    owner: dict[str, int] = {}
    shared = []
    for i, code in codes.items():
        if code in owner:
            shared.append(i)
        owner.setdefault(code, i)
    if shared:
        problems.append(f"column 'code': every school and board needs its own code (repeated codes): {_rows_text(shared)}")
    _raise(path, "codes file", problems)
    return {(r["kind"], r["id"]): codes[i] for i, r in enumerate(rows, 1)}


def salts_path(codes_path: Path) -> Path:
    """The salt file that belongs to a codes file: ``CODES.csv`` -> ``CODES.salts.csv``.

    Example
    -------
    >>> salts_path(Path("private/CODES.csv")).as_posix()
    'private/CODES.salts.csv'
    """
    codes_path = Path(codes_path)
    return codes_path.with_name(f"{codes_path.stem}.salts.csv")


def read_salts(path: Path) -> dict[Key, bytes]:
    """Read a salt file; ``{(kind, id): salt bytes}``. A missing file is empty."""
    path = Path(path)
    if not path.exists():
        return {}
    rows = _rows(path, SALT_COLUMNS, "salt file")
    problems: list[str] = []
    _check_keys(path, rows, problems)
    bad, salts = [], {}
    for i, r in enumerate(rows, 1):
        try:
            salt = bytes.fromhex(r["salt"])
        except ValueError:
            salt = b""
        if len(salt) != SALT_BYTES:
            bad.append(i)
        salts[i] = salt
    if bad:
        problems.append(f"column 'salt': must be {SALT_BYTES} bytes as {2 * SALT_BYTES} hexadecimal digits: {_rows_text(bad)}")
    _raise(path, "salt file", problems)
    return {(r["kind"], r["id"]): salts[i] for i, r in enumerate(rows, 1)}


def write_private(path: Path, text: str) -> None:
    """Write one of the private files (codes, salts, key cache): atomically, readable by the owner only.

    A crash never leaves half a file: the text goes to a temporary file next to ``path`` (mode
    ``0600``) that then replaces it. An unchanged file is not rewritten, so it keeps its timestamp.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return  # unchanged: keep the file (and its timestamp) as it is
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _csv_text(columns: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


def write_codes(path: Path, codes: dict[Key, str]) -> None:
    """Write a codes file, sorted by kind and id, codes in grouped form (stable diffs, easy to mail-merge)."""
    rows = [[kind, id_, display(code)] for (kind, id_), code in sorted(codes.items())]
    write_private(Path(path), _csv_text(COLUMNS, rows))


def write_salts(path: Path, salts: dict[Key, bytes]) -> None:
    """Write a salt file, sorted by kind and id."""
    rows = [[kind, id_, salt.hex()] for (kind, id_), salt in sorted(salts.items())]
    write_private(Path(path), _csv_text(SALT_COLUMNS, rows))


def resolve_rotation(requests, known: set[Key]) -> set[Key]:
    """Which entries ``--rotate`` means: ``ID`` or ``kind:ID``; an unknown or ambiguous id is an error.

    Example
    -------
    >>> sorted(resolve_rotation(["SYN-S0001", "board:SYN-B01"], {("school", "SYN-S0001"), ("board", "SYN-B01")}))
    [('board', 'SYN-B01'), ('school', 'SYN-S0001')]
    """
    chosen: set[Key] = set()
    for request in requests:
        kind, sep, id_ = str(request).strip().partition(":")
        if sep and kind in KINDS:
            matches = [(kind, id_)] if (kind, id_) in known else []
        else:
            id_ = str(request).strip()
            matches = sorted(k for k in known if k[1] == id_)
        if not matches:
            raise AccessError(f"--rotate {request}: no school or board with that id in the data or the codes file")
        if len(matches) > 1:
            raise AccessError(f"--rotate {request}: both a school and a board have this id; "
                              f"write school:{id_} or board:{id_}")
        chosen.update(matches)
    return chosen


@dataclass(frozen=True)
class CodeBookUpdate:
    """The outcome of :func:`ensure_codes`."""

    codes: dict[Key, str]      # every entry, canonical codes (also entries without a report this time)
    salts: dict[Key, bytes]
    created: tuple[Key, ...]   # entries that got their first code
    rotated: tuple[Key, ...]   # entries that got a new code (and a new salt)


def ensure_codes(codes_path: Path, needed, rotate=(), create: bool = True, write: bool = True) -> CodeBookUpdate:
    """Give every needed school and board a code and a salt, reusing the ones on file.

    Parameters
    ----------
    codes_path : Path
        The codes file (created when missing); its salt file is :func:`salts_path`.
    needed : iterable of (kind, id)
        The reports of this build.
    rotate : iterable of str
        ``--rotate`` requests (``ID`` or ``kind:ID``): a new code and a new salt for each.
    create : bool
        When False, a needed entry without a code is an error instead of getting one (for a committed
        demo codes file that a build must not change).
    write : bool
        When False, the new codes and salts are not written yet: :func:`save_codes` writes them once the
        reports they open are about to be published (a build that fails hands out no code).

    Returns
    -------
    CodeBookUpdate
        Entries that are in the file but not needed now keep their codes: a school that skips a year
        finds its code unchanged the next.
    """
    codes_path = Path(codes_path)
    needed = set(needed)
    codes = read_codes(codes_path)
    salts = read_salts(salts_path(codes_path))
    rotated = resolve_rotation(rotate, set(codes) | needed)
    missing = sorted(k for k in needed if k not in codes)
    if missing and not create:
        shown = ", ".join(f"{k}:{i}" for k, i in missing[:10])
        raise AccessError(f"{codes_path}: no code for {len(missing)} report(s) ({shown}{', ...' if len(missing) > 10 else ''}); "
                          "run `oml reports` with this codes file to add them")
    used = set(codes.values())
    for key in missing + sorted(rotated):
        code = normalise(new_code())
        while code in used:  # 98 bits make a clash practically impossible; never hand out one twice anyway
            code = normalise(new_code())
        used.add(code)
        codes[key] = code
        salts[key] = secrets.token_bytes(SALT_BYTES)  # a new code gets a new salt
    for key in sorted(needed):
        if key not in salts:
            salts[key] = secrets.token_bytes(SALT_BYTES)
    update = CodeBookUpdate(codes, salts, tuple(missing), tuple(sorted(rotated)))
    if write:
        save_codes(codes_path, update)
    return update


def save_codes(codes_path: Path, update: CodeBookUpdate) -> None:
    """Write the codes file and its salt file of ``update`` (see :func:`ensure_codes`)."""
    write_codes(Path(codes_path), update.codes)
    write_salts(salts_path(Path(codes_path)), update.salts)
