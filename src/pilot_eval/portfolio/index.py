"""The portfolio index: ``index.html`` (accessible, offline, escaped) and ``index.json``.

One row per pilot: its title, the headline sentence (``results.json["summary"]["sentence"]``),
the headline figure and interval (the primary outcome's ``estimates`` row with role
``headline`` and method ``conformal``), the minimum detectable effect
(``power[0]["mde_pct_change"]``), the evidence level and a relative link to its report. A
failed pilot is listed with the reason and where its failure note is.
"""

from __future__ import annotations

import json
import math
import os
from importlib.resources import files
from pathlib import Path
from typing import Any

__all__ = ["index_row", "render_index", "write_index"]

INDEX_HTML = "index.html"
INDEX_JSON = "index.json"


def _finite(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and math.isfinite(x) else None


def _headline(doc: dict[str, Any]) -> dict[str, Any] | None:
    rows = [
        e
        for e in doc.get("estimates", [])
        if e.get("role") == "headline" and e.get("method") == "conformal"
    ]
    return rows[0] if rows else None  # the primary outcome comes first


def _figure_text(h: dict[str, Any] | None) -> str:
    from ..wording import describe_interval, format_ratio

    if h is None or _finite(h.get("estimate")) is None:
        return ""
    text = f"rate ratio {format_ratio(h['estimate'])}"
    try:
        lo, hi = h.get("ci_low"), h.get("ci_high")
        lo = float("nan") if lo is None else lo
        hi = float("inf") if hi is None else hi
        text += f" ({describe_interval(lo, hi, h['level'])})"
    except Exception:  # an odd level: the figure without its interval
        pass
    return text


def index_row(run: dict[str, Any], root: Path) -> dict[str, Any]:
    """The index entry of one pilot: the run's row plus what its ``results.json`` says."""
    row: dict[str, Any] = {
        "config": Path(run["config"]).name,
        "slug": run.get("slug"),
        "title": run.get("title"),
        "status": run["status"],
        "error": run.get("error"),
        "failed_note": None,
        "report": None,
        "sentence": None,
        "outcome": None,
        "estimate": None,
        "ci_low": None,
        "ci_high": None,
        "level": None,
        "figure": "",
        "mde_pct_change": None,
        "evidence_level": None,
        "seconds": run.get("seconds"),
    }
    row["failed_notebook"] = None
    row["previous_report"] = None
    for key in ("failed_note", "failed_notebook", "previous_report"):
        if run.get(key):
            row[key] = os.path.relpath(run[key], root)
    if run["status"] != "done" or not run.get("slug"):
        return row
    folder = root / run["slug"]
    doc = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    summary = doc.get("summary") or {}
    h = _headline(doc)
    power = doc.get("power") or []
    row.update(
        title=doc.get("title", row["title"]),
        report=f"{run['slug']}/report.html",
        sentence=summary.get("sentence"),
        evidence_level=summary.get("evidence_level"),
        mde_pct_change=_finite(power[0].get("mde_pct_change")) if power else None,
    )
    if h is not None:
        row.update(
            outcome=h.get("outcome"),
            estimate=_finite(h.get("estimate")),
            ci_low=_finite(h.get("ci_low")),
            ci_high=_finite(h.get("ci_high")),
            level=_finite(h.get("level")),
            figure=_figure_text(h),
        )
    return row


def _mde_text(pct: float | None) -> str:
    if pct is None:
        return "not detectable"
    return f"{abs(pct):.0f} % {'fall' if pct < 0 else 'rise'}"


def render_index(rows: list[dict[str, Any]]) -> str:
    """The index page (jinja2 with autoescape: every title and sentence is escaped)."""
    import jinja2

    templates = files("pilot_eval.portfolio") / "templates"
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["mde"] = _mde_text
    tpl = env.from_string((templates / "index.html.j2").read_text(encoding="utf-8"))
    css = (files("pilot_eval.report") / "templates" / "report.css").read_text(encoding="utf-8")
    done = sum(r["status"] == "done" for r in rows)
    return tpl.render(rows=rows, css=css, n=len(rows), done=done)


def write_index(runs: list[dict[str, Any]], root: Path) -> tuple[Path, Path]:
    """Write ``index.json`` and ``index.html`` in ``root``; return their paths."""
    rows = [index_row(r, root) for r in runs]
    j = root / INDEX_JSON
    j.write_text(
        json.dumps(
            {"pilots": [{k: v for k, v in r.items() if k != "seconds"} for r in rows]},
            indent=2,
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    h = root / INDEX_HTML
    h.write_text(render_index(rows), encoding="utf-8")
    return h, j
