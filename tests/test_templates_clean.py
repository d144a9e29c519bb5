"""The notebook templates in notebooks/ are kept free of outputs: a researcher's run never lands in git.

A template run in Jupyter keeps its outputs (figures, tables, the synthetic-data note, maybe real
numbers) when saved. This test fails for any template with an output, an execution count or
run metadata (papermill's, execution timings), naming the template and cells. Run as a script it
strips them in place, as ``nbstripout`` would (``make strip`` runs it; docs/researcher.md shows
how to make it a git pre-commit hook)::

    .venv/bin/python tests/test_templates_clean.py          # strip every template in place
    .venv/bin/python tests/test_templates_clean.py --check  # list what would be stripped; exit 1 if anything
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

TEMPLATES = Path(__file__).resolve().parent.parent / "notebooks"
RUN_METADATA = ("papermill", "execution", "widgets")


def leftovers(nb) -> list[str]:
    """What a run left in ``nb``: cells with outputs or execution counts, papermill's injected cell, run metadata.

    Examples
    --------
    >>> nb = nbformat.v4.new_notebook()
    >>> nb.cells = [nbformat.v4.new_code_cell("1", execution_count=3)]
    >>> leftovers(nb)
    ['cell 1: execution count 3']
    """
    found = []
    for i, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        if "injected-parameters" in cell.metadata.get("tags", []):
            found.append(f"cell {i}: papermill's injected parameters")
        if cell.get("outputs"):
            found.append(f"cell {i}: {len(cell.outputs)} output(s)")
        if cell.get("execution_count") is not None:
            found.append(f"cell {i}: execution count {cell.execution_count}")
        found += [f"cell {i}: metadata {key!r}" for key in RUN_METADATA if key in cell.metadata]
    found += [f"notebook metadata {key!r}" for key in RUN_METADATA if key in nb.metadata]
    if set(nb.metadata.get("language_info", {})) - {"name"}:  # the kernel's version and lexer details
        found.append("notebook metadata 'language_info' of a kernel")
    return found


def strip(nb):
    """Remove what :func:`leftovers` finds, in place; return ``nb``.

    Examples
    --------
    >>> nb = nbformat.v4.new_notebook()
    >>> nb.cells = [nbformat.v4.new_code_cell("1", execution_count=3, outputs=[nbformat.v4.new_output("stream", text="x")])]
    >>> leftovers(strip(nb))
    []
    """
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            for key in RUN_METADATA:
                cell.metadata.pop(key, None)
    for key in RUN_METADATA:
        nb.metadata.pop(key, None)
    if "language_info" in nb.metadata:
        nb.metadata["language_info"] = {"name": nb.metadata["language_info"].get("name", "python")}
    return nb


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.ipynb")))
def test_template_has_no_outputs(template):
    nb = nbformat.read(TEMPLATES / template, as_version=4)
    found = leftovers(nb)
    assert not found, (f"notebooks/{template} holds the outputs of a run ({'; '.join(found)}): "
                       f"strip them with `make strip` (tests/test_templates_clean.py) before committing")


def test_the_templates_are_found():
    assert len(list(TEMPLATES.glob("*.ipynb"))) >= 5


def main(argv: list[str]) -> int:
    check = "--check" in argv
    dirty = 0
    for path in sorted(TEMPLATES.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        found = leftovers(nb)
        if not found:
            continue
        dirty += 1
        print(f"{path.relative_to(TEMPLATES.parent)}: {'; '.join(found)}")
        if not check:
            nbformat.write(strip(nb), path)
    print(f"{dirty} template(s) {'with outputs' if check else 'stripped'}")
    return 1 if check and dirty else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
