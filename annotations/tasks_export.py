"""django-q2 entry points for dataset exports: take an id, call the service."""

from __future__ import annotations

from django_q.tasks import async_task


def enqueue_export(snapshot_id: int) -> None:
    async_task(
        "annotations.tasks_export.build_export",
        snapshot_id,
        group="exports",
        task_name=f"export snapshot {snapshot_id}",
    )


def build_export(snapshot_id: int) -> str:
    from annotations.services.export import export_build

    snapshot = export_build(snapshot_id=snapshot_id)
    return f"{snapshot}: {snapshot.state}, {snapshot.row_count} rows"
