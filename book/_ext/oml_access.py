"""Sphinx side of the school and board feedback reports: the ``oml-terugkoppeling`` directive.

It renders, on the "Terugkoppeling" page, the technical facts of the encryption from the constants in
``oml.access`` (no number typed into prose) and — for a synthetic build only — a link to the demo reports
and the table of demo codes, read from the committed demo codes file (``oml.paths.DEMO_CODES``). With
real data it shows no code: real codes never go into the site.
"""
from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from oml import paths
from oml.access import codes as access_codes
from oml.access import crypto
from oml.access.codes import display, read_codes

KIND_LABEL = {"board": "bestuur", "school": "school"}


def _table(header: list[str], rows: list[list[nodes.Node | str]], widths: list[int]) -> nodes.table:
    table = nodes.table(classes=["oml-demo-codes"])
    group = nodes.tgroup(cols=len(header))
    table += group
    group.extend(nodes.colspec(colwidth=w) for w in widths)

    def row(cells, entry_class=None):
        r = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += nodes.paragraph("", "", cell if isinstance(cell, nodes.Node) else nodes.Text(cell))
            r += entry
        return r

    head = nodes.thead()
    head += row(header)
    body = nodes.tbody()
    body.extend(row(cells) for cells in rows)
    group += head
    group += body
    return table


def _facts() -> nodes.definition_list:
    # Imported here, not at the top: the text module loads pandas (about a second), and Sphinx loads this
    # extension on every build, also one that does not read the Terugkoppeling page again.
    from oml.report.text import nl_number

    facts = [
        ("Versleuteling", "AES-256-GCM: zonder de juiste code gaat het bestand niet open, en een beschadigd of "
                          "veranderd bestand wordt geweigerd."),
        ("Sleutel", f"afgeleid van de code met PBKDF2-SHA256, {nl_number(crypto.ITERATIONS, 0)} herhalingen en een eigen "
                    "willekeurige zout per rapport."),
        ("Toegangscode", f"{nl_number(access_codes.LENGTH, 0)} tekens (cijfers en hoofdletters die niet op elkaar lijken), "
                         f"goed voor {nl_number(int(access_codes.BITS), 0)} bits toeval."),
        ("Bestandsnaam", "afgeleid van de code, niet van de school: uit de namen is niet af te lezen welk rapport van wie is."),
    ]
    dl = nodes.definition_list()
    for term, text in facts:
        item = nodes.definition_list_item()
        item += nodes.term("", term)
        definition = nodes.definition()
        definition += nodes.paragraph("", text)
        item += definition
        dl += item
    return dl


class TerugkoppelingDirective(SphinxDirective):
    """``{oml-terugkoppeling} facts`` or ``{oml-terugkoppeling} demo``."""

    required_arguments = 1

    def run(self):
        what = self.arguments[0]
        if what == "facts":
            return [_facts()]
        if what != "demo":
            raise self.error(f"oml-terugkoppeling: unknown part {what!r} (use 'facts' or 'demo')")
        if not self.env.app.tags.has("synthetic"):
            return []  # real data: no demo, no codes on the site
        source = Path(self.env.srcdir) / paths.DEMO_CODES.relative_to(paths.ROOT)
        self.env.note_dependency(str(source))  # the page is rebuilt when the demo codes change
        codes = read_codes(source)
        if not codes:
            raise self.error(f"oml-terugkoppeling: the demo codes file {source} is missing or empty")
        # From the page (e.g. book/terugkoppeling) to the site root, then the reports folder.
        up = "../" * self.env.docname.count("/")
        link = nodes.reference("", "Open de terugkoppeling (synthetische rapporten)",
                               refuri=f"{up}{paths.SITE_REPORTS}/index.html")
        intro = nodes.paragraph("", "")
        intro += link
        order = sorted(codes, key=lambda k: (k[0] != "board", k[1]))  # boards first, then schools
        rows = [[KIND_LABEL[kind], nodes.literal("", id_), nodes.literal("", display(codes[(kind, id_)]))]
                for kind, id_ in order]
        table = _table(["Soort", "Id", "Toegangscode"], rows, [2, 3, 5])
        # The codes open reports on the site only: the PDF edition (oml.site.pdf) leaves the long table
        # out and says where the codes are instead.
        table["classes"].append("oml-screen-only")
        note = nodes.paragraph("", "De tabel met codes staat niet in deze pdf: de codes openen alleen rapporten op de "
                                   "website, en daar staat de tabel op deze pagina.",
                               classes=["oml-print-only"])
        return [intro, table, note]


def setup(app):
    app.add_directive("oml-terugkoppeling", TerugkoppelingDirective)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
