"""Belvedere town centre as four LSOAs on the real MPS LSOA table (skips without ../shared)."""

from __future__ import annotations

from pathlib import Path

import pilot_eval as pe
from shared_data import need_shared

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "pilots" / "belvedere-town-centre-lsoa.yml"


def test_town_centre_lsoas_run_on_the_mps_lsoa_table():
    need_shared(
        "data/mps/recorded-crime-lsoa.parquet",
        "data/boundaries/london_lsoa_2021.gpkg",
        "data/boundaries/london_lsoa_2011.gpkg",
        "data/population/lsoa11_mid2020.csv",
    )
    prepared = pe.prepare(CONFIG)
    assert prepared.n_treated == 4 and prepared.n_areas == 148  # every Bexley LSOA (2021)
    # 2011-code residents shared out by place onto 2021 LSOAs: Bexley about 249,000 (ONS 2020)
    assert 240_000 < prepared.population["population"].sum() < 260_000
    ev = pe.evaluate(prepared)
    o = ev.primary
    assert o.estimated and o["conformal"].ci_low < o["conformal"].irr < o["conformal"].ci_high
    assert o["per_resident"].treated_population > 0
    assert {n.analysis for n in ev.not_computed} >= {"synth"}  # four treated areas
