"""A realistic OML delivery for the tests: one SPSS file per year, as an extract arrives.

Made from synthetic pupils (so nothing here is real), but shaped like a delivery: Dutch column
names, numeric codes with value labels, the statements' wording as variable labels (4- and 5-point
answer labels per period), ``schooljaar`` as "2022-2023", BRIN-style school ids and board numbers,
SPSS user-missing codes (8 "weet niet", 9 "geen antwoord", -1 "niet ingevuld") declared in the
files, a few undeclared 99s, a statement not asked in 2020 (its column absent), a reverse-worded
statement, a school that changes board (a merger), a duplicated pupil, a pupil without a school and
three without sex. :data:`MAPPING` is the mapping a researcher writes for it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

#: The statements: extract name -> (contract name, wording). "vragen" is reverse-worded.
STATEMENTS = {
    "rel_praten": ("item_praten", "Ik kan met mijn leerkracht over problemen praten."),
    "rel_gemak": ("item_gemak", "Ik voel me op mijn gemak bij mijn leerkracht."),
    "rel_eerlijk": ("item_eerlijk", "Mijn leerkracht is eerlijk tegen mij."),
    "rel_helpen": ("item_helpen", "Mijn leerkracht helpt mij als ik vastloop."),
    "rel_interesse": ("item_interesse", "Mijn leerkracht wil weten hoe het met mij gaat."),
    "rel_vragen": ("item_vragen", "Ik durf mijn leerkracht niets te vragen."),
}
#: Not asked in this year: its column is absent from that year's file.
NOT_ASKED = ("rel_interesse", 2020)
FOUR = {1.0: "nooit", 2.0: "soms", 3.0: "vaak", 4.0: "altijd"}
FIVE = {1.0: "helemaal niet", 2.0: "niet", 3.0: "een beetje", 4.0: "wel", 5.0: "helemaal wel"}
MISSING = {8.0: "weet niet", 9.0: "geen antwoord", -1.0: "niet ingevuld"}
SEX = {1.0: "Jongen", 2.0: "Meisje"}
EDUCATION = {1.0: "mbo of lager", 2.0: "hbo", 3.0: "wo", 9.0: "onbekend"}
REGION = {1.0: "Noord-Limburg", 2.0: "Midden-Limburg", 3.0: "Sittard-Geleen", 4.0: "Maastricht-Heuvelland",
          5.0: "Parkstad Limburg"}

MAPPING = """
[columns]
leerlingnummer = "pupil_id"
brin_vestiging = "school_id"
bestuursnummer = "board_id"
geslacht = "sex"
leeftijd = "age"
opleiding_ouders = "parent_education"
regio = "region"
rel_praten = "item_praten"
rel_gemak = "item_gemak"
rel_eerlijk = "item_eerlijk"
rel_helpen = "item_helpen"
rel_interesse = "item_interesse"
rel_vragen = "item_vragen"

[derive]
year_from_school_year = "schooljaar"

[recode.parent_education]
-1 = "onbekend"

[missing.items]
99 = "niet ingevuld"

[scale]
items = ["rel_praten", "rel_gemak", "rel_eerlijk", "rel_helpen", "rel_interesse", "rel_vragen"]
reverse = ["rel_vragen"]

[[exclude]]
rule = "duplicate_rows"
reason = "dubbel geleverde leerling"

[[exclude]]
rule = "empty"
columns = ["school_id", "sex"]
reason = "school of geslacht ontbreekt"
"""


def delivery_frame(n: int = 1800, seed: int = 5) -> pd.DataFrame:
    """The whole delivery as one table in the extract's names and codes (``schooljaar`` included)."""
    from oml.data.scales import periods
    from oml.data.synth import generate

    frame = generate(n=n, seed=seed)
    rng = np.random.default_rng(seed)
    out = pd.DataFrame({
        "leerlingnummer": [f"L{i:07d}" for i in range(len(frame))],
        "brin_vestiging": frame["school_id"].str.replace("SYN-S", "BRIN", regex=False),
        "bestuursnummer": frame["board_id"].str.replace("SYN-B", "", regex=False).astype(float),
        "schooljaar": [f"{y - 1}-{y}" for y in frame["year"]],
        "geslacht": frame["sex"].map({v.lower(): k for k, v in SEX.items()}).astype(float),
        "leeftijd": frame["age"].astype(float),
        "opleiding_ouders": frame["parent_education"].astype(str).map({v: k for k, v in EDUCATION.items()}).astype(float),
        "regio": frame["region"].astype(str).map({v: k for k, v in REGION.items()}).astype(float),
    })
    items = [c for c in frame.columns if c.startswith("item_")][:5]
    for (src, _), item in zip(list(STATEMENTS.items())[:5], items):
        out[src] = frame[item].astype(float)
    mirror = pd.Series(np.nan, index=frame.index)
    for scale, part in periods(frame):
        mirror.loc[part.index] = scale.lowest + scale.highest - part["item_gemak"].astype("float64")
    out["rel_vragen"] = mirror
    statements = list(STATEMENTS)
    # Missing answers of every declared kind, and a few undeclared 99s the mapping declares.
    for code, share in ((8.0, 0.02), (9.0, 0.01), (-1.0, 0.01)):
        for c in statements:
            hit = rng.random(len(out)) < share
            out.loc[hit, c] = code
    out.loc[rng.choice(len(out), 5, replace=False), "rel_praten"] = 99.0
    # Parental education not filled in (-1): the mapping recodes it to "onbekend".
    out.loc[rng.choice(len(out), 7, replace=False), "opleiding_ouders"] = -1.0
    # A merger: the first school's board changes from 2024 on.
    first = out["brin_vestiging"] == out["brin_vestiging"].iloc[0]
    years = frame["year"].to_numpy()
    out.loc[first & (years >= 2024), "bestuursnummer"] = 999.0
    # Rows a researcher excludes: a duplicated pupil, a pupil without a school, three without sex.
    out = pd.concat([out, out.iloc[[10]]], ignore_index=True)
    out.loc[20, "brin_vestiging"] = ""
    out.loc[[30, 31, 32], "geslacht"] = np.nan
    out.attrs["years"] = [*years, years[10]]
    return out


def write_delivery(folder: Path, n: int = 1800, seed: int = 5, kind: str = "sav") -> list[Path]:
    """One file per year into ``folder`` (SPSS ``.sav``, or Stata ``.dta`` without user-missing declarations)."""
    import pyreadstat

    folder.mkdir(parents=True, exist_ok=True)
    frame = delivery_frame(n, seed)
    years = np.asarray(frame.attrs["years"])
    written = []
    for year in sorted(set(years)):
        part = frame[years == year].reset_index(drop=True)
        if (NOT_ASKED[1]) == year:
            part = part.drop(columns=[NOT_ASKED[0]])
        answers = FOUR if year <= 2022 else FIVE
        statements = [c for c in STATEMENTS if c in part.columns]
        labels = {"geslacht": SEX, "opleiding_ouders": EDUCATION, "regio": REGION,
                  **{c: {**answers, **MISSING} for c in statements}}
        column_labels = {c: STATEMENTS[c][1] if c in STATEMENTS else c for c in part.columns}
        path = folder / f"oml-groep8-{year}.{kind}"
        if kind == "sav":
            pyreadstat.write_sav(part, str(path), variable_value_labels=labels, column_labels=column_labels,
                                 missing_ranges={c: [8.0, 9.0, -1.0] for c in statements})
        else:
            pyreadstat.write_dta(part, str(path), variable_value_labels=labels, column_labels=column_labels)
        written.append(path)
    return written
