"""The ``oml`` command: ``validate``, ``synth`` and ``build``.

Every expected failure (bad data, a failed notebook, a Sphinx warning) ends with a clear
message on stderr and a non-zero exit, never a Python traceback.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from oml.data.contract import DataValidationError

EXIT_INVALID = 2
EXIT_BUILD_FAILED = 3


def _cmd_validate(args) -> int:
    from oml.data.io import load
    from oml.data.synth import is_synthetic

    frame = load(args.path, mapping=args.mapping)
    kind = "synthetic" if is_synthetic(frame) else "real"
    years = sorted(frame["year"].unique().tolist())
    items = [c for c in frame.columns if c.startswith("item_")]
    print(
        f"{args.path}: valid ({kind} data): {len(frame):,} pupils, {frame['school_id'].nunique():,} schools, "
        f"years {', '.join(map(str, years))}, {len(items)} statements."
    )
    return 0


def _cmd_synth(args) -> int:
    from oml.data.io import save
    from oml.data.synth import generate

    out = Path(args.out)
    if out.suffix.lower() not in (".csv", ".parquet"):
        print(f"oml synth: --out must end in .csv or .parquet, not '{out.suffix or '(none)'}'", file=sys.stderr)
        return EXIT_INVALID
    frame = generate(n=args.n, seed=args.seed, history=not args.no_history)
    save(frame, out)
    print(f"{out}: {len(frame):,} synthetic pupils (seed {args.seed if args.seed is not None else 'default'}).")
    return 0


def _cmd_build(args) -> int:
    from oml.site.build import BuildError, build

    try:
        build(data=args.data, force=args.force, jobs=args.jobs, mapping=args.mapping)
    except BuildError as err:
        print(f"oml build: FAILED: {err}", file=sys.stderr)
        return EXIT_BUILD_FAILED
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="oml", description="OML living report: data, statistics and site build.")
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check a data file against the data contract")
    v.add_argument("path", help="data file: .csv, .parquet, .dta or .sav")
    v.add_argument("--mapping", default=None, help="mapping file (TOML) for an extract in its own names and codes")
    v.set_defaults(func=_cmd_validate)

    s = sub.add_parser("synth", help="write the deterministic synthetic dataset")
    s.add_argument("--out", required=True, help="output file, .csv or .parquet")
    s.add_argument("--seed", type=int, default=None, help="random seed (default: the one `make book` uses)")
    s.add_argument("--n", type=_positive_int, default=None,
                   help="pupils in the factsheet period (default: the published N); the earlier years come on top")
    s.add_argument("--no-history", action="store_true", help="only the factsheet period, without the earlier years")
    s.set_defaults(func=_cmd_synth)

    b = sub.add_parser("build", help="execute the notebooks and build the site into _build/html")
    b.add_argument("--data", default=None, help="data file (default: the synthetic dataset)")
    b.add_argument("--mapping", default=None, help="mapping file (TOML) for --data in its own names and codes")
    b.add_argument("--force", action="store_true", help="re-execute every notebook, ignoring the cache")
    b.add_argument("--jobs", type=int, default=None, help="notebooks executed in parallel (default: cores)")
    b.set_defaults(func=_cmd_build)
    return p


def main(argv: list[str] | None = None) -> int:
    from oml.paths import set_cache_environment

    set_cache_environment()
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except DataValidationError as err:
        print(err.report(), file=sys.stderr)
        return EXIT_INVALID
    except OSError as err:  # e.g. an output folder that is a file: a message, not a traceback
        print(f"oml {args.command}: {err.strerror or err}: {err.filename or ''}", file=sys.stderr)
        return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
