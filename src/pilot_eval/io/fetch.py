"""Download police.uk street-level crime from the public data.police.uk archive.

How data.police.uk serves bulk data
    ``https://data.police.uk/data/archive/YYYY-MM.zip`` is a *complete rolling snapshot*
    published each month: the archive named after month ``M`` holds every force's files for
    the 36 months ending with ``M`` (older archives, up to 2017-04, reach back further),
    about 1.5–1.8 GB each, laid out as ``YYYY-MM/YYYY-MM-<force>-street.csv`` (plus
    ``-outcomes`` and ``-stop-and-search`` files). ``latest.zip`` is the newest one. Archives
    appear about two months after the month they end with.

What :func:`fetch_police` does
    For months ``start``..``end`` it downloads as few archives as possible: the archive
    named ``end`` (months ``end-35``..``end``), then ``end-36`` (the 36 months before), and
    so on back to ``start``. From each it extracts only ``<force>-street.csv`` for the months
    wanted, into the layout the police.uk loader reads::

        dest/
          2024-03/2024-03-metropolitan-street.csv
          2024-04/2024-04-metropolitan-street.csv
          ...

    * **Skip**: an archive is not downloaded when every month it is responsible for is
      already in ``dest`` (or recorded as absent, below). Files are written under a temporary
      name and renamed, so a file present under its final name is complete.
    * **Resume**: the download goes to ``dest/.archives/YYYY-MM.zip.part``; after an
      interruption (dropped connection, time-out, Ctrl-C) the next attempt, in this call or
      a later one, asks for the rest with an HTTP ``Range`` request (guarded by ``If-Range``
      with the server's ETag / Last-Modified, so a changed file restarts cleanly).
    * **Retries**: connection errors, time-outs, short bodies and HTTP 408/425/429/5xx are
      retried with exponential back-off (``backoff * 2**k`` seconds); a retry that made
      progress does not count against ``retries``.
    * **Integrity**: the finished ``.part`` must open as a zip and every member extracted
      must pass its CRC check before anything is renamed into place; a corrupt download is
      deleted (so the next run starts afresh) and reported.
    * **Missing archive** (HTTP 404): an error (:class:`~pilot_eval.errors.FetchError`), not
      a skip, because one archive holds up to 36 months. The message gives the URL and what
      to do (pick an earlier ``end``; archives lag about two months).
    * **Month missing inside an archive** (the force did not submit that month): a warning,
      and a marker ``dest/YYYY-MM/.<force>-street.missing`` so later runs do not download the
      archive again for it. Such a month is missing data, not a month with zero crimes. Delete
      the marker to try again with a newer archive.
    * The archive is deleted after extraction unless ``keep_archives=True``.

Only the standard library (``urllib``) is used for HTTP; ``rich`` draws the progress bar.
"""

from __future__ import annotations

import contextlib
import email.utils
import http.client
import json
import os
import re
import shutil
import time
import urllib.error
import urllib.request
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import FetchError

DEFAULT_BASE_URL = "https://data.police.uk/data/archive/"
#: Months held by each data.police.uk archive (since 2017-05).
ARCHIVE_MONTHS = 36
_RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}
_CHUNK = 1 << 20
_MAX_ATTEMPTS = 200  # hard cap, even when every attempt makes progress
_FORCE_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_STREET_RE = re.compile(r"^(\d{4}-\d{2})/\1-(.+)-street\.csv$")


# ---------------------------------------------------------------------------------------
# months
# ---------------------------------------------------------------------------------------
def _parse_month(value: str, what: str) -> int:
    m = _MONTH_RE.match(str(value).strip())
    if not m:
        raise FetchError(f"{what} must be a month written YYYY-MM (e.g. 2024-04), got {value!r}")
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def _fmt(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True)
class ArchivePlan:
    """One archive to download: its name (YYYY-MM) and the months of the request it supplies."""

    name: str  # YYYY-MM
    months: tuple[str, ...]  # months of the request this archive supplies


def plan_archives(start: str, end: str, *, window: int = ARCHIVE_MONTHS) -> list[ArchivePlan]:
    """Which archives to download for months ``start``..``end`` (newest first).

    Parameters
    ----------
    start, end
        First and last month, ``YYYY-MM``.
    window
        Months per archive (36 on data.police.uk).

    Returns
    -------
    list
        Archives with the months each one supplies.
    """
    s, e = _parse_month(start, "start"), _parse_month(end, "end")
    if s > e:
        raise FetchError(f"start ({start}) is after end ({end}): swap them.")
    if window < 1:
        raise FetchError(f"window must be at least 1 month, got {window}")
    plan = []
    a = e
    while a >= s:
        first = max(s, a - window + 1)
        plan.append(ArchivePlan(_fmt(a), tuple(_fmt(i) for i in range(first, a + 1))))
        a -= window
    return plan


