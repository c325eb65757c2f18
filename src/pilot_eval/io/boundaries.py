"""Read area boundaries (wards, LSOAs...) from GeoJSON, GeoPackage or Shapefile.

:func:`read_boundaries` returns a GeoDataFrame with the columns ``area`` (code), ``name`` and
``geometry`` in British National Grid (EPSG:27700), whatever the file's own CRS and column
names. :func:`read_outline` reads a file holding only an outline (e.g. a hand-drawn treated
area), with no code column needed.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import columns as C
from ..errors import DataQualityWarning, DataValidationError, GeometryError

__all__ = ["read_boundaries", "read_outline"]

#: Code-column patterns, finest geography first; each code pattern's name column follows.
_CODE_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"oa\d\dcd", "nm"),
    (r"lsoa\d\dcd", "nm"),
    (r"wd\d\dcd", "nm"),
    (r"msoa\d\dcd", "nm"),
    (r"lad\d\dcd", "nm"),
    (r"area_code", "area_name"),
    (r"lsoa_code", "lsoa_name"),
    (r"ward_code", "ward_name"),
    (r"gss_code", "name"),
    (r"code", "name"),
)


def _find_column(columns: list[str], wanted: str) -> str | None:
    for c in columns:
        if c.lower() == wanted.lower():
            return c
    return None


def _detect_columns(columns: list[str], path: Path) -> tuple[str, str | None]:
    """Pick the area code column (finest geography first) and its name column."""
    for pattern, name_rule in _CODE_PATTERNS:
        hits = [c for c in columns if re.fullmatch(pattern, c, flags=re.IGNORECASE)]
        if len(hits) > 1:
            raise DataValidationError(
                f"{path}: several columns could hold the area codes ({hits}). Say which with "
                "data.area_code_column in the pilot config (code_column=...)."
            )
        if hits:
            code = hits[0]
            name = code[:-2] + name_rule if name_rule == "nm" else name_rule
            return code, _find_column(columns, name)
    raise DataValidationError(
        f"{path}: could not tell which column holds the area codes (looked for ONS names "
        "such as WD22CD, LSOA21CD, or area_code/code). Columns in the file: "
        f"{columns}. Set data.area_code_column in the pilot config (code_column=...)."
    )


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts of each geometry (drop lines/points left by repairs)."""
    out = geoms.copy()
    kinds = shapely.get_type_id(geoms)
    for i in np.flatnonzero(kinds == 7):  # GeometryCollection
        parts = shapely.get_parts(geoms[i])
        polys = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
        out[i] = shapely.union_all(polys) if len(polys) else shapely.Polygon()
    return out


def _read(path: str | Path, layer: str | int | None) -> tuple[gpd.GeoDataFrame, Path]:
    path = Path(path)
    if not path.exists():
        raise DataValidationError(f"{path}: no such boundaries file. Check data.boundaries.")
    import pyogrio

    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:  # pyogrio raises its own DataSourceError types
        raise DataValidationError(
            f"{path}: not a readable GeoJSON, GeoPackage or Shapefile ({exc})."
        ) from None
    if layer is None and len(layers) > 1:
        raise DataValidationError(
            f"{path}: holds {len(layers)} layers ({[str(n) for n in layers[:, 0]]}); say "
            "which to read with layer=..."
        )
    try:
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:
        raise DataValidationError(f"{path}: could not be read ({exc}).") from None
    if len(gdf) == 0:
        raise DataValidationError(f"{path}: the file holds no areas (no features).")
    if gdf.crs is None:
        raise GeometryError(
            f"{path}: the file has no coordinate reference system (CRS). Set it, e.g. in "
            "QGIS (Layer > Set CRS) or with geopandas `gdf.set_crs('EPSG:27700')` for "
            "British National Grid metres / 'EPSG:4326' for longitude-latitude, and save again."
        )
    if gdf.crs.is_geographic:
        minx, miny, maxx, maxy = gdf.total_bounds
        if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
            raise GeometryError(
                f"{path}: the file says its coordinates are longitude/latitude ({gdf.crs}) but "
                "they are far larger (they look like British National Grid metres). Set the "
                "file's CRS to EPSG:27700 and save again."
            )
    return gdf, path


def clean_geometry(gdf: gpd.GeoDataFrame, labels: pd.Series, path: str | Path) -> np.ndarray:
    """2-D, valid, polygonal geometries in EPSG:27700; repairs are warned about.

    ``labels`` name the rows (codes) and ``path`` the source (a file or a description such
    as ``"the LSOA boundaries"``) in messages. Shared with :mod:`.lookups`.
    """
    geoms = np.asarray(gdf.geometry.to_crs(C.METRIC_CRS).array, dtype=object)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        raise GeometryError(
            f"{path}: {int(empty.sum())} area(s) have no geometry: "
            f"{labels[empty].tolist()[:10]}. Remove them or fix their outlines."
        )
    geoms = shapely.force_2d(geoms)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms[invalid] = _polygonal(shapely.make_valid(geoms[invalid]))
        codes = labels[invalid].tolist()
        warnings.warn(
            f"{path}: repaired {len(codes)} invalid geometr{'y' if len(codes) == 1 else 'ies'} "
            f"(self-intersecting or badly nested rings) with shapely.make_valid: "
            f"{codes[:20]}{' ...' if len(codes) > 20 else ''}. Check these outlines.",
            DataQualityWarning,
            stacklevel=3,
        )
    kinds = shapely.get_type_id(geoms)
    not_area = ~np.isin(kinds, (3, 6)) | shapely.is_empty(geoms)
    if not_area.any():
        raise GeometryError(
            f"{path}: area(s) {labels[not_area].tolist()[:10]} are not polygons (lines or "
            "points). Boundaries must be polygons."
        )
    return geoms


