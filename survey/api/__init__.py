"""JSON API v1 for the agency and the bureau: Bearer-token authentication.

Tokens are issued on ``/admin/account`` and stored only as SHA-256.  Session
cookies are not accepted here, which is why the writing routes can be exempt
from CSRF: a cross-site page cannot attach the Bearer header.
"""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import routes  # noqa: E402,F401
