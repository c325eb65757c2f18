"""Study areas: the treated area(s), a displacement buffer around them, and comparison areas.

:func:`build_areas` turns area boundaries (from :func:`pilot_eval.io.boundaries.read_boundaries`)
into the areas GeoDataFrame of the data contract (``area, name, group, geometry`` in
EPSG:27700); :func:`assign_points` tells which area each projected incident falls in.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import columns as C
from .errors import ConfigError, DataQualityWarning, DataValidationError, GeometryError

__all__ = [
    "BUFFER_CODE",
    "TREATED_CODE",
    "MIN_KEPT_SHARE",
    "assign_points",
    "build_areas",
    "neighbours_as_buffer",
]

#: Area code of the displacement buffer ring.
BUFFER_CODE = "BUFFER"
#: Area code of a treated area given as its own polygon (not as boundary codes).
TREATED_CODE = "TREATED"
#: Segments per quarter circle of the buffer's rounded corners (area error < 0.05 %).
BUFFER_QUAD_SEGS = 32
#: Comparison areas keeping less than this share of their area after clipping are dropped.
MIN_KEPT_SHARE = 0.01

_POLYGONAL = (3, 6)  # shapely type ids of Polygon and MultiPolygon


def _metric(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        raise GeometryError(
            f"{what} has no CRS. Read it with pilot_eval.io.boundaries (which reprojects to "
            f"{C.METRIC_CRS}) or set its CRS with gdf.set_crs(...)."
        )
    if len(gdf) == 0:
        raise GeometryError(f"{what} holds no areas.")
    return gdf.to_crs(C.METRIC_CRS)


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Drop the lines and points an overlay can leave; keep polygons (maybe empty)."""
    out = geoms.copy()
    for i in np.flatnonzero(~np.isin(shapely.get_type_id(geoms), _POLYGONAL)):
        parts = shapely.get_parts(geoms[i])
        polys = parts[np.isin(shapely.get_type_id(parts), _POLYGONAL)]
        out[i] = shapely.union_all(polys) if len(polys) else shapely.Polygon()
    return out


def _unknown_codes_error(
    unknown: list[str], valid: pd.Series, role: str, source: str | Path | None = None
) -> DataValidationError:
    where = f"the boundaries file {source}" if source is not None else "the boundaries file"
    field = "treated.codes" if role == "treated" else "comparison"
    hints = []
    for code in unknown[:5]:
        close = difflib.get_close_matches(code, valid.tolist(), n=3, cutoff=0.5)
        if not close:  # case or spacing only ('demo01', ' DEMO01')
            close = [v for v in valid.tolist() if v.strip().casefold() == code.strip().casefold()]
        if close:
            hints.append(f"{code!r} -> did you mean {close}?")
    return DataValidationError(
        f"{field}: {role} code(s) {unknown} are not in {where}. "
        + (" ".join(hints) + " " if hints else "")
        + f"Valid codes include {valid.head(5).tolist()} ({len(valid)} in all); check the "
        "pilot config and that the boundaries are the right vintage (e.g. 2018 vs 2022 wards)."
    )


