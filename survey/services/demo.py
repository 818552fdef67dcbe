"""The demo district: 鼓楼区, its 13 streets, a closed wave and a wave in fieldwork.

Everything is drawn from one seed, so the same seed gives identical data (and
identical exports).  Answers come from :func:`scoring.simulate.simulate`: a
latent satisfaction per respondent makes items correlated, street and indicator
effects make streets and topics differ, and about 8% of answers are 不了解.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import inspect, select, text

from scoring.exchange import DK, ResponseRecord
from scoring.framework import Framework as FrameworkSpec
from scoring.framework import load_default_framework
from scoring.simulate import simulate

from ..extensions import db
from ..models import District, Quota, Wave
from ..questions import RESIDENCE_YEARS
from . import demo_data as content
from .accounts import create_user
from .districts import create_district
from .frameworks import save_framework
from .invitations import create_batch, invitation_url
from .responses import insert_records
from .waves import create_wave, transition

CLOSED_WAVE = "demo-2026"
OPEN_WAVE = "demo-open"
CHANNEL_MIX = (["online", "face", "phone", "paper"], [0.6, 0.2, 0.1, 0.1])


class DemoRefused(RuntimeError):
    """The database holds data that is not the demo's; refuse to wipe it."""


@dataclass
class DemoSummary:
    responses: int = 0
    responses_second: int = 0
    accounts: list[tuple[str, str, str]] = field(default_factory=list)
    links: list[tuple[str, str, str]] = field(default_factory=list)


def reset_database(force: bool = False) -> None:
    """Drop every table and rebuild the schema through the migrations.

    :raises DemoRefused: when the database holds a district other than the
        demo's and ``force`` is not set.
    """
    from flask_migrate import upgrade

    inspector = inspect(db.engine)
    if not force and inspector.has_table("district"):
        codes = set(db.session.scalars(select(District.code)))
        if codes - {"gulou-demo", "xuanwu-demo"}:
            raise DemoRefused(
                "this database holds a real district; use another DATABASE_URL or --force"
            )
    db.session.remove()
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade()


def build_demo(
    seed: int = 7, force: bool = False, links: int = 3, full: bool = True
) -> DemoSummary:
    """(Re)create the demo district and return what to print.  Commits.

    With ``full=False`` it stops once the closed wave's answers are in (no
    accounts, scoring, documents, fieldwork wave or 玄武区): the same answers
    as the full demo's in a fraction of the time, for tests of the simulation.
    """
    reset_database(force=force)
    rng = np.random.default_rng(seed)
    summary = DemoSummary()
    district = create_district(
        "gulou-demo",
        "鼓楼区",
        [
            (
                code,
                name,
                [
                    f"{name.removesuffix('街道')}{stem}社区"
                    for stem in content.COMMUNITY_STEMS[: 3 + (i % 3)]
                ],
            )
            for i, (code, name) in enumerate(content.STREETS)
        ],
        authority="南京市鼓楼区民政局",
        doc_prefix="鼓民整",
    )
    district.reply_address = "鼓楼区民政局基层政权建设科（电话：025-0000 0000）"
    spec = load_default_framework()
    framework = save_framework(spec)

    wave = create_wave(
        district,
        framework,
        CLOSED_WAVE,
        "2026年度居民满意度测评",
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 3, 20),
        year=2026,
        agency_name=content.AGENCY,
        hotline=content.HOTLINE,
    )
    for street in district.streets:
        for k, community in enumerate(street.communities):
            community.phone = f"025-84{street.position:02d} {k:02d}{k + 1:02d}"
    transition(wave, "open")
    summary.responses = _simulate_wave(wave, district, spec, rng, seed)
    transition(wave, "close")
    if not full:
        db.session.commit()
        return summary
    streets = {s.name: s for s in district.streets}
    users = {}
    for username, role, street_name, password in content.ACCOUNTS:
        # The agency (and its interviewers) serve both demo districts; the
        # bureau accounts work for 鼓楼区 only (docs/districts.md).
        scope = None if street_name or role in ("agency", "interviewer") else district
        users[username] = create_user(
            username, password, role, streets.get(street_name) if street_name else None, scope
        )
        summary.accounts.append((username, role, password))
    db.session.flush()
    _rectification_story(wave, users, seed)

    fieldwork = create_wave(
        district,
        framework,
        OPEN_WAVE,
        "2026年度第二轮居民满意度测评",
        starts_on=date(2026, 11, 1),
        ends_on=date(2026, 12, 15),
        year=2026,
        allow_open_links=True,
        agency_name=content.AGENCY,
        hotline=content.HOTLINE,
    )
    for street in district.streets:
        for group, target in content.QUOTAS.items():
            db.session.add(
                Quota(wave_id=fieldwork.id, street_id=street.id, group_code=group, target=target)
            )
    transition(fieldwork, "open")
    # part-way through fieldwork: some streets well on, some just started
    _simulate_wave(
        fieldwork,
        district,
        spec,
        rng,
        seed + 1,
        sizes=[int(x) for x in rng.integers(8, 60, len(district.streets))],
        start=datetime(2026, 11, 2, 8, 0),
    )
    for street in district.streets[:2]:
        for group in spec.group_codes:
            _, tokens = create_batch(fieldwork, street, group, 20)
            if group != "unit" and len(summary.links) < links:
                summary.links.append((street.name, group, invitation_url(tokens[0])))
    from .demo_xuanwu import build_xuanwu

    _xuanwu, xw_responses, xw_accounts = build_xuanwu(framework, spec, seed, _simulate_wave)
    summary.responses_second = xw_responses
    summary.accounts.extend(xw_accounts)
    create_user("city", content.CITY_PASSWORD, "admin")  # every district: the city view
    summary.accounts.append(("city", "admin", content.CITY_PASSWORD))
    db.session.commit()
    return summary


