"""Density grids and small-multiple maps: hand-built geometries in EPSG:27700 (as geopandas'
tests do), exact per-cell counts, the small-count rule, and the rendered figure's artists."""

from __future__ import annotations

import io
import math
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.text import Text
from shapely.geometry import box

from pilot_eval.errors import DataValidationError, GeometryError, OptionError
from pilot_eval.report.density import (
    SUPPRESSED_HATCH,
    GridCounts,
    density_alt_text,
    density_small_multiples,
    grid_counts,
)

X0, Y0 = 549000.0, 178000.0  # a 1 km square near Belvedere, on the 250 m lattice
CELL = 250.0


def _basic(*args, **kwargs):
    """The primary rule alone (complementary suppression has its own test below)."""
    return grid_counts(*args, complement=False, **kwargs)


def centre(i: int, j: int) -> tuple[float, float]:
    """Centre of the 250 m cell i columns east and j rows north of the square's SW corner."""
    return X0 + CELL * i + CELL / 2, Y0 + CELL * j + CELL / 2


def cell_id(i: int, j: int) -> str:
    x, y = centre(i, j)
    return f"E{x:.0f}N{y:.0f}"


def at(i: int, j: int, n: int, period: str) -> list[tuple[float, float, str]]:
    """n points spread inside cell (i, j), none on an edge."""
    x, y = centre(i, j)
    return [(x - 100 + 200 * (k + 1) / (n + 1), y + 30 * ((k % 3) - 1), period) for k in range(n)]


#: Cells (i, j) -> (before, after), all others 0. A: shown before; B: 3 before (withheld),
#: 6 after (one on B's west edge, which is A's east edge: cells are half-open, so it is B's);
#: C: 5 before (exactly the threshold, shown), 4 after (withheld); D: 12 after.
EXPECTED = {
    (0, 0): (7, 0),
    (1, 0): (3, 6),
    (2, 2): (5, 4),
    (3, 3): (0, 12),
}


@pytest.fixture
def extent() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"area": ["T1"], "group": ["treated"]},
        geometry=[box(X0, Y0, X0 + 1000, Y0 + 1000)],
        crs="EPSG:27700",
    )


@pytest.fixture
def points() -> pd.DataFrame:
    rows = (
        at(0, 0, 7, "before")
        + at(1, 0, 3, "before")
        + at(1, 0, 5, "after")
        + [(X0 + CELL, Y0 + 100, "after")]  # on the line between A and B
        + at(2, 2, 5, "before")
        + at(2, 2, 4, "after")
        + at(3, 3, 12, "after")
        + [(X0 - 500, Y0 + 500, "before"), (X0 + 2000, Y0 + 0.5, "after")]  # outside
        + [(np.nan, Y0 + 10, "after")]  # no coordinates
    )
    return pd.DataFrame(rows, columns=["x", "y", "period"])


@pytest.fixture
def grid(points, extent) -> GridCounts:
    return _basic(points, period="period", extent=extent, cell_m=CELL, threshold=5)


@pytest.fixture
def areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "area": ["T1", "BUFFER", "C1"],
            "group": ["treated", "buffer", "comparison"],
        },
        geometry=[
            box(X0 + 250, Y0 + 250, X0 + 750, Y0 + 750),
            box(X0, Y0, X0 + 1000, Y0 + 1000).difference(
                box(X0 + 250, Y0 + 250, X0 + 750, Y0 + 750)
            ),
            box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000),
        ],
        crs="EPSG:27700",
    )


def by_cell(grid: GridCounts) -> pd.DataFrame:
    return grid.tidy().set_index("cell")


# ---------------------------------------------------------------------------------------------
# grid_counts
# ---------------------------------------------------------------------------------------------


def test_square_grid_has_sixteen_aligned_cells(grid, extent):
    cells = grid.cells
    assert len(cells) == 16 and cells["cell"].is_unique
    assert cells.crs == "EPSG:27700" and grid.crs == "EPSG:27700"
    np.testing.assert_allclose(cells.area, CELL * CELL)
    assert shapely.equals(shapely.union_all(cells.geometry.to_numpy()), extent.geometry.iloc[0])
    assert set(cells["cell"]) == {cell_id(i, j) for i in range(4) for j in range(4)}
    # reading order: north-west cell first, south-east last
    assert cells["cell"].iloc[0] == cell_id(0, 3) and cells["cell"].iloc[-1] == cell_id(3, 0)


