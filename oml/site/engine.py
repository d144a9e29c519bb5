"""Warm notebook execution: imports and data paid once per build, every notebook in a fresh fork.

Design
------
``oml build`` starts one *engine* process (``python -m oml.site.engine``) only when a notebook
has to run. The engine imports the whole stack once (pandas, SciPy, statsmodels, matplotlib,
seaborn, pandera, papermill, nbclient, ipykernel, the ``oml`` package), then reads and validates
the data once and keeps the frame in memory. For every notebook it **forks** a child; the child
executes the template with papermill against ipykernel's *in-process* kernel (a small adapter
makes its blocking client fit nbclient's async calls) and exits. Papermill, the parameters cell,
the injected parameters and papermill's metadata are exactly as with a kernel process, so nbval
and a researcher re-run the same executed ``.ipynb``.

Why a fork per notebook: the child starts from the engine's pristine warm state and takes
everything it changes with it when it exits — variables, module attributes, matplotlib rcParams
and open figures, random state, warning filters, ``sys.modules`` additions, the working folder.
Nothing one notebook does can reach another. The alternative — a jupyter_client provisioner that
forks real ZMQ kernels from a warm template — gives the same isolation but still pays a papermill
client, connection files, ports and the kernel handshake per notebook; measured on the 2-core
machine, the in-process fork costs a few hundredths of a second (see docs/benchmark.md).

Protocol
--------
The build talks to the engine with JSON lines: commands on the engine's stdin, replies and
progress events on a private copy of its stdout. The engine's own file descriptors 1 and 2 go to
a log file, so nothing a notebook or a library prints can corrupt the protocol or the progress
lines. Commands::

    {"cmd": "prepare", "path": ..., "generate": bool, "groups": [column, ...]}
        -> {"ok": true, "info": {"synthetic", "rows", "groups": {column: {value: n}}, "first_year", "last_year"}}
         | {"ok": false, "report": "<the contract's full report>"}
    {"cmd": "execute", "jobs": N, "timeout": seconds,
     "runs": [{page, template, out, parameters, log, error,
               finish (optional: finish_notebook arguments), warm (optional: "module:function")}]}
        -> {"event": "done"|"failed", "page", "seconds", "reason"} ... {"event": "finished"}

A notebook that runs longer than ``timeout`` seconds is killed with its process group.
"""
from __future__ import annotations

import gc
import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path

#: What every template needs, imported once before the first fork (the warm state).
WARM_MODULES = [
    "numpy", "pandas", "scipy.stats", "statsmodels.api", "matplotlib.pyplot", "seaborn", "pandera.pandas",
    "papermill", "nbclient", "nbformat", "ipykernel.inprocess.ipkernel", "IPython.display", "myst_nb",
    # What a kernel's first request would otherwise import in every fork (debugger, history, glue).
    "ipykernel.ipkernel", "ipykernel.debugger", "IPython.core.interactiveshell", "sqlite3", "myst_nb.ext.glue",
    "docutils.nodes", "http.server", "tornado.ioloop", "tornado.platform.asyncio",
    # ... and what the in-process kernel's shell and the SVG figures import on first use.
    "IPython.core.application", "IPython.core.completerlib", "IPython.core.crashhandler", "IPython.core.logger",
    "IPython.core.oinspect", "IPython.utils.wildcard", "bdb", "matplotlib.backends.backend_svg",
    "oml.data.io", "oml.data.synth", "oml.stats.results", "oml.report.pages", "oml.report.notebook",
    "oml.stats.regions", "oml.report.regions", "oml.stats.units", "oml.report.unit_report",
]


