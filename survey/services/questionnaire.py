"""The resident questionnaire: tokens, pages, answer validation, drafts and submission.

Every answer a browser sends is checked here, not in the view: only the
respondent's own group's indicators on the current page, only scale points
1..K or ``DK``, at most three concerns, bounded comment lengths.  Anything else
is :class:`BadAnswers` (a 400 page; nothing is stored).  Partial answers live in
:class:`~survey.models.ResponseDraft` keyed by invitation; the submitted
:class:`~survey.models.Response` is unique per invitation in the database, so a
token submits exactly once even under concurrent requests.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, bindparam, delete, exists, func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from scoring.framework import Framework as FrameworkSpec
from scoring.framework import Indicator

from ..errors import UserError
from ..extensions import db, rowcount
from ..i18n import _
from ..models import DK_POINT, Answer, Framework, Invitation, Response, ResponseDraft, Wave
from ..models._base import utcnow
from ..questions import DK, FIXED, MAX_ANSWER_COMMENT
from .frameworks import spec_of
from .invitations import hash_code, hash_token, new_token, normalise_code

SUBMIT_ATTEMPTS = 4
TOKEN_RE = re.compile(r"[A-Za-z0-9_\-]{8,64}")
INTERVIEW_CHANNELS = ("phone", "face")


class InvitationProblem(Exception):
    """A token that cannot be used now; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


class BadAnswers(ValueError):
    """Answers no honest browser sends (tampered form); ``problems`` lists why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class AlreadySubmitted(Exception):
    """The invitation already has its response."""


@dataclass(frozen=True, slots=True)
class Page:
    """One questionnaire page: 0 privacy, 1..n dimensions, n+1 the final questions."""

    number: int
    kind: str  # "privacy" | "dimension" | "final"
    title: str = ""
    title_en: str = ""
    indicators: tuple[Indicator, ...] = ()


@dataclass(slots=True)
class PageAnswers:
    """Validated values of one posted page."""

    answers: dict[str, str] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    final: dict[str, object] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    invalid: dict[str, str] = field(default_factory=dict)  # field -> message to fix


@dataclass(slots=True)
class Visit:
    """One request's view of a token, read with :func:`visit` in one query."""

    inv: Invitation  # with wave, street and community loaded
    draft: ResponseDraft | None
    used: bool  # a response was submitted with this invitation
    spec: FrameworkSpec


# -- tokens -----------------------------------------------------------------


def device_hash(user_agent: str, remote_addr: str) -> str:
    """Return a keyed SHA-256 of user agent and IP: the only device trace stored."""
    key = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    message = f"{user_agent}\n{remote_addr}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def unknown_token() -> InvitationProblem:
    """The 404 problem for a token that does not exist (or is not for this page)."""
    return InvitationProblem(
        404,
        _l("找不到这份问卷"),
        _l("这个邀请码不存在。请核对链接或邀请码是否完整，或联系发给您邀请的工作人员。"),
    )


def find_invitation(token: str) -> Invitation:
    """Return the invitation of ``token``.  :raises InvitationProblem: 404 if unknown."""
    inv = None
    code = normalise_code(token or "")
    if code is not None:
        inv = db.session.scalar(select(Invitation).where(Invitation.code_hash == hash_code(code)))
    elif TOKEN_RE.fullmatch(token or ""):
        inv = db.session.scalar(
            select(Invitation).where(Invitation.token_hash == hash_token(token))
        )
    if inv is None:
        raise unknown_token()
    return inv


_SPECS: dict[tuple[int, str], FrameworkSpec] = {}


def spec_for(wave: Wave, sha256: str) -> FrameworkSpec:
    """Return the parsed framework of ``wave``, cached by framework id and SHA-256.

    The TOML text is read from the database only the first time a worker sees
    a framework version (or after the text changed, which changes the digest).
    """
    key = (wave.framework_id, sha256)
    spec = _SPECS.get(key)
    if spec is None:
        spec = spec_of(wave.framework)
        if len(_SPECS) > 64:
            _SPECS.clear()
        _SPECS[key] = spec
    return spec