def read_boundaries(
    path: str | Path,
    *,
    code_column: str | None = None,
    name_column: str | None = None,
    layer: str | int | None = None,
) -> gpd.GeoDataFrame:
    """Read area boundaries into ``area``, ``name``, ``geometry`` (EPSG:27700).

    Parameters
    ----------
    path
        A GeoJSON, GeoPackage or Shapefile of polygons, in any CRS the file declares.
    code_column
        Column of unique area codes. Detected when None: ONS names (``OA21CD``,
        ``LSOA21CD``/``LSOA11CD``, ``WD22CD``/``wd19cd``, ``MSOA21CD``, ``LAD22CD``; finest
        geography first), then ``area_code``, ``lsoa_code``, ``ward_code``, ``gss_code``,
        ``code``; case-insensitive.
    name_column
        Column of area names. Detected when None (``LSOA21NM`` for ``LSOA21CD``,
        ``area_name`` for ``area_code``, ``name`` for ``code``...); the code is used as the
        name when there is none.
    layer
        Layer to read from a multi-layer file (GeoPackage).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per area, in file order: ``area`` (str), ``name`` (str), ``geometry``
        (polygons, EPSG:27700).

    Raises
    ------
    DataValidationError
        The file is missing, unreadable, empty, has several layers and no ``layer``, the code
        column cannot be found, or codes are blank or repeated.
    GeometryError
        The file has no CRS, its coordinates contradict its CRS, or an area has no polygon.

    Warns
    -----
    DataQualityWarning
        When invalid geometries were repaired with :func:`shapely.make_valid` (lists codes).
    """
    gdf, path = _read(path, layer)
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    if code_column is None:
        code_column, detected_name = _detect_columns(columns, path)
        if name_column is None:
            name_column = detected_name
    for role, col in (("code", code_column), ("name", name_column)):
        if col is not None and col not in gdf.columns:
            raise DataValidationError(
                f"{path}: no column {col!r} for the area {role}s. Columns in the file: "
                f"{columns}. Fix data.area_{role}_column in the pilot config."
            )
    raw = gdf[code_column]
    blank = raw.isna().to_numpy() | (raw.astype(str).str.strip() == "").to_numpy()
    if blank.any():
        rows = (np.flatnonzero(blank) + 1).tolist()[:10]
        raise DataValidationError(
            f"{path}: column {code_column!r} is blank for feature(s) {rows} (1-based). Every "
            "area needs a code."
        )
    codes = raw.astype(str).str.strip()
    dup = codes[codes.duplicated()].unique().tolist()
    if dup:
        raise DataValidationError(
            f"{path}: area code(s) {dup[:10]} appear more than once in {code_column!r}. Each "
            "area must be one feature: dissolve multi-part areas (e.g. QGIS Vector > Geoprocessing "
            "> Dissolve by the code) or pick another code column."
        )
    names = (
        gdf[name_column].astype(str).str.strip().where(gdf[name_column].notna(), codes)
        if name_column is not None
        else codes
    )
    geoms = clean_geometry(gdf, codes, path)
    return gpd.GeoDataFrame(
        {C.AREA: codes.to_numpy(), C.NAME: names.to_numpy()},
        geometry=gpd.GeoSeries(geoms, crs=C.METRIC_CRS),
        crs=C.METRIC_CRS,
    )


def read_outline(path: str | Path, *, layer: str | int | None = None) -> gpd.GeoDataFrame:
    """Read a polygon outline (e.g. the treated area drawn by hand), no code column needed.

    Parameters
    ----------
    path
        A GeoJSON, GeoPackage or Shapefile holding one or more polygons.
    layer
        Layer to read from a multi-layer file.

    Returns
    -------
    geopandas.GeoDataFrame
        Only a ``geometry`` column, EPSG:27700, one row per feature (repaired if invalid).

    Raises
    ------
    DataValidationError, GeometryError
        As :func:`read_boundaries` (missing/empty file, no CRS, non-polygons).
    """
    gdf, path = _read(path, layer)
    labels = pd.Series([f"feature {i + 1}" for i in range(len(gdf))])
    geoms = clean_geometry(gdf, labels, path)
    return gpd.GeoDataFrame(geometry=gpd.GeoSeries(geoms, crs=C.METRIC_CRS), crs=C.METRIC_CRS)
