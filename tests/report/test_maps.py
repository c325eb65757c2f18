"""Maps: hand-built areas in EPSG:27700, rendered to HTML and checked (as geopandas tests do)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from pilot_eval.errors import GeometryError
from pilot_eval.report.figures import area_map
from pilot_eval.report.maps import pilot_map


@pytest.fixture
def areas() -> gpd.GeoDataFrame:
    # three 1 km squares near Belvedere (British National Grid)
    x0, y0 = 549000, 178000
    return gpd.GeoDataFrame(
        {
            "area": ["T1", "BUFFER", "C1"],
            "name": ["Pilot", "400 m buffer", "Other"],
            "group": ["treated", "buffer", "comparison"],
        },
        geometry=[
            box(x0, y0, x0 + 1000, y0 + 1000),
            box(x0 + 1000, y0, x0 + 1400, y0 + 1000),
            box(x0 + 1400, y0, x0 + 2400, y0 + 1000),
        ],
        crs="EPSG:27700",
    )


@pytest.fixture
def sites() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "type": ["lighting", "qr_reporting", "other"],
            "description": ["New light", "QR poster", "no position"],
            "longitude": [0.1510, 0.1520, None],
            "latitude": [51.4850, 51.4860, None],
        }
    )


def test_map_renders_areas_sites_and_suppressed_counts(areas, sites):
    counts = pd.DataFrame({"area": ["T1", "BUFFER", "C1"], "crimes_after": [120, 3, 0]})
    html = pilot_map(areas, sites=sites, area_counts=counts, small_count_threshold=5)
    page = html.get_root().render()
    for label in ("Pilot (treated) area", "Displacement buffer", "Comparison area"):
        assert label in page
    # GeoJSON in the page escapes "<" as \u003c
    assert '"crimes_after": "\\u003c5"' in page and '"crimes_after": "120"' in page
    assert '"crimes_after": 3' not in page and '"crimes_after": "3"' not in page
    # the two located sites are drawn, the one without a position is not
    assert page.count("L.circleMarker(") == 2
    assert "51.485" in page and "no position" not in page


def test_map_requires_a_crs(areas):
    with pytest.raises(GeometryError, match="no CRS"):
        pilot_map(areas.set_crs(None, allow_override=True))


def test_map_does_not_modify_inputs(areas, sites):
    a, s = areas.copy(), sites.copy()
    pilot_map(areas, sites=sites)
    pd.testing.assert_frame_equal(pd.DataFrame(areas), pd.DataFrame(a))
    pd.testing.assert_frame_equal(sites, s)


def test_static_area_map_draws_every_group_and_sites(areas, sites):
    fig = area_map(areas, sites=sites)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:3] == ["Comparison area", "Displacement buffer", "Pilot (treated) area"]
    assert "Intervention site" in labels
    assert len(ax.collections) >= 4  # three area layers and the sites


def test_map_refuses_incident_points(areas):
    """A police.uk-like frame (crime_type, no component type) is never drawn as points."""
    from pilot_eval.errors import DataValidationError

    incidents = pd.DataFrame(
        {
            "type": ["Violence and sexual offences"],
            "description": ["x"],
            "longitude": [0.151],
            "latitude": [51.485],
        }
    )
    with pytest.raises(DataValidationError, match="never draw individual incidents"):
        pilot_map(areas, sites=incidents)
