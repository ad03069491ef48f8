"""Handing background jobs to django-q2.

Every job, whatever its kind, is a ``Job`` row (``annotations.services.jobs``) run
by one entry point, ``annotations.tasks.run_job``, named here by dotted path; this
module imports nothing of this project, so any service can import it at the top.
A job is handed over when the current transaction commits (at once outside one):
the worker never looks for rows that are not there yet, and a rolled-back request
queues nothing. The broker only carries the job's id: a task it loses or delivers
twice changes nothing, since the job row says what is left to do.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django_q.tasks import async_task


def job(job_id: int, kind: str) -> None:
    """Have a worker run the job ``job_id`` (of ``kind``, which names its task group)."""
    transaction.on_commit(
        lambda: async_task(
            "annotations.tasks.run_job", job_id, group=kind, task_name=f"{kind} job {job_id}"
        )
    )


def jobs(job_ids: Sequence[int], kind: str) -> None:
    """Have one worker run many jobs of ``kind`` in turn (a bulk import's new videos).

    One task for a few hundred jobs instead of one each: handing a million tasks to the
    broker would cost more than the import. Each job is still claimed on its own.
    """
    if not job_ids:
        return
    ids = list(job_ids)
    transaction.on_commit(
        lambda: async_task(
            "annotations.tasks.run_jobs",
            ids,
            group=kind,
            task_name=f"{len(ids)} {kind} jobs from {min(ids)}",
        )
    )


def search_documents() -> None:
    """Have a worker write the search documents of the videos listed for it.

    Not a job: the listed videos are the work, so a lost or repeated task changes
    nothing, and the schedule every minute writes whatever a lost one left.
    """
    transaction.on_commit(
        lambda: async_task(
            "annotations.tasks.write_search_documents",
            group="search",
            task_name="write search documents",
        )
    )
