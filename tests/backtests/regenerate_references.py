"""Regenerate the backtest references and check that every OLD number is unchanged.

Run from the repo root: python tests/backtests/regenerate_references.py [--write].
Old estimate rows are matched by (outcome, method), wdd_scaled -> wdd_scaled_total.
"""

import json
import shutil
import sys
import tempfile
from pathlib import Path

import pilot_eval as pe

# The one field-by-field comparison, shared with the backtest itself.
sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
from test_results_unchanged import _differences as diffs  # noqa: E402

pairs = [
    ("pilots/demo-belvedere.yml", "tests/backtests/demo-belvedere.results.json"),
    ("pilots/belvedere-ward-vawg.yml", "tests/backtests/belvedere-ward-vawg.results.json"),
]
RENAMED = {"wdd_scaled": "wdd_scaled_total"}


for cfg, ref in pairs:
    old = json.loads(Path(ref).read_text())
    d = Path(tempfile.mkdtemp())
    new = json.loads(pe.write_results(pe.evaluate(pe.prepare(cfg)), d).read_text())
    problems = []
    # estimates: every old row (by outcome, method; wdd_scaled -> wdd_scaled_total) unchanged
    newrows = {(e["outcome"], e["method"]): e for e in new["estimates"]}
    for e in old["estimates"]:
        key = (e["outcome"], RENAMED.get(e["method"], e["method"]))
        if key not in newrows:
            problems.append(f"estimate {key} missing")
            continue
        n = newrows[key]
        for f, v in e.items():
            if f == "method":
                continue
            if f == "note":
                # a note may gain words at its end, never lose or change any
                if not n[f].startswith(v):
                    problems.append(f"{key} note changed beyond an addition")
                continue
            problems += diffs(v, n[f], f"estimates{key}.{f}")
    added = sorted(
        set(newrows)
        - {(e["outcome"], RENAMED.get(e["method"], e["method"])) for e in old["estimates"]}
    )
    # other fields: lists by item identity
    for k, v in old.items():
        if k in ("estimates",):
            continue
        if k not in new:
            problems.append(f"{k} missing")
            continue
        if isinstance(v, list) and v and isinstance(v[0], dict):
            for item in v:
                if item not in new[k] and not any(diffs(item, x) == [] for x in new[k]):
                    problems.append(f"{k}: old item {item} not in new")
        else:
            problems += diffs(v, new[k], k)
    print(cfg, "old numbers unchanged" if not problems else problems)
    print("  added estimate rows:", added)
    print("  added top-level fields:", sorted(set(new) - set(old)))
    for k in ("analyses", "computed", "not_computed"):
        print(f"  {k}: {len(old.get(k, []))} -> {len(new.get(k, []))}")
    if "--write" in sys.argv and not problems:
        shutil.copy(d / "results.json", ref)
        print("  reference rewritten")
