"""Resident routes: ``/s/`` (type a code) and ``/s/<token>/...`` (the questionnaire)."""

from __future__ import annotations

from flask import Response, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from ..extensions import limiter
from ..services.invitations import normalise_code
from ..services.open_links import network_of
from ..services.questionnaire import TOKEN_RE, device_hash
from . import bp, flow, guessing
from .forms import CodeForm

# Token guessing: only requests that end in "not found" use up the allowance
# (counted atomically, shared by every worker: see guessing.py).
token_limit = guessing.token_limit


def _device_key() -> str:
    return device_hash(request.user_agent.string, request.remote_addr or "")


def _address_key() -> str:
    """The network address alone (no User-Agent): rotating browsers does not help."""
    return "open-addr:" + network_of(request.remote_addr or "")


@bp.errorhandler(CSRFError)
def _csrf_error(exc: CSRFError) -> ResponseReturnValue:
    """Explain an expired or missing form token in plain words; nothing was saved."""
    message = _("页面停留太久或来源无效，这次提交没有保存。请返回上一页，刷新后再提交。")
    return render_template("errors/error.html", error=exc, message=message), 400


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def enter() -> ResponseReturnValue:
    """Let a resident type the code printed on a paper invitation."""
    form = CodeForm()
    if form.validate_on_submit():
        text = form.code.data.strip().rstrip("/")
        typed = normalise_code(text)
        if typed is not None:
            return redirect(url_for("respond.start", token=typed))
        token = text.rsplit("/", 1)[-1].replace(" ", "")
        if "/" in text or (TOKEN_RE.fullmatch(token) and len(token) > 12):
            return redirect(url_for("respond.start", token=token))
        form.code.errors.append(
            _(
                "邀请码是10位字母和数字，例如 7KQ2M-XH4TB（不分大小写，空格和横线可不输）。"
                "请核对后重新输入。"
            )
        )
    return render_template("respond/enter.html", form=form), 400 if form.errors else 200


@bp.get("/<token>")
@token_limit
def start(token: str) -> ResponseReturnValue:
    """Show the privacy notice and the start button."""
    return flow.show_start(flow.RESPOND, token)


@bp.post("/<token>")
@token_limit
def begin(token: str) -> ResponseReturnValue:
    """Start or resume the questionnaire."""
    return flow.begin(flow.RESPOND, token)


@bp.post("/<token>/open")
@token_limit
@limiter.limit("10 per hour", key_func=_device_key)
@limiter.limit(lambda: current_app.config["OPEN_LINK_ADDRESS_RATE"], key_func=_address_key)
def begin_open(token: str) -> ResponseReturnValue:
    """Start a new questionnaire from an open (poster) link on this device."""
    return flow.begin_open(token)


@bp.route("/<token>/p/<int:n>", methods=["GET", "POST"])
@token_limit
def page(token: str, n: int) -> ResponseReturnValue:
    """Show or save one page of questions."""
    return flow.page(flow.RESPOND, token, n)


@bp.route("/<token>/review", methods=["GET", "POST"])
@token_limit
def review(token: str) -> ResponseReturnValue:
    """Check the answers and submit."""
    return flow.review(flow.RESPOND, token)


@bp.get("/<token>/saved")
@token_limit
def saved(token: str) -> ResponseReturnValue:
    """Confirm the answers are saved for later."""
    return flow.saved(flow.RESPOND, token)


@bp.get("/<token>/thanks")
@token_limit
def thanks(token: str) -> ResponseReturnValue:
    """Thank the resident."""
    return flow.thanks(flow.RESPOND, token)
