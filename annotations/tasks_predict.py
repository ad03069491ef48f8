"""django-q2 entry points for predictions on video files: take an id, call the service."""

from __future__ import annotations

from django_q.tasks import async_task


def enqueue_prediction(job_id: int) -> None:
    async_task(
        "annotations.tasks_predict.run_prediction",
        job_id,
        group="predict",
        task_name=f"prediction job {job_id}",
    )


def run_prediction(job_id: int) -> str:
    from annotations.services.prediction_jobs import prediction_job_run

    job = prediction_job_run(job_id=job_id)
    return f"{job}: {job.error or job.stage}"
