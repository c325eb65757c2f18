"""Benchmark: five years of a large force's police.uk data into a 5,000-area panel (on demand).

    .venv/bin/python benchmarks/bench_large_panel.py [--rows 6000000] [--repeat 1] [--quick]

``--quick`` is ``--rows 600000 --repeat 1`` (a smoke run of about a minute); ``--rows N`` scales
the data set; ``--prepare-only`` runs only the two variants reading every column;
``--keep DIR`` writes (and on later runs reuses) the CSVs in ``DIR`` instead of a temporary
folder. The full run takes 4-8 minutes on 2 cores. Not collected by pytest.

Writes ~``--rows`` SYNTHETIC police.uk street rows (one force, 60 monthly
``YYYY-MM/YYYY-MM-metropolitan-street.csv`` files, seeded numpy: the Metropolitan Police's
crime-type mix, 64-character Crime IDs, ASB rows without one or an outcome, 2% without a
position, clustered positions of which ~10% fall outside the study areas) and builds 5,000
London-LSOA-sized study areas (0.33 km² Voronoi cells of a seeded jittered grid, as in
``bench_policeuk.py``). Then runs what ``pilot_eval.pipeline.prepare`` does with police.uk
data, each run in a fresh child process so that its peak resident memory is its own:

    read_police_uk -> project_points -> assign_points -> keep the located crimes (prepare's
    ``incidents_kept``) -> panel_from_incidents

with outcomes "VAWG-related" (violence, public order), "ASB" and "All crime" (every type, so
no row is filtered out: the largest frame a config can ask for). Four variants, round-robin
(each repeat runs each once, so load from other processes affects them alike): every column
(as ``prepare`` reads today) or only the four the pipeline uses
(``read_police_uk(columns=["month", "longitude", "latitude", "crime_type"])``), each without a
cache (parse the CSVs) and from a warm Parquet cache (filled by an untimed run).

Prints per-stage wall times (best of ``--repeat``), the resident memory after each stage and
its peak within the stage (Linux ``/proc/self/clear_refs``), then one line per variant and
target, e.g.::

    peak RSS, 4 columns, warm cache: 1.57 GB (target <= 2.00 GB) MET

The panel of every run must be the same (the checksum of its columns is printed), so
optimisations can be compared against it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FORCE = "Metropolitan Police Service"
#: police.uk crime types with roughly the Metropolitan Police's shares of street-level rows.
CRIME_MIX = {
    "Anti-social behaviour": 0.27,
    "Violence and sexual offences": 0.25,
    "Other theft": 0.09,
    "Vehicle crime": 0.08,
    "Burglary": 0.06,
    "Criminal damage and arson": 0.05,
    "Theft from the person": 0.04,
    "Public order": 0.04,
    "Shoplifting": 0.03,
    "Drugs": 0.03,
    "Robbery": 0.025,
    "Bicycle theft": 0.015,
    "Possession of weapons": 0.007,
    "Other crime": 0.013,
}
OUTCOME_TEXT = (
    "Investigation complete; no suspect identified",
    "Unable to prosecute suspect",
    "Status update unavailable",
    "Court result unavailable",
    "Awaiting court outcome",
    "Local resolution",
    "Offender given a caution",
    "Under investigation",
    "Further investigation is not in the public interest",
    "Formal action is not in the public interest",
)
OUTCOMES = {
    "VAWG-related": ["Violence and sexual offences", "Public order"],
    "ASB": ["Anti-social behaviour"],
    "All crime": sorted(CRIME_MIX),
}
FIRST_MONTH, N_MONTHS, START = "2020-01", 60, "2024-01"
#: The incident columns the pipeline uses (read_police_uk(columns=...)).
PIPELINE_COLUMNS = ["month", "longitude", "latitude", "crime_type"]
#: Study areas: a 100 x 50 grid of ~575 m cells (0.33 km², a London LSOA's mean size) whose
#: seeded jittered centres are the Voronoi sites, over inner and outer London.
GRID_X, GRID_Y, CELL, ORIGIN = 100, 50, 575.0, (503_000.0, 165_000.0)
TARGET_BYTES = 2 * 1024**3
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


# -- synthetic inputs -----------------------------------------------------------------------------
def _id_array(rng: np.random.Generator, present: np.ndarray):
    """Random 64-character hex Crime IDs where ``present``, null elsewhere (built in Arrow)."""
    import pyarrow as pa

    n, k = len(present), int(present.sum())
    data = _HEX[rng.integers(0, 16, size=(k, 64), dtype=np.uint8)]
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.where(present, 64, 0), out=offsets[1:])
    validity = pa.py_buffer(np.packbits(present, bitorder="little"))
    return pa.Array.from_buffers(
        pa.string(), n, [validity, pa.py_buffer(offsets), pa.py_buffer(data)], null_count=n - k
    )


def _text(values: list[str], codes: np.ndarray):
    """``values[codes]`` as an Arrow string array (dictionary-decoded)."""
    import pyarrow as pa

    return pa.DictionaryArray.from_arrays(
        pa.array(codes.astype(np.int32)), pa.array(values, pa.string())
    ).dictionary_decode()


def write_police_csvs(root: Path, *, rows: int, seed: int = 11) -> list[Path]:
    """Monthly street CSVs for one force, ``rows`` rows in all; returns their paths."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from pyproj import Transformer

    rng = np.random.default_rng(seed)
    to_ll = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    types = list(CRIME_MIX)
    share = np.array(list(CRIME_MIX.values()))
    share /= share.sum()
    width, height = GRID_X * CELL, GRID_Y * CELL
    hot = np.c_[rng.uniform(0, width, 300), rng.uniform(0, height, 300)]
    streets = [f"On or near {w} {s}" for w in range(1, 400) for s in ("Road", "Street", "Lane")]
    boroughs = ["Westminster", "Camden", "Hackney", "Lambeth", "Newham", "Ealing", "Brent"]
    lsoa_names = [
        f"{boroughs[i % len(boroughs)]} {i // 26:03d}{chr(65 + i % 26)}" for i in range(6000)
    ]
    lsoa_codes = [f"E01{i:06d}" for i in range(6000)]
    months = pd.date_range(f"{FIRST_MONTH}-01", periods=N_MONTHS, freq="MS")
    per_month = np.full(N_MONTHS, rows // N_MONTHS)
    per_month[: rows % N_MONTHS] += 1
    paths = []
    for month, n in zip(months, per_month, strict=True):
        ym = f"{month:%Y-%m}"
        t = rng.choice(len(types), size=n, p=share)
        asb = np.asarray(types, dtype=object)[t] == "Anti-social behaviour"
        # Positions: 70% around hot spots, the rest spread out; ~6% land outside the areas.
        near = rng.random(n) < 0.7
        centre = hot[rng.integers(0, len(hot), n)]
        x = np.where(
            near, centre[:, 0] + rng.normal(0, 900, n), rng.uniform(-2000, width + 2000, n)
        )
        y = np.where(
            near, centre[:, 1] + rng.normal(0, 900, n), rng.uniform(-2000, height + 2000, n)
        )
        lon, lat = to_ll.transform(ORIGIN[0] + x, ORIGIN[1] + y)
        lon, lat = np.round(lon, 6), np.round(lat, 6)
        blank = rng.random(n) < 0.02
        cell = (np.clip(y // 900, 0, 59) * 100 + np.clip(x // 900, 0, 99)).astype(np.int64)
        outcome = rng.integers(0, len(OUTCOME_TEXT), n)
        table = pa.table(
            {
                "Crime ID": _id_array(rng, ~asb),
                "Month": _text([ym], np.zeros(n, np.int64)),
                "Reported by": _text([FORCE], np.zeros(n, np.int64)),
                "Falls within": _text([FORCE], np.zeros(n, np.int64)),
                "Longitude": pa.array(lon, mask=blank),
                "Latitude": pa.array(lat, mask=blank),
                "Location": _text(
                    [*streets, "No Location"],
                    np.where(
                        blank, len(streets), (cell * 7 + rng.integers(0, 5, n)) % len(streets)
                    ),
                ),
                "LSOA code": pa.array(
                    np.asarray(lsoa_codes, dtype=object)[cell], mask=blank, type=pa.string()
                ),
                "LSOA name": pa.array(
                    np.asarray(lsoa_names, dtype=object)[cell], mask=blank, type=pa.string()
                ),
                "Crime type": _text(types, t),
                "Last outcome category": pa.array(
                    np.asarray(OUTCOME_TEXT, dtype=object)[outcome], mask=asb, type=pa.string()
                ),
                "Context": pa.nulls(n, pa.string()),
            }
        )
        path = root / ym / f"{ym}-metropolitan-street.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="needed"))
        paths.append(path)
    return paths


def study_areas():
    """5,000 study areas (Voronoi cells), the first 12 treated, the rest comparison."""
    import geopandas as gpd
    import shapely

    from pilot_eval import columns as C

    rng = np.random.default_rng(3)
    gx, gy = np.meshgrid(np.arange(GRID_X), np.arange(GRID_Y))
    x = ORIGIN[0] + (gx.ravel() + 0.5 + rng.uniform(-0.35, 0.35, gx.size)) * CELL
    y = ORIGIN[1] + (gy.ravel() + 0.5 + rng.uniform(-0.35, 0.35, gy.size)) * CELL
    extent = shapely.box(ORIGIN[0], ORIGIN[1], ORIGIN[0] + GRID_X * CELL, ORIGIN[1] + GRID_Y * CELL)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(np.c_[x, y]), extend_to=extent)
    )
    polys = shapely.intersection(cells, extent)
    n = len(polys)
    return gpd.GeoDataFrame(
        {
            C.AREA: [f"E01{i:06d}" for i in range(n)],
            C.GROUP: ["treated"] * 12 + ["comparison"] * (n - 12),
        },
        geometry=polys,
        crs=C.METRIC_CRS,
    )


# -- one run, in a child process ------------------------------------------------------------------
def _rss_now() -> int:
    """Resident bytes of this process right now (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _peak() -> int:
    """Peak resident bytes of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _reset_stage_peak() -> bool:
    """Restart the kernel's high-water mark of this process's RSS (Linux >= 4.0), so that
    :func:`_stage_peak` gives the peak of one stage; False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _stage_peak() -> int:
    """The RSS high-water mark since :func:`_reset_stage_peak` (VmHWM), in bytes; 0 if unknown."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def child(root: Path, cache: Path | None, columns: list[str] | None) -> dict:
    """The prepare step's police.uk path; returns stage times, memory and a panel checksum."""
    import warnings

    import pandas as pd

    from pilot_eval.areas import assign_points
    from pilot_eval.io.policeuk import project_points, read_police_uk
    from pilot_eval.panel import panel_from_incidents

    areas = study_areas()
    months = pd.date_range(f"{FIRST_MONTH}-01", periods=N_MONTHS, freq="MS")
    wanted = sorted({t for types in OUTCOMES.values() for t in types})
    out: dict = {"rss_start": _rss_now(), "peak_start": _peak(), "stages": {}}
    per_stage = _reset_stage_peak()

    def stage(name: str, t0: float) -> float:
        out["stages"][name] = {
            "s": time.perf_counter() - t0,
            "rss": _rss_now(),
            "peak": _stage_peak() if per_stage else _peak(),
        }
        _reset_stage_peak()
        return time.perf_counter()

    # As pilot_eval.pipeline.prepare does: the incidents stay referenced to the end.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = t = time.perf_counter()
        read = {} if columns is None else {"columns": columns}
        incidents = read_police_uk(
            root, months=(months[0], months[-1]), crime_types=wanted, cache_dir=cache, **read
        )
        t = stage("read_police_uk", t)
        xy = project_points(incidents)
        t = stage("project_points", t)
        located = assign_points(xy, areas)
        del xy
        t = stage("assign_points", t)
        # prepare keeps the located crimes for the maps and the point-pattern checks.
        kept = located.loc[
            located["area"].notna(), ["x", "y", "month", "crime_type", "area"]
        ].reset_index(drop=True)
        t = stage("keep located crimes", t)
        panel = panel_from_incidents(
            located, outcomes=OUTCOMES, areas=areas, months=months, start=pd.Timestamp(START)
        )
        stage("panel_from_incidents", t)
        out["total_s"] = time.perf_counter() - t0
    out["rows"] = len(incidents)
    out["kept"] = len(kept)
    out["located"] = int(located["area"].notna().sum())
    out["panel_rows"] = len(panel)
    digest = hashlib.sha256()
    for col in panel.columns:
        digest.update(col.encode())
        digest.update(pd.util.hash_pandas_object(panel[col], index=False).to_numpy().tobytes())
    out["panel_sha256"] = digest.hexdigest()[:16]
    out["counts"] = {k: int(v) for k, v in panel.groupby("outcome")["count"].sum().items()}
    out["peak"] = max(_peak(), *(st["peak"] for st in out["stages"].values()))
    return out


def run_child(root: Path, cache: Path | None, columns: list[str] | None) -> dict:
    cmd = [sys.executable, __file__, "--child", str(root)]
    if cache is not None:
        cmd += ["--cache", str(cache)]
    if columns is not None:
        cmd += ["--columns", ",".join(columns)]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1")}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the report -----------------------------------------------------------------------------------
def _gb(n: float) -> str:
    return f"{n / 1024**3:.2f} GB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=6_000_000)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each variant (round-robin)")
    ap.add_argument("--quick", action="store_true", help="--rows 600000 --repeat 1")
    ap.add_argument(
        "--prepare-only",
        action="store_true",
        help="only the two variants reading every column, as pipeline.prepare does today",
    )
    ap.add_argument("--keep", type=Path, help="folder for the CSVs (reused if already written)")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--columns", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        cols = None if args.columns is None else args.columns.split(",")
        print(json.dumps(child(args.child, args.cache, cols)))
        return
    if args.quick:
        args.rows, args.repeat = 600_000, 1

    with tempfile.TemporaryDirectory(prefix="bench-large-panel-") as tmp:
        base = args.keep if args.keep is not None else Path(tmp)
        root = base / f"police-uk-{args.rows}"
        t0 = time.perf_counter()
        if not (root / "done").exists():
            paths = write_police_csvs(root, rows=args.rows)
            (root / "done").write_text("")
            verb = "wrote"
        else:
            paths = sorted(root.rglob("*-street.csv"))
            verb = "reusing"
        size = sum(p.stat().st_size for p in paths) / 1e6
        print(
            f"{verb} {len(paths)} files, {args.rows:,} rows, {size:,.0f} MB in "
            f"{time.perf_counter() - t0:.1f} s (cpus: {os.cpu_count()}; load average: "
            f"{os.getloadavg()[0]:.2f})"
        )
        cache = Path(tmp) / "cache"
        variants = {
            "all columns, no cache": (None, None),
            "all columns, warm cache": (cache, None),
            "4 columns, no cache": (None, PIPELINE_COLUMNS),
            "4 columns, warm cache": (cache, PIPELINE_COLUMNS),
        }
        if args.prepare_only:
            variants = {k: v for k, v in variants.items() if v[1] is None}
        run_child(root, cache, None)  # fills the cache (untimed)
        time.sleep(2.0)  # past the manifest's racy window (files written moments ago)
        run_child(root, cache, None)  # records the files in the manifest (untimed)
        runs: dict[str, list[dict]] = {name: [] for name in variants}
        for _ in range(args.repeat):
            for name, (c, cols) in variants.items():
                runs[name].append(run_child(root, c, cols))
        load_after = os.getloadavg()[0]

    first = next(iter(runs.values()))[0]
    checksums = {r["panel_sha256"] for rs in runs.values() for r in rs}
    if len(checksums) != 1:
        raise AssertionError(f"runs built different panels: {checksums}")
    print(
        f"{first['rows']:,} incidents read, {first['located']:,} located in an area, panel of "
        f"{first['panel_rows']:,} rows (checksum {first['panel_sha256']}; counts "
        f"{first['counts']})"
    )
    print()
    print(f"{'variant':<26}{'stage':<24}{'best s':>9}{'rss after':>12}{'stage peak':>12}")
    rule = "-" * 83
    print(rule)
    for name in variants:
        best = min(runs[name], key=lambda r: r["total_s"])
        label = name
        print(f"{label:<26}{'(imports, areas)':<24}{'':>9}{_gb(best['rss_start']):>12}")
        for s, st in best["stages"].items():
            fastest = min(r["stages"][s]["s"] for r in runs[name])
            print(f"{'':<26}{s:<24}{fastest:>9.2f}{_gb(st['rss']):>12}{_gb(st['peak']):>12}")
        totals = [r["total_s"] for r in runs[name]]
        peak = max(r["peak"] for r in runs[name])
        print(
            f"{'':<26}{'total (median ' + f'{statistics.median(totals):.2f})':<24}"
            f"{min(totals):>9.2f}{'':>12}{_gb(peak):>12}"
        )
    print(rule)
    print(
        f"load average after: {load_after:.2f} (1 min; {os.cpu_count()} CPUs). 'stage peak' is "
        "the RSS high-water mark within the stage (Linux clear_refs); the total's is the run's."
    )
    for name in variants:
        peak = max(r["peak"] for r in runs[name])
        verdict = "MET" if peak <= TARGET_BYTES else "MISSED"
        print(f"peak RSS, {name}: {_gb(peak)} (target <= {_gb(TARGET_BYTES)}) {verdict}")
    for name in variants:
        best_s = min(r["total_s"] for r in runs[name])
        print(
            f"wall time, {name}: {best_s:.1f} s for {first['rows']:,} rows "
            f"({first['rows'] / best_s:,.0f} rows/s; no target, reported)"
        )


if __name__ == "__main__":
    main()
