"""Where the build puts things."""
from __future__ import annotations

GENERATED = "rapport"  # book/<GENERATED>/: executed pages the book picks up (gitignored)
