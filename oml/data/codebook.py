"""The statements: their wording, the answer labels of each year, and which statements each year asked.

The one place that answers, for a given table, "what is this statement's wording, is it real,
what are the answer labels of year Y, and was the statement asked that year":

* **Wording** — the extract's own words first (the SPSS/Stata variable label or the mapping's
  ``[wording]``, carried by the table's :class:`~oml.data.delivery.Delivery`), else the project's
  :data:`CODEBOOK`. The codebook has the factsheet's description of two statements (``real``) and
  an *illustrative* wording of the others, which only the synthetic data may print. A real build
  never prints an illustration or a bare column name: :func:`unknown_wordings` lists the
  statements it would have to, :func:`wording_problem` says how to give their wording, and
  :meth:`Words.wording` refuses (:class:`WordingError`).
* **Answer labels** — per year the delivery's value labels first, else ``oml/config/scales.toml``
  (:mod:`oml.data.scales`); a label the config marks illustrative is shown on synthetic data
  only, a real build shows the bare answer code instead.
* **Not asked** — a statement no pupil of a year answered (its column absent from that year's
  file, so blank for the whole year after stacking) was not asked that year (:func:`not_asked`).
  The index then rests on the statements asked in the pupil's own year, and Cronbach's alpha on
  the statements asked in every year of its period (:mod:`oml.stats.index`,
  :mod:`oml.stats.reliability`); pages show such a cell as "niet gevraagd", never as hidden.

Light: imports no pandas (a table passed in is used through its own methods), so the data
validation and the build can use it; :mod:`oml.data.contract` takes the codebook from here.

Examples
--------
>>> wording("item_gemak")
'Ik voel me op mijn gemak bij de juf/meester.'
>>> is_known("item_eerlijk", synthetic=True), is_known("item_eerlijk"), is_known("item_praten")
(True, False, True)
>>> answer_labels(2024)[5], answer_labels(2018)[2], answer_labels(2018, real=True)[2]
('helemaal wel', 'een beetje', '2')
"""
from __future__ import annotations

from dataclasses import dataclass

from oml.data import SYNTHETIC_PREFIX
from oml.data.delivery import Delivery, delivery_of

ITEM_PREFIX = "item_"

#: Where a wording comes from, as the codebook table of the methods chapter names it.
SOURCE_DELIVERY = "aangeleverd bij de gegevens"
SOURCE_FACTSHEET = "factsheet (omschrijving)"
SOURCE_ILLUSTRATIVE = "illustratief"


@dataclass(frozen=True)
class Item:
    """One statement of the scale: its column, Dutch wording and where the wording comes from."""

    column: str
    wording: str
    real: bool
    #: Reverse-worded: agreeing means a worse relation; the index reverse-codes it
    #: (:func:`oml.data.contract.reversed_items`).
    reverse: bool = False

    @property
    def source(self) -> str:
        """Where the wording comes from: the factsheet's description of the statement, or illustrative."""
        return SOURCE_FACTSHEET if self.real else SOURCE_ILLUSTRATIVE


#: The project's codebook. The factsheet describes two statements (in its own words); their wording here
#: follows that description. It does not publish the others, so their wording is illustrative: printed
#: on the synthetic data only.
CODEBOOK: tuple[Item, ...] = (
    Item("item_praten", "Ik kan met de juf/meester over problemen praten.", True),
    Item("item_gemak", "Ik voel me op mijn gemak bij de juf/meester.", True),
    Item("item_eerlijk", "De juf/meester behandelt mij eerlijk.", False),
    Item("item_helpen", "De juf/meester helpt mij als ik dat nodig heb.", False),
    Item("item_interesse", "De juf/meester is geïnteresseerd in wat ik doe.", False),
    Item("item_vertrouwen", "Ik vertrouw de juf/meester.", False),
)


class WordingError(ValueError):
    """A statement whose wording a real build would have to invent; the message says how to give it."""


def item_columns(columns) -> list[str]:
    """The ``item_*`` columns of a table, in their order.

    Examples
    --------
    >>> item_columns(["pupil_id", "item_a", "year", "item_b"])
    ['item_a', 'item_b']
    """
    return [c for c in columns if str(c).startswith(ITEM_PREFIX)]


def codebook_item(column: str) -> Item | None:
    """The project's :data:`CODEBOOK` entry of a statement, or None."""
    return next((item for item in CODEBOOK if item.column == column), None)


