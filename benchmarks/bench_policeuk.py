"""Benchmark the police.uk data path (run on demand: ``python benchmarks/bench_policeuk.py``).

Writes ~1.5 M synthetic police.uk street rows (monthly files for three forces) to a temporary
folder, then times:

(a) ``read_police_uk`` (cold, no cache; and warm, from its Parquet cache),
(b) pandas' default ``pd.read_csv`` of the same files, concatenated,
(c) a raw ``pyarrow.csv.read_csv`` parse of the same files (the machine's practical limit),

and ``assign_points`` for 1 M points into 5,000 polygons (Voronoi cells of a seeded jittered
grid). Prints a small table. Not collected by pytest (the name does not start with ``test``).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely

from pilot_eval import columns as C
from pilot_eval.areas import assign_points
from pilot_eval.io.policeuk import read_police_uk

FORCES = ("metropolitan", "kent", "city-of-london")
CRIME_TYPES = (
    "Anti-social behaviour",
    "Violence and sexual offences",
    "Public order",
    "Burglary",
    "Criminal damage and arson",
    "Other theft",
    "Shoplifting",
    "Vehicle crime",
)
OUTCOMES = ("Investigation complete; no suspect identified", "Unable to prosecute suspect", "")


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _hex_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random 64-character lower-case hex strings (as Python objects)."""
    digits = _HEX[rng.integers(0, 16, size=(n, 64))]
    return np.array([row.tobytes().decode() for row in digits], dtype=object)