def test_exact_counts_and_small_counts_withheld(grid):
    t = by_cell(grid)
    a, b, c, d = (cell_id(*k) for k in EXPECTED)
    assert t.loc[a, "count_before"] == 7 and t.loc[a, "count_after"] == 0
    assert t.loc[b, "count_after"] == 6  # the edge point counts in B, not A
    assert t.loc[c, "count_before"] == 5  # exactly the threshold is shown
    assert t.loc[d, "count_before"] == 0 and t.loc[d, "count_after"] == 12
    # withheld: B before (3) and C after (4)
    assert pd.isna(t.loc[b, "count_before"]) and bool(t.loc[b, "suppressed_before"])
    assert pd.isna(t.loc[c, "count_after"]) and bool(t.loc[c, "suppressed_after"])
    assert not t.loc[b, "suppressed_after"] and not t.loc[c, "suppressed_before"]
    assert t["suppressed_before"].sum() == 1 and t["suppressed_after"].sum() == 1
    # every other cell is zero in both periods, shown as 0 (not withheld)
    rest = t.drop(index=[a, b, c, d])
    assert len(rest) == 12
    assert (rest["count_before"] == 0).all() and (rest["count_after"] == 0).all()
    assert not rest[["suppressed_before", "suppressed_after"]].to_numpy().any()


def test_tidy_is_publishable(grid):
    t = grid.tidy()
    assert list(t.columns) == [
        "cell",
        "count_before",
        "count_after",
        "suppressed_before",
        "suppressed_after",
    ]
    assert "geometry" not in t and not isinstance(t, gpd.GeoDataFrame)
    assert str(t["count_before"].dtype) == "Int64" and str(t["count_after"].dtype) == "Int64"
    shown = pd.concat([t["count_before"], t["count_after"]]).dropna().astype(int)
    assert 3 not in set(shown) and 4 not in set(shown)  # the withheld values are absent
    assert sorted(set(shown)) == [0, 5, 6, 7, 12]
    t.loc[0, "count_before"] = 99  # a copy: the result is not changed
    assert grid.cells.loc[0, "count_before"] != 99


def test_points_outside_and_unlocated_are_dropped_and_counted(grid, points):
    assert grid.n_dropped == 3
    t = by_cell(grid)
    kept_shown = int(t["count_before"].sum() + t["count_after"].sum())
    withheld = 3 + 4
    assert kept_shown + withheld + grid.n_dropped == len(points)


def test_summary_names_cell_size_and_withheld_cells(grid):
    text = grid.summary()
    assert "16 250 m squares" in text
    assert "2 cells with fewer than 5 crimes in a period are not shown (1 before, 1 after)" in text
    assert str(grid) == text
    d = grid.to_dict()
    assert d["cell_m"] == 250.0 and d["threshold"] == 5 and "cells" not in d


def test_threshold_one_shows_everything(points, extent):
    g = _basic(points, period="period", extent=extent, cell_m=CELL, threshold=1)
    t = by_cell(g)
    assert t.loc[cell_id(1, 0), "count_before"] == 3 and t.loc[cell_id(2, 2), "count_after"] == 4
    assert not t[["suppressed_before", "suppressed_after"]].to_numpy().any()
    assert "every count is shown" in g.summary()


def test_extent_in_lonlat_gives_the_same_grid(points, extent, grid):
    g = _basic(points, period="period", extent=extent.to_crs("EPSG:4326"), cell_m=CELL, threshold=5)
    assert g.crs == "EPSG:27700" and g.cells.crs == "EPSG:27700"
    pd.testing.assert_frame_equal(g.tidy(), grid.tidy())
    assert g.n_dropped == grid.n_dropped


def test_period_as_a_series_and_labels_case_insensitive(points, extent, grid):
    labels = points["period"].str.upper().str.pad(8)  # " BEFORE", "   AFTER"
    g = _basic(
        points.drop(columns="period"), period=labels, extent=extent, cell_m=CELL, threshold=5
    )
    pd.testing.assert_frame_equal(g.tidy(), grid.tidy())


