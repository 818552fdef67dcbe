"""Issuing rectification notices and the ranking report of a scored wave.

The service loads plain data (the stored scores JSON, residents' comments,
bureau settings, the official calendar), hands it to :mod:`reports`, and stores
each PDF with its sha256 on an immutable :class:`Notice`.  A street with
rectification items gets a notice (kind ``notice``, 整改通知书, with a deadline);
a street without any, or with incomplete data, gets a results letter (kind
``letter``, 测评结果告知书, no deadline).  Issuing also creates the notices'
:class:`RectificationItem` rows with their deadlines.  Every document of a wave,
the ranking report last, takes the next number of one 发文字号 sequence.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select

from reports import wording
from reports.bulk import NoticeResult, generate_notices
from reports.calendar import Deadline
from reports.models import (
    LETTER,
    NOTICE,
    IssuedDocument,
    NoticeData,
    RankingData,
    SampleComposition,
)
from reports.notice import NoticeSettings, build_notice_data, render_notice_pdf
from reports.ranking import RankingSettings, build_ranking_data, render_ranking_pdf
from scoring.result import ScoreResult, from_json

from ..errors import UserError
from ..extensions import db
from ..models import Answer, District, Notice, RectificationItem, Response, Street, Wave
from ..models._base import utcnow
from .audit import record
from .comments import comment_rows
from .frameworks import spec_of
from .official_days import official_calendar
from .sample_quality import document_compositions
from .scoring_runs import current_run
from .waves import check_transition, transition

Progress = Callable[[int, int, str], None]
SMALL_BATCH = 4  # render this many or fewer in-process: a pool costs more than it saves
STREET_DOCUMENT_KINDS = (NOTICE, LETTER)


def default_issue_date() -> dt.date:
    """Today in China (notices are dated in Beijing time)."""
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).date()


def notice_settings(wave: Wave, issue_date: dt.date, days: int | None = None) -> NoticeSettings:
    """Bureau settings for this wave's notices, from the district's configuration."""
    district = wave.district
    authority = district.authority or f"{district.name}民政局"
    return NoticeSettings(
        authority=authority,
        mark=f"{authority}文件",
        doc_prefix=district.doc_prefix or "民整",
        wave_name=wave.name,
        issue_date=issue_date,
        reply_address=district.reply_address,
        deadline_days=days if days is not None else district.deadline_days,
        calendar=official_calendar(),
        max_items=district.top_k,
        requirement_templates=dict(district.requirement_templates or {}),
    )


def next_sequence(prefix: str, year: int) -> int:
    """Next free number of the 发文字号 ``prefix〔year〕N号``."""
    pattern = f"{prefix}〔{year}〕%"
    numbers = db.session.scalars(select(Notice.doc_number).where(Notice.doc_number.like(pattern)))
    used = [int(m.group(1)) for n in numbers if n and (m := re.search(r"〕(\d+)号$", n))]
    return max(used, default=0) + 1


def street_comments(wave: Wave, street: Street, codes: Sequence[str]) -> dict[str, list[str]]:
    """Residents' comments on ``codes`` in ``street`` (scored responses only, no identities)."""
    if not codes:
        return {}
    rows = db.session.execute(
        comment_rows(
            wave, street, Answer.indicator_code, Answer.comment, indicators=codes
        ).order_by(Answer.point, Response.id)
    )
    out: dict[str, list[str]] = defaultdict(list)
    for code, comment in rows:
        if comment not in out[code]:
            out[code].append(comment)
    return dict(out)


def _names(wave: Wave) -> tuple[dict[str, str], dict[str, str]]:
    spec = spec_of(wave.framework)
    return (
        {d.code: d.name for d in spec.dimensions},
        {i.code: i.name for i in spec.indicators},
    )


def _scores(wave: Wave) -> ScoreResult:
    run = current_run(wave)
    if run is None:
        raise UserError(f"测评批次 {wave.code} 还没有计分结果，请先计分。")
    return _parsed(run.result_json)


@functools.lru_cache(maxsize=2)
def _parsed(result_json: str) -> ScoreResult:
    """A run's scores, parsed once per process (a wave's parts each read them; immutable)."""
    return from_json(result_json)


def street_notice_data(
    wave: Wave,
    street: Street,
    issue_date: dt.date,
    days: int | None = None,
    seq: int = 0,
    *,
    preview: bool = False,
) -> NoticeData:
    """One street's notice data as it would be issued now (reads only).

    :param preview: print 下发时编号 in place of the number (a preview takes none).
    """
    settings = notice_settings(wave, issue_date, days)
    scores = _scores(wave)
    dims, inds = _names(wave)
    row = scores.street(street.name)
    if row is None:
        raise UserError(f"{street.name} 在本批次没有计分结果。")
    comments = street_comments(wave, street, row.priorities)
    composition = document_compositions(wave)
    data = build_notice_data(
        scores,
        street.name,
        settings,
        seq=seq or next_sequence(settings.doc_prefix, issue_date.year),
        dimension_names=dims,
        indicator_names=inds,
        comments=comments,
        composition=composition,
    )
    if preview:
        number = settings.preview_number()
        data = dataclasses.replace(
            data, letterhead=dataclasses.replace(data.letterhead, doc_number=number)
        )
    return data


