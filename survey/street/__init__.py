"""Street portal (街道): own street's scores, comments, notices and rectification items.

Only the ``street`` role, and only for the officer's own street: another
street's notices, items and evidence answer 404.
"""

from flask import Blueprint

bp = Blueprint("street", __name__, url_prefix="/street")

from . import routes  # noqa: E402,F401
