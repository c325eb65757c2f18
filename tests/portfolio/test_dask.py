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
