"""Reads of the model registry: which versions were promoted in turn.

Replayed in order, a project's ModelEvents form a stack: a promotion puts a version on
top, a rollback takes the top one off (see annotations.services.learning.registry).
"""

from __future__ import annotations

from annotations.models import ModelEvent, Project


def promotion_stack(project: Project) -> list[int]:
    """Ids of the versions promoted in turn, the current one last."""
    stack: list[int] = []
    events = project.model_events.order_by("at", "id").values_list("action", "version_id")
    for action, version_id in events:
        if action == ModelEvent.Action.PROMOTED:
            stack.append(version_id)
        elif stack:
            stack.pop()
    return stack


def can_roll_back(project: Project) -> bool:
    """Whether an earlier promoted version exists to go back to."""
    return len(promotion_stack(project)) >= 2