def render_street_notice(
    wave: Wave,
    street: Street,
    issue_date: dt.date,
    days: int | None = None,
    seq: int = 0,
    *,
    preview: bool = False,
) -> tuple[bytes, Any]:
    """Render one street's notice PDF without storing anything.

    :returns: ``(pdf bytes, NoticeData)``.
    """
    data = street_notice_data(wave, street, issue_date, days, seq, preview=preview)
    return render_notice_pdf(data), data


@dataclasses.dataclass
class IssuePlan:
    """Everything one wave's issuing renders and stores, read once with the numbers reserved.

    ``datas[i]`` is street ``street_ids[i]``'s notice, numbered ``first_seq + i``;
    the ranking report takes the number after the last street's.
    """

    wave_id: int
    district_id: int
    run_id: int
    issue_date: dt.date
    days: int | None
    settings: NoticeSettings
    street_ids: list[int]
    first_seq: int
    datas: list[NoticeData]
    ranking: RankingData

    @property
    def total(self) -> int:
        """Documents to render: one per street and the ranking report."""
        return len(self.datas) + 1


def street_notice_datas(
    wave: Wave,
    streets: Sequence[Street],
    first_seq: int,
    settings: NoticeSettings,
    scores: ScoreResult | None = None,
    composition: Sequence[SampleComposition] | None = None,
) -> list[NoticeData]:
    """The notices of ``streets`` (numbered from ``first_seq``) as the renderer takes them."""
    scores = scores if scores is not None else _scores(wave)
    composition = composition if composition is not None else document_compositions(wave)
    dims, inds = _names(wave)
    datas: list[NoticeData] = []
    for street in streets:
        row = scores.street(street.name)
        assert row is not None  # only scored streets are passed in
        datas.append(
            build_notice_data(
                scores,
                street.name,
                settings,
                seq=first_seq + len(datas),
                dimension_names=dims,
                indicator_names=inds,
                comments=street_comments(wave, street, row.priorities),
                composition=composition,
            )
        )
    return datas


def plan_issue(wave: Wave, issue_date: dt.date, days: int | None) -> IssuePlan:
    """Read what issuing ``wave``'s documents needs and reserve their numbers (no writes).

    :raises WaveStateError: the wave is not scored.
    :raises UserError: no scoring run.
    """
    check_transition(wave, "issue")
    settings = notice_settings(wave, issue_date, days)
    scores = _scores(wave)
    run = current_run(wave)
    assert run is not None  # _scores refused a wave without one
    dims, inds = _names(wave)
    scored_names = {r.street for r in scores.streets}
    scored = [s for s in wave.district.streets if s.name in scored_names]
    seq = next_sequence(settings.doc_prefix, issue_date.year)
    composition = document_compositions(wave)
    datas = street_notice_datas(wave, scored, seq, settings, scores, composition)
    documents = [
        IssuedDocument(
            street=data.street,
            kind=data.kind,
            doc_number=data.letterhead.doc_number,
            items=len(data.items),
            deadline=data.deadline.date if data.deadline else None,
            deadline_provisional=bool(data.deadline and data.deadline.provisional),
            incomplete=not data.complete,
        )
        for data in datas
    ]
    ranking = build_ranking_data(
        scores,
        RankingSettings(
            authority=settings.authority,
            mark=settings.mark,
            doc_number=settings.doc_number(seq + len(datas)),
            wave_name=wave.name,
            issue_date=issue_date,
            framework_name=wave.framework.name,
        ),
        dimension_names=dims,
        indicator_names=inds,
        documents=documents,
        composition=composition,
    )
    return IssuePlan(
        wave_id=wave.id,
        district_id=wave.district_id,
        run_id=run.id,
        issue_date=issue_date,
        days=days,
        settings=settings,
        street_ids=[s.id for s in scored],
        first_seq=seq,
        datas=datas,
        ranking=ranking,
    )


