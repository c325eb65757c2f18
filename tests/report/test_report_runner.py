"""The report runner: atomic publish, clear failures, unknown parameters rejected.

Uses tiny notebooks so the behaviour of ``run_pilot`` is tested apart from the statistics.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from pilot_eval.errors import ConfigError, ReportError
from pilot_eval.report.run import run_pilot

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "pilots" / "demo-belvedere.yml"


def _notebook(path: Path, body: str) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('config_path = ""\noutput_dir = ""\nthreshold = 5')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_markdown_cell("# Tiny report"),
        nbformat.v4.new_code_cell(body),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


GOOD = """
import json, pathlib
print("HEADLINE: fewer crimes")
pathlib.Path(output_dir, "results.json").write_text(json.dumps({"pilot": "x", "threshold": threshold}))
"""
BAD = """
raise ValueError("boundaries file has no area DEMO99")
"""


def test_success_publishes_all_outputs_without_code(tmp_path):
    nb = _notebook(tmp_path / "nb.ipynb", GOOD)
    out = run_pilot(
        DEMO, output_root=tmp_path / "reports", notebook=nb, parameters={"threshold": 7}
    )
    assert out.folder == (tmp_path / "reports" / "demo-belvedere").resolve()
    html = out.report_html.read_text()
    assert "HEADLINE: fewer crimes" in html
    assert "pathlib.Path(output_dir" not in html, "code must not appear in the report"
    assert json.loads(out.results_json.read_text())["threshold"] == 7
    assert out.notebook.is_file()
    # no staging folders left behind
    assert [p.name for p in (tmp_path / "reports").iterdir()] == ["demo-belvedere"]


def test_failure_leaves_no_report_and_says_where_the_notebook_is(tmp_path):
    reports = tmp_path / "reports"
    good = _notebook(tmp_path / "good.ipynb", GOOD)
    run_pilot(DEMO, output_root=reports, notebook=good)
    bad = _notebook(tmp_path / "bad.ipynb", BAD)
    with pytest.raises(ReportError) as ei:
        run_pilot(DEMO, output_root=reports, notebook=bad)
    msg = str(ei.value)
    folder = reports / "demo-belvedere"
    failed = folder / "evaluate_pilot.FAILED.ipynb"
    assert str(failed.resolve()) in msg
    assert "boundaries file has no area DEMO99" in msg
    assert failed.is_file()
    # the earlier run's report must not survive looking current
    assert not (folder / "report.html").exists()
    assert not (folder / "results.json").exists()
    assert [p.name for p in reports.iterdir()] == ["demo-belvedere"]


def test_unknown_parameter_rejected_before_running(tmp_path):
    nb = _notebook(tmp_path / "nb.ipynb", GOOD)
    with pytest.raises(ReportError, match=r"unknown notebook parameter\(s\) \['treshold'\]"):
        run_pilot(DEMO, output_root=tmp_path / "r", notebook=nb, parameters={"treshold": 3})
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())


def test_invalid_config_fails_before_running(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("name: x\n")
    with pytest.raises(ConfigError):
        run_pilot(bad, output_root=tmp_path / "r", notebook=_notebook(tmp_path / "n.ipynb", GOOD))
    assert not (tmp_path / "r").exists()


def test_cli_reports_errors_plainly(tmp_path, capsys):
    from pilot_eval.cli import main

    code = main(["run", str(tmp_path / "missing.yml")])
    assert code == 2
    assert "no such config file" in capsys.readouterr().err


NO_RESULTS = """
print("ran, but forgot to write results")
"""
DIES = """
import os
os._exit(1)
"""


@pytest.mark.parametrize("body", [NO_RESULTS, DIES], ids=["no-results-json", "kernel-dies"])
def test_any_failure_removes_the_old_report(tmp_path, body):
    reports = tmp_path / "reports"
    run_pilot(DEMO, output_root=reports, notebook=_notebook(tmp_path / "good.ipynb", GOOD))
    folder = reports / "demo-belvedere"
    assert (folder / "report.html").is_file()
    with pytest.raises(ReportError) as ei:
        run_pilot(DEMO, output_root=reports, notebook=_notebook(tmp_path / "bad.ipynb", body))
    assert not (folder / "report.html").exists()
    assert not (folder / "results.json").exists()
    failed = folder / "evaluate_pilot.FAILED.ipynb"
    assert failed.is_file() and str(failed.resolve()) in str(ei.value)
    assert [p.name for p in reports.iterdir()] == ["demo-belvedere"]  # no staging left


def test_reserved_parameters_rejected(tmp_path):
    nb = _notebook(tmp_path / "nb.ipynb", GOOD)
    with pytest.raises(ReportError, match="set by pilot-eval run itself"):
        run_pilot(DEMO, output_root=tmp_path / "r", notebook=nb, parameters={"output_dir": "x"})