def build_areas(
    boundaries: gpd.GeoDataFrame,
    *,
    treated_codes: Sequence[str] = (),
    treated_polygon: gpd.GeoDataFrame | None = None,
    buffer_m: float,
    comparison: Literal["auto"] | Sequence[str] = "auto",
    source: str | Path | None = None,
    polygon_source: str | Path | None = None,
) -> gpd.GeoDataFrame:
    """Build treated, buffer and comparison areas from area boundaries.

    Parameters
    ----------
    boundaries
        ``area``, ``name``, ``geometry`` (any declared CRS), as returned by
        :func:`pilot_eval.io.boundaries.read_boundaries`. Not modified.
    treated_codes
        Codes of the treated areas; each becomes one treated area with its own polygon.
    treated_polygon
        Alternatively, an outline of the treated area (any declared CRS); its features are
        merged into ONE treated area with code :data:`TREATED_CODE` and name ``"Pilot area"``.
    buffer_m
        Width of the displacement buffer in metres. The buffer is one area, code
        :data:`BUFFER_CODE`: the union of the treated areas grown by ``buffer_m`` minus that
        union. No buffer when 0.
    comparison
        ``"auto"`` (every boundary area that is not treated) or a list of area codes.
    source, polygon_source
        The boundaries file and the treated polygon's file, named in messages.

    Returns
    -------
    geopandas.GeoDataFrame
        ``area``, ``name``, ``group`` (``"treated"``, ``"buffer"``, ``"comparison"``) and
        ``geometry`` in EPSG:27700; treated rows first, then the buffer, then comparison areas
        in boundary order. Comparison areas are clipped: the treated area(s) and the buffer are
        cut out of them.

    Raises
    ------
    ConfigError
        Neither or both of ``treated_codes`` and ``treated_polygon``, or a negative buffer.
    DataValidationError
        Unknown treated or comparison codes (the message suggests valid ones), a code listed as
        both treated and comparison, or repeated codes in ``boundaries``.
    GeometryError
        Missing CRS, a treated polygon that overlaps no area of the boundaries, or no
        comparison area left after clipping.

    Warns
    -----
    DataQualityWarning
        When comparison areas are dropped because clipping left nothing or less than
        :data:`MIN_KEPT_SHARE` (1 %) of their area.
    """
    if bool(len(treated_codes)) == (treated_polygon is not None):
        raise ConfigError(
            "give exactly one of treated_codes (area codes from the boundaries file) or "
            "treated_polygon (an outline of the treated area)."
        )
    if not np.isfinite(buffer_m) or buffer_m < 0:
        raise ConfigError(f"buffer_m must be a distance in metres >= 0, not {buffer_m!r}.")
    missing = [c for c in (C.AREA, C.NAME) if c not in boundaries.columns]
    if missing:
        raise DataValidationError(
            f"boundaries lack column(s) {missing}; read them with "
            "pilot_eval.io.boundaries.read_boundaries."
        )
    bounds = _metric(boundaries, "the boundaries")
    codes = bounds[C.AREA].astype(str)
    if codes.duplicated().any():
        raise DataValidationError(
            f"boundaries repeat area code(s) {codes[codes.duplicated()].unique().tolist()[:10]}; "
            "each area must be one row."
        )
    geoms = np.asarray(bounds.geometry.array, dtype=object)
    names = bounds[C.NAME].astype(str).to_numpy()
    code_arr = codes.to_numpy()
    valid = set(code_arr)

    rows: list[dict] = []
    if treated_polygon is not None:
        outline = _metric(treated_polygon, "the treated polygon")
        treated_union = shapely.union_all(np.asarray(outline.geometry.array, dtype=object))
        named = f" {polygon_source}" if polygon_source is not None else ""
        if treated_union.is_empty or shapely.get_type_id(treated_union) not in _POLYGONAL:
            raise GeometryError(
                f"treated.polygon: the treated polygon{named} holds no polygon (empty or "
                "lines/points). Draw the pilot area as a polygon and save it again."
            )
        if not shapely.intersects(treated_union, geoms).any():
            gap = float(np.nanmin(shapely.distance(treated_union, geoms)))
            where = f"the boundaries file {source}" if source is not None else "the boundaries"
            raise GeometryError(
                f"treated.polygon: the treated polygon{named} lies outside every area of "
                f"{where} ({gap / 1000:,.0f} km from the nearest). Check the polygon's CRS "
                "(longitude/latitude vs British National Grid metres) and that it is the "
                "pilot area."
            )
        treated_row = {C.AREA: TREATED_CODE, C.NAME: "Pilot area", C.GROUP: "treated"}
        rows.append({**treated_row, "geometry": treated_union})
        treated_set: set[str] = set()
    else:
        wanted = [str(c) for c in treated_codes]
        unknown = [c for c in wanted if c not in valid]
        if unknown:
            raise _unknown_codes_error(unknown, codes, "treated", source)
        treated_set = set(wanted)
        pos = {c: i for i, c in enumerate(code_arr)}
        for c in dict.fromkeys(wanted):
            i = pos[c]
            rows.append({C.AREA: c, C.NAME: names[i], C.GROUP: "treated", "geometry": geoms[i]})
        treated_union = shapely.union_all([r["geometry"] for r in rows])

    excluded = treated_union
    if buffer_m > 0:
        grown = shapely.buffer(treated_union, buffer_m, quad_segs=BUFFER_QUAD_SEGS)
        ring = shapely.difference(grown, treated_union)
        buffer_row = {C.AREA: BUFFER_CODE, C.NAME: f"{buffer_m:g} m buffer", C.GROUP: "buffer"}
        rows.append({**buffer_row, "geometry": ring})
        excluded = grown

    if isinstance(comparison, str):
        if comparison != "auto":
            raise ConfigError(f"comparison must be 'auto' or a list of codes, not {comparison!r}.")
        chosen = np.flatnonzero(~np.isin(code_arr, list(treated_set)))
    else:
        comp = [str(c) for c in comparison]
        unknown = [c for c in comp if c not in valid]
        if unknown:
            raise _unknown_codes_error(unknown, codes, "comparison", source)
        both = sorted(set(comp) & treated_set)
        if both:
            raise DataValidationError(
                f"area(s) {both} are listed both as treated and as comparison; remove them "
                "from one list."
            )
        comp_set = set(comp)
        chosen = np.array([i for i, c in enumerate(code_arr) if c in comp_set], dtype=np.int64)

    comp_geoms = geoms[chosen]
    shapely.prepare(excluded)
    touched = shapely.intersects(excluded, comp_geoms)
    clipped = comp_geoms.copy()
    if touched.any():
        clipped[touched] = _polygonal(shapely.difference(comp_geoms[touched], excluded))
    share = np.divide(
        shapely.area(clipped),
        shapely.area(comp_geoms),
        out=np.zeros(len(chosen)),
        where=shapely.area(comp_geoms) > 0,
    )
    keep = share >= MIN_KEPT_SHARE
    if not keep.all():
        dropped = code_arr[chosen[~keep]].tolist()
        warnings.warn(
            f"{len(dropped)} comparison area(s) lie (almost) entirely inside the treated area "
            f"or its buffer and were dropped: {dropped[:20]}"
            f"{' ...' if len(dropped) > 20 else ''}.",
            DataQualityWarning,
            stacklevel=2,
        )
    for i, g in zip(chosen[keep], clipped[keep], strict=True):
        rows.append({C.AREA: code_arr[i], C.NAME: names[i], C.GROUP: "comparison", "geometry": g})
    if not any(r[C.GROUP] == "comparison" for r in rows):
        raise GeometryError(
            "no comparison area is left outside the treated area and its buffer: use a larger "
            "boundaries file, a smaller buffer_m, or list comparison areas."
        )
    frame = pd.DataFrame(rows, columns=[C.AREA, C.NAME, C.GROUP, "geometry"])
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=C.METRIC_CRS)


