"""Run the evaluation notebook for a pilot and publish ``reports/<slug>/``.

A run executes the packaged template ``pilot_eval/report/templates/evaluate_pilot.ipynb``
(the repository's ``notebooks/evaluate_pilot.ipynb`` is the same file, for JupyterLab) with
papermill into a staging folder, turns
it into a self-contained HTML page without code, and only then moves the outputs into place
(``report.html`` last). A failed run never leaves a ``report.html`` that looks complete: the
previous outputs are removed and the failed notebook is kept, and the error says where.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import load_config
from ..errors import ReportError

NOTEBOOK_NAME = "evaluate_pilot.ipynb"
PUBLISHED = ("report.html", "results.json", NOTEBOOK_NAME)
FAILED_NOTEBOOK = "evaluate_pilot.FAILED.ipynb"


@dataclass(frozen=True)
class RunOutputs:
    """Where a successful run wrote its outputs."""

    folder: Path
    report_html: Path
    results_json: Path
    notebook: Path


def default_notebook() -> Path:
    """The evaluation notebook shipped inside the package (works after ``pip install``)."""
    from importlib.resources import files

    path = Path(str(files("pilot_eval.report") / "templates" / NOTEBOOK_NAME))
    if not path.is_file():  # pragma: no cover - a broken installation
        raise ReportError(
            f"the packaged template {path} is missing: reinstall pilot-eval, or pass "
            "--notebook with the notebook's path"
        )
    return path


def notebook_parameters(notebook: Path) -> dict[str, Any]:
    """The parameters a notebook declares in its cell tagged ``parameters``."""
    import papermill

    info = papermill.inspect_notebook(str(notebook))
    if not info:
        raise ReportError(f"{notebook}: no cell tagged 'parameters' was found")
    return {k: v.get("default") for k, v in info.items()}


def export_html(executed: Path, target: Path, *, title: str) -> Path:
    """Write the executed notebook as one HTML page with no code cells or prompts."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(executed, as_version=4)
    nb.metadata["title"] = title
    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(nb)
    target.write_text(body, encoding="utf-8")
    return target


def scrub_notebook(path: Path) -> None:
    """Drop run-specific metadata (times, absolute paths) from an executed notebook.

    The same config on the same data then gives the same notebook, byte for byte.
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)


def _remove_published(folder: Path) -> None:
    for name in PUBLISHED:
        (folder / name).unlink(missing_ok=True)


def run_pilot(
    config_path: str | Path,
    *,
    output_root: str | Path = "reports",
    parameters: dict[str, Any] | None = None,
    notebook: str | Path | None = None,
    kernel_name: str = "python3",
) -> RunOutputs:
    """Evaluate one pilot and write its report folder.

    Parameters
    ----------
    config_path
        The pilot's YAML config (validated before anything runs).
    output_root
        Folder under which ``<slug>/`` is written.
    parameters
        Extra notebook parameters; names the notebook does not declare are rejected.
    notebook
        The notebook to run (default: the packaged template, see :func:`default_notebook`).
    kernel_name
        Jupyter kernel to execute with (default: this Python).

    Returns
    -------
    RunOutputs
        Paths of ``report.html``, ``results.json`` and the executed notebook.

    Raises
    ------
    ConfigError
        The config is invalid (nothing is run or written).
    ReportError
        The notebook failed; the message names the failing cell's error and the path of the
        failed notebook. ``report.html`` and ``results.json`` of earlier runs are removed so
        nothing stale looks current.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    config_path = Path(config_path).resolve()
    cfg = load_config(config_path)
    nb_path = Path(notebook).resolve() if notebook else default_notebook()
    declared = notebook_parameters(nb_path)
    params: dict[str, Any] = dict(parameters or {})
    reserved = sorted(set(params) & {"config_path", "output_dir"})
    if reserved:
        raise ReportError(
            f"notebook parameter(s) {reserved} are set by pilot-eval run itself: give the "
            "config file as the first argument and --output-root for the output folder"
        )
    unknown = sorted(set(params) - set(declared))
    if unknown:
        raise ReportError(
            f"unknown notebook parameter(s) {unknown}: {nb_path.name} declares "
            f"{sorted(declared)}. Check the spelling."
        )
    out = Path(output_root).resolve() / cfg.slug
    staging = out.parent / f".{cfg.slug}.staging-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    # The kernel runs in the staging folder with paths relative to it, so the published
    # notebook holds no absolute path of this machine.
    params.update(config_path=os.path.relpath(config_path, staging), output_dir=".")
    executed = staging / NOTEBOOK_NAME
    try:
        papermill.execute_notebook(
            str(nb_path),
            str(executed),
            parameters=params,
            kernel_name=kernel_name,
            progress_bar=False,
            cwd=str(staging),
        )
        if not (staging / "results.json").is_file():
            raise ReportError("the notebook ran to the end but wrote no results.json")
        scrub_notebook(executed)
        if not (staging / "report.html").is_file():
            # A notebook that does not render the page itself: export its outputs.
            export_html(executed, staging / "report.html", title=cfg.report.title)
        out.mkdir(parents=True, exist_ok=True)
        _remove_published(out)
        (out / FAILED_NOTEBOOK).unlink(missing_ok=True)
        for name in (NOTEBOOK_NAME, "results.json", *_extras(staging), "report.html"):
            os.replace(staging / name, out / name)
    except BaseException as exc:
        # Whatever failed (a cell, the kernel, the export, an interrupt), nothing from an
        # earlier run may stay looking current, and the failed notebook is kept.
        out.mkdir(parents=True, exist_ok=True)
        _remove_published(out)
        failed = out / FAILED_NOTEBOOK
        kept = executed.exists()
        if kept:
            shutil.move(str(executed), failed)
        if not isinstance(exc, Exception):
            raise
        where = (
            f"The notebook with the error is at {failed}."
            if kept
            else "The notebook did not start, so there is no executed notebook to inspect."
        )
        if isinstance(exc, PapermillExecutionError):
            what = f"failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
        else:
            what = f"failed: {type(exc).__name__}: {exc}"
        raise ReportError(
            f"the evaluation of {config_path.name} {what}\n{where} No report was written."
        ) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return RunOutputs(
        folder=out,
        report_html=out / "report.html",
        results_json=out / "results.json",
        notebook=out / NOTEBOOK_NAME,
    )


def _extras(staging: Path) -> list[str]:
    """Other files the notebook wrote (e.g. published tables), moved before report.html."""
    return sorted(
        p.name
        for p in staging.iterdir()
        if p.is_file() and p.name not in PUBLISHED and not p.name.startswith(".")
    )
