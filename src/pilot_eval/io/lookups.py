"""LSOA → ward lookups, and rolling LSOA-level counts up to wards.

Three ways in, one lookup shape out (``lsoa``, ``ward``; one row per LSOA):

:func:`lsoa_to_ward`
    Builds the lookup from two sets of boundaries (e.g. from
    :func:`~pilot_eval.io.boundaries.read_boundaries`): each LSOA goes to the ward holding
    the largest part of its area, or the ward its centroid falls in. LSOAs are not always
    nested in wards (boundaries of different years, generalised outlines), so the result
    also gives the ``share`` of each LSOA's area inside its ward and flags ``ambiguous``
    LSOAs.
:func:`read_lookup_csv`
    Reads an official ONS lookup CSV (e.g. "LSOA (2021) to Electoral Ward (2024) to LAD
    (2024) Best Fit Lookup": ``LSOA21CD, LSOA21NM, WD24CD, WD24NM, LAD24CD, …``; or
    ``LSOA11CD … WD19CD …``). ONS best-fit lookups assign each LSOA by its population-weighted
    centroid; prefer them to :func:`lsoa_to_ward` when one exists for the ward year you need.
:func:`aggregate_counts`
    Adds LSOA-level monthly counts (``area, month, category, count``, e.g. the MPS LSOA table
    read by :func:`~pilot_eval.io.mps.read_mps_wide`) up to wards with a lookup.

Lookup CSV schema (:func:`read_lookup_csv`)
-------------------------------------------
Header names are matched ignoring case, spaces and punctuation; other columns are ignored.

==================  ======================================================================
LSOA code column    ``LSOA21CD``, ``LSOA11CD`` (any ``LSOAyyCD``) or ``lsoa_code``; or name
                    it with ``from_column``. Each LSOA once, none blank.
ward code column    ``WD24CD``, ``WD22CD``, ``WD19CD`` (any ``WDyyCD``/``WARDyyCD``) or
                    ``ward_code``; or name it with ``to_column``. None blank.
==================  ======================================================================
"""

from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path
from types import FrameType
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import columns as C
from ..errors import DataQualityWarning, DataValidationError, GeometryError
from .boundaries import clean_geometry
from .population import line_of_record, norm_header, read_text_csv

__all__ = [
    "AMBIGUOUS",
    "LSOA",
    "LOOKUP_COLUMNS",
    "SHARE",
    "WARD",
    "aggregate_counts",
    "lsoa_to_ward",
    "read_lookup_csv",
]

LSOA = "lsoa"
WARD = "ward"
SHARE = "share"
AMBIGUOUS = "ambiguous"
CATEGORY = "category"
#: Columns of every lookup (:func:`read_lookup_csv`; :func:`lsoa_to_ward` adds two more).
LOOKUP_COLUMNS = (LSOA, WARD)
#: Columns of :func:`aggregate_counts`' input and output (the MPS long counts).
COUNT_COLUMNS = (C.AREA, C.MONTH, CATEGORY, C.COUNT)

#: Two shares closer than this (as a fraction of the LSOA's area) are a tie.
_TIE = 1e-9
_FROM_PATTERN = r"lsoa\d{2}cd|lsoa_code"
_TO_PATTERN = r"w(ar)?d\d{2}cd|ward_code"


def _warn(message: str) -> None:
    """Warn, pointing at the first caller outside this module."""
    level = 2
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename == __file__:
        frame, level = frame.f_back, level + 1
    warnings.warn(message, DataQualityWarning, stacklevel=level)


def _listed(items: list[str], n: int = 10) -> str:
    return ", ".join(items[:n]) + (f" … ({len(items)} in all)" if len(items) > n else "")


def _pct(share: float) -> str:
    return f"{share:.0%}" if share >= 0.005 else "<1%"


