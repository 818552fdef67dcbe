"""A wave's notices rendered in parts (any worker takes a part), stored as one set."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import select

from survey.extensions import db
from survey.models import DocumentJob, Notice
from survey.models._base import utcnow
from survey.services.job_handlers import _collect_parts, pack_part, unpack_part
from survey.services.jobs import JobContext, RetryJob, start_notice_job
from survey.services.notices import fingerprint, plan_issue

from .test_notices import pdf_text, scored  # noqa: F401  (fixture)


def test_parts_issue_one_set_in_street_order(app, scored, monkeypatch):  # noqa: F811
    monkeypatch.setitem(app.config, "NOTICE_PART", 1)  # 3 streets: 3 parts
    parts_seen: list[int] = []
    from survey.services import job_handlers

    real = job_handlers._ensure_parts

    def spy(job_id, wave_id, specs):  # type: ignore[no-untyped-def]
        ids = real(job_id, wave_id, specs)
        parts_seen.extend(ids)
        return ids

    monkeypatch.setattr(job_handlers, "_ensure_parts", spy)
    job = start_notice_job(scored, dt.date(2026, 3, 31), 30, None)
    db.session.refresh(job)
    assert (job.state, job.done, job.total) == ("done", 4, 4), job.message
    assert len(parts_seen) == 3
    # the parts (and the PDFs they held) are gone once their parent stored the set
    assert db.session.scalars(select(DocumentJob).where(DocumentJob.id.in_(parts_seen))).all() == []
    notices = db.session.scalars(
        select(Notice).where(Notice.wave_id == scored.id).order_by(Notice.sequence)
    ).all()
    streets = [s.name for s in scored.district.streets]
    assert [n.doc_number for n in notices] == [f"测民整〔2026〕{i}号" for i in range(1, 5)]
    assert [n.street.name for n in notices[:3]] == streets
    assert notices[3].kind == "ranking"
    for notice, street in zip(notices, streets, strict=False):
        text = pdf_text(notice.pdf)
        assert notice.doc_number in text and street in text


def _running(wave_id: int, parent_id: int | None = None, **values) -> DocumentJob:  # type: ignore[no-untyped-def]
    values = {"state": "running", **values}
    job = DocumentJob(
        wave_id=wave_id,
        kind="notice_part" if parent_id else "notices",
        lease_id=uuid.uuid4().hex,
        heartbeat_at=utcnow(),
        parent_id=parent_id,
        **values,
    )
    db.session.add(job)
    db.session.flush()
    return job


def test_part_progress_adds_up_on_the_parent(scored):  # noqa: F811
    parent = _running(scored.id, total=21)
    first = _running(scored.id, parent.id, total=10)
    second = _running(scored.id, parent.id, total=10)
    JobContext(first.id, first.lease_id, None, parent_id=parent.id).progress(3, 10, "甲街道")
    JobContext(second.id, second.lease_id, None, parent_id=parent.id).progress(4, 10, "乙街道")
    db.session.refresh(parent)
    assert (parent.done, parent.total, parent.current) == (7, 21, "乙街道")
    ctx = JobContext(first.id, first.lease_id, None, parent_id=parent.id)
    ctx.complete("已生成 10 份。", result=b"x", result_name="part.zip")
    db.session.refresh(parent)
    assert parent.done == 14  # the finished part counts in full
    JobContext(parent.id, parent.lease_id, None).complete("done")
    db.session.expire_all()
    assert db.session.get(DocumentJob, first.id) is None  # parts go with the finished parent


def test_parts_rendered_from_other_data_are_never_stored(scored):  # noqa: F811
    plan = plan_issue(scored, dt.date(2026, 3, 31), 30)
    parent = _running(scored.id, total=plan.total)
    good = pack_part(plan.datas[:2], [b"%PDF-a", b"%PDF-b"])
    assert unpack_part(good) == ([fingerprint(d) for d in plan.datas[:2]], [b"%PDF-a", b"%PDF-b"])
    stale = pack_part(plan.datas[1:2], [b"%PDF-c"])  # another street's data at this place
    ids = []
    for bundle in (good, stale):
        part = _running(scored.id, parent.id, state="done", result=bundle)
        ids.append(part.id)
    db.session.commit()
    with pytest.raises(RetryJob):
        _collect_parts(parent.id, plan, ids, [fingerprint(d) for d in plan.datas])
    db.session.expire_all()
    assert db.session.get(DocumentJob, ids[0]) is not None  # still good: kept for the retry
    assert db.session.get(DocumentJob, ids[1]) is None  # rendered again on the retry
    assert unpack_part(b"not a zip") == ([], [])
    assert json.loads(json.dumps(plan.street_ids)) == [s.id for s in scored.district.streets]
