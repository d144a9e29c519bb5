"""From rendered reports to the published folder: codes, keys, encryption, index page.

:func:`publish_reports` takes ``{(kind, id): html}`` and writes ``out_dir/index.html`` (where a reader
types a code) plus one self-contained encrypted page per report, named by :func:`oml.access.crypto.locator`
of its code. The codes file, its salt file and the key cache stay where the caller keeps the codes, never
in ``out_dir``.

Speed: the PBKDF2 derivation (600,000 iterations, about 0,08 s each here) is the only real cost. Derived
keys are cached in a private JSON file next to the codes file (``CODES.keys.json``, mode 0600), keyed by
a hash of (code, salt, iterations), so an unchanged code costs no new derivation; the missing ones are
derived in parallel threads (OpenSSL releases the GIL). The keys depend on the codes only, not on the
reports, so a build starts them with :func:`start_keys` as soon as it knows which reports it will make:
they are derived at low priority on whatever core the report execution leaves idle (the engine's
start-up, the last reports) and :func:`publish_reports` only waits for what is left.

Hardening (docs/reports.md, "What the pages protect against"):

* every page carries a Content-Security-Policy (:data:`CSP`, a ``<meta>``): no script but the page's own
  inline script (allowed by its SHA-256, computed here), no request but ``fetch`` of the encrypted files
  from the same origin; the decrypted report, shown in the page, runs no script;
* the title is generic (:data:`TITLE`) on every page and stays so with a report open; the report is
  wiped on ``pagehide``, so the back/forward cache never shows it again;
* all school reports are padded to one size and all board reports to another (the largest of the kind,
  rounded up to 16 KiB): no file size singles out a school or board;
* the folder is written next to ``out_dir`` and renamed into place, and only then are the codes saved: a
  run that fails at any point hands out no code and leaves the published folder as it was.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from oml.access import codes as codes_mod
from oml.access.codes import KINDS, AccessError, CodeBookUpdate, Key, ensure_codes, save_codes, write_private
from oml.access.crypto import (HEADER, ITERATIONS, LOCATOR_HEX, LOCATOR_PREFIX, MAGIC, MAX_ITERATIONS, MIN_ITERATIONS,
                               PAD_BLOCK, VERSION, derive_key, encrypt, locator, padded_size)

TEMPLATES = Path(__file__).parent / "templates"
#: Names of the encrypted report files; anything else in the folder is left alone.
REPORT_FILE = re.compile(rf"^[0-9a-f]{{{LOCATOR_HEX}}}\.html$")
INDEX = "index.html"
_CACHE_PREFIX = b"OML key cache v1\0"
#: The one title of every page, before and after a report is opened: never a school's name (it would
#: land in the browser's history and tab list).
TITLE = "Terugkoppeling OML"
#: The Content-Security-Policy of the code page and every report page (``@@SCRIPT@@``: the SHA-256 of the
#: page's inline script). ``style-src 'unsafe-inline'``: the decrypted report brings its own ``<style>``
#: and SVG ``style`` attributes, and nothing a style could load is allowed (no images, fonts or other
#: requests). ``connect-src 'self'``: the code page fetches the encrypted file from its own folder.
#: ``frame-ancestors`` cannot be set in a ``<meta>``: a host that can send headers should add it.
CSP = ("default-src 'none'; script-src '@@SCRIPT@@'; style-src 'unsafe-inline'; connect-src 'self'; "
       "base-uri 'none'; form-action 'none'")
#: Under the code form: what stays in the browser and what the web host sees.
PRIVACY = ("Het rapport wordt in uw eigen browser geopend. De code wordt niet verstuurd en nergens bewaard. Wel ziet "
           "de webserver, zoals bij elke website, welk versleuteld bestand is opgevraagd, wanneer en vanaf welk "
           "IP-adres; de code en de inhoud van het rapport ziet de server niet.")

_INDEX_TEXT = dict(
    heading="Terugkoppeling voor scholen en besturen",
    intro=("<p>Elke school en elk bestuur heeft een eigen rapport met de eigen cijfers. Het rapport is versleuteld "
           "en gaat alleen open met de toegangscode die de schoolleiding of het bestuur heeft gekregen.</p>"),
)
_REPORT_TEXT = dict(
    heading="Versleuteld rapport",
    intro="<p>Dit bestand bevat een versleuteld rapport. Het gaat alleen open met de bijbehorende toegangscode.</p>",
)


#: Shown on the index and report pages of a synthetic build (the demo on the public site), as on every site page.
SYNTHETIC_NOTICE = ('<div class="oml-synthetic-banner" role="note">Let op: deze rapporten horen bij verzonnen scholen en '
                    'besturen en zijn berekend uit <strong>synthetische</strong> gegevens. Het zijn <strong>geen '
                    'resultaten van de OnderwijsMonitor Limburg</strong>.</div>\n')


def _script() -> str:
    """The page's inline script, exactly as it stands between ``<script>`` and ``</script>``."""
    js = (TEMPLATES / "access.js").read_text(encoding="utf-8")
    for name, value in {
        "ALPHABET": codes_mod.ALPHABET, "LENGTH": codes_mod.LENGTH, "LOCATOR_PREFIX": LOCATOR_PREFIX.decode().rstrip("\n"),
        "LOCATOR_HEX": LOCATOR_HEX, "MAGIC": MAGIC.decode(), "VERSION": VERSION, "MIN_ITERATIONS": MIN_ITERATIONS,
        "MAX_ITERATIONS": MAX_ITERATIONS, "PAD_BLOCK": PAD_BLOCK, "TITLE": TITLE,
    }.items():
        js = js.replace(f"@@{name}@@", str(value))
    return "\n" + js


