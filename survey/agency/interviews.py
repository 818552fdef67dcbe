"""Interviewer mode: phone and face-to-face interviews through the resident questionnaire."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice as C

from ..auth.decorators import FIELDWORK, roles_required
from ..auth.scope import in_current
from ..extensions import db
from ..models import Community, Street, Wave
from ..respond import flow
from ..services import questionnaire
from ..services.frameworks import spec_of
from . import bp
from .forms import InterviewForm


def _interview_form() -> InterviewForm:
    form = InterviewForm()
    waves = db.session.scalars(
        in_current(select(Wave), Wave.district_id)
        .where(Wave.state == "fieldwork")
        .order_by(Wave.created_at.desc())
    ).all()
    form.wave.choices = [C(w.id, w.name) for w in waves]
    streets = [s for w in waves[:1] for s in w.district.streets]
    form.street.choices = [C(s.id, s.full_name) for s in streets]
    form.community.choices = [C(0, _("不指定社区"))] + [
        C(c.id, c.name, optgroup=s.full_name) for s in streets for c in s.communities
    ]
    groups = {g.code: g.name for w in waves for g in spec_of(w.framework).groups}
    form.group.choices = [C(code, name) for code, name in groups.items()]
    return form


@bp.route("/interview", methods=["GET", "POST"])
@roles_required(*FIELDWORK)
def interview_new() -> ResponseReturnValue:
    """Choose street, group and channel, then start a questionnaire for a respondent."""
    form = _interview_form()
    if form.validate_on_submit():
        wave = db.session.get(Wave, form.wave.data)
        street = db.session.get(Street, form.street.data)
        community = db.session.get(Community, form.community.data) if form.community.data else None
        problem = None
        if wave is None or street is None or street.district_id != wave.district_id:
            problem = _("该街道不属于本测评批次的区县。")
        elif community is not None and community.street_id != street.id:
            problem = _("该社区不属于所选街道。")
        elif form.group.data not in spec_of(wave.framework).group_codes:
            problem = _("本测评批次没有这个受访群体。")
        if problem:
            form.community.errors.append(problem)
        else:
            assert wave is not None and street is not None  # checked above
            token, _draft = questionnaire.start_interview(
                wave.id,
                street.id,
                form.group.data,
                community.id if community else None,
                form.channel.data,
                current_user.id,
            )
            db.session.commit()
            return redirect(url_for("agency.interview_start", token=token))
    status = 400 if form.errors else 200
    return render_template("agency/interview_new.html", form=form), status


@bp.get("/interview/<token>")
@roles_required(*FIELDWORK)
def interview_start(token: str) -> ResponseReturnValue:
    """Show the privacy notice to read out."""
    return flow.show_start(flow.INTERVIEW, token)


@bp.post("/interview/<token>")
@roles_required(*FIELDWORK)
def interview_begin(token: str) -> ResponseReturnValue:
    """Start the interview's questions."""
    return flow.begin(flow.INTERVIEW, token)


@bp.route("/interview/<token>/p/<int:n>", methods=["GET", "POST"])
@roles_required(*FIELDWORK)
def interview_page(token: str, n: int) -> ResponseReturnValue:
    """One page of the interview."""
    return flow.page(flow.INTERVIEW, token, n)


@bp.route("/interview/<token>/review", methods=["GET", "POST"])
@roles_required(*FIELDWORK)
def interview_review(token: str) -> ResponseReturnValue:
    """Check and submit the interview."""
    return flow.review(flow.INTERVIEW, token)


@bp.get("/interview/<token>/saved")
@roles_required(*FIELDWORK)
def interview_saved(token: str) -> ResponseReturnValue:
    """Confirm the interview is saved."""
    return flow.saved(flow.INTERVIEW, token)


@bp.get("/interview/<token>/thanks")
@roles_required(*FIELDWORK)
def interview_thanks(token: str) -> ResponseReturnValue:
    """Confirm the interview is submitted."""
    return flow.thanks(flow.INTERVIEW, token)