def neighbours_as_buffer(areas: gpd.GeoDataFrame, *, distance_m: float) -> gpd.GeoDataFrame:
    """Mark comparison areas within ``distance_m`` of the treated area(s) as ``buffer``.

    For area-level counts (MPS ward/LSOA tables), where crimes cannot be split at a buffer's
    edge. Returns a new frame; each buffer area keeps its own code. Distances are in the
    units of ``areas``' CRS: metres for the areas of :func:`build_areas` (EPSG:27700).

    Raises
    ------
    ConfigError
        If no comparison area is left outside ``distance_m``.
    """
    treated = areas.loc[areas[C.GROUP] == "treated"].geometry.union_all()
    near = (areas[C.GROUP] == "comparison") & (areas.geometry.distance(treated) <= distance_m)
    out = areas.copy()
    out.loc[near, C.GROUP] = "buffer"
    if not (out[C.GROUP] == "comparison").any():
        raise ConfigError(
            f"every comparison area lies within buffer_m = {distance_m:g} m of the pilot area, "
            "so none is left to compare with: lower buffer_m (0 turns the buffer off)"
        )
    return out


#: Points located per pass of :func:`_locate`: its (polygon, point) candidate pairs take ~50
#: bytes each and number a few per point, so a pass stays near 100 MB however many points
#: there are (6 M police.uk rows would otherwise need over 1 GB at once). Results do not depend
#: on it.
_LOCATE_CHUNK = 1 << 19


