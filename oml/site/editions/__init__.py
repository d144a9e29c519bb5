"""Editions: every publication of the report kept, what changed shown, corrections noted.

An **edition** is a named publication of the built site (``oml release NAME``), recorded in
``editions/NAME/`` at the repository root and committed: when and from what it was built
(commit, data file name and sha256, ``oml`` version) and everything it published (the
site's ``numbers.json``, compactly) plus the outcome of every statistical comparison (the
*findings record*). A **correction** (``oml release NAME --correction TEXT``) re-publishes an
edition: the earlier publication stays, the new one is appended with its date and text.

Why a findings record next to the numbers: ``numbers.json`` holds every published cell
(estimates, intervals, counts) but not the Holm-adjusted tests the sentences rest on, and
those cannot be recomputed from the cells (the covariance between them is not published).
The build already publishes every comparison as a CSV (``*-toetsen.csv``, the "Cijfers"
under each figure); the findings record is that table, so a conclusion (stable → lower,
significant → not) is read from exactly what the edition published.

Layout of one edition::

    editions/NAME/edition.json      name, note, publications (date, commit, data, version, text)
    editions/NAME/<k>/numbers.json  publication k: every published number, one per line, sorted
    editions/NAME/<k>/findings.json publication k: every comparison (figure, groups, years, test)

Modules: :mod:`~oml.site.editions.record` (the build record, ``oml release``, what a build
published), :mod:`~oml.site.editions.compare` (editions read back and compared as data) and
:mod:`~oml.site.editions.page` (the page "Versies").

The build side: :func:`~oml.site.editions.record.write_build_record` (end of ``oml build``) writes
``_build/build-record.json`` — commit, a fingerprint of the working tree, the data's name and
sha256, the code fingerprint, the hash of the site's ``numbers.json`` — and
:func:`~oml.site.editions.record.release` refuses unless that record matches the current clean working tree.
:func:`~oml.site.editions.page.write_page` (before Sphinx) renders the page "Versies" into ``book/rapport/versies.md``.
"""
