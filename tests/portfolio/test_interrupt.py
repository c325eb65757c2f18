"""Ctrl-C stops a batch cleanly: exit 130, the index lists the stopped pilots, no worker left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def _default_sigint() -> None:  # the test runner may ignore SIGINT; a terminal does not
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_the_batch_and_writes_the_index(batch_pilots, tmp_path):
    exe = Path(sys.executable).with_name("pilot-eval")
    configs = [str(batch_pilots / n) for n in ("demo-belvedere.yml", "demo-area07.yml")]
    root = tmp_path / "reports"
    proc = subprocess.Popen(
        [str(exe), "run-all", *configs, "--workers", "2", "--output-root", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_default_sigint,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(root.glob("*/.kernel.log")):
        time.sleep(0.2)  # both pilots are running once a kernel log exists
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 130, (out, err)
    assert "stopped (Ctrl-C)" in err and "Traceback" not in err
    rows = json.loads((root / "index.json").read_text())["pilots"]
    assert len(rows) == 2
    for r in rows:
        assert r["status"] == "done" or "stopped" in r["error"]
    gone = time.monotonic() + 15  # workers, kernels and the resource tracker exit too
    while time.monotonic() < gone:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        raise AssertionError("processes of the batch were still running 15 s after it stopped")
