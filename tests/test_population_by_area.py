"""Residents of the study areas: by code, or added up by place from smaller areas."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from pilot_eval.areas import population_by_area
from pilot_eval.errors import DataValidationError


def _areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "area": ["W1", "W2", "BUFFER"],
            "group": ["treated", "comparison", "buffer"],
            "geometry": [box(0, 0, 100, 100), box(100, 0, 200, 100), box(-10, -10, 0, 0)],
        },
        crs=27700,
    )


def test_by_code_leaves_out_the_buffer():
    pop = pd.DataFrame({"area": ["W1", "W2", "X"], "population": [10.0, 20.0, 5.0]})
    out = population_by_area(pop, _areas())
    assert out.to_dict("list") == {
        "area": ["W1", "W2"],
        "group": ["treated", "comparison"],
        "population": [10.0, 20.0],
    }


def test_small_areas_add_up_by_place():
    # Four "LSOAs", two in each ward (2011 codes: the population file's own vintage).
    small = gpd.GeoDataFrame(
        {
            "area": ["L1", "L2", "L3", "L4"],
            "geometry": [
                box(0, 0, 50, 100),
                box(50, 0, 100, 100),
                box(100, 0, 150, 100),
                box(150, 0, 200, 100),
            ],
        },
        crs=27700,
    )
    pop = pd.DataFrame({"area": ["L1", "L2", "L3", "L4"], "population": [1.0, 2.0, 3.0, 4.0]})
    out = population_by_area(pop, _areas(), small_areas=small)
    assert out["population"].tolist() == [3.0, 7.0]


def test_codes_of_another_geography_are_refused_with_the_fix():
    pop = pd.DataFrame({"area": ["L1"], "population": [1.0]})
    with pytest.raises(DataValidationError, match="population_areas"):
        population_by_area(pop, _areas(), source="pop.csv")
