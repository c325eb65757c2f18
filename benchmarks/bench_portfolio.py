"""Benchmark: the portfolio (run on demand, not by pytest; needs the demo data, `make demo-data`).

    .venv/bin/python benchmarks/bench_portfolio.py [--pilots 8]

1. ``run-all`` of 8 demo-sized pilots (the demo config with DEMO01..DEMO08 as the pilot
   area) on 2 worker processes against 1, measured side by side in this run. Target: ≥ 1.7×.
2. The demo report end to end (``run_pilot``) against the floor any papermill report pays:
   a papermill run of a notebook that only imports pilot_eval, plus its HTML export.
   Target: ≤ 1.1× (measured and printed as it is).

Prints each figure with its target beside it; exit code 0 (a benchmark, not a test).

Measured on the 2-core development machine (2026-12-02, later the same day, after the
fixed-effects fit and the lazy imports): 8 pilots 91.4 s / 92.9 s on 1 worker, 52.2 s / 54.0 s
on 2 (best of 2: 1.75x, target 1.7x met). Demo report 8.5-10.4 s against 1.9-2.7 s for an
import-only papermill run + export (3.8x-4.4x over three runs, target 1.1x missed; 7.0x
before); 3.3-3.9 s when the notebook also imports every library the report uses, so the
report's own work (prepare, 24 analyses x 3 outcomes, 6 charts, page) is 5.2-6.4 s.
"""

from __future__ import annotations

import argparse
import json
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


def bench_workers(tmp: Path, n: int, repeat: int = 2) -> None:
    """``n`` pilots on 1 and on 2 workers, best of ``repeat`` rounds in alternating order.

    An untimed run of one pilot first fills the police.uk Parquet cache and the file cache,
    so neither worker count pays for them; rounds alternate 1, 2 then 2, 1 so that drifting
    load from other processes affects both alike.
    """
    import io

    from pilot_eval.portfolio.run_all import run_all

    configs = _configs(tmp, n)
    run_all(configs[:1], output_root=tmp / "warm-up", workers=1, stream=io.StringIO(), fancy=False)
    best: dict[int, float] = {}
    for r in range(repeat):
        for w in (1, 2) if r % 2 == 0 else (2, 1):
            root = tmp / f"reports-{w}-{r}"
            rows: list = []
            t = _timed(
                lambda root=root, w=w, rows=rows: rows.extend(
                    run_all(configs, output_root=root, workers=w, stream=io.StringIO(), fancy=False)
                )
            )
            failed = [row for row in rows if row["status"] != "done"]
            print(f"  round {r + 1}: {n} pilots, {w} worker(s): {t:6.1f} s ({len(failed)} failed)")
            if failed:
                print(f"  NOT A VALID MEASURE: {failed[0]['config']}: {failed[0]['error']}")
            best[w] = min(best.get(w, t), t)
    ratio = best[1] / best[2]
    print(
        f"  speed-up 2 workers vs 1 (best of {repeat}): {ratio:.2f}x   (target >= 1.7x) "
        f"{'met' if ratio >= 1.7 else 'MISSED'}"
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


def _notebook(source: str) -> dict:
    nb = json.loads(json.dumps(_IMPORT_ONLY))
    nb["cells"][1]["source"] = source
    return nb


#: The libraries the report's own work loads on first use (the import-only notebook imports
#: pilot_eval alone, which loads them lazily).
_STACK = (
    "import pilot_eval as pe\nfrom pilot_eval import report\n"
    "import matplotlib.pyplot, geopandas, scipy.optimize, scipy.sparse, pyarrow.parquet"
)


def bench_floor(tmp: Path) -> None:
    import papermill

    from pilot_eval.report.run import export_html, run_pilot

    def floor(source: str, name: str) -> float:
        nb = tmp / f"{name}.ipynb"
        nb.write_text(json.dumps(_notebook(source)))
        out = tmp / f"{name}.out.ipynb"

        def once() -> None:
            papermill.execute_notebook(str(nb), str(out), progress_bar=False, kernel_name="python3")
            export_html(out, tmp / f"{name}.html", title=name)

        once()  # warm the file cache
        return _timed(once)

    t_floor = floor("import pilot_eval as pe", "import_only")
    t_stack = floor(_STACK, "import_stack")
    t_report = _timed(lambda: run_pilot(DEMO, output_root=tmp / "reports-floor"))
    ratio = t_report / t_floor
    print(f"  papermill import-only notebook + HTML export:          {t_floor:6.1f} s")
    print(f"  the same, importing every library the report uses:     {t_stack:6.1f} s")
    print(f"  demo report end to end (run_pilot):                    {t_report:6.1f} s")
    print(
        f"  the report's own work (prepare, 24 analyses x 3 outcomes, 6 charts, page): "
        f"{t_report - t_stack:.1f} s"
    )
    print(
        f"  ratio report / floor: {ratio:.2f}x   (target <= 1.1x) {'met' if ratio <= 1.1 else 'MISSED'}"
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pilots", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=2, help="rounds of 1 and 2 workers (best of)")
    ap.add_argument(
        "--floor-only", action="store_true", help="only part 2 (the report vs its floor)"
    )
    args = ap.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if not (ROOT / "data" / "demo" / "truth.json").is_file():
        print("needs the demo data: run `make demo-data` first")
        return 1
    print(f"CPUs: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if not args.floor_only:
            print("1. run-all: 2 workers vs 1")
            bench_workers(tmp, args.pilots, args.repeat)
        print("2. demo report vs the papermill floor")
        bench_floor(tmp)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
