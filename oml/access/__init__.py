"""Private access to the school and board feedback reports.

Every report is published as one encrypted, self-contained HTML file that opens in the browser only
with its access code; ``index.html`` is where a reader types the code.

* :mod:`oml.access.codes` — access codes: generation (>= 80 random bits), normalisation, weak hand-made
  codes, the codes file ``CODES.csv`` (``kind,id,code``) and its private salt file (mode 0600 on every
  run); the committed demo codes file takes synthetic ``SYN-`` ids only.
* :mod:`oml.access.crypto` — the file format: PBKDF2-SHA256 key derivation (600,000 to 6,000,000
  iterations accepted), AES-256-GCM with a deterministic synthetic nonce, padding, and the file name
  ("locator") of a code.
* :mod:`oml.access.publish` — from ``{(kind, id): html}`` to the published folder (codes, salts, key cache,
  encryption in parallel, one size per kind, a Content-Security-Policy on every page, the folder renamed
  into place before the codes are saved).

The format is documented in docs/reports.md ("The format, for an independent decryptor") so that an independent
tool can decrypt a report.
"""
