"""windows.exclude_implementation: the roll-out months leave the fit and the after window."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

import pilot_eval as pe
from pilot_eval.config import load_config
from pilot_eval.errors import ConfigError
from pilot_eval.report import all_sections, report_context
from pilot_eval.report.sections import window_sentence


def _config(demo_pilot, tmp_path, **windows):
    raw = yaml.safe_load(demo_pilot.config_path.read_text())
    for key in ("crimes", "boundaries", "interventions", "survey", "population", "streetsafe"):
        if raw["data"].get(key):
            raw["data"][key] = str((demo_pilot.config_path.parent / raw["data"][key]).resolve())
    for comp in raw["intervention"].get("components", []):
        if comp.get("locations"):
            comp["locations"] = str((demo_pilot.config_path.parent / comp["locations"]).resolve())
    raw["windows"].update(windows)
    out = tmp_path / "pilot.yml"
    out.write_text(yaml.safe_dump(raw, sort_keys=False))
    return out


def test_default_keeps_the_rollout_in_the_after_window(demo_pilot):
    cfg = load_config(demo_pilot.config_path)
    assert cfg.windows.exclude_implementation is False
    assert cfg.post_start == cfg.intervention.start and len(cfg.excluded_months) == 0
    s = window_sentence(type("Ctx", (), {"config": cfg})())
    assert s == '"After" is April 2024 to March 2025, including the roll-out (to September 2024).'


def test_switch_needs_an_end(demo_pilot, tmp_path):
    raw = yaml.safe_load(_config(demo_pilot, tmp_path, exclude_implementation=True).read_text())
    del raw["intervention"]["end"]
    p = tmp_path / "no-end.yml"
    p.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match="intervention.end"):
        load_config(p)


def test_switch_drops_the_rollout_months_everywhere(demo_pilot, tmp_path):
    path = _config(demo_pilot, tmp_path, exclude_implementation=True, post_months=9)
    prepared = pe.prepare(path)
    cfg = prepared.config
    assert cfg.post_start == pd.Timestamp("2024-10-01")
    assert cfg.post_end == pd.Timestamp("2025-06-01")
    months = pd.DatetimeIndex(sorted(prepared.panel["month"].unique()))
    rollout = pd.date_range("2024-04-01", "2024-09-01", freq="MS")
    assert not months.isin(rollout).any()
    assert len(months) == 36 + 9
    post = prepared.panel.groupby("month")["post"].first()
    assert post[post].index.min() == pd.Timestamp("2024-10-01")
    assert not post[post.index < pd.Timestamp("2024-04-01")].any()

    ev = pe.evaluate(prepared)
    gone = {(n.analysis, n.reason) for n in ev.not_computed if n.outcome == cfg.outcomes[0].name}
    assert {a for a, _ in gone} >= {"its", "placebo_time", "event_study"}
    assert all("roll-out months" in r for a, r in gone if a in {"its", "placebo_time"})
    ctx = report_context(ev, config_path=path)
    sections = all_sections(ctx)
    expected = (
        'The roll-out months (April 2024 to September 2024) are left out: "after" is '
        "October 2024 to June 2025."
    )
    main = sections[1].subsections[0]
    assert any(expected in b.words() for b in main.blocks)
    impl = next(s for s in sections if s.id == "implementation")
    assert expected in impl.words()
