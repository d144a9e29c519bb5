"""Skip a build step when nothing it depends on changed: one content-hash stamp for every such step.

A step hashes what it depends on into a *key* (:func:`hash_files`, :func:`fingerprint`), and its
:class:`Stamp` remembers the key of its last successful run. The stamp is cleared *before* the
step runs and recorded only *after* it succeeded, so an interrupted step is never taken for a
finished one. A stamp may carry a small JSON payload (what the step found out, e.g. the facts of
validated data). Keys hold no absolute paths, so a copy of a project is as current as the original.

The steps that use it: each notebook page, the data validation, the page Versies, the feedback
demo, the PDF edition, the Sphinx machinery and the site's inputs (:class:`oml.paths.Layout`
names their files under ``_build/stamps/``).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path


def hash_files(files, root: Path) -> str:
    """sha256 over files' paths (relative to ``root``) and contents, in sorted order.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "a.txt").write_text("x")
    >>> hash_files([d / "a.txt"], d) == hash_files([d / "a.txt"], d), len(hash_files([], d))
    (True, 64)
    """
    digest = hashlib.sha256()
    for f in sorted(files):
        digest.update(str(Path(f).relative_to(root)).encode())
        digest.update(Path(f).read_bytes())
    return digest.hexdigest()


def fingerprint(*parts) -> str:
    """sha256 of JSON-serialisable parts (keys of dictionaries sorted).

    Examples
    --------
    >>> fingerprint({"b": 1, "a": 2}, "x") == fingerprint({"a": 2, "b": 1}, "x")
    True
    """
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Stamp:
    """The key (and optional payload) of a step's last successful run, kept in one file.

    Examples
    --------
    >>> import tempfile
    >>> s = Stamp(Path(tempfile.mkdtemp()) / "stamps" / "step")
    >>> s.matches("k1")
    False
    >>> s.record("k1", {"rows": 3}); s.matches("k1"), s.matches("k2"), s.payload("k1"), s.payload("k2")
    (True, False, {'rows': 3}, None)
    >>> s.clear(); s.matches("k1")
    False
    """

    path: Path

    def _read(self) -> dict | None:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # none yet, or damaged: the step runs again

    def matches(self, key: str) -> bool:
        """True when the last successful run had this key."""
        stored = self._read()
        return stored is not None and stored.get("key") == key

    def payload(self, key: str):
        """The payload recorded with ``key``, or None when the stamp has another key (or none)."""
        stored = self._read()
        return stored.get("payload") if stored is not None and stored.get("key") == key else None

    def record(self, key: str, payload=None) -> None:
        """Remember a successful run with this key (written whole, then renamed: never half a stamp)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps({"key": key, "payload": payload}, sort_keys=True), encoding="utf-8")
        tmp.replace(self.path)

    def clear(self) -> None:
        """Forget the last run: call before the step starts, so a failure leaves it stale."""
        self.path.unlink(missing_ok=True)
