"""The resident questionnaire: invitation links, open (poster) links, code entry."""

from flask import Blueprint

bp = Blueprint("respond", __name__, url_prefix="/s")

from . import routes  # noqa: E402,F401
