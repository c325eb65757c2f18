"""Provenance of a run: what went in, with what software, when.

The ``provenance`` block of ``results.json`` and the report's last section: the config's
SHA-256, every input file's SHA-256 and size (a folder is hashed file by file), package
versions, the git commit of the toolkit when it runs from a git checkout, the run date and
the data period. The run date comes from ``SOURCE_DATE_EPOCH`` when set (reproducible
builds), so the same config on the same data gives byte-identical outputs.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ..config import PilotConfig

__all__ = ["PACKAGES", "file_digest", "provenance", "run_date"]

#: Packages whose versions can change the numbers or the page.
PACKAGES = (
    "pilot-eval",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "geopandas",
    "shapely",
    "pyproj",
    "pyarrow",
    "matplotlib",
    "jinja2",
    "papermill",
)

_CHUNK = 1 << 20


def file_digest(path: Path) -> tuple[str, int]:
    """SHA-256 (hex) and size in bytes of a file, or of a folder's files in name order."""
    h = hashlib.sha256()
    if path.is_dir():
        size = 0
        for p in sorted(q for q in path.rglob("*") if q.is_file()):
            rel = p.relative_to(path).as_posix().encode()
            digest, n = file_digest(p)
            h.update(rel + b"\0" + digest.encode() + b"\n")
            size += n
        return h.hexdigest(), size
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest(), path.stat().st_size


def run_date() -> str:
    """ISO date-time of the run, UTC: ``SOURCE_DATE_EPOCH`` when set, else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = (
        datetime.fromtimestamp(int(epoch), tz=UTC)
        if epoch and epoch.strip().isdigit()
        else datetime.now(tz=UTC)
    )
    return when.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and len(sha) == 40 else None


def _versions() -> dict[str, str]:
    out: dict[str, str] = {}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def _inputs(cfg: PilotConfig, base: Path) -> list[dict[str, Any]]:
    d = cfg.data
    fields: list[tuple[str, Path | None]] = [
        ("data.crimes", d.crimes),
        ("data.crimes_historical", d.crimes_historical),
        ("data.boundaries", d.boundaries),
        ("data.interventions", d.interventions),
        ("data.population", d.population),
        ("data.survey", d.survey),
        ("data.streetsafe", d.streetsafe),
        ("treated.polygon", cfg.treated.polygon),
    ]
    fields += [
        (f"intervention.components[{i}].locations", c.locations)
        for i, c in enumerate(cfg.intervention.components)
    ]
    out = []
    for name, path in fields:
        if path is None or not Path(path).exists():
            continue
        digest, size = file_digest(Path(path))
        out.append(
            {
                "field": name,
                "path": os.path.relpath(path, base),
                "sha256": digest,
                "bytes": size,
            }
        )
    return out


def provenance(cfg: PilotConfig, *, config_path: str | Path) -> dict[str, Any]:
    """The provenance block for one pilot's run.

    Parameters
    ----------
    cfg
        The validated config.
    config_path
        Its file; input paths are given relative to its folder (no absolute paths).
    """
    config_path = Path(config_path).resolve()
    digest, size = file_digest(config_path)
    return {
        "config": {"path": config_path.name, "sha256": digest, "bytes": size},
        "inputs": _inputs(cfg, config_path.parent),
        "data_period": [f"{cfg.months[0]:%Y-%m}", f"{cfg.months[-1]:%Y-%m}"],
        "packages": _versions(),
        "git_commit": _git_commit(),
        "run_date": run_date(),
        "run_date_source": "SOURCE_DATE_EPOCH" if os.environ.get("SOURCE_DATE_EPOCH") else "clock",
    }
