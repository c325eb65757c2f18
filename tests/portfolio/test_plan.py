"""pilot-eval plan: MDEs of candidate designs from pre-period data; --register and the
report's "Registered plan" section."""

from __future__ import annotations

import csv
import json
from types import SimpleNamespace

import pandas as pd
import yaml

from pilot_eval import columns as C
from pilot_eval.cli import main
from pilot_eval.config import load_config
from pilot_eval.pipeline import prepare
from pilot_eval.pipeline.provenance import file_digest
from pilot_eval.portfolio.plan import _design, make_plan, pre_period_panel, with_post_months
from pilot_eval.report.registered_plan import plan_section

from .conftest import EPOCH


def test_plan_of_the_pilots_own_design_is_the_reports_mde(batch):
    plan = make_plan(batch.pilots / "demo-belvedere.yml", areas=["DEMO01"], post=(12,))
    res = json.loads((batch.root / "demo-belvedere" / "results.json").read_text())
    (row,) = plan.rows
    assert row.detectable and row.mde_pct_change == res["power"][0]["mde_pct_change"]


def test_plan_reads_no_outcome_from_the_start_on(batch_pilots, monkeypatch):
    import pilot_eval.inference as inf

    cfg = load_config(batch_pilots / "demo-belvedere.yml")
    assert _design(cfg, "DEMO05").windows.post_months == 1  # prepare loads one post month
    assert _design(cfg, "DEMO05").treated.codes == ("DEMO05",)
    pre, name = pre_period_panel(cfg, "DEMO05")
    assert name == "Demo area 05 (synthetic)"
    assert (pre[C.MONTH] < cfg.intervention.start).all() and not pre[C.POST].any()
    seen: list[pd.DataFrame] = []
    real = inf.mde_conformal
    monkeypatch.setattr(
        inf, "mde_conformal", lambda panel, **kw: seen.append(panel) or real(panel, **kw)
    )
    make_plan(batch_pilots / "demo-belvedere.yml", areas=["DEMO05"], post=(6, 18))
    n_series = len(pre[[C.OUTCOME, C.AREA]].drop_duplicates())
    assert [int(p[C.POST].sum()) for p in seen] == [6 * n_series, 18 * n_series]
    for p in seen:  # the pre rows passed are exactly the pre-period panel
        pd.testing.assert_frame_equal(p.loc[~p[C.POST]].reset_index(drop=True), pre)
    for p in seen:
        assert (p.loc[p[C.POST], C.COUNT] == 0).all()  # placeholders, not data
        post_months = p.loc[p[C.POST], C.MONTH]
        assert post_months.min() == cfg.intervention.start
    assert seen[1].loc[seen[1][C.POST], C.MONTH].nunique() == 18
    extended = with_post_months(pre, cfg.intervention.start, 3)
    assert len(extended) == len(pre) + 3 * len(pre[[C.OUTCOME, C.AREA]].drop_duplicates())


