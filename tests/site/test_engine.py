"""The warm execution engine: clean state per notebook, timeout, failures, data read once, fan-out.

Tiny templates in a throw-away project exercise the real engine (``oml.site.engine``) through
the build's :func:`run_notebooks`, so what is tested is what ``oml build`` does.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest

from conftest import write_template
from oml.site.messages import BuildError
from oml.paths import Layout
from oml.site.runner import EngineClient, run_notebooks
from oml.site.runs import Run, expand_runs, load_config, load_runs, slug
from oml.data.files import file_sha256
from oml.site.engine import engine_mode as mode_of, fork_available

FIRST = """
import os, sys, random, warnings
import numpy as np, matplotlib, matplotlib.pyplot as plt
import oml.report.plotting as plotting
leaked_variable = 1
plotting.FIGSIZE = (1.0, 1.0)             # module state a template changes
matplotlib.rcParams["lines.linewidth"] = 9.25
plt.figure()                               # an open figure
np.random.seed(12345)                      # random state
warnings.simplefilter("ignore")            # a warning filter
sys.modules["oml_leaked_module"] = sys     # an imported module
os.environ["OML_LEAKED"] = "1"
print("first done")
"""

SECOND = """
import os, sys, warnings
import numpy as np, matplotlib, matplotlib.pyplot as plt
import oml.report.plotting as plotting
assert "leaked_variable" not in globals(), "a variable of the first notebook"
assert plotting.FIGSIZE != (1.0, 1.0), "module state of the first notebook"
assert matplotlib.rcParams["lines.linewidth"] != 9.25, "matplotlib rcParams of the first notebook"
assert plt.get_fignums() == [], "an open figure of the first notebook"
assert np.random.get_state()[1][0] != np.random.RandomState(12345).get_state()[1][0], "random state of the first"
assert not any(f[0] == "ignore" and f[1] is None and f[2] is Warning for f in warnings.filters), "a filter of the first"
assert "oml_leaked_module" not in sys.modules, "a module of the first notebook"
assert "OML_LEAKED" not in os.environ, "an environment variable of the first notebook"
print("second clean")
"""




@pytest.fixture(params=["fork", "spawn"])
def engine_mode(request, monkeypatch):
    """Each engine test runs with both engines: the fork engine and the spawn engine (no fork: Windows, macOS)."""
    if request.param == "fork" and not fork_available():
        pytest.skip("this platform cannot fork: only the spawn engine runs here")
    monkeypatch.setenv("OML_ENGINE", request.param)
    return request.param


@pytest.fixture()
def project(tmp_path, engine_mode):
    root = tmp_path / "proj"
    (root / "notebooks").mkdir(parents=True)
    (root / "oml").mkdir()
    (root / "oml" / "mod.py").write_text("VALUE = 1\n")
    (root / "requirements.txt").write_text("pandas==1\n")
    data = root / "data.csv"
    data.write_text("x\n1\n")
    return root, data


def _run(root: Path, data: Path, runs: list[Run], **kwargs) -> dict:
    return run_notebooks(runs, data, file_sha256(data), Layout(root), False, kwargs.pop("jobs", 1), **kwargs)


def _outputs(root: Path, page: str) -> str:
    nb = nbformat.read(root / "book" / "rapport" / f"{page}.ipynb", as_version=4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_second_notebook_sees_nothing_of_the_first(project):
    # One engine, one core: the two notebooks run one after the other from the same warm process.
    root, data = project
    write_template(root / "notebooks" / "first.ipynb", FIRST)
    write_template(root / "notebooks" / "second.ipynb", SECOND)
    result = _run(root, data, [Run("first.ipynb", "first", "First"), Run("second.ipynb", "second", "Second")])
    assert result["executed_pages"] == ["first", "second"]
    assert _outputs(root, "first") == "first done\n"
    assert _outputs(root, "second") == "second clean\n"


def test_a_failing_cell_names_page_cell_and_error(project):
    root, data = project
    write_template(root / "notebooks" / "bad.ipynb", "x = 1\nraise KeyError('no such group')")
    with pytest.raises(BuildError, match=r"bad\.ipynb \(kapot\) failed: cell In \[3\]: KeyError: 'no such group'"):
        _run(root, data, [Run("bad.ipynb", "kapot", "Kapot")])


def test_a_hung_notebook_is_stopped_after_the_timeout(project):
    root, data = project
    write_template(root / "notebooks" / "ok.ipynb", "print('ok')")
    _run(root, data, [Run("ok.ipynb", "ok", "OK")])
    before = (root / "book" / "rapport" / "ok.ipynb").read_bytes()
    write_template(root / "notebooks" / "hang.ipynb", "import time\ntime.sleep(600)")
    with pytest.raises(BuildError, match=r"hang\.ipynb \(hang\) failed: did not finish within the time limit of 2 s"):
        _run(root, data, [Run("ok.ipynb", "ok", "OK"), Run("hang.ipynb", "hang", "Hang")], timeout=2.0)
    # Nothing was published: the previous pages stay as they were.
    assert (root / "book" / "rapport" / "ok.ipynb").read_bytes() == before
    assert not (root / "book" / "rapport" / "hang.ipynb").exists()


def test_notebooks_run_in_parallel_in_separate_processes(project):
    root, data = project
    body = "import os, time\nt0 = time.time(); time.sleep(1.5)\nprint(os.getpid(), t0, time.time())"
    for name in ("p1", "p2"):
        write_template(root / "notebooks" / f"{name}.ipynb", body)
    _run(root, data, [Run("p1.ipynb", "p1", "P1"), Run("p2.ipynb", "p2", "P2")], jobs=2)
    (pid1, s1, e1), (pid2, s2, e2) = ([float(v) for v in _outputs(root, p).split()] for p in ("p1", "p2"))
    assert pid1 != pid2
    assert s2 < e1 and s1 < e2  # the two sleeps overlapped


def _data_project(tmp_path: Path, frame) -> tuple[Path, Path]:
    """A throw-away project whose data file holds ``frame`` (real pupil data, for the engine's preload)."""
    from oml.data.io import save

    root = tmp_path / "proj"
    (root / "notebooks").mkdir(parents=True)
    (root / "oml").mkdir()
    (root / "requirements.txt").write_text("pandas==1\n")
    data = root / "data.parquet"
    save(frame, data)
    return root, data


def test_data_are_read_once_by_the_engine_and_shared(tmp_path, default_frame, engine_mode):
    # The engine validates the file once; a notebook finds the frame preloaded and never reads the file
    # (with the spawn engine, the worker read it before the notebook started).
    root, data = _data_project(tmp_path, default_frame.head(400))
    body = ("import oml.data.io as io\n"
            "io.load = None  # reading the file again would fail\n"
            "from oml.report import notebook as nb\n"
            "ctx = nb.setup(data, page)\n"
            "print(len(ctx.frame), len(nb._PRELOADED))")
    write_template(root / "notebooks" / "t.ipynb", body)
    engine = EngineClient(Layout(root))
    try:
        reply = engine.prepare(data, generate=False, groups=["region"])
        assert reply["ok"] and reply["info"]["rows"] == 400
        assert sum(reply["info"]["groups"]["region"].values()) == 400
        head = default_frame.head(400)
        assert reply["info"]["schools"]["region"] == {r: int(n) for r, n in
                                                      head.groupby("region", observed=True)["school_id"].nunique().items()}
        run_notebooks([Run("t.ipynb", "t", "T")], data, file_sha256(data), Layout(root), False, 1, engine)
    finally:
        engine.close()
    assert _outputs(root, "t") == "400 1\n"


def test_invalid_data_are_reported_by_the_engine(tmp_path, engine_mode):
    bad = tmp_path / "bad.csv"
    bad.write_text("pupil_id,school_id,year\nA,S,2023\n")
    engine = EngineClient(Layout(tmp_path))
    try:
        reply = engine.prepare(bad, generate=False, groups=[])
    finally:
        engine.close()
    assert not reply["ok"] and "column 'sex'" in reply["report"]


# ----------------------------------------------------------------------------- fan-out
def test_fan_out_one_page_per_value_small_ones_left_out():
    run = Run("regio.ipynb", "regio-{slug}", "Regio {value}", {"min_cell": 10, "level": 0.95}, for_each="region",
              part="regios")
    other = Run("x.ipynb", "x", "X", {"min_cell": 10})
    runs, left = expand_runs([other, run], {"region": {"Zuid-Limburg": 40, "Noord": 12, "Klein": 9}})
    assert [r.page for r in runs] == ["x", "regio-noord", "regio-zuid-limburg"]
    assert [r.title for r in runs[1:]] == ["Regio Noord", "Regio Zuid-Limburg"]
    assert runs[2].parameters == {"min_cell": 10, "level": 0.95, "region": "Zuid-Limburg"}
    assert [(lo.value, lo.reason, lo.part) for lo in left] == [("Klein", "minder dan 10 leerlingen", "regios")]


def test_fan_out_leaves_out_a_region_behind_too_few_schools():
    # A region of one or two schools would publish a school's own results: no page, and the listing says why.
    run = Run("regio.ipynb", "regio-{slug}", "Regio {value}", {"min_cell": 10}, for_each="region", part="regios",
              min_schools=3)
    runs, left = expand_runs([run], {"region": {"Groot": 400, "Twee": 60, "Een": 30}},
                             {"region": {"Groot": 20, "Twee": 2, "Een": 1}})
    assert [r.page for r in runs] == ["regio-groot"]
    assert [(lo.value, lo.reason) for lo in left] == [("Een", "minder dan 3 scholen"), ("Twee", "minder dan 3 scholen")]
    with pytest.raises(BuildError, match="needs the number of schools per region"):
        expand_runs([run], {"region": {"Groot": 400}})


def test_the_region_pages_minimum_of_schools_is_the_statistics_one():
    # notebooks/runs.toml decides which region pages the build makes; the methods chapter checks the same regions.
    from oml.stats.regions import MIN_PAGE_SCHOOLS

    (region,) = [r for r in load_runs() if r.for_each == "region"]
    assert region.min_schools == MIN_PAGE_SCHOOLS == 3


def test_fan_out_values_that_give_the_same_page_are_an_error():
    run = Run("r.ipynb", "r-{slug}", "R {value}", {"min_cell": 1}, for_each="g")
    with pytest.raises(BuildError, match=r"page name\(s\) r-a-b more than once"):
        expand_runs([run], {"g": {"a b": 5, "A-B": 5}})


@pytest.mark.parametrize("text,message", [
    ('[[run]]\ntemplate = "r.ipynb"\npage = "r"\ntitle = "R"\nfor_each = "region"\n', r"needs '\{slug\}' in its page"),
    ('[[run]]\ntemplate = "r.ipynb"\npage = "r"\ntitle = "R"\nfor_eech = "region"\n', r"unknown key\(s\) for_eech"),
    ('[build]\ntimeout = "soon"\n[[run]]\ntemplate = "r.ipynb"\npage = "r"\ntitle = "R"\n', r"timeout must be a number"),
])
def test_bad_fan_out_config_is_a_clear_error(tmp_path, text, message):
    config = tmp_path / "runs.toml"
    config.write_text(text)
    with pytest.raises(BuildError, match=message):
        load_config(config)


def test_region_run_is_one_template_over_the_data():
    runs, settings = load_config()
    fan = [(r.template, r.for_each, r.part, r.private) for r in runs if r.for_each]
    assert [f for f in fan if not f[3]] == [("regio.ipynb", "region", "regios", False)]
    # The feedback reports: one private template per school and per board, never a page of the book.
    assert [f for f in fan if f[3]] == [("terugkoppeling.ipynb", "school_id", None, True),
                                        ("terugkoppeling.ipynb", "board_id", None, True)]
    assert settings.timeout > 0
    assert slug("Parkstad Limburg") == "parkstad-limburg"
    json.dumps([r.parameters for r in runs])


@pytest.mark.skipif(not fork_available(), reason="the fork engine only: this platform cannot fork")
def test_warm_function_fills_the_cache_before_the_fork_and_a_failing_one_is_harmless(tmp_path, default_frame,
                                                                                      monkeypatch):
    monkeypatch.setenv("OML_ENGINE", "fork")  # `warm` fills the fork engine's cache; the spawn engine does not call it
    # runs.toml `warm`: the engine computes a report's model in its warm process just before the fork;
    # the notebook finds it. A warm function that fails is logged and the notebook runs without it.
    frame = default_frame.head(3000)
    root, data = _data_project(tmp_path, frame)
    school, other = (str(s) for s in frame["school_id"].unique()[:2])
    write_template(root / "notebooks" / "t.ipynb",
                   "from oml.report import notebook as nb\nfrom oml.stats import units as st\n"
                   "ctx = nb.setup(data, page)\nprint(sorted(k[:2] for k in st.prepare(ctx.frame).memo))",
                   parameters='data = None\npage = "p"\nkind = "school"\nunit = ""\nlevel = 0.95\nmin_cell = 10')
    parameters = {"kind": "school", "level": 0.95, "min_cell": 10}
    runs = [Run("t.ipynb", "warmed", "W", {**parameters, "unit": school}, warm="oml.report.unit_report:warm"),
            Run("t.ipynb", "cold", "C", {**parameters, "unit": other}, warm="oml.report.unit_report:no_such_function")]
    engine = EngineClient(Layout(root))
    try:
        assert engine.prepare(data, generate=False, groups=[])["ok"]
        run_notebooks(runs, data, file_sha256(data), Layout(root), False, 1, engine)
    finally:
        engine.close()
    assert _outputs(root, "warmed") == f"[('school', '{school}')]\n"
    # The second ran without its own model computed ahead (the first school's stays in the engine's cache).
    assert _outputs(root, "cold") == f"[('school', '{school}')]\n"
    log = (root / "_build" / "engine.log").read_text(encoding="utf-8")
    assert "warm oml.report.unit_report:no_such_function for cold failed" in log


def test_warm_must_name_a_module_function(tmp_path):
    config = tmp_path / "runs.toml"
    config.write_text('[[run]]\ntemplate = "t.ipynb"\npage = "p"\ntitle = "T"\nwarm = "not a function"\n')
    with pytest.raises(BuildError, match="warm must be \"module:function\""):
        load_config(config)


# ----------------------------------------------------------------------------- engine choice
def test_the_engine_is_chosen_by_the_platform_and_oml_engine(monkeypatch):
    import os
    import signal

    assert mode_of({"OML_ENGINE": "spawn"})[0] == "spawn"
    assert mode_of({"OML_ENGINE": ""})[0] == ("fork" if fork_available() else "spawn")
    # macOS: fork, but no sigtimedwait -> the spawn engine, also when fork is asked for; Windows: neither.
    monkeypatch.delattr(signal, "sigtimedwait", raising=False)
    assert mode_of({}) == ("spawn", "this platform has no signal.sigtimedwait")
    assert mode_of({"OML_ENGINE": "fork"})[0] == "spawn"
    monkeypatch.delattr(os, "fork", raising=False)
    assert mode_of({})[1] == "this platform has no os.fork, signal.sigtimedwait"


def test_an_unknown_engine_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("OML_ENGINE", "threads")
    engine = EngineClient(Layout(tmp_path))
    with pytest.raises(BuildError, match="the notebook engine did not start: OML_ENGINE='threads' is not one of auto, fork, spawn"):
        engine.prepare(tmp_path / "x.csv", generate=False, groups=[])
    engine.close()


def test_the_spawn_engine_never_forks(tmp_path, monkeypatch):
    # A platform without fork, simulated: os.fork and signal.sigtimedwait are removed in the engine and its
    # workers (a sitecustomize on their path); the engine chooses the spawn engine by itself and the notebook runs.
    root = tmp_path / "proj"
    (root / "notebooks").mkdir(parents=True)
    (root / "oml").mkdir()
    (root / "requirements.txt").write_text("pandas==1\n")
    data = root / "data.csv"
    data.write_text("x\n1\n")
    shim = tmp_path / "nofork"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(NO_FORK)
    monkeypatch.delenv("OML_ENGINE", raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(shim), os.environ.get("PYTHONPATH")])))
    write_template(root / "notebooks" / "a.ipynb", "import os, signal\nprint(hasattr(os, 'fork'), hasattr(signal, 'sigtimedwait'))")
    engine = EngineClient(Layout(root))
    try:
        run_notebooks([Run("a.ipynb", "a", "A")], data, file_sha256(data), Layout(root), False, 1, engine)
        assert engine.mode == "spawn"
    finally:
        engine.close()
    assert _outputs(root, "a") == "False False\n"


#: What a platform without fork looks like to Python (put on PYTHONPATH as sitecustomize.py).
NO_FORK = """import os, signal
for module, name in ((os, "fork"), (os, "forkpty"), (signal, "sigtimedwait")):
    if hasattr(module, name):
        delattr(module, name)
"""
