"""The token-guessing limit: unknown invitation tokens per client address.

Only requests that end in "not found" use up the allowance, so residents paging
through a real questionnaire are never slowed down.  Each such request is
counted by one atomic increment in the rate-limit storage (Redis at
``REDIS_URL`` with several workers), and the request that goes over the limit
is itself answered 429: concurrent guesses sent to several workers cannot slip
past the limit between checking and counting, as they could with a check before
the request and a deduction after it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, make_response, render_template
from flask_limiter.util import get_remote_address
from limits import parse_many
from werkzeug.exceptions import TooManyRequests

from ..extensions import limiter

GUESS_LIMITS = parse_many("20 per minute;200 per day")
SCOPE = ("minping", "invitation-token")

log = logging.getLogger(__name__)


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True)) and limiter.enabled


def _too_many() -> Response:
    error = TooManyRequests()
    return make_response(render_template("errors/error.html", error=error), 429)


def token_limit(view: Callable[..., Any]) -> Callable[..., Any]:
    """Limit how many unknown tokens one address may try (decorates token views)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not _enabled():
            return view(*args, **kwargs)
        address = get_remote_address()
        try:
            strategy = limiter.limiter
            if not all(strategy.test(item, *SCOPE, address) for item in GUESS_LIMITS):
                return _too_many()
        except Exception:  # noqa: BLE001 - storage down: tokens are long, keep serving
            log.warning("token-guessing limit unavailable (rate-limit storage)", exc_info=True)
            return view(*args, **kwargs)
        response = make_response(view(*args, **kwargs))
        if response.status_code == 404:
            try:
                # hit() increments and compares in one storage operation
                within = [strategy.hit(item, *SCOPE, address) for item in GUESS_LIMITS]
            except Exception:  # noqa: BLE001
                log.warning("token-guessing limit unavailable (rate-limit storage)", exc_info=True)
                return response
            if not all(within):
                return _too_many()
        return response

    return wrapped
