"""The one error the scoring engine raises for input it cannot learn from or score."""

from __future__ import annotations


class ScoringInputError(ValueError):
    """Bad history or bad arguments, with a message meant for the person who gave them.

    The engine stays free of Django; the CLI and services turn this into their own error
    (``CommandError``, ``ApplicationError``) without losing the message.
    """
