"""The report runner: atomic publish, clear failures, unknown parameters rejected.

Uses tiny notebooks so the behaviour of ``run_pilot`` is tested apart from the statistics.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from pilot_eval.errors import ConfigError, ReportError
from pilot_eval.report.run import NOTEBOOK_NAME, run_pilot

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


def _published(folder: Path) -> dict[str, bytes]:
    return {n: (folder / n).read_bytes() for n in ("report.html", "results.json", NOTEBOOK_NAME)}


def _visible(reports: Path) -> list[str]:
    """What is in the output root, lock files aside."""
    return sorted(p.name for p in reports.iterdir())


def test_failure_keeps_the_last_good_report_and_says_where_the_notebook_is(tmp_path):
    reports = tmp_path / "reports"
    good = _notebook(tmp_path / "good.ipynb", GOOD)
    run_pilot(DEMO, output_root=reports, notebook=good)
    folder = reports / "demo-belvedere"
    before = _published(folder)
    bad = _notebook(tmp_path / "bad.ipynb", BAD)
    with pytest.raises(ReportError) as ei:
        run_pilot(DEMO, output_root=reports, notebook=bad)
    msg = str(ei.value)
    failed = folder / "evaluate_pilot.FAILED.ipynb"
    assert str(failed.resolve()) in msg
    assert "boundaries file has no area DEMO99" in msg
    assert "is the PREVIOUS one" in msg and "FAILED.txt" in msg
    assert failed.is_file()
    # the last good report, results and notebook are untouched, byte for byte
    assert _published(folder) == before
    note = (folder / "FAILED.txt").read_text()
    assert "FAILED at" in note and "boundaries file has no area DEMO99" in note
    assert str(failed.resolve()) in note and "PREVIOUS" in note
    assert _visible(reports) == ["demo-belvedere"]
    # a successful run removes the failure notes
    run_pilot(DEMO, output_root=reports, notebook=good)
    assert not failed.exists() and not (folder / "FAILED.txt").exists()


def test_failure_without_an_earlier_report_says_none_was_written(tmp_path):
    reports = tmp_path / "reports"
    with pytest.raises(ReportError, match="No report was written"):
        run_pilot(DEMO, output_root=reports, notebook=_notebook(tmp_path / "bad.ipynb", BAD))
    folder = reports / "demo-belvedere"
    assert not (folder / "report.html").exists()
    assert (folder / "FAILED.txt").is_file()


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
def test_any_failure_keeps_the_old_report(tmp_path, body):
    reports = tmp_path / "reports"
    run_pilot(DEMO, output_root=reports, notebook=_notebook(tmp_path / "good.ipynb", GOOD))
    folder = reports / "demo-belvedere"
    before = _published(folder)
    with pytest.raises(ReportError) as ei:
        run_pilot(DEMO, output_root=reports, notebook=_notebook(tmp_path / "bad.ipynb", body))
    assert _published(folder) == before
    failed = folder / "evaluate_pilot.FAILED.ipynb"
    assert failed.is_file() and str(failed.resolve()) in str(ei.value)
    assert (folder / "FAILED.txt").is_file()
    assert _visible(reports) == ["demo-belvedere"]  # no staging left


def test_stale_staging_folders_are_removed_by_the_next_run(tmp_path):
    reports = tmp_path / "reports"
    stale = reports / ".demo-belvedere.staging-deadbeef"
    stale.mkdir(parents=True)
    (stale / "evaluate_pilot.ipynb").write_text("{}")
    other = reports / ".other-slug.staging-deadbeef"  # another slug's run: not ours to remove
    other.mkdir()
    run_pilot(DEMO, output_root=reports, notebook=_notebook(tmp_path / "good.ipynb", GOOD))
    assert not stale.exists() and other.exists()


def test_a_second_run_of_the_same_slug_refuses_while_the_first_holds_the_lock(tmp_path):
    import fcntl
    import os

    reports = tmp_path / "reports"
    folder = reports / "demo-belvedere"
    folder.mkdir(parents=True)
    fd = os.open(folder / ".pilot-eval.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, b"4242")
        with pytest.raises(ReportError, match=r"another 'pilot-eval run' of demo-belvedere .*4242"):
            run_pilot(DEMO, output_root=reports, notebook=_notebook(tmp_path / "g.ipynb", GOOD))
    finally:
        os.close(fd)
    assert not (folder / "report.html").exists()
    # released: the next run goes ahead
    run_pilot(DEMO, output_root=reports, notebook=_notebook(tmp_path / "g.ipynb", GOOD))
    assert (folder / "report.html").is_file()


@pytest.mark.parametrize("kind", ["file", "under-a-file"])
def test_output_root_that_is_a_file_is_refused_before_anything_runs(tmp_path, capsys, kind):
    from pilot_eval.cli import main

    f = tmp_path / "reports"
    f.write_text("not a folder")
    root = f if kind == "file" else f / "sub"
    code = main(
        [
            "run",
            str(DEMO),
            "--output-root",
            str(root),
            "--notebook",
            str(_notebook(tmp_path / "g.ipynb", GOOD)),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "--output-root" in err and "not a folder" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert f.read_text() == "not a folder"


def test_pdf_is_written_before_publishing(tmp_path, monkeypatch):
    pdf = pytest.importorskip(
        "pilot_eval.report.pdf",
        reason="pilot_eval.report.pdf (another engineer's module) is not there yet",
    )
    calls = []

    def fake_write_pdf(html_path, pdf_path, **kwargs):
        assert html_path.name == "report.html" and ".staging-" in str(html_path)
        calls.append(html_path)
        pdf_path.write_bytes(b"%PDF-1.4 fake")
        return pdf_path

    monkeypatch.setattr(pdf, "write_pdf", fake_write_pdf)
    reports = tmp_path / "reports"
    out = run_pilot(
        DEMO, output_root=reports, notebook=_notebook(tmp_path / "g.ipynb", GOOD), pdf=True
    )
    assert calls and out.pdf == out.folder / "report.pdf"
    assert out.pdf.read_bytes().startswith(b"%PDF")
    # a later run without --pdf removes the PDF, which would no longer match the report
    run_pilot(DEMO, output_root=reports, notebook=_notebook(tmp_path / "g.ipynb", GOOD))
    assert not (out.folder / "report.pdf").exists()


def test_kernel_log_noise_is_not_shown(tmp_path, capfd):
    reports = tmp_path / "reports"
    run_pilot(DEMO, output_root=reports, notebook=_notebook(tmp_path / "g.ipynb", GOOD))
    with pytest.raises(ReportError):
        run_pilot(DEMO, output_root=reports, notebook=_notebook(tmp_path / "b.ipynb", BAD))
    err = capfd.readouterr().err
    assert "IPKernelApp" not in err and "without encryption" not in err, err


def test_reserved_parameters_rejected(tmp_path):
    nb = _notebook(tmp_path / "nb.ipynb", GOOD)
    with pytest.raises(ReportError, match="set by pilot-eval run itself"):
        run_pilot(DEMO, output_root=tmp_path / "r", notebook=nb, parameters={"output_dir": "x"})
