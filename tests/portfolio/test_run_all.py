"""pilot-eval run-all: parallel runs, failure isolation, the index (HTML and JSON)."""

from __future__ import annotations

import json
from html.parser import HTMLParser

from pilot_eval.portfolio.index import render_index
from pilot_eval.portfolio.run_all import collect_configs

from .conftest import HOSTILE


def test_run_all_exit_code_and_progress_lines(batch):
    assert batch.exit_code == 2  # one pilot failed
    lines = batch.output.splitlines()
    for name in ("demo-belvedere.yml", "demo-area07.yml", "broken.yml"):
        assert f"queued   {name}" in lines
    assert any(line.startswith("done     demo-belvedere.yml") for line in lines)
    assert any(line.startswith("done     demo-area07.yml") for line in lines)
    failed = [line for line in lines if line.startswith("failed   broken.yml")]
    assert failed and "FAILED.txt" in failed[0]
    assert "2 of 3 pilot(s) done" in batch.output


def test_index_json_rows(batch):
    doc = json.loads((batch.root / "index.json").read_text())
    rows = {r["config"]: r for r in doc["pilots"]}
    assert list(rows) == ["demo-belvedere.yml", "demo-area07.yml", "broken.yml"]
    for name, slug in (
        ("demo-belvedere.yml", "demo-belvedere"),
        ("demo-area07.yml", "demo-area07"),
    ):
        r = rows[name]
        res = json.loads((batch.root / slug / "results.json").read_text())
        head = next(
            e for e in res["estimates"] if e["role"] == "headline" and e["method"] == "conformal"
        )
        assert r["status"] == "done" and r["report"] == f"{slug}/report.html"
        assert (batch.root / r["report"]).is_file()
        assert r["sentence"] == res["summary"]["sentence"]
        assert r["evidence_level"] == res["summary"]["evidence_level"]
        assert r["estimate"] == head["estimate"] and r["ci_low"] == head["ci_low"]
        assert r["ci_high"] == head["ci_high"] and r["level"] == head["level"]
        assert r["mde_pct_change"] == res["power"][0]["mde_pct_change"]
        assert r["title"] == res["title"]
    bad = rows["broken.yml"]
    assert bad["status"] == "failed" and bad["report"] is None
    assert "broken.yml" in bad["error"] and bad["failed_note"] == "broken-pilot/FAILED.txt"
    assert "DEMO99" in bad["error"]  # what failed, in the words validate uses
    note = (batch.root / "broken-pilot" / "FAILED.txt").read_text()
    assert "refused before the notebook started" in note and "DEMO99" in note
    # refused by validate's checks before a kernel started: no notebook to inspect
    assert not (batch.root / "broken-pilot" / "evaluate_pilot.FAILED.ipynb").exists()
    assert bad.get("failed_notebook") is None
    assert bad["title"] == HOSTILE  # data in JSON, escaped only in HTML


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(html: str) -> _Page:
    p = _Page()
    p.feed(html)
    return p


def test_index_html_is_accessible_offline_and_escaped(batch):
    html = (batch.root / "index.html").read_text()
    page = _parse(html)
    names = [t for t, _ in page.tags]
    assert ("html", {"lang": "en"}) in page.tags
    assert names.count("h1") == 1
    for tag in ("header", "main", "footer", "caption", "table"):
        assert tag in names
    assert "script" not in names and "img" not in names  # the hostile title stayed text
    ths = [a for t, a in page.tags if t == "th"]
    assert ths and all(a.get("scope") in ("col", "row") for a in ths)
    links = [a["href"] for t, a in page.tags if t == "a" and not a["href"].startswith("#")]
    assert links == [
        "demo-belvedere/report.html",
        "demo-area07/report.html",
        "broken-pilot/FAILED.txt",
    ]
    assert "http" not in html.replace("https://", "").split("<style>")[0]  # no network
    assert HOSTILE in "".join(page.text)  # shown as text, escaped
    assert "&lt;/script&gt;&lt;img" in html
    res = json.loads((batch.root / "demo-belvedere" / "results.json").read_text())
    assert res["summary"]["sentence"] in "".join(page.text)


def test_index_escapes_a_hostile_title_in_a_done_row():
    row = {
        "config": "x.yml",
        "slug": "x",
        "title": HOSTILE,
        "status": "done",
        "error": None,
        "failed_note": None,
        "failed_notebook": None,
        "report": "x/report.html",
        "sentence": HOSTILE,
        "figure": "rate ratio 0.80",
        "mde_pct_change": -35.0,
        "evidence_level": 3,
    }
    html = render_index([row])
    page = _parse(html)
    assert "img" not in [t for t, _ in page.tags] and "<script" not in html.split("<style>")[0]
    assert "35 % fall" in html and "3 of 5" in html


def test_collect_configs_takes_folders_and_files(batch_pilots):
    found = collect_configs([batch_pilots, batch_pilots / "broken.yml"])
    names = [p.name for p in found]
    # the folder is the session's demo pilots folder, where other tests may add variants:
    # every .yml in it, once each (broken.yml given twice), in name order
    assert names == sorted(names) and len(names) == len(set(names))
    assert {"broken.yml", "demo-area07.yml", "demo-belvedere.yml"} <= set(names)
    assert set(names) == {p.name for p in batch_pilots.glob("*.yml")}


def test_rich_board_shows_one_line_per_pilot():
    import io

    from pilot_eval.portfolio.run_all import _Board

    out = io.StringIO()
    board = _Board(["a.yml", "b.yml"], out, fancy=True)
    board.set(0, "running")
    board.set(0, "done", "12 s")
    board.set(1, "failed", "bad config")
    board.close()
    text = out.getvalue()
    assert "a.yml" in text and "done" in text and "failed" in text and "bad config" in text
