"""Mark UI text for translation outside views and templates.

``_`` translates into the reader's language inside a request and returns the
Chinese text unchanged elsewhere (imports, the CLI, background jobs), so
services and module-level labels can use it safely; templates translate the
labels again with ``_()`` when they show them.
"""

from __future__ import annotations

from flask import has_request_context
from flask_babel import gettext


def _(text: str, **variables: object) -> str:
    """Translate in a request (the reader's language); plain Chinese from the CLI or tests."""
    if has_request_context():
        return gettext(text, **variables)
    return text % variables if variables else text
