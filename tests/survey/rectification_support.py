"""Builders shared by the rectification, street and public tests (no tests here).

Test modules import it as a sibling: ``from . import rectification_support as S``.
"""

from __future__ import annotations

import datetime as dt
import io
import struct
import zlib
from dataclasses import replace

import numpy as np
from flask import g
from flask.testing import FlaskClient
from PIL import Image

from survey.extensions import db
from survey.models import Notice, RectificationItem, Wave
from survey.services import rectification as rect
from survey.services.evidence import check_upload

ISSUE_DATE = dt.date(2026, 3, 31)
PASSWORD = "Test-Password-2026"  # conftest.STAFF_PASSWORD


class OwnUserClient(FlaskClient):
    """A test client that forgets the signed-in user cached on ``g`` before each request.

    The tests run inside one app context, so Flask-Login's ``g._login_user``
    would otherwise leak from one client's request into another's.
    """

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        g.pop("_login_user", None)
        return super().open(*args, **kwargs)


def simulated_wave(make_wave, code: str = "rw1", seed: int = 11) -> Wave:
    """A demo-like wave (simulated answers with residents' comments), closed."""
    from survey.services.demo import _simulate_wave
    from survey.services.frameworks import spec_of
    from survey.services.waves import transition

    wave = make_wave(code, state="fieldwork")
    _simulate_wave(wave, wave.district, spec_of(wave.framework), np.random.default_rng(seed), seed)
    transition(wave, "close")
    db.session.flush()
    return wave


def score(wave: Wave, boot: int = 100) -> Wave:
    from survey.services.scoring_runs import score_wave

    score_wave(wave, boot=boot, seed=20260101)
    db.session.flush()
    return wave


def issue(wave: Wave) -> list[Notice]:
    from survey.services.notices import issue_notices

    notices = issue_notices(wave, issue_date=ISSUE_DATE)
    db.session.flush()
    return notices


def improved_copy(
    make_wave, base: Wave, code: str, street: str, indicators: list[str], step: int = 1
) -> Wave:
    """A later closed wave: ``base``'s answers again, ``indicators`` in ``street`` raised."""
    from survey.services.responses import insert_records, wave_records
    from survey.services.waves import transition

    wave = make_wave(code, state="fieldwork")
    records = []
    for rec in wave_records(base):
        answers = dict(rec.answers)
        if rec.street == street:
            for c in indicators:
                if isinstance(answers.get(c), int):
                    answers[c] = min(5, answers[c] + step)
        records.append(replace(rec, answers=answers))
    insert_records(wave, records)
    transition(wave, "close")
    db.session.flush()
    return wave


def direct_items(wave: Wave, street, deadline: dt.date, n: int = 2) -> list[RectificationItem]:
    """Items created without rendering notices (fast), on one stored notice row."""
    notice = Notice(
        kind="notice",
        wave_id=wave.id,
        street_id=street.id,
        doc_number=f"测民整〔2026〕{street.id}{wave.id}号",
        sequence=street.id,
        title=f"关于{street.full_name}测评结果及整改要求的通知",
        issue_date=ISSUE_DATE,
        deadline=deadline,
        pdf=b"%PDF-1.4 stub",
        sha256="0" * 64,
    )
    db.session.add(notice)
    items = []
    for code, name in [("I07", "电动车停放充电"), ("I08", "停车秩序"), ("I06", "文明养犬")][:n]:
        item = RectificationItem(
            notice=notice,
            street_id=street.id,
            wave_id=wave.id,
            indicator_code=code,
            indicator_name=name,
            street_score=55.0,
            district_score=62.0,
            requirement=f"请针对{name}问题制定整改措施。",
            deadline=deadline,
            state="issued",
        )
        db.session.add(item)
        items.append(item)
    db.session.flush()
    return items


def photo(color=(40, 140, 60), size=(640, 480), fmt: str = "JPEG") -> bytes:
    from PIL import ImageDraw

    out = io.BytesIO()
    img = Image.new("RGB", size, (205, 225, 240))  # sky
    draw = ImageDraw.Draw(img)
    w, h = size
    draw.rectangle([0, int(h * 0.7), w, h], fill=(150, 150, 145))  # pavement
    draw.rectangle([int(w * 0.1), int(h * 0.3), int(w * 0.9), int(h * 0.38)], fill=color)  # roof
    for k in range(6):  # posts and parked bikes under a shelter
        x = int(w * (0.14 + 0.13 * k))
        draw.rectangle([x, int(h * 0.38), x + 8, int(h * 0.72)], fill=(90, 90, 90))
        draw.ellipse([x + 14, int(h * 0.6), x + 54, int(h * 0.7)], outline=(30, 30, 30), width=4)
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (32.0, 3.0, 40.0)})
    img.save(out, fmt, exif=exif) if fmt == "JPEG" else img.save(out, fmt)
    return out.getvalue()


def plan_data(**over) -> dict[str, str]:
    data = {
        "measures": "在小区内新增集中充电桩40个，清理楼道内电动车。",
        "responsible_unit": "街道城管科",
        "responsible_person": "王科长",
        "planned_date": "2026-04-30",
    }
    data.update(over)
    return data


def enormous_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header declares enormous dimensions (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(64))) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def accepted_items(wave, street, codes=("I07", "I08")):  # type: ignore[no-untyped-def]
    """Direct items on ``codes`` taken through plan, progress, evidence and acceptance."""
    items = direct_items(wave, street, deadline=dt.date(2026, 5, 15), n=len(codes))
    for item, code in zip(items, codes, strict=True):
        item.indicator_code = code
        rect.plan_item(
            item,
            measures="新增集中充电车棚3处、充电桩60个",
            responsible_unit="街道城管科",
            responsible_person="王科长",
            planned_date=dt.date(2026, 4, 30),
            user_id=None,
        )
        rect.record_progress(item, note="车棚已开工", user_id=None)
        rect.add_evidence(item, check_upload("车棚.jpg", photo()), user_id=None)
        rect.submit_item(item, result="楼道内不再停放电动车，居民可就近充电。", user_id=None)
        rect.accept_item(item, user_id=None)
    db.session.flush()
    return items
