"""Run many pilot configs in parallel and write ``<output root>/index.html`` and ``index.json``.

Each config is one task, :func:`run_one`: it calls :func:`pilot_eval.report.run.run_pilot`
and returns a plain dict (picklable, JSON-ready), never raises for a pilot's own failure, so
one bad pilot never stops the rest. Tasks run in local worker processes
(:class:`concurrent.futures.ProcessPoolExecutor`, ``spawn``) or on a Dask ``distributed``
cluster (an existing scheduler, or a :class:`distributed.LocalCluster` on the loopback
interface). The same task runs either way, so a pilot's ``results.json`` is the same bytes
(with ``SOURCE_DATE_EPOCH`` set, which is passed on to the workers).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue as queue_mod
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, PilotEvalError

__all__ = ["BatchInterrupted", "collect_configs", "run_all", "run_one"]

STATUSES = ("queued", "running", "done", "failed")

_EVENTS: Any = None  # the worker's queue of "running" events (set by _init_worker)


def collect_configs(paths: Sequence[str | Path]) -> list[Path]:
    """The configs to run: each path a YAML file, or a folder whose ``*.yml``/``*.yaml`` files
    are taken (sorted; ``*.plan.json`` and other files are ignored). Duplicates are dropped."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted([*p.glob("*.yml"), *p.glob("*.yaml")])
            if not found:
                raise ConfigError(f"{p}: no *.yml pilot configs in this folder")
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            raise ConfigError(f"{p}: no such config file or folder")
    seen: set[Path] = set()
    unique = []
    for p in out:
        r = p.resolve()
        if r not in seen:
            seen.add(r)
            unique.append(r)
    return unique


def _init_worker(events: Any) -> None:
    global _EVENTS
    _EVENTS = events