def _demo_photo(color: tuple[int, int, int]) -> bytes:
    """A small drawn photo (a shelter over a pavement) for demo evidence."""
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGB", (480, 360), (205, 225, 240))
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 250, 480, 360], fill=(150, 150, 145))
    draw.rectangle([48, 110, 432, 138], fill=color)
    for k in range(6):
        x = 66 + 62 * k
        draw.rectangle([x, 138, x + 6, 250], fill=(90, 90, 90))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return out.getvalue()


def _rectification_story(wave: Wave, users: dict, seed: int) -> None:  # type: ignore[type-arg]
    """Score the closed wave, issue its notices, move items through every state, publish.

    宁海路街道 (the demo street officer's) gets one item of each kind the officer
    meets: accepted with photos, returned with the bureau's reason, waiting for
    acceptance, in progress; other streets have plans or nothing yet.
    """
    from datetime import timedelta as days

    from . import rectification as rect
    from .evidence import check_upload
    from .notices import default_issue_date, issue_notices
    from .scoring_runs import score_wave

    score_wave(wave, seed=seed)
    # issued three weeks ago: deadlines still ahead, so the screens show working days left
    notices = issue_notices(wave, issue_date=default_issue_date() - days(days=21))
    admin = users["admin"].id
    officer = users["ninghailu"].id
    steps = content.RECTIFICATION_STEPS
    for notice in notices:
        if notice.street is None:
            continue
        own = notice.street.name == "宁海路街道"
        for k, item in enumerate(notice.items):
            plan: dict[str, Any] = {
                key: (
                    value.format(name=item.indicator_name)
                    if isinstance(value, str)
                    else tuple(v.format(name=item.indicator_name) for v in value)
                )
                for key, value in steps[k % len(steps)].items()
            }
            if own:
                stage = ("accepted", "returned", "submitted", "in_progress")[k % 4]
            else:
                stage = ("planned", "issued", "in_progress")[(notice.street.position + k) % 3]
            if stage == "issued":
                continue
            rect.plan_item(
                item,
                measures=plan["measures"],
                responsible_unit=plan["unit"],
                responsible_person=plan["person"],
                planned_date=item.deadline - days(days=7),
                user_id=officer if own else None,
            )
            if stage == "planned":
                continue
            rect.record_progress(item, note=plan["progress"], user_id=officer if own else None)
            if stage == "in_progress":
                continue
            for n, color in enumerate(((40, 140, 60), (10, 90, 200))):
                checked = check_upload(f"现场{n + 1}.jpg", _demo_photo(color))
                rect.add_evidence(item, checked, user_id=officer, caption=plan["captions"][n])
            rect.submit_item(item, result=plan["result"], user_id=officer)
            if stage == "accepted":
                rect.accept_item(item, user_id=admin, note="现场核实，同意验收。")
            elif stage == "returned":
                rect.return_item(item, reason=content.RETURN_REASON, user_id=admin)
    db.session.flush()
    transition(wave, "publish")


