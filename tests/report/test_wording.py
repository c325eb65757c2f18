"""Every sentence true: the report's words checked on the demo and on other worlds.

Worlds: the demo (a true 25 % fall), the demo with anti-social behaviour as the primary
outcome (no effect), two treated areas, alpha = 0.10, an illustrative start, and the real
Belvedere ward config (skipped without ../shared). For each: the summary is short, names
no method and gives no analyst instruction; every number in the summary and the main
result's text is in results.json; no absolute path; the rank sentence counts what it says.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import yaml

import pilot_eval as pe
from pilot_eval.report import all_sections, report_context
from pilot_eval.report.page import render_page, summary_json
from shared_data import need_shared

ROOT = Path(__file__).resolve().parents[2]
VAWG, ASB = "VAWG-related offences", "Anti-social behaviour"

METHOD_WORDS = re.compile(
    r"conformal|placebo|difference-in-differences|poisson|wdd|weighted displacement|"
    r"synthetic control|event study|p-value|p =|regression",
    re.I,
)
ANALYST_WORDS = re.compile(r"`|\bconfig\b|data\.|\.csv|\.ya?ml|notebook|intervention\.components")
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"


def _variant(demo_pilot, tmp_path: Path, name: str, **changes) -> Path:
    raw = yaml.safe_load(demo_pilot.config_path.read_text())
    for key in ("crimes", "boundaries", "interventions", "survey", "population", "streetsafe"):
        if raw["data"].get(key):
            raw["data"][key] = str((demo_pilot.config_path.parent / raw["data"][key]).resolve())
    for comp in raw["intervention"].get("components", []):
        if comp.get("locations"):
            comp["locations"] = str((demo_pilot.config_path.parent / comp["locations"]).resolve())
    for dotted, value in changes.items():
        node = raw
        *path, last = dotted.split(".")
        for k in path:
            node = node[k]
        node[last] = value
    out = tmp_path / f"{name}.yml"
    out.write_text(yaml.safe_dump(raw, sort_keys=False))
    return out


def _world(config: Path, out: Path):
    ev = pe.evaluate(pe.prepare(config))
    ctx = report_context(ev, config_path=config)
    sections = all_sections(ctx)
    doc = ev.results_document()
    doc.extra["summary"] = summary_json(ctx, sections)
    doc.extra["provenance"] = ctx.provenance
    return ev, ctx, sections, doc.to_json_dict(), render_page(ctx, sections)


@pytest.fixture(scope="module")
def worlds(demo_pilot, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("worlds")
    raw = yaml.safe_load(demo_pilot.config_path.read_text())
    asb_first = [raw["outcomes"][1], raw["outcomes"][0], *raw["outcomes"][2:]]
    configs = {
        "demo": demo_pilot.config_path,
        "null": _variant(demo_pilot, tmp, "null", outcomes=asb_first),
        "two-treated": _variant(demo_pilot, tmp, "two", **{"treated.codes": ["DEMO01", "DEMO07"]}),
        "alpha-0.10": _variant(demo_pilot, tmp, "alpha", **{"report.alpha": 0.10}),
        "illustrative": _variant(
            demo_pilot,
            tmp,
            "illus",
            **{
                "intervention.illustrative": True,
                "intervention.note": "The start date is a what-if.",
            },
        ),
    }
    return {k: _world(v, tmp / k) for k, v in configs.items()}


WORLDS = ["demo", "null", "two-treated", "alpha-0.10", "illustrative"]


def _numbers(text: str) -> list[tuple[float, int]]:
    """Numbers in running text, as (value, decimals); years beside a month are left out."""
    text = re.sub(rf"(?:{MONTHS}) (?:19|20)\d\d", " ", text)
    out = []
    for m in re.finditer(r"(?<![\w.])[-−+]?£?\d[\d,]*(?:\.\d+)?", text):
        s = m.group(0).replace("−", "-").replace("£", "").replace(",", "")
        dec = len(s.split(".")[1]) if "." in s else 0
        out.append((float(s), dec))
    return out


def _json_values(doc) -> list[float]:
    vals: list[float] = []

    def walk(x):
        if isinstance(x, bool):
            return
        if isinstance(x, int | float):
            vals.append(float(x))
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk({k: v for k, v in doc.items() if k != "provenance"})
    return vals


def _explained(x: float, dec: int, values: list[float]) -> bool:
    """Is ``x`` (shown with ``dec`` decimals) a rounding of some results.json value, as a
    count, a ratio, a percentage or a percentage change?"""
    tol = 10.0**-dec + 1e-9
    for v in values:
        cands = (v, 100 * v, 100 * (1 - v), 100 * (v - 1), 1 / v if v else math.inf)
        if any(abs(abs(c) - abs(x)) <= tol for c in cands if math.isfinite(c)):
            return True
    return False


def _main_text(sections) -> str:
    summary = sections[0].words()
    effect = sections[1]
    main = effect.subsections[0]
    return summary + " " + " ".join(b.words() for b in main.blocks)


@pytest.mark.parametrize("world", WORLDS)
def test_every_number_in_the_summary_and_main_result_is_in_results_json(worlds, world):
    _, _, sections, doc, _ = worlds[world]
    values = _json_values(doc) + [1.0, 2.0, 3.0, 4.0, 5.0]  # "level 3 of 5"
    text = _main_text(sections)
    unexplained = [(x, d) for x, d in _numbers(text) if not _explained(x, d, values)]
    assert not unexplained, (unexplained, text)


def test_the_checker_catches_a_wrong_number(worlds):
    _, _, sections, doc, _ = worlds["demo"]
    values = _json_values(doc)
    assert not _explained(635376.0, 0, values)
    assert _explained(*_numbers("19 % lower")[0], values)


@pytest.mark.parametrize("world", WORLDS)
def test_summary_is_short_plain_and_for_funders(worlds, world):
    _, _, sections, doc, _ = worlds[world]
    words = sections[0].words()
    assert len(words.split()) < 150, len(words.split())
    assert not METHOD_WORDS.search(words), METHOD_WORDS.search(words)
    assert not ANALYST_WORDS.search(words)
    assert doc["summary"]["sentence"] in words.replace("**", "")
    assert doc["summary"]["evidence_level"] == 3


@pytest.mark.parametrize("world", WORLDS)
def test_page_has_no_false_or_leaky_phrases(worlds, world):
    ev, _, sections, _, page = worlds[world]
    body = " ".join(s.words() for s in sections)
    assert "10,000 possible" not in body
    assert not re.search(r"\bp\s*=\s*0(?![.\d])", body)
    assert not re.search(r"\bno effect\b", body, flags=re.I)
    assert not ANALYST_WORDS.search(" ".join(s.words() for s in sections[:-1]))
    assert "Make this Notebook Trusted" not in page
    assert "/work/" not in page and "/tmp/" not in page and str(ROOT) not in page
    assert "short of 80" not in body
    main_words = sum(len(s.words().split()) for s in sections[:-1])
    # The main body reads in about 6 minutes with two outcomes; each further outcome (e.g. the
    # StreetSafe reports) may add a short section of its own. (Issue 10 aimed at ~1,000 words;
    # the displacement checks of issue 13 added ~100: a known miss, not a hidden one.)
    limit = 1700 + 200 * max(0, len(ev.outcomes) - 2)
    # Harm and social cost are opt-in (outcomes[].harm_weight / unit_cost): each configured one
    # adds a sentence, and the outcomes without one a "not computed" line.
    valued = [a for a in ("harm", "social_cost") if ev.primary.get(a) is not None]
    limit += 60 * len(valued)
    assert main_words < limit, main_words


def test_rank_sentence_counts_sets_truly(worlds):
    _, ctx, sections, doc, _ = worlds["two-treated"]
    pl = doc["placebo"][0]
    text = _main_text(sections)
    n_sets = math.comb(ctx.n_areas, 2)
    assert f"{n_sets:,} possible sets of areas" in text
    if pl["n_reference"] < n_sets:
        assert "drawn at random" in text
    one = _main_text(worlds["demo"][2])
    assert "possible sets" not in one and "to each of the 18 areas" in one


def test_floor_sentence_follows_alpha(worlds):
    five = _main_text(worlds["demo"][2])
    assert "can never reach the 5 % level" in five  # 1/18 > 0.05
    ten = _main_text(worlds["alpha-0.10"][2])
    assert "can never reach" not in ten  # 1/18 < 0.10
    # the interval's level follows alpha (T = 48 months: 1 - 4/48 = 91.6 %, rounded down)
    assert "(91.6 % interval" in worlds["alpha-0.10"][3]["summary"]["sentence"]


def test_null_world_is_not_called_a_change(worlds):
    _, _, _, doc, _ = worlds["null"]
    s = doc["summary"]["sentence"]
    cf = doc["estimates"][0]
    assert cf["outcome"] == ASB and cf["method"] == "conformal"
    assert (cf["ci_low"] <= 1 <= cf["ci_high"]) == ("not clear evidence" in s)


def test_illustrative_dates_flagged_everywhere(worlds):
    _, ctx, sections, doc, page = worlds["illustrative"]
    assert "illustrative" in ctx.title.lower()
    assert "illustrative" in sections[0].words().lower()
    main = sections[1].subsections[0]
    assert any("illustrative" in b.words().lower() for b in main.blocks)
    assert doc["summary"]["illustrative_dates"] is True
    assert "Illustrative dates" in page


def test_real_belvedere_report_words():
    need_shared("data/mps/vawg-offences.parquet", "data/boundaries/bexley_wards_2018.geojson")
    cfg = ROOT / "pilots" / "belvedere-ward-vawg.yml"
    ev, ctx, sections, doc, page = _world(cfg, Path("."))
    text = _main_text(sections)
    values = _json_values(doc) + [1.0, 2.0, 3.0, 4.0, 5.0]
    assert not [(x, d) for x, d in _numbers(text) if not _explained(x, d, values)]
    assert len(sections[0].words().split()) < 150
    assert ctx.illustrative and "illustrative" in sections[0].words().lower()
    assert "No costs were recorded" in sections[0].words()
