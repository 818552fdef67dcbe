"""The city view for city-level accounts: streets of every district side by side."""

from __future__ import annotations

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..auth.decorators import BUREAU, roles_required
from ..auth.scope import home_district_id, visible_district_ids
from ..services.city import city_view
from . import bp


@bp.get("/city")
@roles_required(*BUREAU)
def city() -> ResponseReturnValue:
    """Compare the streets of all districts: scores with intervals, bands, rank intervals."""
    if home_district_id(current_user) is not None:
        abort(403)  # a district's account sees its own district's results only
    sort = "score" if request.args.get("sort") == "score" else "district"
    view = city_view(visible_district_ids(), request.args.get("year", type=int), sort)
    return render_template("admin/city.html", view=view, sort=sort)
