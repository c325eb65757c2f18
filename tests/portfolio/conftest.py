"""A small batch for the portfolio tests: the demo, the shipped DEMO07 config and a broken
config with a hostile title, all on the session's demo data (in a temp folder)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = "</script><img src=x onerror=alert(1)> & <b>Pilot</b>"
EPOCH = "1700000000"


@dataclass(frozen=True)
class Batch:
    pilots: Path
    root: Path
    configs: list[Path]
    exit_code: int
    output: str


@pytest.fixture(scope="session")
def batch_pilots(demo_pilot):
    """demo-belvedere, demo-area07 (shipped) and broken.yml (treated code DEMO99, absent)."""
    pilots = demo_pilot.config_path.parent
    shutil.copy(ROOT / "pilots" / "demo-area07.yml", pilots / "demo-area07.yml")
    raw = yaml.safe_load(demo_pilot.config_path.read_text())
    raw.update(slug="broken-pilot", treated={"codes": ["DEMO99"]})
    raw["report"] = {**raw["report"], "title": HOSTILE}
    (pilots / "broken.yml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return pilots


@pytest.fixture(scope="session")
def batch(batch_pilots, tmp_path_factory) -> Batch:
    """``pilot-eval run-all`` over the three configs with 2 workers (SOURCE_DATE_EPOCH set)."""
    import contextlib
    import io

    from pilot_eval.cli import main

    root = tmp_path_factory.mktemp("reports")
    configs = [batch_pilots / n for n in ("demo-belvedere.yml", "demo-area07.yml", "broken.yml")]
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            code = main(
                ["run-all", *map(str, configs), "--workers", "2", "--output-root", str(root)]
            )
    finally:
        if old is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = old
    return Batch(batch_pilots, root, configs, code, out.getvalue())