# Built once: a reused statement object keeps its memoized cache key (less CPU per request).
_VISIT = (
    select(
        Invitation,
        ResponseDraft,
        Framework.sha256,
        exists().where(Response.invitation_id == Invitation.id).label("used"),
    )
    .join(Invitation.wave)
    .join(Framework, Framework.id == Wave.framework_id)
    .join(Invitation.street)
    .outerjoin(Invitation.community)
    .outerjoin(ResponseDraft, ResponseDraft.invitation_id == Invitation.id)
    .options(
        contains_eager(Invitation.wave),
        contains_eager(Invitation.street),
        contains_eager(Invitation.community),
    )
)
_VISIT_TOKEN = _VISIT.where(Invitation.token_hash == bindparam("digest"))
_VISIT_CODE = _VISIT.where(Invitation.code_hash == bindparam("digest"))


def visit(token: str) -> Visit:
    """Read everything a questionnaire page needs about ``token`` in one query.

    Invitation with its wave, street and community, the draft, whether a
    response exists, and the framework's digest (the parsed framework is cached).

    ``token`` may also be a card's short typed code (any case, spaces and hyphens ignored).

    :raises InvitationProblem: 404 if the token is unknown.
    """
    code = normalise_code(token or "")
    if code is not None:
        row = db.session.execute(_VISIT_CODE, {"digest": hash_code(code)}).one_or_none()
    elif TOKEN_RE.fullmatch(token or ""):
        row = db.session.execute(_VISIT_TOKEN, {"digest": hash_token(token)}).one_or_none()
    else:
        raise unknown_token()
    if row is None:
        raise unknown_token()
    inv, draft, sha256, is_done = row
    return Visit(inv, draft, bool(is_done), spec_for(inv.wave, sha256))


def is_used(inv: Invitation) -> bool:
    """Whether a response was already submitted with ``inv``."""
    found = db.session.scalar(select(Response.id).where(Response.invitation_id == inv.id))
    return found is not None


def check_usable(inv: Invitation, used: bool | None = None) -> None:
    """Raise :class:`InvitationProblem` if ``inv`` cannot take answers now.

    :param used: whether ``inv`` already has a response, if known (else queried).
    """
    if inv.revoked_at is not None:
        raise InvitationProblem(
            410, _l("这个邀请码已作废"), _l("这个邀请码已被调查机构作废，不能再使用。")
        )
    if inv.wave.state != "fieldwork":
        if inv.wave.state == "draft":
            message = _l("本次调查还没有开始，请在开始后再打开这个链接。")
        else:
            message = _l("本次调查已经结束，不能再填写问卷。感谢您的关心。")
        raise InvitationProblem(403, _l("现在不能填写这份问卷"), message)
    if not inv.is_open and (is_used(inv) if used is None else used):
        raise InvitationProblem(
            409,
            _l("这份问卷已经提交过了"),
            _l("每个邀请码只能提交一次，您的答卷已经收到，不需要再填。谢谢！"),
        )


def place_label(inv: Invitation) -> str:
    """Street and community of ``inv`` as shown above the questions."""
    street = inv.street.full_name
    return f"{street} · {inv.community.name}" if inv.community is not None else street


def mark_opened(inv: Invitation) -> None:
    """Record the first time the link was opened (fieldwork counts; not committed).

    One conditional UPDATE, and only while ``opened_at`` is still empty, so
    later views of the page do not write.
    """
    if inv.opened_at is None:
        now = utcnow()
        db.session.execute(
            update(Invitation)
            .where(Invitation.id == inv.id, Invitation.opened_at.is_(None))
            .values(opened_at=now),
            execution_options={"synchronize_session": False},
        )
        set_committed_value(inv, "opened_at", now)


def get_draft(inv: Invitation) -> ResponseDraft | None:
    return db.session.scalar(select(ResponseDraft).where(ResponseDraft.invitation_id == inv.id))