def test_extent_without_crs_is_refused(points, extent):
    with pytest.raises(GeometryError, match="no CRS"):
        _basic(
            points, period="period", extent=extent.set_crs(None, allow_override=True), threshold=5
        )


def test_extent_without_area_is_refused(points):
    line = gpd.GeoDataFrame(geometry=[shapely.LineString([(X0, Y0), (X0 + 1000, Y0)])], crs=27700)
    with pytest.raises(GeometryError, match="no area"):
        _basic(points, period="period", extent=line, threshold=5)
    with pytest.raises(GeometryError, match="GeoDataFrame"):
        _basic(points, period="period", extent=box(0, 0, 1, 1), threshold=5)  # type: ignore[arg-type]


@pytest.mark.parametrize("cell_m", [0, -200, 49.9, 1000.5, float("nan"), float("inf"), "200", True])
def test_bad_cell_size_is_refused(points, extent, cell_m):
    with pytest.raises(OptionError, match="cell_m"):
        _basic(points, period="period", extent=extent, cell_m=cell_m, threshold=5)


@pytest.mark.parametrize("threshold", [0, -1, 2.5, "5", True, None])
def test_bad_threshold_is_refused(points, extent, threshold):
    with pytest.raises(OptionError, match="threshold"):
        _basic(points, period="period", extent=extent, threshold=threshold)


def test_bad_shape_and_period_are_refused(points, extent):
    with pytest.raises(OptionError, match="Did you mean 'hex'"):
        _basic(points, period="period", extent=extent, threshold=5, shape="hexagon")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="period"):
        _basic(points, period=3, extent=extent, threshold=5)  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="not a column"):
        _basic(points, period="when", extent=extent, threshold=5)
    with pytest.raises(DataValidationError, match="same index"):
        _basic(points, period=points["period"].iloc[1:], extent=extent, threshold=5)
    odd = points.assign(period=points["period"].replace({"after": "during"}))
    with pytest.raises(DataValidationError, match="'during'"):
        _basic(odd, period="period", extent=extent, threshold=5)
    unlabelled = points.assign(period=points["period"].where(points.index != 0))
    with pytest.raises(DataValidationError, match="1 point"):
        _basic(unlabelled, period="period", extent=extent, threshold=5)


def test_bad_points_are_refused(points, extent):
    with pytest.raises(DataValidationError, match="'x'"):
        _basic(points.drop(columns="x"), period="period", extent=extent, threshold=5)
    with pytest.raises(DataValidationError, match="numbers"):
        _basic(points.assign(y="north"), period="period", extent=extent, threshold=5)
    lonlat = points.assign(x=0.15, y=51.48)
    with pytest.raises(DataValidationError, match="longitude and latitude"):
        _basic(lonlat, period="period", extent=extent, threshold=5)


def test_inputs_are_not_modified(points, extent):
    p0, e0 = points.copy(), extent.copy()
    _basic(points, period="period", extent=extent.to_crs(4326), threshold=5, cell_m=CELL)
    _basic(points, period=points["period"], extent=extent, threshold=5, shape="hex")
    pd.testing.assert_frame_equal(points, p0)
    assert_geodataframe_equal(extent, e0)


def test_huge_grids_are_refused(points):
    county = gpd.GeoDataFrame(geometry=[box(400000, 100000, 600000, 300000)], crs=27700)
    with pytest.raises(OptionError, match="larger cell_m"):
        _basic(points, period="period", extent=county, cell_m=50, threshold=5)


def test_grid_is_stable_across_extents(points, extent):
    """Cells of a sub-extent are cells of the full grid (aligned to multiples of cell_m)."""
    small = gpd.GeoDataFrame(geometry=[box(X0 + 260, Y0 + 10, X0 + 740, Y0 + 480)], crs=27700)
    full = _basic(points, period="period", extent=extent, cell_m=CELL, threshold=5)
    part = _basic(points, period="period", extent=small, cell_m=CELL, threshold=5)
    assert set(part.cells["cell"]) == {cell_id(1, 0), cell_id(2, 0), cell_id(1, 1), cell_id(2, 1)}
    pd.testing.assert_frame_equal(
        by_cell(part), by_cell(full).loc[by_cell(part).index], check_like=True
    )