# ---------------------------------------------------------------------------------------
# HTTP download with resume
# ---------------------------------------------------------------------------------------
class _Retry(Exception):
    """An attempt failed in a way worth retrying."""

    def __init__(self, reason: str, *, progressed: bool = False) -> None:
        super().__init__(reason)
        self.progressed = progressed


def _user_agent() -> str:
    try:
        from importlib.metadata import version

        v = version("pilot-eval")
    except Exception:  # pragma: no cover - not installed
        v = "dev"
    return f"pilot-eval/{v} (fetch_police; +https://data.police.uk/)"


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """``bytes a-b/N`` -> (a, N); ``bytes */N`` -> (None, N)."""
    if not value:
        return None, None
    m = re.match(r"^\s*bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)\s*$", value)
    if not m:
        return None, None
    start = int(m.group(1)) if m.group(1) is not None else None
    total = int(m.group(2)) if m.group(2) != "*" else None
    return start, total


def _meta_path(part: Path) -> Path:
    return part.with_name(part.name + ".json")


def _read_meta(part: Path, url: str) -> dict:
    try:
        meta = json.loads(_meta_path(part).read_text())
    except (OSError, ValueError):
        return {}
    return meta if meta.get("url") == url else {}


def _attempt(
    url: str,
    part: Path,
    *,
    timeout: float,
    on_bytes: Callable[[int, int | None], None],
) -> None:
    """One GET of ``url`` into ``part``, resuming from its current size. Raises _Retry."""
    have = part.stat().st_size if part.exists() else 0
    meta = _read_meta(part, url) if have else {}
    headers = {"User-Agent": _user_agent(), "Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
        validator = meta.get("etag") or meta.get("last_modified")
        if validator:
            headers["If-Range"] = validator
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        err.close()
        if err.code == 416 and have:
            _, total = _content_range(err.headers.get("Content-Range"))
            if total is not None and total == have:
                on_bytes(have, total)
                return  # the .part was already complete
            part.unlink(missing_ok=True)
            raise _Retry(
                f"server refused to resume at byte {have:,} (HTTP 416); restarting"
            ) from None
        if err.code in _RETRYABLE_STATUS:
            raise _Retry(f"HTTP {err.code} {err.reason}") from None
        hint = {
            404: "The file is not on the server: data.police.uk publishes each monthly "
            "archive about two months after the month it ends with, so choose an earlier "
            "end month, or check the list of archives at https://data.police.uk/data/archive/.",
            403: "The server refused access; try again later or download the archive by hand.",
        }.get(err.code, "Check the URL (base_url) and try again later.")
        raise FetchError(f"{url}: HTTP {err.code} {err.reason}. {hint}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
        reason = getattr(err, "reason", err)
        raise _Retry(f"cannot connect ({reason})") from None
    except (http.client.HTTPException, OSError) as err:
        raise _Retry(f"connection failed ({err!r})") from None

    with response:
        status = response.status
        length = response.headers.get("Content-Length")
        length = int(length) if length and length.isdigit() else None
        if status == 206:
            start, total = _content_range(response.headers.get("Content-Range"))
            if start != have:
                # not the range asked for: start again from scratch
                part.unlink(missing_ok=True)
                raise _Retry(f"server resumed at byte {start}, not {have:,}; restarting")
            mode = "ab"
        else:
            have, mode = 0, "wb"
            total = length
        validators = {
            "url": url,
            "etag": response.headers.get("ETag"),
            "last_modified": response.headers.get("Last-Modified"),
            "total": total,
        }
        part.parent.mkdir(parents=True, exist_ok=True)
        _meta_path(part).write_text(json.dumps(validators))
        got = have
        on_bytes(got, total)
        try:
            with open(part, mode) as fh:
                while True:
                    chunk = response.read(_CHUNK)
                    if not chunk:
                        break
                    fh.write(chunk)
                    got += len(chunk)
                    on_bytes(got, total)
        except (TimeoutError, ConnectionError, http.client.HTTPException) as err:
            raise _Retry(
                f"connection lost after {got:,} bytes ({err!r})", progressed=got > have
            ) from None
        except OSError as err:
            raise FetchError(
                f"cannot write {part}: {err}. Free some disk space and rerun."
            ) from None
    if total is not None and got < total:
        raise _Retry(f"connection closed after {got:,} of {total:,} bytes", progressed=got > have)
    if total is not None and got > total:
        part.unlink(missing_ok=True)
        raise _Retry(f"received {got:,} bytes, more than the {total:,} announced; restarting")


def download(
    url: str,
    target: Path,
    *,
    retries: int = 4,
    backoff: float = 2.0,
    timeout: float = 60.0,
    on_bytes: Callable[[int, int | None], None] | None = None,
) -> Path:
    """Download ``url`` to ``target`` via ``target.part``, resuming and retrying.

    Parameters
    ----------
    url
        HTTP(S) address.
    target
        Final path; the data go to ``<target>.part`` (kept after a failure so that a later
        call resumes) and the caller renames it.
    retries
        Failed attempts without progress allowed after the first.
    backoff
        Seconds before the first retry; doubles after each failure.
    timeout
        Socket time-out in seconds.
    on_bytes
        Called with (bytes so far, total or ``None``) as data arrive.

    Returns
    -------
    pathlib.Path
        The complete ``.part`` file.

    Raises
    ------
    FetchError
        On a non-retryable HTTP status (the message names status, URL and what to do) or
        when retries are exhausted (the message says the partial file is kept).
    """
    part = target.with_name(target.name + ".part")
    part.parent.mkdir(parents=True, exist_ok=True)
    report = on_bytes or (lambda _got, _total: None)
    failures = 0
    for attempt in range(_MAX_ATTEMPTS):
        try:
            _attempt(url, part, timeout=timeout, on_bytes=report)
            return part
        except _Retry as why:
            failures = 0 if why.progressed else failures + 1
            if failures > retries or attempt == _MAX_ATTEMPTS - 1:
                have = part.stat().st_size if part.exists() else 0
                kept = (
                    f" The {have:,} bytes received are kept in {part}: run the same command "
                    "again to resume."
                    if have
                    else ""
                )
                raise FetchError(
                    f"{url}: download failed after {attempt + 1} attempt(s): {why}.{kept} "
                    "Check your internet connection (and any proxy) or try later."
                ) from None
            delay = backoff * (2 ** max(failures - 1, 0))
            if delay > 0:
                time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


# ---------------------------------------------------------------------------------------
# archive handling
# ---------------------------------------------------------------------------------------
def _member_name(month: str, force: str) -> str:
    return f"{month}/{month}-{force}-street.csv"


def _target(dest: Path, month: str, force: str) -> Path:
    return dest / month / f"{month}-{force}-street.csv"


def _marker(dest: Path, month: str, force: str) -> Path:
    return dest / month / f".{force}-street.missing"


def _extract(
    archive: Path, months: tuple[str, ...], *, force: str, dest: Path, url: str
) -> list[str]:
    """Extract the force's street CSVs for ``months``; return months absent from the zip."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as err:
        head = b""
        with contextlib.suppress(OSError), open(archive, "rb") as fh:
            head = fh.read(60)
        archive.unlink(missing_ok=True)
        raise FetchError(
            f"{url}: the downloaded file is not a valid zip archive ({err}; it starts with "
            f"{head[:40]!r}). It has been deleted: run the command again to download it "
            "afresh, and check base_url if this repeats."
        ) from None
    # keyed by the last two path parts, lower-cased (tolerates a top folder in the zip)
    members = {"/".join(i.filename.lower().split("/")[-2:]): i for i in zf.infolist()}
    forces = {m.group(2) for k in members if (m := _STREET_RE.match(k))}
    if force not in forces:
        zf.close()
        raise FetchError(
            f"{url}: the archive has no street-level files for force {force!r}. Forces in it: "
            f"{', '.join(sorted(forces)) or 'none'}. Use one of these ids (the download is "
            "kept and will be reused)."
        )
    staged: list[tuple[Path, Path]] = []
    absent: list[str] = []
    try:
        with zf:
            for month in months:
                info = members.get(_member_name(month, force).lower())
                if info is None:
                    absent.append(month)
                    continue
                final = _target(dest, month, force)
                final.parent.mkdir(parents=True, exist_ok=True)
                tmp = final.with_name(f".{final.name}.tmp")
                with zf.open(info) as src, open(tmp, "wb") as out:
                    shutil.copyfileobj(src, out, _CHUNK)  # CRC is checked at end of member
                staged.append((tmp, final))
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as err:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        archive.unlink(missing_ok=True)
        raise FetchError(
            f"{url}: the archive is corrupt ({err}). It has been deleted: run the command "
            "again to download it afresh."
        ) from None
    for tmp, final in staged:
        os.replace(tmp, final)
    return absent


@contextlib.contextmanager
def _progress_bar(enabled: bool) -> Iterator[Callable[[str], Callable[[int, int | None], None]]]:
    """Yield a factory: description -> on_bytes callback."""
    if not enabled:
        yield lambda _desc: lambda _got, _total: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    ) as bar:

        def factory(desc: str) -> Callable[[int, int | None], None]:
            task = bar.add_task(desc, total=None)

            def update(got: int, total: int | None) -> None:
                bar.update(task, completed=got, total=total)

            return update

        yield factory


def fetch_police(
    *,
    force: str,
    start: str,
    end: str,
    dest: Path,
    base_url: str = DEFAULT_BASE_URL,
    progress: bool = True,
    retries: int = 4,
    backoff: float = 2.0,
    timeout: float = 60.0,
    keep_archives: bool = False,
    window: int = ARCHIVE_MONTHS,
) -> list[Path]:
    """Download one force's police.uk street-level CSVs for a range of months.

    See the module docstring for the archive layout, resume, retry and skip rules.

    Parameters
    ----------
    force
        data.police.uk force id, e.g. ``"metropolitan"``, ``"city-of-london"``.
    start, end
        First and last month wanted, ``YYYY-MM``.
    dest
        Folder to fill with ``YYYY-MM/YYYY-MM-<force>-street.csv``; created if needed.
        Archives are downloaded into ``dest/.archives/``.
    base_url
        Folder URL holding ``YYYY-MM.zip`` archives.
    progress
        Show a progress bar (on stderr).
    retries
        Failed attempts per archive without progress before giving up.
    backoff
        Seconds before the first retry (doubles each time); 0 for none.
    timeout
        Socket time-out in seconds.
    keep_archives
        Keep the downloaded zips in ``dest/.archives`` (they are reused by later calls).
    window
        Months per archive (36 on data.police.uk).

    Returns
    -------
    list of pathlib.Path
        The street CSVs for the months wanted that exist now, oldest first (months the
        force did not publish are left out, with a warning).

    Raises
    ------
    FetchError
        Bad arguments, an archive missing on the server (HTTP 404) or other HTTP error,
        retries exhausted, or a corrupt archive; the message names the URL and what to do.
    """
    if not _FORCE_RE.match(force or ""):
        raise FetchError(
            f"force must be a data.police.uk force id such as 'metropolitan' or "
            f"'city-of-london' (lower-case words joined by hyphens), got {force!r}"
        )
    dest = Path(dest)
    plan = plan_archives(start, end, window=window)
    base = base_url if base_url.endswith("/") else base_url + "/"
    store = dest / ".archives"
    with _progress_bar(progress) as bar:
        for archive in plan:
            todo = tuple(
                m
                for m in archive.months
                if not _target(dest, m, force).exists() and not _marker(dest, m, force).exists()
            )
            if not todo:
                continue
            url = base + f"{archive.name}.zip"
            zip_path = store / f"{archive.name}.zip"
            if not zip_path.exists():
                part = download(
                    url,
                    zip_path,
                    retries=retries,
                    backoff=backoff,
                    timeout=timeout,
                    on_bytes=bar(f"{archive.name}.zip"),
                )
                absent = _extract(part, todo, force=force, dest=dest, url=url)
                os.replace(part, zip_path)
                _meta_path(part).unlink(missing_ok=True)
            else:
                absent = _extract(zip_path, todo, force=force, dest=dest, url=url)
            if not keep_archives:
                zip_path.unlink(missing_ok=True)
            for m in absent:
                marker = _marker(dest, m, force)
                marker.parent.mkdir(parents=True, exist_ok=True)
                marker.write_text(
                    f"{archive.name}.zip (downloaded {email.utils.formatdate(usegmt=True)}) has "
                    f"no {_member_name(m, force)}: the force did not publish {m}. Delete this "
                    "file to try again.\n"
                )
            if absent:
                warnings.warn(
                    f"{url} has no street-level file for force '{force}' in "
                    f"{', '.join(absent)}: the force did not publish those months. They are "
                    "missing data, not months without crime; check the force id if every "
                    "month is missing.",
                    UserWarning,
                    stacklevel=2,
                )
    with contextlib.suppress(OSError):
        store.rmdir()  # only if empty
    start_i, end_i = _parse_month(start, "start"), _parse_month(end, "end")
    return [
        _target(dest, _fmt(i), force)
        for i in range(start_i, end_i + 1)
        if _target(dest, _fmt(i), force).exists()
    ]
