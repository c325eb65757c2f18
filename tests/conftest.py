"""Shared fixtures: the SYNTHETIC demo pilot, generated once per test session in a temp dir."""

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


def tree_digest(folder: Path) -> dict[str, str]:
    """sha1 of every file under ``folder`` (to prove inputs were not modified)."""
    return {
        str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
