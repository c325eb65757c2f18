"""Before/after density maps: crimes per grid cell, with small counts withheld.

:func:`grid_counts` counts incidents per grid cell (squares or hexagons in EPSG:27700) in a
"before" and an "after" period and withholds every small count; :func:`density_small_multiples`
draws the two periods side by side on one colour scale; :func:`density_alt_text` describes the
figure in words. The figure takes only a :class:`GridCounts`, never incident points, so no
incident location can reach a published map (the rule of :mod:`pilot_eval.report.maps`).

Ground rules: this module reads :mod:`pilot_eval.columns`, :mod:`pilot_eval.results`,
:mod:`pilot_eval._checks`, :mod:`pilot_eval.errors` and the styling of
:mod:`pilot_eval.report.figures`; it does not import the pipeline or the CLI.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
import shapely
from matplotlib.artist import Artist
from matplotlib.cm import ScalarMappable
from matplotlib.collections import PolyCollection
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from .._checks import check_bool, check_option, check_positive, check_whole
from ..columns import GROUP, METRIC_CRS, X, Y
from ..errors import DataValidationError, GeometryError, OptionError
from ..results import Result
from .figures import BUFFER_COLOUR, PLOT_STYLE, TREATED_COLOUR

__all__ = [
    "CELL",
    "PERIODS",
    "GridCounts",
    "Shape",
    "density_alt_text",
    "density_small_multiples",
    "grid_counts",
]

Shape = Literal["square", "hex"]
Period = Literal["before", "after"]

#: The two period labels a point may carry (case and surrounding spaces are ignored).
PERIODS: Final[tuple[str, str]] = ("before", "after")
#: Column of :attr:`GridCounts.cells` holding the cell id.
CELL: Final = "cell"

#: Smallest and largest cell size accepted, in metres.
MIN_CELL_M: Final = 50.0
MAX_CELL_M: Final = 1000.0
#: Most candidate cells one grid may have (a county at 50 m would be millions).
MAX_CANDIDATE_CELLS: Final = 2_000_000
#: A cell on the extent's edge is kept only if its overlap with the extent is wider than
#: this many metres somewhere, so that slivers left by reprojection round-off (an extent
#: taken to EPSG:4326 and back moves about a millimetre) are not cells.
SLIVER_M: Final = 0.1

#: ColorBrewer YlGnBu: sequential, colour-blind safe, light for few crimes and dark for many,
#: and distinct from the red pilot-area outline drawn on top.
CMAP: Final = "YlGnBu"
SUPPRESSED_FACE: Final = "white"
ZERO_FACE: Final = "white"
ZERO_EDGE: Final = "#c8c8c8"
SUPPRESSED_EDGE: Final = "#6f6f6f"
SUPPRESSED_HATCH: Final = "xx"
COMPARISON_EDGE: Final = "#505a5f"

#: Side of a flat-top hexagon with the area of a unit square: (3√3/2)s² = 1.
_HEX_SIDE_PER_M: Final = math.sqrt(2.0 / (3.0 * math.sqrt(3.0)))


# ---------------------------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class GridCounts(Result):
    """Crimes per grid cell in a before and an after period, small counts withheld.

    Built by :func:`grid_counts`.

    Attributes
    ----------
    cells
        GeoDataFrame in :attr:`crs`, one row per cell that overlaps the extent, in reading
        order (north to south, then west to east): ``cell`` (id from the cell's centre in
        whole metres, e.g. ``"E549125N178125"``; stable for a given ``cell_m`` and shape),
        ``geometry``, ``count_before`` and ``count_after`` (nullable ``Int64``; ``<NA>`` where
        withheld) and ``suppressed_before`` / ``suppressed_after`` (True where withheld).
    cell_m
        Cell size in metres: the side of a square, or for hexagons the side of the square
        of the same area (so counts per cell compare across shapes).
    threshold
        Smallest non-zero count shown; counts from 1 to ``threshold - 1`` are withheld.
    crs
        CRS of :attr:`cells` (always ``"EPSG:27700"``).
    shape
        ``"square"`` or ``"hex"``.
    n_dropped
        Points left out because they lie outside every cell or have no coordinates. For the
        analyst's log, not for publication (see Notes of :func:`grid_counts`).
    n_secondary
        Cells withheld although their count could be shown, so that a period's one small
        cell cannot be worked out from a total (complementary suppression).
    """

    cells: gpd.GeoDataFrame
    cell_m: float
    threshold: int
    crs: str
    shape: str
    n_dropped: int
    #: Cells withheld only so that a lone small cell cannot be worked out from a total.
    n_secondary: int = 0

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return len(self.cells)

    def n_suppressed(self, period: Period | None = None) -> int:
        """Cells withheld in ``period``, or in either period when ``period`` is None."""
        if period is None:
            either = self.cells["suppressed_before"] | self.cells["suppressed_after"]
            return int(either.sum())
        check_option("period", period, PERIODS)
        return int(self.cells[f"suppressed_{period}"].sum())

    def tidy(self) -> pd.DataFrame:
        """The publishable table: one row per cell, no geometry, withheld counts ``<NA>``.

        Columns ``cell, count_before, count_after, suppressed_before, suppressed_after``.
        """
        cols = [CELL, "count_before", "count_after", "suppressed_before", "suppressed_after"]
        return pd.DataFrame(self.cells[cols]).reset_index(drop=True).copy()

    def summary(self) -> str:
        """One sentence: the grid, and how many cells are withheld."""
        n = self.n_cells
        text = f"Crimes counted in {n:,} {_cell_words(self, plural=n != 1)}, in each period"
        if self.threshold <= 1:
            return text + "; every count is shown."
        k = self.n_suppressed()
        if k == 0:
            return (
                text + f"; no cell had between 1 and {self.threshold - 1} crimes in a period, "
                "so every count is shown."
            )
        cells = "cell" if k == 1 else "cells"
        verb = "is" if k == 1 else "are"
        kb, ka = self.n_suppressed("before"), self.n_suppressed("after")
        extra = (
            f", or hidden so that a lone small count cannot be worked out ({self.n_secondary:,})"
            if self.n_secondary
            else ""
        )
        return (
            text + f"; {k:,} {cells} with fewer than {self.threshold} crimes in a period"
            f"{extra} {verb} not shown ({kb:,} before, {ka:,} after)."
        )


def _cell_words(grid: GridCounts, *, plural: bool = True) -> str:
    """``"200 m squares"`` or ``"hexagons of 4 hectares (the area of a 200 m square)"``."""
    size = f"{grid.cell_m:g} m"
    if grid.shape == "square":
        return f"{size} square{'s' if plural else ''}"
    ha = grid.cell_m**2 / 1e4
    return f"hexagon{'s' if plural else ''} of {ha:.3g} hectares (the area of a {size} square)"


# ---------------------------------------------------------------------------------------------
# Counting
# ---------------------------------------------------------------------------------------------


def grid_counts(
    points: pd.DataFrame,
    *,
    period: pd.Series | str,
    extent: gpd.GeoDataFrame,
    cell_m: float = 200.0,
    threshold: int,
    shape: Shape = "square",
    complement: bool = True,
) -> GridCounts:
    """Count crimes per grid cell before and after the start, withholding small counts.

    Parameters
    ----------
    points
        One row per crime with ``x`` and ``y`` in EPSG:27700 metres (the incidents frame once
        projected). Rows without coordinates are dropped and counted in ``n_dropped``.
        Not modified.
    period
        Each point's period, ``"before"`` or ``"after"``: the name of a column of ``points``
        or a Series with the same index as ``points``. Any other label (or a missing one) is
        refused. Use two periods of equal length (e.g. 12 months before the start and 12
        after), or the two maps are not comparable.
    extent
        The study areas (any CRS; reprojected to EPSG:27700). The grid covers their bounds and
        keeps the cells that overlap them. Not modified.
    cell_m
        Cell size in metres, from 50 to 1000 (default 200). For hexagons, the side of the
        square of the same area.
    threshold
        Smallest non-zero count that may be shown (the pilot config's
        ``report.small_count_threshold``; a whole number of at least 1).
    shape
        ``"square"`` (default) or ``"hex"`` (flat-top hexagons).
    complement
        Withhold a second cell when a period has exactly one small one (default; see Notes).
        False only to study the primary rule alone.

    Returns
    -------
    GridCounts
        The cells with their counts and flags, and the number of points dropped.

    Raises
    ------
    OptionError
        ``cell_m`` outside 50–1000 m (or too small for the extent), ``threshold`` not a whole
        number of at least 1, an unknown ``shape``, or ``period`` neither a column name nor a
        Series.
    GeometryError
        ``extent`` is not a GeoDataFrame or GeoSeries, has no CRS, or has no area.
    DataValidationError
        ``points`` lacks ``x`` or ``y``, has non-numeric coordinates or period labels other
        than before/after, the ``period`` Series is not aligned to ``points``, or every point
        looks like longitude/latitude rather than EPSG:27700 metres.

    Notes
    -----
    **Privacy rule.** In each period, a cell's count from 1 to ``threshold - 1`` is withheld
    (``<NA>``, flagged in ``suppressed_before`` / ``suppressed_after``); zeros and counts of
    ``threshold`` or more are shown. It is the rule of
    :func:`pilot_eval.report.privacy.suppress_small_counts`: a map of a few streets with one
    to four violence-against-women-and-girls offences can point to a household or a person,
    and the people in those records have not agreed to be identified.

    **Complementary disclosure.** Withholding a cell is only safe if its value cannot be
    worked out from what is published alongside it. Here only per-period counts are
    published: no before-minus-after differences, no ratios and no totals (neither
    :meth:`GridCounts.tidy`, :meth:`GridCounts.summary`, the figure nor the alt text carries
    one). So a cell withheld in one period and shown in the other reveals nothing more about
    the withheld value than that it lies between 1 and ``threshold - 1``, because no published
    figure combines the two periods. The argument fails if a total of the same points is
    published elsewhere: that total minus the shown cells gives the withheld cells' sum,
    which is the exact value when only one cell is withheld in a period. So when a period has
    exactly one withheld cell, a second one is withheld too (complementary suppression): the
    smallest cell with at least ``2 * threshold - 1`` crimes, so that their sum leaves the
    small cell anywhere from 1 to ``threshold - 1`` (every non-zero cell of the period when
    there is no such cell). Still, do not publish the grid's total, or ``n_dropped`` next to
    the number of points given.

    **Cell size.** Cells of 150–250 m are a common choice in UK crime mapping: a few streets
    across, small enough to show where crimes concentrate, large enough that most cells hold
    several crimes a year. police.uk has already moved each crime to an anonymous "snap point"
    on a nearby street, so cells much smaller than 100 m mostly map snap points; below 50 m a
    cell approaches a single address and is refused.

    **Grid.** Squares are aligned to multiples of ``cell_m`` in EPSG:27700 and hexagons to a
    lattice anchored at its origin, so the same cells come back for any extent. A cell is
    half-open (a point on the line between two squares counts in the one to its east or
    north). A cell is kept when it overlaps the extent by more than a sliver (somewhere wider
    than 10 cm, :data:`SLIVER_M`), so reprojection round-off does not add a ring of cells; a
    point in such a sliver is dropped. A cell counts every point inside it, including points
    just beyond the extent's edge.
    """
    check_option("shape", shape, get_args(Shape))
    complement = check_bool(complement, "complement")
    cell = _check_cell_m(cell_m)
    threshold = check_whole(threshold, "threshold", minimum=1)
    labels = _period_labels(points, period)
    x, y = _point_xy(points)
    area = _extent_union(extent)

    lattice = _square_lattice if shape == "square" else _hex_lattice
    geoms, cx, cy, locate = lattice(area.bounds, cell)
    keep = _overlapping(geoms, area)
    order = np.lexsort((cx[keep], -cy[keep]))  # north to south, then west to east
    keep = keep[order]

    where = np.full(len(geoms), -1, dtype=np.int64)
    where[keep] = np.arange(len(keep))
    candidate = locate(x, y)
    idx = np.where(candidate >= 0, where[np.maximum(candidate, 0)], -1)
    inside = idx >= 0
    if len(x) and not inside.any():
        _refuse_lonlat(x, y)

    data: dict[str, object] = {
        CELL: _cell_ids(cx[keep], cy[keep]),
    }
    secondary = 0
    for p in PERIODS:
        n = np.bincount(idx[inside & (labels == p)], minlength=len(keep))
        small = (n > 0) & (n < threshold)
        if complement:
            small = _with_complement(small, n, threshold)
        secondary += int(small.sum() - ((n > 0) & (n < threshold)).sum())
        shown = pd.array(n, dtype="Int64")
        shown[small] = pd.NA
        data[f"count_{p}"] = shown
        data[f"suppressed_{p}"] = small
    cols = [CELL, "count_before", "count_after", "suppressed_before", "suppressed_after"]
    cells = gpd.GeoDataFrame(
        {c: data[c] for c in cols}, geometry=geoms[keep], crs=METRIC_CRS
    ).reset_index(drop=True)
    return GridCounts(
        cells=cells,
        cell_m=cell,
        threshold=threshold,
        crs=METRIC_CRS,
        shape=shape,
        n_dropped=int((~inside).sum()),
        n_secondary=secondary,
    )


def _with_complement(small: np.ndarray, n: np.ndarray, threshold: int) -> np.ndarray:
    """Add a complementary cell when exactly one cell of a period is withheld.

    With one withheld cell, a published total of the same points would give its value by
    subtraction. A second withheld cell with at least ``2 * threshold - 1`` crimes makes the
    pair's sum useless: whatever the sum, the small cell could be anything from 1 to
    ``threshold - 1``. The smallest such cell is chosen (least information lost); if there
    is none, every non-zero cell of the period is withheld.
    """
    if small.sum() != 1:
        return small
    big = np.flatnonzero(n >= 2 * threshold - 1)
    out = small.copy()
    if len(big):
        out[big[np.argmin(n[big])]] = True
    else:
        out[n > 0] = True
    return out


def _check_cell_m(cell_m: object) -> float:
    v = check_positive(cell_m, "cell_m")
    if not (MIN_CELL_M <= v <= MAX_CELL_M):
        raise OptionError(
            f"cell_m must be from {MIN_CELL_M:g} to {MAX_CELL_M:g} metres (150–250 is usual for "
            f"crime maps), got {cell_m!r}: smaller cells approach single addresses, larger "
            "ones hide where crimes are."
        )
    return v


def _period_labels(points: pd.DataFrame, period: object) -> np.ndarray:
    """Each point's period as an array of ``"before"`` / ``"after"``."""
    if not isinstance(points, pd.DataFrame):
        raise DataValidationError(
            f"points must be a DataFrame with columns {X!r} and {Y!r}, not {type(points).__name__}"
        )
    if isinstance(period, str):
        if period not in points.columns:
            raise DataValidationError(
                f"period={period!r} is not a column of points (columns: {list(points.columns)})"
            )
        raw = points[period]
    elif isinstance(period, pd.Series):
        if not period.index.equals(points.index):
            raise DataValidationError(
                "the period Series must have the same index as points (one label per point, "
                f"in the same order); got {len(period)} labels for {len(points)} points"
            )
        raw = period
    else:
        raise OptionError(
            "period must be the name of a column of points or a Series aligned to points, "
            f"not {type(period).__name__}"
        )
    text = raw.astype("string").str.strip().str.lower()
    bad = ~text.isin(PERIODS).fillna(False).to_numpy(bool)
    if bad.any():
        seen = pd.unique(raw[bad].astype(object).map(repr))[:5]
        raise DataValidationError(
            f"{int(bad.sum()):,} point(s) have a period other than 'before' or 'after' (e.g. "
            f"{', '.join(seen)}); label every point, e.g. "
            "np.where(post, 'after', 'before'), and leave out points in neither period"
        )
    return text.to_numpy(dtype=object)


