"""What a build knows about its input data, as one typed record (light: imports no statistics).

The facts are found once, when the engine validates the data, and travel from there through the
validation stamp, ``book/rapport/build-info.json``, the build record and an edition's record:
each of those reads and writes them through :class:`DataFacts`, so a fact has one name everywhere.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class DataFacts:
    """The facts of one data file.

    Examples
    --------
    >>> f = DataFacts(name="x.parquet", sha256="ab", rows=3, synthetic=True, first_year=2023, last_year=2025,
    ...               groups={"region": {"Noord": 3}})
    >>> DataFacts.from_json(f.to_json()) == f
    True
    >>> f.build_info()
    {'data_name': 'x.parquet', 'data_sha256': 'ab', 'first_year': 2023, 'last_year': 2025, 'rows': 3, 'synthetic': True}
    """

    #: The file's name (never its folder: the path may be private).
    name: str
    sha256: str
    #: Pupils (rows) in the data.
    rows: int
    #: Synthetic (the project's generated data) or real.
    synthetic: bool
    first_year: int
    last_year: int
    #: For every column a run fans out over: its values and their numbers of pupils (None: the data lack it).
    groups: dict[str, dict[str, int] | None] = field(default_factory=dict)
    #: For the same columns: the number of schools behind each value (a public page needs several: runs.toml min_schools).
    schools: dict[str, dict[str, int] | None] = field(default_factory=dict)
    #: A delivery's files, mapping and exclusions (:meth:`oml.data.delivery.Delivery.provenance`); None for one plain file.
    delivery: dict | None = None
    #: Why the board columns were left out (they serve only the private reports); None: boards fine or absent.
    boards_left_out: str | None = None

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, record: dict) -> DataFacts:
        return cls(**record)

    def build_info(self) -> dict:
        """The facts the site shows (``build-info.json``: the synthetic-data notice, the page Versies, page titles)."""
        return {"data_name": self.name, "data_sha256": self.sha256, "first_year": self.first_year,
                "last_year": self.last_year, "rows": self.rows, "synthetic": self.synthetic}