# ----------------------------------------------------------------------------- in-process kernel
def _kernel_manager_class():
    """ipykernel's in-process kernel manager, adapted to nbclient's (async) calls.

    nbclient awaits ``start_kernel``, ``is_alive`` and ``shutdown_kernel`` and calls
    ``wait_for_ready(timeout=...)``; the in-process classes are synchronous and their
    ``wait_for_ready`` sleeps 0.4 s polling queues that an in-process kernel fills at once.
    """
    from queue import Empty

    from ipykernel.inprocess.blocking import BlockingInProcessKernelClient
    from ipykernel.inprocess.manager import InProcessKernelManager

    class Client(BlockingInProcessKernelClient):
        def wait_for_ready(self, timeout=None):
            # The in-process kernel answers synchronously: one kernel_info round trip, then
            # drop the status messages it published on IOPub.
            self.kernel_info()
            reply = self.shell_channel.get_msg(block=True, timeout=timeout or 60)
            self._handle_kernel_info_reply(reply)
            while True:
                try:
                    self.iopub_channel.get_msg(block=False)
                except Empty:
                    break

    class Manager(InProcessKernelManager):
        async def start_kernel(self, **kwargs):
            # No input history: nothing to replay in a one-notebook process, and parallel forks
            # would otherwise all write one SQLite file.
            self.config.HistoryManager.enabled = False
            InProcessKernelManager.start_kernel(self)
            # The kernel swaps its output streams in only while a request executes, after the
            # request's parent header was set on whatever sys.stdout was then: stream output would
            # carry no parent and nbclient would drop it. This process exists for this one
            # notebook, so the kernel's streams simply stay in place (as in a kernel process).
            sys.stdout, sys.stderr = self.kernel.stdout, self.kernel.stderr

        async def is_alive(self):
            return self.kernel is not None

        async def shutdown_kernel(self, now=False, restart=False):
            InProcessKernelManager.shutdown_kernel(self)

        async def cleanup_resources(self, restart=False):
            return None

        def client(self, **kwargs):
            kwargs["kernel"] = self.kernel
            kwargs.setdefault("session", self.session)
            return Client(parent=self, **kwargs)

    return Manager


def execute_in_process(template: Path, out: Path, parameters: dict, cwd: Path, finish: dict | None = None) -> None:
    """Execute ``template`` into ``out`` with papermill against an in-process kernel (in this process).

    Meant for a forked child: the kernel's namespace and everything the notebook changes live
    in the calling process. With ``finish`` (the keyword arguments of :func:`finish_notebook`),
    the executed notebook is finished for the book here, in the child, while it is still in
    memory: the build process then reads no notebook back.
    """
    import papermill

    streams = sys.stdout, sys.stderr
    try:
        nb = papermill.execute_notebook(
            str(template), str(out), parameters=parameters, kernel_name="python3", progress_bar=False,
            log_output=False, request_save_on_cell_execute=False, cwd=str(cwd),
            kernel_manager_class=_kernel_manager_class(),
        )
    finally:
        sys.stdout, sys.stderr = streams
    if finish is not None:
        import nbformat

        finish_notebook(nb, **finish)
        nbformat.write(nb, str(out))


