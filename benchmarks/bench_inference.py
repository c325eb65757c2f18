"""Benchmark: inference that holds with one treated area (run on demand, not by pytest).

    .venv/bin/python benchmarks/bench_inference.py

1. The whole inference block (placebo-in-space, conformal inference with its grid, the
   Conley–Taber and size-adjusted intervals) on a 17 ward × 48 month panel. Target: < 1 s.
2. Placebo-in-space over ~5,000 simulated units, against a per-unit refitting loop
   (statsmodels GLM per unit, timed on a sample of units and extrapolated). Target: < 1 min.
3. The same on London's LSOAs (MPS recorded crime, all offences, 2024-02 to 2026-02, one
   Bexley LSOA "treated" from 2025-03), when ``../shared/data/mps/recorded-crime-lsoa.parquet``
   exists. The file is read in place, never copied.

Prints timings and the speed-up over the refitting loop; exits non-zero if a target is missed.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm

from pilot_eval.inference import (
    conformal_inference,
    conley_taber_interval,
    placebo_arrays,
    placebo_in_space,
    size_adjusted_interval,
)
from pilot_eval.simulate import panel_from_array, simulate_panels

ROOT = Path(__file__).resolve().parents[1]
LSOA_FILE = ROOT.parent / "shared" / "data" / "mps" / "recorded-crime-lsoa.parquet"
BEXLEY = "E09000004"


def best_of(fn: Callable[[], object], repeat: int = 5) -> float:
    """Fastest of ``repeat`` timed runs after one warm-up, in seconds."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def inference_block(panel: pd.DataFrame) -> None:
    placebo_in_space(panel)
    conformal_inference(panel)
    conley_taber_interval(panel)
    size_adjusted_interval(panel)


def refit_one_unit(counts: np.ndarray, j: int, post: np.ndarray) -> float:
    """The naive way: a Poisson GLM of unit j against the sum of all others, refitted per unit.

    Unit and month dummies plus the treated × post term on the 2 × T table (the same estimate
    as the vectorised DiD log ratio; its standard error is the Poisson one).
    """
    t = counts.shape[1]
    y = np.concatenate([counts[j], counts.sum(0) - counts[j]]).astype(float)
    unit = np.repeat([1.0, 0.0], t)
    months = np.tile(np.eye(t)[:, 1:], (2, 1))
    tp = unit * np.tile(post, 2)
    x = np.column_stack([np.ones(2 * t), unit, months, tp])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.GLM(y, x, family=sm.families.Poisson()).fit()
    return float(fit.params[-1] / fit.bse[-1])


def many_units(label: str, counts: np.ndarray, treated: np.ndarray, post: np.ndarray) -> bool:
    n, t = counts.shape
    panel = panel_from_array(counts, treated=treated, post=post)
    t_stat = best_of(lambda: placebo_arrays(counts, treated=treated, post=post))
    t_full = best_of(lambda: placebo_in_space(panel), repeat=3)
    t_conf = best_of(lambda: conformal_inference(panel), repeat=3)
    sample = np.linspace(0, n - 1, 40).astype(int)
    start = time.perf_counter()
    for j in sample:
        refit_one_unit(counts, int(j), post)
    per_unit = (time.perf_counter() - start) / len(sample)
    loop = per_unit * n
    res = placebo_in_space(panel)
    print(f"\n[{label}] {n:,} units x {t} months, 1 treated")
    print(f"  placebo statistics (arrays)       {t_stat * 1e3:9.1f} ms")
    print(f"  placebo_in_space (long panel)     {t_full * 1e3:9.1f} ms")
    print(f"  conformal_inference (with grid)   {t_conf * 1e3:9.1f} ms")
    print(
        f"  per-unit GLM refitting loop        {loop:9.1f} s  (extrapolated from "
        f"{len(sample)} units at {per_unit * 1e3:.1f} ms each)"
    )
    print(f"  speed-up: x{loop / t_stat:,.0f} (statistics), x{loop / t_full:,.0f} (whole call)")
    print(
        f"  result: ratio {res.ratio:.3f}, rank {res.rank:,} of {res.n_reference:,}, "
        f"one-sided p {res.p_one_sided:.4f} (floor {res.min_p:.2g})"
    )
    return t_full < 60.0


def lsoa_counts() -> tuple[np.ndarray, np.ndarray, np.ndarray, str] | None:
    if not LSOA_FILE.exists():
        print(f"\n[London LSOAs] skipped: {LSOA_FILE} not found")
        return None
    raw = pd.read_parquet(LSOA_FILE)
    month_cols = sorted(c for c in raw.columns if c.isdigit() and len(c) == 6)
    per_lsoa = raw.groupby(["lsoa_code", "lsoa_name", "borough"], as_index=False)[month_cols].sum()
    per_lsoa = per_lsoa.sort_values("lsoa_code", ignore_index=True)
    counts = per_lsoa[month_cols].to_numpy(dtype=np.int64)
    bexley = per_lsoa.index[per_lsoa["borough"] == BEXLEY]
    treated = np.zeros(len(per_lsoa), dtype=bool)
    treated[bexley[0]] = True
    post = np.array([c >= "202503" for c in month_cols])
    return counts, treated, post, str(per_lsoa.loc[bexley[0], "lsoa_name"])


def main() -> int:
    ok = True
    sim = simulate_panels(effect=0.8, seed=1)
    panel = sim.panel(0)
    t_block = best_of(lambda: inference_block(panel))
    parts = {
        "placebo_in_space": best_of(lambda: placebo_in_space(panel)),
        "conformal_inference": best_of(lambda: conformal_inference(panel)),
        "conley_taber_interval": best_of(lambda: conley_taber_interval(panel)),
        "size_adjusted_interval": best_of(lambda: size_adjusted_interval(panel)),
    }
    print("[17 wards x 48 months] whole inference block")
    for name, secs in parts.items():
        print(f"  {name:<24}{secs * 1e3:9.1f} ms")
    print(f"  {'total':<24}{t_block * 1e3:9.1f} ms   (target < 1,000 ms)")
    ok &= t_block < 1.0

    rng = np.random.default_rng(0)
    n, t = 5_000, 25
    counts = rng.poisson(rng.gamma(1.5, 8.0, size=(n, 1)), size=(n, t))
    treated = np.zeros(n, dtype=bool)
    treated[123] = True
    post = np.arange(t) >= 13
    ok &= many_units("simulated", counts, treated, post)

    real = lsoa_counts()
    if real is not None:
        counts, treated, post, name = real
        ok &= many_units(f"London LSOAs, treated: {name}", counts, treated, post)
    print("\nall targets met" if ok else "\nA TARGET WAS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
