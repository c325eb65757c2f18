"""Shared fixtures: the SYNTHETIC demo pilot, generated once per test session in a temp dir,
and the one negative-binomial panel generator for estimator and inference tests (``sim_panel``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Keep the police.uk Parquet cache of test runs out of the user's ~/.cache."""
    import os

    old = os.environ.get("PILOT_EVAL_CACHE")
    os.environ["PILOT_EVAL_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("PILOT_EVAL_CACHE", None)
    else:
        os.environ["PILOT_EVAL_CACHE"] = old


@dataclass(frozen=True)
class DemoPilot:
    data_dir: Path
    config_path: Path
    truth: dict


@pytest.fixture(scope="session")
def demo_pilot(tmp_path_factory) -> DemoPilot:
    """The demo data set and a copy of pilots/demo-belvedere.yml that points at it."""
    import json

    from pilot_eval.demo import generate_demo

    base = tmp_path_factory.mktemp("demo")
    data = base / "data" / "demo"
    generate_demo(data)
    raw = yaml.safe_load((ROOT / "pilots" / "demo-belvedere.yml").read_text())
    pilots = base / "pilots"
    pilots.mkdir()
    cfg = pilots / "demo-belvedere.yml"
    cfg.write_text(yaml.safe_dump(raw, sort_keys=False))  # same relative paths: ../data/demo
    return DemoPilot(
        data_dir=data, config_path=cfg, truth=json.loads((data / "truth.json").read_text())
    )


@pytest.fixture(scope="session")
def sim_panel():
    """Factory of seeded negative-binomial area x month panels (:func:`pilot_eval.simulate.simulate_panels`).

    ``sim_panel(seed=0, buffer=False, outcome="simulated", **design)`` returns replication 0 of
    ``simulate_panels(seed=seed, **design)`` as a long panel in the contract of
    :mod:`pilot_eval.columns`. With ``buffer=True`` the largest comparison area is relabelled
    as the ``"buffer"`` group (still untreated), for designs with a displacement area.

    Tests whose reference values depend on their own generator (a specific seasonal shape,
    level and slope changes, a perfect synthetic match) keep it, and say so.
    """
    from pilot_eval import columns as C
    from pilot_eval.simulate import simulate_panels

    def make(*, seed: int = 0, buffer: bool = False, outcome: str = "simulated", **design):
        sim = simulate_panels(seed=seed, **design)
        panel = sim.panel(0, outcome=outcome)
        if buffer:
            comparison = [a for a, t in zip(sim.areas, sim.treated, strict=True) if not t]
            panel.loc[panel[C.AREA] == comparison[-1], C.GROUP] = "buffer"
        return panel

    return make


def _tree_digest(folder: Path) -> dict[str, str]:
    """sha1 of every file under ``folder`` (to prove inputs were not modified)."""
    return {
        str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="session")
def tree_digest():
    """``tree_digest(folder)``: sha1 of every file under it (to prove inputs were not modified).

    A fixture, not an import: ``from conftest import …`` would pick whichever conftest module
    pytest loaded first (tests/edges has its own).
    """
    return _tree_digest
