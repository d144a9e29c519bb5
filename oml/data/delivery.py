"""What came with the data as delivered: the files, the mapping, exclusions, missing answers and the extract's words.

A real extract arrives as one or several files (SPSS, Stata, csv, parquet) with their own
variable labels (the statements' wording) and value labels (the answer scale's words), declared
missing codes ("weet niet", "geen antwoord", …) and rows a researcher excludes with a reason.
:class:`Delivery` records all of that once, when the extract is read
(:func:`oml.data.extract.read_extract`), and travels with the canonical table in
``DataFrame.attrs[DELIVERY_ATTR]`` (kept by Parquet), so the build, the notebooks and the private
reports print the extract's own words and say what the report was built from.

The default synthetic data have no delivery: :func:`delivery_of` returns None and the pages use
the project's codebook (:data:`oml.data.codebook.CODEBOOK`).

Light: imports no pandas, so the build's provenance steps can use it.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache

#: The ``DataFrame.attrs`` key that holds a delivery, as one JSON text: pandas deep-copies ``attrs`` on every
#: operation, and a text is copied at once (a nested dict of hundreds of counts cost ~2.5 ms per filter).
DELIVERY_ATTR = "oml_delivery"

#: Kinds of a missing answer: the mapping's ``[missing]`` names its own kinds; these are the defaults for
#: a blank cell and for a statement not asked in a year.
BLANK = "niet ingevuld"
NOT_ASKED = "niet gevraagd"


@dataclass(frozen=True)
class SourceFile:
    """One delivered file."""

    name: str  # the file name only: a delivery's folder may be private
    size: int
    sha256: str
    rows: int


@dataclass(frozen=True)
class Exclusion:
    """Rows left out by a rule of the mapping's ``[exclude]`` table, with the researcher's reason."""

    rule: str
    reason: str
    rows: int


@dataclass(frozen=True)
class MissingCount:
    """How many answers of one statement in one year are missing, and of which kind."""

    column: str
    year: int
    kind: str
    n: int


@dataclass(frozen=True)
class MappingFile:
    """The mapping file used: kept whole with an edition, so the build can be redone exactly."""

    name: str
    sha256: str
    text: str


@dataclass
class Delivery:
    """Everything the extract said besides its data rows.

    Examples
    --------
    >>> d = Delivery(files=[SourceFile("oml-2025.sav", 1024, "ab", 10)], wording={"item_a": "Ik praat."},
    ...              answer_labels={2025: {1: "helemaal niet", 5: "helemaal wel"}},
    ...              missing=[MissingCount("item_a", 2025, "weet niet", 2)])
    >>> Delivery.from_json(d.to_json()) == d
    True
    >>> d.wording_of("item_a"), d.wording_of("item_b"), d.answer_label(2025, 5)
    ('Ik praat.', None, 'helemaal wel')
    """

    files: list[SourceFile] = field(default_factory=list)
    mapping: MappingFile | None = None
    exclusions: list[Exclusion] = field(default_factory=list)
    missing: list[MissingCount] = field(default_factory=list)
    #: Statement -> its wording, from the extract's variable labels or the mapping's ``[wording]``.
    wording: dict[str, str] = field(default_factory=dict)
    #: Year -> answer code -> its label, from the statements' value labels or the mapping's ``[answers]``.
    answer_labels: dict[int, dict[int, str]] = field(default_factory=dict)

    def wording_of(self, column: str) -> str | None:
        return self.wording.get(column)

    def answer_label(self, year: int, code: int) -> str | None:
        return self.answer_labels.get(int(year), {}).get(int(code))

    def provenance(self) -> dict:
        """What a build records of the delivery: its files, the mapping (name, sha256, text) and the exclusions."""
        return {"files": [asdict(f) for f in self.files],
                "mapping": None if self.mapping is None else asdict(self.mapping),
                "exclusions": [asdict(e) for e in self.exclusions]}

    def to_json(self) -> dict:
        """A JSON-ready dict (dictionary keys as text, as JSON and Parquet metadata keep them)."""
        out = asdict(self)
        out["answer_labels"] = {str(y): {str(c): t for c, t in labels.items()} for y, labels in self.answer_labels.items()}
        return out

    @classmethod
    def from_json(cls, record: dict) -> Delivery:
        mapping = record.get("mapping")
        return cls(
            files=[SourceFile(**f) for f in record.get("files", [])],
            mapping=MappingFile(**mapping) if mapping else None,
            exclusions=[Exclusion(**e) for e in record.get("exclusions", [])],
            missing=[MissingCount(**m) for m in record.get("missing", [])],
            wording=dict(record.get("wording", {})),
            answer_labels={int(y): {int(c): t for c, t in labels.items()}
                           for y, labels in record.get("answer_labels", {}).items()},
        )


def delivery_of(frame) -> Delivery | None:
    """The delivery a table carries (``frame.attrs``), or None (the synthetic data, a plain file).

    Examples
    --------
    >>> class F:  # anything with attrs, like a DataFrame
    ...     attrs = {DELIVERY_ATTR: attach(Delivery(wording={"item_a": "Ik praat."}))}
    >>> delivery_of(F()).wording_of("item_a"), delivery_of(type("G", (), {"attrs": {}})())
    ('Ik praat.', None)
    """
    record = getattr(frame, "attrs", {}).get(DELIVERY_ATTR)
    if not record:
        return None
    return _parse(record) if isinstance(record, str) else Delivery.from_json(record)


def attach(delivery: Delivery) -> str:
    """The value of ``attrs[DELIVERY_ATTR]`` for a delivery: its JSON text."""
    return json.dumps(delivery.to_json(), ensure_ascii=False, sort_keys=True)


@lru_cache(maxsize=8)
def _parse(text: str) -> Delivery:
    return Delivery.from_json(json.loads(text))
