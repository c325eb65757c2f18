"""The built wheel works on its own, away from the repository.

The wheel is built from a copy of the project, installed with ``--no-deps`` into a fresh venv
outside the repository, and run from a folder outside it: ``pilot-eval demo`` then
``pilot-eval run``. Its dependencies are not downloaded: a ``.pth`` file in the new venv adds
this interpreter's site-packages *after* the venv's own, so ``pilot_eval`` is the wheel's
(asserted) and everything else is shared. (A path line in a ``.pth`` file does not process
the ``.pth`` files of that folder, so this environment's editable install of ``pilot_eval``
stays out.) nbconvert's templates, data files under the prefix, are linked in likewise.

The headline estimates of the installed run must equal, within 1e-12, those the repository's
code computes in this process from the same data and config (the notebook's own calls,
``evaluate(prepare(config))``).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = "pilot_eval/report/templates/evaluate_pilot.ipynb"
SLUG = "demo-belvedere"
# Top-level entries not needed to build the wheel (large, generated, or the test suite).
_TOP_NOT_COPIED = {".git", ".venv", "build", "dist", "data", "reports", "tests", "notebooks"}
_NOT_COPIED_ANYWHERE = shutil.ignore_patterns("__pycache__", "*.egg-info", ".*cache", ".coverage*")


def _not_copied(folder: str, names: list[str]) -> set[str]:
    top = _TOP_NOT_COPIED & set(names) if Path(folder) == ROOT else set()
    return top | _NOT_COPIED_ANYWHERE(folder, names)


def _run(cmd: list[str | Path], *, cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, (
        f"{' '.join(map(str, cmd))} failed ({proc.returncode}) in {cwd}\n"
        f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}"
    )
    return proc.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of the project with this environment's setuptools."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src-copy"
    shutil.copytree(ROOT, src, ignore=_not_copied)
    out = base / "dist"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            src,
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--quiet",
            "-w",
            out,
        ],
        cwd=base,
    )
    (whl,) = out.glob("pilot_eval-*.whl")
    return whl


def test_wheel_ships_the_template_and_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert TEMPLATE in names
    assert {"pilot_eval/data/harm_weights.csv", "pilot_eval/data/unit_costs.csv"} <= names
    assert not any(n.startswith(("tests/", "notebooks/")) for n in names)
    assert any(n.endswith(".dist-info/entry_points.txt") for n in names)


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A fresh venv (outside the repository) with only the wheel installed; its environment."""
    env_dir = tmp_path_factory.mktemp("venv") / "venv"
    assert not env_dir.is_relative_to(ROOT)
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(env_dir)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    # This pip installs into the new venv (pip >= 22.3), so the venv needs no pip of its own.
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            wheel,
        ],
        cwd=env_dir,
    )
    purelib = Path(
        _run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=env_dir
        ).strip()
    )
    ours = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (purelib / "zz_pilot_eval_test_deps.pth").write_text("".join(f"{p}\n" for p in ours))
    # Data files of the dependencies live under the prefix, not site-packages: share the
    # nbconvert templates (report.html uses "lab") as an installed nbconvert would have them.
    # Kernels are not shared: "python3" is then ipykernel's own, i.e. the new venv's Python.
    templates = Path(sys.prefix) / "share" / "jupyter" / "nbconvert"
    if templates.is_dir():
        link = env_dir / "share" / "jupyter" / "nbconvert"
        link.parent.mkdir(parents=True)
        try:
            link.symlink_to(templates, target_is_directory=True)
        except OSError:  # no symlinks (Windows without the privilege)
            shutil.copytree(templates, link)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(env_dir)
    return env_dir, env


def test_installed_package_is_the_wheels(installed, tmp_path):
    env_dir, env = installed
    bindir = Path(env["PATH"].split(os.pathsep)[0])
    where = Path(
        _run(
            [bindir / "python", "-c", "import pilot_eval; print(pilot_eval.__file__)"],
            cwd=tmp_path,
            env=env,
        ).strip()
    )
    assert where.is_relative_to(env_dir), where
    assert not where.is_relative_to(ROOT), where


def _headlines(estimates) -> dict[tuple[str, str], tuple[float, float, float]]:
    return {
        (e["outcome"], e["method"]): (e["estimate"], e["ci_low"], e["ci_high"])
        for e in estimates
        if e["role"] == "headline"
    }


def test_installed_cli_runs_the_demo_pilot_outside_the_repository(installed, tmp_path):
    env_dir, env = installed
    bindir = Path(env["PATH"].split(os.pathsep)[0])
    work = tmp_path / "work"
    work.mkdir()
    assert not work.is_relative_to(ROOT)
    cli = bindir / ("pilot-eval.exe" if os.name == "nt" else "pilot-eval")
    _run([cli, "demo", "--out", "data/demo"], cwd=work, env=env)
    assert (work / "data" / "demo" / "truth.json").is_file()

    # The repository's config sits in pilots/ and points at ../data/demo/...; this copy sits
    # next to data/, so its paths (relative to the config's folder) lose the "../".
    raw = yaml.safe_load((ROOT / "pilots" / f"{SLUG}.yml").read_text())
    rewritten = 0
    for key, value in raw["data"].items():
        if isinstance(value, str) and value.startswith("../data/demo"):
            raw["data"][key] = value.removeprefix("../")
            assert (work / raw["data"][key]).exists(), (key, raw["data"][key])
            rewritten += 1
    assert rewritten >= 2, raw["data"]  # at least the crimes and the boundaries
    for comp in raw["intervention"].get("components", []):  # component location files too
        if str(comp.get("locations", "")).startswith("../data/demo"):
            comp["locations"] = comp["locations"].removeprefix("../")
            assert (work / comp["locations"]).exists(), comp["locations"]
    config = work / f"{SLUG}.yml"
    config.write_text(yaml.safe_dump(raw, sort_keys=False))

    _run([cli, "run", config.name, "--output-root", "reports"], cwd=work, env=env)
    out = work / "reports" / SLUG
    assert (out / "report.html").is_file()
    doc = json.loads((out / "results.json").read_text())
    assert doc["pilot"] == SLUG and doc["synthetic"] is True
    got = _headlines(doc["estimates"])
    assert got, f"no headline estimate in results.json: {doc['estimates']}"

    # The same figures from the repository's code, in this process, on the same inputs.
    import pilot_eval as pe

    evaluation = pe.evaluate(pe.prepare(config))
    want = _headlines(evaluation.results_document().to_json_dict()["estimates"])
    assert got.keys() == want.keys()
    for key, values in want.items():
        for g, w in zip(got[key], values, strict=True):
            # results.json writes NaN as null and infinities as "inf"/"-inf".
            same = g == w or (
                isinstance(g, float) and isinstance(w, float) and math.isclose(g, w, abs_tol=1e-12)
            )
            assert same, (key, got[key], values)
