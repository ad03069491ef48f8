"""django-q2 entry points: each takes ids and calls a service.

Every job runs through ``run_job`` (``annotations.enqueue`` names it by dotted path); a
service never imports this module.
"""

from __future__ import annotations

from annotations.services.jobs.control import job_run, jobs_sweep
from annotations.services.learning.training import scheduled_retraining


def run_job(job_id: int) -> str:
    return job_run(job_id)


def sweep_jobs() -> str:
    """The schedule every minute: jobs of dead workers queued again or failed."""
    return jobs_sweep().describe()


def retrain_if_needed() -> str:
    """The scheduled job: retrain each project that has enough new confirmed labels."""
    return scheduled_retraining()
