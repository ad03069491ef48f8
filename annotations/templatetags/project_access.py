"""``{% project_perms project as can %}``: what the signed-in user may do in one project.

``can.review_annotations`` reads like Django's ``perms.annotations.review_annotations``,
but asks the project (``selectors.access.may``): a person's role differs per project.
"""

from __future__ import annotations

from typing import Any

from django import template

from annotations.models import Project
from annotations.selectors.access import AnyUser, may

register = template.Library()


class ProjectPerms:
    def __init__(self, user: AnyUser, project: Project) -> None:
        self._user = user
        self._project = project
        self._known: dict[str, bool] = {}

    def __getitem__(self, codename: str) -> bool:
        if codename not in self._known:
            self._known[codename] = may(self._user, self._project, f"annotations.{codename}")
        return self._known[codename]

    def __getattr__(self, codename: str) -> bool:
        if codename.startswith("_"):
            raise AttributeError(codename)
        return self[codename]


@register.simple_tag(takes_context=True)
def project_perms(context: dict[str, Any], project: Project) -> ProjectPerms:
    return ProjectPerms(context["request"].user, project)
