"""One translation, for every page, of the errors services raise about a request.

Invalid input (Django's ``ValidationError``) answers 422; a conflict with the
current state (an edit made on a stale page, a model that cannot be promoted)
answers 409. How the reason is shown is the page's own: its refusal renders it.
Anything else is a bug and is left to Django's 500 handling.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec

from django.core.exceptions import ValidationError
from django.http import HttpResponse

from annotations.services.errors import StateConflict
from annotations.services.labeling.annotation import AnnotationConflict
from annotations.views.requests import AuthenticatedHttpRequest

P = ParamSpec("P")

CONFLICT = 409
INVALID = 422
CONFLICTS: tuple[type[Exception], ...] = (AnnotationConflict,)

View = Callable[Concatenate[AuthenticatedHttpRequest, P], HttpResponse]
# A refusal takes the request, the reason, the status and the view's own arguments.
Refusal = Callable[Concatenate[AuthenticatedHttpRequest, str, int, P], HttpResponse]


def refused_with(
    refusal: Refusal[P], *, conflicts: tuple[type[Exception], ...] = CONFLICTS
) -> Callable[[View[P]], View[P]]:
    """Answer what the view raises about the request with ``refusal`` (422 or 409).

    ``conflicts`` names the exceptions by which the services the view calls say
    that the current state does not allow the change.
    """

    def decorate(view: View[P]) -> View[P]:
        @wraps(view)
        def wrapper(
            request: AuthenticatedHttpRequest, *args: P.args, **kwargs: P.kwargs
        ) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except ValidationError as invalid:
                return refusal(request, " ".join(invalid.messages), INVALID, *args, **kwargs)
            except conflicts as conflict:
                shown = conflict.shown() if isinstance(conflict, StateConflict) else str(conflict)
                return refusal(request, shown, CONFLICT, *args, **kwargs)

        return wrapper

    return decorate
