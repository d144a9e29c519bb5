"""What the build says: the error every stage raises when it cannot go on, and its progress lines."""
from __future__ import annotations


class BuildError(RuntimeError):
    """A build stage failed; the message says which and why."""


def progress(msg: str) -> None:
    """One line of the build's progress on stdout, shown at once."""
    print(msg, flush=True)
