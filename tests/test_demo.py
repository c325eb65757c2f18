"""The SYNTHETIC demo generator: deterministic, police.uk-shaped, with a recoverable effect."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from pilot_eval.columns import LONLAT_CRS, METRIC_CRS, POLICE_UK_HEADER
from pilot_eval.config import load_config
from pilot_eval.demo import DemoManifest, generate_demo
from pilot_eval.errors import ConfigError
from pilot_eval.io.interventions import read_interventions

ROOT = Path(__file__).resolve().parents[1]
SEED = 20240401
ASB = "Anti-social behaviour"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> DemoManifest:
    return generate_demo(tmp_path_factory.mktemp("demo"), seed=SEED)


@pytest.fixture(scope="module")
def crimes(demo) -> pd.DataFrame:
    """Every crime row as text, exactly as written, with the folder month beside it."""
    frames = []
    for f in demo.crime_files:
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        df["folder"] = f.parent.name
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def areas(demo) -> gpd.GeoDataFrame:
    return gpd.read_file(demo.areas_path).to_crs(METRIC_CRS).set_index("area_code")


@pytest.fixture(scope="module")
def located(crimes, areas) -> pd.DataFrame:
    """Rows with coordinates, in metres, with their area (from the LSOA code) and group."""
    d = crimes[crimes["Longitude"] != ""].copy()
    pts = gpd.GeoSeries(
        gpd.points_from_xy(d["Longitude"].astype(float), d["Latitude"].astype(float)),
        crs=LONLAT_CRS,
        index=d.index,
    ).to_crs(METRIC_CRS)
    d["geometry"] = pts
    d["area"] = d["LSOA code"].str[:6]
    treated = areas.geometry["DEMO01"]
    ring = shapely.difference(shapely.buffer(treated, 400.0), treated)
    in_ring = shapely.contains(ring, pts.values)
    d["group"] = np.where(
        d["area"] == "DEMO01", "treated", np.where(in_ring, "buffer", "comparison")
    )
    d["post"] = d["Month"] >= "2024-04"
    return d


def _all_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


# -- determinism --------------------------------------------------------------------------------
def test_same_seed_gives_byte_identical_files(demo, tmp_path):
    again = generate_demo(tmp_path / "again", seed=SEED)
    first, second = _all_files(demo.out_dir), _all_files(again.out_dir)
    assert sorted(first) == sorted(second)
    assert len(first) == len(demo.paths)
    differing = [name for name in first if first[name] != second[name]]
    assert differing == []


def test_another_seed_gives_other_data(demo, tmp_path):
    other = generate_demo(tmp_path / "other", seed=SEED + 1)
    assert other.crime_files[0].read_bytes() != demo.crime_files[0].read_bytes()
    assert other.areas_path.read_bytes() != demo.areas_path.read_bytes()


@pytest.mark.parametrize("seed", [-1, 1.5, "7", True])
def test_bad_seed_refused(tmp_path, seed):
    with pytest.raises(ConfigError, match="seed"):
        generate_demo(tmp_path, seed=seed)
    assert list(tmp_path.iterdir()) == []


# -- files, manifest, truth ---------------------------------------------------------------------
def test_layout_manifest_and_truth(demo):
    for p in demo.paths:
        assert p.is_file(), p
    months = pd.period_range("2020-01", "2025-06", freq="M").strftime("%Y-%m")
    expected = [demo.police_dir / m / f"{m}-metropolitan-street.csv" for m in months]
    assert list(demo.crime_files) == expected
    assert demo.n_months == len(months)

    truth = json.loads(demo.truth_path.read_text())
    assert truth["synthetic"] is True
    assert truth["seed"] == SEED == demo.seed
    assert truth["intervention_start"] == demo.start_month == "2024-04"
    assert truth["treated_area"] == demo.treated_area == "DEMO01"
    assert truth["buffer_m"] == demo.buffer_m == 400
    assert truth["true_irr"] == demo.true_effects
    assert demo.true_effects == {"treated": 0.75, "buffer": 0.9, "comparison": 1.0}
    assert set(truth["affected_crime_types"]) == {"Violence and sexual offences", "Public order"}
    assert truth["counts"]["rows"] == demo.n_rows
    assert truth["counts"]["buffer_rows_thinned"] == demo.n_buffer_thinned
    assert truth["counts"]["rows_by_crime_type"] == dict(demo.rows_by_crime_type)

    readme = demo.readme_path.read_text()
    assert "SYNTHETIC DEMO DATA" in readme
    assert str(SEED) in readme and "0.75" in readme
    assert "SYNTHETIC" in demo.summary()


def test_demo_config_points_at_the_generated_layout(demo):
    cfg = load_config(ROOT / "pilots" / "demo-belvedere.yml")
    rel = {
        "crimes": demo.police_dir,
        "boundaries": demo.areas_path,
        "interventions": demo.interventions_path,
    }
    for field, written in rel.items():
        assert getattr(cfg.data, field).name == written.name
    assert cfg.intervention.start.strftime("%Y-%m") == demo.start_month
    assert cfg.treated.codes == (demo.treated_area,)
    assert cfg.buffer_m == demo.buffer_m


# -- police.uk format ---------------------------------------------------------------------------
def test_header_is_exactly_police_uk(demo):
    for f in demo.crime_files:
        with f.open("rb") as fh:
            assert fh.readline() == (",".join(POLICE_UK_HEADER) + "\n").encode()


def test_rows_look_like_police_uk(demo, crimes):
    assert len(crimes) == demo.n_rows
    assert 60_000 <= demo.n_rows <= 150_000
    assert (crimes["Month"] == crimes["folder"]).all()
    assert (crimes["Reported by"] == "Metropolitan Police Service").all()
    assert (crimes["Falls within"] == "Metropolitan Police Service").all()
    assert (crimes["Context"] == "").all()

    types = set(crimes["Crime type"])
    assert {"Violence and sexual offences", "Public order", ASB} <= types
    assert len(types) >= 5
    assert dict(crimes["Crime type"].value_counts()) == dict(demo.rows_by_crime_type)

    asb = crimes["Crime type"] == ASB
    assert (crimes.loc[asb, "Crime ID"] == "").all()
    assert (crimes.loc[asb, "Last outcome category"] == "").all()
    ids = crimes.loc[~asb, "Crime ID"]
    assert ids.str.fullmatch(r"[0-9a-f]{64}").all()
    assert ids.is_unique
    assert (crimes.loc[~asb, "Last outcome category"] != "").all()

    blank = crimes["Longitude"] == ""
    assert (blank == (crimes["Latitude"] == "")).all()
    assert (crimes.loc[blank, "Location"] == "No Location").all()
    assert (crimes.loc[blank, "LSOA code"] == "").all()
    assert blank.sum() == demo.n_rows_no_location
    # about 0.5 % at random: with ~90k rows, 0.2 %-1 % is more than 8 binomial SDs wide
    assert 0.002 < blank.mean() < 0.01
    located = crimes[~blank]
    assert located["Longitude"].str.fullmatch(r"-?\d+\.\d{6}").all()
    assert located["Latitude"].str.fullmatch(r"\d+\.\d{6}").all()
    assert located["Location"].str.startswith("On or near ").all()
    assert located["LSOA code"].str.fullmatch(r"DEMO\d{2}[A-Z]").all()
    assert located["LSOA name"].str.contains("demo", case=False).all()


# -- areas ----------------------------------------------------------------------------------------
def test_areas_are_synthetic_demo_wards_around_belvedere(demo, areas):
    raw = json.loads(demo.areas_path.read_text())
    assert "crs" not in raw  # RFC 7946: WGS84 lon/lat implied
    for feat in raw["features"]:
        ring = feat["geometry"]["coordinates"][0]
        assert shapely.Polygon(ring).exterior.is_ccw  # RFC 7946 winding

    assert 18 <= len(areas) <= 20
    assert list(areas.index) == [f"DEMO{i:02d}" for i in range(1, len(areas) + 1)]
    assert areas["area_name"].str.contains("synthetic", case=False).all()
    assert areas["area_name"].str.startswith("Demo ").all()
    assert "Belvedere" in areas.loc["DEMO01", "area_name"]
    assert areas.geometry["DEMO01"].contains(shapely.Point(549000, 178800))
    assert areas.geometry.is_valid.all()
    xmin, ymin, xmax, ymax = areas.total_bounds
    assert 544_000 <= xmin and xmax <= 557_000 and 171_000 <= ymin and ymax <= 182_000
    # a partition: the pieces do not overlap
    union = shapely.union_all(areas.geometry.values)
    assert areas.area.sum() == pytest.approx(union.area, rel=1e-6)


def test_every_point_lies_inside_its_area(located, areas):
    own = gpd.GeoSeries(areas.geometry.loc[located["area"]].values, crs=METRIC_CRS)
    pts = gpd.GeoSeries(located["geometry"].values, crs=METRIC_CRS)
    inside = pts.within(own)
    assert inside.all(), located.loc[~inside.values, ["Month", "LSOA code"]].head()


# -- the injected truth is recoverable ----------------------------------------------------------
def _relative_ratio(d: pd.DataFrame, types: list[str], group: str) -> float:
    """(post / pre in ``group``) / (post / pre in the comparison areas): a plain 2x2 ratio."""
    d = d[d["Crime type"].isin(types)]
    n = d.groupby(["group", "post"]).size()
    return (n[(group, True)] / n[(group, False)]) / (
        n[("comparison", True)] / n[("comparison", False)]
    )


# Tolerances: the treated area has ~2,900 pre and ~650 post VAWG-type rows; with variance
# 1.5-3x the mean, the SE of the log ratio is about sqrt(2.25/2900 + 2.25/650) ~ 0.065, so
# 0.6-0.9 is about +-3 SE around 0.75 (the comparison side adds little: ~25k rows).
# ASB alone (~1,400 pre / ~400 post): SE ~ 0.09, so 0.75-1.33 is ~ +-3 SE around 1; every
# unaffected type pooled (~3,500 / ~1,000): SE ~ 0.055, so 0.85-1.18 is ~ +-3 SE.
def test_treated_effect_recoverable(located):
    vawg = ["Violence and sexual offences", "Public order"]
    assert 0.6 <= _relative_ratio(located, vawg, "treated") <= 0.9


def test_unaffected_types_unchanged(located):
    assert 0.75 <= _relative_ratio(located, [ASB], "treated") <= 1.33
    others = sorted(set(located["Crime type"]) - {"Violence and sexual offences", "Public order"})
    assert len(others) >= 3
    assert 0.85 <= _relative_ratio(located, others, "treated") <= 1.18


def test_buffer_ring_thinned_by_a_tenth(demo, located):
    vawg = located["Crime type"].isin(["Violence and sexual offences", "Public order"])
    kept = int((vawg & located["post"] & (located["group"] == "buffer")).sum())
    thinned = demo.n_buffer_thinned
    share = thinned / (kept + thinned)
    # ~300 post ring rows before thinning: binomial SD of the share ~ 0.017; +-0.055 ~ 3 SD
    assert kept + thinned > 150
    assert 0.045 <= share <= 0.155


def test_summer_peak_and_overdispersion(located):
    viol = located[(located["Crime type"] == "Violence and sexual offences")]
    pre = viol[~viol["post"] & (viol["group"] == "comparison")]
    by_month = pre.groupby("Month").size()
    moy = by_month.index.str[5:].astype(int)
    summer = by_month[np.isin(moy, [6, 7, 8])].mean()
    winter = by_month[np.isin(moy, [12, 1, 2])].mean()
    assert summer > winter * 1.1  # amplitude 0.12 -> ~ +22 % summer vs winter

    # Overdispersion: per comparison area, monthly counts vary more than Poisson (median
    # variance/mean ~ 2.25 from NB; season and trend add a little).
    counts = pre[pre["area"] != "DEMO01"].groupby(["area", "Month"]).size().unstack(fill_value=0)
    ratio = (counts.var(axis=1) / counts.mean(axis=1)).median()
    assert 1.3 <= ratio <= 4.0


# -- intervention log ----------------------------------------------------------------------------
def test_intervention_log_matches_demo_pilot(demo, areas):
    log = read_interventions(demo.interventions_path)
    assert len(log) == demo.n_interventions
    assert log["date"].between("2024-04-01", "2024-06-30").all()
    cfg = load_config(ROOT / "pilots" / "demo-belvedere.yml")
    totals = log.groupby("type")[["count", "cost"]].sum()
    for comp in cfg.intervention.components:
        assert totals.loc[comp.type, "count"] == comp.count, comp.type
        assert totals.loc[comp.type, "cost"] == pytest.approx(comp.cost), comp.type
        months = log.loc[log["type"] == comp.type, "date"].dt.to_period("M")
        assert (months == comp.date.to_period("M")).all(), comp.type
    assert set(log["type"]) == {c.type for c in cfg.intervention.components}
    assert (log["count"] >= 1).all()
    # one row per site: 18 lights, 30 QR posters, 24 venues
    n = log["type"].value_counts()
    assert (n["lighting"], n["qr_reporting"], n["business_training"]) == (18, 30, 24)
    sites = gpd.GeoSeries(
        gpd.points_from_xy(log["longitude"], log["latitude"]), crs=LONLAT_CRS
    ).to_crs(METRIC_CRS)
    assert sites.within(areas.geometry["DEMO01"]).all()
