"""Errors that carry one plain sentence for the user."""

from __future__ import annotations


class PostureError(Exception):
    """Base class: ``str(err)`` is one sentence saying what is wrong and what to do."""


class InputError(PostureError):
    """The input cannot be used (missing, unreadable, wrong type, no person)."""


class OutputError(PostureError):
    """An output file cannot be written."""
