"""Study areas on a hand-built 3 × 3 grid of 1 km squares (EPSG:27700), and point assignment."""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from pilot_eval import columns as C
from pilot_eval.areas import (
    BUFFER_CODE,
    TREATED_CODE,
    assign_points,
    build_areas,
    neighbours_as_buffer,
)
from pilot_eval.errors import ConfigError, DataValidationError, GeometryError

E0, N0, SIDE = 548_000.0, 178_000.0, 1000.0


def _code(row: int, col: int) -> str:
    return f"r{row}c{col}"


@pytest.fixture
def grid() -> gpd.GeoDataFrame:
    """Nine 1 km squares; r1c1 is the middle one."""
    cells = [(r, c) for r in range(3) for c in range(3)]
    return gpd.GeoDataFrame(
        {
            C.AREA: [_code(r, c) for r, c in cells],
            C.NAME: [f"Square {r}{c}" for r, c in cells],
        },
        geometry=[
            box(E0 + SIDE * c, N0 + SIDE * r, E0 + SIDE * (c + 1), N0 + SIDE * (r + 1))
            for r, c in cells
        ],
        crs=C.METRIC_CRS,
    )


def _by_code(areas: gpd.GeoDataFrame) -> dict[str, shapely.Geometry]:
    return dict(zip(areas[C.AREA], areas.geometry, strict=True))


def test_middle_square_treated_with_400_m_buffer(grid):
    before = grid.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        areas = build_areas(grid, treated_codes=["r1c1"], buffer_m=400)
    pd.testing.assert_frame_equal(pd.DataFrame(grid), pd.DataFrame(before))
    assert list(areas.columns) == [C.AREA, C.NAME, C.GROUP, "geometry"]
    assert areas.crs == C.METRIC_CRS
    assert areas[C.GROUP].tolist() == ["treated", "buffer"] + ["comparison"] * 8
    assert areas[C.AREA].iloc[:2].tolist() == ["r1c1", BUFFER_CODE]
    geoms = _by_code(areas)

    # The buffer ring: four 1000 x 400 strips and four quarter circles of radius 400.
    ring = 4 * 1000 * 400 + math.pi * 400**2
    assert geoms[BUFFER_CODE].area == pytest.approx(ring, rel=2e-4)
    assert geoms[BUFFER_CODE].intersection(geoms["r1c1"]).area == pytest.approx(0, abs=1e-6)
    assert geoms["r1c1"].area == pytest.approx(1e6)

    # Comparison squares lose what the buffer covers: a strip or a quarter circle.
    for code in ("r0c1", "r1c0", "r1c2", "r2c1"):
        assert geoms[code].area == pytest.approx(1e6 - 1000 * 400)
    for code in ("r0c0", "r0c2", "r2c0", "r2c2"):
        assert geoms[code].area == pytest.approx(1e6 - math.pi * 400**2 / 4, rel=2e-4)
        assert geoms[code].intersection(geoms[BUFFER_CODE]).area == pytest.approx(0, abs=1e-3)
    # Together the pieces tile the grid exactly, with no overlap.
    assert sum(g.area for g in geoms.values()) == pytest.approx(9e6, rel=1e-9)
    assert shapely.union_all(list(geoms.values())).area == pytest.approx(9e6, rel=1e-9)


def test_no_buffer_and_listed_comparison(grid):
    areas = build_areas(grid, treated_codes=["r1c1"], buffer_m=0, comparison=["r0c0", "r2c2"])
    assert areas[C.AREA].tolist() == ["r1c1", "r0c0", "r2c2"]
    assert BUFFER_CODE not in set(areas[C.AREA])
    assert areas.geometry.area.tolist() == pytest.approx([1e6] * 3)
    assert areas[C.NAME].tolist() == ["Square 11", "Square 00", "Square 22"]


def test_two_treated_squares_share_one_buffer(grid):
    areas = build_areas(grid, treated_codes=["r1c0", "r1c1"], buffer_m=200)
    assert areas[C.GROUP].value_counts().to_dict() == {"treated": 2, "buffer": 1, "comparison": 7}
    ring = 2 * (2000 + 1000) * 200 + math.pi * 200**2
    # The part of the ring beyond the grid's west edge is kept: it is real ground.
    assert _by_code(areas)[BUFFER_CODE].area == pytest.approx(ring, rel=2e-4)