def _locate(x: np.ndarray, y: np.ndarray, polys: np.ndarray) -> np.ndarray:
    """Index of the first polygon each point intersects (boundary included), or -1.

    A uniform grid buckets the points; each polygon tests only the points in the grid cells
    its bounding box covers, with one vectorised :func:`shapely.intersects_xy` call over all
    (polygon, point) candidate pairs. Where areas overlap or share an edge, the polygon that
    comes first wins. Points are taken :data:`_LOCATE_CHUNK` at a time (each point's answer
    depends on it alone), which bounds the memory of the candidate pairs.
    """
    n, m = len(x), len(polys)
    out = np.full(n, -1, dtype=np.int64)
    if n == 0 or m == 0:
        return out
    b = shapely.bounds(polys)
    minx, miny = np.nanmin(b[:, 0]), np.nanmin(b[:, 1])
    maxx, maxy = np.nanmax(b[:, 2]), np.nanmax(b[:, 3])
    inside = np.isfinite(x) & np.isfinite(y)
    inside &= (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)
    idx = np.flatnonzero(inside)
    del inside
    if len(idx) == 0:
        return out

    width, height = max(maxx - minx, 1e-6), max(maxy - miny, 1e-6)
    cell = np.sqrt(width * height / max(1, min(4 * m, len(idx))))
    nx, ny = max(1, int(np.ceil(width / cell))), max(1, int(np.ceil(height / cell)))

    def cells(lo: np.ndarray, origin: float, k: int) -> np.ndarray:
        return np.clip(((lo - origin) / cell).astype(np.int64), 0, k - 1)

    valid = ~np.isnan(b).any(axis=1)
    poly_ids = np.flatnonzero(valid)
    bx0, bx1 = cells(b[poly_ids, 0], minx, nx), cells(b[poly_ids, 2], minx, nx)
    by0, by1 = cells(b[poly_ids, 1], miny, ny), cells(b[poly_ids, 3], miny, ny)
    # One entry per (polygon, grid row of its bounding box): a contiguous run of cells.
    n_rows = by1 - by0 + 1
    row_poly = np.repeat(np.arange(len(poly_ids)), n_rows)
    first_row = np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
    row_iy = by0[row_poly] + (np.arange(len(row_poly)) - first_row)
    run_lo_cell = row_iy * nx + bx0[row_poly]
    run_hi_cell = row_iy * nx + bx1[row_poly] + 1
    run_poly = poly_ids[row_poly]
    shapely.prepare(polys)

    for start in range(0, len(idx), _LOCATE_CHUNK):
        chunk = idx[start : start + _LOCATE_CHUNK]
        px, py = x[chunk], y[chunk]
        ix = np.minimum(((px - minx) / cell).astype(np.int64), nx - 1)
        iy = np.minimum(((py - miny) / cell).astype(np.int64), ny - 1)
        cid = iy * nx + ix
        del ix, iy
        order = np.argsort(cid, kind="stable")
        starts = np.zeros(nx * ny + 1, dtype=np.int64)
        np.cumsum(np.bincount(cid, minlength=nx * ny), out=starts[1:])
        del cid
        lo, hi = starts[run_lo_cell], starts[run_hi_cell]
        counts = hi - lo
        pair_poly = np.repeat(run_poly, counts)
        pos = np.repeat(lo - (np.cumsum(counts) - counts), counts) + np.arange(counts.sum())
        pair_pt = order[pos]
        del pos, order
        qx, qy = px[pair_pt], py[pair_pt]
        in_box = (qx >= b[pair_poly, 0]) & (qx <= b[pair_poly, 2])
        in_box &= (qy >= b[pair_poly, 1]) & (qy <= b[pair_poly, 3])
        del qx, qy
        pair_poly, pair_pt = pair_poly[in_box], pair_pt[in_box]
        del in_box
        hit = shapely.intersects_xy(polys[pair_poly], px[pair_pt], py[pair_pt])
        best = np.full(len(chunk), m, dtype=np.int64)
        np.minimum.at(best, pair_pt[hit], pair_poly[hit])
        out[chunk] = np.where(best == m, -1, best)
    return out


def assign_points(incidents_xy: pd.DataFrame, areas: gpd.GeoDataFrame) -> pd.DataFrame:
    """Tell which study area each incident falls in.

    Parameters
    ----------
    incidents_xy
        Incidents with ``x`` and ``y`` in EPSG:27700 metres (see
        :func:`pilot_eval.io.policeuk.project_points`). Not modified.
    areas
        Study areas from :func:`build_areas` (``area``, ``group``, ``geometry``).

    Returns
    -------
    pandas.DataFrame
        A new frame with ``area`` and ``group`` added (replaced if present). Incidents outside
        every area, or with no coordinates, get missing values and are kept, so the caller can
        report how many were left out. A point on the edge between two areas goes to the one
        listed first in ``areas`` (treated, then buffer, then comparison).

    Raises
    ------
    DataValidationError
        Missing ``x``/``y`` or area columns.
    GeometryError
        ``areas`` has no CRS.
    """
    missing = [c for c in (C.X, C.Y) if c not in incidents_xy.columns]
    if missing:
        raise DataValidationError(
            f"incidents lack projected column(s) {missing}; call "
            "pilot_eval.io.policeuk.project_points first."
        )
    lacking = [c for c in (C.AREA, C.GROUP) if c not in areas.columns]
    if lacking:
        raise DataValidationError(f"areas lack column(s) {lacking}; build them with build_areas.")
    metric = _metric(areas, "the areas")
    odd = sorted(set(metric[C.GROUP].astype(str)) - set(C.GROUPS))
    if odd:
        raise DataValidationError(f"areas have unknown group(s) {odd}; expected {C.GROUPS}.")
    polys = np.asarray(metric.geometry.array, dtype=object)
    x = pd.to_numeric(incidents_xy[C.X]).to_numpy(dtype=float, na_value=np.nan)
    y = pd.to_numeric(incidents_xy[C.Y]).to_numpy(dtype=float, na_value=np.nan)
    which = _locate(x, y, polys)
    return incidents_xy.assign(
        **{
            C.AREA: _take(metric[C.AREA].astype(str).to_numpy(), which),
            C.GROUP: _take(metric[C.GROUP].astype(str).to_numpy(), which),
        }
    )