def part_notice_datas(
    wave: Wave,
    *,
    issue_date: dt.date,
    days: int | None,
    run_id: int,
    street_ids: Sequence[int],
    first_seq: int,
) -> list[NoticeData]:
    """A part's notices, built again from the database exactly as :func:`plan_issue` did.

    Whoever stores the documents compares each part's :func:`fingerprint`\\ s with
    its own plan, so a part built after something changed is never stored.

    :raises UserError: the wave was scored again meanwhile.
    """
    run = current_run(wave)
    if run is None or run.id != run_id:
        raise UserError("计分结果在生成期间发生了变化，未下发任何文件，请重新下发。")
    streets = {s.id: s for s in wave.district.streets}
    missing = [i for i in street_ids if i not in streets]
    if missing:
        raise UserError("生成期间街道名单发生了变化，未下发任何文件，请重新下发。")
    settings = notice_settings(wave, issue_date, days)
    return street_notice_datas(wave, [streets[i] for i in street_ids], first_seq, settings)


def fingerprint(data: NoticeData) -> str:
    """A digest of everything a notice is rendered from (equal data, equal digest)."""
    return hashlib.sha256(repr(data).encode()).hexdigest()


def render_street_pdfs(
    datas: Sequence[NoticeData],
    *,
    processes: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    separate: bool = False,
) -> list[bytes]:
    """Render notices in ``processes`` renderer processes (default: one per core).

    ``separate`` renders even a single notice in a renderer process, never in
    this one (see :func:`reports.bulk.generate_notices`).

    :raises UserError: a document failed (every failure is listed).
    """

    def report(result: NoticeResult, done: int, total: int) -> None:
        if progress:
            progress(done, total, result.street)

    workers = processes or (1 if len(datas) <= SMALL_BATCH else None)
    results = generate_notices(datas, processes=workers, progress=report, separate=separate)
    failures = [f"{r.street}: {r.error}" for r in results if not r.ok]
    if failures:
        raise UserError("以下街道的通知书生成失败，未下发任何文件：" + "；".join(failures))
    return [r.pdf for r in results if r.pdf is not None]


def issue_notices(
    wave: Wave,
    *,
    issue_date: dt.date | None = None,
    days: int | None = None,
    user_id: int | None = None,
    progress: Progress | None = None,
    processes: int | None = None,
    before_render: Callable[[], None] | None = None,
) -> list[Notice]:
    """Issue every street's notice and the ranking report of a scored wave (not committed).

    Assigns consecutive doc numbers, stores each PDF and its sha256, creates a
    RectificationItem per item of each notice with the deadline (a results
    letter has neither items nor deadline), moves the wave to
    ``notices_issued``, and audit-logs each notice.  PDFs are rendered in
    ``processes`` worker processes (default: one per core; in-process for a
    handful).  A street whose PDF fails is reported in the raised error, and
    then nothing is stored.

    Reading, rendering and storing are three phases (:func:`plan_issue`,
    rendering, :func:`store_issue`): ``before_render`` is called between the
    first two (a background job ends its read transaction there, so no locks
    are held while PDFs render).  A background job may instead render the
    plan's streets in parts on several workers (:mod:`survey.services.job_handlers`).

    :raises WaveStateError: the wave is not scored (also: issued meanwhile).
    :raises NumbersTaken: another document took one of the reserved numbers while
        these rendered; issuing again renders them with fresh numbers.
    :raises UserError: no scoring run, or a document failed to render.
    """
    plan = plan_issue(wave, issue_date or default_issue_date(), days)
    if before_render:
        before_render()
    total = plan.total

    def report(done: int, _total: int, street: str) -> None:
        if progress:
            progress(done, total, street)

    pdfs = render_street_pdfs(plan.datas, processes=processes, progress=report)
    ranking_pdf = render_ranking_pdf(plan.ranking)
    if progress:
        progress(total, total, "通报")
    return store_issue(plan, pdfs, ranking_pdf, user_id)


def store_issue(
    plan: IssuePlan, pdfs: Sequence[bytes], ranking_pdf: bytes, user_id: int | None
) -> list[Notice]:
    """Store a plan's rendered documents in the caller's transaction (not committed).

    Locks the district's row first and checks that the wave is still scored by
    the same run and that nobody took the reserved numbers meanwhile.

    :raises WaveStateError: the wave was issued (or reopened) meanwhile.
    :raises NumbersTaken: another document took a reserved number.
    :raises UserError: the wave was scored again meanwhile.
    """
    if len(pdfs) != len(plan.datas):
        raise RuntimeError(f"expected {len(plan.datas)} street documents, got {len(pdfs)}")
    settings, issue_date = plan.settings, plan.issue_date
    wave, scored, run = _lock_for_storing(
        plan.wave_id,
        plan.district_id,
        plan.run_id,
        plan.street_ids,
        settings.doc_prefix,
        issue_date.year,
        plan.first_seq,
    )
    seq = plan.first_seq
    notices: list[Notice] = []
    for street, data, pdf in zip(scored, plan.datas, pdfs, strict=True):
        notice = _store(
            wave,
            street,
            run,
            data.letterhead.doc_number,
            seq,
            data.title,
            issue_date,
            data.deadline,
            pdf,
            user_id,
            kind=data.kind,
        )
        deadline = data.deadline
        for item in data.items if deadline is not None else ():
            assert deadline is not None
            db.session.add(
                RectificationItem(
                    notice=notice,
                    street_id=street.id,
                    wave_id=wave.id,
                    indicator_code=item.code,
                    indicator_name=item.name,
                    street_score=item.street_score,
                    district_score=item.district_score,
                    requirement=item.requirement,
                    evidence_comments="\n".join(item.comments),
                    deadline=deadline.date,
                    deadline_provisional=deadline.provisional,
                    state="issued",
                )
            )
        notices.append(notice)
        seq += 1
    notices.append(
        _store(
            wave,
            None,
            run,
            settings.doc_number(seq),
            seq,
            plan.ranking.title,
            issue_date,
            None,
            ranking_pdf,
            user_id,
            kind="ranking",
        )
    )
    transition(wave, "issue", user_id=user_id)
    return notices


