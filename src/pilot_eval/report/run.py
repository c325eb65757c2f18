"""Run the evaluation notebook for a pilot and publish ``reports/<slug>/``.

A run executes the packaged template ``pilot_eval/report/templates/evaluate_pilot.ipynb``
(the repository's ``notebooks/evaluate_pilot.ipynb`` is the same file, for JupyterLab) with
papermill into a staging folder, turns
it into a self-contained HTML page without code, and only then moves the outputs into place
(``report.html`` last).

A failed or interrupted run (a cell error, the kernel dying, Ctrl-C, SIGTERM) keeps the last
good report: ``report.html``, ``results.json`` and the notebook of the previous successful run
are left untouched, and ``evaluate_pilot.FAILED.ipynb`` plus a short ``FAILED.txt`` (when,
why, where) are written beside them; the next successful run removes both. A lock file in the
report folder makes a second run of the same slug refuse at once (it does not wait), and
staging folders left by a killed run are removed by the next run of that slug.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import shutil
import signal
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..config import load_config
from ..errors import ReportError, RunInterrupted

NOTEBOOK_NAME = "evaluate_pilot.ipynb"
PUBLISHED = ("report.html", "results.json", NOTEBOOK_NAME)
PDF_NAME = "report.pdf"
FAILED_NOTEBOOK = "evaluate_pilot.FAILED.ipynb"
FAILED_NOTE = "FAILED.txt"
LOCK_NAME = ".pilot-eval.lock"
KERNEL_LOG = ".kernel.log"
#: Kernel options. The kernel's own log (the "running over TCP without encryption" warning,
#: "KeyboardInterrupt caught in kernel") goes to ``.kernel.log`` in the report folder, never to
#: the terminal (see :func:`_quiet_kernel_manager`); errors only, so the file stays short.
KERNEL_ARGUMENTS = ("--IPKernelApp.log_level=ERROR",)


@dataclass(frozen=True)
class RunOutputs:
    """Where a successful run wrote its outputs."""

    folder: Path
    report_html: Path
    results_json: Path
    notebook: Path
    pdf: Path | None = None


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


def scrub_notebook(path: Path, *, config_name: str | None = None) -> None:
    """Drop run-specific metadata (times, paths, random ids) from an executed notebook.

    The same config on the same data then gives the same notebook, byte for byte, and it
    names the config by its file name only (its SHA-256 is in the provenance block).
    """
    import re

    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell["id"] = "injected-parameters"
            if config_name is not None:
                cell.source = re.sub(
                    r'^config_path = ".*"$',
                    f"config_path = {config_name!r}  # the run's config (see provenance)",
                    cell.source,
                    flags=re.M,
                )
    nbformat.write(nb, path)


def check_output_root(output_root: str | Path) -> Path:
    """The output root, resolved, once it is known to be (or can become) a writable folder.

    Raises
    ------
    ReportError
        The path is a file, lies under a file, or is not writable; the message says what to
        give instead.
    """
    root = Path(output_root).expanduser().resolve()
    probe = root
    while not probe.exists():
        if probe.parent == probe:  # pragma: no cover - the file-system root always exists
            break
        probe = probe.parent
    if not probe.is_dir():
        what = "is a file" if probe == root else f"lies under {probe}, which is a file"
        raise ReportError(
            f"--output-root {root}: {what}, not a folder. Give a folder for the reports "
            "(it is created when missing), e.g. --output-root reports."
        )
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ReportError(
            f"--output-root {root}: the folder {probe} is not writable. Give a folder you "
            "can write to, or change its permissions."
        )
    return root


@dataclass
class _Signals:
    """SIGINT / SIGTERM become :class:`RunInterrupted`; while publishing they wait."""

    deferred: bool = False
    pending: int | None = None
    installed: dict[signal.Signals, Any] = field(default_factory=dict)

    def handler(self, signum: int, frame: object) -> None:
        if self.deferred:
            self.pending = signum
            return
        # Unwinding the executor after an interrupt makes its background tasks log "Kernel
        # died" and "Task exception was never retrieved" tracebacks: noise, not news.
        _QUIET.active = True
        raise RunInterrupted(signum)


class _QuietAfterInterrupt(logging.Filter):
    """Drops the executor's log records while a run unwinds from an interrupt."""

    active = False

    def filter(self, record: logging.LogRecord) -> bool:
        return not self.active


_QUIET = _QuietAfterInterrupt()
_NOISY_LOGGERS = ("asyncio", "papermill", "nbclient", "traitlets")


def silence_executor_until_exit() -> None:
    """Disable the executor's loggers for the rest of this process.

    Notes
    -----
    For the command line after an interrupted run: the event loop that ran the kernel keeps
    its orphaned tasks until the interpreter shuts down, and asyncio then logs each one's
    "Kernel died" traceback. The process is about to exit with its one-line message, so the
    loggers are switched off rather than filtered (a library caller keeps its loggers).
    """
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).disabled = True