# --------------------------------------------------------------------------- wording
def wording(column: str, delivery: Delivery | None = None) -> str:
    """A statement's Dutch wording: the delivery's, else the project's codebook (illustrative ones included).

    Raises :class:`WordingError` for a statement neither knows: a column name is never a wording.
    Whether an illustrative wording may be printed is the caller's question (:func:`is_known`,
    :meth:`Words.wording`).

    Examples
    --------
    >>> d = Delivery(wording={"item_vragen": "Ik durf de juf/meester iets te vragen."})
    >>> wording("item_vragen", d), wording("item_eerlijk")
    ('Ik durf de juf/meester iets te vragen.', 'De juf/meester behandelt mij eerlijk.')
    >>> wording("item_vragen")
    Traceback (most recent call last):
    ...
    oml.data.codebook.WordingError: 1 statement has no wording: a real build prints the extract's own words, never a column name or an illustration.
    - item_vragen: no wording (not in the extract's variable labels, not in the mapping's [wording] table)
    Give each its wording as the variable label of its column in the SPSS or Stata extract, or in the mapping file:
    [wording]
    item_vragen = "Ik ..."
    """
    delivered = delivery.wording_of(column) if delivery is not None else None
    if delivered:
        return delivered
    item = codebook_item(column)
    if item is None:
        raise WordingError(wording_problem([column]))
    return item.wording


def source(column: str, delivery: Delivery | None = None) -> str:
    """Where the wording :func:`wording` gives comes from (Dutch, for the codebook table).

    Examples
    --------
    >>> source("item_praten"), source("item_eerlijk"), source("item_eerlijk", Delivery(wording={"item_eerlijk": "Ik."}))
    ('factsheet (omschrijving)', 'illustratief', 'aangeleverd bij de gegevens')
    """
    if delivery is not None and delivery.wording_of(column):
        return SOURCE_DELIVERY
    item = codebook_item(column)
    if item is None:
        raise WordingError(wording_problem([column]))
    return item.source


def is_illustrative(column: str, delivery: Delivery | None = None) -> bool:
    """True when the wording :func:`wording` gives is the project's illustration (or there is none).

    Examples
    --------
    >>> is_illustrative("item_gemak"), is_illustrative("item_eerlijk"), is_illustrative("item_x")
    (False, True, True)
    """
    if delivery is not None and delivery.wording_of(column):
        return False
    item = codebook_item(column)
    return item is None or not item.real


def is_known(column: str, delivery: Delivery | None = None, synthetic: bool = False) -> bool:
    """May a build print this statement's wording: delivered, the factsheet's, or illustrative on synthetic data.

    Examples
    --------
    >>> is_known("item_x"), is_known("item_x", Delivery(wording={"item_x": "Ik."}))
    (False, True)
    >>> is_known("item_eerlijk"), is_known("item_eerlijk", synthetic=True)
    (False, True)
    """
    if delivery is not None and delivery.wording_of(column):
        return True
    item = codebook_item(column)
    return item is not None and (item.real or synthetic)


def is_synthetic(frame) -> bool:
    """True when every pupil and school id of ``frame`` carries the synthetic prefix (as :func:`oml.data.synth.is_synthetic`).

    A table without id columns is not synthetic: only the generated data may print illustrative words.

    Examples
    --------
    >>> import pandas as pd
    >>> is_synthetic(pd.DataFrame({"pupil_id": ["SYN-1"], "school_id": ["SYN-S1"]})), is_synthetic(pd.DataFrame({"item_a": [1]}))
    (True, False)
    """
    if "pupil_id" not in frame.columns or "school_id" not in frame.columns:
        return False
    return all(bool(frame[c].astype("string").str.startswith(SYNTHETIC_PREFIX).fillna(False).all()) for c in ("pupil_id", "school_id"))


def unknown_wordings(frame, synthetic: bool | None = None) -> list[str]:
    """The statements of a real table whose wording is neither delivered nor the factsheet's: a build must refuse them.

    Synthetic data (``synthetic`` None: told by the ids, :func:`is_synthetic`) may print the
    project's illustrative wordings, so there only a statement with no wording at all is listed
    (the generated data have none). The delivery is the table's own (:func:`oml.data.delivery.delivery_of`).

    Examples
    --------
    >>> import pandas as pd
    >>> real = pd.DataFrame({"pupil_id": ["1"], "school_id": ["S1"], "item_praten": [4], "item_eerlijk": [3], "item_vragen": [2]})
    >>> unknown_wordings(real)
    ['item_eerlijk', 'item_vragen']
    >>> unknown_wordings(real, synthetic=True)
    ['item_vragen']
    """
    if synthetic is None:
        synthetic = is_synthetic(frame)
    delivery = delivery_of(frame)
    return [c for c in item_columns(frame.columns) if not is_known(c, delivery, synthetic)]