def write_synthetic(root: Path, *, rows: int, months: int, seed: int = 1) -> list[Path]:
    """Monthly street files for three forces, ~``rows`` rows in all; returns their paths."""
    rng = np.random.default_rng(seed)
    per_file = rows // (months * len(FORCES))
    paths = []
    for month in pd.date_range("2022-01-01", periods=months, freq="MS"):
        ym = f"{month:%Y-%m}"
        for force in FORCES:
            n = per_file
            ctype = rng.choice(np.array(CRIME_TYPES, dtype=object), n)
            asb = ctype == "Anti-social behaviour"
            ids = _hex_ids(rng, n)  # 64 hex characters, like real Crime IDs
            ids[asb] = None
            lon = np.round(rng.uniform(-0.5, 0.3, n), 6)
            lat = np.round(rng.uniform(51.3, 51.7, n), 6)
            blank = rng.random(n) < 0.02
            lon[blank] = np.nan
            lat[blank] = np.nan
            lsoa = rng.integers(0, 5000, n)
            name = force.replace("-", " ").title() + " Police"
            table = pa.table(
                {
                    "Crime ID": pa.array(ids, type=pa.string()),
                    "Month": pa.array([ym] * n),
                    "Reported by": pa.array([name] * n),
                    "Falls within": pa.array([name] * n),
                    "Longitude": pa.array(lon, mask=blank),
                    "Latitude": pa.array(lat, mask=blank),
                    "Location": pa.array(
                        np.char.add("On or near Street ", (lsoa % 700).astype(str)).astype(object)
                    ),
                    "LSOA code": pa.array(
                        np.char.add("E0100", (lsoa + 1000).astype(str)).astype(object)
                    ),
                    "LSOA name": pa.array(
                        np.char.add("Somewhere ", (lsoa // 4).astype(str)).astype(object)
                    ),
                    "Crime type": pa.array(ctype.astype(str).tolist()),
                    "Last outcome category": pa.array(
                        np.where(asb, "", rng.choice(np.array(OUTCOMES), n)).tolist()
                    ),
                    "Context": pa.array([""] * n),
                }
            )
            path = root / ym / f"{ym}-{force}-street.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="needed"))
            paths.append(path)
    return paths


CPU: dict[str, float] = {}


def best_of(fn, repeat: int, *, name: str) -> tuple[float, object]:
    """Best wall-clock time of ``repeat`` runs (CPU seconds of that run kept in CPU[name])."""
    best, out = float("inf"), None
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if wall < best:
            best, CPU[name] = wall, cpu
    return best, out


def voronoi_polygons(n_side_x: int, n_side_y: int, *, cell: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(n_side_x), np.arange(n_side_y))
    x = 500_000 + (gx.ravel() + 0.5 + rng.uniform(-0.35, 0.35, gx.size)) * cell
    y = 170_000 + (gy.ravel() + 0.5 + rng.uniform(-0.35, 0.35, gy.size)) * cell
    extent = shapely.box(500_000, 170_000, 500_000 + n_side_x * cell, 170_000 + n_side_y * cell)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(np.c_[x, y]), extend_to=extent)
    )
    return shapely.intersection(cells, extent)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_500_000)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    results: list[tuple[str, int, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-policeuk-") as tmp:
        root = Path(tmp) / "police-uk"
        t0 = time.perf_counter()
        paths = write_synthetic(root, rows=args.rows, months=args.months)
        size = sum(p.stat().st_size for p in paths) / 1e6
        print(
            f"wrote {len(paths)} files, {size:.0f} MB in {time.perf_counter() - t0:.1f} s "
            f"(cpus: {os.cpu_count()})"
        )

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            name = "read_police_uk (no cache)"
            t_ours, df = best_of(lambda: read_police_uk(root), args.repeat, name=name)
            n = len(df)
            results.append((name, n, t_ours))
            cache = Path(tmp) / "cache"
            read_police_uk(root, cache_dir=cache)
            name = "read_police_uk (warm Parquet cache)"
            t_cache, _ = best_of(
                lambda: read_police_uk(root, cache_dir=cache), args.repeat, name=name
            )
            results.append((name, n, t_cache))

        name = "pandas read_csv + concat (default)"
        t_pd, df_pd = best_of(
            lambda: pd.concat([pd.read_csv(p) for p in paths], ignore_index=True),
            args.repeat,
            name=name,
        )
        assert len(df_pd) == n
        results.append((name, n, t_pd))
        name = "pyarrow.csv.read_csv raw parse"
        t_pa, tab = best_of(
            lambda: pa.concat_tables([pacsv.read_csv(p) for p in paths]), args.repeat, name=name
        )
        assert tab.num_rows == n
        results.append((name, n, t_pa))
        del df, df_pd, tab

    # assign_points: 1 M points into 5,000 polygons.
    polys = voronoi_polygons(100, 50, cell=250.0, seed=3)
    areas = gpd.GeoDataFrame(
        {
            C.AREA: [f"A{i:04d}" for i in range(len(polys))],
            C.GROUP: ["comparison"] * len(polys),
        },
        geometry=polys,
        crs=C.METRIC_CRS,
    )
    rng = np.random.default_rng(4)
    minx, miny, maxx, maxy = areas.total_bounds
    pts = pd.DataFrame(
        {
            C.X: rng.uniform(minx - 1000, maxx + 1000, args.points),
            C.Y: rng.uniform(miny - 1000, maxy + 1000, args.points),
        }
    )
    pts.loc[pts.sample(frac=0.02, random_state=1).index, [C.X, C.Y]] = np.nan
    name = f"assign_points into {len(polys):,} polygons"
    t_assign, located = best_of(lambda: assign_points(pts, areas), args.repeat, name=name)
    inside = int(located[C.AREA].notna().sum())
    results.append((name, args.points, t_assign))

    print()
    print(f"{'step':<42}{'rows':>11}{'wall s':>9}{'cpu s':>8}{'rows/s (wall)':>15}")
    print("-" * 85)
    for name, rows, secs in results:
        print(f"{name:<42}{rows:>11,}{secs:>9.2f}{CPU[name]:>8.2f}{rows / secs:>15,.0f}")
    print("-" * 85)
    print(f"read_police_uk vs pandas read_csv : {t_pd / t_ours:5.2f}x faster")
    print(f"read_police_uk vs raw pyarrow     : {t_ours / t_pa:5.2f}x the raw parse time")
    print(f"warm cache vs cold read           : {t_ours / t_cache:5.2f}x faster")
    print(f"assign_points: {inside:,} of {args.points:,} points inside a polygon")


if __name__ == "__main__":
    main()
