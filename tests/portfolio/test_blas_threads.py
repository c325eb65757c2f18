"""evaluate() runs its fits under one BLAS thread (threadpoolctl), whatever the caller set."""

from __future__ import annotations

from dataclasses import dataclass

from threadpoolctl import threadpool_info, threadpool_limits

from pilot_eval.pipeline import Analysis, Registry, evaluate, prepare
from pilot_eval.results import Result


@dataclass(frozen=True)
class _Threads(Result):
    info: tuple[tuple[str, int], ...]


def test_analyses_run_with_one_blas_thread(demo_pilot):
    import numpy as np

    np.ones((2, 2)) @ np.ones((2, 2))  # BLAS is loaded
    seen: list[_Threads] = []

    def run(x):
        r = _Threads(tuple((p["internal_api"], p["num_threads"]) for p in threadpool_info()))
        seen.append(r)
        return r

    reg = Registry()
    reg.add(Analysis(name="threads", role="secondary", label="threads", assumes="", run=run))
    prepared = prepare(demo_pilot.config_path)
    with threadpool_limits(limits=2):  # the caller's setting (e.g. a JupyterLab kernel)
        outside = {p["internal_api"]: p["num_threads"] for p in threadpool_info()}
        evaluate(prepared, registry=reg)
        after = {p["internal_api"]: p["num_threads"] for p in threadpool_info()}
    assert seen, "the test analysis did not run"
    inside = seen[0].info
    assert inside and any(api in ("openblas", "mkl", "blis") for api, _ in inside)
    assert all(n == 1 for _, n in inside), inside
    assert after == outside  # the caller's limits come back
