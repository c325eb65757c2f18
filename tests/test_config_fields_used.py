"""Every config field is read by something: no input can be accepted and then ignored.

Walks the pydantic schema of :class:`pilot_eval.config.PilotConfig` (nested models too) and
looks for each field's attribute access (``.population``, ``.end``, …) in the package source
outside ``config.py`` and ``pipeline/provenance.py`` (which only hashes files). Fields read
into :class:`~pilot_eval.pipeline.PreparedPilot` must also be used after ``prepare``: each
``PreparedPilot`` field is read in the analyses, the evaluation or the report.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from pydantic import BaseModel

from pilot_eval.config import PilotConfig, _model_args
from pilot_eval.pipeline.prepare import PreparedPilot

SRC = Path(__file__).resolve().parents[1] / "src" / "pilot_eval"
NOT_READERS = {"config.py", "provenance.py"}
#: Where a prepared input counts as used (downstream of prepare).
DOWNSTREAM = ("pipeline/analyses.py", "pipeline/evaluate.py", "report/")

#: Known gaps (issue 13), each to be closed; a listed field that becomes used fails the test
#: too, so the list only shrinks.
KNOWN_UNUSED: set[str] = set()


def _sources(keep) -> dict[str, str]:
    return {
        p.relative_to(SRC).as_posix(): p.read_text(encoding="utf-8")
        for p in SRC.rglob("*.py")
        if keep(p)
    }


def _fields(model: type[BaseModel], prefix: str = ""):
    for name, info in model.model_fields.items():
        yield prefix + name, name
        for sub in _model_args(info.annotation):
            yield from _fields(sub, f"{prefix}{name}.")


def _read(name: str, sources: dict[str, str]) -> bool:
    pat = re.compile(rf"\.{re.escape(name)}\b")
    return any(pat.search(text) for text in sources.values())


def test_the_walk_sees_nested_fields():
    paths = {p for p, _ in _fields(PilotConfig)}
    assert {"data.population", "intervention.components.locations", "intervention.end"} <= paths
    assert "windows.exclude_implementation" in paths


def test_every_config_field_is_read():
    sources = _sources(lambda p: p.name not in NOT_READERS)
    unused = {path for path, name in _fields(PilotConfig) if not _read(name, sources)}
    known = {k for k in KNOWN_UNUSED if not k.startswith("PreparedPilot.")}
    assert unused - known == set(), f"config fields read by nothing: {sorted(unused)}"
    assert known - unused == set(), "now used: remove them from KNOWN_UNUSED"


def test_every_prepared_input_is_used_after_prepare():
    sources = _sources(
        lambda p: any(p.relative_to(SRC).as_posix().startswith(d) for d in DOWNSTREAM)
    )
    unused = {
        f"PreparedPilot.{f.name}"
        for f in dataclasses.fields(PreparedPilot)
        if not _read(f.name, sources)
    }
    known = {k for k in KNOWN_UNUSED if k.startswith("PreparedPilot.")}
    assert unused - known == set(), f"prepared inputs used by nothing: {sorted(unused)}"
    assert known - unused == set(), "now used: remove them from KNOWN_UNUSED"
