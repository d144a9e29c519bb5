"""The public demo: the committed demo codes (synthetic ids only), the site helper that refuses real data,
and — once the report content is wired into the build — the demo folder in the built site."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from oml import paths
from oml.access.codes import AccessError, display, read_codes, read_salts, salts_path
from oml.access.publish import publish_site_demo
from oml.data.synth import SYNTHETIC_PREFIX
from sample_reports import documents

REPO = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".venv", "_build", ".cache", ".git", "node_modules", ".pytest_cache"}


def test_demo_codes_cover_the_default_synthetic_data_with_synthetic_ids_only(default_frame):
    codes = read_codes(paths.DEMO_CODES)
    salts = read_salts(salts_path(paths.DEMO_CODES))
    assert set(salts) == set(codes)
    assert all(id_.startswith(SYNTHETIC_PREFIX) for _, id_ in codes)
    needed = {("school", s) for s in default_frame["school_id"].astype(str).unique()}
    if "board_id" in default_frame.columns:
        needed |= {("board", b) for b in default_frame["board_id"].dropna().astype(str).unique()}
    assert needed <= set(codes), f"no demo code for {sorted(needed - set(codes))[:5]}"


def test_no_other_codes_file_is_in_the_repository():
    found = []
    for path in REPO.rglob("*"):
        if SKIP_DIRS & set(path.relative_to(REPO).parts) or not path.is_file():
            continue
        if path.name.endswith(".keys.json"):
            found.append(path)
        elif path.suffix == ".csv":
            with path.open(encoding="utf-8", errors="replace") as fh:
                header = next(csv.reader(fh), [])
            if header in (["kind", "id", "code"], ["kind", "id", "salt"]):
                found.append(path)
    assert sorted(found) == sorted([paths.DEMO_CODES, salts_path(paths.DEMO_CODES), paths.DEMO_KEYS])


def test_committed_demo_keys_are_the_keys_of_the_demo_codes():
    # Independent of the committed file: every key derived again from the demo codes and salts (PBKDF2 in
    # oml.access.crypto.derive_key, itself checked against the Web Crypto reader in tests/access).
    from oml.access.publish import demo_keys_text

    assert paths.DEMO_KEYS.read_text(encoding="utf-8") == demo_keys_text(jobs=2), (
        "book/terugkoppeling/demo-codes.keys.json is not the keys of the demo codes: regenerate it with "
        '.venv/bin/python -c "from oml.access.publish import write_demo_keys; write_demo_keys()"')


def test_site_demo_takes_the_committed_keys_and_derives_only_what_changed(tmp_path):
    import json

    from oml.access.publish import start_site_demo_keys

    root = tmp_path / "project"
    demo = root / paths.DEMO_CODES.relative_to(paths.ROOT)
    demo.parent.mkdir(parents=True)
    for source in (paths.DEMO_CODES, salts_path(paths.DEMO_CODES), paths.DEMO_KEYS):
        (demo.parent / source.name).write_bytes(source.read_bytes())
    entries = sorted(k for k in read_codes(demo) if k[0] == "school")[:3]
    keys, derived, _ = start_site_demo_keys(entries, synthetic=True, root=root).pending.result()
    assert derived == 0 and len(keys) == 3
    # A seed that lies (another key under a code's fingerprint) is not caught here: the committed file is
    # checked by the test above. A code whose entry is missing from the seed is derived.
    seed = json.loads(paths.DEMO_KEYS.read_text(encoding="utf-8"))
    plan = start_site_demo_keys(entries, synthetic=True, root=root)
    gone = plan.pending.prints[entries[0]]
    plan.pending.result()
    (root / paths.DEMO_KEY_CACHE.relative_to(paths.ROOT)).unlink()
    del seed["keys"][gone]
    (demo.parent / paths.DEMO_KEYS.name).write_text(json.dumps(seed), encoding="utf-8")
    again, derived, _ = start_site_demo_keys(entries, synthetic=True, root=root).pending.result()
    assert derived == 1 and again == keys


def test_the_committed_demo_key_file_is_never_a_runs_key_cache(tmp_path):
    # A run with the demo codes file and no key cache of its own would rewrite the committed keys with only its own.
    from oml.access.publish import start_keys

    root = tmp_path / "project"
    demo = root / paths.DEMO_CODES.relative_to(paths.ROOT)
    demo.parent.mkdir(parents=True)
    for source in (paths.DEMO_CODES, salts_path(paths.DEMO_CODES)):
        (demo.parent / source.name).write_bytes(source.read_bytes())
    school = sorted(k for k in read_codes(demo) if k[0] == "school")[0]
    with pytest.raises(AccessError, match="is the committed demo key file"):
        start_keys([school], demo)
    with pytest.raises(AccessError, match="is the committed demo key file"):
        start_keys([school], tmp_path / "CODES.csv", key_cache=paths.DEMO_KEYS)


def test_site_demo_refuses_real_data(tmp_path):
    with pytest.raises(AccessError, match="never go into the site"):
        publish_site_demo(documents(), tmp_path / "html", synthetic=False, root=tmp_path)
    real = {("school", "BRIN-12AB"): "<p>echt</p>"}
    with pytest.raises(AccessError, match="not synthetic: school:BRIN-12AB"):
        publish_site_demo(real, tmp_path / "html", synthetic=True, root=tmp_path)
    assert not (tmp_path / "html").exists()


def test_site_demo_writes_the_terugkoppeling_folder_from_the_committed_codes(tmp_path):
    root = tmp_path / "project"
    demo = root / paths.DEMO_CODES.relative_to(paths.ROOT)
    demo.parent.mkdir(parents=True)
    demo.write_bytes(paths.DEMO_CODES.read_bytes())
    salts_path(demo).write_bytes(salts_path(paths.DEMO_CODES).read_bytes())
    committed = read_codes(demo)
    school = sorted(k for k in committed if k[0] == "school")[0]
    result = publish_site_demo({school: "<p>demo</p>"}, root / "_build" / "html", synthetic=True, root=root)
    out = root / "_build" / "html" / paths.SITE_REPORTS
    assert (out / "index.html").exists() and result.out_dir == out
    assert "oml-synthetic-banner" in (out / "index.html").read_text()
    assert read_codes(demo) == committed  # the committed file is used as it is
    assert (root / paths.DEMO_KEY_CACHE.relative_to(paths.ROOT)).exists()
    everything = b"".join(p.read_bytes() for p in out.iterdir())
    assert display(committed[school]).encode() not in everything


def test_site_demo_refuses_a_demo_codes_file_that_holds_a_real_id(tmp_path):
    # Someone ran `oml reports` on real data with the demo codes file (or pasted real codes into it): the next
    # synthetic build must not publish, or list, those codes. Reading the demo file refuses it.
    from oml.access.codes import new_code

    root = tmp_path / "project"
    demo = root / paths.DEMO_CODES.relative_to(paths.ROOT)
    demo.parent.mkdir(parents=True)
    demo.write_bytes(paths.DEMO_CODES.read_bytes())
    salts_path(demo).write_bytes(salts_path(paths.DEMO_CODES).read_bytes())
    school = sorted(k for k in read_codes(demo) if k[0] == "school")[0]
    with demo.open("a", encoding="utf-8") as fh:
        fh.write(f"school,BRIN-12AB,{display(new_code())}\n")
    with pytest.raises(AccessError, match="synthetic \\(SYN-\\) ids only, not school:BRIN-12AB"):
        publish_site_demo({school: "<p>demo</p>"}, root / "_build" / "html", synthetic=True, root=root)
    assert not (root / "_build" / "html").exists()
