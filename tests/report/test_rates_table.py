"""Rates per 1,000 residents beside the counts, from the demo's population file."""

from __future__ import annotations

import pilot_eval as pe
from pilot_eval.report import report_context
from pilot_eval.report.sections import before_after_table


def test_before_after_table_gives_rates(demo_pilot):
    ev = pe.evaluate(pe.prepare(demo_pilot.config_path))
    ctx = report_context(ev, config_path=demo_pilot.config_path)
    o = ctx.primary
    rates = o["per_resident"]
    residents = demo_pilot.truth["population"]["residents"]
    assert rates.treated_population == residents["DEMO01"]
    table = before_after_table(ctx, o).frame.set_index("Area")
    before = "Rate before"
    assert table.loc["Pilot area", before] == f"{rates.treated_pre_rate:.1f}"
    assert rates.treated_pre_rate == 1000 * 12 * rates.treated_pre / (36 * residents["DEMO01"])
    assert table.loc["Area around it (buffer)", before] == "–"