def wording_problem(columns) -> str:
    """The refusal message for statements without a printable wording: which, why, and how to give it.

    Examples
    --------
    >>> print(wording_problem(["item_eerlijk"]))  # doctest: +NORMALIZE_WHITESPACE
    1 statement has no wording: a real build prints the extract's own words, never a column name or an illustration.
    - item_eerlijk: only an illustrative wording in the project's codebook (oml/data/codebook.py), which real data may not print
    Give each its wording as the variable label of its column in the SPSS or Stata extract, or in the mapping file:
    [wording]
    item_eerlijk = "Ik ..."
    """
    columns = list(columns)
    n = len(columns)
    lines = [f"{n} statement{'s have' if n != 1 else ' has'} no wording: a real build prints the extract's own words, "
             "never a column name or an illustration."]
    for c in columns:
        why = ("only an illustrative wording in the project's codebook (oml/data/codebook.py), which real data may not print"
               if codebook_item(c) is not None else
               "no wording (not in the extract's variable labels, not in the mapping's [wording] table)")
        lines.append(f"- {c}: {why}")
    lines.append("Give each its wording as the variable label of its column in the SPSS or Stata extract, or in the mapping file:")
    lines.append("[wording]")
    lines += [f'{c} = "Ik ..."' for c in columns]
    return "\n".join(lines)


# --------------------------------------------------------------------------- answer labels
def answer_labels(year: int, delivery: Delivery | None = None, real: bool = False) -> dict[int, str]:
    """Answer code -> its label word on the scale of ``year``: the delivery's value label first, else the scale config's.

    Only the answers of the year's scale are given (a value label of a missing code is not an
    answer). A config label marked illustrative (``labels_source``) is given for synthetic data
    only; with ``real`` the bare code stands in its place. A year no scale covers has only its
    delivered labels.

    Examples
    --------
    >>> d = Delivery(answer_labels={2024: {1: "nooit", 5: "altijd", 9: "weet niet"}})
    >>> answer_labels(2024, d)
    {1: 'nooit', 2: '2', 3: '3', 4: '4', 5: 'altijd'}
    >>> answer_labels(2019, real=True)
    {1: '1', 2: '2', 3: '3', 4: '4'}
    """
    from oml.data import scales

    scale = scales.scale_for_year(int(year))
    delivered = delivery.answer_labels.get(int(year), {}) if delivery is not None else {}
    if scale is None:
        return {int(c): str(t) for c, t in sorted(delivered.items())}
    return {a: delivered.get(a) or _config_label(scale, a, real) for a in scale.answers}


def _config_label(scale, answer: int, real: bool) -> str:
    label = scale.labels.get(int(answer), "") or str(answer)
    return str(answer) if real and scale.labels_source == SOURCE_ILLUSTRATIVE else label


def answer_legend(code: int, label: str) -> str:
    """An answer as a legend shows it: "1 helemaal niet", or the bare code when its label is the code.

    Examples
    --------
    >>> answer_legend(1, "helemaal niet"), answer_legend(3, "3")
    ('1 helemaal niet', '3')
    """
    return str(code) if label in ("", str(code)) else f"{code} {label}"


# --------------------------------------------------------------------------- not asked
def not_asked(frame) -> dict[str, list[int]]:
    """Statement -> the years (ascending) in which no pupil answered it: not asked that year.

    After the yearly files are stacked, a column one year's file lacks is blank for all of that
    year's rows; that is how a statement not asked is recognised. A table without ``year`` has
    no years to tell apart: nothing is reported.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"year": [2023, 2023, 2024, 2024], "item_a": [1, 2, None, None], "item_b": [3, None, 4, None]})
    >>> not_asked(df)
    {'item_a': [2024]}
    """
    items = item_columns(frame.columns)
    if not items or "year" not in frame.columns or len(frame) == 0:
        return {}
    answered = frame[items].notna().groupby(frame["year"].to_numpy(), sort=True).any()
    out = {}
    for item in items:
        years = [int(y) for y, any_answer in answered[item].items() if not any_answer]
        if years:
            out[item] = years
    return out