def script_hash(script: str) -> str:
    """The CSP source of an inline script: ``sha256-`` and the base64 SHA-256 of its UTF-8 text.

    Example
    -------
    >>> script_hash("alert(1)")
    'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='
    """
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


def content_security_policy() -> str:
    """The policy of every page: :data:`CSP` with the hash of this version's script."""
    return CSP.replace("@@SCRIPT@@", script_hash(_script()))


def _page(mode: str, text: dict, payload: str = "", synthetic: bool = False) -> str:
    html = (TEMPLATES / "page.html").read_text(encoding="utf-8")
    html = html.replace("@@NOTICE@@", SYNTHETIC_NOTICE if synthetic else "")
    script = _script()
    # Order matters: the payload and script go in last, so no placeholder text inside them is ever replaced.
    for name, value in (("CSP", CSP.replace("@@SCRIPT@@", script_hash(script))), ("TITLE", TITLE),
                        ("HEADING", text["heading"]), ("INTRO", text["intro"]), ("PRIVACY", PRIVACY),
                        ("MODE", mode), ("LENGTH", str(codes_mod.LENGTH)), ("GROUP_SIZE", str(codes_mod.GROUP_SIZE)),
                        ("CSS", (TEMPLATES / "access.css").read_text(encoding="utf-8"))):
        html = html.replace(f"@@{name}@@", value)
    html = html.replace("@@PAYLOAD@@", payload)
    return html.replace("\n@@JS@@", script)


def index_page(synthetic: bool = False) -> str:
    """The page where a reader types a code; the same for every build (it reveals nothing of the reports).

    ``synthetic`` adds the notice that the reports are computed from synthetic data.

    Example
    -------
    >>> page = index_page()
    >>> '<html lang="nl">' in page and 'for="oml-code"' in page and 'role="alert"' in page
    True
    >>> f'<meta http-equiv="Content-Security-Policy" content="{content_security_policy()}">' in page
    True
    """
    return _page("index", _INDEX_TEXT, synthetic=synthetic)


