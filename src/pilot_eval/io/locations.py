"""Where a component of the intervention was delivered: points, lines or polygons.

Schema (locations file)
-----------------------
A GeoJSON, GeoPackage or Shapefile (one layer) of points (e.g. new street lights, venues),
lines (e.g. a Walk & Talk route, a lit path) or polygons (e.g. a cleaned-up area), in any
CRS the file declares (GeoJSON: WGS84). Attribute columns are not read (they may hold names
or free text): only the geometry is kept.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from .. import columns as C
from ..errors import DataValidationError

__all__ = ["KINDS", "read_locations"]

#: Geometry kinds drawn on the map: point, line, polygon.
KINDS = ("point", "line", "polygon")
_KIND = {
    "Point": "point",
    "MultiPoint": "point",
    "LineString": "line",
    "MultiLineString": "line",
    "LinearRing": "line",
    "Polygon": "polygon",
    "MultiPolygon": "polygon",
}


def read_locations(path: str | Path) -> gpd.GeoDataFrame:
    """Read a component's locations: ``kind`` (point / line / polygon), ``geometry``.

    Parameters
    ----------
    path
        The locations file (see the module docstring).

    Returns
    -------
    geopandas.GeoDataFrame
        ``kind`` and ``geometry`` in EPSG:27700, one row per feature; no other column.

    Raises
    ------
    DataValidationError
        Missing or unreadable file, no features, no CRS, an empty or missing geometry, or a
        geometry that is not a point, line or polygon; the message names the feature.
    """
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(
            f"{path}: no such locations file. Check intervention.components[].locations."
        )
    try:
        gdf = gpd.read_file(path, engine="pyogrio", columns=[])
    except Exception as exc:  # pyogrio raises its own error types
        raise DataValidationError(
            f"{path}: not a readable GeoJSON, GeoPackage or Shapefile ({exc})."
        ) from None
    if len(gdf) == 0:
        raise DataValidationError(f"{path}: the file holds no locations (no features).")
    if gdf.crs is None:
        raise DataValidationError(
            f"{path}: the file has no coordinate reference system (CRS); set it (e.g. "
            "EPSG:4326 for longitude-latitude) and save again."
        )
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    bad = np.flatnonzero(
        [g is None or shapely.is_empty(g) or g.geom_type not in _KIND for g in geoms]
    )
    if len(bad):
        i = int(bad[0])
        what = "no geometry" if geoms[i] is None else f"a {geoms[i].geom_type}"
        raise DataValidationError(
            f"{path}: feature {i + 1} has {what}; each location must be a point, a line or a "
            f"polygon ({len(bad)} such feature(s)). Fix or remove it."
        )
    kinds = [_KIND[g.geom_type] for g in geoms]
    out = gpd.GeoDataFrame({"kind": kinds}, geometry=gdf.geometry.values, crs=gdf.crs)
    return out.to_crs(C.METRIC_CRS)