def test_cells_touching_the_extent_are_not_kept(points):
    """An extent ending on a cell edge keeps no cell beyond it (touching is not overlapping)."""
    half = gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 500, Y0 + 500)], crs=27700)
    g = _basic(points, period="period", extent=half, cell_m=CELL, threshold=1)
    assert len(g.cells) == 4


# ---------------------------------------------------------------------------------------------
# Hexagons
# ---------------------------------------------------------------------------------------------


def _uniform_points(n: int, seed: int, bounds=(X0, Y0, X0 + 1000, Y0 + 1000)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = bounds
    return pd.DataFrame(
        {
            "x": rng.uniform(minx, maxx, n),
            "y": rng.uniform(miny, maxy, n),
            "period": rng.choice(["before", "after"], n),
        }
    )


def _true_counts(points: pd.DataFrame, cells: gpd.GeoDataFrame) -> pd.DataFrame:
    """Independent count: which cell polygon contains each point (a geopandas spatial join)."""
    pts = gpd.GeoDataFrame(
        points[["period"]], geometry=gpd.points_from_xy(points["x"], points["y"]), crs=27700
    )
    joined = gpd.sjoin(pts, cells[["cell", "geometry"]], predicate="within", how="inner")
    out = joined.groupby(["cell", "period"]).size().unstack("period")
    return out.reindex(index=cells["cell"], columns=["before", "after"]).fillna(0).astype(int)


def test_hex_grid_covers_the_extent_and_conserves_points(extent):
    pts = _uniform_points(2000, seed=3)
    g = _basic(pts, period="period", extent=extent, cell_m=CELL, threshold=1, shape="hex")
    cells = g.cells
    assert cells["cell"].is_unique
    np.testing.assert_allclose(cells.area, CELL * CELL)  # same area as a 250 m square
    assert all(len(c) == 7 for c in cells.exterior.map(lambda r: r.coords))  # hexagons
    union = shapely.union_all(cells.geometry.to_numpy())
    assert extent.geometry.iloc[0].difference(union).area < 1e-3
    # every kept cell overlaps the extent
    assert (cells.intersection(extent.geometry.iloc[0]).area > 1.0).all()
    assert g.n_dropped == 0
    t = by_cell(g)
    assert int(t["count_before"].sum() + t["count_after"].sum()) == len(pts)
    truth = _true_counts(pts, cells)
    np.testing.assert_array_equal(t["count_before"].to_numpy(int), truth["before"].to_numpy())
    np.testing.assert_array_equal(t["count_after"].to_numpy(int), truth["after"].to_numpy())


def test_hex_summary_and_caption_name_the_shape(extent):
    pts = _uniform_points(300, seed=4)
    g = _basic(pts, period="period", extent=extent, cell_m=200, threshold=5, shape="hex")
    assert "hexagons of 4 hectares (the area of a 200 m square)" in g.summary()


# ---------------------------------------------------------------------------------------------
# The figure
# ---------------------------------------------------------------------------------------------


def _map_axes(fig):
    return [ax for ax in fig.axes if ax.get_label().startswith("density-")]


def _collection(ax, kind: str) -> PolyCollection | None:
    found = [c for c in ax.collections if str(c.get_gid()).endswith(f"-{kind}")]
    return found[0] if found else None


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text)]


