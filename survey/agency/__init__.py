"""Agency pages: invitations and QR sheets, fieldwork dashboard, interviews, imports."""

from flask import Blueprint

bp = Blueprint("agency", __name__, url_prefix="/agency")

from . import interviews, routes  # noqa: E402,F401
