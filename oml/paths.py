"""Every path the project uses, in one place.

Paths are derived from the repository root (the folder holding ``_config.yml``), so
notebooks, the CLI and tests never write path literals of their own.
"""
from __future__ import annotations

import os
from pathlib import Path

#: Repository root: the folder that holds ``_config.yml`` and ``_toc.yml``.
ROOT = Path(os.environ.get("OML_ROOT", Path(__file__).resolve().parent.parent))

NOTEBOOKS = ROOT / "notebooks"
RUNS_CONFIG = NOTEBOOKS / "runs.toml"

#: Result of the coverage simulation study (bench/coverage.py), committed: too slow to redo per build.
COVERAGE = ROOT / "bench" / "coverage.csv"


def set_cache_environment(root: Path = ROOT, env: dict | None = None) -> None:
    """Point every tool cache into ``.cache/`` of the repository unless already set (in ``env``, default ``os.environ``).

    The Makefile exports the same variables; this covers ``oml`` called directly.
    """
    env = os.environ if env is None else env
    cache = root / ".cache"
    defaults = {
        "MPLCONFIGDIR": cache / "matplotlib",
        "JUPYTER_RUNTIME_DIR": cache / "jupyter" / "runtime",
        "JUPYTER_DATA_DIR": cache / "jupyter" / "data",
        "IPYTHONDIR": cache / "ipython",
        "XDG_CACHE_HOME": cache / "xdg",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }
    for key, value in defaults.items():
        env.setdefault(key, str(value))


#: Feedback reports demo (synthetic data only): the committed demo codes file (its salt file beside it,
#: see oml.access.codes.salts_path), and the site folder the demo reports go to (``_build/html/terugkoppeling``).
DEMO_CODES = ROOT / "book" / "terugkoppeling" / "demo-codes.csv"
SITE_REPORTS = "terugkoppeling"
#: Private key cache of the demo build (never inside _build/html).
DEMO_KEY_CACHE = ROOT / "_build" / "cache" / "access-demo-keys.json"
