"""Pilot config validation: good configs load, bad ones say file, field and what to do."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pydantic
import pytest
import yaml

from pilot_eval.config import load_config
from pilot_eval.errors import ConfigError, PilotEvalError

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "pilots" / "demo-belvedere.yml"


def _write(tmp_path: Path, data: dict, name: str = "pilot.yml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


@pytest.fixture
def demo_raw() -> dict:
    return yaml.safe_load(DEMO.read_text())


def test_demo_config_loads_with_resolved_paths():
    cfg = load_config(DEMO)
    assert cfg.slug == "demo-belvedere"
    assert cfg.synthetic is True
    assert cfg.data.crimes == (ROOT / "data" / "demo" / "police-uk").resolve()
    assert cfg.intervention.start == pd.Timestamp("2024-04-01")
    # 36 pre months and 12 post months: 2021-04 .. 2025-03
    assert len(cfg.months) == 48
    assert cfg.months[0] == pd.Timestamp("2021-04-01")
    assert cfg.post_end == pd.Timestamp("2025-03-01")
    assert {c.type for c in cfg.intervention.components} >= {"lighting", "qr_reporting"}


def test_paths_resolved_relative_to_config_folder(tmp_path, demo_raw):
    p = _write(tmp_path, demo_raw)
    cfg = load_config(p)
    assert cfg.data.boundaries == (tmp_path / "../data/demo/areas.geojson").resolve()


def test_unknown_field_named(tmp_path, demo_raw):
    demo_raw["buffer_metres"] = 300
    p = _write(tmp_path, demo_raw)
    with pytest.raises(ConfigError) as ei:
        load_config(p)
    msg = str(ei.value)
    assert str(p) in msg and "buffer_metres" in msg and "unknown field" in msg


def test_bad_month_and_bad_component_type(tmp_path, demo_raw):
    demo_raw["intervention"]["start"] = "April 2024"
    demo_raw["intervention"]["components"][0]["type"] = "cctv"
    p = _write(tmp_path, demo_raw)
    with pytest.raises(ConfigError) as ei:
        load_config(p)
    msg = str(ei.value)
    assert "intervention.start" in msg and "YYYY-MM" in msg
    assert "intervention.components.0.type" in msg and "lighting" in msg
    assert "2 problem(s)" in msg


def test_end_before_start(tmp_path, demo_raw):
    demo_raw["intervention"]["end"] = "2023-01"
    with pytest.raises(ConfigError, match="before its start"):
        load_config(_write(tmp_path, demo_raw))


def test_treated_needs_exactly_one_of_codes_or_polygon(tmp_path, demo_raw):
    demo_raw["treated"] = {"codes": ["A"], "polygon": "x.geojson"}
    with pytest.raises(ConfigError, match="exactly one of 'codes'"):
        load_config(_write(tmp_path, demo_raw))


def test_treated_also_comparison(tmp_path, demo_raw):
    demo_raw["comparison"] = ["DEMO01", "DEMO02"]
    with pytest.raises(ConfigError, match="both as treated and as comparison"):
        load_config(_write(tmp_path, demo_raw))


def test_slug_rules(tmp_path, demo_raw):
    demo_raw["slug"] = "My Pilot"
    with pytest.raises(ConfigError, match="slug"):
        load_config(_write(tmp_path, demo_raw))


def test_outcome_source_consistency(tmp_path, demo_raw):
    demo_raw["data"]["source"] = "mps_vawg"
    with pytest.raises(ConfigError, match="needs categories"):
        load_config(_write(tmp_path, demo_raw))


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    lst = tmp_path / "list.yml"
    lst.write_text("- a\n- b\n")
    with pytest.raises(PilotEvalError, match="mapping"):
        load_config(lst)


def test_config_file_not_modified(tmp_path, demo_raw):
    p = _write(tmp_path, demo_raw)
    before = p.read_bytes()
    load_config(p)
    assert p.read_bytes() == before


def test_config_is_frozen():
    cfg = load_config(DEMO)
    with pytest.raises(pydantic.ValidationError):
        cfg.slug = "other"  # type: ignore[misc]


# -- edges (issue 12) ------------------------------------------------------------------------
def test_latin1_config_names_the_file_the_line_and_the_fix(tmp_path):
    p = tmp_path / "pilot.yml"
    p.write_bytes(b"name: x\nslug: y\nreport:\n  title: Caf\xe9 pilot\n")
    with pytest.raises(ConfigError) as ei:
        load_config(p)
    msg = str(ei.value)
    assert msg.startswith(f"{p}, line 4: the config is not UTF-8 text")
    assert "Save it as UTF-8" in msg and "\n" not in msg


def test_yaml_error_gives_line_and_column(tmp_path):
    p = tmp_path / "pilot.yml"
    p.write_text("name: x\nslug: [a\n")
    with pytest.raises(ConfigError, match=r"line 3, column 1: not valid YAML"):
        load_config(p)


def test_one_problem_is_one_line_and_unknown_fields_get_a_suggestion(tmp_path, demo_raw):
    demo_raw["windows"]["post_month"] = 12
    p = _write(tmp_path, demo_raw)
    with pytest.raises(ConfigError) as ei:
        load_config(p)
    assert str(ei.value) == (
        f"{p}: windows.post_month: unknown field: remove it or check its spelling "
        "(did you mean 'post_months'?)"
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("cost", float("inf")), ("cost", 1e300), ("count", 10**20), ("cost", float("nan"))],
)
def test_component_numbers_are_range_checked(tmp_path, demo_raw, field, value):
    demo_raw["intervention"]["components"][0][field] = value
    p = _write(tmp_path, demo_raw)
    with pytest.raises(ConfigError, match=rf"intervention\.components\.0\.{field}"):
        load_config(p)


@pytest.mark.parametrize(
    ("per_crime", "message"),
    [
        ({"source": "x"}, "exactly one of 'mix'"),
        ({"value": 10, "mix": {"Robbery": 1}, "source": "x"}, "exactly one of 'mix'"),
        ({"mix": {"Robbery": 0.5}, "source": "x"}, "add up to 1"),
        ({"value": -3, "source": "x"}, "greater than 0"),
        ({"value": 10}, "source"),
    ],
)
def test_per_crime_weights_are_checked_at_the_boundary(tmp_path, demo_raw, per_crime, message):
    demo_raw["outcomes"][0]["unit_cost"] = per_crime
    with pytest.raises(ConfigError, match=message):
        load_config(_write(tmp_path, demo_raw))


def test_reports_outcome_takes_no_harm_or_cost(tmp_path, demo_raw):
    reports = next(o for o in demo_raw["outcomes"] if o.get("source") == "streetsafe")
    reports["harm_weight"] = {"value": 10, "source": "x"}
    with pytest.raises(ConfigError, match="counts reports, not crimes"):
        load_config(_write(tmp_path, demo_raw))


def test_an_unknown_mix_entry_is_refused_by_validate_naming_the_field(tmp_path, demo_raw):
    import pilot_eval as pe

    for key, value in demo_raw["data"].items():
        if isinstance(value, str) and ("/" in value or value.endswith((".csv", ".geojson"))):
            demo_raw["data"][key] = str((DEMO.parent / value).resolve())
    for comp in demo_raw["intervention"].get("components", []):
        if comp.get("locations"):
            comp["locations"] = str((DEMO.parent / comp["locations"]).resolve())
    demo_raw["outcomes"][0]["harm_weight"] = {"mix": {"Common assault": 1.0}, "source": "x"}
    with pytest.raises(ConfigError, match=r"outcomes\[0\] \(VAWG-related offences\)\.harm_weight"):
        pe.prepare(_write(tmp_path, demo_raw))