def start(
    inv: Invitation,
    *,
    channel: str = "online",
    interviewer_id: int | None = None,
    device: str | None = None,
) -> ResponseDraft:
    """Begin (or resume) answering ``inv``: set ``started_at`` and create its draft.

    Adds rows to the session (not committed).  An existing draft is returned as is.
    """
    draft = get_draft(inv)
    now = utcnow()
    if inv.opened_at is None:
        inv.opened_at = now
    if draft is not None:
        return draft
    inv.started_at = inv.started_at or now
    draft = ResponseDraft(
        invitation_id=inv.id,
        page=1,
        data={
            "channel": channel,
            "interviewer_id": interviewer_id,
            "device": device,
            "started": now.isoformat(),
            "answers": {},
            "comments": {},
            "final": {},
            "shown": {},
            "durations": {},
        },
    )
    db.session.add(draft)
    db.session.flush()
    return draft


def start_open_link(
    parent: Invitation, device: str, address: str | None = None
) -> tuple[str, ResponseDraft]:
    """Give one device its own single-use invitation under an open (poster) link.

    The child invitation has no batch and inherits wave, street, group and
    community; its response gets ``channel=open``.  Adds rows (not committed).

    :param address: keyed hash of the network address
        (:func:`.open_links.address_hash`); counted per wave, see
        :mod:`.open_links`.
    :raises InvitationProblem: open links switched off, this device already
        answered ``OPEN_LINK_DEVICE_LIMIT`` times in this street and group, or
        this address started ``OPEN_LINK_ADDRESS_LIMIT`` questionnaires today.
    """
    from .open_links import address_refusal, check_start

    wave = parent.wave
    if not wave.allow_open_links:
        raise InvitationProblem(
            403, _l("这个二维码已停用"), _l("本次调查已关闭公开二维码，请使用调查员发放的邀请码。")
        )
    limit = int(current_app.config.get("OPEN_LINK_DEVICE_LIMIT", 2))
    done = db.session.scalar(
        select(func.count(Response.id)).where(
            Response.wave_id == wave.id,
            Response.street_id == parent.street_id,
            Response.group_code == parent.group_code,
            Response.channel == "open",
            Response.device_hash == device,
        )
    )
    if (done or 0) >= limit:
        raise InvitationProblem(
            429,
            _l("这台手机已经提交过问卷"),
            _l("同一台设备只能通过公开二维码提交有限份数的问卷。感谢您的参与！"),
        )
    burst = ""
    if address is not None:
        allowed, burst = check_start(wave, address, utcnow())
        if not allowed:
            raise InvitationProblem(429, *address_refusal())
    token = new_token()
    child = Invitation(
        token_hash=hash_token(token),
        wave_id=parent.wave_id,
        street_id=parent.street_id,
        group_code=parent.group_code,
        community_id=parent.community_id,
        is_open=False,
        start_address=address,
    )
    db.session.add(child)
    mark_opened(parent)
    db.session.flush()
    draft = start(child, channel="open", device=device)
    if burst:
        draft.data = {**draft.data, "flags": burst}
    return token, draft


def start_interview(
    wave_id: int,
    street_id: int,
    group_code: str,
    community_id: int | None,
    channel: str,
    interviewer_id: int,
) -> tuple[str, ResponseDraft]:
    """Open a phone or face-to-face interview: a one-off invitation plus its draft.

    Adds rows (not committed); the token lets the interviewer resume.
    :raises UserError: channel other than phone/face.
    """
    if channel not in INTERVIEW_CHANNELS:
        raise UserError(_("访问方式只能是电话或面访。"))
    token = new_token()
    inv = Invitation(
        token_hash=hash_token(token),
        wave_id=wave_id,
        street_id=street_id,
        group_code=group_code,
        community_id=community_id,
    )
    db.session.add(inv)
    db.session.flush()
    return token, start(inv, channel=channel, interviewer_id=interviewer_id)


# -- pages ------------------------------------------------------------------


