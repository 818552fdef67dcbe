"""Public site (公众): published results and each street's rectification, no login.

Aggregates only; figures from fewer than ``MIN_PUBLIC_N`` respondents are
suppressed; evidence thumbnails only of accepted items of published waves.
"""

from flask import Blueprint

bp = Blueprint("public", __name__, url_prefix="/public")

from . import routes  # noqa: E402,F401
