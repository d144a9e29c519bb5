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
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from oml.access import codes as codes_mod
from oml.access.codes import KINDS, AccessError, CodeBookUpdate, Key, ensure_codes, save_codes, write_private
from oml.access.crypto import (ITERATIONS, LOCATOR_HEX, LOCATOR_PREFIX, MAGIC, MIN_ITERATIONS, VERSION, derive_key,
                               encrypt, locator)

TEMPLATES = Path(__file__).parent / "templates"
#: Names of the encrypted report files; anything else in the folder is left alone.
REPORT_FILE = re.compile(rf"^[0-9a-f]{{{LOCATOR_HEX}}}\.html$")
INDEX = "index.html"
_CACHE_PREFIX = b"OML key cache v1\0"

_INDEX_TEXT = dict(
    title="Terugkoppeling voor scholen en besturen",
    heading="Terugkoppeling voor scholen en besturen",
    intro=("<p>Elke school en elk bestuur heeft een eigen rapport met de eigen cijfers. Het rapport is versleuteld "
           "en gaat alleen open met de toegangscode die de schoolleiding of het bestuur heeft gekregen.</p>"),
)
_REPORT_TEXT = dict(
    title="Versleuteld rapport",
    heading="Versleuteld rapport",
    intro="<p>Dit bestand bevat een versleuteld rapport. Het gaat alleen open met de bijbehorende toegangscode.</p>",
)


#: Shown on the index and report pages of a synthetic build (the demo on the public site), as on every site page.
SYNTHETIC_NOTICE = ('<div class="oml-synthetic-banner" role="note">Let op: deze rapporten horen bij verzonnen scholen en '
                    'besturen en zijn berekend uit <strong>synthetische</strong> gegevens. Het zijn <strong>geen '
                    'resultaten van de OnderwijsMonitor Limburg</strong>.</div>\n')


def _script() -> str:
    js = (TEMPLATES / "access.js").read_text(encoding="utf-8")
    for name, value in {
        "ALPHABET": codes_mod.ALPHABET, "LENGTH": codes_mod.LENGTH, "LOCATOR_PREFIX": LOCATOR_PREFIX.decode().rstrip("\n"),
        "LOCATOR_HEX": LOCATOR_HEX, "MAGIC": MAGIC.decode(), "VERSION": VERSION, "MIN_ITERATIONS": MIN_ITERATIONS,
    }.items():
        js = js.replace(f"@@{name}@@", str(value))
    return js


def _page(mode: str, text: dict, payload: str = "", synthetic: bool = False) -> str:
    html = (TEMPLATES / "page.html").read_text(encoding="utf-8")
    html = html.replace("@@NOTICE@@", SYNTHETIC_NOTICE if synthetic else "")
    # Order matters: the payload and script go in last, so no placeholder text inside them is ever replaced.
    for name, value in (("TITLE", text["title"]), ("HEADING", text["heading"]), ("INTRO", text["intro"]),
                        ("MODE", mode), ("LENGTH", str(codes_mod.LENGTH)), ("GROUP_SIZE", str(codes_mod.GROUP_SIZE)),
                        ("CSS", (TEMPLATES / "access.css").read_text(encoding="utf-8"))):
        html = html.replace(f"@@{name}@@", value)
    html = html.replace("@@PAYLOAD@@", payload)
    return html.replace("@@JS@@", _script())


