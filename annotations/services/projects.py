"""Creating and changing projects (their taxonomy has its own service)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from annotations.models import Project

EDITABLE_FIELDS = (
    "name",
    "taxonomy_name",
    "labeling_mode",
    "annotators_per_video",
    "queue_order",
    "auto_confirm_agreement",
    "guidelines",
)


@transaction.atomic
def project_create(*, name: str, **fields: Any) -> Project:
    """A new project; raises ValidationError (a taken name, a bad value) before saving."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not project fields: {', '.join(sorted(unknown))}")
    project = Project(name=name, **fields)
    project.full_clean()
    project.save()
    return project


@transaction.atomic
def project_update(*, project: Project, **fields: Any) -> Project:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not project fields: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(project, name, value)
    project.full_clean()
    project.save(update_fields=[*fields] or None)
    return project
