"""The notebook templates: thin, parameterised, stripped, and runnable as is in Jupyter."""
from __future__ import annotations


import nbformat
import papermill as pm
import pytest

from oml.site.runs import load_runs
from oml.paths import NOTEBOOKS

TEMPLATES = sorted({r.template for r in load_runs()})


@pytest.mark.parametrize("template", TEMPLATES)
def test_template_is_stripped_with_one_parameters_cell(template):
    nb = nbformat.read(NOTEBOOKS / template, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert sum("parameters" in c.metadata.get("tags", []) for c in code) == 1
    assert all(not c.outputs and c.execution_count is None for c in code)
    # Code is hidden on the page (reachable via the provenance links): every other code cell is tagged.
    assert all({"remove-input", "remove-cell", "parameters"} & set(c.metadata.get("tags", [])) for c in code)
    # Thin: no function or class definitions in a template — logic belongs in the oml package.
    assert not any(line.lstrip().startswith(("def ", "class ")) for c in code for line in c.source.splitlines())


def test_runs_use_existing_templates_and_known_parameters():
    for run in load_runs():
        nb = nbformat.read(NOTEBOOKS / run.template, as_version=4)
        params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        names = {line.split("=")[0].strip() for line in params.source.splitlines() if "=" in line and not line.startswith("#")}
        assert set(run.parameters) <= names, (run.page, set(run.parameters) - names)


@pytest.mark.slow
@pytest.mark.parametrize("template", TEMPLATES)
def test_template_runs_as_is_with_its_defaults(template, tmp_path):
    # What a researcher does: open the template and run it, no parameters given -> the synthetic report.
    out = tmp_path / template
    pm.execute_notebook(str(NOTEBOOKS / template), str(out), cwd=str(tmp_path), kernel_name="python3",
                        progress_bar=False, log_output=False)
    executed = nbformat.read(out, as_version=4)
    assert any(o for c in executed.cells if c.cell_type == "code" for o in c.outputs) or template == "in_deze_factsheet.ipynb"
    # A public page records its numbers for numbers.json; a private feedback report keeps them to itself.
    assert list((tmp_path / "files").glob("*.numbers.json")) or list((tmp_path / "files").glob("*.feedback.json"))
