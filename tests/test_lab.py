"""`make lab`: JupyterLab (the optional extra of requirements-lab.txt) starts headless with the project's kernel.

`make book` stays without JupyterLab; `make test` installs the lab extra (about 12 s) and sets
``OML_REQUIRE_LAB``, so there this smoke test always runs. Elsewhere (pytest run by hand in an environment
without the extra) it is skipped with that reason. It runs `make lab` with this interpreter's
environment as the venv, on a free port of 127.0.0.1 with a token of its own, and asks the server's
REST API for its kernels.
"""
from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
KERNEL = "oml-living-report"  # the Makefile's KERNEL

LAB_INSTALLED = importlib.util.find_spec("jupyterlab") is not None
REQUIRED = bool(os.environ.get("OML_REQUIRE_LAB"))  # set by `make test`, which installs the extra first

pytestmark = [
    pytest.mark.skipif(not LAB_INSTALLED and not REQUIRED,
                       reason="the lab extra is not installed (run `make lab` once: requirements-lab.txt); "
                              "the JupyterLab smoke test did not run"),
    pytest.mark.skipif(shutil.which("make") is None, reason="no `make` on this machine: the `make lab` smoke test did not run"),
    pytest.mark.skipif(os.name == "nt", reason="the `make lab` smoke test is POSIX-only (process groups, make)"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def test_the_lab_extra_is_installed_where_make_test_requires_it():
    assert LAB_INSTALLED, "make test installs requirements-lab.txt before the suite: JupyterLab should be importable"


@pytest.mark.slow
def test_make_lab_serves_jupyterlab_with_the_project_kernel(tmp_path):
    port, token = _free_port(), secrets.token_hex(16)
    venv = Path(sys.prefix)  # the environment running the tests, where the lab extra is installed
    args = f"--port={port} --ServerApp.port_retries=0 --IdentityProvider.token={token}"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    with (tmp_path / "lab.log").open("w") as log:
        proc = subprocess.Popen(["make", "-s", "lab", f"VENV={venv}", f"LAB_ARGS={args}"], cwd=REPO, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, specs = time.monotonic() + 180, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status, body = _get(f"{base}/api/kernelspecs?token={token}")
                specs = json.loads(body)
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.5)
        log = (tmp_path / "lab.log").read_text(encoding="utf-8", errors="replace")
        assert specs is not None, f"JupyterLab did not answer on {base} (exit {proc.poll()}):\n{log[-3000:]}"
        assert KERNEL in specs["kernelspecs"], f"the project's kernel is not listed: {sorted(specs['kernelspecs'])}"
        argv = specs["kernelspecs"][KERNEL]["spec"]["argv"]
        assert Path(argv[0]).is_relative_to(venv), argv  # the project's interpreter (a venv link: not resolved)
        status, page = _get(f"{base}/lab?token={token}")
        assert status == 200 and b"JupyterLab" in page
        log = (tmp_path / "lab.log").read_text(encoding="utf-8", errors="replace")
        assert "application assets not found" not in log, log[-3000:]  # the front-end itself is installed
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
