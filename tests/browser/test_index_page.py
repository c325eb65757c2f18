"""The portfolio index (reports/index.html) in the browser: the same rules as a report —
no axe violation, nothing requested offline, hostile titles shown as text, nothing run."""

from __future__ import annotations

from browser_helpers import describe_violations

from pilot_eval.portfolio.index import render_index

HOSTILE = "`${alert(1)}` </script><script>alert(1)</script><img src=x onerror=alert(1)> \"q'"


def _row(slug: str, status: str, **extra):
    row = {
        "config": f"{slug}.yml",
        "slug": slug,
        "title": f"Pilot {slug} {HOSTILE}",
        "status": status,
        "error": None,
        "failed_note": None,
        "failed_notebook": None,
        "report": f"{slug}/report.html" if status == "done" else None,
        "sentence": f"Recorded crime in {slug} were 19 % lower than expected {HOSTILE}",
        "figure": "rate ratio 0.81 (95.8 % interval 0.74 to 1.07)",
        "mde_pct_change": -35.0,
        "evidence_level": 3,
        "previous_report": None,
    }
    row.update(extra)
    return row


def test_index_page_in_the_browser(tmp_path, open_offline, run_axe):
    rows = [
        _row("alpha", "done"),
        _row(
            "beta",
            "failed",
            error=f"beta.yml: data.crimes: no such folder {HOSTILE}",
            failed_note="beta/FAILED.txt",
            sentence=None,
            figure=None,
            mde_pct_change=None,
            evidence_level=None,
        ),
    ]
    page_file = tmp_path / "index.html"
    page_file.write_text(render_index(rows), encoding="utf-8")
    opened = open_offline(page_file)
    assert opened.blocked == [] and opened.dialogs == [] and opened.page_errors == []
    violations = run_axe(opened.page)
    assert violations == [], describe_violations(violations)
    text = opened.page.inner_text("main")
    assert "alert(1)" in text and "onerror" in text  # shown, not run
