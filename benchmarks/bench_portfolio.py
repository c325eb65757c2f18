"""Benchmark: the portfolio (run on demand, not by pytest; needs the demo data, `make demo-data`).

    .venv/bin/python benchmarks/bench_portfolio.py [--pilots 8]

1. ``run-all`` of 8 demo-sized pilots (the demo config with DEMO01..DEMO08 as the pilot
   area) on 2 worker processes against 1, measured side by side in this run. Target: ≥ 1.7×.
2. The demo report end to end (``run_pilot``) against the floor any papermill report pays:
   a papermill run of a notebook that only imports pilot_eval, plus its HTML export.
   Target: ≤ 1.1× (measured and printed as it is).

Prints each figure with its target beside it; exit code 0 (a benchmark, not a test).

Measured on the 2-core development machine (2026-12-01), shared with another engineer's
test runs (load 1.4-2.0): 8 pilots 63.3 s on 1 worker, 40.4 s on 2 (1.57x; an earlier run
53.4 s / 37.9 s = 1.41x; target 1.7x missed under that load; 8 pilots that fail right after
the kernel starts scale 1.84x). Demo report 8.3 s against 1.8 s for an import-only papermill
run + export (4.6x, target 1.1x missed): in-process, import 0.8 s + prepare 1.8 s + evaluate
1.3 s, the rest is the sections, charts, map and page.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "pilots" / "demo-belvedere.yml"


def _configs(folder: Path, n: int) -> list[Path]:
    raw = yaml.safe_load(DEMO.read_text())
    for key, value in raw["data"].items():  # every input path, made absolute
        if isinstance(value, str) and (DEMO.parent / value).exists():
            raw["data"][key] = str((DEMO.parent / value).resolve())
    for comp in raw.get("intervention", {}).get("components", []):  # component locations too
        if comp.get("locations"):
            comp["locations"] = str((DEMO.parent / comp["locations"]).resolve())
    out = []
    for i in range(1, n + 1):
        r = {**raw, "slug": f"bench-demo{i:02d}", "treated": {"codes": [f"DEMO{i:02d}"]}}
        p = folder / f"bench-demo{i:02d}.yml"
        p.write_text(yaml.safe_dump(r, sort_keys=False))
        out.append(p)
    return out


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def bench_workers(tmp: Path, n: int) -> None:
    import io

    from pilot_eval.portfolio.run_all import run_all

    configs = _configs(tmp, n)
    times = {}
    for w in (1, 2):
        root = tmp / f"reports-{w}"
        rows: list = []
        times[w] = _timed(
            lambda root=root, w=w, rows=rows: rows.extend(
                run_all(configs, output_root=root, workers=w, stream=io.StringIO(), fancy=False)
            )
        )
        failed = [r for r in rows if r["status"] != "done"]
        print(f"  {n} pilots, {w} worker(s): {times[w]:6.1f} s ({len(failed)} failed)")
        if failed:
            print(f"  NOT A VALID MEASURE: {failed[0]['config']}: {failed[0]['error']}")
    ratio = times[1] / times[2]
    print(
        f"  speed-up 2 workers vs 1: {ratio:.2f}x   (target >= 1.7x) {'met' if ratio >= 1.7 else 'MISSED'}"
    )


_IMPORT_ONLY = {
    "cells": [
        {
            "cell_type": "code",
            "id": "parameters",
            "metadata": {"tags": ["parameters"]},
            "source": "config_path = ''\noutput_dir = '.'",
            "outputs": [],
            "execution_count": None,
        },
        {
            "cell_type": "code",
            "id": "import",
            "metadata": {},
            "source": "import pilot_eval as pe",
            "outputs": [],
            "execution_count": None,
        },
    ],
    "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}


def bench_floor(tmp: Path) -> None:
    import json

    import papermill

    from pilot_eval.report.run import export_html, run_pilot

    nb = tmp / "import_only.ipynb"
    nb.write_text(json.dumps(_IMPORT_ONLY))
    out = tmp / "import_only.out.ipynb"

    def floor() -> None:
        papermill.execute_notebook(str(nb), str(out), progress_bar=False, kernel_name="python3")
        export_html(out, tmp / "import_only.html", title="import only")

    floor()  # warm the file cache for both
    t_floor = _timed(floor)
    t_report = _timed(lambda: run_pilot(DEMO, output_root=tmp / "reports-floor"))
    ratio = t_report / t_floor
    print(f"  papermill import-only notebook + HTML export: {t_floor:6.1f} s")
    print(f"  demo report end to end (run_pilot):            {t_report:6.1f} s")
    print(
        f"  ratio report / floor: {ratio:.2f}x   (target <= 1.1x) {'met' if ratio <= 1.1 else 'MISSED'}"
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pilots", type=int, default=8)
    args = ap.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if not (ROOT / "data" / "demo" / "truth.json").is_file():
        print("needs the demo data: run `make demo-data` first")
        return 1
    print(f"CPUs: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        print("1. run-all: 2 workers vs 1")
        bench_workers(tmp, args.pilots)
        print("2. demo report vs the papermill floor")
        bench_floor(tmp)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