def test_unknown_codes_name_them_and_suggest(grid):
    with pytest.raises(DataValidationError, match=r"\['r1c9'\].*did you mean.*r1c1") as err:
        build_areas(grid, treated_codes=["r1c9"], buffer_m=400)
    assert "Valid codes include" in str(err.value)
    with pytest.raises(DataValidationError, match=r"comparison code\(s\) \['zz'\]"):
        build_areas(grid, treated_codes=["r1c1"], buffer_m=400, comparison=["r0c0", "zz"])
    with pytest.raises(DataValidationError, match="both as treated and as comparison"):
        build_areas(grid, treated_codes=["r1c1"], buffer_m=400, comparison=["r1c1"])


def test_treated_argument_errors(grid):
    with pytest.raises(ConfigError, match="exactly one"):
        build_areas(grid, buffer_m=400)
    with pytest.raises(ConfigError, match="exactly one"):
        build_areas(grid, treated_codes=["r1c1"], treated_polygon=grid.iloc[:1], buffer_m=0)
    with pytest.raises(ConfigError, match="buffer_m"):
        build_areas(grid, treated_codes=["r1c1"], buffer_m=-1)
    with pytest.raises(GeometryError, match="no CRS"):
        build_areas(grid.set_crs(None, allow_override=True), treated_codes=["r1c1"], buffer_m=0)


def test_treated_polygon_in_degrees_covers_middle_square(grid):
    outline = gpd.GeoDataFrame(
        geometry=[box(E0 + 1000, N0 + 1000, E0 + 2000, N0 + 2000)], crs=C.METRIC_CRS
    ).to_crs(C.LONLAT_CRS)
    with pytest.warns(UserWarning, match=r"dropped: \['r1c1'\]"):
        areas = build_areas(grid, treated_polygon=outline, buffer_m=400)
    assert areas[C.AREA].iloc[:2].tolist() == [TREATED_CODE, BUFFER_CODE]
    assert areas[C.NAME].iloc[0] == "Pilot area"
    assert areas[C.GROUP].tolist() == ["treated", "buffer"] + ["comparison"] * 8
    assert areas.geometry.iloc[0].area == pytest.approx(1e6, rel=1e-6)


def test_areas_mostly_inside_the_buffer_are_dropped(grid):
    with pytest.warns(UserWarning, match="4 comparison area") as rec:
        areas = build_areas(grid, treated_codes=["r1c1"], buffer_m=1000)
    for code in ("r0c1", "r1c0", "r1c2", "r2c1"):
        assert code in str(rec[0].message)
    assert sorted(areas.loc[areas[C.GROUP] == "comparison", C.AREA]) == [
        "r0c0",
        "r0c2",
        "r2c0",
        "r2c2",
    ]
    with pytest.raises(GeometryError, match="no comparison area"):
        with pytest.warns(UserWarning):
            build_areas(grid, treated_codes=["r1c1"], buffer_m=2500)


# -- assign_points -----------------------------------------------------------------------------
@pytest.fixture
def areas(grid) -> gpd.GeoDataFrame:
    return build_areas(grid, treated_codes=["r1c1"], buffer_m=400)


def test_assign_known_points(areas):
    pts = pd.DataFrame(
        {
            "crime_id": list("abcdefg"),
            C.X: [E0 + 1500, E0 + 2200, E0 + 2700, E0 + 5000, np.nan, E0 + 2000, E0 + 1000],
            C.Y: [N0 + 1500, N0 + 1500, N0 + 1500, N0 + 1500, np.nan, N0 + 1500, N0 + 200],
        },
        index=[10, 11, 12, 13, 14, 15, 16],  # a non-default index must be kept as is
    )
    before = pts.copy()
    out = assign_points(pts, areas)
    pd.testing.assert_frame_equal(pts, before)
    assert out.index.tolist() == pts.index.tolist()
    assert list(out.columns) == ["crime_id", C.X, C.Y, C.AREA, C.GROUP]
    # middle; buffer ring; outer part of r1c2; outside the grid; no position;
    # on the treated/buffer edge (treated is listed first); on the r0c0/r0c1 edge.
    assert out[C.AREA].iloc[[0, 1, 2, 5, 6]].tolist() == ["r1c1", "BUFFER", "r1c2", "r1c1", "r0c0"]
    assert out[C.GROUP].iloc[[0, 1, 2, 5]].tolist() == ["treated", "buffer", "comparison"] + [
        "treated"
    ]
    assert out[C.AREA].iloc[[3, 4]].isna().all() and out[C.GROUP].iloc[[3, 4]].isna().all()
    assert pd.api.types.is_string_dtype(out[C.AREA])


