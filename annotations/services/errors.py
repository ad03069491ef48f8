"""Errors that services raise about the state of things, whoever called them."""

from __future__ import annotations

from collections.abc import Callable


class StateConflict(Exception):
    """The request conflicts with the current state: a newer revision, a job already
    running, nothing to roll back to. The API answers 409 with the message and ``state``.

    The message is English (logs, the API); ``shown``, when given, says it in the reader's
    language for a page, at the time it is shown.
    """

    # What the state is now, in one sentence, for callers that do not see a page.
    state: str = ""

    def __init__(self, message: str, *, shown: Callable[[], str] | None = None) -> None:
        super().__init__(message)
        self._shown = shown

    def shown(self) -> str:
        """The message as a page says it: in the active language where it can be."""
        return str(self) if self._shown is None else self._shown()
