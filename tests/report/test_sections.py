"""The report's sections and page on the demo: tables suppressed, provenance recorded,
reruns byte-identical, the page self-contained."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

import pilot_eval as pe
from pilot_eval import columns as C
from pilot_eval.report import all_sections, report_context, sections
from pilot_eval.report.page import publish


@pytest.fixture(scope="module")
def evaluation(demo_pilot):
    return pe.evaluate(pe.prepare(demo_pilot.config_path))


@pytest.fixture(scope="module")
def ctx(evaluation, demo_pilot):
    return report_context(evaluation, config_path=demo_pilot.config_path)


def test_before_after_table_suppresses_small_counts(ctx):
    block = ctx.primary
    totals = block.totals.copy()
    totals.loc[totals[C.GROUP] == "buffer", ["pre", "post"]] = [3, 0]
    table = sections.before_after_table(ctx, replace(block, totals=totals)).frame
    row = table[table["Area"].str.startswith("Area around")].iloc[0]
    assert ctx.threshold == 10  # the default: the demo config does not set it
    assert row.iloc[1] == "<10" and row.iloc[2] == "0"  # a true zero is not a small count
    assert row["Rate before"] == "–" and row["Raw change"] == "–"  # demo: rates per 1,000
    for col in table.columns[1:3]:
        for v in table[col]:
            assert v in ("<10", "0") or int(v.replace(",", "")) >= 10


def test_threshold_is_configurable_never_below_3(demo_pilot, tmp_path):
    import yaml

    from pilot_eval.errors import ConfigError

    raw = yaml.safe_load(demo_pilot.config_path.read_text())
    raw["report"]["small_count_threshold"] = 2
    bad = tmp_path / "bad.yml"
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match="small_count_threshold"):
        pe.load_config(bad)


def test_estimates_table_has_every_estimate_with_real_levels(ctx, evaluation):
    t = sections.estimates_table(ctx).frame
    assert len(t) == len(evaluation.estimates)
    placebo = t[t["Method"].str.startswith("Placebo")].iloc[0]
    assert placebo["Interval"].startswith("88.8 %")  # 1 - 2/18, rounded down
    main = t[t["Role"] == "Main"].iloc[0]
    assert main["Interval"].startswith("95.8 %")  # conformal, 1 - 2/48


def test_no_information_checks_are_not_shown(ctx):
    nc = sections.not_computed(ctx).words()
    pt = ctx.primary.get("placebo_time")
    agree = sections.outcome_section(ctx, ctx.primary, primary=True).subsections[0].words()
    if pt.n_fake >= 6:
        assert f"Computed at {pt.n_fake} fake start dates" in agree
    else:
        assert "fake start" not in agree.lower() and "Fake start dates" in nc


def test_every_table_has_a_caption_and_every_figure_alt_text(ctx):
    def walk(s):
        yield from s.blocks
        for sub in s.subsections:
            yield from walk(sub)

    blocks = [b for s in all_sections(ctx) for b in walk(s)]
    tables = [b for b in blocks if isinstance(b, pe.report.Table)]
    figures = [b for b in blocks if isinstance(b, pe.report.Figure)]
    assert tables and figures
    assert all(t.caption for t in tables)
    for f in figures:
        assert len(f.alt) > 40 and "No description" not in f.alt and f.caption


def test_provenance_and_summary_in_results_json(evaluation, demo_pilot, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764547200")
    results, page = publish(evaluation, tmp_path, config_path=demo_pilot.config_path)
    doc = json.loads(results.read_text())
    prov = doc["provenance"]
    assert prov["config"]["path"] == "demo-belvedere.yml"
    assert re.fullmatch(r"[0-9a-f]{64}", prov["config"]["sha256"])
    fields = {i["field"] for i in prov["inputs"]}
    assert {"data.crimes", "data.boundaries", "data.interventions", "data.survey"} <= fields
    assert all(not i["path"].startswith("/") for i in prov["inputs"])
    assert (
        prov["run_date"] == "2025-12-01T00:00:00Z"
        and prov["run_date_source"] == "SOURCE_DATE_EPOCH"
    )
    assert {"pilot-eval", "pandas", "statsmodels", "geopandas"} <= set(prov["packages"])
    assert doc["summary"]["evidence_level"] == 3
    assert doc["summary"]["sentence"].startswith("Recorded VAWG-related offences in Demo")
    html = page.read_text(encoding="utf-8")
    assert prov["config"]["sha256"] in html  # the provenance section


def test_an_edited_input_changes_its_digest(demo_pilot, tmp_path):
    from pilot_eval.pipeline.provenance import file_digest

    f = tmp_path / "x.csv"
    f.write_bytes(b"a,b\n1,2\n")
    before = file_digest(f)
    f.write_bytes(b"a,b\n1,3\n")  # same size
    assert file_digest(f)[0] != before[0] and file_digest(f)[1] == before[1]


def test_page_is_self_contained_and_byte_identical(evaluation, demo_pilot, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764547200")
    _, a = publish(evaluation, tmp_path / "a", config_path=demo_pilot.config_path)
    _, b = publish(evaluation, tmp_path / "b", config_path=demo_pilot.config_path)
    assert a.read_bytes() == b.read_bytes()
    assert (tmp_path / "a" / "results.json").read_bytes() == (
        tmp_path / "b" / "results.json"
    ).read_bytes()
    html = a.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "<script" not in html and "MathJax" not in html and "require.js" not in html
    assert html.count("<h1") == 1 and '<html lang="en">' in html


class _Outcome:
    """Just enough of an OutcomeEvaluation for the displacement wording."""

    def __init__(self, **results):
        self._r = results

    def get(self, name):
        return self._r.get(name)


@pytest.mark.parametrize(
    ("totals", "says"),
    [
        # (treated, buffer, control) (pre, post) totals, and what the sentence must conclude
        (((3000, 1800), (4000, 2400), (20000, 19000)), "the benefit spread into the buffer"),
        (((3000, 1800), (4000, 4400), (20000, 19000)), "crime moved into the buffer"),
        (((3000, 1800), (4000, 3800), (20000, 19000)), "it cannot tell which"),
    ],
)
def test_wdq_sentence_says_what_its_interval_shows(totals, says):
    from pilot_eval.estimators import wdq_interval_counts

    q = wdq_interval_counts(*totals, seed=2)
    assert q.defined
    (text,) = sections._wdq_text(None, _Outcome(wdq=q))
    words = text.words()
    assert words.endswith(says + ".")
    two = sections._two
    assert f"is {two(q.wdq)} (95 % interval {two(q.ci_low)} to {two(q.ci_high)}):" in words
    assert "-0.00" not in words
    # the reading agrees with the numbers it stands beside
    assert (q.ci_low > 0) == ("spread" in says) and (q.ci_high < 0) == ("moved" in says)


@pytest.mark.parametrize(
    ("totals", "because"),
    [
        (((100, 110), (80, 70), (200, 190)), "did not fall relative to the comparison areas"),
        (((20, 18), (30, 30), (200, 190)), "too uncertain"),
        (((20, 18), (30, 30), (0, 190)), "recorded none"),
    ],
)
def test_wdq_sentence_says_why_it_is_missing(totals, because):
    from pilot_eval.estimators import wdq_interval_counts

    q = wdq_interval_counts(*totals)
    (text,) = sections._wdq_text(None, _Outcome(wdq=q))
    assert because in text.words() and "is not given" in text.words()
    assert not re.search(r"\d", text.words().replace("2003", ""))  # no number without its interval


@pytest.mark.parametrize(
    ("est", "se", "says"),
    [
        (-40.0, 10.0, "the benefit spread next door."),
        (40.0, 10.0, "crime moved next door."),
        (-10.0, 10.0, "the data cannot tell crime moving next door"),
    ],
)
def test_displacement_sentence_reads_its_interval(est, se, says):
    from types import SimpleNamespace

    ctx = SimpleNamespace(
        alpha=0.05,
        config=SimpleNamespace(buffer_m=400.0, data=SimpleNamespace(source="police_uk")),
    )
    w = SimpleNamespace(has_displacement=True, est_displace=est, se_displace=se)
    o = _Outcome(wdd=w)
    o.outcome = "Burglary"
    sec = sections._displacement(ctx, o)
    text = sec.blocks[0].words()
    assert says in text
    lo, hi = est - 1.959964 * se, est + 1.959964 * se
    assert f"interval {lo:+,.0f} to {hi:+,.0f};" in text
    assert ("fewer" in text) == (est < 0)


def test_density_maps_show_before_and_after_on_a_grid_never_points(ctx):
    """Point data: the displacement section maps crimes per 200 m square, small counts hidden."""
    from pilot_eval.report.blocks import Figure

    main = all_sections(ctx)[1].subsections[0]
    disp = next(s for s in main.subsections if s.id.startswith("displacement-"))
    (fig,) = [b for b in disp.blocks if isinstance(b, Figure)]
    assert fig.alt.startswith("Two maps side by side of crimes counted in")
    assert "12 months before the start (left) and 12 months after the start (right)" in fig.alt
    assert f"fewer than {ctx.threshold} crimes" in fig.alt and "no single crime" in fig.caption
    assert fig.png.startswith(b"\x89PNG")
    # the counts behind it are the outcome's own crimes in the pilot area and buffer
    inc = ctx.evaluation.prepared.incidents
    assert inc is not None and {"x", "y", "month", "crime_type", "area"} <= set(inc.columns)
    assert inc["area"].notna().all()


def test_point_pattern_sentence_names_each_area_s_share_truly(ctx):
    """The sentence agrees with the test's own per-area verdicts (demo: point data)."""
    sp = ctx.primary["sppt"]
    (text,) = sections._sppt_text(ctx, ctx.primary)
    words = text.words()
    n_similar = int(sp.per_unit["similar"].sum())
    assert f"{n_similar} of the {sp.n_units} areas kept a similar share" in words
    assert f"S = {sp.s_index:.2f};" in words
    groups = ctx.evaluation.prepared.areas.set_index("area")["group"]
    for group, name in (("treated", "the pilot area"), ("buffer", "the buffer")):
        rows = sp.per_unit[sp.per_unit["unit"].map(groups) == group]
        if rows["similar"].all():
            assert f"{name}'s share did not change beyond chance" in words
        else:
            (way,) = set(rows.loc[~rows["similar"], "direction"])
            assert f"{name}'s share changed beyond chance ({way} after)" in words
    assert "secondary, as it treats crimes as independent" in words