def finish_notebook(nb, title: str, input_path: str, output_path: str):
    """Make an executed notebook a page: its title, papermill's injected cell hidden, no run-specific metadata.

    ``input_path`` and ``output_path`` replace papermill's absolute paths with the project-relative
    ones, and timestamps go, so that the same inputs give a byte-identical page.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook()
    >>> nb.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["injected-parameters"]})]
    >>> nb.metadata["papermill"] = {"start_time": "now", "input_path": "/abs/t.ipynb"}
    >>> nb = finish_notebook(nb, "Titel", "notebooks/t.ipynb", "book/rapport/p.ipynb")
    >>> nb.cells[0].source, nb.cells[1].id, nb.cells[1].metadata.tags
    ('# Titel', 'injected-parameters', ['injected-parameters', 'remove-cell'])
    >>> sorted(nb.metadata.papermill)
    ['input_path', 'output_path']
    """
    import nbformat

    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags:
            cell.id = "injected-parameters"  # papermill draws a random id
            if "remove-cell" not in tags:
                tags.append("remove-cell")
    meta = nb.metadata.setdefault("papermill", {})
    meta["input_path"] = input_path
    meta["output_path"] = output_path
    title_cell = nbformat.v4.new_markdown_cell(f"# {title}")
    title_cell.id = "title"
    nb.cells.insert(0, title_cell)
    # No execution timestamps: the same inputs give the same page.
    for key in ("start_time", "end_time", "duration"):
        meta.pop(key, None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        pm = cell.metadata.get("papermill")
        if pm:
            for key in ("start_time", "end_time", "duration"):
                pm.pop(key, None)
    return nb


def failure_reason(err: BaseException) -> str:
    """The informative part of a notebook failure: the failing cell and the exception line.

    Examples
    --------
    >>> from papermill.exceptions import PapermillExecutionError
    >>> failure_reason(PapermillExecutionError(2, 3, "x", "ValueError", "bad", []))
    'cell In [3]: ValueError: bad'
    """
    from papermill.exceptions import PapermillExecutionError

    if isinstance(err, PapermillExecutionError):
        return f"cell In [{err.exec_count}]: {err.ename}: {err.evalue}"[:600]
    return f"{type(err).__name__}: {err}"[:600]


# ----------------------------------------------------------------------------- the engine process
class _Engine:
    def __init__(self, emit):
        self.emit = emit
        self.data_key: str | None = None

    def prepare(self, cmd: dict) -> dict:
        from oml.data.contract import DataValidationError
        from oml.data.io import load, save
        from oml.data.synth import generate, is_synthetic
        from oml.report import notebook

        path = Path(cmd["path"])
        # The notebooks get the data file by name when it lies outside the project (its folder may be
        # private): they find it here (oml.report.notebook.load_frame). Forks inherit it.
        os.environ["OML_DATA"] = str(path.resolve())
        if cmd.get("generate"):
            save(generate(), path)
        try:
            frame = load(path, boards_optional=bool(cmd.get("boards_optional", True)))
        except DataValidationError as err:
            return {"ok": False, "report": err.report()}
        from oml.data.codebook import unknown_wordings, wording_problem

        unknown = unknown_wordings(frame)
        if unknown:  # a real report prints each statement's own wording, never an illustration or a column name
            return {"ok": False, "report": f"{path.name}: {wording_problem(unknown)}"}
        groups = {}
        from oml.data.scales import current

        # Every page shows the latest answer-scale period only (oml.report.notebook.setup): count pupils there.
        shown = frame[current().covers(frame["year"].to_numpy())]
        for column in cmd.get("groups", []):
            if column not in frame.columns:
                groups[column] = None  # an optional column (e.g. board_id) the data do not have
                continue
            counts = shown[column].value_counts(sort=False)
            groups[column] = {str(k): int(v) for k, v in counts.items() if v > 0}
        notebook.preload(path, frame)
        from oml.data.contract import BOARDS_LEFT_OUT_ATTR
        from oml.data.delivery import delivery_of

        delivery = delivery_of(frame)
        return {"ok": True, "info": {"synthetic": bool(is_synthetic(frame)), "rows": int(len(frame)), "groups": groups,
                                     "first_year": int(frame["year"].min()), "last_year": int(frame["year"].max()),
                                     "delivery": None if delivery is None else delivery.provenance(),
                                     "boards_left_out": frame.attrs.get(BOARDS_LEFT_OUT_ATTR)}}

    def execute(self, cmd: dict) -> None:
        jobs = max(1, int(cmd.get("jobs") or 1))
        # Everything the engine holds now (the stack, the data) moves to the collector's permanent
        # generation: a child's collections then never walk, or write to, the parent's objects
        # (fewer copy-on-write pages and less time per fork).
        gc.collect()
        gc.freeze()
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGCHLD])
        timeout = float(cmd.get("timeout") or 600)
        queue = list(cmd["runs"])
        running: dict[int, tuple[dict, float]] = {}
        while queue or running:
            while queue and len(running) < jobs:
                run = queue.pop(0)
                _warm(run)
                running[self._fork(run)] = (run, time.perf_counter())
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                now = time.perf_counter()
                for child, (run, start) in list(running.items()):
                    if now - start > timeout:
                        _kill(child)
                        os.waitpid(child, 0)
                        del running[child]
                        self.emit({"event": "failed", "page": run["page"], "seconds": now - start,
                                   "reason": f"did not finish within the time limit of {timeout:g} s and was stopped "
                                             f"(set `timeout` under [build] in notebooks/runs.toml or --timeout)"})
                # Sleep until a child ends (SIGCHLD, blocked in the engine so it stays pending) or the
                # next timeout check: a finished notebook's slot is refilled at once, not on a poll.
                signal.sigtimedwait([signal.SIGCHLD], 0.05)
                continue
            if pid not in running:
                continue
            run, start = running.pop(pid)
            seconds = time.perf_counter() - start
            code = os.waitstatus_to_exitcode(status)
            if code == 0:
                self.emit({"event": "done", "page": run["page"], "seconds": seconds})
            else:
                error = Path(run["error"])
                reason = error.read_text(encoding="utf-8") if error.exists() else f"the notebook process ended with {code}"
                self.emit({"event": "failed", "page": run["page"], "seconds": seconds, "reason": reason})
        self.emit({"event": "finished"})

    def _fork(self, run: dict) -> int:
        out = Path(run["out"])
        pid = os.fork()
        if pid:
            return pid
        # ---- child: never returns
        code = 1
        try:
            os.setpgid(0, 0)  # its own process group: a timeout kills whatever it started too
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGCHLD])  # the notebook's subprocesses see a normal mask
            log = os.open(run["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(log, 1)
            os.dup2(log, 2)
            execute_in_process(Path(run["template"]), out, run["parameters"], out.parent, run.get("finish"))
            code = 0
        except BaseException as err:
            try:
                Path(run["error"]).write_text(failure_reason(err), encoding="utf-8")
                traceback.print_exc()
            finally:
                code = 1
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)


def _warm(run: dict) -> None:
    """Call the run's ``warm`` function ("module:function") with its parameters, here, before the fork.

    It fills caches of the warm process that the notebook then finds (e.g. a report's model computed
    without a fresh fork's costs). Never needed for a correct page: if it fails, the failure is logged
    and the notebook computes everything itself, reporting any real error as a notebook failure.
    """
    spec = run.get("warm")
    if not spec:
        return
    try:
        import importlib

        module, _, name = spec.partition(":")
        getattr(importlib.import_module(module), name)(**run["parameters"])
    except Exception:
        print(f"warm {spec} for {run['page']} failed; the notebook computes without it", file=sys.stderr)
        traceback.print_exc()


def _kill(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
            return
        except ProcessLookupError:
            return
        except PermissionError:
            continue


def warm_up() -> None:
    """Import the stack once, in the engine, before any fork."""
    import importlib

    for name in WARM_MODULES:
        importlib.import_module(name)
    import nbformat

    # Compiles nbformat's JSON-schema validator once, here, instead of in every fork.
    nbformat.validate(nbformat.v4.new_notebook())
    from oml.report.plotting import set_theme

    set_theme()
    import matplotlib.pyplot as plt

    plt.close("all")


def main() -> int:
    """Engine loop: read commands from stdin, answer on a private copy of stdout."""
    channel = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    log = os.environ.get("OML_ENGINE_LOG", os.devnull)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)  # whatever a library prints goes to the log, never into the protocol
    os.dup2(fd, 2)

    def emit(message: dict) -> None:
        channel.write(json.dumps(message) + "\n")
        channel.flush()

    warm_up()
    engine = _Engine(emit)
    emit({"event": "ready"})
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        try:
            if cmd["cmd"] == "prepare":
                emit(engine.prepare(cmd))
            elif cmd["cmd"] == "execute":
                engine.execute(cmd)
            else:
                emit({"ok": False, "report": f"unknown command {cmd['cmd']!r}"})
        except Exception as err:
            traceback.print_exc()
            emit({"ok": False, "event": "error", "report": f"{type(err).__name__}: {err}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
