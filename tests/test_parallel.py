"""Placebo work split across executors, a real Dask LocalCluster on 127.0.0.1 included, gives
the same numbers as one process."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np
import pandas as pd
import pytest

from pilot_eval.errors import ConfigError, OptionError
from pilot_eval.estimators.synth import synthetic_control
from pilot_eval.inference.synth_conformal import synth_conformal
from pilot_eval.parallel import cluster_executor, map_chunks
from pilot_eval.simulate import panel_from_array


def _power(x: int, *, k: int) -> int:
    return x**k


def test_map_chunks_keeps_the_order_on_any_executor():
    items = list(range(37))
    want = [x**3 for x in items]
    assert map_chunks(partial(_power, k=3), items) == want
    with ThreadPoolExecutor(3) as ex:
        assert map_chunks(partial(_power, k=3), items, executor=ex, n_chunks=5) == want
        assert map_chunks(partial(_power, k=3), items[:1], executor=ex) == want[:1]
        assert map_chunks(partial(_power, k=3), [], executor=ex) == []


def _panel(n_areas: int = 25, n_months: int = 36, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    level = rng.gamma(4, 5, size=(n_areas, 1)) * (1 + 0.2 * np.sin(np.arange(n_months) / 3))
    post = np.arange(n_months) >= 24
    treated = np.zeros(n_areas, bool)
    treated[0] = True
    y = rng.poisson(level * np.where(treated[:, None] & post, 0.7, 1.0))
    return panel_from_array(y, treated=treated, post=post, outcome="crime")


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as c:
        yield c


def test_synthetic_control_placebos_on_a_local_cluster_are_the_same_bytes(cluster):
    panel = _panel()
    here = synthetic_control(panel, outcome="crime")
    with cluster_executor(cluster.scheduler_address) as ex:
        there = synthetic_control(panel, outcome="crime", executor=ex)
    pd.testing.assert_frame_equal(here.placebos, there.placebos, check_exact=True)
    pd.testing.assert_frame_equal(here.placebo_gaps, there.placebo_gaps, check_exact=True)
    assert here.tidy().equals(there.tidy())
    assert here.p_value == there.p_value and here.ratio == there.ratio


def test_synth_conformal_grid_on_a_local_cluster_is_the_same(cluster):
    panel = _panel(n_areas=12)
    here = synth_conformal(panel, outcome="crime")
    with cluster_executor(cluster.scheduler_address) as ex:
        there = synth_conformal(panel, outcome="crime", executor=ex)
    assert (here.ci_low, here.ci_high, here.p_value) == (there.ci_low, there.ci_high, there.p_value)
    assert here.tidy().equals(there.tidy())


def test_evaluate_with_a_scheduler_gives_the_same_results_document(cluster, demo_pilot):
    from pilot_eval.pipeline import evaluate, prepare

    prepared = prepare(demo_pilot.config_path)
    here = evaluate(prepared).results_document().to_json_dict()
    there = evaluate(prepared, scheduler=cluster.scheduler_address).results_document()
    assert there.to_json_dict() == here
    with pytest.raises(OptionError, match="not both"):
        with ThreadPoolExecutor(1) as ex:
            evaluate(prepared, executor=ex, scheduler=cluster.scheduler_address)


def test_an_unreachable_scheduler_is_one_plain_error():
    with pytest.raises(ConfigError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        with cluster_executor("tcp://127.0.0.1:9", timeout=2):
            pass


def test_run_with_an_unreachable_scheduler_stops_before_a_kernel(
    demo_pilot, tmp_path, capsys, monkeypatch
):
    import pilot_eval.parallel as par
    from pilot_eval.cli import main

    real = par.cluster_executor
    monkeypatch.setattr(par, "cluster_executor", partial(real, timeout=2))
    out = tmp_path / "reports"
    code = main(
        [
            "run",
            str(demo_pilot.config_path),
            "--output-root",
            str(out),
            "--scheduler",
            "tcp://127.0.0.1:9",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not any(out.rglob("*.ipynb"))


class _BrokenExecutor(ThreadPoolExecutor):
    """An executor whose workers went away (as distributed's KilledWorker, CommClosedError)."""

    def map(self, *args, **kwargs):
        raise OSError("connection to the worker lost")


def test_a_failing_executor_is_a_cluster_error_and_a_check_becomes_not_computed(demo_pilot):
    from pilot_eval.errors import ClusterError
    from pilot_eval.pipeline import evaluate, prepare

    with _BrokenExecutor(1) as ex:
        with pytest.raises(ClusterError, match="connection to the worker lost"):
            map_chunks(partial(_power, k=2), [1, 2, 3], executor=ex)
        evaluation = evaluate(prepare(demo_pilot.config_path), executor=ex)
    reasons = {n.analysis: n.reason for n in evaluation.primary.not_computed}
    assert "connection to the worker lost" in reasons["synth"]
    assert evaluation.primary["conformal"] is not None  # the headline does not use it


@pytest.mark.parametrize(
    "address",
    ["http://127.0.0.1:8786", "tcp://127.0.0.1", "tcp://127.0.0.1:port", "127.0.0.1:8786"],
)
def test_a_malformed_scheduler_address_is_one_plain_error_at_once(address):
    with pytest.raises(ConfigError, match="is not a Dask scheduler address"):
        with cluster_executor(address):
            pass
