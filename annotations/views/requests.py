"""The requests pages receive, typed, and the few rules for reading them.

``AuthenticatedHttpRequest`` is what a ``@login_required`` view gets: django-htmx's
``htmx`` details and a signed-in ``User``, so neither needs a cast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django_htmx.middleware import HtmxDetails

from annotations.models import Project
from annotations.selectors.access import get_project_for_user, require_project_perm

# Past 2**63 a database cannot even compare a number with a column; 18 digits stay below.
MAX_INT_DIGITS = 18


class HtmxHttpRequest(HttpRequest):
    """A request as django-htmx leaves it, so views can type ``request.htmx``."""

    htmx: HtmxDetails


class AuthenticatedHttpRequest(HtmxHttpRequest):
    """A request to a ``@login_required`` view: its user is signed in, never anonymous."""

    user: User


def require_perm(request: AuthenticatedHttpRequest, permission: str, refusal: str) -> User:
    """The signed-in user, if their role grants ``permission``; 403 saying ``refusal`` if not."""
    if not request.user.has_perm(permission):
        raise PermissionDenied(refusal)
    return request.user


def project_for_perm(
    request: AuthenticatedHttpRequest, project_id: int, permission: str, refusal: str
) -> Project:
    """The project, when the user's account and their role in it both grant ``permission``:
    403 saying ``refusal`` if either does not, 404 for a project they cannot see."""
    require_perm(request, permission, refusal)
    project = get_project_for_user(request.user, project_id)
    require_project_perm(request.user, project, permission, refusal)
    return project


class _InProject(Protocol):
    @property
    def project(self) -> Project: ...


InProject = TypeVar("InProject", bound=_InProject)


def in_project_for_perm(
    request: AuthenticatedHttpRequest,
    get_for_user: Callable[[User, int], InProject],
    object_id: int,
    permission: str,
    refusal: str,
) -> InProject:
    """What ``get_for_user`` fetches (a video, a model version…; 404 for what the user cannot
    see), when the user's account and their role in its project both grant ``permission``:
    403 saying ``refusal`` if either does not."""
    require_perm(request, permission, refusal)
    found = get_for_user(request.user, object_id)
    require_project_perm(request.user, found.project, permission, refusal)
    return found


def wants_partial(request: HtmxHttpRequest) -> bool:
    """Whether to answer with the piece of the page htmx swaps in, not the whole page.

    Boosted links and history restores (Back, when htmx's cache misses) are htmx
    requests too, but they replace the whole body: they get the full page.
    """
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def reload_when_finished(
    request: HtmxHttpRequest, response: HttpResponse, *, busy: bool
) -> HttpResponse:
    """A polling panel's answer; the whole page reloads once the work it watched is over.

    The panel polls with ``?was=busy`` while the work runs. The first answer after
    it ended reloads the page, so that what the work produced (a transcript, a new
    model's figures) shows up everywhere, not only in the panel.
    """
    if not busy and wants_partial(request) and request.GET.get("was") == "busy":
        response["HX-Refresh"] = "true"
    return response


def parse_int(value: str | None) -> int | None:
    """A whole number a page sent (an id, a revision), or None for anything else.

    Text, signs, spaces, digits of other scripts and numbers past what a column
    holds all read as None, so junk in a parameter never reaches the database.
    """
    if value and value.isascii() and value.isdigit() and len(value) <= MAX_INT_DIGITS:
        return int(value)
    return None


def clean_text(value: str | None, *, max_length: int | None = None) -> str:
    """Text a page sent, without NUL characters (PostgreSQL refuses them in text)."""
    text = (value or "").replace("\x00", "")
    return text[:max_length] if max_length is not None else text