def test_plan_command_writes_csv_and_html(batch_pilots, tmp_path, capsys):
    cfg = batch_pilots / "demo-belvedere.yml"
    code = main(
        [
            "plan",
            str(cfg),
            "--areas",
            "DEMO01",
            "DEMO07",
            "--post",
            "6",
            "12",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "200 simulated panels" in out and "pre-period data only" in out
    assert "Demo area 07 (synthetic)" in out
    rows = list(csv.DictReader((tmp_path / "plan.csv").open()))
    assert [(r["area"], r["post_months"]) for r in rows] == [
        ("DEMO01", "6"),
        ("DEMO01", "12"),
        ("DEMO07", "6"),
        ("DEMO07", "12"),
    ]
    html = (tmp_path / "plan.html").read_text()
    assert html.count("<h1>") == 1 and '<html lang="en">' in html and "<caption>" in html
    assert 'th scope="row"' in html and '<img src="data:image/png;base64,' in html
    assert 'alt="Minimum detectable change by candidate area' in html


def _ctx(cfg_path, prepared=None):
    digest, size = file_digest(cfg_path)
    return SimpleNamespace(
        config=load_config(cfg_path),
        provenance={"config": {"path": cfg_path.name, "sha256": digest, "bytes": size}},
        evaluation=SimpleNamespace(prepared=prepared),
    )


def test_register_then_change_windows_lists_the_change(batch_pilots, monkeypatch, capsys):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    folder = batch_pilots.parent / "registered"  # beside pilots/: the same ../data paths
    folder.mkdir(exist_ok=True)
    cfg = folder / "registered.yml"
    cfg.write_text((batch_pilots / "demo-belvedere.yml").read_text())
    code = main(
        [
            "plan",
            str(cfg),
            "--areas",
            "DEMO01",
            "--post",
            "12",
            "--register",
            "--out",
            str(batch_pilots.parent / "plan-out"),
        ]
    )
    assert code == 0
    plan = json.loads((folder / "registered.plan.json").read_text())
    assert plan["config_sha256"] == file_digest(cfg)[0]
    assert plan["registered"] == "2023-11-14T22:13:20Z"
    assert len(plan["pre_period_sha256"]) == 64
    assert plan["design"]["windows"]["post_months"] == 12
    assert plan["design"]["treated"]["codes"] == ["DEMO01"]
    names = [o.name for o in load_config(cfg).outcomes]
    assert [o["name"] for o in plan["design"]["outcomes"]] == names
    assert names[:2] == ["VAWG-related offences", "Anti-social behaviour"]
    assert plan["candidates"] == {"areas": ["DEMO01"], "post_months": [12]}

    # Unchanged: the section says the analysis matches, and the pre-period data too.
    section = plan_section(_ctx(cfg, prepare(cfg)), cfg.parent)
    words = section.words() if hasattr(section, "words") else str(section)
    assert "matches the plan registered on 2023-11-14T22:13:20Z" in words
    assert "pre-period data are the same" in words

    raw = yaml.safe_load(cfg.read_text())
    raw["windows"]["post_months"] = 18
    raw["outcomes"] = raw["outcomes"][:1]
    cfg.write_text(yaml.safe_dump(raw, sort_keys=False))
    section = plan_section(_ctx(cfg), cfg.parent)
    text = " ".join(b.words() for b in section.blocks)
    assert "differs from the plan" in text
    assert "Window post_months changed from 12 to 18." in text
    assert "Outcome 'Anti-social behaviour' was registered but is no longer analysed." in text


def test_no_plan_no_section(batch_pilots):
    assert plan_section(_ctx(batch_pilots / "demo-area07.yml"), batch_pilots) is None


def test_post_months_start_after_the_roll_out_when_it_is_left_out(batch_pilots):
    from pilot_eval.portfolio.plan import post_start

    cfg = load_config(batch_pilots / "demo-belvedere.yml")
    assert post_start(cfg) == pd.Timestamp("2024-04-01")
    if "exclude_implementation" in type(cfg.windows).model_fields:
        w = cfg.windows.model_copy(update={"exclude_implementation": True})
        assert post_start(cfg.model_copy(update={"windows": w})) == pd.Timestamp("2024-10-01")


def test_the_report_run_after_a_changed_config_says_what_changed(batch_pilots, monkeypatch):
    """Register, change the config's after-window, evaluate: the report itself has the
    registered-plan section with the change (wired into report.all_sections)."""
    import pilot_eval as pe
    from pilot_eval.report import all_sections, report_context

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    folder = batch_pilots.parent / "registered-report"
    folder.mkdir(exist_ok=True)
    cfg = folder / "pilot.yml"
    cfg.write_text((batch_pilots / "demo-belvedere.yml").read_text())
    args = ["plan", str(cfg), "--areas", "DEMO01", "--post", "12", "--register"]
    assert main([*args, "--out", str(folder / "plan-out")]) == 0
    raw = yaml.safe_load(cfg.read_text())
    raw["windows"]["post_months"] = 11
    cfg.write_text(yaml.safe_dump(raw, sort_keys=False))
    ev = pe.evaluate(pe.prepare(cfg))
    sections = all_sections(report_context(ev, config_path=cfg))
    (plan,) = [s for s in sections if "plan" in s.title.lower()]
    assert "Window post_months changed from 12 to 11." in plan.words()
    assert [s.id for s in sections][-2:] == ["not-computed", "appendix"]
