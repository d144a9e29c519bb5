"""Mapping files: read the real OML extract as it comes, in its own column names and codes.

A mapping is a small TOML file (example: ``examples/oml-extract-mapping.toml``). Its parts:

``[columns]``
    ``extract_name = "contract_name"``: renames the extract's columns to the contract's
    (``pupil_id``, ``school_id``, ``year``, ``sex``, ``age``, ``parent_education``,
    ``region``, and the ``item_*`` statements). Columns not named here keep their name.
``[recode.<contract column>]``
    ``code = value``: replaces the extract's codes by the contract's values, e.g.
    ``1 = "jongen"``. Every code found in the data must have a value.
``[scale]``
    ``items = [...]``: the extract columns that form the scale, each renamed in
    ``[columns]`` to an ``item_*`` column (or already named ``item_…``);
    ``reverse = [...]``: the reverse-worded ones among them — the index reverse-codes
    them on the answer scale of their own year (:func:`oml.stats.index.scored_items`).

``[missing.<contract column>]`` (or ``[missing.items]``: every statement)
    ``code = "kind"``: codes that mean a missing answer, and which kind ("weet niet", "geen
    antwoord", …). Codes a file declares missing (SPSS user-missing) are missing too, named by
    their value label. A code the mapping recodes stays a code (``-1 = "onbekend"``).
``[wording]``
    ``statement = "wording"``: a statement's wording when the extract has no variable label.
``[answers."first-last"]``
    ``code = "label"``: the answer labels of those years when the extract has no value labels.
``[derive]``
    ``year_from_school_year = "schooljaar"``: the survey year from a school year ("2022-2023" -> 2023).
``[[exclude]]``
    ``rule = "duplicate_rows"`` or ``rule = "empty"`` with ``columns = [...]``, and a ``reason``:
    rows left out on purpose; their number is printed and published with the reason.

Several files (one per year, say) are read through one mapping and stacked by column name
(:mod:`oml.data.extract`).

A mistake in the mapping — an unknown column, a code without a value, an item not on the
scale, a duplicate target — is a :class:`MappingError` that names the entry; nothing is loaded.

Examples
--------
>>> import pandas as pd
>>> raw = pd.DataFrame({"lln": ["a", "b"], "gesl": [1, 2], "v1": [4, 5], "v2": [2, 1]})
>>> m = Mapping.from_dict({"columns": {"lln": "pupil_id", "gesl": "sex", "v1": "item_a", "v2": "item_b"},
...                        "recode": {"sex": {"1": "jongen", "2": "meisje"}},
...                        "scale": {"items": ["v1", "v2"], "reverse": ["v2"]}})
>>> out, _ = m.apply(raw)
>>> out.columns.tolist(), out["sex"].tolist(), out.attrs["oml_reverse"]
(['pupil_id', 'sex', 'item_a', 'item_b'], ['jongen', 'meisje'], ['item_b'])
"""
from __future__ import annotations


from oml.data.mapfile import Mapping, MappingError

__all__ = ["Mapping", "MappingError"]