def _take(labels: np.ndarray, which: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``labels[which]`` as a pandas string array, missing where ``which`` is -1 (fast)."""
    import pyarrow as pa

    indices = pa.array(which.astype(np.int32), mask=which < 0)
    decoded = pa.DictionaryArray.from_arrays(indices, pa.array(labels, type=pa.string()))
    return pd.Series(decoded.dictionary_decode().to_pandas()).astype("str").array


def population_by_area(
    population: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    *,
    small_areas: gpd.GeoDataFrame | None = None,
    source: str | Path = "population file",
) -> pd.DataFrame:
    """Residents of each study area (treated and comparison; the buffer ring is left out).

    Parameters
    ----------
    population
        ``area, population`` (:func:`pilot_eval.io.population.read_population`). Not modified.
    areas
        Study areas from :func:`build_areas`.
    small_areas
        Boundaries of the population file's areas (``area, geometry``, e.g. the LSOAs of the
        same code vintage, 2011 or 2021, as the population file). When given, each small
        area's residents are shared among the study areas it overlaps, in proportion to area,
        so LSOA populations add up to wards, to a pilot polygon, or to LSOAs of the other
        vintage (a 2011 LSOA split in 2021 shares its residents between its parts). When omitted,
        population codes must be the study areas' own codes.
    source
        The population file, for messages.

    Returns
    -------
    pandas.DataFrame
        ``area, group, population`` for every treated and comparison area, sorted by area.

    Raises
    ------
    DataValidationError
        When a treated or comparison area gets no residents (codes of another geography or
        vintage: give ``small_areas``).
    """
    study = areas.loc[areas[C.GROUP] != "buffer", [C.AREA, C.GROUP, "geometry"]]
    pop = population.assign(**{C.AREA: population[C.AREA].astype(str)})
    if small_areas is None:
        by_code = pop.set_index(C.AREA)["population"]
        values = study[C.AREA].astype(str).map(by_code)
        how = "no row with its code"
    else:
        # Each small area's residents are shared among the study areas it overlaps, by area:
        # exact when small areas nest (LSOAs in wards), and a 2011 LSOA split in 2021 shares
        # its residents between its parts.
        metric = _metric(small_areas, "the population's area boundaries")
        small = metric[[C.AREA, "geometry"]].merge(pop, on=C.AREA, how="inner")
        target = _metric(study, "the areas").reset_index(drop=True)
        target = target.assign(to=np.arange(len(target)))[["to", "geometry"]]
        pieces = gpd.overlay(
            gpd.GeoDataFrame(
                small.assign(whole=small.geometry.area), geometry="geometry", crs=metric.crs
            ),
            target,
            how="intersection",
            keep_geom_type=True,
        )
        share = pieces.geometry.area / pieces["whole"].where(pieces["whole"] > 0)
        sums = (pieces["population"] * share.fillna(0.0)).groupby(pieces["to"]).sum()
        values = pd.Series(np.arange(len(study)), index=study.index, dtype="int64").map(sums)
        how = "no small area of the population file inside it"
    out = pd.DataFrame(
        {
            C.AREA: study[C.AREA].astype(str).to_numpy(),
            C.GROUP: study[C.GROUP].astype(str).to_numpy(),
            "population": values.to_numpy(dtype=float),
        }
    )
    lacking = out.loc[out["population"].isna() | (out["population"] <= 0), C.AREA].tolist()
    if lacking:
        raise DataValidationError(
            f"{source}: {len(lacking)} study area(s) get no residents ({how}): "
            f"{', '.join(lacking[:10])}{' ...' if len(lacking) > 10 else ''}. Check the "
            "population file's codes match the study areas, or give data.population_areas "
            "(the boundaries of the population file's areas, e.g. 2011 LSOAs for the ONS "
            "mid-2020 file) so residents are added up by place."
        )
    return out.sort_values(C.AREA, kind="stable").reset_index(drop=True)