# ---------------------------------------------------------------------------------------
# lookups from boundaries
# ---------------------------------------------------------------------------------------
def _prepare(gdf: gpd.GeoDataFrame, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Codes and clean polygons in EPSG:27700 of one ``read_boundaries``-shaped frame."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise GeometryError(
            f"the {what} boundaries must be a GeoDataFrame (as returned by read_boundaries), "
            f"got {type(gdf).__name__}."
        )
    if C.AREA not in gdf.columns:
        raise DataValidationError(
            f"the {what} boundaries need an '{C.AREA}' column of codes (the shape "
            f"read_boundaries returns); columns found: {[str(c) for c in gdf.columns]}."
        )
    if len(gdf) == 0:
        raise GeometryError(f"the {what} boundaries hold no areas.")
    if gdf.crs is None:
        raise GeometryError(
            f"the {what} boundaries have no coordinate reference system (CRS). Read them with "
            "read_boundaries, or set it with `gdf.set_crs('EPSG:27700')` (British National "
            "Grid metres) / 'EPSG:4326' (longitude-latitude)."
        )
    if gdf.crs.is_geographic:
        minx, miny, maxx, maxy = gdf.total_bounds
        if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
            raise GeometryError(
                f"the {what} boundaries say their coordinates are longitude/latitude "
                f"({gdf.crs}) but they are far larger (they look like British National Grid "
                "metres). Set their CRS to EPSG:27700."
            )
    raw = gdf[C.AREA]
    codes = raw.astype(str).str.strip()
    blank = raw.isna().to_numpy() | (codes == "").to_numpy()
    if blank.any():
        raise DataValidationError(
            f"the {what} boundaries have blank codes in rows {(np.flatnonzero(blank) + 1)[:10].tolist()} "
            "(1-based). Every area needs a code."
        )
    dup = codes[codes.duplicated()].unique().tolist()
    if dup:
        raise DataValidationError(
            f"the {what} boundaries list code(s) {dup[:10]} more than once. Each area must be "
            "one feature (dissolve multi-part areas by code)."
        )
    labels = codes.reset_index(drop=True)
    geoms = clean_geometry(gdf, labels, f"the {what} boundaries")
    return codes.to_numpy(dtype=object), geoms


