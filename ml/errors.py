"""Errors that the pipeline's steps share; bad media is `ml.media.MediaError`."""

from __future__ import annotations

__all__ = ["ModelUnavailable"]


class ModelUnavailable(RuntimeError):
    """A model that cannot be loaded; the message says in plain words what to configure."""
