"""Test reports for the access layer: small self-contained Dutch HTML documents with a figure,
numbers, sentences, an id and a name — each with markers that must never be readable without the code.

They stand in for the real report content (oml.report.unit_report), which the access layer treats as opaque.
"""
from __future__ import annotations

from html import escape


def _figure(values: list[float], label: str) -> str:
    """An inline SVG bar chart whose title and labels carry the numbers (as the real figures do)."""
    bars = "".join(
        f'<rect x="{20 + 60 * i}" y="{120 - 80 * v:.1f}" width="40" height="{80 * v:.1f}" fill="#0b4f8a"/>'
        f'<text x="{40 + 60 * i}" y="140" text-anchor="middle">{str(v).replace(".", ",")}</text>'
        for i, v in enumerate(values))
    return (f'<figure id="figuur"><svg role="img" aria-labelledby="fig-title" width="320" height="150" '
            f'xmlns="http://www.w3.org/2000/svg"><title id="fig-title">{escape(label)}</title>{bars}</svg>'
            f"<figcaption>{escape(label)}</figcaption></figure>")


def document(kind: str, id_: str, name: str, number: str, sentence: str, values: list[float]) -> str:
    """One report: id, name, a headline number, a generated-looking sentence and a figure."""
    what = "school" if kind == "school" else "bestuur"
    return f"""<!DOCTYPE html>
<html lang="nl">
<head><meta charset="utf-8"><title>Terugkoppeling {escape(name)}</title></head>
<body>
<main>
<h1 id="rapport-naam">{escape(name)}</h1>
<p>Dit is het rapport van {what} <span id="rapport-id">{escape(id_)}</span>.</p>
<p id="kerncijfer">Gemiddelde index: <strong>{number}</strong></p>
<p id="zin">{escape(sentence)}</p>
{_figure(values, f"Index per jaar van {name}")}
</main>
</body>
</html>
"""


SAMPLES = [
    ("school", "SYN-S0101", "Synthetische basisschool De Kwartelkoning", "0,4137", "De index ligt significant hoger dan in Limburg.", [0.41, 0.52, 0.63]),
    ("school", "SYN-S0102", "Synthetische basisschool Het Zeepaardje", "-0,2871", "De index verschilt niet significant van die in Limburg.", [0.28, 0.19, 0.33]),
    ("school", "SYN-S0103", "Synthetische basisschool De Wilgenkring", "0,0592", "De index ligt significant lager dan in de regio.", [0.59, 0.47, 0.71]),
    ("board", "SYN-B07", "Synthetisch schoolbestuur Maasdal", "0,1768", "Het bestuur als geheel verschilt niet significant van Limburg.", [0.17, 0.68, 0.24]),
]


def documents(samples=SAMPLES) -> dict[tuple[str, str], str]:
    return {(kind, id_): document(kind, id_, name, number, sentence, values)
            for kind, id_, name, number, sentence, values in samples}


def markers(sample) -> list[str]:
    """Strings of one report that no published file may contain in plaintext."""
    kind, id_, name, number, sentence, values = sample
    return [id_, name, number, sentence, f"Index per jaar van {name}"] + [str(v).replace(".", ",") for v in values]
