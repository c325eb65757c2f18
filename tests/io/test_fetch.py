"""fetch_police against a local HTTP server (127.0.0.1, random port): never the internet."""

from __future__ import annotations

import http.server
import io
import threading
import zipfile
from pathlib import Path

import pytest

from pilot_eval.columns import POLICE_UK_HEADER
from pilot_eval.errors import FetchError
from pilot_eval.io.fetch import fetch_police, plan_archives


# --------------------------------------------------------------------------------------
# fixtures: archives in the data.police.uk layout, and a server that supports Range
# --------------------------------------------------------------------------------------
def _street_csv(month: str, force: str, rows: int = 40) -> bytes:
    lines = [",".join(POLICE_UK_HEADER)]
    for i in range(rows):
        lines.append(
            f"id{force[:3]}{month}{i:04d},{month},{force} Police,{force} Police,"
            f"0.1{i:03d},51.4{i:03d},On or near Example Road,E01000{i % 10:03d},"
            f"Bexley 001A,Violence and sexual offences,Under investigation,"
        )
    return ("\n".join(lines) + "\n").encode()


def make_archive(
    months: list[str],
    forces: tuple[str, ...] = ("metropolitan", "city-of-london"),
    *,
    skip: set[tuple[str, str]] = frozenset(),
) -> bytes:
    """A zip laid out like data.police.uk archives (street, outcomes, stop-and-search)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for m in months:
            for f in forces:
                if (m, f) in skip:
                    continue
                zf.writestr(f"{m}/{m}-{f}-street.csv", _street_csv(m, f))
                zf.writestr(f"{m}/{m}-{f}-outcomes.csv", b"Crime ID,Month\nx,y\n")
                zf.writestr(f"{m}/{m}-{f}-stop-and-search.csv", b"Type,Date\nx,y\n")
    return buf.getvalue()


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        srv = self.server
        rng = self.headers.get("Range")
        srv.log.append((self.path, rng))
        if srv.status_always:
            self.send_error(srv.status_always)
            return
        data = srv.files.get(self.path)
        if data is None:
            self.send_error(404, "Not Found")
            return
        start = 0
        if rng and not srv.ignore_range:
            if_range = self.headers.get("If-Range")
            if if_range is None or if_range == srv.etag:
                start = int(rng.removeprefix("bytes=").split("-")[0])
        if start >= len(data) and start > 0:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(data)}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = data[start:]
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", srv.etag)
        self.end_headers()
        if self.path in srv.drop_once:
            srv.drop_once.discard(self.path)
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, bytes] = {}
        self.log: list[tuple[str, str | None]] = []
        self.drop_once: set[str] = set()
        self.ignore_range = False
        self.status_always: int | None = None
        self.etag = '"v1"'

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/archive/"


@pytest.fixture
def server():
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


MONTHS = ["2024-01", "2024-02", "2024-03"]


def _fetch(server: _Server, dest: Path, **kw):
    args = dict(
        force="metropolitan",
        start="2024-01",
        end="2024-03",
        dest=dest,
        base_url=server.base_url,
        progress=False,
        backoff=0,
        window=3,
    )
    args.update(kw)
    return fetch_police(**args)


# --------------------------------------------------------------------------------------
def test_plan_uses_as_few_36_month_archives_as_possible():
    plan = plan_archives("2021-04", "2025-03")
    assert [a.name for a in plan] == ["2025-03", "2022-03"]
    assert plan[0].months[0] == "2022-04" and plan[0].months[-1] == "2025-03"
    assert plan[1].months == tuple(f"2021-{m:02d}" for m in range(4, 13)) + (
        "2022-01",
        "2022-02",
        "2022-03",
    )
    assert sum(len(a.months) for a in plan) == 48


@pytest.mark.parametrize("force", ["metropolitan", "city-of-london"])
def test_full_download_extracts_only_the_forces_street_files(server, tmp_path, force):
    server.files["/archive/2024-03.zip"] = make_archive(MONTHS)
    dest = tmp_path / "police-uk"
    paths = _fetch(server, dest, force=force)
    assert paths == [dest / m / f"{m}-{force}-street.csv" for m in MONTHS]
    for m, p in zip(MONTHS, paths, strict=True):
        assert p.read_bytes() == _street_csv(m, force)
    files = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert files == [f"{m}/{m}-{force}-street.csv" for m in MONTHS]  # nothing else left
    assert server.log == [("/archive/2024-03.zip", None)]


def test_resume_after_connection_dropped_mid_file(server, tmp_path):
    data = make_archive(MONTHS)
    server.files["/archive/2024-03.zip"] = data
    server.drop_once.add("/archive/2024-03.zip")
    paths = _fetch(server, tmp_path)
    assert len(paths) == 3 and paths[1].read_bytes() == _street_csv("2024-02", "metropolitan")
    assert server.log[0] == ("/archive/2024-03.zip", None)
    assert server.log[1] == ("/archive/2024-03.zip", f"bytes={len(data) // 2}-")
    assert len(server.log) == 2


def test_resume_from_a_partial_file_left_by_an_earlier_run(server, tmp_path):
    data = make_archive(MONTHS)
    server.files["/archive/2024-03.zip"] = data
    part = tmp_path / ".archives" / "2024-03.zip.part"
    part.parent.mkdir()
    part.write_bytes(data[:1000])
    paths = _fetch(server, tmp_path)
    assert len(paths) == 3
    assert server.log == [("/archive/2024-03.zip", "bytes=1000-")]
    assert not part.exists()


def test_complete_partial_file_is_reused_via_416(server, tmp_path):
    data = make_archive(MONTHS)
    server.files["/archive/2024-03.zip"] = data
    part = tmp_path / ".archives" / "2024-03.zip.part"
    part.parent.mkdir()
    part.write_bytes(data)
    assert len(_fetch(server, tmp_path)) == 3
    assert server.log == [("/archive/2024-03.zip", f"bytes={len(data)}-")]


def test_server_ignoring_range_restarts_cleanly(server, tmp_path):
    data = make_archive(MONTHS)
    server.files["/archive/2024-03.zip"] = data
    server.ignore_range = True
    part = tmp_path / ".archives" / "2024-03.zip.part"
    part.parent.mkdir()
    part.write_bytes(b"garbage that must not be kept")
    paths = _fetch(server, tmp_path)
    assert paths[0].read_bytes() == _street_csv("2024-01", "metropolitan")


def test_months_already_complete_are_not_downloaded_again(server, tmp_path):
    server.files["/archive/2024-03.zip"] = make_archive(MONTHS)
    first = _fetch(server, tmp_path)
    assert len(server.log) == 1
    assert _fetch(server, tmp_path) == first
    assert len(server.log) == 1  # nothing fetched the second time
    first[1].unlink()
    assert _fetch(server, tmp_path) == first
    assert len(server.log) == 2  # one archive again, for the missing month


def test_missing_archive_404_is_a_clear_error(server, tmp_path):
    with pytest.raises(FetchError) as ei:
        _fetch(server, tmp_path, start="2030-01", end="2030-03")
    msg = str(ei.value)
    assert "HTTP 404" in msg and f"{server.base_url}2030-03.zip" in msg
    assert "earlier" in msg and "end month" in msg


def test_month_absent_from_archive_warns_and_is_not_retried(server, tmp_path):
    server.files["/archive/2024-03.zip"] = make_archive(MONTHS, skip={("2024-02", "metropolitan")})
    with pytest.warns(UserWarning, match=r"2024-02.*missing data, not months without crime"):
        paths = _fetch(server, tmp_path)
    assert [p.parent.name for p in paths] == ["2024-01", "2024-03"]
    assert (tmp_path / "2024-02" / ".metropolitan-street.missing").exists()
    _fetch(server, tmp_path)
    assert len(server.log) == 1


def test_long_range_downloads_one_archive_per_window(server, tmp_path):
    server.files["/archive/2024-03.zip"] = make_archive(MONTHS)
    server.files["/archive/2023-12.zip"] = make_archive(["2023-10", "2023-11", "2023-12"])
    paths = _fetch(server, tmp_path, start="2023-11")
    assert [p.parent.name for p in paths] == ["2023-11", "2023-12", *MONTHS]
    assert not (tmp_path / "2023-10").exists()  # outside the range: not extracted
    assert [p for p, _ in server.log] == ["/archive/2024-03.zip", "/archive/2023-12.zip"]


def test_unknown_force_lists_the_forces_in_the_archive(server, tmp_path):
    server.files["/archive/2024-03.zip"] = make_archive(MONTHS)
    with pytest.raises(FetchError, match=r"no street-level files for force 'met'.*city-of-london"):
        _fetch(server, tmp_path, force="met")


def test_corrupt_download_is_reported_and_deleted(server, tmp_path):
    server.files["/archive/2024-03.zip"] = b"<html>maintenance</html>" * 10
    with pytest.raises(FetchError, match="not a valid zip"):
        _fetch(server, tmp_path)
    assert not list((tmp_path / ".archives").glob("*.part"))


def test_retries_then_clear_error_on_server_errors(server, tmp_path):
    server.files["/archive/2024-03.zip"] = make_archive(MONTHS)
    server.status_always = 503
    with pytest.raises(FetchError) as ei:
        _fetch(server, tmp_path, retries=2)
    assert "HTTP 503" in str(ei.value) and "3 attempt(s)" in str(ei.value)
    assert len(server.log) == 3


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"force": "Metropolitan Police"}, "force id"),
        ({"start": "2024-13"}, "YYYY-MM"),
        ({"start": "2024-03", "end": "2024-01"}, "after end"),
    ],
)
def test_bad_arguments(server, tmp_path, kw, match):
    with pytest.raises(FetchError, match=match):
        _fetch(server, tmp_path, **kw)
    assert server.log == []


def test_progress_bar_runs(server, tmp_path, capsys):
    server.files["/archive/2024-03.zip"] = make_archive(MONTHS)
    assert len(_fetch(server, tmp_path, progress=True)) == 3
    assert "2024-03.zip" in capsys.readouterr().err
