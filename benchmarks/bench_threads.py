"""Benchmark: is ``evaluate()`` as fast in a user's JupyterLab as under the Makefile? (on demand)

    .venv/bin/python benchmarks/bench_threads.py [--repeat 4] [--busy 2]

A JupyterLab kernel starts with OpenBLAS' default threads (one per core); the Makefile sets
``OPENBLAS_NUM_THREADS=1``. ``evaluate()`` limits BLAS threads itself (``threadpoolctl``), so the
two should take the same time. Each variant runs the demo pilot's ``evaluate()`` in a fresh
child process (prepared and warmed up first, untimed; then the fastest of three runs), the
variants round-robin, best of ``--repeat``:

- ``makefile``: ``OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=MKL_NUM_THREADS=1``;
- ``jupyterlab``: none of those variables set (what a kernel started from the launcher gets);
- ``jupyterlab, no limit``: the same, calling the evaluation without ``threadpoolctl``'s limit
  (``pipeline.evaluate._evaluate``), to show what the limit is for.

``--busy N`` keeps N other processes spinning on the CPUs meanwhile (default: one per core), as
on the shared 2-core machine where the issue measured 6.7-15.5 s against 0.8 s. Prints each
time and the ratio jupyterlab / makefile with its target (<= 1.1x). Needs the demo data
(``make demo-data``). Exit code 0 (a benchmark, not a test).

Measured on the 2-core development machine (2026-12-02), best of 4: quiet, 1.26 s (env) /
1.28 s (default threads) / 1.26 s (no limit): 1.02x, target met; with 2 busy processes,
best of 2: 2.14 s / 2.15 s / 2.65 s: 1.01x, met (without the limit, 1.24x). Single runs
vary by +-15 % here, hence the fastest of three runs per child and the best of rounds.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "pilots" / "demo-belvedere.yml"
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

CHILD = """
import importlib, json, sys, time
import pilot_eval as pe
ev = importlib.import_module("pilot_eval.pipeline.evaluate")
prepared = pe.prepare(sys.argv[1])
run = ev.evaluate if sys.argv[2] == "limited" else (
    lambda p: ev._evaluate(p, seed=0, registry=None))
run(prepared)  # warm-up: imports, caches
times = []
for _ in range(3):
    t = time.perf_counter()
    run(prepared)
    times.append(time.perf_counter() - t)
print(json.dumps({"seconds": min(times)}))
"""


def _spin(stop) -> None:  # pragma: no cover - a load generator
    x = 0
    while not stop.is_set():
        x += 1


def _child(env_threads: bool, limited: bool) -> float:
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    if env_threads:
        env.update(dict.fromkeys(THREAD_VARS, "1"))
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(DEMO), "limited" if limited else "unlimited"],
        env=env,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"the child process failed:\n{out.stderr}")
    return float(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=4)
    ap.add_argument("--busy", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    if not (ROOT / "data" / "demo" / "truth.json").is_file():
        print("needs the demo data: run `make demo-data` first")
        return 1
    variants = {
        "makefile (1 BLAS thread by env)": (True, True),
        "jupyterlab (default threads)": (False, True),
        "jupyterlab, no threadpoolctl limit": (False, False),
    }
    print(f"CPUs: {os.cpu_count()}; {args.busy} busy process(es) meanwhile")
    stop = mp.Event()
    spinners = [mp.Process(target=_spin, args=(stop,), daemon=True) for _ in range(args.busy)]
    for s in spinners:
        s.start()
    best: dict[str, float] = {}
    try:
        time.sleep(0.5)
        for _ in range(args.repeat):
            for name, (env_threads, limited) in variants.items():
                t = _child(env_threads, limited)
                best[name] = min(best.get(name, t), t)
    finally:
        stop.set()
        for s in spinners:
            s.join()
    for name, t in best.items():
        print(f"  evaluate(), {name:<36} {t:6.2f} s (best of {args.repeat})")
    make, lab = best["makefile (1 BLAS thread by env)"], best["jupyterlab (default threads)"]
    ratio = lab / make
    print(
        f"  ratio jupyterlab / makefile: {ratio:.2f}x   (target <= 1.1x) "
        f"{'met' if ratio <= 1.1 else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
