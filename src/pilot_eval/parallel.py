"""Independent pieces of one analysis, run here or on an executor (a Dask cluster).

Placebo work grows with the panel: synthetic control refits a placebo for every comparison
area (each a simplex fit over all the other areas), and its conformal interval tests every
null ratio of a grid. Those pieces do not depend on each other, so an estimator hands them
to :func:`map_chunks`, which runs them in this process, or, given an ``executor`` (any
``concurrent.futures.Executor``, e.g. ``distributed.Client(...).get_executor()``), in chunks
on it. Every piece runs with one BLAS thread wherever it runs, and the results come back in
order, so the numbers are the same bytes either way when the workers run the same versions
of pilot-eval, numpy and scipy on the same kind of CPU (``tests/test_parallel.py``; a local
cluster always does). The BLAS limit is per process: use process workers (a Dask cluster, a
``ProcessPoolExecutor``), not threads.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit

from .errors import ClusterError, ConfigError, PilotEvalError

__all__ = ["DEFAULT_CHUNKS", "cluster_executor", "map_chunks"]

T = TypeVar("T")
R = TypeVar("R")

#: Pieces are sent in this many chunks per call (a few per worker of a small cluster, so a
#: slow chunk does not hold the rest up, and few enough that sending each costs little).
DEFAULT_CHUNKS = 16


def _run_chunk(fn: Callable[[T], R], chunk: Sequence[T]) -> list[R]:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return [fn(item) for item in chunk]


def map_chunks(
    fn: Callable[[T], R],
    items: Sequence[T],
    *,
    executor: Executor | None = None,
    n_chunks: int = DEFAULT_CHUNKS,
) -> list[R]:
    """``[fn(item) for item in items]``, on ``executor`` in ``n_chunks`` chunks when one is given.

    Parameters
    ----------
    fn
        A function of one item; with an executor it and the items must pickle (a module-level
        function, or a ``functools.partial`` of one).
    items
        The pieces, in order.
    executor
        Where the chunks run; ``None``: here, one after another.
    n_chunks
        At most this many chunks are sent (equal sizes, at most one per item).

    Returns
    -------
    list
        The results in the order of ``items``.

    Raises
    ------
    ClusterError
        The executor failed (a worker died, the scheduler went away): the message names the
        error. A :class:`~pilot_eval.errors.PilotEvalError` raised by ``fn`` itself comes back
        as it is.
    """
    items = list(items)
    if executor is None or len(items) < 2:
        return _run_chunk(fn, items)
    size = math.ceil(len(items) / max(1, min(n_chunks, len(items))))
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    out: list[R] = []
    try:
        for part in executor.map(partial(_run_chunk, fn), chunks):
            out.extend(part)
    except PilotEvalError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the cluster raised, said in one line
        raise ClusterError(
            f"the executor failed while running {getattr(fn, 'func', fn).__name__} in "
            f"{len(chunks)} chunks ({type(exc).__name__}: {exc}); check the workers, or run "
            "without a scheduler"
        ) from None
    return out


#: Address schemes a Dask scheduler listens on.
SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")


def _check_address(scheduler: str) -> None:
    """``scheme://host:port`` with a Dask scheme, or a ConfigError saying what is wrong."""
    parts = urlsplit(scheduler)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in SCHEMES or not parts.hostname or port is None:
        raise ConfigError(
            f"{scheduler!r} is not a Dask scheduler address: give scheme://host:port with "
            f"scheme one of {', '.join(SCHEMES)}, e.g. tcp://127.0.0.1:8786"
        )


@contextmanager
def cluster_executor(scheduler: str, *, timeout: float = 20.0) -> Iterator[Executor | None]:
    """An executor on the Dask scheduler at ``scheduler`` (``""``: ``None``, run here).

    ``timeout``: seconds to wait for the scheduler to answer.

    Raises :class:`~pilot_eval.errors.ConfigError` with an install hint when ``distributed``
    is missing, and a plain message when the scheduler cannot be reached.
    """
    if not scheduler:
        yield None
        return
    _check_address(scheduler)
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - distributed is a dependency
        raise ConfigError(
            "a Dask scheduler was given but dask.distributed is not installed: "
            "pip install 'dask[distributed]'"
        ) from None
    try:
        client: Any = Client(scheduler, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigError(
            f"cannot reach the Dask scheduler at {scheduler} ({exc}); check the address "
            "(e.g. tcp://127.0.0.1:8786) and that the scheduler is running"
        ) from None
    try:
        yield client.get_executor()
    finally:
        client.close()