def _overlaps(lsoas: np.ndarray, wards: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (LSOA, ward) pair sharing a positive area, and that area (m²)."""
    prepared = wards.copy()
    shapely.prepare(prepared)
    tree = shapely.STRtree(prepared)
    li, wj = tree.query(lsoas, predicate="intersects")
    # Neighbours that only share a boundary cost the most to intersect and add nothing.
    keep = ~shapely.touches(prepared[wj], lsoas[li])
    li, wj = li[keep], wj[keep]
    area = shapely.area(shapely.intersection(lsoas[li], wards[wj]))
    pos = area > 0
    return li[pos], wj[pos], area[pos]


def _inner_centroids(geoms: np.ndarray) -> np.ndarray:
    """Centroids, or a point inside the polygon where the centroid falls outside it."""
    points = shapely.centroid(geoms)
    outside = ~shapely.covers(geoms, points)
    points[outside] = shapely.point_on_surface(geoms[outside])
    return points


def _best_first(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per LSOA ``i``: largest share first, ties by ward code."""
    return pairs.sort_values(["i", "share", "rank"], ascending=[True, False, True], kind="stable")


def lsoa_to_ward(
    lsoas: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
    *,
    method: Literal["largest_overlap", "centroid"] = "largest_overlap",
    min_share: float = 0.5,
) -> pd.DataFrame:
    """Assign each LSOA to one ward from their boundaries.

    Parameters
    ----------
    lsoas, wards
        Boundaries in the :func:`~pilot_eval.io.boundaries.read_boundaries` shape: an
        ``area`` column of unique codes and polygons (``name`` and other columns are
        ignored). Any CRS; both are reprojected to British National Grid (EPSG:27700)
        before areas are measured. Invalid polygons are repaired, with a warning.
    method
        ``"largest_overlap"`` (default): the ward holding the largest part of the LSOA's
        area (ties go to the lower ward code). ``"centroid"``: the ward the LSOA's
        geometric centroid falls in, or, when the centroid lies outside the LSOA (a concave
        or multi-part LSOA), the ward of a point inside it (:func:`shapely.point_on_surface`).
        This is closest to the ONS "best fit" rule, which uses population-weighted
        centroids. A point on a ward boundary goes to the ward holding more of the LSOA.
    min_share
        An LSOA whose ward holds less than this share of its area is flagged ambiguous.
        Between 0 and 1.

    Returns
    -------
    pandas.DataFrame
        One row per LSOA, in the input order:

        ``lsoa`` (str)
            LSOA code.
        ``ward`` (str, NA when no ward is found)
            Ward code.
        ``share`` (float)
            Share of the LSOA's area inside that ward (0 when ``ward`` is NA).
        ``ambiguous`` (bool)
            True when ``share < min_share``, or when another ward holds as much of the LSOA
            or more (an exact tie such as a 50/50 split; with ``method="centroid"`` also a
            centroid falling outside the ward of largest overlap). Always True when ``ward``
            is NA.

    Raises
    ------
    GeometryError
        If an input is not a GeoDataFrame, has no CRS (or longitude/latitude CRS on metre
        coordinates), no areas, or areas without polygons.
    DataValidationError
        If an input has no ``area`` column, or blank or repeated codes.
    ValueError
        If ``method`` or ``min_share`` is not allowed.

    Warns
    -----
    DataQualityWarning
        Naming the LSOAs that lie outside every ward (no overlap; ``method="centroid"``:
        centroid in no ward), and, separately, the number of ambiguous LSOAs with examples.

    Notes
    -----
    Overlaps are computed with a shapely STRtree query and vectorised intersections, so all
    of London (~5,000 LSOAs × ~680 wards) takes a second or two. LSOA and ward boundaries
    from different years (e.g. 2021 LSOAs, 2018 wards) or generalised to different
    tolerances need not nest: expect some LSOAs with shares a little under 1 even where
    they nest in reality, and a few genuinely split between wards. The official ONS
    best-fit lookup (:func:`read_lookup_csv`) is the reference where one exists.
    """
    if method not in ("largest_overlap", "centroid"):
        raise ValueError(f"method must be 'largest_overlap' or 'centroid', got {method!r}")
    if not 0 <= min_share <= 1:
        raise ValueError(f"min_share must be between 0 and 1, got {min_share!r}")
    lcodes, lgeoms = _prepare(lsoas, "LSOA")
    wcodes, wgeoms = _prepare(wards, "ward")
    li, wj, inter = _overlaps(lgeoms, wgeoms)
    rank = np.argsort(np.argsort(wcodes.astype(str), kind="stable"), kind="stable")
    pairs = pd.DataFrame({"i": li, "j": wj, "share": inter / shapely.area(lgeoms)[li]})
    pairs["rank"] = rank[pairs["j"].to_numpy()]
    pairs = _best_first(pairs)

    if method == "largest_overlap":
        chosen = pairs.drop_duplicates("i")
    else:
        tree = shapely.STRtree(wgeoms)
        pi, pj = tree.query(_inner_centroids(lgeoms), predicate="intersects")
        cand = pd.DataFrame({"i": pi, "j": pj}).merge(pairs, on=["i", "j"], how="left")
        cand["share"] = cand["share"].fillna(0.0)
        cand["rank"] = rank[cand["j"].to_numpy()]
        chosen = _best_first(cand).drop_duplicates("i")
    # The best share held by any *other* ward, to flag ties and off-largest centroids.
    others = pairs.merge(chosen[["i", "j"]].rename(columns={"j": "cj"}), on="i")
    other_best = others.loc[others["j"] != others["cj"]].groupby("i")["share"].max()

    n = len(lcodes)
    ward = np.full(n, None, dtype=object)
    share = np.zeros(n)
    ci = chosen["i"].to_numpy()
    ward[ci] = wcodes[chosen["j"].to_numpy()]
    share[ci] = np.minimum(chosen["share"].to_numpy(), 1.0)
    other = np.zeros(n)
    other[other_best.index.to_numpy()] = other_best.to_numpy()
    found = np.zeros(n, dtype=bool)
    found[ci] = True
    ambiguous = ~found | (share < min_share) | (found & (other >= share - _TIE))
    out = pd.DataFrame(
        {
            LSOA: pd.Series(lcodes.astype(str)),
            WARD: pd.Series(list(ward), dtype="str"),
            SHARE: share,
            AMBIGUOUS: ambiguous,
        }
    )

    if (~found).any():
        where = (
            "lie outside every ward"
            if method == "largest_overlap"
            else "have their centroid in no ward"
        )
        _warn(
            f"{int((~found).sum())} of {n} LSOA(s) {where}: {_listed(lcodes[~found].tolist())}. "
            "Their ward is left empty (NA). Check that the LSOA and ward boundaries cover the "
            "same area (e.g. keep only the LSOAs of the wards' borough)."
        )
    flagged = np.flatnonzero(found & ambiguous)
    if len(flagged):
        worst = flagged[np.argsort(share[flagged], kind="stable")]
        examples = [
            f"{lcodes[k]} ({_pct(share[k])} in {ward[k]}"
            + (f", {_pct(other[k])} in another ward)" if other[k] > 0 else ")")
            for k in worst[:5]
        ]
        _warn(
            f"{len(flagged)} of {n} LSOA(s) are not clearly inside one ward (ward holds under "
            f"{min_share:.0%} of the LSOA, or another ward holds as much or more), e.g. "
            f"{'; '.join(examples)}. LSOAs need not nest in wards (different years, "
            "generalised outlines); the 'ambiguous' column flags them. Check these, or use "
            "the official ONS best-fit lookup (read_lookup_csv)."
        )
    return out


# ---------------------------------------------------------------------------------------
# official lookup CSVs
# ---------------------------------------------------------------------------------------
def _pick_column(
    path: Path, columns: list[str], given: str | None, pattern: str, what: str, arg: str
) -> str:
    if given is not None:
        if given in columns:
            return given
        by_norm = {norm_header(c): c for c in columns}
        if norm_header(given) in by_norm:
            return by_norm[norm_header(given)]
        raise DataValidationError(
            f"{path}: no column {given!r} (the {what} codes); the columns found are "
            f"{columns}. Fix {arg}=…"
        )
    hits = [c for c in columns if re.fullmatch(pattern, norm_header(c))]
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise DataValidationError(
            f"{path}: several columns could hold the {what} codes ({hits}); say which with {arg}=…"
        )
    examples = (
        "LSOA21CD, LSOA11CD or lsoa_code"
        if what == "LSOA"
        else ("WD24CD, WD22CD, WD19CD or ward_code")
    )
    raise DataValidationError(
        f"{path}: no column of {what} codes; expected a column such as {examples} (any case). "
        f"The columns found are {columns}. Name it with {arg}=…"
    )


def read_lookup_csv(
    path: str | Path,
    *,
    from_column: str | None = None,
    to_column: str | None = None,
) -> pd.DataFrame:
    """Read an official (ONS) LSOA → ward lookup CSV.

    Parameters
    ----------
    path
        The CSV (UTF-8, with or without a byte-order mark); see the module docstring for
        the columns. Other columns (names, local authority…) are ignored.
    from_column, to_column
        The LSOA and ward code columns, when they cannot be detected (matched ignoring case,
        spaces and punctuation).

    Returns
    -------
    pandas.DataFrame
        ``lsoa``, ``ward`` (str), one row per LSOA in file order.

    Raises
    ------
    DataValidationError
        If the file is missing or unreadable; a code column cannot be found (the message
        lists the columns found and what is expected) or several could be meant; a code
        is blank; or an LSOA appears more than once (the message names the lines).
    """
    path = Path(path)
    df = read_text_csv(path, what="lookup file")
    columns = [str(c) for c in df.columns]
    src = _pick_column(path, columns, from_column, _FROM_PATTERN, "LSOA", "from_column")
    dst = _pick_column(path, columns, to_column, _TO_PATTERN, "ward", "to_column")
    if src == dst:
        raise DataValidationError(
            f"{path}: from_column and to_column are the same column ({src!r})."
        )
    lsoa = df[src].astype(str).str.strip()
    ward = df[dst].astype(str).str.strip()
    for col, values in ((src, lsoa), (dst, ward)):
        blank = np.flatnonzero((values == "").to_numpy())
        if len(blank):
            lines = [line_of_record(path, int(i)) for i in blank[:10]]
            raise DataValidationError(
                f"{path}: column {col!r} is blank on line(s) {lines}"
                f"{' …' if len(blank) > 10 else ''} ({len(blank)} in all). Every row needs "
                "an LSOA code and a ward code."
            )
    dup = lsoa.duplicated(keep=False).to_numpy()
    if dup.any():
        repeated = pd.unique(lsoa[dup])
        parts = []
        for code in repeated[:5]:
            rows = np.flatnonzero((lsoa == code).to_numpy())
            lines = [line_of_record(path, int(i)) for i in rows[:5]]
            wards = pd.unique(ward.iloc[rows]).tolist()
            parts.append(
                f"{code} on lines {lines} (ward{'s' if len(wards) > 1 else ''} {', '.join(wards)})"
            )
        raise DataValidationError(
            f"{path}: {len(repeated)} LSOA code(s) in {src!r} appear more than once: "
            f"{'; '.join(parts)}{' …' if len(repeated) > 5 else ''}. A lookup maps each LSOA "
            "to one ward: use a best-fit LSOA → ward lookup (not an output-area one), or "
            "remove the repeats."
        )
    return pd.DataFrame({LSOA: lsoa.to_numpy(), WARD: ward.to_numpy()})


# ---------------------------------------------------------------------------------------
# rolling counts up
# ---------------------------------------------------------------------------------------
def aggregate_counts(
    counts: pd.DataFrame,
    lookup: pd.DataFrame,
    *,
    on_missing: Literal["error", "drop"] = "error",
) -> pd.DataFrame:
    """Add LSOA-level monthly counts up to wards.

    Parameters
    ----------
    counts
        Long counts ``area`` (LSOA code), ``month``, ``category``, ``count``, e.g. the MPS
        LSOA table from :func:`~pilot_eval.io.mps.read_mps_wide` (``level="lsoa"``). Other
        columns (``area_name``) are dropped. Not modified.
    lookup
        ``lsoa``, ``ward``: from :func:`read_lookup_csv` or :func:`lsoa_to_ward` (LSOAs
        whose ward is NA count as missing). Each LSOA once.
    on_missing
        LSOAs in ``counts`` with no ward in ``lookup``: ``"error"`` (default) raises;
        ``"drop"`` leaves their crimes out, with a warning giving how many.

    Returns
    -------
    pandas.DataFrame
        ``area`` (ward code), ``month``, ``category``, ``count`` (int64): the sum over the
        ward's LSOAs, one row per ward × month × category present in the input, sorted.
        Combinations with no LSOA row are absent (the panel zero-fills them).

    Raises
    ------
    DataValidationError
        If columns are missing, ``count`` has blanks, the lookup repeats an LSOA, or
        (``on_missing="error"``) LSOA codes have no ward; the message lists a few.

    Warns
    -----
    DataQualityWarning
        With ``on_missing="drop"``, the number of crimes and LSOAs dropped; and when the
        lookup flags LSOAs as ``ambiguous`` (:func:`lsoa_to_ward`), how many crimes lie in
        them.
    """
    if on_missing not in ("error", "drop"):
        raise ValueError(f"on_missing must be 'error' or 'drop', got {on_missing!r}")
    for frame, need, name in (
        (counts, COUNT_COLUMNS, "counts"),
        (lookup, LOOKUP_COLUMNS, "lookup"),
    ):
        lacking = [c for c in need if c not in frame.columns]
        if lacking:
            raise DataValidationError(
                f"{name} needs columns {list(need)}; missing {lacking} (columns found: "
                f"{[str(c) for c in frame.columns]})."
            )
    if counts[C.COUNT].isna().any():
        raise DataValidationError(
            f"counts has {int(counts[C.COUNT].isna().sum())} blank count(s); fill or drop them."
        )
    lk = lookup.loc[:, [LSOA, WARD]].copy()
    lk[LSOA] = lk[LSOA].astype(str).str.strip()
    dup = lk.loc[lk[LSOA].duplicated(), LSOA].unique().tolist()
    if dup:
        raise DataValidationError(
            f"lookup lists LSOA(s) {_listed(sorted(dup), 5)} more than once; keep one row per LSOA."
        )
    lk = lk.set_index(LSOA)[WARD]
    codes = counts[C.AREA].astype(str).str.strip()
    ward = codes.map(lk)
    missing = ward.isna().to_numpy()
    if missing.any():
        lost = counts.loc[missing]
        lost_codes = sorted(codes[missing].unique())
        crimes = int(lost[C.COUNT].sum())
        total = int(counts[C.COUNT].sum())
        in_lookup = [c for c in lost_codes if c in lk.index]
        detail = f" ({len(in_lookup)} of them are in the lookup with no ward)" if in_lookup else ""
        msg = (
            f"{len(lost_codes)} LSOA code(s) in the counts have no ward in the lookup"
            f"{detail}: {_listed(lost_codes, 5)}; they hold {crimes:,} of {total:,} crimes. "
            "Check both use the same LSOA codes (MPS LSOA counts use 2021 codes)."
        )
        if on_missing == "error":
            raise DataValidationError(msg + " Or pass on_missing='drop'.")
        _warn(msg + f" Dropped {crimes:,} crimes.")
    if AMBIGUOUS in lookup.columns:
        flagged = lookup.loc[lookup[AMBIGUOUS].fillna(False).astype(bool), LSOA].astype(str)
        hit = codes.isin(set(flagged)).to_numpy() & ~missing
        if hit.any():
            crimes = int(counts.loc[hit, C.COUNT].sum())
            total = int(counts.loc[~missing, C.COUNT].sum())
            _warn(
                f"{crimes:,} of {total:,} crimes ({crimes / total if total else 0:.1%}) lie in "
                f"{codes[hit].nunique()} LSOA(s) the lookup flags as ambiguous (not clearly "
                "inside one ward); each is counted whole in its ward."
            )
    keep = ~missing
    rolled = pd.DataFrame(
        {
            C.AREA: ward[keep].to_numpy(),
            C.MONTH: counts.loc[keep, C.MONTH].to_numpy(),
            CATEGORY: counts.loc[keep, CATEGORY].to_numpy(),
            C.COUNT: counts.loc[keep, C.COUNT].to_numpy(),
        }
    )
    out = rolled.groupby([C.AREA, C.MONTH, CATEGORY], sort=True, as_index=False)[C.COUNT].sum()
    out[C.COUNT] = out[C.COUNT].astype("int64")
    return out.reset_index(drop=True)
