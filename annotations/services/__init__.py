"""Workflows that change data. Each is a ``<noun>_<verb>`` function with keyword-only arguments."""