def test_assign_matches_brute_force(areas):
    rng = np.random.default_rng(7)
    n = 3000
    x = rng.uniform(E0 - 500, E0 + 3500, n)
    y = rng.uniform(N0 - 500, N0 + 3500, n)
    out = assign_points(pd.DataFrame({C.X: x, C.Y: y}), areas)
    polys = list(areas.geometry)
    expected = []
    for px, py in zip(x, y, strict=True):
        hit = [i for i, g in enumerate(polys) if g.intersects(shapely.Point(px, py))]
        expected.append(areas[C.AREA].iloc[hit[0]] if hit else None)
    got = [None if pd.isna(v) else v for v in out[C.AREA]]
    assert got == expected
    assert 0 < sum(v is None for v in got) < n  # some points fall outside the grid


def test_assign_needs_xy(areas):
    with pytest.raises(DataValidationError, match="project_points"):
        assign_points(pd.DataFrame({"longitude": [0.1]}), areas)
    empty = assign_points(pd.DataFrame({C.X: [], C.Y: []}), areas)
    assert len(empty) == 0 and list(empty.columns) == [C.X, C.Y, C.AREA, C.GROUP]


# --- neighbours_as_buffer: area-level counts, where the buffer is whole neighbouring areas ---
@pytest.fixture
def strip() -> gpd.GeoDataFrame:
    """A treated 1 km square, a comparison square 200 m east of it and one 4 km east."""
    return gpd.GeoDataFrame(
        {
            C.AREA: ["T", "NEAR", "FAR"],
            C.NAME: ["Pilot", "Next door", "Far away"],
            C.GROUP: ["treated", "comparison", "comparison"],
        },
        geometry=[
            box(E0, N0, E0 + SIDE, N0 + SIDE),
            box(E0 + 1200, N0, E0 + 2200, N0 + SIDE),
            box(E0 + 5000, N0, E0 + 6000, N0 + SIDE),
        ],
        crs="EPSG:27700",
    )


def test_neighbour_within_distance_becomes_buffer(strip):
    before = strip.copy()
    out = neighbours_as_buffer(strip, distance_m=400)
    assert dict(zip(out[C.AREA], out[C.GROUP], strict=True)) == {
        "T": "treated",
        "NEAR": "buffer",  # 200 m away: within 400 m
        "FAR": "comparison",  # 4 km away: stays a comparison area
    }
    assert out.crs == strip.crs and out.geometry.equals(strip.geometry)
    pd.testing.assert_frame_equal(strip, before)  # a new frame; the input is untouched


def test_buffer_distance_is_inclusive_and_zero_keeps_all(strip):
    assert neighbours_as_buffer(strip, distance_m=200)[C.GROUP].tolist() == [
        "treated",
        "buffer",
        "comparison",
    ]
    assert neighbours_as_buffer(strip, distance_m=0)[C.GROUP].tolist() == [
        "treated",
        "comparison",
        "comparison",
    ]


def test_every_comparison_area_within_distance_is_an_error(strip):
    with pytest.raises(ConfigError, match=r"buffer_m = 5000 m .* lower buffer_m"):
        neighbours_as_buffer(strip, distance_m=5000)


# -- edges (issue 12) ------------------------------------------------------------------------
def _squares():
    import geopandas as gpd
    from shapely.geometry import box

    return gpd.GeoDataFrame(
        {"area": ["E05000001", "E05000002", "E05000003"], "name": ["a", "b", "c"]},
        geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000), box(2000, 0, 3000, 1000)],
        crs="EPSG:27700",
    )


def test_unknown_codes_name_the_boundaries_file_and_suggest(tmp_path):
    from pilot_eval.areas import build_areas
    from pilot_eval.errors import DataValidationError

    src = tmp_path / "wards.geojson"
    with pytest.raises(DataValidationError) as ei:
        build_areas(_squares(), treated_codes=["E0500001"], buffer_m=0, source=src)
    msg = str(ei.value)
    assert msg.startswith("treated.codes:") and str(src) in msg and "'E05000001'" in msg


def test_a_treated_polygon_far_from_every_area_says_so():
    import geopandas as gpd
    from shapely.geometry import box

    from pilot_eval.areas import build_areas
    from pilot_eval.errors import GeometryError

    far = gpd.GeoDataFrame(geometry=[box(250_000, 0, 251_000, 1000)], crs="EPSG:27700")
    with pytest.raises(
        GeometryError, match=r"lies outside every area .*\(247 km from the nearest\)"
    ):
        build_areas(_squares(), treated_polygon=far, buffer_m=0, polygon_source="pilot.geojson")
