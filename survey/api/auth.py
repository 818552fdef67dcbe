"""Bearer-token authentication and role checks for the API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn

from flask import Response, abort, g, request

from ..models import User
from ..services.api_tokens import user_for_token


def token_user() -> User:
    """Return the user of the request's Bearer token, or abort with 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    user = user_for_token(token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        response = {"error": "Unauthorized", "message": "send Authorization: Bearer <API token>"}
        abort(json_response(401, response))
    g.api_user = user
    return user


def json_response(status: int, body: dict[str, Any]) -> Response:
    from flask import jsonify

    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="minping"'
    return response


def token_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Require a valid Bearer token whose user has one of ``roles`` (403 otherwise)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = token_user()
            if user.role not in roles:
                abort(
                    json_response(
                        403, {"error": "Forbidden", "message": f"role {user.role} may not use this"}
                    )
                )
            return view(*args, **kwargs)

        wrapped.allowed_roles = tuple(roles)  # type: ignore[attr-defined]
        return wrapped

    return decorator


def forbidden(message: str) -> NoReturn:
    abort(json_response(403, {"error": "Forbidden", "message": message}))
