"""run-all on a Dask cluster: a real LocalCluster on 127.0.0.1 gives the same bytes."""

from __future__ import annotations

import os

import pytest

from .conftest import EPOCH

pytest.importorskip("distributed")


def test_dask_local_cluster_gives_the_same_results_bytes(batch, tmp_path, monkeypatch):
    from pilot_eval.cli import main

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    demo = batch.pilots / "demo-belvedere.yml"
    code = main(["run-all", str(demo), "--dask-workers", "1", "--output-root", str(tmp_path)])
    assert code == 0
    local = (batch.root / "demo-belvedere" / "results.json").read_bytes()
    dask = (tmp_path / "demo-belvedere" / "results.json").read_bytes()
    assert dask == local
    assert (tmp_path / "index.html").is_file()
    assert os.environ["SOURCE_DATE_EPOCH"] == EPOCH


def test_scheduler_and_dask_workers_are_exclusive(capsys):
    from pilot_eval.cli import main

    code = main(["run-all", "x.yml", "--scheduler", "tcp://127.0.0.1:1", "--dask-workers", "1"])
    assert code == 2 and "not both" in capsys.readouterr().err


def test_scheduler_address_runs_on_an_existing_cluster_and_isolates_failures(tmp_path):
    from distributed import LocalCluster

    from pilot_eval.portfolio.run_all import run_all

    bad = tmp_path / "not-yaml.yml"
    bad.write_text("name: [unclosed\n")
    missing = tmp_path / "bad-field.yml"
    missing.write_text("name: x\nslug: x\n")
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        import io

        rows = run_all(
            [bad, missing],
            output_root=tmp_path / "reports",
            scheduler=cluster.scheduler_address,
            stream=io.StringIO(),
        )
    assert [r["status"] for r in rows] == ["failed", "failed"]
    assert all("yml" in r["error"] for r in rows), rows
    assert (tmp_path / "reports" / "index.html").is_file()