def index_page(synthetic: bool = False) -> str:
    """The page where a reader types a code; the same for every build (it reveals nothing of the reports).

    ``synthetic`` adds the notice that the reports are computed from synthetic data.

    Example
    -------
    >>> page = index_page()
    >>> '<html lang="nl">' in page and 'for="oml-code"' in page and 'role="alert"' in page
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

    def summary(self) -> str:
        return (f"{len(self.files)} reports in {self.out_dir}: {len(self.created)} new codes, {len(self.rotated)} rotated; "
                f"{self.derived} keys derived ({self.derive_seconds:.1f} s), {self.cached} from the cache; "
                f"{self.written} files written, {self.removed} stale removed; {self.seconds:.1f} s")


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
                 jobs: int | None = None, background: bool = False):
        self.requests, self.iterations = dict(requests), iterations
        self.cache_path = Path(cache_path) if cache_path else None
        cache = _read_cache(self.cache_path) if self.cache_path else {}
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
                text = json.dumps({"version": 1, "keys": {self.prints[e]: self.keys[e].hex() for e in sorted(self.keys)}},
                                  indent=0, sort_keys=True)
                write_private(self.cache_path, text + "\n")
            self._done = (self.keys, len(self.todo), seconds)
        return self._done

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
               jobs: int | None = None, create_codes: bool = True) -> KeyPlan:
    """Begin the keys of the reports ``entries`` (``(kind, id)`` pairs) before the reports are made.

    The codes are looked up (new ones made, ``rotate`` applied) in memory only: :func:`publish_reports`
    writes the codes file when it publishes, so a build that fails hands out no new code. The keys
    are derived in low-priority background threads. Pass the plan to :func:`publish_reports` as ``keys``.

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
    if iterations < MIN_ITERATIONS:
        raise AccessError(f"at least {MIN_ITERATIONS:,} PBKDF2 iterations, not {iterations:,}")
    codes_path = Path(codes_path)
    key_cache = Path(key_cache) if key_cache is not None else key_cache_path(codes_path)
    entries = frozenset(entries)
    book = ensure_codes(codes_path, entries, rotate=rotate, create=create_codes, write=False)
    requests = {entry: (book.codes[entry], book.salts[entry]) for entry in entries}
    return KeyPlan(codes_path, key_cache, entries, book, PendingKeys(requests, iterations, key_cache, jobs, background=True))


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
    rotate : iterable of str
        Ids (or ``kind:id``) that get a new code, a new salt, hence a new file.
    iterations : int
        PBKDF2-SHA256 iterations (at least 600,000).
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
    except AccessError:
        if keys is not None:
            keys.cancel()
        raise
    book, iterations = keys.book, keys.pending.iterations
    requests = {entry: (book.codes[entry], book.salts[entry]) for entry in documents}
    key_of, derived, derive_seconds = keys.pending.result()
    save_codes(keys.codes_path, book)

    pages: dict[str, str] = {INDEX: index_page(synthetic)}
    files: dict[Key, str] = {}
    for entry in sorted(documents):
        code, salt = requests[entry]
        name = f"{locator(code)}.html"
        if name in pages:  # two codes with one 128-bit locator: never expected, never silently overwritten
            raise AccessError(f"two reports would share the file {name}; rotate one of their codes")
        pages[name] = report_page(encrypt(documents[entry], key_of[entry], salt, iterations), synthetic)
        files[entry] = name

    out_dir.mkdir(parents=True, exist_ok=True)
    written = removed = 0
    # Written in file-name order, not school order: timestamps (Last-Modified) must not hint at the school list.
    for name, text in sorted(pages.items()):
        path = out_dir / name
        data = text.encode("utf-8")
        if not path.exists() or path.read_bytes() != data:  # unchanged files keep their timestamps
            path.write_bytes(data)
            written += 1
    for path in sorted(out_dir.iterdir()):
        if REPORT_FILE.match(path.name) and path.name not in pages:
            path.unlink()
            removed += 1
    return PublishResult(out_dir, files, book.created, book.rotated, derived, len(documents) - derived,
                         written, removed, derive_seconds, time.perf_counter() - start)


def _refuse_real(entries, synthetic: bool) -> None:
    """Real data never reach the site: refuse unless the data are synthetic and every id is a synthetic one."""
    from oml.data import SYNTHETIC_PREFIX

    real = sorted(f"{kind}:{id_}" for kind, id_ in entries if not str(id_).startswith(SYNTHETIC_PREFIX))
    if not synthetic or real:
        raise AccessError("feedback reports of real data never go into the site; use `oml reports --out FOLDER`"
                          + (f" (not synthetic: {', '.join(real[:5])})" if real else ""))


def start_site_demo_keys(entries, *, synthetic: bool, root: Path | None = None, jobs: int | None = None) -> KeyPlan:
    """:func:`start_keys` for the demo on the public site: the committed demo codes, the key cache under ``_build``.

    Refuses real data before anything starts (see :func:`publish_site_demo`).
    """
    from oml import paths

    root = Path(root) if root is not None else paths.ROOT
    entries = list(entries)
    _refuse_real(entries, synthetic)
    return start_keys(entries, root / paths.DEMO_CODES.relative_to(paths.ROOT),
                      key_cache=root / paths.DEMO_KEY_CACHE.relative_to(paths.ROOT), jobs=jobs)


def publish_site_demo(documents: dict[Key, str], html_dir: Path, *, synthetic: bool, root: Path | None = None,
                      jobs: int | None = None, keys: KeyPlan | None = None) -> PublishResult:
    """The demo on the public site: the synthetic reports into ``html_dir/terugkoppeling/``.

    Uses the committed demo codes file (``oml.paths.DEMO_CODES``) and a key cache under ``_build/cache``.
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