def _simulate_wave(
    wave: Wave,
    district: District,
    spec: FrameworkSpec,
    rng: np.random.Generator,
    seed: int,
    sizes: list[int] | None = None,
    start: datetime | None = None,
) -> int:
    """Insert simulated responses with comments and paradata into ``wave``."""
    streets = [s.name for s in district.streets]
    if sizes is None:
        sizes = [
            int(rng.integers(300, 501)) if name != content.SMALL_STREET else 70 for name in streets
        ]
    sim = simulate(
        spec,
        streets,
        sizes,
        seed,
        mu=2.2,
        street_sd=0.3,
        indicator_offsets=content.INDICATOR_OFFSETS,
        group_mix=[0.45, 0.4, 0.15],
    )
    data = sim.data
    codes = spec.indicator_codes
    n = data.n
    points = data.points.copy()
    dk = data.dont_know
    # A few straight-liners (same answer everywhere) and speeders.
    straight = rng.random(n) < 0.012
    speeder = rng.random(n) < 0.02
    for r in np.flatnonzero(straight):
        asked = data.asked[r]
        points[r, asked] = int(rng.integers(4, 6))
    durations = rng.gamma(6.0, 45.0, n) + 120.0
    durations[speeder] = rng.uniform(25, 60, speeder.sum())
    start = start or datetime(2026, 3, 1, 8, 0)
    offsets = np.sort(rng.uniform(0, 19 * 86400, n))
    order = rng.permutation(n)  # interleave streets in time, as fieldwork does
    communities = {s.name: s.communities for s in district.streets}
    demo_rng = np.random.default_rng(seed + 14)  # demographics: their own draws
    records: list[ResponseRecord] = []
    extra: list[dict[str, Any]] = []
    notes: list[dict[str, str]] = []
    for k, r in enumerate(order):
        street = streets[data.street[r]]
        group = spec.group_codes[data.group[r]]
        answers: dict[str, int | str | None] = {}
        note: dict[str, str] = {}
        for j, code in enumerate(codes):
            if not data.asked[r, j]:
                answers[code] = None
            elif dk[r, j] and not straight[r]:
                answers[code] = DK
            else:
                p = int(points[r, j]) or int(rng.integers(3, 6))
                answers[code] = p
                if p <= 2 and rng.random() < 0.35:
                    note[code] = str(rng.choice(content.COMPLAINTS[code]))
                elif p == 5 and code in content.PRAISE and rng.random() < 0.05:
                    note[code] = str(rng.choice(content.PRAISE[code]))
        submitted = start + timedelta(seconds=float(offsets[k]))
        concerns = tuple(codes[j] for j in np.flatnonzero(data.concerns[r]))
        overall = int(rng.integers(1, 6)) if np.isnan(data.overall[r]) else None
        overall_point = int(np.searchsorted(spec.scale.scores, data.overall[r])) + 1
        records.append(
            ResponseRecord(
                response_id=f"{wave.code}-{k + 1:06d}",
                street=street,
                group=group,
                submitted_at=submitted,
                channel=str(
                    rng.choice(["online", "face", "phone", "paper"], p=[0.6, 0.2, 0.1, 0.1])
                ),
                weight=1.0,
                answers=answers,
                concerns=concerns,
                overall=overall or overall_point,
                comment=str(rng.choice(content.GENERAL_COMMENTS)),
                **_demographics(demo_rng, group),
            )
        )
        community = communities[street][int(rng.integers(0, len(communities[street])))]
        extra.append(
            {
                "community_id": community.id,
                "started_at": submitted - timedelta(seconds=float(durations[r])),
                "duration_s": round(float(durations[r]), 1),
                "device_hash": hashlib.sha256(f"demo-device-{seed}-{r}".encode()).hexdigest(),
            }
        )
        notes.append(note)
    insert_records(wave, records, extra=extra, answer_comments=notes)
    db.session.flush()
    _demo_population(district, demo_rng)
    return len(records)


# The demo's samples over-represent the oldest residents (as door-to-door and
# community-centre interviewing does): raking to the population margins shows.
_SAMPLE_AGES = {"elderly": (("60-69", "70-79", "80+"), (0.3, 0.4, 0.3)),
                "adult": (("18-34", "35-59"), (0.3, 0.7))}  # fmt: skip
_POPULATION_AGES = {"elderly": (0.45, 0.35, 0.2), "adult": (0.45, 0.55)}


def _demographics(rng: np.random.Generator, group: str) -> dict[str, str | None]:
    """Age band, gender and years of residence of one simulated resident (units: none)."""
    if group not in _SAMPLE_AGES:
        return {}
    bands, p = _SAMPLE_AGES[group]
    gender: str | None = str(rng.choice(["female", "male", "-"], p=[0.55, 0.42, 0.03]))
    if gender == "-":  # did not answer
        gender = None
    return {
        "age_band": str(rng.choice(bands, p=p)),
        "gender": gender,
        "residence_years": str(rng.choice(RESIDENCE_YEARS.codes, p=[0.05, 0.2, 0.25, 0.5])),
    }


def _demo_population(district: District, rng: np.random.Generator) -> None:
    """Store population margins (age band, gender) of the demo's streets as version 1."""
    from scoring.population import parse_population_rows

    from .population import store_population

    rows = [["street", "group", "variable", "category", "count"]]
    for street in district.streets:
        for group, shares in _POPULATION_AGES.items():
            bands = _SAMPLE_AGES[group][0]
            total = int(
                rng.integers(3000, 9000) if group == "elderly" else rng.integers(15000, 40000)
            )
            counts = {b: round(total * sh) for b, sh in zip(bands, shares, strict=True)}
            total = sum(counts.values())
            for band in ("18-34", "35-59", "60-69", "70-79", "80+"):
                rows.append([street.name, group, "age_band", band, str(counts.get(band, 0))])
            female = round(total * float(rng.uniform(0.5, 0.56)))
            rows.append([street.name, group, "gender", "female", str(female)])
            rows.append([street.name, group, "gender", "male", str(total - female)])
    store_population(district, parse_population_rows(rows), note="示例数据（模拟人口数）")


def demo_wave(code: str = CLOSED_WAVE) -> Wave | None:
    return db.session.scalar(select(Wave).where(Wave.code == code))
