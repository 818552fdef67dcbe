"""Response rates (AAPOR RR1/RR2) and sample vs population, and the console page."""

from __future__ import annotations

from sqlalchemy import select

from scoring.exchange import ResponseRecord
from scoring.population import parse_population_rows
from survey.extensions import db
from survey.models import Invitation, Quota
from survey.services.invitations import create_batch
from survey.services.population import store_population
from survey.services.responses import insert_records
from survey.services.sample_quality import response_rates, sample_vs_population


def record(rid: str, street: str, age: str | None, gender: str | None) -> ResponseRecord:
    return ResponseRecord(
        response_id=rid,
        street=street,
        group="elderly",
        submitted_at=None,
        channel="online",
        weight=1.0,
        answers={f"I{j:02d}": 4 for j in range(1, 18)},
        age_band=age,
        gender=gender,
    )


def test_rates_and_composition(client, login, make_user, make_wave, district):
    wave = make_wave("sq", allow_open_links=True)
    s1 = district.streets[0]
    create_batch(wave, s1, "elderly", 10)
    create_batch(wave, s1, "elderly", 5, is_open=True)
    db.session.flush()
    invitations = db.session.scalars(
        select(Invitation).where(Invitation.wave_id == wave.id, Invitation.is_open.is_(False))
    ).all()
    for inv in invitations[:6]:
        inv.started_at = inv.opened_at = inv.created_at  # 6 started
    records = [
        record(f"r{i}", s1.name, age, gender)
        for i, (age, gender) in enumerate(
            [("80+", "female"), ("80+", "female"), ("80+", "male"), ("70-79", "female")]
            + [("60-69", "undisclosed"), (None, None)]
        )
    ]
    extra = [{"invitation_id": invitations[i].id} for i in range(4)]  # 4 completed
    extra += [{"invitation_id": None}] * 2  # paper forms
    insert_records(wave, records, extra=extra)
    db.session.add(Quota(wave=wave, street_id=s1.id, group_code="elderly", target=20))
    rows = [["street", "group", "variable", "category", "count"]]
    for band, n in zip(
        ("18-34", "35-59", "60-69", "70-79", "80+"), (0, 0, 500, 300, 200), strict=True
    ):
        rows.append([s1.name, "elderly", "age_band", band, str(n)])
    rows += [[s1.name, "elderly", "gender", "female", "550"]]
    rows += [[s1.name, "elderly", "gender", "male", "450"]]
    store_population(district, parse_population_rows(rows))
    db.session.flush()

    rates = {(r.street, r.group): r for r in response_rates(wave)}
    r = rates[(s1.name, "elderly")]
    # AAPOR: RR1 = I / issued = 4 / 10; RR2 = (I + P) / issued = (4 + 2 started) / 10
    assert (r.issued, r.completed, r.started, r.other, r.open_link) == (10, 4, 6, 2, 0)
    assert r.rr1 == 0.4 and r.rr2 == 0.6
    assert r.quota == 20 and r.below_quota
    assert rates[(district.streets[1].name, "elderly")].rr1 is None  # no invitations

    comp = {(c.street, c.variable): c for c in sample_vs_population(wave)}
    age = comp[(s1.name, "age_band")]
    by_cat = {cat: (n, sample, pop) for cat, n, sample, pop in age.rows}
    # 5 respondents gave an age band: 80+ 3 of 5 = 0.6 vs population 0.2
    assert by_cat["80+"] == (3, 0.6, 0.2)
    assert by_cat["60-69"] == (1, 0.2, 0.5)
    assert age.warnings == ["60-69", "80+"] and age.undisclosed == 1
    gender = comp[(s1.name, "gender")]
    assert gender.undisclosed == 2  # one undisclosed, one empty

    login(make_user("viewer"))
    page = client.get("/admin/waves/sq/sample")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "40.0%" in text and "60.0%" in text and "不足配额" in text and "偏离" in text
    assert "无分母" in text