def test_figure_two_panels_one_scale_hatched_withheld_cells(grid, areas):
    fig = density_small_multiples(grid, areas=areas, title="Violence per cell (synthetic)")
    FigureCanvasAgg(fig).draw()
    axes = _map_axes(fig)
    assert [ax.get_label() for ax in axes] == ["density-before", "density-after"]
    before, after = (_collection(ax, "shown") for ax in axes)
    assert before is not None and after is not None
    assert before.norm.vmin == after.norm.vmin == 5
    assert before.norm.vmax == after.norm.vmax == 12  # the largest count shown
    assert before.cmap.name == after.cmap.name
    # colours only for shown non-zero counts; the withheld values are never in the arrays
    assert sorted(before.get_array().tolist()) == [5, 7]
    assert sorted(after.get_array().tolist()) == [6, 12]
    for ax in axes:
        hatched = [c for c in ax.collections if c.get_hatch()]
        assert len(hatched) == 1 and hatched[0].get_hatch() == SUPPRESSED_HATCH
        assert len(hatched[0].get_paths()) == 1  # one withheld cell per period
        assert ax.get_xticks().size == 0 and ax.get_yticks().size == 0
        assert ax.get_aspect() == 1.0
        zero = _collection(ax, "zero")
        assert zero is not None and len(zero.get_paths()) == 13
    assert axes[0].get_xlim() == axes[1].get_xlim() and axes[0].get_ylim() == axes[1].get_ylim()
    texts = _texts(fig)
    assert "Fewer than 5 (not shown)" in texts and "Crimes per cell" in texts
    assert {"Pilot (treated) area", "Displacement buffer", "Comparison area"} <= set(texts)
    assert "Before the start" in texts and "After the start" in texts
    assert "Violence per cell (synthetic)" in texts
    assert any("Each square is 250 m across" in t for t in texts)
    # never a point: no scatter (PathCollection) anywhere in the figure
    assert fig.findobj(PathCollection) == []


def test_figure_outlines_the_pilot_area_on_top(grid, areas):
    fig = density_small_multiples(grid, areas=areas)
    ax = _map_axes(fig)[0]
    red = [c for c in ax.collections if c.get_linewidth()[0] == 2.5]
    assert len(red) == 1
    cells_top = max(c.get_zorder() for c in ax.collections if c.get_gid())
    assert red[0].get_zorder() > cells_top


def test_figure_saves_to_png(grid, areas, tmp_path):
    fig = density_small_multiples(
        grid, areas=areas.to_crs(4326), labels=("12 months before", "12 months after")
    )
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    path = tmp_path / "density.png"
    fig.savefig(path)
    assert path.stat().st_size > 10_000
    assert {"12 months before", "12 months after"} <= set(_texts(fig))


def test_figure_takes_only_grid_counts(points, grid, areas):
    with pytest.raises(OptionError, match="never incident points"):
        density_small_multiples(points, areas=areas)  # type: ignore[arg-type]
    with pytest.raises(GeometryError, match="CRS"):
        density_small_multiples(grid, areas=areas.set_crs(None, allow_override=True))
    with pytest.raises(DataValidationError, match="'group'"):
        density_small_multiples(grid, areas=areas.drop(columns="group"))
    with pytest.raises(OptionError, match="labels"):
        density_small_multiples(grid, areas=areas, labels=("Only one",))  # type: ignore[arg-type]


def test_figure_when_nothing_can_be_shown(extent, areas):
    pts = pd.DataFrame(
        {"x": [X0 + 10, X0 + 20], "y": [Y0 + 10, Y0 + 20], "period": ["before", "after"]}
    )
    g = _basic(pts, period="period", extent=extent, cell_m=CELL, threshold=5)
    fig = density_small_multiples(g, areas=areas)
    FigureCanvasAgg(fig).draw()
    norm = _collection(_map_axes(fig)[0], "shown").norm
    assert norm.vmin == 5 and norm.vmax > norm.vmin
    assert "no cell shows a count above zero" in density_alt_text(g)


# ---------------------------------------------------------------------------------------------
# Alt text
# ---------------------------------------------------------------------------------------------


def test_alt_text_uses_only_shown_values(grid):
    text = density_alt_text(grid)
    assert "250 m squares" in text
    assert "Before the start: the highest count shown is 7 crimes, in 1 square (south-west" in text
    assert "After the start: the highest count shown is 12 crimes, in 1 square (north-east" in text
    assert "1 with fewer than 5 crimes is hatched and not shown" in text
    assert "13 had none" in text
    numbers = set(re.findall(r"\d+", text))
    assert not numbers & {"3", "4"}  # the withheld counts appear nowhere


