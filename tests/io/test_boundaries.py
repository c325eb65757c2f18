"""Reading area boundaries: column detection, CRS handling, repairs and errors."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import Polygon, box

from pilot_eval import columns as C
from pilot_eval.errors import DataValidationError, GeometryError
from pilot_eval.io.boundaries import read_boundaries, read_outline
from shared_data import need_shared

BEXLEY_WARDS = "data/boundaries/bexley_wards_2018.geojson"
E0, N0 = 548_000.0, 178_000.0  # near Belvedere, British National Grid metres


def _squares(n: int = 3) -> list[Polygon]:
    return [box(E0 + 1000 * i, N0, E0 + 1000 * (i + 1), N0 + 1000) for i in range(n)]


def _frame(columns: dict, geoms, crs=C.METRIC_CRS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=list(geoms), crs=crs)


def test_geojson_in_lonlat_with_ons_ward_columns(tmp_path: Path):
    gdf = _frame({"wd19cd": ["W1", "W2", "W3"], "wd19nm": ["A", "B", "C"]}, _squares())
    path = tmp_path / "wards.geojson"
    gdf.to_crs(C.LONLAT_CRS).to_file(path, driver="GeoJSON")
    out = read_boundaries(path)
    assert list(out.columns) == [C.AREA, C.NAME, "geometry"]
    assert out.crs == C.METRIC_CRS
    assert out[C.AREA].tolist() == ["W1", "W2", "W3"]
    assert out[C.NAME].tolist() == ["A", "B", "C"]
    # Back in metres: each square is 1 km² (to within the round trip through degrees).
    assert out.geometry.area.tolist() == pytest.approx([1e6] * 3, rel=1e-6)
    assert out.geometry.iloc[0].centroid.x == pytest.approx(E0 + 500, abs=0.01)


def test_geopackage_picks_the_finest_code_column(tmp_path: Path):
    gdf = _frame(
        {
            "LAD22CD": ["E09000004"] * 3,
            "MSOA21CD": ["M1", "M1", "M2"],
            "LSOA21CD": ["L1", "L2", "L3"],
            "LSOA21NM": ["Bexley 001A", "Bexley 001B", "Bexley 002A"],
        },
        _squares(),
    )
    path = tmp_path / "lsoa.gpkg"
    gdf.to_file(path, layer="lsoa21", driver="GPKG")
    out = read_boundaries(path)
    assert out[C.AREA].tolist() == ["L1", "L2", "L3"]
    assert out[C.NAME].tolist() == ["Bexley 001A", "Bexley 001B", "Bexley 002A"]


def test_shapefile_area_code_and_case_insensitive_code_name(tmp_path: Path):
    path = tmp_path / "areas.shp"
    _frame({"area_code": ["D1", "D2", "D3"], "area_name": list("xyz")}, _squares()).to_file(path)
    assert read_boundaries(path)[C.NAME].tolist() == list("xyz")
    path2 = tmp_path / "plain.geojson"
    _frame({"Code": ["a", "b", "c"], "Name": list("XYZ")}, _squares()).to_file(path2)
    out = read_boundaries(path2)
    assert out[C.AREA].tolist() == ["a", "b", "c"] and out[C.NAME].tolist() == list("XYZ")


def test_explicit_columns_and_code_as_name(tmp_path: Path):
    path = tmp_path / "x.geojson"
    _frame({"ref": [10, 20, 30], "label": ["p", "q", "r"]}, _squares()).to_file(path)
    with pytest.raises(DataValidationError, match=r"could not tell.*\['ref', 'label'\]"):
        read_boundaries(path)
    out = read_boundaries(path, code_column="ref")
    assert out[C.AREA].tolist() == ["10", "20", "30"]  # codes are text
    assert out[C.NAME].tolist() == ["10", "20", "30"]  # no name column: the code
    assert read_boundaries(path, code_column="ref", name_column="label")[C.NAME].tolist() == [
        "p",
        "q",
        "r",
    ]
    with pytest.raises(DataValidationError, match=r"no column 'nope' for the area names"):
        read_boundaries(path, code_column="ref", name_column="nope")


def test_ambiguous_code_columns(tmp_path: Path):
    path = tmp_path / "two.geojson"
    _frame({"WD19CD": list("abc"), "WD22CD": list("def")}, _squares()).to_file(path)
    with pytest.raises(DataValidationError, match="several columns"):
        read_boundaries(path)
    assert read_boundaries(path, code_column="WD22CD")[C.AREA].tolist() == list("def")


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_missing_crs_is_a_geometry_error(tmp_path: Path):
    path = tmp_path / "nocrs.shp"
    _frame({"code": list("abc")}, _squares(), crs=None).to_file(path)
    assert not path.with_suffix(".prj").exists()
    with pytest.raises(GeometryError, match=r"nocrs\.shp: the file has no coordinate reference"):
        read_boundaries(path)


def test_metres_declared_as_degrees(tmp_path: Path):
    path = tmp_path / "bng.geojson"
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "a"},
                "geometry": shapely.geometry.mapping(_squares(1)[0]),
            }
        ],
    }
    path.write_text(json.dumps(fc))  # no "crs" member: GeoJSON means degrees
    with pytest.raises(GeometryError, match="EPSG:27700"):
        read_boundaries(path)


def test_bow_tie_repaired_with_warning(tmp_path: Path):
    bow = Polygon([(E0, N0), (E0 + 200, N0 + 200), (E0 + 200, N0), (E0, N0 + 200), (E0, N0)])
    assert not bow.is_valid
    path = tmp_path / "bow.gpkg"
    _frame({"code": ["GOOD", "BOW"]}, [_squares(1)[0], bow]).to_file(path)
    with pytest.warns(UserWarning, match=r"repaired 1 invalid geometry.*\['BOW'\]"):
        out = read_boundaries(path)
    fixed = out.geometry.iloc[1]
    assert fixed.is_valid and fixed.geom_type in ("Polygon", "MultiPolygon")
    assert fixed.area == pytest.approx(2 * 100 * 200 / 2)  # two triangles of 100 x 200 / 2
    assert out.geometry.iloc[0].area == pytest.approx(1e6)


def test_duplicate_blank_and_empty(tmp_path: Path):
    path = tmp_path / "dup.geojson"
    _frame({"code": ["a", "b", "a"]}, _squares()).to_file(path)
    with pytest.raises(DataValidationError, match=r"\['a'\] appear more than once"):
        read_boundaries(path)
    path = tmp_path / "blank.geojson"
    _frame({"code": ["a", None, "c"]}, _squares()).to_file(path)
    with pytest.raises(DataValidationError, match=r"blank for feature\(s\) \[2\]"):
        read_boundaries(path)
    path = tmp_path / "empty.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(DataValidationError, match="no areas"):
        read_boundaries(path)
    with pytest.raises(DataValidationError, match="no such boundaries file"):
        read_boundaries(tmp_path / "missing.gpkg")


def test_multi_layer_geopackage_needs_a_layer(tmp_path: Path):
    path = tmp_path / "multi.gpkg"
    _frame({"code": list("abc")}, _squares()).to_file(path, layer="one")
    _frame({"code": list("de")}, _squares(2)).to_file(path, layer="two")
    with pytest.raises(DataValidationError, match=r"2 layers.*layer="):
        read_boundaries(path)
    assert read_boundaries(path, layer="two")[C.AREA].tolist() == ["d", "e"]


def test_outline_needs_no_code_and_input_untouched(tmp_path: Path):
    path = tmp_path / "outline.geojson"
    gdf = _frame({"whatever": [1]}, [_squares(1)[0]]).to_crs(C.LONLAT_CRS)
    gdf.to_file(path)
    before = path.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = read_outline(path)
    assert list(out.columns) == ["geometry"] and out.crs == C.METRIC_CRS
    assert out.geometry.iloc[0].area == pytest.approx(1e6, rel=1e-6)
    assert path.read_bytes() == before


@pytest.mark.shared
def test_real_bexley_wards():
    out = read_boundaries(need_shared(BEXLEY_WARDS) / BEXLEY_WARDS)
    assert len(out) == 17 and out.crs == C.METRIC_CRS
    belvedere = out.loc[out[C.AREA] == "E05011218"]
    assert belvedere[C.NAME].tolist() == ["Belvedere"]
    # Belvedere ward is about 5 km² and lies north of Bexleyheath near 549,000 E.
    assert 3e6 < belvedere.geometry.area.iloc[0] < 7e6
    assert 545_000 < belvedere.geometry.centroid.x.iloc[0] < 552_000
