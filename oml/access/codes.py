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

Both are written atomically with mode ``0600``, and the mode is set again on every run (also when the
content is unchanged). The committed demo codes file of the public site (``book/terugkoppeling/demo-codes.csv``
and its salt file, :func:`is_demo_file`) holds synthetic ``SYN-`` ids only: every function here that reads
or writes it refuses any other id.

:func:`ensure_codes` warns (:attr:`CodeBookUpdate.warnings`; never a code in the text) about a salt file that
does not belong to the codes (ids the codes file lacks, or existing codes without a salt, whose salts are
then drawn anew) and about weak hand-made codes (:func:`weakness`).
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

from oml import paths
from oml.data import SYNTHETIC_PREFIX

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
#: A code with fewer different symbols than this is weak (a random code has fewer with probability 3e-7).
MIN_DISTINCT = 8
#: A run of this many equal symbols, or of symbols consecutive in :data:`ALPHABET` (either way), is weak.
RUN = 5
#: Words people type when they make a code by hand (only words that fit the alphabet; at least 5 symbols,
#: so a random code contains one with probability below 1e-5).
WEAK_WORDS = ("QWERTY", "AZERTY", "ASDFG", "ZXCVB", "SECRET", "PASSW", "WACHTW")

Key = tuple[str, str]


class AccessError(ValueError):
    """Bad access input (codes file, salt file, code, rotation request): the message says what and where."""


def new_code() -> str:
    """A fresh random access code in its grouped display form.

    A draw that :func:`weakness` would call weak (about 1 in 20,000) is drawn again, so a code on file
    that is weak was made by hand; this removes a negligible part of the 98 bits.

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
    while True:
        code = ''.join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        if weakness(code) is None:
            return display(code)


def weakness(code: str) -> str | None:
    """Why a code looks hand-made and weak, or None. Simple, documented rules on the canonical 20 symbols:

    * fewer than :data:`MIN_DISTINCT` (8) different symbols (``TEST-TEST-TEST-TEST-TEST``);
    * a run of :data:`RUN` (5): the same symbol five times in a row, or five symbols consecutive in
      :data:`ALPHABET`, up or down (``22222``, ``6789A``, ``ABCDE``, ``ZYXWV``);
    * the same group of four twice (``K7QM-K7QM-…``);
    * one of :data:`WEAK_WORDS` (``QWERTY``, ``SECRET``, …).

    A code drawn by :func:`new_code` trips a rule with probability below 1 in 10,000 (and is then drawn
    again); the rules catch what people type, not every pattern.

    Example
    -------
    >>> weakness("K7QM-2XPD-9HTR-WA4E-NB6C") is None
    True
    >>> weakness("2345-6789-ABCD-EFGH-JKMN")
    'a run of 5 or more consecutive symbols (such as 23456)'
    >>> weakness("AAAA-BBBB-CCCC-DDDD-EEEE")
    'only 5 different symbols (at least 8)'
    """
    code = normalise(code)
    distinct = len(set(code))
    if distinct < MIN_DISTINCT:
        return f"only {distinct} different symbols (at least {MIN_DISTINCT})"
    index = [ALPHABET.index(ch) for ch in code]
    for start in range(LENGTH - RUN + 1):
        steps = {index[i + 1] - index[i] for i in range(start, start + RUN - 1)}
        if steps == {0}:
            return f"a run of {RUN} or more equal symbols (such as {code[start] * RUN})"
        if steps in ({1}, {-1}):
            return f"a run of {RUN} or more consecutive symbols (such as {code[start:start + RUN]})"
    groups = [code[i:i + GROUP_SIZE] for i in range(0, LENGTH, GROUP_SIZE)]
    if len(set(groups)) < len(groups):
        return "the same group of four symbols twice"
    for word in WEAK_WORDS:
        if word in code:
            return f"a common word ({word})"
    return None


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


def is_demo_file(path: Path) -> bool:
    """Whether ``path`` is the committed demo codes file of the public site, or its salt file.

    Recognised by where it lies, in this checkout or in any copy of the project
    (``…/book/terugkoppeling/demo-codes.csv`` and ``….salts.csv``; symbolic links and ``..`` resolved,
    case ignored).

    Example
    -------
    >>> is_demo_file(Path("/x/book/terugkoppeling/demo-codes.salts.csv")), is_demo_file(Path("/x/CODES.csv"))
    (True, False)
    """
    demo = paths.DEMO_CODES.relative_to(paths.ROOT)
    tails = [tuple(p.casefold() for p in t.parts) for t in (demo, salts_path(demo))]
    parts = tuple(p.casefold() for p in Path(path).resolve().parts)
    return any(parts[-len(tail):] == tail for tail in tails)


def refuse_real_in_demo(path: Path, keys) -> None:
    """Refuse (:class:`AccessError`) any id that is not a synthetic ``SYN-`` id when ``path`` is the demo file.

    The demo codes are printed on the public site: a real school's code there would be public.

    Example
    -------
    >>> refuse_real_in_demo(Path("/x/book/terugkoppeling/demo-codes.csv"), [("school", "12AB")])
    Traceback (most recent call last):
    ...
    oml.access.codes.AccessError: /x/book/terugkoppeling/demo-codes.csv is the demo codes file of the public site: synthetic (SYN-) ids only, not school:12AB; real codes never go into the demo file
    """
    if not is_demo_file(path):
        return
    real = sorted(f"{kind}:{id_}" for kind, id_ in keys if not str(id_).startswith(SYNTHETIC_PREFIX))
    if real:
        raise AccessError(f"{path} is the demo codes file of the public site: synthetic ({SYNTHETIC_PREFIX}) ids only, "
                          f"not {', '.join(real[:5])}{', ...' if len(real) > 5 else ''}; real codes never go into "
                          "the demo file")


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
    result = {(r["kind"], r["id"]): codes[i] for i, r in enumerate(rows, 1)}
    refuse_real_in_demo(path, result)
    return result


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
    result = {(r["kind"], r["id"]): salts[i] for i, r in enumerate(rows, 1)}
    refuse_real_in_demo(path, result)
    return result


def write_private(path: Path, text: str) -> None:
    """Write one of the private files (codes, salts, key cache): atomically, readable by the owner only.

    A crash never leaves half a file: the text goes to a temporary file next to ``path`` (mode
    ``0600``, name ``.<name>.<random>.tmp``) that then replaces it. An unchanged file is not rewritten,
    so it keeps its timestamp, but its mode is set to ``0600`` on every call: a file copied in with
    another mode is fixed by the next run. A symbolic link is followed: its target is written, where the
    owner chose to keep the file.
    """
    path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        os.chmod(path, 0o600)  # unchanged: keep the content and timestamp, but never a wider mode
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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
    refuse_real_in_demo(path, codes)
    rows = [[kind, id_, display(code)] for (kind, id_), code in sorted(codes.items())]
    write_private(Path(path), _csv_text(COLUMNS, rows))


def write_salts(path: Path, salts: dict[Key, bytes]) -> None:
    """Write a salt file, sorted by kind and id."""
    refuse_real_in_demo(path, salts)
    rows = [[kind, id_, salt.hex()] for (kind, id_), salt in sorted(salts.items())]
    write_private(Path(path), _csv_text(SALT_COLUMNS, rows))


def _requested(request) -> Key:
    """The ``(kind, id)`` a ``--rotate`` request names, before it is resolved (kind ``school/board`` if not given)."""
    kind, sep, id_ = str(request).strip().partition(":")
    return (kind, id_) if sep and kind in KINDS else ("school/board", str(request).strip())


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
    warnings: tuple[str, ...] = ()  # foreign or regenerated salts, weak codes: ids only, never a code


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
        finds its code unchanged the next. Its ``warnings`` name (by kind and id, never by code) salts
        of ids the codes file lacks, existing codes without a salt (a new salt is drawn: the salt file
        was lost or is another one), and weak codes (:func:`weakness`).

    Raises
    ------
    AccessError
        Also when ``codes_path`` is the demo codes file (:func:`is_demo_file`) and a needed or rotated
        entry is not a synthetic ``SYN-`` id.
    """
    codes_path = Path(codes_path)
    needed, rotate = set(needed), list(rotate)
    refuse_real_in_demo(codes_path, needed | {_requested(r) for r in rotate})
    codes = read_codes(codes_path)
    salts = read_salts(salts_path(codes_path))
    warnings = _salt_warnings(codes, salts, needed) + _weak_warnings(codes)
    rotated = resolve_rotation(rotate, set(codes) | needed)
    refuse_real_in_demo(codes_path, rotated)
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
    update = CodeBookUpdate(codes, salts, tuple(missing), tuple(sorted(rotated)), tuple(warnings))
    if write:
        save_codes(codes_path, update)
    return update