def test_alt_text_names_ties_and_labels(extent):
    pts = pd.DataFrame(
        at(0, 3, 6, "before") + at(3, 0, 6, "before") + at(1, 1, 5, "after"),
        columns=["x", "y", "period"],
    )
    g = _basic(pts, period="period", extent=extent, cell_m=CELL, threshold=5)
    text = density_alt_text(g, labels=("12 months before", "12 months after"))
    assert "12 months before: the highest count shown is 6 crimes, in 2 squares" in text
    assert "(north-west, south-east of the map)" in text
    with pytest.raises(OptionError):
        density_alt_text(pts)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Property: shown + withheld + dropped accounts for every point
# ---------------------------------------------------------------------------------------------

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies


@hypothesis.settings(max_examples=40, deadline=None)
@hypothesis.given(
    xy=st.lists(
        st.tuples(st.integers(-300, 1299), st.integers(-300, 1299), st.booleans()),
        max_size=150,
    ),
    cell_m=st.sampled_from([50, 100, 125, 200, 250, 333, 1000]),
    threshold=st.integers(1, 8),
    shape=st.sampled_from(["square", "hex"]),
)
def test_counts_account_for_every_point(xy, cell_m, threshold, shape):
    extent = gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 1000, Y0 + 1000)], crs=27700)
    pts = pd.DataFrame(
        {
            # half-metre offsets: never on a square's edge (cells are whole metres apart)
            "x": [X0 + a + 0.5 for a, _, _ in xy],
            "y": [Y0 + b + 0.5 for _, b, _ in xy],
            "period": ["after" if p else "before" for _, _, p in xy],
        }
    )
    g = _basic(pts, period="period", extent=extent, cell_m=cell_m, threshold=threshold, shape=shape)
    truth = _true_counts(pts, g.cells)
    total = 0
    for period in ("before", "after"):
        shown = g.cells[f"count_{period}"]
        hidden = g.cells[f"suppressed_{period}"].to_numpy(bool)
        true = truth[period].to_numpy()
        np.testing.assert_array_equal(
            shown.to_numpy(dtype=float, na_value=math.nan)[~hidden], true[~hidden]
        )
        assert ((true[hidden] >= 1) & (true[hidden] < threshold)).all()
        assert shown[hidden].isna().all()
        total += int(true.sum())
    assert total + g.n_dropped == len(pts)
    inside = (
        (pts["x"] > X0) & (pts["x"] < X0 + 1000) & (pts["y"] > Y0) & (pts["y"] < Y0 + 1000)
    ).sum()
    assert total >= inside  # every point inside the extent is in some cell


def test_a_lone_small_cell_gets_a_complementary_one_so_no_total_reveals_it():
    """One cell of 2 and the rest large: a published total would give the 2 by subtraction."""
    import geopandas as gpd
    import shapely

    from pilot_eval.report.density import grid_counts

    extent = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1000, 250)], crs="EPSG:27700")
    xs = [125.0] * 2 + [375.0] * 9 + [625.0] * 12 + [875.0] * 30  # cells of 2, 9, 12, 30
    pts = pd.DataFrame({"x": xs, "y": [125.0] * len(xs), "period": "before"})
    g = grid_counts(pts, period="period", extent=extent, cell_m=250, threshold=5)
    before = g.cells.set_index("cell")["count_before"]
    hidden = set(before[before.isna()].index)
    # the 2 is withheld, and so is the smallest cell of at least 2 x 5 - 1 = 9 crimes
    assert hidden == {"E125N125", "E375N125"}, before
    assert g.n_secondary == 1
    # whatever total is known, 2 + 9 = 11 leaves the small cell anywhere in 2..4 given the
    # big one is >= 9, and in 1..4 given only that it is >= 5: not pinned down
    assert before["E625N125"] == 12 and before["E875N125"] == 30
    # with two small cells no complement is needed
    g2 = grid_counts(
        pd.DataFrame(
            {"x": [125.0, 125.0, 375.0, 875.0] + [875.0] * 9, "y": 125.0, "period": "before"}
        ),
        period="period",
        extent=extent,
        cell_m=250,
        threshold=5,
    )
    assert g2.n_secondary == 0 and g2.n_suppressed("before") == 2
    assert "hidden" not in g2.summary() and "hidden" in g.summary()
