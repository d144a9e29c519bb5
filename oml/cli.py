"""The ``oml`` command: ``validate``, ``synth``, ``convert``, ``build``, ``release`` and ``reports``.

Every expected failure (bad data, a failed notebook, a Sphinx warning) ends with a clear
message on stderr and a non-zero exit, never a Python traceback.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_INVALID = 2
EXIT_BUILD_FAILED = 3
EXIT_RELEASE_REFUSED = 4


def _cmd_validate(args) -> int:
    from oml.data.contract import DataValidationError
    from oml.data.extract import load_extract, resolve_sources
    from oml.data.io import load
    from oml.data.synth import is_synthetic

    try:
        sources = resolve_sources(args.paths)
        if len(sources) == 1 and args.mapping is None:
            frame, extract = load(sources[0]), None
        else:
            frame, extract = load_extract(sources, args.mapping)
    except DataValidationError as err:
        print(err.report(), file=sys.stderr)
        return EXIT_INVALID
    kind = "synthetic" if is_synthetic(frame) else "real"
    years = sorted(frame["year"].unique().tolist())
    items = [c for c in frame.columns if c.startswith("item_")]
    label = sources[0] if len(sources) == 1 else f"{len(sources)} files"
    print(
        f"{label}: valid ({kind} data): {len(frame):,} pupils, {frame['school_id'].nunique():,} schools, "
        f"years {', '.join(map(str, years))}, {len(items)} statements."
    )
    if extract is not None:
        for line in describe_extract(extract):
            print(line)
    for line in board_changes(frame):
        print(line)
    return 0


def board_changes(frame) -> list[str]:
    """Schools whose board changes between years (a merger): normal, and shown, since board reports follow it."""
    if "board_id" not in frame.columns:
        return []
    lines = []
    per_year = frame.groupby(["school_id", "year"], observed=True)["board_id"].first().reset_index()
    for school, part in per_year.groupby("school_id", observed=True):
        boards = part.sort_values("year")
        steps = [(int(y), a, b) for y, a, b in zip(boards["year"].iloc[1:], boards["board_id"].iloc[:-1], boards["board_id"].iloc[1:])
                 if a != b]
        if steps:
            lines.append(f"  board change: school {school}: " + "; ".join(f"{a} -> {b} in {y}" for y, a, b in steps))
    return lines


def describe_extract(extract) -> list[str]:
    """What ``oml validate`` and ``oml build`` tell about a delivery: files, exclusions, missing answers, warnings."""
    from oml.data.contract import REQUIRED
    from oml.data.delivery import NOT_ASKED

    d = extract.delivery
    lines = []
    for f in d.files:
        held = extract.holds.get(f.name, [])
        columns = [c for c in (*REQUIRED, "board_id") if c in held]
        statements = [c for c in held if c.startswith("item_")]
        lines.append(f"  {f.name}: {f.rows:,} rows; {len(columns)} contract columns, {len(statements)} statements"
                     f" ({', '.join(s.removeprefix('item_') for s in statements)})")
    for e in d.exclusions:
        lines.append(f"  excluded: {e.rows:,} row(s) by rule {e.rule}: {e.reason}")
    not_asked = sorted({(m.column, m.year) for m in d.missing if m.kind == NOT_ASKED})
    for column, year in not_asked:
        lines.append(f"  not asked: {column} in {year} (no answers at all that year)")
    kinds: dict[str, int] = {}
    for m in d.missing:
        if m.kind != NOT_ASKED:
            kinds[m.kind] = kinds.get(m.kind, 0) + m.n
    if kinds:
        lines.append("  missing answers: " + "; ".join(f"{k} {n:,}" for k, n in sorted(kinds.items())))
    lines += [f"  warning: {w}" for w in extract.warnings]
    return lines


def _cmd_synth(args) -> int:
    from oml.data.io import save
    from oml.data.synth import generate

    out = Path(args.out)
    if out.suffix.lower() not in (".csv", ".parquet"):
        print(f"oml synth: --out must end in .csv or .parquet, not '{out.suffix or '(none)'}'", file=sys.stderr)
        return EXIT_INVALID
    frame = generate(n=args.n, seed=args.seed, history=not args.no_history)
    if args.until_year is not None:
        # The data as they stood after that year: an earlier edition's input (oml release).
        frame = frame[frame["year"] <= args.until_year].reset_index(drop=True)
        if frame.empty:
            print(f"oml synth: --until-year {args.until_year} leaves no pupils (the data start later)", file=sys.stderr)
            return EXIT_INVALID
    save(frame, out)
    print(f"{out}: {len(frame):,} synthetic pupils (seed {args.seed if args.seed is not None else 'default'}).")
    return 0


def _cmd_build(args) -> int:
    from oml.site.build import build
    from oml.site.messages import BuildError

    try:
        build(data=args.data, force=args.force, jobs=args.jobs, timeout=args.timeout, mapping=args.mapping,
              feedback_demo=not args.skip_feedback, pdf=not args.no_pdf)
    except BuildError as err:
        print(f"oml build: FAILED: {err}", file=sys.stderr)
        return EXIT_BUILD_FAILED
    return 0


def _cmd_release(args) -> int:
    from oml.site.editions.common import ReleaseError
    from oml.site.editions.record import release

    try:
        folder = release(args.name, note=args.note, correction=args.correction, source=args.data_source,
                         commit=not args.no_commit)
    except ReleaseError as err:
        print(f"oml release: REFUSED: {err}", file=sys.stderr)
        return EXIT_RELEASE_REFUSED
    what = "correction of edition" if args.correction is not None else "edition"
    print(f"{folder}: {what} {args.name} recorded{'' if args.no_commit else ' and committed'}.")
    return 0


def _cmd_reports(args) -> int:
    from oml.access.codes import AccessError
    from oml.paths import Layout

    out, codes = Path(args.out), Path(args.codes)
    project = Layout().root
    for what, path in (("--out", out), ("--codes", codes)):
        # Anywhere in the project could end up published or committed (the book, _static, the build): outside only.
        if path.resolve().is_relative_to(project.resolve()):
            print(f"oml reports: {what} {path} lies inside the project ({project}); real reports and codes never go "
                  "into the project (they could be published or committed): choose a folder outside it", file=sys.stderr)
            return EXIT_INVALID
    from oml.access.publish import publish_reports, start_keys
    from oml.data.synth import SYNTHETIC_PREFIX
    from oml.site import unit_reports
    from oml.site.messages import BuildError

    plan = []

    def begin_keys(entries) -> None:
        # The codes are known before any report runs: their keys are derived on idle cores meanwhile.
        plan.append(start_keys(entries, codes, rotate=args.rotate or (), jobs=args.jobs))

    try:
        # One warm engine executes the report template per school and per board (as `oml build` does).
        documents = unit_reports.render_reports(args.data, jobs=args.jobs, before_execute=begin_keys,
                                                mapping=args.mapping)
    except (BuildError, AccessError) as err:
        for p in plan:
            p.cancel()
        if isinstance(err, AccessError):  # e.g. --rotate names no school or board
            print(f"oml reports: {err}", file=sys.stderr)
            return EXIT_INVALID
        print(f"oml reports: FAILED: {err}", file=sys.stderr)
        return EXIT_BUILD_FAILED
    try:
        # Synthetic ids (SYN-) mark synthetic data in any format: then the pages carry the synthetic notice.
        synthetic = bool(documents) and all(str(id_).startswith(SYNTHETIC_PREFIX) for _, id_ in documents)
        result = publish_reports(documents, codes, out, synthetic=synthetic, keys=plan[0] if plan else None,
                                 rotate=args.rotate or (), jobs=args.jobs)
    except AccessError as err:
        print(f"oml reports: {err}", file=sys.stderr)
        return EXIT_INVALID
    # The codes themselves are never printed (logs are not private); they are in the codes file.
    print(f"oml reports: {result.summary()}")
    if result.created or result.rotated:
        print(f"oml reports: new codes are in {codes}; send each school and board its own code")
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {value:g}")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="oml", description="OML living report: data, statistics and site build.")
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check a data file against the data contract")
    v.add_argument("paths", nargs="+", metavar="PATH",
                   help="data file(s) (.csv, .parquet, .dta, .sav), folders of them or patterns; stacked by column name")
    v.add_argument("--mapping", default=None, help="mapping file (TOML) for an extract in its own names and codes")
    v.set_defaults(func=_cmd_validate)

    s = sub.add_parser("synth", help="write the deterministic synthetic dataset")
    s.add_argument("--out", required=True, help="output file, .csv or .parquet")
    s.add_argument("--seed", type=int, default=None, help="random seed (default: the one `make book` uses)")
    s.add_argument("--n", type=_positive_int, default=None,
                   help="pupils in the factsheet period (default: the published N); the earlier years come on top")
    s.add_argument("--no-history", action="store_true", help="only the factsheet period, without the earlier years")
    s.add_argument("--until-year", type=int, default=None, help="keep only the years up to and including this one")
    s.set_defaults(func=_cmd_synth)

    b = sub.add_parser("build", help="execute the notebooks and build the site into _build/html")
    b.add_argument("--data", action="extend", nargs="+", default=None, metavar="PATH",
                   help="data file(s), folders of them or patterns; repeatable; stacked by column name "
                        "(default: the synthetic dataset)")
    b.add_argument("--mapping", default=None, help="mapping file (TOML) for --data in its own names and codes")
    b.add_argument("--force", action="store_true", help="re-execute every notebook, ignoring the cache")
    b.add_argument("--jobs", type=int, default=None, help="notebooks executed in parallel (default: cores)")
    b.add_argument("--skip-feedback", action="store_true",
                   help="quick preview: do not (re)make the encrypted feedback reports demo (kept as last built)")
    b.add_argument("--timeout", type=_positive_float, default=None,
                   help="seconds a notebook may run before it is stopped (default: [build] timeout in runs.toml)")
    b.add_argument("--no-pdf", action="store_true",
                   help="build everything but the PDF edition (made without asking when WeasyPrint/Pango cannot load)")
    b.set_defaults(func=_cmd_build)

    r = sub.add_parser("release", help="record the current build as an edition in editions/NAME (and commit it)")
    r.add_argument("name", help="edition name, e.g. 2025")
    kind = r.add_mutually_exclusive_group()
    kind.add_argument("--note", default=None, help="what this edition is (a new edition)")
    kind.add_argument("--correction", default=None, metavar="TEXT", help="re-publish an existing edition, corrected")
    r.add_argument("--data-source", default=None, metavar="TEXT", help="how to obtain the data (shown with the rebuild steps)")
    r.add_argument("--no-commit", action="store_true", help="write editions/NAME but do not commit it")
    r.set_defaults(func=_cmd_release)

    r = sub.add_parser("reports", help="write the encrypted school and board feedback reports into a folder")
    r.add_argument("--data", action="extend", nargs="+", default=None, metavar="PATH",
                   help="data file(s), folders of them or patterns, as for build (default: the synthetic dataset)")
    r.add_argument("--mapping", default=None, help="mapping file (TOML) for --data in its own names and codes")
    r.add_argument("--codes", required=True, help="private codes file kind,id,code (created or extended as needed)")
    r.add_argument("--out", required=True, help="folder for index.html and the encrypted reports (outside the site)")
    r.add_argument("--rotate", action="append", metavar="ID", default=[],
                   help="give this school or board (ID or kind:ID) a new code; repeatable")
    r.add_argument("--jobs", type=_positive_int, default=None, help="reports executed in parallel (default: cores)")
    r.set_defaults(func=_cmd_reports)

    c = sub.add_parser("convert", help="write a delivery (files + mapping) as one canonical Parquet file")
    c.add_argument("--data", action="extend", nargs="+", required=True, metavar="PATH",
                   help="data file(s), folders of them or patterns; stacked by column name")
    c.add_argument("--mapping", default=None, help="mapping file (TOML) for --data in its own names and codes")
    c.add_argument("--out", required=True, help="the canonical file to write (.parquet)")
    c.set_defaults(func=_cmd_convert)
    return p


def _cmd_convert(args) -> int:
    from oml.data.contract import DataValidationError
    from oml.data.extract import convert, resolve_sources

    out = Path(args.out)
    if out.suffix.lower() != ".parquet":
        print(f"oml convert: --out must end in .parquet, not '{out.suffix or '(none)'}'", file=sys.stderr)
        return EXIT_INVALID
    try:
        _, extract = convert(resolve_sources(args.data), args.mapping, out)
    except DataValidationError as err:
        print(err.report(), file=sys.stderr)
        return EXIT_INVALID
    print(f"{out}: {len(extract.frame):,} rows from {len(extract.delivery.files)} file(s), checked and written.")
    for line in describe_extract(extract):
        print(line)
    return 0


def _exit_on_signal(signum, _frame) -> None:
    import signal

    for name in ("SIGTERM", "SIGHUP"):  # one stop is enough: a second one must not cut the clean-up short
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    runner = sys.modules.get("oml.site.runner")
    if runner is not None:
        runner.EngineClient.terminating = True  # stop the engine now, not after the notebooks it was given
    raise SystemExit(128 + signum)  # as a shell reports a signal; the finally blocks run on the way out


def exit_cleanly_on_termination() -> dict:
    """Make SIGTERM and SIGHUP end the command as Ctrl+C does: through every ``finally`` block.

    Python's default for both is to die at once, which would leave the private folder (pupil-level data,
    unencrypted reports: :func:`oml.site.runner.private_folder`) and the engine behind when a scheduler or
    a closed terminal stops ``oml reports`` or ``oml build``. Returns the handlers it replaced (``main``
    puts them back). Only the main thread may set handlers: elsewhere it changes nothing.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}
    old = {}
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):  # Windows has no SIGHUP
            number = getattr(signal, name)
            if signal.getsignal(number) is signal.SIG_IGN:
                continue  # ignored on purpose (`nohup oml build &`): keep it so
            old[number] = signal.signal(number, _exit_on_signal)
    return old


def main(argv: list[str] | None = None) -> int:
    import signal

    from oml.paths import set_cache_environment

    set_cache_environment()
    previous = exit_cleanly_on_termination()
    try:
        args = parser().parse_args(argv)
        try:
            return args.func(args)
        except OSError as err:  # e.g. an output folder that is a file: a message, not a traceback
            print(f"oml {args.command}: {err.strerror or err}: {err.filename or ''}", file=sys.stderr)
            return EXIT_INVALID
    finally:
        for number, handler in previous.items():  # main() called in a process that has its own (tests)
            signal.signal(number, handler)
        runner = sys.modules.get("oml.site.runner")
        if runner is not None:
            runner.EngineClient.terminating = False


if __name__ == "__main__":
    sys.exit(main())
