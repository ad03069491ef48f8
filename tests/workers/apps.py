"""A test-only app for the worker processes: jobs held at their first checkpoint.

With SLOW_JOB_SECONDS set, the first run of each job of the kinds in SLOW_JOB_KINDS
(all kinds by default) stops at its first progress report, says so in its stage
(``HELD_STAGE``), and stays there that long, still beating its heartbeat and still
stopping when asked: the moment for a test to kill or stop its worker. A job is held
once across all processes (a marker file per job in SLOW_JOB_MARKS), so that its
retried run goes through. With SLOW_JOB_DEAF=1 it does not stop when asked either: like
a long call into a library that never reports.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.apps import AppConfig

HELD_STAGE = "held by the worker test"


class SlowJobsConfig(AppConfig):
    name = "tests.workers"
    label = "worker_tests"

    def ready(self) -> None:
        seconds = float(os.environ.get("SLOW_JOB_SECONDS") or 0)
        if not seconds:
            return
        from annotations.services.jobs.lifecycle import JobRun

        kinds = set(filter(None, os.environ.get("SLOW_JOB_KINDS", "").split(",")))
        deaf = os.environ.get("SLOW_JOB_DEAF") == "1"
        marks = Path(os.environ["SLOW_JOB_MARKS"])
        marks.mkdir(parents=True, exist_ok=True)
        report = JobRun.progress

        def held_progress(
            run: JobRun, fraction: float | None = None, stage: str | None = None
        ) -> None:
            mark = marks / str(run.job.pk)
            if (not kinds or run.job.kind in kinds) and not mark.exists():
                mark.touch()
                report(run, fraction, stage=HELD_STAGE)
                until = time.monotonic() + seconds
                while time.monotonic() < until:
                    time.sleep(0.1)
                    if not deaf:
                        run.checkpoint()
            report(run, fraction, stage)

        JobRun.progress = held_progress  # type: ignore[method-assign,assignment]
