"""The analysis registry: a new analysis is one module plus one entry, and reaches
results.json and the report; analyses and outcomes that cannot run say why."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import pilot_eval as pe
from pilot_eval import columns as C
from pilot_eval.errors import ConfigError, DataValidationError, EstimationError
from pilot_eval.pipeline import Analysis, Registry, evaluate, prepare
from pilot_eval.report import build_context, sections

PLUGINS = Path(__file__).parent / "plugins"
VAWG, ASB = "VAWG-related offences", "Anti-social behaviour"
REPORTS = "StreetSafe and QR-code reports"  # the demo's third outcome (source: streetsafe)


@pytest.fixture(scope="module")
def prepared(demo_pilot):
    return prepare(demo_pilot.config_path)


@pytest.fixture()
def toy_module(monkeypatch):
    """The toy plugin imported (it registers itself); unregistered afterwards."""
    monkeypatch.syspath_prepend(str(PLUGINS))
    sys.modules.pop("pilot_eval_toy_plugin", None)
    names = pe.load_plugins("pilot_eval_toy_plugin")
    assert names == ("pilot_eval_toy_plugin",)
    yield sys.modules["pilot_eval_toy_plugin"]
    pe.default_registry().remove("toy_ratio")
    sys.modules.pop("pilot_eval_toy_plugin", None)


def _small_registry(*extra: Analysis) -> Registry:
    """The headline analyses only (fast), plus ``extra``."""
    full = pe.default_registry()
    reg = Registry()
    for name in ("conformal", "placebo"):
        reg.add(full[name])
    for a in extra:
        reg.add(a)
    return reg


def test_toy_plugin_reaches_results_json(prepared, toy_module, tmp_path):
    assert "toy_ratio" in pe.default_registry()
    reg = _small_registry(pe.default_registry()["toy_ratio"])
    ev = evaluate(prepared, registry=reg)
    path = pe.write_results(ev, tmp_path)
    doc = json.loads(path.read_text())
    assert {
        "name": "toy_ratio",
        "role": "check",
        "label": toy_module.LABEL,
        "assumes": "nothing: it is a test",
    } in doc["analyses"]
    rows = [e for e in doc["estimates"] if e["method"] == "toy_ratio"]
    assert [r["outcome"] for r in rows] == [VAWG, ASB, REPORTS]
    # the toy's number is the 2x2 ratio of the panel's totals, computed independently here
    p = prepared.panel[prepared.panel[C.OUTCOME] == VAWG]
    tot = p.groupby([C.GROUP, C.POST])[C.COUNT].sum()
    want = (tot["treated", True] / tot["treated", False]) / (
        tot["comparison", True] / tot["comparison", False]
    )
    assert rows[0]["estimate"] == pytest.approx(want, rel=1e-12)
    assert {"outcome": VAWG, "analysis": "toy_ratio"} in doc["computed"]


def test_toy_plugin_reaches_the_report(demo_pilot, tmp_path, monkeypatch):
    """Through `pilot-eval run -p plugins …`: the kernel imports the plugin and the report
    lists the toy analysis and shows its estimate."""
    from pilot_eval.report.run import run_pilot

    path = [str(PLUGINS), *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(path))
    out = run_pilot(
        demo_pilot.config_path,
        output_root=tmp_path,
        parameters={"plugins": "pilot_eval_toy_plugin"},
    )
    html = out.report_html.read_text(encoding="utf-8")
    assert "Toy before/after ratio of ratios (test plugin)" in html
    # listed among the analyses and as a row in the table of every estimate
    assert html.count("Toy before/after ratio of ratios (test plugin)") >= 2
    doc = json.loads(out.results_json.read_text())
    assert any(e["method"] == "toy_ratio" for e in doc["estimates"])
    assert any(a["name"] == "toy_ratio" for a in doc["analyses"])


def test_requires_gives_the_reason_in_results_and_report(prepared, tmp_path):
    never = Analysis(
        name="needs_more",
        role="check",
        label="An analysis that cannot run here",
        assumes="-",
        run=lambda x: pytest.fail("run must not be called"),
        requires=lambda x: "it needs ten pilot areas; this pilot has one",
    )
    ev = evaluate(prepared, registry=_small_registry(never))
    doc = json.loads(pe.write_results(ev, tmp_path).read_text())
    nc = [n for n in doc["not_computed"] if n["analysis"] == "needs_more"]
    assert [n["outcome"] for n in nc] == [VAWG, ASB, REPORTS]
    assert nc[0]["reason"] == "it needs ten pilot areas; this pilot has one"
    ctx = build_context(ev)
    text = sections.not_computed(ctx).words()
    assert "An analysis that cannot run here" in text
    assert "not computed, because it needs ten pilot areas; this pilot has one." in text
    table = sections.analyses_table(ctx).frame
    assert table.set_index("Analysis").loc["An analysis that cannot run here", "Computed for"] == (
        "not computed"
    )


def test_a_failing_check_is_not_computed_but_a_failing_headline_fails(prepared):
    def boom(x):
        raise EstimationError("the model did not converge")

    check = Analysis(name="boom", role="check", label="Boom", assumes="-", run=boom)
    ev = evaluate(prepared, registry=_small_registry(check))
    (n,) = [n for n in ev.not_computed if n.outcome == VAWG]
    assert n.reason == "it could not be computed on these data: the model did not converge"
    assert ev.primary.get("conformal") is not None

    head = Analysis(name="boom", role="headline", label="Boom", assumes="-", run=boom)
    with pytest.raises(EstimationError, match="did not converge"):
        evaluate(prepared, registry=_small_registry(head))


def test_an_analysis_whose_dependency_did_not_run_says_so(prepared):
    reg = _small_registry(
        Analysis(
            name="gate",
            role="check",
            label="The gate",
            assumes="-",
            run=lambda x: None,
            requires=lambda x: "closed",
        ),
    )
    reg.add(
        Analysis(
            name="after_gate",
            role="check",
            label="After the gate",
            assumes="-",
            run=lambda x: pytest.fail("must not run"),
            needs=("gate",),
        )
    )
    ev = evaluate(prepared, registry=reg)
    reasons = {n.analysis: n.reason for n in ev.not_computed if n.outcome == VAWG}
    assert reasons == {"gate": "closed", "after_gate": "it needs The gate, which was not computed"}


def _without_crimes(prepared, outcome, *, post: bool):
    panel = prepared.panel.copy()
    hit = (panel[C.OUTCOME] == outcome) & panel[C.TREATED] & (panel[C.POST] == post)
    panel.loc[hit, C.COUNT] = 0
    return replace(prepared, panel=panel)


def test_a_secondary_outcome_that_cannot_be_estimated_is_a_stated_block(prepared):
    broken = _without_crimes(prepared, ASB, post=True)
    ev = evaluate(broken, registry=_small_registry())
    vawg, asb, _reports = ev.outcomes
    assert vawg.estimated and vawg.get("conformal") is not None
    assert not asb.estimated and asb.results == {}
    assert "no recorded 'Anti-social behaviour' in the 12 months from the start" in asb.reason
    assert {e.outcome for e in ev.estimates} == {VAWG, REPORTS}
    doc = ev.results_document().to_json_dict()
    assert doc["outcomes_not_estimated"] == [{"outcome": ASB, "reason": asb.reason}]
    block = sections.outcome_section(build_context(ev), asb, primary=False)
    assert block.title == ASB
    (text,) = block.blocks
    assert text.text.startswith(f"{ASB} could not be estimated, because the pilot")


def test_the_primary_outcome_failing_fails_clearly(prepared):
    broken = _without_crimes(prepared, VAWG, post=False)
    with pytest.raises(
        DataValidationError,
        match=r"VAWG-related offences \(the primary outcome\) "
        r"cannot be estimated: the pilot area has no recorded",
    ):
        evaluate(broken, registry=_small_registry())


def test_registry_refuses_what_it_cannot_run():
    reg = Registry()
    a = Analysis(name="a", role="check", label="A", assumes="-", run=lambda x: None)
    reg.add(a)
    with pytest.raises(ConfigError, match="already registered"):
        reg.add(a)
    with pytest.raises(ConfigError, match="needs 'zzz', which must be registered before it"):
        reg.add(
            Analysis(
                name="b", role="check", label="B", assumes="-", run=lambda x: None, needs=("zzz",)
            )
        )
    with pytest.raises(ConfigError, match="role must be one of headline, check, secondary"):
        Analysis(name="c", role="robustness", label="C", assumes="-", run=lambda x: None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="cannot be imported"):
        pe.load_plugins("no_such_module_for_pilot_eval")


def test_builtin_registry_declares_every_analysis():
    reg = pe.default_registry()
    names = reg.names()
    assert names[:3] == ("dispersion", "mde", "conformal")
    for a in reg:
        assert a.label and a.assumes, a.name
        for need in a.needs:
            assert names.index(need) < names.index(a.name)


def test_plan_foresees_what_evaluate_leaves_out(prepared):
    never = Analysis(
        name="never",
        role="check",
        label="Never",
        assumes="-",
        run=lambda x: pytest.fail("plan fits nothing"),
        requires=lambda x: "not here",
    )
    reg = _small_registry(never)
    planned = pe.pipeline.plan(prepared, registry=reg)
    assert [(n.outcome, n.analysis, n.reason) for n in planned] == [
        (VAWG, "never", "not here"),
        (ASB, "never", "not here"),
        (REPORTS, "never", "not here"),
    ]
    ev = evaluate(prepared, registry=reg)
    assert ev.not_computed == planned
    broken = _without_crimes(prepared, ASB, post=True)
    (only_asb,) = [n for n in pe.pipeline.plan(broken, registry=_small_registry())]
    assert only_asb.analysis == "*" and only_asb.outcome == ASB


def test_validate_prints_the_plan(demo_pilot, capsys):
    from pilot_eval.cli import main

    assert main(["validate", str(demo_pilot.config_path)]) == 0
    out = capsys.readouterr().out
    assert "OK: the config and its data are ready to run." in out
    # the demo runs every built-in analysis, except the crimes-only ones for the reports and
    # harm / social cost where no figure per crime is given (only the primary outcome has one)
    not_computed = [line for line in out.splitlines() if line.startswith("Not computed")]
    harm = "Harm prevented (Crime Severity Score, days of custody equivalent)"
    cost = "Social cost of the crimes prevented (Home Office unit costs)"
    not_crimes = "StreetSafe / QR-code reports are not crimes, so none are 'prevented'."
    assert not_computed == [
        f"Not computed for '{ASB}': {harm}, because no harm weight per crime was given for "
        "this outcome.",
        f"Not computed for '{ASB}': {cost}, because no social cost per crime was given for "
        "this outcome.",
        f"Not computed for '{REPORTS}': Spatial point pattern test: did each area keep its "
        "share of the crimes?, because it compares where recorded crimes happened.",
        f"Not computed for '{REPORTS}': Cost per crime prevented, because {not_crimes}",
        f"Not computed for '{REPORTS}': {harm}, because {not_crimes}",
        f"Not computed for '{REPORTS}': {cost}, because {not_crimes}",
    ]
