"""Every input file the config names is read by prepare and kept on PreparedPilot (issue 12)."""

from __future__ import annotations

from test_catalogue import POPULATION, STREETSAFE

from pilot_eval.pipeline import prepare


def test_streetsafe_and_population_are_read_and_kept(make_case):
    c = make_case()
    (c.data / "qr.csv").write_text(STREETSAFE)
    (c.data / "pop.csv").write_text(POPULATION)
    c.raw["data"].update(streetsafe="../data/qr.csv", population="../data/pop.csv")
    c.save()
    prepared = prepare(c.config)
    assert prepared.streetsafe is not None and list(prepared.streetsafe["category"]) == [
        "Poor lighting"
    ]
    assert "description" not in prepared.streetsafe.columns  # free text never read
    assert prepared.population is not None and len(prepared.population) == 18


def test_without_them_the_fields_are_none(make_case):
    prepared = prepare(make_case().config)
    assert prepared.streetsafe is None and prepared.population is None
