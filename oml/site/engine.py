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
        -> {"ok": true, "info": {"synthetic", "rows", "groups": {column: {value: n}}, "schools": {column: {value: schools}},
            "first_year", "last_year"}}
         | {"ok": false, "report": "<the contract's full report>"}
    {"cmd": "execute", "jobs": N, "timeout": seconds,
     "runs": [{page, template, out, parameters, log, error,
               finish (optional: finish_notebook arguments), warm (optional: "module:function")}]}
        -> {"event": "done"|"failed", "page", "seconds", "reason"} ... {"event": "finished"}

A notebook that runs longer than ``timeout`` seconds is killed with its process group.

Without fork: the spawn engine
------------------------------
Forking needs ``os.fork`` and, for the wait loop, ``signal.sigtimedwait`` and
``signal.pthread_sigmask``. Windows has none of them, macOS has no ``sigtimedwait`` (and forking
after NumPy/Accelerate and matplotlib are loaded is unsafe there). Where one is missing, or when
``OML_ENGINE=spawn`` asks for it, the engine runs every notebook in a **spawned worker process**
instead: ``jobs`` warm workers (``python -m oml.site.engine --worker``), new interpreters that
each import the same stack (:func:`warm_up`) and read and preload the data the engine validated
once, then execute notebooks one after another with the same in-process papermill call as a fork.
Each notebook gets a fresh kernel namespace, and afterwards the worker is put back as it was
before it (:class:`_State`: module names, imported modules, environment, working folder, warning
filters, random states, matplotlib, and a fresh copy of the preloaded data), so the two-notebook
test of tests/site/test_engine.py holds for both engines. A notebook that runs over its time is
killed with its worker (and its process group), and a new worker takes its place. Failure
reasons, time-limit messages, logs and executed notebooks are the same as with forks; ``make
bench`` measures the cost (``bench/engine_spawn.py``). A run's ``warm`` function is not called
by the spawn engine: it only fills a cache of the warm process that a fork would inherit.
"""
from __future__ import annotations

import gc
import json
import os
import queue as queues
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

#: ``OML_ENGINE``: how notebooks run. Empty or ``auto``: forks where the platform has them, else spawned workers.
ENGINE_MODES = ("auto", "fork", "spawn")

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


def fork_available() -> bool:
    """Whether this platform can run the fork engine: ``os.fork``, ``signal.sigtimedwait`` and ``pthread_sigmask``.

    Examples
    --------
    >>> import sys
    >>> fork_available() == (sys.platform == "linux")  # Linux has all three; Windows none; macOS no sigtimedwait
    True
    """
    return all(hasattr(module, name) for module, name in
               ((os, "fork"), (signal, "sigtimedwait"), (signal, "pthread_sigmask")))


def engine_mode(environ=None) -> tuple[str, str]:
    """The engine this process uses, ``"fork"`` or ``"spawn"``, and why (for the build's progress line).

    ``OML_ENGINE`` (``auto``, ``fork``, ``spawn``; default ``auto``) asks; ``fork`` where the
    platform cannot fork falls back to ``spawn`` and says so. Any other value is an error.

    Examples
    --------
    >>> engine_mode({"OML_ENGINE": "spawn"})
    ('spawn', 'OML_ENGINE=spawn')
    >>> engine_mode({"OML_ENGINE": "thread"})
    Traceback (most recent call last):
    ...
    ValueError: OML_ENGINE='thread' is not one of auto, fork, spawn
    """
    environ = os.environ if environ is None else environ
    asked = environ.get("OML_ENGINE", "").strip().lower() or "auto"
    if asked not in ENGINE_MODES:
        raise ValueError(f"OML_ENGINE={asked!r} is not one of {', '.join(ENGINE_MODES)}")
    if asked == "spawn":
        return "spawn", "OML_ENGINE=spawn"
    if fork_available():
        return "fork", "fork available" if asked == "auto" else "OML_ENGINE=fork"
    missing = [f"{m.__name__}.{n}" for m, n in ((os, "fork"), (signal, "sigtimedwait"), (signal, "pthread_sigmask"))
               if not hasattr(m, n)]
    return "spawn", f"this platform has no {', '.join(missing)}"


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
    def __init__(self, emit, mode: str = "fork"):
        self.emit = emit
        self.mode = mode
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
        groups, schools = {}, {}
        from oml.data.scales import current

        # Every page shows the latest answer-scale period only (oml.report.notebook.setup): count pupils there.
        shown = frame[current().covers(frame["year"].to_numpy())]
        for column in cmd.get("groups", []):
            if column not in frame.columns:
                groups[column] = schools[column] = None  # an optional column (e.g. board_id) the data do not have
                continue
            counts = shown[column].value_counts(sort=False)
            groups[column] = {str(k): int(v) for k, v in counts.items() if v > 0}
            per_value = shown.groupby(column, observed=True)["school_id"].nunique()
            schools[column] = {str(k): int(v) for k, v in per_value.items() if str(k) in groups[column]}
        notebook.preload(path, frame)
        # A spawned worker (spawn engine) reads and preloads the same file the same way.
        os.environ["OML_ENGINE_PRELOAD"] = json.dumps({"path": str(path.resolve()),
                                                       "boards_optional": bool(cmd.get("boards_optional", True))})
        from oml.data.contract import BOARDS_LEFT_OUT_ATTR
        from oml.data.delivery import delivery_of

        delivery = delivery_of(frame)
        return {"ok": True, "info": {"synthetic": bool(is_synthetic(frame)), "rows": int(len(frame)), "groups": groups,
                                     "schools": schools,
                                     "first_year": int(frame["year"].min()), "last_year": int(frame["year"].max()),
                                     "delivery": None if delivery is None else delivery.provenance(),
                                     "boards_left_out": frame.attrs.get(BOARDS_LEFT_OUT_ATTR)}}

    def execute(self, cmd: dict) -> None:
        if self.mode == "spawn":
            self._execute_spawned(cmd)
            return
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

    def _execute_spawned(self, cmd: dict) -> None:
        """The spawn engine: ``jobs`` warm worker processes, each running notebooks one after another."""
        jobs = max(1, int(cmd.get("jobs") or 1))
        timeout = float(cmd.get("timeout") or 600)
        queue = list(cmd["runs"])
        events: queues.Queue = queues.Queue()  # (worker, "ready" | "done" | "exit", exit code), from reader threads
        idle: list[subprocess.Popen] = []
        busy: dict[subprocess.Popen, tuple[dict, float]] = {}  # worker -> its run, started at
        starting: set[subprocess.Popen] = set()
        dispatching = False  # set once the first workers are all ready: they then start together, as forks do
        try:
            while queue or busy:
                dispatching = dispatching or (bool(idle) and not starting)
                # As many workers as notebooks can run at once; a killed or crashed one is replaced.
                while len(idle) + len(busy) + len(starting) < min(jobs, len(queue) + len(busy)):
                    starting.add(_spawn_worker(events))
                while dispatching and queue and idle:
                    worker, run = idle.pop(), queue.pop(0)
                    worker.stdin.write(json.dumps(run) + "\n")
                    worker.stdin.flush()
                    busy[worker] = (run, time.perf_counter())
                try:
                    worker, what, code = events.get(timeout=0.05)
                except queues.Empty:
                    worker, what, code = None, None, None
                now = time.perf_counter()
                if what == "ready":
                    starting.discard(worker)
                    idle.append(worker)
                elif what in ("done", "exit") and worker in busy:
                    run, start = busy.pop(worker)
                    if what == "done" and code == 0:
                        self.emit({"event": "done", "page": run["page"], "seconds": now - start})
                    else:
                        error = Path(run["error"])
                        reason = (error.read_text(encoding="utf-8") if error.exists()
                                  else f"the notebook process ended with {code}")
                        self.emit({"event": "failed", "page": run["page"], "seconds": now - start, "reason": reason})
                    if what == "done":
                        idle.append(worker)
                elif what == "exit":  # a worker that died before its first notebook (its log says why)
                    starting.discard(worker)
                    if worker in idle:
                        idle.remove(worker)
                    if not busy and not starting and not idle and queue:
                        run = queue.pop(0)
                        self.emit({"event": "failed", "page": run["page"], "seconds": 0.0,
                                   "reason": f"the notebook worker process ended with {code} before it was ready "
                                             f"(see the engine log)"})
                for worker, (run, start) in list(busy.items()):
                    if now - start > timeout:
                        _stop_worker(worker)
                        del busy[worker]
                        self.emit({"event": "failed", "page": run["page"], "seconds": now - start,
                                   "reason": f"did not finish within the time limit of {timeout:g} s and was stopped "
                                             f"(set `timeout` under [build] in notebooks/runs.toml or --timeout)"})
        finally:
            for worker in [*idle, *busy, *starting]:
                _stop_worker(worker, gently=worker in idle)
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


def _spawn_worker(events: queues.Queue) -> subprocess.Popen:
    """Start a warm worker (spawn engine); a thread reports its ``ready``, each ``done <code>`` and its exit on ``events``."""
    # Its own process group (POSIX: a session) so that a timeout stops what the notebook started too.
    group = ({"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP} if os.name == "nt" else {"start_new_session": True})
    worker = subprocess.Popen([sys.executable, "-m", "oml.site.engine", "--worker"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, encoding="utf-8", bufsize=1, **group)

    def watch() -> None:
        for line in worker.stdout:
            word, _, code = line.strip().partition(" ")
            if word == "ready":
                events.put((worker, "ready", None))
            elif word == "done":
                events.put((worker, "done", int(code)))
        worker.stdout.close()
        events.put((worker, "exit", worker.wait()))

    threading.Thread(target=watch, daemon=True).start()
    return worker


def _stop_worker(worker: subprocess.Popen, gently: bool = False) -> None:
    """End a worker: an idle one by closing its input; one that ran over its time is killed with what it started."""
    if gently:
        try:
            worker.stdin.close()
            worker.wait(timeout=30)
            return
        except (OSError, subprocess.TimeoutExpired):
            pass
    if os.name != "nt":
        _kill(worker.pid)  # its process group: the notebook's own subprocesses too
    else:
        worker.kill()
    worker.wait()
    try:
        worker.stdin.close()
    except OSError:
        pass  # the pipe broke with the process


class _State:
    """What one notebook may change in a reused worker process, captured before it and put back after it.

    A spawn-engine worker runs notebooks one after another; each gets a fresh IPython shell (a new
    namespace) and, afterwards, this process is returned to its state before the notebook: every
    module's top-level names, the modules imported, ``sys.path``, the environment, the working
    folder, warning filters, random states, matplotlib's rcParams and figures, and the preloaded
    data (a fresh copy each time, so a notebook that changes the data in place changes only its own).
    A module's *mutable* object changed in place (say an entry of some module's dict) is not put
    back; the templates do no such thing and the two-notebook test (tests/site/test_engine.py)
    checks the usual suspects.
    """

    def __init__(self, preloaded: bytes | None):
        import random

        import matplotlib
        import numpy as np
        import warnings

        self.preloaded = preloaded
        self.modules = dict(sys.modules)
        self.namespaces = {name: dict(vars(m)) for name, m in self.modules.items() if hasattr(m, "__dict__")}
        self.path, self.environ, self.cwd = list(sys.path), dict(os.environ), os.getcwd()
        self.filters = list(warnings.filters)
        self.random, self.np_random = random.getstate(), np.random.get_state()
        self.rc = matplotlib.rcParams.copy()
        self.hooks = sys.displayhook, sys.excepthook, sys.stdout, sys.stderr

    def fresh_data(self) -> None:
        """The preloaded data, a fresh copy for the next notebook."""
        import pickle

        from oml.report import notebook

        notebook.replace_preloaded({} if self.preloaded is None else pickle.loads(self.preloaded))

    def restore(self) -> None:
        import random

        import matplotlib
        import matplotlib.pyplot as plt
        import numpy as np
        import warnings
        from ipykernel.inprocess.ipkernel import InProcessInteractiveShell

        plt.close("all")
        # The next notebook's kernel makes a new shell: a fresh namespace and history.
        InProcessInteractiveShell.clear_instance()
        for name in [n for n in sys.modules if n not in self.modules]:
            del sys.modules[name]
        for name, module in self.modules.items():
            sys.modules[name] = module
            saved = self.namespaces.get(name)
            if saved is None:
                continue
            current = vars(module)
            for key in [k for k in current if k not in saved]:
                del current[key]
            for key, value in saved.items():
                if current.get(key, _State) is not value:
                    current[key] = value
        sys.path[:] = self.path
        os.environ.clear()
        os.environ.update(self.environ)
        os.chdir(self.cwd)
        warnings.filters[:] = self.filters
        warnings._filters_mutated()
        random.setstate(self.random)
        np.random.set_state(self.np_random)
        dict.update(matplotlib.rcParams, self.rc)  # as matplotlib.rc_context restores them (no re-validation)
        sys.displayhook, sys.excepthook, sys.stdout, sys.stderr = self.hooks
        self.fresh_data()


def worker_main() -> int:
    """A spawn-engine worker: warm up and preload the data once, then run the notebooks it is sent, one at a time.

    Runs (as in the ``execute`` command) come as JSON lines on stdin; the worker answers ``ready``
    once, then ``done 0`` or ``done 1`` per notebook on its stdout (a pipe to the engine); a notebook's
    own output goes to its run's log, and a failure's reason to its run's error file, as with a
    fork. Between notebooks the process is put back as it was (:class:`_State`). It ends when its
    input closes.
    """
    channel = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    stdin = sys.stdin
    home_out, home_err = os.dup(1), os.dup(2)  # the engine's log, between notebooks
    warm_up()
    blob = None
    preload = os.environ.get("OML_ENGINE_PRELOAD")
    if preload:
        import pickle

        from oml.report import notebook

        _preload(json.loads(preload))
        blob = pickle.dumps(notebook.preloaded(), protocol=pickle.HIGHEST_PROTOCOL)
    gc.collect()
    state = _State(blob)
    state.fresh_data()
    channel.write("ready\n")
    for line in stdin:
        if not line.strip():
            continue
        run = json.loads(line)
        code = 1
        fd = os.open(run["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        try:
            out = Path(run["out"])
            execute_in_process(Path(run["template"]), out, run["parameters"], out.parent, run.get("finish"))
            code = 0
        except BaseException as err:  # the reason goes to the error file, as a fork's does
            Path(run["error"]).write_text(failure_reason(err), encoding="utf-8")
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            state.restore()
            os.dup2(home_out, 1)
            os.dup2(home_err, 2)
        channel.write(f"done {code}\n")
    return 0


def _preload(spec: dict) -> None:
    """Read the file the engine validated, the way the engine read it, and keep it for the notebooks."""
    from oml.data.io import load
    from oml.report import notebook

    path = Path(spec["path"])
    notebook.preload(path, load(path, boards_optional=bool(spec.get("boards_optional", True))))


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

    # The notebooks' figures and tables are the book's MyST alone (oml.report.notebook.show); forks and
    # spawned workers inherit it.
    os.environ["OML_IN_BUILD"] = "1"
    try:
        mode, why = engine_mode()
    except ValueError as err:
        emit({"event": "error", "report": str(err)})
        return 2
    warm_up()
    engine = _Engine(emit, mode)
    emit({"event": "ready", "mode": mode, "why": why})
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
    sys.exit(worker_main() if sys.argv[1:] == ["--worker"] else main())