def _entries(keys) -> str:
    shown = ", ".join(f"{kind}:{id_}" for kind, id_ in sorted(keys)[:5])
    return shown + (", ..." if len(keys) > 5 else "")


def _salt_warnings(codes: dict[Key, str], salts: dict[Key, bytes], needed: set[Key]) -> list[str]:
    """Signs that the salt file is not the one these codes were published with."""
    out = []
    foreign = set(salts) - set(codes)
    if foreign:
        out.append(f"the salt file has {len(foreign)} id(s) that the codes file lacks ({_entries(foreign)}): "
                   "is it the salt file of another codes file?")
    lost = {k for k in needed if k in codes and k not in salts}
    if lost:
        out.append(f"no salt on file for {len(lost)} existing code(s) ({_entries(lost)}): new salts are drawn, so "
                   "their report files change (was the salt file lost or regenerated?)")
    return out


def _weak_warnings(codes: dict[Key, str]) -> list[str]:
    """One line per weak code on file, by kind and id (never the code): rotate it."""
    out = []
    for (kind, id_), code in sorted(codes.items()):
        reason = weakness(code)
        if reason:
            out.append(f"the code of {kind}:{id_} is weak ({reason}); made by hand? Give it a new one: "
                       f"--rotate {kind}:{id_}")
    return out


def save_codes(codes_path: Path, update: CodeBookUpdate) -> None:
    """Write the codes file and its salt file of ``update`` (see :func:`ensure_codes`).

    For the demo codes file both are checked before either is written: synthetic ids only.
    """
    codes_path = Path(codes_path)
    refuse_real_in_demo(codes_path, update.codes)
    refuse_real_in_demo(salts_path(codes_path), update.salts)
    write_codes(codes_path, update.codes)
    write_salts(salts_path(codes_path), update.salts)
