"""Bureau console (区民政局): accounts, frameworks, waves, scoring, results, audit log.

Every view declares who may use it with ``roles_required``: the bureau admin
may change things; the viewer role reads the same pages; ``/admin/account``
(API token) is open to every signed-in staff member.
"""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import accounts, audit, frameworks, quality, results, waves  # noqa: E402,F401
from . import rectification  # noqa: E402,F401
from . import calendar, notices  # noqa: E402,F401  (documents: notices, official calendar)