def asked_in_every_year(frame) -> list[str]:
    """The statements asked in every year of ``frame`` (in column order): those alpha can use for all its pupils.

    Examples
    --------
    >>> import pandas as pd
    >>> asked_in_every_year(pd.DataFrame({"year": [2023, 2024], "item_a": [1, None], "item_b": [3, 4]}))
    ['item_b']
    """
    missing = not_asked(frame)
    return [c for c in item_columns(frame.columns) if c not in missing]


# --------------------------------------------------------------------------- one table's words
@dataclass(frozen=True)
class Words:
    """The words a table may print: its delivery (or None) and whether it is synthetic.

    Every page, figure and report asks this object, made from its table by :func:`words`, for a
    statement's wording and the answer labels, so the extract's own words reach them all.

    Examples
    --------
    >>> w = Words(Delivery(wording={"item_eerlijk": "Ik word eerlijk behandeld."}), synthetic=False)
    >>> w.wording("item_eerlijk"), w.label("item_praten")
    ('Ik word eerlijk behandeld.', 'Ik kan met de juf/meester over problemen praten.')
    >>> Words(None, synthetic=True).label("item_helpen")
    'De juf/meester helpt mij als ik dat nodig heb. †'
    >>> Words(None, synthetic=False).wording("item_helpen")
    Traceback (most recent call last):
    ...
    oml.data.codebook.WordingError: 1 statement has no wording: a real build prints the extract's own words, never a column name or an illustration.
    - item_helpen: only an illustrative wording in the project's codebook (oml/data/codebook.py), which real data may not print
    Give each its wording as the variable label of its column in the SPSS or Stata extract, or in the mapping file:
    [wording]
    item_helpen = "Ik ..."
    """

    delivery: Delivery | None
    synthetic: bool

    def wording(self, column: str) -> str:
        """The statement's wording; :class:`WordingError` when a real table would print an illustration or nothing."""
        if not is_known(column, self.delivery, self.synthetic):
            raise WordingError(wording_problem([column]))
        return wording(column, self.delivery)

    def illustrative(self, column: str) -> bool:
        """True when the wording printed is the project's illustration (synthetic data only)."""
        return is_illustrative(column, self.delivery)

    def label(self, column: str, mark: str = " †") -> str:
        """The wording with ``mark`` after an illustrative one (the pages explain the mark)."""
        return self.wording(column) + (mark if self.illustrative(column) else "")

    def source(self, column: str) -> str:
        """Where the wording comes from (Dutch)."""
        self.wording(column)
        return source(column, self.delivery)

    def answer_labels(self, year: int) -> dict[int, str]:
        """Answer code -> label of ``year`` (:func:`answer_labels`)."""
        return answer_labels(year, self.delivery, real=not self.synthetic)

    def period_labels(self, scale, years) -> dict[int, str]:
        """Answer code -> label over several ``years`` of one ``scale``: per code the latest year's delivered label, else the config's.

        Pooled figures show one legend for all their years; when the delivery labels a code
        differently in two years, the latest year's label is shown.

        Examples
        --------
        >>> from oml.data.scales import scale_for_year
        >>> w = Words(Delivery(answer_labels={2023: {1: "nooit"}, 2025: {1: "bijna nooit"}}), synthetic=False)
        >>> w.period_labels(scale_for_year(2024), [2023, 2024, 2025])[1]
        'bijna nooit'
        """
        out = {}
        for a in scale.answers:
            delivered = [self.delivery.answer_label(y, a) for y in sorted({int(y) for y in years}, reverse=True)] if self.delivery else []
            out[a] = next((t for t in delivered if t), None) or _config_label(scale, a, not self.synthetic)
        return out

    def illustrative_labels(self, scale, years) -> bool:
        """True when a label :meth:`period_labels` gives is an illustrative one of the scale config.

        Examples
        --------
        >>> from oml.data.scales import scale_for_year
        >>> Words(None, True).illustrative_labels(scale_for_year(2019), [2019]), Words(None, False).illustrative_labels(scale_for_year(2019), [2019])
        (True, False)
        """
        if scale.labels_source != SOURCE_ILLUSTRATIVE or not self.synthetic:
            return False
        labels = self.period_labels(scale, years)
        return any(labels[a] == scale.labels.get(a) and labels[a] != str(a) for a in scale.answers)


def words(frame, synthetic: bool | None = None) -> Words:
    """The :class:`Words` of a table: its delivery (``frame.attrs``) and whether it is synthetic (``None``: by its ids)."""
    return Words(delivery_of(frame), is_synthetic(frame) if synthetic is None else bool(synthetic))
