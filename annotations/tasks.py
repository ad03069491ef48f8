"""django-q2 entry points: each takes ids and calls a service.

Every job runs through ``run_job`` (``annotations.enqueue`` names it by dotted path); a
service never imports this module.
"""

from __future__ import annotations

from collections import Counter

from annotations.services.jobs.control import job_run, jobs_sweep
from annotations.services.jobs.lifecycle import stop_requested
from annotations.services.learning.training import scheduled_retraining
from annotations.services.search import search_documents_write


def run_job(job_id: int) -> str:
    return job_run(job_id)


def sweep_jobs() -> str:
    """The schedule every minute: jobs of dead workers queued again or failed."""
    return jobs_sweep().describe()


def run_jobs(job_ids: list[int]) -> str:
    """Jobs handed over together (a bulk import's batch), each claimed and run alone.

    A worker that is stopping leaves the rest queued: the sweeper hands them over again.
    """
    outcomes: Counter[str] = Counter()
    for job_id in job_ids:
        if stop_requested():
            outcomes["left queued (the worker is stopping)"] += 1
            continue
        outcome = job_run(job_id)
        outcomes[outcome.split(": ", 1)[-1].split(",", 1)[0]] += 1
    return f"{len(job_ids)} jobs: " + "; ".join(
        f"{count} {outcome}" for outcome, count in sorted(outcomes.items())
    )


def write_search_documents() -> str:
    """After an import, and every minute: the video list's search documents still to write.

    A worker that is stopping leaves the rest listed for the next run.
    """
    return search_documents_write(keep_going=lambda: not stop_requested()).describe()


def retrain_if_needed() -> str:
    """The scheduled job: retrain each project that has enough new confirmed labels."""
    return scheduled_retraining()