class NumbersTaken(UserError):
    """Doc numbers reserved for a batch were taken by another document meanwhile."""


def _lock_for_storing(
    wave_id: int,
    district_id: int,
    run_id: int,
    street_ids: Sequence[int],
    prefix: str,
    year: int,
    first_seq: int,
) -> tuple[Wave, list[Street], Any]:
    """Start the storing transaction: lock the district, re-check state and numbers.

    Issuing in one district is serialised on its row (``SELECT ... FOR UPDATE``
    on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already holds the write lock),
    so two batches can never both take the same 发文字号.
    """
    db.session.execute(select(District.id).where(District.id == district_id).with_for_update())
    wave = db.session.get(Wave, wave_id, populate_existing=True)
    if wave is None:
        raise UserError("测评批次已被删除，未下发任何文件。")
    check_transition(wave, "issue")
    run = current_run(wave)
    if run is None or run.id != run_id:
        raise UserError("计分结果在生成期间发生了变化，未下发任何文件，请重新下发。")
    if next_sequence(prefix, year) != first_seq:
        raise NumbersTaken("生成期间另有文件占用了预留的发文字号，将重新编号生成。")
    streets = {s.id: s for s in wave.district.streets}
    return wave, [streets[i] for i in street_ids], run


def _store(
    wave: Wave,
    street: Street | None,
    run: Any,
    doc_number: str,
    seq: int,
    title: str,
    issue_date: dt.date,
    deadline: Deadline | None,
    pdf: bytes,
    user_id: int | None,
    kind: str = "notice",
    replaces: Notice | None = None,
) -> Notice:
    notice = Notice(
        kind=kind,
        wave_id=wave.id,
        street_id=street.id if street else None,
        scoring_run_id=run.id if run else None,
        doc_number=doc_number,
        sequence=seq,
        title=title,
        issue_date=issue_date,
        deadline=deadline.date if deadline else None,
        deadline_provisional=deadline.provisional if deadline else False,
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        issued_by_id=user_id,
        issued_at=utcnow(),
        replaces_id=replaces.id if replaces else None,
    )
    db.session.add(notice)
    db.session.flush()
    record(
        f"notice.issue_{kind}",
        notice,
        user_id=user_id,
        after={
            "doc_number": doc_number,
            "street": street.name if street else None,
            "sha256": notice.sha256,
            "replaces": replaces.doc_number if replaces else None,
        },
    )
    return notice


def correct_notice(
    old: Notice,
    *,
    issue_date: dt.date | None = None,
    days: int | None = None,
    user_id: int | None = None,
) -> Notice:
    """Issue a correction: a new notice with a new doc number that references ``old``.

    The old notice is never modified.  Not committed.
    """
    if old.kind not in STREET_DOCUMENT_KINDS or old.street is None:
        raise UserError("只能更正街道整改通知书或测评结果告知书。")
    issue_date = issue_date or default_issue_date()
    pdf, data = render_street_notice(old.wave, old.street, issue_date, days)
    return _store(
        old.wave,
        old.street,
        current_run(old.wave),
        data.letterhead.doc_number,
        next_sequence(notice_settings(old.wave, issue_date).doc_prefix, issue_date.year),
        wording.correction_title(data.title),
        issue_date,
        data.deadline,
        pdf,
        user_id,
        kind=data.kind,
        replaces=old,
    )


def wave_notices(wave: Wave, kinds: Sequence[str] = (NOTICE, LETTER, "ranking")) -> list[Notice]:
    """The wave's issued documents, in doc-number order."""
    return list(
        db.session.scalars(
            select(Notice)
            .where(Notice.wave_id == wave.id, Notice.kind.in_(list(kinds)))
            .order_by(Notice.sequence, Notice.id)
        )
    )