@contextlib.contextmanager
def _interruptible() -> Iterator[_Signals]:
    state = _Signals()
    loggers = [logging.getLogger(name) for name in _NOISY_LOGGERS]
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            state.installed[sig] = signal.signal(sig, state.handler)
    for log in loggers:
        log.addFilter(_QUIET)
    try:
        yield state
    finally:
        for sig, old in state.installed.items():
            signal.signal(sig, old)
        if _QUIET.active:
            gc.collect()  # orphaned executor tasks report their errors now, while filtered
        for log in loggers:
            log.removeFilter(_QUIET)
        _QUIET.active = False


@contextlib.contextmanager
def _run_lock(folder: Path, slug: str) -> Iterator[None]:
    """Hold ``folder/.pilot-eval.lock`` for the run; refuse when another run holds it.

    The lock is an OS file lock (``flock``): it is released when the process ends, however it
    ends (even SIGKILL), so it can never be left stale.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        yield
        return
    path = folder / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise ReportError(
                f"{folder}: another 'pilot-eval run' of {slug} is running (process {holder}, "
                f"lock {path}). Wait for it to finish and run again; two runs of one slug "
                "would overwrite each other's report."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _quiet_kernel_manager(log_path: Path) -> type:
    """A kernel manager whose kernel writes its own stderr to ``log_path``, not the terminal.

    The kernel's stderr carries only its internals (log lines, a traceback when it is stopped
    while starting), never cell output (that travels over the kernel's messages), so people
    running a report never see it; the log stays beside the report for whoever debugs.
    """
    from jupyter_client import AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            with open(log_path, "ab") as log:
                kw["stderr"] = log
                await super()._async_launch_kernel(kernel_cmd, **kw)

    return QuietKernelManager


def _clean_stale_staging(out: Path) -> None:
    """Remove staging folders a killed run of this slug left (the lock is held: none is live)."""
    for old in out.parent.glob(f".{out.name}.staging-*"):
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)


def _when(path: Path) -> str:
    stamp = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).astimezone()
    return stamp.strftime("%Y-%m-%d %H:%M %Z")


def _previous_report(out: Path) -> str:
    """What the reader of a failure message finds in the report folder."""
    html = out / "report.html"
    if html.is_file():
        return (
            f"The report at {html} is the PREVIOUS one (from {_when(html)}), left unchanged; "
            "it does not reflect this run."
        )
    return "No report was written."


def _write_failure_note(
    out: Path, *, config_path: Path, why: str, failed: Path | None, previous: str
) -> Path:
    note = out / FAILED_NOTE
    now = datetime.now(UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    text = "\n".join(
        [
            f"pilot-eval run FAILED at {now}",
            f"config: {config_path}",
            f"why: {why}",
            f"failed notebook: {failed}"
            if failed is not None
            else "failed notebook: none (the notebook did not start)",
            previous,
            f"kernel log: {out / KERNEL_LOG}",
            "A successful run removes this file and the failed notebook.",
            "",
        ]
    )
    tmp = note.with_name(f".{FAILED_NOTE}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, note)
    return note


def record_refusal(
    config_path: str | Path, *, output_root: str | Path, slug: str, why: str
) -> Path:
    """Write ``FAILED.txt`` for a pilot refused before its notebook started (``run-all``).

    The pilot's report folder keeps its last good report; the note says why this run was
    refused, and that no notebook ran. Returns the note's path.
    """
    out = Path(output_root) / slug
    out.mkdir(parents=True, exist_ok=True)
    return _write_failure_note(
        out,
        config_path=Path(config_path),
        why=f"refused before the notebook started: {why}",
        failed=None,
        previous=_previous_report(out),
    )


def _publish(staging: Path, out: Path, *, pdf: bool) -> None:
    """Move the staged outputs into ``out`` (report.html last), then clear failure notes."""
    for name in (NOTEBOOK_NAME, "results.json", *_extras(staging), "report.html"):
        os.replace(staging / name, out / name)
    if not pdf:
        (out / PDF_NAME).unlink(missing_ok=True)  # an older PDF would not match this report
    (out / FAILED_NOTEBOOK).unlink(missing_ok=True)
    (out / FAILED_NOTE).unlink(missing_ok=True)


def _write_pdf(staging: Path) -> None:
    try:
        from .pdf import write_pdf  # lazily: printing needs a browser, only for --pdf
    except ImportError as exc:
        raise ReportError(
            f"--pdf needs pilot_eval.report.pdf, which cannot be imported ({exc}); run without "
            "--pdf, or install the PDF support."
        ) from None
    write_pdf(staging / "report.html", staging / PDF_NAME)


def run_pilot(
    config_path: str | Path,
    *,
    output_root: str | Path = "reports",
    parameters: dict[str, Any] | None = None,
    notebook: str | Path | None = None,
    kernel_name: str = "python3",
    pdf: bool = False,
) -> RunOutputs:
    """Evaluate one pilot and write its report folder.

    Parameters
    ----------
    config_path
        The pilot's YAML config (validated before anything runs).
    output_root
        Folder under which ``<slug>/`` is written (checked before anything runs).
    parameters
        Extra notebook parameters; names the notebook does not declare are rejected.
    notebook
        The notebook to run (default: the packaged template, see :func:`default_notebook`).
    kernel_name
        Jupyter kernel to execute with (default: this Python).
    pdf
        Also print the report to ``report.pdf`` (with :func:`pilot_eval.report.pdf.write_pdf`)
        before publishing, so it is published with the rest.

    Returns
    -------
    RunOutputs
        Paths of ``report.html``, ``results.json``, the executed notebook (and the PDF).

    Raises
    ------
    ConfigError
        The config is invalid (nothing is run or written).
    ReportError
        The output root is not a writable folder, another run of the slug holds the lock
        (nothing is run), or the notebook failed: the message names the failing cell's error,
        the failed notebook and ``FAILED.txt``, and says whether the report in the folder is
        the previous one. The previous ``report.html``, ``results.json`` and notebook are
        never touched by a failed run.
    RunInterrupted
        SIGINT (Ctrl-C) or SIGTERM arrived: the run stopped, the previous report is kept and
        ``FAILED.txt`` says so.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    root = check_output_root(output_root)
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
    out = root / cfg.slug
    if out.exists() and not out.is_dir():
        raise ReportError(
            f"{out}: is a file, but the report folder of {cfg.slug} goes there. Move the file "
            "away or give another --output-root."
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(
            f"--output-root {root}: cannot create {out} ({exc.strerror}). Give a folder you "
            "can write to."
        ) from None
    with _interruptible() as signals, _run_lock(out, cfg.slug):
        _clean_stale_staging(out)
        (out / KERNEL_LOG).unlink(missing_ok=True)  # this run's kernel log only
        staging = out.parent / f".{cfg.slug}.staging-{uuid.uuid4().hex[:8]}"
        executed = staging / NOTEBOOK_NAME
        try:
            staging.mkdir()
            # The kernel runs in the staging folder with paths relative to it, so the
            # published notebook holds no absolute path of this machine.
            params.update(config_path=os.path.relpath(config_path, staging), output_dir=".")
            papermill.execute_notebook(
                str(nb_path),
                str(executed),
                parameters=params,
                kernel_name=kernel_name,
                progress_bar=False,
                cwd=str(staging),
                extra_arguments=list(KERNEL_ARGUMENTS),
                kernel_manager_class=_quiet_kernel_manager(out / KERNEL_LOG),
            )
            if not (staging / "results.json").is_file():
                raise ReportError("the notebook ran to the end but wrote no results.json")
            scrub_notebook(executed, config_name=config_path.name)
            if not (staging / "report.html").is_file():
                # A notebook that does not render the page itself: export its outputs.
                export_html(executed, staging / "report.html", title=cfg.report.title)
            if pdf:
                _write_pdf(staging)
            signals.deferred = True  # a signal now waits until the folder is consistent
            _publish(staging, out, pdf=pdf)
        except BaseException as exc:
            signals.deferred = True
            interrupted = _interruption(exc)
            previous = _previous_report(out)
            failed: Path | None = None
            if executed.exists():
                failed = out / FAILED_NOTEBOOK
                with contextlib.suppress(OSError):
                    os.replace(executed, failed)
            if interrupted is not None:
                why = f"interrupted by {signal.Signals(interrupted).name}"
            elif isinstance(exc, PapermillExecutionError):
                why = f"failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
            else:
                why = f"failed: {type(exc).__name__}: {exc}"
            note = _write_failure_note(
                out, config_path=config_path, why=why, failed=failed, previous=previous
            )
            if interrupted is not None:
                raise RunInterrupted(
                    interrupted,
                    f"the evaluation of {config_path.name} was stopped "
                    f"({signal.Signals(interrupted).name}). {previous} See {note}.",
                ) from None
            if not isinstance(exc, Exception):
                raise
            where = (
                f"The notebook with the error is at {failed}"
                if failed is not None
                else "The notebook did not start, so there is no executed notebook to inspect"
            )
            raise ReportError(
                f"the evaluation of {config_path.name} {why}\n{where}; {note} says when and "
                f"why. {previous}"
            ) from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if signals.pending is not None:
            raise RunInterrupted(
                signals.pending,
                f"{signal.Signals(signals.pending).name} arrived while the report was being "
                f"published; the new report in {out} is complete.",
            )
    return RunOutputs(
        folder=out,
        report_html=out / "report.html",
        results_json=out / "results.json",
        notebook=out / NOTEBOOK_NAME,
        pdf=out / PDF_NAME if pdf else None,
    )


def _interruption(exc: BaseException) -> int | None:
    """The signal that stopped the run, if it was stopped by one (else None)."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, RunInterrupted):
        return exc.signum
    if isinstance(exc, KeyboardInterrupt):
        return int(signal.SIGINT)
    if isinstance(exc, PapermillExecutionError) and exc.ename == "KeyboardInterrupt":
        return int(signal.SIGINT)  # the kernel got the terminal's Ctrl-C
    return None


def _extras(staging: Path) -> list[str]:
    """Other files the notebook wrote (e.g. published tables), moved before report.html."""
    return sorted(
        p.name
        for p in staging.iterdir()
        if p.is_file()
        and p.name not in PUBLISHED
        and not p.name.startswith(".")
        and p.name not in (FAILED_NOTE, FAILED_NOTEBOOK)
    )