def test_social_cost_and_harm_sentences_carry_the_headline_interval(ctx):
    """Demo: both are configured; each sentence gives its figure, interval and reading."""
    sc, hm = ctx.primary["social_cost"], ctx.primary["harm"]
    texts = [t.words() for t in sections._valued_texts(ctx)]
    assert len(texts) == 2
    cost, harm = texts
    m = sections._signed_money
    assert f"worth {m(sc.estimate)} (95.8 % interval {m(sc.ci_low)} to {m(sc.ci_high)})" in cost
    assert "2024/25 prices (uprated by 1.25" in cost
    assert ("the interval includes no saving" in cost) == (sc.ci_low <= 0)
    assert f"that is {sections._sig3(hm.estimate)} days" in harm
    assert ("the interval includes no harm avoided" in harm) == (hm.ci_low <= 0)
    # the interval is the headline's, scaled by one fixed figure per crime
    pre = ctx.primary["cost"]
    assert sc.ci_low == pytest.approx(pre.prevented_low * sc.per_crime * sc.factor)
    assert hm.ci_high == pytest.approx(pre.prevented_high * hm.per_crime)


@pytest.mark.parametrize(("x", "text"), [(2363443, "2,360,000"), (-4513, "-4,510"), (120, "120")])
def test_three_significant_figures(x, text):
    assert sections._sig3(x) == text
