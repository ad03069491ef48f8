"""``make demo`` and ``make serve`` run a web process and a worker: Ctrl-C stops both."""

from __future__ import annotations

import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.workers.conftest import ROOT, Worker, needs_postgresql

pytestmark = needs_postgresql


@pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")
def test_ctrl_c_stops_the_web_process_and_the_worker_of_make_with_worker(
    worker_env: dict[str, str], tmp_path: Path
) -> None:
    # The recipe demo and serve use, with a web process that only waits.
    web = f"{sys.executable} -c 'import time; time.sleep(600)'"
    make = Worker(
        worker_env,
        tmp_path / "make.log",
        ["make", "--no-print-directory", "with-worker", f"PY={sys.executable}", f"WEB={web}"],
    )
    make.start().wait_running()
    assert (ROOT / "Makefile").exists()
    # Ctrl-C: the terminal sends SIGINT to its foreground process group, make's.
    sent = make.signal_group(signal.SIGINT)
    make.wait_gone(30)
    assert time.monotonic() - sent < 30
    assert "stopped in" in make.output()
