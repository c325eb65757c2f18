"""The outcome × area × month panel: zero-filling, contract, post flag, counts sources."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from pilot_eval import columns as C
from pilot_eval.errors import ConfigError, DataValidationError
from pilot_eval.panel import (
    panel_from_counts,
    panel_from_incidents,
    pre_post_totals,
    validate_panel,
)

MONTHS = pd.date_range("2024-01-01", "2024-06-01", freq="MS")
START = pd.Timestamp("2024-04-01")
VSO, PO, ASB, BUR = (
    "Violence and sexual offences",
    "Public order",
    "Anti-social behaviour",
    "Burglary",
)
OUTCOMES = {"VAWG": [VSO, PO], "ASB": [ASB]}


@pytest.fixture
def areas() -> gpd.GeoDataFrame:
    codes = ["T1", "BUFFER", "C2", "C1", "C3"]
    groups = ["treated", "buffer", "comparison", "comparison", "comparison"]
    return gpd.GeoDataFrame(
        {C.AREA: codes, C.NAME: codes, C.GROUP: groups},
        geometry=[box(i, 0, i + 1, 1) for i in range(5)],
        crs=C.METRIC_CRS,
    )


@pytest.fixture
def incidents() -> pd.DataFrame:
    rows = [
        # area, crime type, month (any day in the month counts for the month)
        ("T1", VSO, "2024-01-01"),
        ("T1", VSO, "2024-01-20"),
        ("T1", PO, "2024-01-31"),
        ("T1", VSO, "2024-05-03"),
        ("T1", ASB, "2024-05-01"),
        ("T1", BUR, "2024-05-01"),  # in no outcome
        ("BUFFER", PO, "2024-04-01"),
        ("C1", VSO, "2024-02-01"),
        ("C1", VSO, "2024-06-01"),
        ("C2", ASB, "2024-03-01"),
        ("C2", ASB, "2024-03-09"),
        (None, VSO, "2024-02-01"),  # outside every area
        ("C1", VSO, "2023-12-01"),  # before the window
        ("C1", VSO, "2024-07-01"),  # after the window
        ("ZZ", VSO, "2024-02-01"),  # not a study area
    ]
    df = pd.DataFrame(rows, columns=[C.AREA, C.CRIME_TYPE, C.MONTH])
    df[C.MONTH] = pd.to_datetime(df[C.MONTH])
    df[C.GROUP] = df[C.AREA].map({"T1": "treated", "BUFFER": "buffer"})
    return df


def _count(panel: pd.DataFrame, outcome: str, area: str, month: str) -> int:
    sel = (
        (panel[C.OUTCOME] == outcome)
        & (panel[C.AREA] == area)
        & (panel[C.MONTH] == pd.Timestamp(month))
    )
    assert sel.sum() == 1
    return int(panel.loc[sel, C.COUNT].iloc[0])


def test_panel_from_incidents_contract_and_zero_fill(incidents, areas):
    before = incidents.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        panel = panel_from_incidents(
            incidents, outcomes=OUTCOMES, areas=areas, months=MONTHS, start=START
        )
    pd.testing.assert_frame_equal(incidents, before)
    assert tuple(panel.columns) == C.PANEL_COLUMNS
    assert len(panel) == 2 * 5 * 6
    assert panel[C.MONTH].dtype == "datetime64[ns]"
    assert panel[C.COUNT].dtype == np.int64
    assert panel[C.TREATED].dtype == bool and panel[C.POST].dtype == bool
    for col in (C.OUTCOME, C.AREA, C.GROUP):
        assert pd.api.types.is_string_dtype(panel[col])
    assert panel[[C.OUTCOME, C.AREA, C.MONTH]].equals(
        panel[[C.OUTCOME, C.AREA, C.MONTH]].sort_values([C.OUTCOME, C.AREA, C.MONTH])
    )
    assert panel[C.OUTCOME].unique().tolist() == ["ASB", "VAWG"]
    assert panel[C.AREA].unique().tolist() == ["BUFFER", "C1", "C2", "C3", "T1"]
    validate_panel(panel)

    # Several crime types add up into one outcome; other types and places are not counted.
    assert _count(panel, "VAWG", "T1", "2024-01") == 3
    assert _count(panel, "VAWG", "T1", "2024-05") == 1
    assert _count(panel, "ASB", "T1", "2024-05") == 1
    assert _count(panel, "VAWG", "BUFFER", "2024-04") == 1
    assert _count(panel, "ASB", "C2", "2024-03") == 2
    assert panel.groupby(C.OUTCOME)[C.COUNT].sum().to_dict() == {"ASB": 3, "VAWG": 7}
    # C3 had no incident at all: six zero rows per outcome.
    c3 = panel[panel[C.AREA] == "C3"]
    assert len(c3) == 12 and (c3[C.COUNT] == 0).all() and (c3[C.GROUP] == "comparison").all()

    assert panel.loc[panel[C.TREATED], C.AREA].unique().tolist() == ["T1"]
    assert (panel[C.POST] == (panel[C.MONTH] >= START)).all()
    assert panel[C.POST].sum() == 2 * 5 * 3


def test_unknown_crime_type_warns(incidents, areas):
    with pytest.warns(UserWarning, match=r"\['Violence'\] never appear"):
        panel = panel_from_incidents(
            incidents, outcomes={"x": ["Violence", PO]}, areas=areas, months=MONTHS, start=START
        )
    assert panel[C.COUNT].sum() == 2


def test_months_and_start_are_checked(incidents, areas):
    kw = dict(outcomes=OUTCOMES, areas=areas)
    with pytest.raises(ConfigError, match="after the first month"):
        panel_from_incidents(incidents, months=MONTHS, start=MONTHS[0], **kw)
    with pytest.raises(ConfigError, match="no later than the last"):
        panel_from_incidents(incidents, months=MONTHS, start=pd.Timestamp("2024-07-01"), **kw)
    with pytest.raises(ConfigError, match="no gaps"):
        panel_from_incidents(incidents, months=MONTHS.delete(2), start=START, **kw)
    with pytest.raises(ConfigError, match="month starts"):
        panel_from_incidents(incidents, months=MONTHS + pd.Timedelta(days=3), start=START, **kw)
    with pytest.raises(DataValidationError, match="crime_type"):
        panel_from_incidents(incidents.drop(columns=C.CRIME_TYPE), months=MONTHS, start=START, **kw)
    with pytest.raises(ConfigError, match="single string"):
        panel_from_incidents(
            incidents, outcomes={"x": VSO}, areas=areas, months=MONTHS, start=START
        )


def test_pre_post_totals(incidents, areas):
    panel = panel_from_incidents(
        incidents, outcomes=OUTCOMES, areas=areas, months=MONTHS, start=START
    )
    t = pre_post_totals(panel, outcome="VAWG")
    assert t.columns.tolist() == [C.AREA, C.GROUP, "pre", "post"]
    assert t.to_dict("list") == {
        C.AREA: ["BUFFER", "C1", "C2", "C3", "T1"],
        C.GROUP: ["buffer", "comparison", "comparison", "comparison", "treated"],
        "pre": [0, 1, 0, 0, 3],
        "post": [1, 1, 0, 0, 1],
    }
    assert t["pre"].dtype == np.int64 and t["post"].dtype == np.int64
    with pytest.raises(
        DataValidationError, match=r"'Theft' is not in the panel.*\['ASB', 'VAWG'\]"
    ):
        pre_post_totals(panel, outcome="Theft")


# -- validate_panel ----------------------------------------------------------------------------
@pytest.fixture
def panel(incidents, areas) -> pd.DataFrame:
    return panel_from_incidents(
        incidents, outcomes=OUTCOMES, areas=areas, months=MONTHS, start=START
    )


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda p: p.drop(columns=C.POST), "missing column"),
        (lambda p: pd.concat([p, p.iloc[[5]]], ignore_index=True), "repeated row"),
        (lambda p: p.drop(index=7), "has 5 of the 6 months"),
        (lambda p: p.assign(count=np.where(p.index == 3, -1, p[C.COUNT])), "negative count"),
        (lambda p: p.assign(count=p[C.COUNT].astype(float)), "integers"),
        (lambda p: p.assign(treated=p[C.GROUP] == "buffer"), "treated must be true"),
        (lambda p: p.assign(post=p.index == 0), "post differs"),
        (lambda p: p.assign(post=p[C.MONTH] < START), "false for the months before"),
        (lambda p: p.assign(group=p[C.GROUP].replace("buffer", "ring")), "unknown group"),
        (lambda p: p.assign(month=p[C.MONTH] + pd.Timedelta(days=1)), "month starts"),
        (lambda p: p[~((p[C.OUTCOME] == "ASB") & (p[C.AREA] == "C3"))], "different areas"),
    ],
)
def test_validate_panel_catches(panel, breakage, message):
    with pytest.raises(DataValidationError, match=message):
        validate_panel(breakage(panel))


# -- panel_from_counts -------------------------------------------------------------------------
@pytest.fixture
def counts() -> pd.DataFrame:
    rows = [
        ("T1", "2024-01-01", "Violence with injury", 4),
        ("T1", "2024-01-01", "Stalking and harassment", 2),
        ("T1", "2024-05-01", "Violence with injury", 1),
        ("C1", "2024-02-01", "Violence with injury", 7),
        ("C1", "2024-02-01", "Burglary", 9),  # in no outcome
        ("C2", "2024-06-01", "Stalking and harassment", 3),
        ("C3", "2023-12-01", "Violence with injury", 5),  # before the window
        ("E05000000", "2024-01-01", "Violence with injury", 50),  # not a study area
    ]
    df = pd.DataFrame(rows, columns=[C.AREA, C.MONTH, "category", C.COUNT])
    df[C.MONTH] = pd.to_datetime(df[C.MONTH])
    return df


@pytest.fixture
def ward_areas(areas) -> gpd.GeoDataFrame:
    return areas[areas[C.AREA] != "BUFFER"].reset_index(drop=True)


def test_panel_from_counts_sums_categories(counts, ward_areas):
    before = counts.copy()
    outcomes = {"VAWG": ["Violence with injury", "Stalking and harassment"]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        panel = panel_from_counts(
            counts, outcomes=outcomes, areas=ward_areas, months=MONTHS, start=START
        )
    pd.testing.assert_frame_equal(counts, before)
    assert tuple(panel.columns) == C.PANEL_COLUMNS
    assert len(panel) == 4 * 6 and panel[C.COUNT].dtype == np.int64
    validate_panel(panel)
    assert _count(panel, "VAWG", "T1", "2024-01") == 6
    assert _count(panel, "VAWG", "T1", "2024-05") == 1
    assert _count(panel, "VAWG", "C1", "2024-02") == 7
    assert _count(panel, "VAWG", "C2", "2024-06") == 3
    assert panel[C.COUNT].sum() == 17
    assert (panel.loc[panel[C.AREA] == "C3", C.COUNT] == 0).all()


def test_counts_missing_areas(counts, areas):
    outcomes = {"VAWG": ["Violence with injury"]}
    with pytest.warns(UserWarning, match=r"\['BUFFER'\].*buffer_m: 0"):
        panel = panel_from_counts(
            counts, outcomes=outcomes, areas=areas, months=MONTHS, start=START
        )
    assert (panel.loc[panel[C.AREA] == "BUFFER", C.COUNT] == 0).all()
    no_t1 = counts[counts[C.AREA] != "T1"]
    with pytest.raises(DataValidationError, match=r"treated area\(s\) \['T1'\]"):
        panel_from_counts(no_t1, outcomes=outcomes, areas=areas, months=MONTHS, start=START)


def test_counts_bad_rows(counts, ward_areas):
    kw = dict(
        outcomes={"V": ["Violence with injury"]}, areas=ward_areas, months=MONTHS, start=START
    )
    dup = pd.concat([counts, counts.iloc[[0]]], ignore_index=True)
    with pytest.raises(DataValidationError, match="row 9.*more than once"):
        panel_from_counts(dup, **kw)
    neg = counts.assign(count=[4, 2, 1, -7, 9, 3, 5, 50])
    with pytest.raises(DataValidationError, match=r"row 4 \(area 'C1'.*-7"):
        panel_from_counts(neg, **kw)
    frac = counts.assign(count=counts[C.COUNT] + 0.5)
    with pytest.raises(DataValidationError, match="whole number"):
        panel_from_counts(frac, **kw)
    with pytest.raises(DataValidationError, match="category"):
        panel_from_counts(counts.drop(columns="category"), **kw)
    with pytest.warns(UserWarning, match="never appear"):
        panel_from_counts(counts, **{**kw, "outcomes": {"V": ["Violence with injuries"]}})