def pages_for(spec: FrameworkSpec, group: str) -> list[Page]:
    """Privacy page, one page per dimension asked of ``group``, then the final page."""
    asked = spec.indicators_for(group)
    pages = [Page(0, "privacy")]
    for dim in spec.dimensions:
        items = tuple(i for i in asked if i.dimension == dim.code)
        if items:
            pages.append(Page(len(pages), "dimension", dim.name, dim.name_en, items))
    pages.append(Page(len(pages), "final"))
    return pages


def allowed_points(spec: FrameworkSpec) -> tuple[str, ...]:
    return (*(str(k) for k in range(1, spec.scale.points + 1)), DK)


def _single(form: MultiDict[str, str], key: str, problems: list[str]) -> str:
    values = form.getlist(key)
    if len(values) > 1:
        problems.append(_("%(key)s：只能有一个答案", key=key))
    return values[0] if values else ""


def _text(value: str, limit: int, key: str, invalid: dict[str, str]) -> str:
    value = value.replace("\x00", "").replace("\r\n", "\n").strip()
    if len(value) > limit:
        invalid[key] = _(
            "意见最多%(limit)s个字，现在有%(n)s个字，请删短一些。", limit=limit, n=len(value)
        )
        value = value[: 2 * limit]  # shown again for editing, never stored
    return value


def parse_page(
    spec: FrameworkSpec, group: str, page: Page, form: MultiDict[str, str]
) -> PageAnswers:
    """Validate one posted page.

    Problems a resident can make and fix (more than three concerns, an over-long
    comment) are returned in ``invalid`` (field name -> message) with the values
    kept, so the page can be shown again with the answers and the error in place.

    :raises BadAnswers: what no honest browser sends: unknown or other-group
        indicator codes, answers outside 1..K/DK, repeated fields, bad choices.
    """
    problems: list[str] = []
    out = PageAnswers()
    on_page = {i.code for i in page.indicators}
    asked = {i.code for i in spec.indicators_for(group)}
    for key in form:
        prefix, _sep, code = key.partition("_")
        if prefix in ("a", "c") and code and code not in on_page:
            if code in asked:
                problems.append(_("%(code)s：这道题不在本页", code=code))
            elif code in spec.indicator_codes:
                problems.append(_("%(code)s：这道题不属于您的问卷", code=code))
            else:
                problems.append(_("%(code)s：未知的题目", code=code[:20]))
    points = allowed_points(spec)
    for ind in page.indicators:
        value = _single(form, f"a_{ind.code}", problems)
        if value == "":
            out.missing.append(ind.code)
        elif value not in points:
            problems.append(_("%(code)s：无效的答案 %(value)s", code=ind.code, value=value[:20]))
        else:
            out.answers[ind.code] = value
        note = _text(
            form.get(f"c_{ind.code}", ""), MAX_ANSWER_COMMENT, f"c_{ind.code}", out.invalid
        )
        if note:
            out.comments[ind.code] = note
    if page.kind == "final":
        out.final = _parse_final(spec, asked, points, form, out, problems)
    if problems:
        raise BadAnswers(problems)
    return out


def _parse_final(
    spec: FrameworkSpec,
    asked: set[str],
    points: tuple[str, ...],
    form: MultiDict[str, str],
    out: PageAnswers,
    problems: list[str],
) -> dict[str, object]:
    """Validate the fixed questions of :mod:`survey.questions` (the final page)."""
    final: dict[str, object] = {}
    for question in FIXED:
        name = question.code
        if question.kind == "concerns":
            concerns = form.getlist(name)
            for code in concerns:
                if code not in asked:
                    problems.append(_("最关注的问题：未知的题目 %(code)s", code=code[:20]))
            if len(set(concerns)) != len(concerns):
                problems.append(_("最关注的问题：重复的选项"))
            if len(concerns) > question.limit:
                out.invalid[name] = _(
                    "最关注的问题最多选%(max)s项，您选了%(n)s项。请取消%(extra)s项后再继续。",
                    max=question.limit,
                    n=len(concerns),
                    extra=len(concerns) - question.limit,
                )
            final[name] = [c for c in spec.indicator_codes if c in concerns]
        elif question.kind == "scale":
            value = _single(form, name, problems)
            if value and value not in points:
                problems.append(_("总体满意度：无效的答案 %(value)s", value=value[:20]))
            if not value and question.required:
                out.missing.append(name)
            final[name] = value
        elif question.kind == "text":
            final[name] = _text(form.get(name, ""), question.limit, name, out.invalid)
        else:
            value = _single(form, name, problems)
            if value and value not in question.codes:
                problems.append(_("%(name)s：无效的选项 %(value)s", name=name, value=value[:20]))
            final[name] = value
    return final


