"""Bounded inputs at the edges: integers in URLs and query strings, JSON bodies.

Every ``<int:...>`` URL converter accepts at most :data:`DB_INT_MAX` (the
largest id an INTEGER column holds on PostgreSQL), so a 30-digit id is a 404
before it reaches the database; :func:`bounded_int` does the same for query
parameters (``request.args.get("page", 1, type=bounded_int)`` falls back to
the default).  :func:`json_body` reads a JSON request body with a size and a
nesting-depth limit (docs/security.md).
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, request
from werkzeug.routing import IntegerConverter, Map, ValidationError

DB_INT_MAX = 2**31 - 1
MAX_DIGITS = len(str(DB_INT_MAX))
JSON_MAX_BYTES = 8 * 1024 * 1024
JSON_MAX_DEPTH = 8
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_BRACKETS = re.compile(rb"[\[\]{}]")


class BoundedIntConverter(IntegerConverter):
    """``int`` URL converter whose values fit an INTEGER column (0 .. 2**31 - 1)."""

    def __init__(  # werkzeug's parameter names
        self,
        map: Map,  # noqa: A002
        fixed_digits: int = 0,
        min: int | None = None,  # noqa: A002
        max: int | None = None,  # noqa: A002
        signed: bool = False,
    ) -> None:
        if max is None or max > DB_INT_MAX:
            max = DB_INT_MAX  # noqa: A001
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str) -> Any:
        if len(value.lstrip("-")) > MAX_DIGITS:
            raise ValidationError()
        return super().to_python(value)


def init_app(app: Flask) -> None:
    """Install the bounded converter (before any blueprint adds its rules)."""
    app.url_map.converters["int"] = BoundedIntConverter


def bounded_int(value: str) -> int:
    """A query-string integer from -DB_INT_MAX to DB_INT_MAX, else ValueError."""
    text = value.strip()
    if len(text.lstrip("+-")) > MAX_DIGITS:
        raise ValueError("too many digits")
    number = int(text)
    if abs(number) > DB_INT_MAX:
        raise ValueError("out of range")
    return number


class JSONBodyError(ValueError):
    """A request body that is too big, too deep or not JSON; the message says which."""


def json_depth(raw: bytes) -> int:
    """Deepest nesting of arrays and objects in ``raw`` (strings skipped), without parsing."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(_JSON_STRING.sub(b"", raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def json_body(max_bytes: int = JSON_MAX_BYTES, max_depth: int = JSON_MAX_DEPTH) -> Any:
    """Parse the request body as JSON within limits.

    :raises JSONBodyError: larger than ``max_bytes``, nested deeper than
        ``max_depth``, or not valid JSON.
    """
    if request.content_length is not None and request.content_length > max_bytes:
        raise JSONBodyError(
            f"the body has {request.content_length} bytes; at most {max_bytes // 2**20} MiB"
        )
    raw = request.get_data(cache=True)
    if len(raw) > max_bytes:
        raise JSONBodyError(f"the body has {len(raw)} bytes; at most {max_bytes // 2**20} MiB")
    if json_depth(raw) > max_depth:
        raise JSONBodyError(f"the JSON is nested deeper than {max_depth} levels")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise JSONBodyError("the body is not valid JSON") from None
