"""Errors that services raise about the state of things, whoever called them."""

from __future__ import annotations


class StateConflict(Exception):
    """The request conflicts with the current state: a newer revision, a job already
    running, nothing to roll back to. The API answers 409 with the message and ``state``.
    """

    # What the state is now, in one sentence, for callers that do not see a page.
    state: str = ""