def merged_data(data: Mapping[str, Any], page: Page, values: PageAnswers) -> dict[str, Any]:
    """Return a copy of draft ``data`` with ``page``'s answers replaced by ``values``."""
    merged = copy.deepcopy(dict(data))
    merged.setdefault("answers", {})
    merged.setdefault("comments", {})
    for ind in page.indicators:
        merged["answers"].pop(ind.code, None)
        merged["comments"].pop(ind.code, None)
    merged["answers"].update(values.answers)
    merged["comments"].update(values.comments)
    if page.kind == "final":
        merged["final"] = values.final
    return merged


def save_page(
    draft: ResponseDraft,
    page: Page,
    values: PageAnswers,
    goto: int,
    shown: datetime | None = None,
) -> None:
    """Merge a page's validated answers into the draft and add its time on page.

    Changes ``draft.data`` and ``draft.page`` (not committed).  Answers left empty
    on this page are removed, so the draft mirrors what the resident sees.

    :param shown: when the page was served (server clock; kept in the signed
        session cookie, so showing a page writes nothing).  Drafts saved before
        that change may still hold it in ``data["shown"]``.
    """
    data = merged_data(draft.data, page, values)
    stored = data.get("shown", {}).pop(str(page.number), None)
    if shown is None and stored:
        shown = datetime.fromisoformat(stored)
    if shown is not None:
        spent = (utcnow() - shown).total_seconds()
        key = str(page.number)
        data["durations"][key] = round(data["durations"].get(key, 0) + max(spent, 0.0), 1)
    draft.data = data
    draft.page = goto


def missing_by_page(spec: FrameworkSpec, group: str, draft: ResponseDraft) -> dict[int, list[str]]:
    """Return page number -> unanswered required items (indicator codes, fixed question codes)."""
    answers = draft.data.get("answers", {})
    out: dict[int, list[str]] = {}
    for page in pages_for(spec, group):
        gaps = [i.code for i in page.indicators if i.code not in answers]
        if page.kind == "final":
            final = draft.data.get("final", {})
            gaps.extend(q.code for q in FIXED if q.required and not final.get(q.code))
        if gaps:
            out[page.number] = gaps
    return out


# -- submission -------------------------------------------------------------


_RESPONSE = cast(Table, Response.__table__)
_DRAFT = cast(Table, ResponseDraft.__table__)
_INSERT_RESPONSE = insert(_RESPONSE).returning(_RESPONSE.c.id)
_INSERT_ANSWER = insert(cast(Table, Answer.__table__))
_DELETE_DRAFT = delete(_DRAFT).where(_DRAFT.c.id == bindparam("draft_id"))


class _DraftGone(Exception):
    """The draft was deleted by a concurrent submit between reading and deleting it."""


