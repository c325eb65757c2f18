"""Backtests: today's results.json against a reviewed reference (fields may only be added).

The references were written by the pre-redesign pipeline (commit ee3f0a0) and reviewed then:
the demo's is SYNTHETIC data with a known effect (tests/pipeline/test_pipeline.py checks the
truth is recovered); Belvedere's is the real MPS VAWG table in ../shared. A change in any
number is either a bug or an intended change to review (then replace the reference file).
Tolerance: 1e-9 relative — the numbers are deterministic (seeded), the slack is only for
BLAS differences between machines.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pilot_eval as pe
from shared_data import need_shared

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RTOL = 1e-9


def _differences(old, new, path="$"):
    if isinstance(old, dict):
        out = []
        for k, v in old.items():
            if k not in new:
                out.append(f"{path}.{k}: missing")
            else:
                out += _differences(v, new[k], f"{path}.{k}")
        return out
    if isinstance(old, list):
        if len(old) != len(new):
            return [f"{path}: {len(old)} items, now {len(new)}"]
        return [
            d
            for i, (a, b) in enumerate(zip(old, new, strict=True))
            for d in _differences(a, b, f"{path}[{i}]")
        ]
    if isinstance(old, float) and isinstance(new, int | float):
        ok = math.isclose(old, new, rel_tol=RTOL, abs_tol=RTOL)
        return [] if ok else [f"{path}: {old!r}, now {new!r}"]
    return [] if old == new else [f"{path}: {old!r}, now {new!r}"]


def _check(config: Path, reference: Path, tmp_path: Path) -> dict:
    ev = pe.evaluate(pe.prepare(config))
    new = json.loads(pe.write_results(ev, tmp_path).read_text())
    old = json.loads(reference.read_text())
    assert _differences(old, new) == []
    return new


def test_demo_results_unchanged(demo_pilot, tmp_path):
    new = _check(demo_pilot.config_path, HERE / "demo-belvedere.results.json", tmp_path)
    assert {"analyses", "computed", "not_computed", "outcomes_not_estimated"} <= set(new)


def test_the_comparison_catches_a_change():
    old = json.loads((HERE / "demo-belvedere.results.json").read_text())
    new = json.loads(json.dumps(old))
    new["estimates"][0]["ci_low"] *= 1 + 1e-6
    del new["placebo"][0]["rank"]
    assert len(_differences(old, new)) == 2


def test_real_belvedere_results_unchanged(tmp_path):
    need_shared("data/mps/vawg-offences.parquet", "data/boundaries/bexley_wards_2018.geojson")
    _check(
        ROOT / "pilots" / "belvedere-ward-vawg.yml",
        HERE / "belvedere-ward-vawg.results.json",
        tmp_path,
    )