def _point_xy(points: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    missing = [c for c in (X, Y) if c not in points.columns]
    if missing:
        raise DataValidationError(
            f"points have no column(s) {missing}: they need {X!r} and {Y!r} in EPSG:27700 "
            "metres (project longitude/latitude first)"
        )
    try:
        x = pd.to_numeric(points[X], errors="raise").to_numpy(dtype=float, na_value=np.nan)
        y = pd.to_numeric(points[Y], errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise DataValidationError(f"points' {X!r} and {Y!r} must be numbers: {exc}") from exc
    return x, y


def _refuse_lonlat(x: np.ndarray, y: np.ndarray) -> None:
    """Every point missed the grid: say so if they look like degrees, not metres."""
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.any() and (np.abs(x[ok]) <= 180).all() and (np.abs(y[ok]) <= 90).all():
        raise DataValidationError(
            f"points' {X!r} and {Y!r} look like longitude and latitude: project them to "
            "EPSG:27700 metres first"
        )


def _extent_union(extent: object) -> shapely.Geometry:
    if isinstance(extent, gpd.GeoDataFrame):
        series = extent.geometry
    elif isinstance(extent, gpd.GeoSeries):
        series = extent
    else:
        raise GeometryError(
            f"extent must be a GeoDataFrame of the study areas, not {type(extent).__name__}"
        )
    if series.crs is None:
        raise GeometryError(
            "extent has no CRS: set it (e.g. extent.set_crs('EPSG:27700')) so the grid can be "
            "laid in British National Grid metres"
        )
    geoms = series.to_crs(METRIC_CRS).to_numpy()
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    union = shapely.union_all(shapely.make_valid(geoms)) if len(geoms) else shapely.Polygon()
    if shapely.is_empty(union) or shapely.area(union) <= 0:
        raise GeometryError("extent has no area: give the study areas' polygons")
    return union


Locate = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _check_size(n: int, cell: float) -> None:
    if n > MAX_CANDIDATE_CELLS:
        raise OptionError(
            f"cell_m={cell:g} over this extent would lay {n:,} cells (at most "
            f"{MAX_CANDIDATE_CELLS:,}): use a larger cell_m or a smaller extent"
        )


def _square_lattice(
    bounds: tuple[float, float, float, float], cell: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Locate]:
    """Squares aligned to multiples of ``cell`` covering ``bounds``, and a point locator."""
    minx, miny, maxx, maxy = bounds
    i0, i1 = math.floor(minx / cell), math.floor(maxx / cell)
    j0, j1 = math.floor(miny / cell), math.floor(maxy / cell)
    ni, nj = i1 - i0 + 1, j1 - j0 + 1
    _check_size(ni * nj, cell)
    ii, jj = np.meshgrid(np.arange(i0, i1 + 1), np.arange(j0, j1 + 1), indexing="ij")
    x0, y0 = ii.ravel() * cell, jj.ravel() * cell  # flat index = (i - i0) * nj + (j - j0)
    geoms = shapely.box(x0, y0, x0 + cell, y0 + cell)

    def locate(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        i = np.floor(x / cell) - i0
        j = np.floor(y / cell) - j0
        ok = (i >= 0) & (i < ni) & (j >= 0) & (j < nj)  # False for NaN
        out = np.full(len(x), -1, dtype=np.int64)
        out[ok] = (i[ok] * nj + j[ok]).astype(np.int64)
        return out

    return geoms, x0 + cell / 2, y0 + cell / 2, locate


def _hex_lattice(
    bounds: tuple[float, float, float, float], cell: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Locate]:
    """Flat-top hexagons of area ``cell²`` covering ``bounds``, and a point locator.

    Columns ``c`` are ``1.5 s`` apart (``s`` the side); rows ``r`` are ``√3 s`` apart, odd
    columns shifted up by half a row ("odd-q" offset coordinates), anchored at (0, 0).
    """
    s = cell * _HEX_SIDE_PER_M
    dx, dy = 1.5 * s, math.sqrt(3.0) * s
    minx, miny, maxx, maxy = bounds
    c0, c1 = math.floor(minx / dx) - 1, math.ceil(maxx / dx) + 1
    r0, r1 = math.floor(miny / dy) - 1, math.ceil(maxy / dy) + 1
    nc, nr = c1 - c0 + 1, r1 - r0 + 1
    _check_size(nc * nr, cell)
    grid_c, grid_r = np.meshgrid(np.arange(c0, c1 + 1), np.arange(r0, r1 + 1), indexing="ij")
    cc, rr = grid_c.ravel(), grid_r.ravel()  # flat index = (c - c0) * nr + (r - r0)
    cx = cc * dx
    cy = (rr + 0.5 * (cc & 1)) * dy
    angles = np.arange(7) * (np.pi / 3.0)  # 7 vertices: the ring closed
    ring = np.stack([cx[:, None] + s * np.cos(angles), cy[:, None] + s * np.sin(angles)], axis=-1)
    geoms = shapely.polygons(ring)

    def locate(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        # Points far outside the lattice are clipped first so the casts below cannot overflow.
        ok = np.isfinite(x) & np.isfinite(y) & (np.abs(x) < 1e12) & (np.abs(y) < 1e12)
        q = np.where(ok, (2.0 / 3.0) * x / s, 0.0)
        r = np.where(ok, (-x / 3.0 + math.sqrt(3.0) / 3.0 * y) / s, 0.0)
        # Cube rounding: round each cube coordinate, then fix the one that moved most.
        qa, ra = np.round(q), np.round(r)
        sa = np.round(-q - r)
        eq, er, es = np.abs(qa - q), np.abs(ra - r), np.abs(sa + q + r)
        fix_q = (eq > er) & (eq > es)
        fix_r = ~fix_q & (er > es)
        qa = np.where(fix_q, -ra - sa, qa)
        ra = np.where(fix_r, -qa - sa, ra)
        col = qa.astype(np.int64)
        row = ra.astype(np.int64) + (col - (col & 1)) // 2
        c, rw = col - c0, row - r0
        ok &= (c >= 0) & (c < nc) & (rw >= 0) & (rw < nr)
        return np.where(ok, c * nr + rw, -1)

    return geoms, cx, cy, locate


def _overlapping(geoms: np.ndarray, area: shapely.Geometry) -> np.ndarray:
    """Indices of ``geoms`` overlapping ``area`` by more than a sliver, in input order."""
    shapely.prepare(area)
    hit = np.flatnonzero(shapely.intersects(geoms, area))
    inner = shapely.within(geoms[hit], area)
    edge = hit[~inner]
    overlap = shapely.intersection(geoms[edge], area)
    wide = ~shapely.is_empty(shapely.buffer(overlap, -SLIVER_M / 2))
    return np.sort(np.concatenate([hit[inner], edge[wide]]))


def _cell_ids(cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
    ex = pd.Series(np.rint(cx).astype(np.int64)).astype(str)
    no = pd.Series(np.rint(cy).astype(np.int64)).astype(str)
    return ("E" + ex + "N" + no).to_numpy(dtype=object)


# ---------------------------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------------------------


def _check_grid(grid: object, what: str) -> GridCounts:
    if not isinstance(grid, GridCounts):
        raise OptionError(
            f"{what} takes a GridCounts from grid_counts(), not {type(grid).__name__}: it "
            "draws counts per cell, never incident points"
        )
    return grid


def _check_labels(labels: object) -> tuple[str, str]:
    if (
        not isinstance(labels, tuple)
        or len(labels) != 2
        or not all(isinstance(t, str) and t.strip() for t in labels)
    ):
        raise OptionError(
            "labels must be two non-empty strings, e.g. ('12 months before the start', "
            f"'12 months after'), got {labels!r}"
        )
    return labels[0], labels[1]


def _vertices(cells: gpd.GeoDataFrame) -> list[np.ndarray]:
    """Each cell's exterior ring as an (n, 2) array (cells are simple polygons)."""
    coords, index = shapely.get_coordinates(
        shapely.get_exterior_ring(cells.geometry.to_numpy()), return_index=True
    )
    return np.split(coords, np.flatnonzero(np.diff(index)) + 1)


def _shown_max(grid: GridCounts) -> int:
    """Largest count shown in either period (0 when none is)."""
    values = pd.concat([grid.cells["count_before"], grid.cells["count_after"]]).dropna()
    return int(values.max()) if len(values) else 0


def density_small_multiples(
    grid: GridCounts,
    *,
    areas: gpd.GeoDataFrame,
    labels: tuple[str, str] = ("Before the start", "After the start"),
    title: str = "",
) -> Figure:
    """Two maps side by side: crimes per cell before and after the start, on one scale.

    Parameters
    ----------
    grid
        Counts from :func:`grid_counts`. The figure takes nothing else of the crimes: it
        cannot draw incident points.
    areas
        Areas GeoDataFrame with ``group`` (treated / buffer / comparison; any CRS set). The
        pilot (treated) area is outlined on top of the cells, the buffer dashed and
        comparison areas in thin grey.
    labels
        Panel titles for the before and after periods. Put the periods' lengths in them
        (``("12 months before the start", "12 months after")``): the two periods should be of
        equal length, or the darker map may only mean the longer period.
    title
        Figure title (none by default).

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot; save it with ``fig.savefig(path)``.

    Raises
    ------
    OptionError
        ``grid`` is not a :class:`GridCounts` or ``labels`` is not two non-empty strings.
    GeometryError
        ``areas`` has no CRS.
    DataValidationError
        ``areas`` has no ``group`` column.

    Notes
    -----
    Every cell is one of three things, each named on the figure: "No crimes" (white), "Fewer
    than N (not shown)" (white with a grey cross-hatch: withheld under the small-count rule of
    :func:`grid_counts`, its value never drawn, not even as a colour) or a colour on the one
    linear scale both panels share, from the threshold to the largest count shown in either
    period (ColorBrewer YlGnBu without its palest fifth: sequential, colour-blind safe, and
    clear of white), with one colour bar labelled "Crimes per cell". The caption gives the
    cell size; there are no axis ticks, and the aspect is equal.
    """
    grid = _check_grid(grid, "density_small_multiples")
    before_label, after_label = _check_labels(labels)
    if not isinstance(areas, gpd.GeoDataFrame) or areas.crs is None:
        raise GeometryError(
            "areas must be a GeoDataFrame with a CRS (e.g. areas.set_crs('EPSG:27700'))"
        )
    if GROUP not in areas.columns:
        raise DataValidationError(
            f"areas have no {GROUP!r} column (treated / buffer / comparison) to outline"
        )
    outlines = areas.to_crs(grid.crs)
    cells = grid.cells
    verts = _vertices(cells)
    norm = _norm(grid)
    cmap = _colormap()
    minx, miny, maxx, maxy = cells.total_bounds
    pad = 0.25 * grid.cell_m

    def polys(mask: np.ndarray, **kw) -> PolyCollection:
        return PolyCollection([v for v, m in zip(verts, mask, strict=True) if m], **kw)

    with mpl.rc_context(PLOT_STYLE):
        fig = Figure(figsize=(11, _figure_height(maxx - minx, maxy - miny)), layout="constrained")
        rows = fig.add_gridspec(2, 2, height_ratios=(1.0, 0.2))
        first = fig.add_subplot(rows[0, 0])
        axes = [first, fig.add_subplot(rows[0, 1], sharex=first, sharey=first)]
        foot = fig.add_subplot(rows[1, :])  # legend and caption
        foot.set_axis_off()
        for ax, period, label in zip(axes, PERIODS, (before_label, after_label), strict=True):
            hidden = cells[f"suppressed_{period}"].to_numpy(bool)
            counts = cells[f"count_{period}"].to_numpy(dtype=float, na_value=np.nan)
            zero = ~hidden & (counts == 0)
            some = ~hidden & (counts > 0)
            layers = {
                "zero": polys(zero, facecolors=ZERO_FACE, edgecolors=ZERO_EDGE, linewidths=0.4),
                "shown": polys(
                    some,
                    array=counts[some],
                    cmap=cmap,
                    norm=norm,
                    edgecolors="white",
                    linewidths=0.4,
                ),
                "suppressed": polys(
                    hidden,
                    facecolors=SUPPRESSED_FACE,
                    edgecolors=SUPPRESSED_EDGE,
                    linewidths=0.4,
                    hatch=SUPPRESSED_HATCH,
                ),
            }
            for z, (kind, layer) in enumerate(layers.items(), start=1):
                layer.set_gid(f"density-{period}-{kind}")
                layer.set_zorder(z)
                ax.add_collection(layer)
            _draw_outlines(ax, outlines)
            ax.set_xlim(minx - pad, maxx + pad)
            ax.set_ylim(miny - pad, maxy + pad)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel("")  # geopandas labels the axes with the CRS's units
            ax.set_ylabel("")
            for side in ax.spines.values():
                side.set_visible(False)
            ax.set_title(label)
            ax.set_label(f"density-{period}")
        bar = fig.colorbar(
            ScalarMappable(norm=norm, cmap=cmap),
            ax=list(axes),
            location="bottom",
            shrink=0.45,
            aspect=30,
            label="Crimes per cell",
        )
        bar.locator = MaxNLocator(integer=True)
        bar.update_ticks()
        foot.legend(
            handles=_legend_handles(grid, outlines),
            loc="upper center",
            ncol=3,
            frameon=False,
            fontsize=11,
        )
        foot.text(
            0.5,
            0.0,
            textwrap.fill(_caption(grid), 120),
            transform=foot.transAxes,
            ha="center",
            va="bottom",
            fontsize=10,
        )
        if title:
            fig.suptitle(title)
    return fig


def _figure_height(width_m: float, height_m: float) -> float:
    """Inches: two 5-inch-wide maps of the grid's shape, plus titles, colour bar and legend."""
    return float(np.clip(5.0 * height_m / max(width_m, 1.0), 2.5, 8.0) + 2.9)


def _colormap() -> ListedColormap:
    """YlGnBu without its palest fifth, so the lowest shown count stands out from white."""
    return ListedColormap(mpl.colormaps[CMAP](np.linspace(0.2, 1.0, 256)), name=f"{CMAP}_shown")


def _norm(grid: GridCounts) -> Normalize:
    """One linear scale for both panels: from the threshold (or 1) to the largest shown count."""
    low = max(grid.threshold, 1)
    return Normalize(vmin=float(low), vmax=float(max(_shown_max(grid), low + 1)))


#: How each group of areas is outlined, drawn in this order (the pilot area last, on top).
_OUTLINES: Final[dict[str, dict[str, Any]]] = {
    "comparison": {"color": COMPARISON_EDGE, "linewidth": 0.8},
    "buffer": {"color": BUFFER_COLOUR, "linewidth": 1.4, "linestyle": "--"},
    "treated": {"color": TREATED_COLOUR, "linewidth": 2.5},
}


def _draw_outlines(ax, areas: gpd.GeoDataFrame) -> None:
    """Comparison areas thin grey, the buffer dashed, the pilot area bold red on top."""
    for z, (group, style) in enumerate(_OUTLINES.items(), start=4):
        part = areas[areas[GROUP] == group]
        if not part.empty:
            part.boundary.plot(ax=ax, zorder=z, **style)


def _legend_handles(grid: GridCounts, areas: gpd.GeoDataFrame) -> list[Artist]:
    from .maps import GROUP_LABEL

    handles: list[Artist] = [Patch(facecolor=ZERO_FACE, edgecolor=ZERO_EDGE, label="No crimes")]
    if grid.threshold > 1:
        handles.append(
            Patch(
                facecolor=SUPPRESSED_FACE,
                edgecolor=SUPPRESSED_EDGE,
                hatch=SUPPRESSED_HATCH,
                label=f"Fewer than {grid.threshold} (not shown)"
                if not grid.n_secondary
                else f"Not shown (fewer than {grid.threshold}, or hidden to protect one)",
            )
        )
    groups = set(areas[GROUP].astype(str))
    for group in ("treated", "buffer", "comparison"):
        if group in groups:
            handles.append(Line2D([], [], label=GROUP_LABEL[group], **_OUTLINES[group]))
    return handles


def _caption(grid: GridCounts) -> str:
    shape = "square" if grid.shape == "square" else "hexagon"
    if grid.shape == "square":
        size = f"Each square is {grid.cell_m:g} m across ({grid.cell_m**2 / 1e4:.3g} hectares)."
    else:
        size = (
            f"Each hexagon covers {grid.cell_m**2 / 1e4:.3g} hectares, the area of a "
            f"{grid.cell_m:g} m square."
        )
    rule = ""
    if grid.threshold > 1:
        rule = (
            f" A hatched {shape} had between 1 and {grid.threshold - 1} crimes in that period"
            + (
                ", or was hidden so that such a count cannot be worked out from a total"
                if grid.n_secondary
                else ""
            )
            + "; its count is not shown to protect the people involved."
        )
    return f"{size} Both maps use the same colour scale.{rule}"


# ---------------------------------------------------------------------------------------------
# Alt text
# ---------------------------------------------------------------------------------------------

_COMPASS: Final = (
    ("south-west", "south", "south-east"),
    ("west", "centre", "east"),
    ("north-west", "north", "north-east"),
)


def _where(grid: GridCounts, rows: pd.Index) -> list[str]:
    """Compass part of the grid each of ``rows`` lies in (3 × 3 split of the grid's bounds)."""
    minx, miny, maxx, maxy = grid.cells.total_bounds
    c = grid.cells.geometry.loc[rows].centroid
    col = np.clip(((c.x - minx) / max(maxx - minx, 1e-9) * 3).astype(int), 0, 2)
    row = np.clip(((c.y - miny) / max(maxy - miny, 1e-9) * 3).astype(int), 0, 2)
    return [_COMPASS[r][k] for r, k in zip(row, col, strict=True)]


def density_alt_text(
    grid: GridCounts,
    *,
    labels: tuple[str, str] = ("Before the start", "After the start"),
) -> str:
    """Plain-English alternative text for :func:`density_small_multiples`.

    Uses only the counts that are shown: where the highest cells are in each period, how
    many cells had no crimes or at least the threshold, and how many are withheld.

    Parameters
    ----------
    grid
        Counts from :func:`grid_counts`.
    labels
        The panel titles given to the figure.

    Returns
    -------
    str
    """
    grid = _check_grid(grid, "density_alt_text")
    names = _check_labels(labels)
    n = grid.n_cells
    unit = "square" if grid.shape == "square" else "hexagon"
    parts = [
        f"Two maps side by side of crimes counted in {n:,} {_cell_words(grid, plural=n != 1)}, "
        f"{names[0].lower()} (left) and {names[1].lower()} (right), on the same colour scale."
    ]
    for period, name in zip(PERIODS, names, strict=True):
        counts = grid.cells[f"count_{period}"]
        shown = counts.dropna()
        k = grid.n_suppressed(period)  # type: ignore[arg-type]
        zero = int((shown == 0).sum())
        bits: list[str] = []
        top = int(shown.max()) if len(shown) else 0
        if top > 0:
            rows = shown.index[shown == top]
            places = sorted(set(_where(grid, rows)), key=_compass_order)
            many = len(rows)
            bits.append(
                f"the highest count shown is {top:,} crimes, in {many:,} "
                f"{unit if many == 1 else unit + 's'} ({', '.join(places)} of the map)"
            )
            big = int((shown >= max(grid.threshold, 1)).sum())
            if grid.threshold > 1:
                bits.append(f"{big:,} had {grid.threshold} or more crimes")
        else:
            bits.append("no cell shows a count above zero")
        bits.append(f"{zero:,} had none")
        if k:
            bits.append(
                f"{k:,} with fewer than {grid.threshold} crimes"
                + (" (or hidden to protect one)" if grid.n_secondary else "")
                + f" {'is' if k == 1 else 'are'} hatched and not shown"
            )
        parts.append(f"{name}: " + "; ".join(bits) + ".")
    return " ".join(parts)


def _compass_order(place: str) -> int:
    flat = [p for row in reversed(_COMPASS) for p in row]
    return flat.index(place)