def report_page(blob: bytes, synthetic: bool = False) -> str:
    """A self-contained encrypted report page: the blob (base64) plus the same code form and script.

    Opened directly, it asks for its code and decrypts itself; the index page fetches it and reads the blob.

    Example
    -------
    >>> page = report_page(b"OMLR")
    >>> '<script id="oml-report" type="application/octet-stream">T01MUg==</script>' in page
    True
    """
    payload = ('<script id="oml-report" type="application/octet-stream">'
               f"{base64.b64encode(blob).decode('ascii')}</script>\n")
    return _page("embedded", _REPORT_TEXT, payload, synthetic)


def key_cache_path(codes_path: Path) -> Path:
    """The default private key cache of a codes file: ``CODES.csv`` -> ``CODES.keys.json``.

    Example
    -------
    >>> key_cache_path(Path("private/CODES.csv")).as_posix()
    'private/CODES.keys.json'
    """
    codes_path = Path(codes_path)
    return codes_path.with_name(f"{codes_path.stem}.keys.json")


def _fingerprint(code: str, salt: bytes, iterations: int) -> str:
    return hashlib.sha256(_CACHE_PREFIX + code.encode("ascii") + b"\0" + salt + iterations.to_bytes(4, "big")).hexdigest()


def _read_cache(path: Path) -> dict[str, bytes]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {k: bytes.fromhex(v) for k, v in data["keys"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}  # a missing or damaged cache only costs derivations


@dataclass
class PublishResult:
    """What :func:`publish_reports` did (counts for the log; ``files`` stays in memory, it links files to ids)."""

    out_dir: Path
    files: dict[Key, str] = field(default_factory=dict)
    created: tuple[Key, ...] = ()
    rotated: tuple[Key, ...] = ()
    derived: int = 0
    cached: int = 0
    written: int = 0
    removed: int = 0
    derive_seconds: float = 0.0
    seconds: float = 0.0
    sizes: dict[str, int] = field(default_factory=dict)  # kind -> bytes of its padded reports
    warnings: tuple[str, ...] = ()  # foreign or changed salts, weak codes: ids only, never a code

    def summary(self) -> str:
        """One line of counts, then one ``WARNING:`` line per warning (logs are not private: no code in either)."""
        line = (f"{len(self.files)} reports in {self.out_dir}: {len(self.created)} new codes, {len(self.rotated)} rotated; "
                f"{self.derived} keys derived ({self.derive_seconds:.1f} s), {self.cached} from the cache; "
                f"{self.written} files written, {self.removed} stale removed; {self.seconds:.1f} s")
        return "\n".join([line] + [f"  WARNING: {w}" for w in self.warnings])


def _check_documents(documents) -> None:
    problems = []
    for key, html in documents.items():
        if not (isinstance(key, tuple) and len(key) == 2 and key[0] in KINDS and isinstance(key[1], str) and key[1].strip()):
            problems.append(f"{key!r}: a report is keyed by (kind, id) with kind 'school' or 'board' and a non-empty id")
        elif not isinstance(html, str) or not html.strip():
            problems.append(f"{key[0]} {key[1]}: the report must be a non-empty HTML string")
    if problems:
        raise AccessError("reports to publish are invalid:\n" + "\n".join(f"- {p}" for p in problems[:20]))


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _lower_priority() -> None:
    """Run this thread at the lowest CPU priority (Linux: niceness is per thread), where possible."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):  # not Linux, or not allowed: derive at normal priority
        pass


class PendingKeys:
    """Keys being derived in background threads; :meth:`result` waits for them and writes the key cache.

    Made by :func:`start_keys` with ``background=True``: low-priority threads that run while the reports
    are made.
    """

    def __init__(self, requests: dict[Key, tuple[str, bytes]], iterations: int, cache_path: Path | None,
                 jobs: int | None = None, background: bool = False, seed: Path | None = None):
        self.requests, self.iterations = dict(requests), iterations
        self.cache_path = Path(cache_path) if cache_path else None
        # ``seed``: a read-only cache of the same format (the committed keys of the public demo codes).
        cache = {**(_read_cache(Path(seed)) if seed else {}), **(_read_cache(self.cache_path) if self.cache_path else {})}
        self.prints = {entry: _fingerprint(code, salt, iterations) for entry, (code, salt) in self.requests.items()}
        self.keys = {entry: cache[fp] for entry, fp in self.prints.items() if fp in cache}
        self.todo = sorted(entry for entry in self.requests if entry not in self.keys)
        self.start = time.perf_counter()
        self._last = self.start  # when the last derivation ended (the derivation time, not the wait for the reports)
        self._pool = None
        self._futures = []
        if self.todo:
            # In the background the threads yield to the report execution: they use idle cores only.
            self._pool = ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1,
                                            initializer=_lower_priority if background else None)
            self._futures = [self._pool.submit(derive_key, self.requests[e][0], self.requests[e][1], iterations)
                             for e in self.todo]
        for future in self._futures:
            future.add_done_callback(self._ended)
        self._done: tuple[dict[Key, bytes], int, float] | None = None

    def _ended(self, _future) -> None:
        self._last = max(self._last, time.perf_counter())

    def result(self) -> tuple[dict[Key, bytes], int, float]:
        """``(keys, how many were derived, seconds from the start until the last key was derived)``.

        The cache is rewritten with exactly the keys of this build, so a rotated code's old key does not linger.
        """
        if self._done is None:
            try:
                self.keys.update(zip(self.todo, (f.result() for f in self._futures)))
            finally:
                if self._pool is not None:
                    self._pool.shutdown(wait=True, cancel_futures=True)
            seconds = self._last - self.start
            if self.cache_path:
                write_private(self.cache_path, self.cache_text())
            self._done = (self.keys, len(self.todo), seconds)
        return self._done

    def cache_text(self) -> str:
        """The key cache's file content: every key known so far, by the fingerprint of its code, salt and iterations."""
        return json.dumps({"version": 1, "keys": {self.prints[e]: self.keys[e].hex() for e in sorted(self.keys)}},
                          indent=0, sort_keys=True) + "\n"

    def cancel(self) -> None:
        """Stop deriving (the build failed); nothing is written."""
        if self._pool is not None and self._done is None:
            self._pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class KeyPlan:
    """The codes and keys of one publication, begun before its reports exist (:func:`start_keys`)."""

    codes_path: Path
    key_cache: Path
    entries: frozenset
    book: CodeBookUpdate
    pending: PendingKeys

    def cancel(self) -> None:
        self.pending.cancel()


def _check_private_paths(codes_path: Path, key_cache: Path, out_dir: Path) -> None:
    for what, path in (("codes file", codes_path), ("salt file", codes_mod.salts_path(codes_path)), ("key cache", key_cache)):
        if _inside(path, out_dir):
            raise AccessError(f"the {what} {path} lies inside the published folder {out_dir}: keep it private, elsewhere")


def start_keys(entries, codes_path: Path, *, rotate=(), iterations: int = ITERATIONS, key_cache: Path | None = None,
               jobs: int | None = None, create_codes: bool = True, seed_keys: Path | None = None) -> KeyPlan:
    """Begin the keys of the reports ``entries`` (``(kind, id)`` pairs) before the reports are made.

    The codes are looked up (new ones made, ``rotate`` applied) in memory only: :func:`publish_reports`
    writes the codes file when it publishes, so a build that fails hands out no new code. The keys
    are derived in low-priority background threads. Pass the plan to :func:`publish_reports` as ``keys``.
    ``seed_keys`` is a read-only key file in the cache's format whose keys need no derivation (only the
    public demo has one: :data:`oml.paths.DEMO_KEYS`); a key is taken from it only for the same code, salt
    and iterations.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> plan = start_keys([("school", "SYN-S0001")], tmp / "CODES.csv")
    >>> (tmp / "CODES.csv").exists()  # written only when the reports are published
    False
    >>> result = publish_reports({("school", "SYN-S0001"): "<p>Rapport</p>"}, tmp / "CODES.csv", tmp / "site", keys=plan)
    >>> result.derived, (tmp / "CODES.csv").exists()
    (1, True)
    """
    if not MIN_ITERATIONS <= iterations <= MAX_ITERATIONS:
        raise AccessError(f"at least {MIN_ITERATIONS:,} and at most {MAX_ITERATIONS:,} PBKDF2 iterations, not {iterations:,}")
    codes_path = Path(codes_path)
    key_cache = Path(key_cache) if key_cache is not None else key_cache_path(codes_path)
    entries = frozenset(entries)
    book = ensure_codes(codes_path, entries, rotate=rotate, create=create_codes, write=False)  # refuses real ids first
    from oml import paths

    if key_cache.resolve() == paths.DEMO_KEYS.resolve() or key_cache.name == paths.DEMO_KEYS.name:
        # The committed demo keys are read only as a seed (start_site_demo_keys); written as a run's key cache
        # they would hold only that run's keys, and a private file's mode.
        raise AccessError(f"the key cache {key_cache} is the committed demo key file: keep a run's key cache elsewhere")
    requests = {entry: (book.codes[entry], book.salts[entry]) for entry in entries}
    return KeyPlan(codes_path, key_cache, entries, book,
                   PendingKeys(requests, iterations, key_cache, jobs, background=True, seed=seed_keys))


def publish_reports(documents: dict[Key, str], codes_path: Path, out_dir: Path, *, rotate=(),
                    iterations: int = ITERATIONS, key_cache: Path | None = None, jobs: int | None = None,
                    create_codes: bool = True, synthetic: bool = False, keys: KeyPlan | None = None) -> PublishResult:
    """Encrypt every report and write the published folder.

    Parameters
    ----------
    documents : dict
        ``{(kind, id): html}``, kind ``"school"`` or ``"board"``; each value a self-contained HTML document.
    codes_path : Path
        The private codes file (``kind,id,code``), created or extended as needed; its salt file
        (``CODES.salts.csv``) sits beside it. Must lie outside ``out_dir``.
    out_dir : Path
        The published folder: ``index.html`` and one ``<32 hex digits>.html`` per report. Report files of
        earlier builds that no code opens any more (a rotated code) are removed; other files are left alone.
        The new folder is made beside it (``.<name>.new-…``, so its parent must be writable) and renamed
        into place; the codes file is written after that, and the old folder is restored if that fails.
    rotate : iterable of str
        Ids (or ``kind:id``) that get a new code, a new salt, hence a new file.
    iterations : int
        PBKDF2-SHA256 iterations (600,000 to 6,000,000: what the readers accept).
    key_cache : Path, optional
        Private key cache; default :func:`key_cache_path` of the codes file. Must lie outside ``out_dir``.
    jobs : int, optional
        Threads for key derivation (default: all cores).
    create_codes : bool
        False for a committed codes file that the build must not change (a report without a code is an error).
    synthetic : bool
        Show the synthetic-data notice (class ``oml-synthetic-banner``) on the index and the report pages.
    keys : KeyPlan, optional
        Codes and keys begun earlier by :func:`start_keys` for exactly these reports (then ``rotate``,
        ``iterations``, ``key_cache``, ``jobs`` and ``create_codes`` were given there).

    Returns
    -------
    PublishResult

    Example
    -------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> result = publish_reports({("school", "SYN-S0001"): "<p>Rapport</p>"}, tmp / "CODES.csv", tmp / "site")
    >>> sorted(p.name == "index.html" or bool(REPORT_FILE.match(p.name)) for p in (tmp / "site").iterdir())
    [True, True]
    >>> (tmp / "CODES.csv").read_text().splitlines()[0]
    'kind,id,code'
    """
    start = time.perf_counter()
    out_dir = Path(out_dir)
    try:
        _check_documents(documents)
        if keys is None:
            keys = start_keys(documents.keys(), codes_path, rotate=rotate, iterations=iterations, key_cache=key_cache,
                              jobs=jobs, create_codes=create_codes)
        elif Path(codes_path) != keys.codes_path or keys.entries != frozenset(documents):
            raise AccessError("the keys begun for this publication are for other reports or another codes file")
        _check_private_paths(keys.codes_path, keys.key_cache, out_dir)
        if out_dir.exists() and not out_dir.is_dir():
            raise AccessError(f"--out {out_dir} exists and is not a folder")
        codes_mod.refuse_real_in_demo(keys.codes_path, documents)  # also when the plan was begun elsewhere
    except AccessError:
        if keys is not None:
            keys.cancel()
        raise
    book, iterations = keys.book, keys.pending.iterations
    requests = {entry: (book.codes[entry], book.salts[entry]) for entry in documents}
    key_of, derived, derive_seconds = keys.pending.result()

    sizes = report_sizes(documents)
    pages: dict[str, bytes] = {INDEX: index_page(synthetic).encode("utf-8")}
    files: dict[Key, str] = {}
    for entry in sorted(documents):
        code, salt = requests[entry]
        name = f"{locator(code)}.html"
        if name in pages:  # two codes with one 128-bit locator: never expected, never silently overwritten
            raise AccessError(f"two reports would share the file {name}; rotate one of their codes")
        blob = encrypt(documents[entry], key_of[entry], salt, iterations, size=sizes[entry[0]])
        pages[name] = report_page(blob, synthetic).encode("utf-8")
        files[entry] = name
    warnings = book.warnings + tuple(_changed_salts(out_dir, files, requests))

    # The whole folder is written beside out_dir and renamed into place; the codes are saved only then, and
    # if saving fails the old folder comes back: a failed run hands out no code and publishes nothing.
    target = Path(os.path.realpath(out_dir))  # a symbolic link to the folder stays a link to the new one
    staged = _stage(pages, target)
    try:
        old = _swap_in(staged.folder, target)
    except BaseException:
        shutil.rmtree(staged.folder, ignore_errors=True)
        raise
    try:
        save_codes(keys.codes_path, book)
    except BaseException:
        _swap_back(target, old)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return PublishResult(out_dir, files, book.created, book.rotated, derived, len(documents) - derived,
                         staged.written, staged.removed, derive_seconds, time.perf_counter() - start, sizes, warnings)


def report_sizes(documents: dict[Key, str]) -> dict[str, int]:
    """The padded size of every report of a kind: the largest document of the kind, rounded up to 16 KiB.

    So every school report file has one size and every board report file another; the size says the
    kind and nothing about which school or board, nor which sentences its report holds.

    Example
    -------
    >>> report_sizes({("school", "A"): "x" * 20_000, ("school", "B"): "x", ("board", "C"): "x"})
    {'board': 16384, 'school': 32768}
    """
    sizes: dict[str, int] = {}
    for (kind, _), html in sorted(documents.items()):
        sizes[kind] = max(sizes.get(kind, 0), padded_size(len(html.encode("utf-8"))))
    return sizes


def _changed_salts(out_dir: Path, files: dict[Key, str], requests: dict[Key, tuple[str, bytes]]) -> list[str]:
    """A warning when a published file of a code carries another salt than the salt file now gives it.

    The file name depends on the code alone, so the file of an unchanged code is found again; its header
    holds the salt it was made with. A different one means the salt file was regenerated or replaced.
    """
    changed = []
    for entry, name in sorted(files.items()):
        try:
            old = _payload(out_dir / name)
        except (OSError, ValueError):
            continue  # no earlier file (a new code), or not one of ours
        if len(old) >= HEADER.size and old[:4] == MAGIC and old[9:HEADER.size] != requests[entry][1]:
            changed.append(entry)
    if not changed:
        return []
    shown = ", ".join(f"{kind}:{id_}" for kind, id_ in changed[:5]) + (", ..." if len(changed) > 5 else "")
    return [f"the salt of {len(changed)} existing code(s) changed ({shown}): their files change although their codes "
            "did not (was the salt file regenerated, or is it another codes file's?)"]


_PAYLOAD = re.compile(r'<script id="oml-report" type="application/octet-stream">([A-Za-z0-9+/=]+)</script>')


def _payload(page: Path) -> bytes:
    """The blob of a published report page (:func:`report_page`); ValueError when there is none."""
    found = _PAYLOAD.search(page.read_text(encoding="utf-8"))
    if not found:
        raise ValueError(f"{page}: no report payload")
    return base64.b64decode(found.group(1), validate=True)


@dataclass
class _Staged:
    folder: Path
    written: int
    removed: int


def _carry(source: Path, target: Path) -> None:
    """Put an existing entry of the folder into the new one unchanged: a hard link where possible
    (same file, same timestamp, no copy), else a copy with its timestamps; folders entry by entry."""
    if source.is_symlink():
        os.symlink(os.readlink(source), target)
    elif source.is_dir():
        shutil.copytree(source, target, symlinks=True, copy_function=_link_or_copy)
    else:
        _link_or_copy(source, target)


def _link_or_copy(source, target) -> None:
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        shutil.copy2(source, target, follow_symlinks=False)


def _sibling(out_dir: Path, what: str) -> Path:
    return out_dir.parent / f".{out_dir.name}.{what}-{secrets.token_hex(6)}"


def _stage(pages: dict[str, bytes], out_dir: Path) -> _Staged:
    """The new folder, complete, beside ``out_dir``: ``pages`` plus everything else ``out_dir`` holds.

    An unchanged page is the old file (hard link: it keeps its timestamp); report files that no code
    opens any more are left out; other files are carried over as they are. New and changed pages are
    written in file-name order, not school order: timestamps (Last-Modified) must not hint at the school list.
    """
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    folder = _sibling(out_dir, "new")
    folder.mkdir()  # mode from the umask, like any published folder
    try:
        if out_dir.is_dir():
            os.chmod(folder, out_dir.stat().st_mode & 0o7777)
        written = removed = 0
        done = set()
        if out_dir.is_dir():
            for path in sorted(out_dir.iterdir()):
                if path.name in pages:
                    if path.is_file() and not path.is_symlink() and path.read_bytes() == pages[path.name]:
                        _link_or_copy(path, folder / path.name)
                        done.add(path.name)
                elif REPORT_FILE.match(path.name):
                    removed += 1  # a report file no code opens any more (a rotated code)
                else:
                    _carry(path, folder / path.name)
        for name, data in sorted(pages.items()):
            if name not in done:
                (folder / name).write_bytes(data)
                written += 1
        return _Staged(folder, written, removed)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _swap_in(folder: Path, out_dir: Path) -> Path | None:
    """Rename ``folder`` to ``out_dir``; the previous ``out_dir`` (renamed aside) is returned, to be removed
    once the codes are saved, or put back if saving them fails."""
    old = None
    if out_dir.is_symlink() or out_dir.exists():
        old = _sibling(out_dir, "old")
        os.rename(out_dir, old)
    try:
        os.rename(folder, out_dir)
    except BaseException:
        if old is not None:
            os.rename(old, out_dir)
        raise
    return old


def _swap_back(out_dir: Path, old: Path | None) -> None:
    """Undo :func:`_swap_in`: the folder as it was before this run (none, if there was none)."""
    failed = _sibling(out_dir, "failed")
    os.rename(out_dir, failed)
    if old is not None:
        os.rename(old, out_dir)
    shutil.rmtree(failed, ignore_errors=True)


def _refuse_real(entries, synthetic: bool) -> None:
    """Real data never reach the site: refuse unless the data are synthetic and every id is a synthetic one."""
    from oml.data import SYNTHETIC_PREFIX

    real = sorted(f"{kind}:{id_}" for kind, id_ in entries if not str(id_).startswith(SYNTHETIC_PREFIX))
    if not synthetic or real:
        raise AccessError("feedback reports of real data never go into the site; use `oml reports --out FOLDER`"
                          + (f" (not synthetic: {', '.join(real[:5])})" if real else ""))


def start_site_demo_keys(entries, *, synthetic: bool, root: Path | None = None, jobs: int | None = None) -> KeyPlan:
    """:func:`start_keys` for the demo on the public site: the committed demo codes, the key cache under ``_build``.

    The committed demo keys (:data:`oml.paths.DEMO_KEYS`) seed the cache: the demo's codes and salts are
    public (the demo page lists the codes), so their keys are too, and a cold ``make book`` need not derive
    all 211 again (about 17 s of CPU). A code or salt that changed is derived as usual.
    Refuses real data before anything starts (see :func:`publish_site_demo`).
    """
    from oml import paths

    root = Path(root) if root is not None else paths.ROOT
    entries = list(entries)
    _refuse_real(entries, synthetic)
    return start_keys(entries, root / paths.DEMO_CODES.relative_to(paths.ROOT),
                      key_cache=root / paths.DEMO_KEY_CACHE.relative_to(paths.ROOT), jobs=jobs,
                      seed_keys=root / paths.DEMO_KEYS.relative_to(paths.ROOT))


def demo_keys_text(root: Path | None = None, jobs: int | None = None) -> str:
    """The content of the committed demo key file (:data:`oml.paths.DEMO_KEYS`), every key derived afresh.

    Run after the demo codes or salts change (tests/access/test_demo.py compares the committed file with it)::

        .venv/bin/python -c "from oml.access.publish import write_demo_keys; write_demo_keys()"
    """
    from oml import paths

    root = Path(root) if root is not None else paths.ROOT
    codes_path = root / paths.DEMO_CODES.relative_to(paths.ROOT)
    codes, salts = codes_mod.read_codes(codes_path), codes_mod.read_salts(codes_mod.salts_path(codes_path))
    requests = {entry: (codes[entry], salts[entry]) for entry in codes}
    pending = PendingKeys(requests, ITERATIONS, None, jobs)
    pending.result()
    return pending.cache_text()


def write_demo_keys(root: Path | None = None) -> Path:
    """Write :func:`demo_keys_text` to the committed demo key file (public, like the demo codes: mode 0644)."""
    from oml import paths

    root = Path(root) if root is not None else paths.ROOT
    target = root / paths.DEMO_KEYS.relative_to(paths.ROOT)
    target.write_text(demo_keys_text(root), encoding="utf-8")
    return target


def publish_site_demo(documents: dict[Key, str], html_dir: Path, *, synthetic: bool, root: Path | None = None,
                      jobs: int | None = None, keys: KeyPlan | None = None) -> PublishResult:
    """The demo on the public site: the synthetic reports into ``html_dir/terugkoppeling/``.

    Uses the committed demo codes file (``oml.paths.DEMO_CODES``), its committed keys
    (``oml.paths.DEMO_KEYS``) and a key cache under ``_build/cache``.
    Real data never reach the site: with ``synthetic=False``, or any id that is not a synthetic ``SYN-`` id,
    this refuses before writing anything.

    Parameters
    ----------
    documents : dict
        ``{(kind, id): html}`` of the synthetic data.
    html_dir : Path
        The site folder being built (the staging copy of ``_build/html``).
    synthetic : bool
        Whether the build's data are synthetic (the build info's flag).
    root : Path, optional
        Project root (default ``oml.paths.ROOT``), for builds in a copy of the project.
    jobs : int, optional
        Threads for key derivation.
    keys : KeyPlan, optional
        The plan :func:`start_site_demo_keys` began for these reports.
    """
    from oml import paths

    if keys is None:
        keys = start_site_demo_keys(documents.keys(), synthetic=synthetic, root=root, jobs=jobs)  # refuses real data
    else:
        try:
            _refuse_real(documents, synthetic)  # the plan was begun for the same ids, but this build's flag counts
        except AccessError:
            keys.cancel()
            raise
    return publish_reports(documents, keys.codes_path, Path(html_dir) / paths.SITE_REPORTS, synthetic=True, keys=keys)

