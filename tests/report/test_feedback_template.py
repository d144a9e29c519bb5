"""The feedback template ``notebooks/terugkoppeling.ipynb``, executed with papermill as the build does."""
from __future__ import annotations

from pathlib import Path

import nbformat
import papermill as pm
import pytest

from oml.data.io import save
from oml.data.synth import generate
from oml.paths import NOTEBOOKS
from oml.report.unit_report import MARK, render_document

TEMPLATE = NOTEBOOKS / "terugkoppeling.ipynb"
REPO = Path(__file__).resolve().parents[2]


def test_template_is_thin_stripped_and_has_the_parameters():
    nb = nbformat.read(TEMPLATE, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    names = {line.split("=")[0].strip() for line in params[0].source.splitlines() if "=" in line and not line.startswith("#")}
    assert names == {"data", "mapping", "page", "level", "min_cell", "kind", "unit"}  # mapping: a delivery as it came
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert not any(line.lstrip().startswith(("def ", "class ", "for ", "if ")) for c in code for line in c.source.splitlines())


@pytest.fixture(scope="module")
def data_file(tmp_path_factory) -> tuple[Path, object]:
    frame = generate(n=1500, seed=21, history=False)
    path = tmp_path_factory.mktemp("data") / "mini.parquet"
    save(frame, path)
    return path, frame


@pytest.mark.parametrize("kind", ["school", "board"])
def test_template_runs_per_unit_and_renders_one_document(data_file, kind, tmp_path, monkeypatch):
    path, frame = data_file
    # The kernel must import this tree's oml (the shared venv's editable install may point elsewhere).
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    column = "school_id" if kind == "school" else "board_id"
    unit = str(frame[column].value_counts().index[0])
    out = tmp_path / "report.ipynb"
    pm.execute_notebook(str(TEMPLATE), str(out), parameters={"data": str(path), "page": "r1", "kind": kind, "unit": unit},
                        cwd=str(tmp_path), kernel_name="python3", progress_bar=False, log_output=False)
    executed = nbformat.read(out, as_version=4)
    marked = [o for c in executed.cells for o in c.get("outputs", []) if MARK in o.get("metadata", {})]
    assert marked and all("text/html" in o["data"] for o in marked)
    document = render_document(out)
    name = frame.loc[frame[column] == unit, "school_name" if kind == "school" else "board_name"].iloc[0]
    assert document.startswith("<!DOCTYPE html>") and name in document and "<svg" in document
    # Private numbers: a manifest the site never collects, nothing for the public numbers.json.
    assert (tmp_path / "files" / "r1.feedback.json").is_file()
    assert not list((tmp_path / "files").glob("*.numbers.json"))