def submit(inv: Invitation, draft: ResponseDraft, spec: FrameworkSpec | None = None) -> int:
    """Turn the draft into the invitation's one response, flag its quality, commit.

    One transaction: INSERT the response (RETURNING its id), INSERT all its
    answers in one statement, DELETE the draft, COMMIT.  Quality flags are
    computed first from one bounded query (:func:`.quality.flag_submission`);
    if that check fails the response is stored unflagged (a failure never loses
    a response; ``flag_wave`` recomputes).  A flagged response is excluded by
    default only where independent signals agree
    (:func:`scoring.quality.exclusion_rule`).  Returns the new response's id.

    :raises AlreadySubmitted: the invitation already has a response (also when
        a concurrent request won the race: the database's unique key decides).
    :raises UserError: required answers missing.
    """
    from .quality import AUTO_REASON, flag_submission, record_exclusion

    spec = spec if spec is not None else spec_of(inv.wave.framework)
    place: dict[str, Any] = {
        "invitation_id": inv.id,
        "wave_id": inv.wave_id,
        "street_id": inv.street_id,
        "community_id": inv.community_id,
        "group_code": inv.group_code,
    }
    draft_id, data = draft.id, draft.data
    for attempt in range(SUBMIT_ATTEMPTS):
        if missing_by_page(spec, place["group_code"], draft):
            raise UserError(_("还有题目没有回答。"))
        row, answers = _rows_from(place, data)
        reason, exclude = flag_submission(
            spec, row, {a["indicator_code"]: a["point"] for a in answers}
        )
        if data.get("flags"):  # an open-link burst, flagged when it started
            reason = "; ".join(r for r in (reason, data["flags"]) if r)
            exclude = True
        if reason:
            row.update(quality_flags=reason)
        if exclude:
            row.update(excluded=True, exclusion_reason=AUTO_REASON)
        try:
            response_id = db.session.execute(_INSERT_RESPONSE, row).scalar_one()
            if answers:  # one executemany (psycopg pipelines it: one round trip)
                db.session.execute(
                    _INSERT_ANSWER, [{**a, "response_id": response_id} for a in answers]
                )
            gone = db.session.execute(_DELETE_DRAFT, {"draft_id": draft_id})
            if rowcount(gone) != 1:
                raise _DraftGone()
            if exclude:
                record_exclusion(response_id, reason)
            db.session.commit()
            return response_id
        except (DBAPIError, StaleDataError, _DraftGone):
            # Another request for the same invitation got there first (unique
            # key, draft gone) or holds the write lock (SQLite): look again.
            db.session.rollback()
            if _used(place["invitation_id"]):
                raise AlreadySubmitted() from None
            if attempt == SUBMIT_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
            fresh = db.session.scalar(
                select(ResponseDraft).where(ResponseDraft.invitation_id == place["invitation_id"])
            )
            if fresh is None:
                time.sleep(0.2)
                if _used(place["invitation_id"]):
                    raise AlreadySubmitted() from None
                raise
            draft, draft_id, data = fresh, fresh.id, fresh.data
    raise AssertionError("unreachable")


def _used(invitation_id: int) -> bool:
    found = db.session.scalar(select(Response.id).where(Response.invitation_id == invitation_id))
    return found is not None


def _rows_from(
    place: dict[str, Any], data: Mapping[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The response row and its answer rows (without ``response_id``) from draft data."""
    final = data.get("final", {})
    now = utcnow()
    started = datetime.fromisoformat(data["started"]) if data.get("started") else None
    row = {
        **place,
        "public_id": f"R{secrets.token_hex(8)}",
        "channel": data.get("channel") or "online",
        "interviewer_id": data.get("interviewer_id"),
        "started_at": started,
        "submitted_at": now,
        "duration_s": (now - started).total_seconds() if started else None,
        "page_durations": data.get("durations") or {},
        "device_hash": data.get("device"),
        **{q.column: q.stored(final.get(q.code)) for q in FIXED},
    }
    comments = data.get("comments", {})
    answers = [
        {
            "indicator_code": code,
            "point": DK_POINT if value == DK else int(value),
            "comment": comments.get(code, ""),
        }
        for code, value in data["answers"].items()
    ]
    return row, answers


def answers_view(spec: FrameworkSpec, data: Mapping[str, object]) -> dict[str, str]:
    """Map indicator code -> label of the chosen answer (for the review page)."""
    labels = {str(k + 1): label for k, label in enumerate(spec.scale.labels)}
    labels[DK] = spec.scale.dont_know
    answers = data.get("answers", {})
    assert isinstance(answers, dict)
    return {code: labels.get(value) or value for code, value in answers.items()}
