"""The bad-input catalogue's helpers: a trimmed copy of the SYNTHETIC demo pilot to damage.

``edge_pilot`` copies (once per session) the demo data for 9 months only (6 before the
start, 3 from it), so a case that reaches ``prepare`` parses 9 police.uk files, not 66.
Each case then copies that into its own ``tmp_path`` (:func:`make_case`) and damages the copy.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

START = "2024-04"
PRE, POST = 6, 3
MONTHS = [
    f"{y}-{m:02d}"
    for y, m in [(2023, 10), (2023, 11), (2023, 12), (2024, 1), (2024, 2), (2024, 3)]
    + [(2024, 4), (2024, 5), (2024, 6)]
]


@pytest.fixture(scope="session")
def edge_base(demo_pilot, tmp_path_factory) -> Path:
    """Trimmed demo: pilots/pilot.yml and data/ (9 police.uk months, boundaries, logs)."""
    base = tmp_path_factory.mktemp("edge-base")
    src = demo_pilot.data_dir
    data = base / "data"
    (data / "police-uk").mkdir(parents=True)
    for m in MONTHS:
        shutil.copytree(src / "police-uk" / m, data / "police-uk" / m)
    for name in ("areas.geojson", "interventions.csv", "survey.csv"):
        shutil.copy2(src / name, data / name)
    raw = yaml.safe_load(demo_pilot.config_path.read_text())
    raw["data"].update(
        crimes="../data/police-uk",
        boundaries="../data/areas.geojson",
        interventions="../data/interventions.csv",
        survey="../data/survey.csv",
    )
    for key in ("population", "streetsafe"):  # cases that need one add their own
        raw["data"].pop(key, None)
    raw["outcomes"] = [o for o in raw["outcomes"] if o.get("source") != "streetsafe"]
    for comp in raw["intervention"]["components"]:
        comp.pop("locations", None)
    raw["windows"] = {"pre_months": PRE, "post_months": POST}
    (base / "pilots").mkdir()
    (base / "pilots" / "pilot.yml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return base


def digest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` (inputs must be byte-identical afterwards)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@dataclass
class Case:
    """One damaged copy: ``root/pilots/pilot.yml`` and ``root/data/...``."""

    root: Path
    raw: dict = field(default_factory=dict)

    @property
    def config(self) -> Path:
        return self.root / "pilots" / "pilot.yml"

    @property
    def data(self) -> Path:
        return self.root / "data"

    def police(self, month: str) -> Path:
        return self.data / "police-uk" / month / f"{month}-metropolitan-street.csv"

    def save(self) -> None:
        """Write ``raw`` back as the config (after editing it)."""
        self.config.write_text(yaml.safe_dump(self.raw, sort_keys=False))

    def set(self, dotted: str, value) -> None:
        *path, last = dotted.split(".")
        node = self.raw
        for key in path:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value
        self.save()

    def replace_in(self, path: Path, old: str, new: str, *, count: int = 1) -> None:
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {path}"
        path.write_text(text.replace(old, new, count), encoding="utf-8")

    def geojson(self) -> dict:
        return json.loads((self.data / "areas.geojson").read_text())

    def write_geojson(self, doc: dict, name: str = "areas.geojson") -> Path:
        p = self.data / name
        p.write_text(json.dumps(doc))
        return p


@pytest.fixture
def make_case(edge_base, tmp_path):
    def make() -> Case:
        root = tmp_path / "case"
        shutil.copytree(edge_base, root)
        case = Case(root)
        case.raw = yaml.safe_load(case.config.read_text())
        return case

    return make
