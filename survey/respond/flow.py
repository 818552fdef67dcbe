"""Questionnaire views shared by residents (``/s/...``) and interviewers.

Interviewers use the same pages under ``/agency/interview/...``.

A :class:`Flow` says which endpoints to link to and whether the signed-in
interviewer owns the draft; the pages, validation and templates are the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import abort, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from .. import questions
from ..extensions import db
from ..models._base import utcnow
from ..services import questionnaire as q
from ..services.open_links import address_hash
from .forms import PageForm

NAV = ("next", "back", "save")


@dataclass(frozen=True, slots=True)
class Flow:
    prefix: str  # endpoint prefix, e.g. "respond."
    interview: bool = False

    def url(self, name: str, **values: Any) -> str:
        return url_for(self.prefix + name, **values)


RESPOND = Flow("respond.")
INTERVIEW = Flow("agency.interview_", interview=True)


def problem_page(problem: q.InvitationProblem) -> tuple[str, int]:
    """Render a clear page for a token that cannot be used."""
    return (
        render_template("respond/problem.html", title=problem.title, message=problem.message),
        problem.status,
    )


def bad_answers_page(exc: q.BadAnswers) -> tuple[str, int]:
    """Render the 400 page for a tampered form; nothing was stored."""
    db.session.rollback()
    return render_template("respond/bad_request.html", problems=exc.problems), 400


def _csrf_or_400() -> None:
    form = PageForm()
    if not form.validate_on_submit():
        abort(400, description=_("表单已过期或来源无效，请返回上一页刷新后重试。"))


def load(flow: Flow, token: str, *, allow_used: bool = False) -> q.Visit:
    """Find the invitation and its draft (one query), checking who may use it.

    :raises InvitationProblem: unknown, revoked, used, or outside fieldwork.
    """
    seen = q.visit(token)
    draft = seen.draft
    owner = draft.data.get("interviewer_id") if draft is not None else None
    if flow.interview:
        done = draft is None and allow_used and seen.used
        if seen.inv.is_open or not (done or (draft is not None and owner == current_user.id)):
            raise q.InvitationProblem(403, _("不能继续这份访问"), _("这份问卷不是由您开始的访问。"))
    elif owner is not None:
        raise q.unknown_token()  # interview tokens are not resident links
    if not allow_used:
        q.check_usable(seen.inv, seen.used)
    return seen


SHOWN_KEY = "q_shown"


def remember_shown(invitation_id: int, n: int) -> None:
    """Keep when page ``n`` was served in the signed session cookie (no database write)."""
    held = session.get(SHOWN_KEY)
    pages = dict(held["p"]) if isinstance(held, dict) and held.get("i") == invitation_id else {}
    pages[str(n)] = utcnow().isoformat()
    session[SHOWN_KEY] = {"i": invitation_id, "p": pages}


def pop_shown(invitation_id: int, n: int) -> datetime | None:
    """When page ``n`` was served to this browser, if known; forget it."""
    held = session.get(SHOWN_KEY)
    if not isinstance(held, dict) or held.get("i") != invitation_id:
        return None
    pages = dict(held.get("p") or {})
    stamp = pages.pop(str(n), None)
    session[SHOWN_KEY] = {"i": invitation_id, "p": pages}
    try:
        return datetime.fromisoformat(stamp) if stamp else None
    except (TypeError, ValueError):
        return None


def _context(flow: Flow, token: str, seen: q.Visit) -> dict[str, Any]:
    pages = q.pages_for(seen.spec, seen.inv.group_code)
    return {
        "flow": flow,
        "token": token,
        "inv": seen.inv,
        "place": q.place_label(seen.inv),
        "spec": seen.spec,
        "pages": pages,
        "last_page": len(pages) - 1,
        "data": seen.draft.data if seen.draft is not None else {},
        "draft": seen.draft,
        "q": q,
        "questions": questions,
        "form": PageForm(),
    }


def show_start(flow: Flow, token: str) -> ResponseReturnValue:
    """Show the privacy notice and the start (or continue) button."""
    try:
        seen = load(flow, token)
    except q.InvitationProblem as problem:
        return problem_page(problem)
    inv = seen.inv
    ctx = _context(flow, token, seen)
    if inv.is_open:
        child = request.cookies.get(f"mp_open_{inv.id}")
        if child:
            try:
                ctx["draft"] = load(flow, child).draft
                ctx["resume_token"] = child
            except q.InvitationProblem as problem:
                if problem.status == 409:
                    return problem_page(problem)
    page = render_template("respond/start.html", **ctx)  # before a commit expires ``inv``
    if inv.opened_at is None:
        q.mark_opened(inv)
        db.session.commit()
    return page


def begin(flow: Flow, token: str) -> ResponseReturnValue:
    """Start answering (or resume) and go to the page where the draft stopped."""
    _csrf_or_400()
    try:
        seen = load(flow, token)
    except q.InvitationProblem as problem:
        return problem_page(problem)
    inv = seen.inv
    if inv.is_open:
        return redirect(flow.url("start", token=token))
    if seen.draft is not None:  # resume where the answers stopped
        return redirect(flow.url("page", token=token, n=max(seen.draft.page, 1)))
    device = q.device_hash(request.user_agent.string, request.remote_addr or "")
    target = flow.url("page", token=token, n=max(q.start(inv, device=device).page, 1))
    db.session.commit()
    return redirect(target)


def begin_open(token: str) -> ResponseReturnValue:
    """Give this device its own link under an open poster link and start it."""
    _csrf_or_400()
    try:
        inv = load(RESPOND, token).inv
        if not inv.is_open:
            return redirect(url_for("respond.start", token=token))
        device = q.device_hash(request.user_agent.string, request.remote_addr or "")
        address = address_hash(request.remote_addr or "")
        child, _ = q.start_open_link(inv, device, address)
    except q.InvitationProblem as problem:
        db.session.rollback()
        return problem_page(problem)
    db.session.commit()
    response = redirect(url_for("respond.page", token=child, n=1))
    response.set_cookie(
        f"mp_open_{inv.id}",
        child,
        max_age=60 * 86400,
        path="/s/",
        httponly=True,
        samesite="Lax",
        secure=bool(request.is_secure),
    )
    return response


def page(flow: Flow, token: str, n: int) -> ResponseReturnValue:
    """Show or save one page of questions."""
    try:
        seen = load(flow, token)
    except q.InvitationProblem as problem:
        return problem_page(problem)
    inv, draft = seen.inv, seen.draft
    if draft is None or inv.is_open:
        return redirect(flow.url("start", token=token))
    ctx = _context(flow, token, seen)
    pages = ctx["pages"]
    if not 1 <= n < len(pages):
        abort(404)
    current = pages[n]
    errors: list[str] = []
    invalid: dict[str, str] = {}
    shown_data = draft.data
    to_review = request.values.get("return") == "review"
    if request.method == "POST":
        _csrf_or_400()
        nav = request.form.get("nav", "next")
        if nav not in NAV:
            nav = "next"
        try:
            values = q.parse_page(ctx["spec"], inv.group_code, current, request.form)
        except q.BadAnswers as exc:
            return bad_answers_page(exc)
        if values.invalid:
            # nothing saved: the page comes back with what was typed and the error in place
            invalid = values.invalid
            errors = values.missing if nav == "next" else []
            shown_data = q.merged_data(draft.data, current, values)
        else:
            shown = pop_shown(inv.id, n)
            if nav == "next" and values.missing:
                errors = values.missing
                q.save_page(draft, current, values, goto=n, shown=shown)
                db.session.commit()
                shown_data = draft.data
            else:
                goto = {"next": n + 1, "back": n - 1, "save": n}[nav]
                if to_review and nav == "next":
                    goto = len(pages)
                q.save_page(draft, current, values, goto=max(goto, 1), shown=shown)
                db.session.commit()
                if nav == "save":
                    return redirect(flow.url("saved", token=token))
                if nav == "back" and n == 1:
                    return redirect(flow.url("start", token=token))
                if goto >= len(pages):
                    return redirect(flow.url("review", token=token))
                return redirect(flow.url("page", token=token, n=goto))
    remember_shown(inv.id, n)
    ctx.update(page=current, errors=errors, invalid=invalid, data=shown_data, to_review=to_review)
    template = "respond/final.html" if current.kind == "final" else "respond/page.html"
    return render_template(template, **ctx), 400 if errors or invalid else 200


def review(flow: Flow, token: str) -> ResponseReturnValue:
    """Show every answer for checking; submit on POST."""
    try:
        seen = load(flow, token)
    except q.InvitationProblem as problem:
        return problem_page(problem)
    inv, draft = seen.inv, seen.draft
    if draft is None or inv.is_open:
        return redirect(flow.url("start", token=token))
    missing = q.missing_by_page(seen.spec, inv.group_code, draft)
    if request.method == "POST" and not missing:
        _csrf_or_400()
        place = q.place_label(inv)  # read before the commit expires ``inv``
        try:
            q.submit(inv, draft, seen.spec)
        except q.AlreadySubmitted:
            return problem_page(
                q.InvitationProblem(
                    409,
                    _("这份问卷已经提交过了"),
                    _("每个邀请码只能提交一次，您的答卷已经收到，不需要再填。谢谢！"),
                )
            )
        # The thanks page is the answer to the POST itself: one request accepts
        # a questionnaire.  Reloading re-posts and gets the "already submitted"
        # page; the page's own links point at /thanks, not back at /review.
        return thanks_page(flow, token, place)
    ctx = _context(flow, token, seen)
    ctx.update(missing=missing, labels=q.answers_view(ctx["spec"], draft.data))
    status = 400 if request.method == "POST" else 200
    return render_template("respond/review.html", **ctx), status


def saved(flow: Flow, token: str) -> ResponseReturnValue:
    """Confirm that the answers are saved and how to come back."""
    try:
        seen = load(flow, token)
    except q.InvitationProblem as problem:
        return problem_page(problem)
    ctx = _context(flow, token, seen)
    link = request.url_root.rstrip("/") + flow.url("start", token=token)
    return render_template("respond/saved.html", link=link, **ctx)


def thanks(flow: Flow, token: str) -> ResponseReturnValue:
    """Thank the resident once the response is in."""
    try:
        seen = load(flow, token, allow_used=True)
    except q.InvitationProblem as problem:
        return problem_page(problem)
    if not seen.used:
        return redirect(flow.url("start", token=token))
    return thanks_page(flow, token, q.place_label(seen.inv))


def thanks_page(flow: Flow, token: str, place: str) -> str:
    """The thanks page; its language and text-size links come back to ``/thanks``."""
    here = flow.url("thanks", token=token)
    return render_template("respond/thanks.html", flow=flow, place=place, here=here)
