"""Component locations (points, lines, polygons) drawn on the static map, by type, with a legend."""

from __future__ import annotations

import geopandas as gpd
import matplotlib
import pytest
from shapely.geometry import LineString, Point, box

import pilot_eval as pe
from pilot_eval.errors import DataValidationError
from pilot_eval.io.locations import read_locations
from pilot_eval.report import all_sections, report_context
from pilot_eval.report.figures import area_map

matplotlib.use("Agg")


def test_reader_keeps_only_geometry_and_refuses_other_kinds(tmp_path):
    p = tmp_path / "x.geojson"
    gpd.GeoDataFrame(
        {"note": ["free text", "more"]},
        geometry=[Point(0.14, 51.49), LineString([(0.14, 51.49), (0.15, 51.49)])],
        crs=4326,
    ).to_file(p)
    got = read_locations(p)
    assert list(got.columns) == ["kind", "geometry"] and list(got["kind"]) == ["point", "line"]
    assert got.crs.to_epsg() == 27700
    with pytest.raises(DataValidationError, match="no such locations file"):
        read_locations(tmp_path / "none.geojson")


def test_map_legend_names_each_component_type():
    areas = gpd.GeoDataFrame(
        {"area": ["A", "B"], "group": ["treated", "comparison"]},
        geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)],
        crs=27700,
    )
    locs = gpd.GeoDataFrame(
        {
            "type": ["lighting", "lighting", "walk_and_talk", "clean_up"],
            "kind": ["point", "point", "line", "polygon"],
        },
        geometry=[
            Point(10, 10),
            Point(20, 20),
            LineString([(5, 5), (90, 90)]),
            box(40, 40, 60, 60),
        ],
        crs=27700,
    )
    labels = {
        "lighting": "Improved lighting",
        "walk_and_talk": "Walk & Talks",
        "clean_up": "Clean-up",
    }
    fig = area_map(areas, locations=locs, location_labels=labels)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert {"Improved lighting", "Walk & Talks", "Clean-up"} <= set(legend)


def test_demo_map_draws_its_component_locations(demo_pilot):
    prepared = pe.prepare(demo_pilot.config_path)
    assert prepared.locations is not None
    assert set(prepared.locations["type"]) == {"lighting", "walk_and_talk", "clean_up"}
    assert set(prepared.locations["kind"]) == {"point", "line", "polygon"}
    ev = pe.evaluate(prepared)
    ctx = report_context(ev, config_path=demo_pilot.config_path)
    impl = next(s for s in all_sections(ctx) if s.id == "implementation")
    fig = next(b for b in impl.blocks if hasattr(b, "alt"))
    assert "where the pilot delivered" in fig.alt and "improved lighting" in fig.alt