def run_one(
    config_path: str, output_root: str, index: int = 0, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run one pilot; a dict with ``status`` ``done`` or ``failed`` (and why, and where).

    ``env`` (e.g. ``SOURCE_DATE_EPOCH``) is set in the worker's environment for the run, and
    the worker's own values come back after it.
    """
    if _EVENTS is not None:
        _EVENTS.put(index)
    saved = {k: os.environ.get(k) for k in env or {}}
    os.environ.update(env or {})
    try:
        return _run_one(config_path, output_root)
    finally:
        for k, old in saved.items():
            if old is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = old


def _run_one(config_path: str, output_root: str) -> dict[str, Any]:
    from ..config import load_config
    from ..pipeline import prepare
    from ..report.run import FAILED_NOTE, FAILED_NOTEBOOK, record_refusal, run_pilot

    start = time.perf_counter()
    row: dict[str, Any] = {"config": config_path, "slug": None, "title": None}
    try:
        cfg = load_config(config_path)
        row.update(slug=cfg.slug, title=cfg.report.title)
        try:
            # validate's checks first, as `pilot-eval run` does: a data problem is one line
            # naming the file and field, and no kernel starts
            prepare(cfg)
        except PilotEvalError as exc:
            first = str(exc).splitlines()[0] if str(exc) else repr(exc)
            record_refusal(config_path, output_root=output_root, slug=cfg.slug, why=first)
            raise PilotEvalError(f"{Path(config_path).name}: {first}") from None
        out = run_pilot(config_path, output_root=output_root)
        row.update(status="done", folder=str(out.folder))
    except PilotEvalError as exc:
        row.update(status="failed", error=str(exc).splitlines()[0] if str(exc) else repr(exc))
    except Exception as exc:  # a bug in pilot-eval: still only this pilot's row
        row.update(status="failed", error=f"internal error: {type(exc).__name__}: {exc}")
    except KeyboardInterrupt as exc:  # Ctrl-C / SIGTERM: a row, never an exception to pickle
        first = str(exc).splitlines()[0] if str(exc) else "Ctrl-C"
        row.update(status="failed", error=f"stopped: {first}")
    row["seconds"] = round(time.perf_counter() - start, 1)
    if row["status"] == "failed" and row["slug"]:
        folder = Path(output_root) / row["slug"]
        for key, name in (("failed_note", FAILED_NOTE), ("failed_notebook", FAILED_NOTEBOOK)):
            if (folder / name).is_file():
                row[key] = str(folder / name)
        if (folder / "report.html").is_file():  # a failed run keeps the last good report
            row["previous_report"] = str(folder / "report.html")
    return row


@dataclass
class _Board:
    """The progress display: one line per pilot (rich when stdout is a terminal)."""

    names: list[str]
    stream: Any
    fancy: bool

    def __post_init__(self) -> None:
        self.status = ["queued"] * len(self.names)
        self.detail = [""] * len(self.names)
        self.live: Any = None
        if self.fancy:
            from rich.console import Console
            from rich.live import Live

            self.live = Live(self._table(), console=Console(file=self.stream), transient=False)
            self.live.start()
        else:
            for n in self.names:
                print(f"queued   {n}", file=self.stream, flush=True)

    def _table(self) -> Any:
        from rich.table import Table

        t = Table(show_header=True, header_style="bold", box=None)
        t.add_column("pilot")
        t.add_column("status")
        t.add_column("detail", overflow="fold")
        style = {"queued": "dim", "running": "cyan", "done": "green", "failed": "bold red"}
        for n, s, d in zip(self.names, self.status, self.detail, strict=True):
            t.add_row(n, f"[{style[s]}]{s}[/]", d)
        return t

    def set(self, i: int, status: str, detail: str = "") -> None:
        if self.status[i] in ("done", "failed") or self.status[i] == status:
            return
        self.status[i], self.detail[i] = status, detail
        if self.live is not None:
            self.live.update(self._table())
        else:
            print(
                f"{status:<8} {self.names[i]}" + (f": {detail}" if detail else ""),
                file=self.stream,
                flush=True,
            )

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()


def _detail(row: dict[str, Any]) -> str:
    if row["status"] == "done":
        return f"{row['seconds']} s"
    where = row.get("failed_note") or row.get("failed_notebook")
    return row["error"] + (f" (see {where})" if where and where not in row["error"] else "")


def _passed_env() -> dict[str, str]:
    return {k: os.environ[k] for k in ("SOURCE_DATE_EPOCH",) if k in os.environ}


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped a batch; ``rows`` holds every pilot's row (the ones that did
    not finish say so) and the index was written from them."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__("the batch was stopped")
        self.rows = rows


#: After Ctrl-C, how long the running pilots get to stop cleanly (their run_pilot writes
#: FAILED.txt and keeps the previous report) before their workers are terminated.
GRACE_SECONDS = 30.0


def _stopped_row(config: Path) -> dict[str, Any]:
    return {
        "config": str(config),
        "slug": None,
        "title": None,
        "status": "failed",
        "error": "stopped before it finished (the batch was interrupted)",
        "seconds": None,
    }


def _run_local(
    configs: list[Path], root: Path, workers: int, board: _Board
) -> list[dict[str, Any]]:
    from concurrent.futures import wait

    ctx = mp.get_context("spawn")
    events = ctx.Queue()
    rows: list[dict[str, Any] | None] = [None] * len(configs)
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(events,)
    )
    futures: dict[Future[dict[str, Any]], int] = {
        pool.submit(run_one, str(c), str(root), i, _passed_env()): i for i, c in enumerate(configs)
    }
    pending = set(futures)

    def collect(done: Iterable[Future[dict[str, Any]]]) -> None:
        for f in done:
            pending.discard(f)
            i = futures[f]
            row = rows[i] = _result(f, configs[i])
            board.set(i, row["status"], _detail(row))

    try:
        while pending:
            try:
                board.set(events.get(timeout=0.2), "running")
            except queue_mod.Empty:
                pass
            collect([f for f in pending if f.done()])
    except KeyboardInterrupt:
        for f in pending:
            f.cancel()
        # The terminal's Ctrl-C reached the workers too: their runs stop cleanly, soon.
        running = [f for f in pending if not f.cancelled()]
        done, _ = wait(running, timeout=GRACE_SECONDS)
        collect([f for f in done if not f.cancelled()])
        for p in list((getattr(pool, "_processes", None) or {}).values()):
            if p.is_alive():
                p.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        out = [r if r is not None else _stopped_row(c) for r, c in zip(rows, configs, strict=True)]
        for i, r in enumerate(out):
            board.set(i, r["status"], _detail(r))
        raise BatchInterrupted(out) from None
    pool.shutdown(wait=True)
    return [r for r in rows if r is not None]


def _result(f: Any, config: Path) -> dict[str, Any]:
    try:
        return dict(f.result())
    except Exception as exc:  # the worker died (killed, out of memory)
        return {
            "config": str(config),
            "slug": None,
            "title": None,
            "status": "failed",
            "error": f"the worker running it stopped: {type(exc).__name__}: {exc}",
            "seconds": None,
        }


def _run_dask(
    configs: list[Path],
    root: Path,
    board: _Board,
    *,
    scheduler: str | None,
    dask_workers: int | None,
) -> list[dict[str, Any]]:
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=dask_workers or 1,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
    client = Client(cluster if cluster is not None else scheduler)
    try:
        env = _passed_env()
        futures = {
            client.submit(
                run_one, str(c), str(root), i, env, pure=False, key=f"pilot-{i}-{c.stem}"
            ): i
            for i, c in enumerate(configs)
        }
        for i in range(len(configs)):
            board.set(i, "running", "submitted to the cluster")
        rows: list[dict[str, Any] | None] = [None] * len(configs)
        for f in as_completed(futures):
            i = futures[f]
            row = rows[i] = _result(f, configs[i])
            board.set(i, row["status"], _detail(row))
        return [r for r in rows if r is not None]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_all(
    paths: Sequence[str | Path],
    *,
    output_root: str | Path = "reports",
    workers: int | None = None,
    scheduler: str | None = None,
    dask_workers: int | None = None,
    stream: Any = None,
    fancy: bool | None = None,
) -> list[dict[str, Any]]:
    """Run every config, show progress, write the index; one row per pilot, in input order.

    Parameters
    ----------
    paths
        Config files and/or folders of configs.
    output_root
        Reports go to ``<output_root>/<slug>/``; the index to ``<output_root>/index.html``
        and ``index.json``.
    workers
        Local worker processes (default: the CPU count, at most the number of configs).
    scheduler, dask_workers
        Run on the Dask scheduler at this address, or on a new local Dask cluster with this
        many worker processes (127.0.0.1 only), instead of local worker processes.
    stream, fancy
        Where the progress goes (default stdout) and whether it is a rich live table
        (default: when the stream is a terminal).
    """
    from ..report.run import check_output_root
    from .index import write_index

    configs = collect_configs(paths)
    root = check_output_root(output_root)
    root.mkdir(parents=True, exist_ok=True)
    stream = sys.stdout if stream is None else stream
    if fancy is None:
        fancy = bool(getattr(stream, "isatty", lambda: False)())
    board = _Board([c.name for c in configs], stream, fancy)
    try:
        if scheduler is not None or dask_workers is not None:
            rows = _run_dask(configs, root, board, scheduler=scheduler, dask_workers=dask_workers)
        else:
            n = workers or os.cpu_count() or 1
            rows = _run_local(configs, root, max(1, min(n, len(configs))), board)
    except BatchInterrupted as exc:
        board.close()
        write_index(exc.rows, root)
        raise
    finally:
        board.close()
    write_index(rows, root)
    return rows


def summary_lines(rows: Iterable[dict[str, Any]], root: Path) -> list[str]:
    rows = list(rows)
    failed = [r for r in rows if r["status"] != "done"]
    lines = [
        f"{len(rows) - len(failed)} of {len(rows)} pilot(s) done; index: {root / 'index.html'}"
    ]
    lines += [f"FAILED {Path(r['config']).name}: {_detail(r)}" for r in failed]
    return lines
