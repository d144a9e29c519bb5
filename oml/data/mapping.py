"""Mapping files: read the real OML extract as it comes, in its own column names and codes.

A mapping is a small TOML file (example: ``examples/oml-extract-mapping.toml``) with three parts:

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

import hashlib
from pathlib import Path

from oml.data.files import file_sha256
from oml.data.io import load, save
from oml.data.mapfile import Mapping, MappingError

__all__ = ["Mapping", "MappingError", "convert"]


def convert(data: str | Path, mapping: str | Path, out_dir: str | Path) -> Path:
    """Load an extract through its mapping, validate it and write it as canonical Parquet for the build.

    The file name carries the hashes of extract and mapping, so an unchanged pair is converted
    once; the reverse-worded items travel in the Parquet metadata (``DataFrame.attrs``).
    Raises :class:`MappingError` or :class:`oml.data.contract.DataValidationError`.
    """
    key = hashlib.sha256((file_sha256(data) + file_sha256(mapping)).encode()).hexdigest()[:16] if Path(mapping).is_file() and Path(data).is_file() else None
    out = Path(out_dir) / f"oml-mapped-{key}.parquet"
    if key and out.exists():
        return out
    frame = load(data, mapping=mapping)
    for stale in Path(out_dir).glob("oml-mapped-*.parquet"):
        stale.unlink()
    save(frame, out)
    return out
