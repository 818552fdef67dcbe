"""Bureau console (区民政局): accounts, frameworks, waves, scoring, results, audit log.

Every view declares who may use it with ``roles_required``: the bureau admin
may change things; the viewer role reads the same pages; ``/admin/account``
(API token) is open to every signed-in staff member.
"""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import (  # noqa: E402,F401  (each module adds its routes to bp)
    accounts,
    audit,
    calendar,
    city,
    frameworks,
    jobs,
    notices,
    quality,
    rectification,
    results,
    settings,
    waves,
)
