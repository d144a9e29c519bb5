"""Content hashes that let a build step be skipped when nothing it depends on changed."""
from __future__ import annotations

import hashlib
from pathlib import Path


def hash_files(files, root: Path) -> str:
    digest = hashlib.sha256()
    for f in sorted(files):
        digest.update(str(Path(f).relative_to(root)).encode())
        digest.update(Path(f).read_bytes())
    return digest.hexdigest()
