"""Issuing notices of a scored wave: stored PDFs read back, deadlines, doc numbers."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
from dataclasses import replace

import pdfplumber
import pytest
from sqlalchemy import select

from reports.calendar import CalendarError
from scoring.dataset import to_records
from scoring.simulate import simulate
from survey.extensions import db
from survey.models import Notice, RectificationItem
from survey.services.notices import correct_notice, issue_notices
from survey.services.official_days import official_calendar, parse_days, set_year
from survey.services.responses import insert_records
from survey.services.scoring_runs import score_wave
from survey.services.waves import WaveStateError, transition


def fill(wave, spec, n=60, seed=3):
    """Insert simulated responses for every street of the wave's district."""
    streets = [s.name for s in wave.district.streets]
    sim = simulate(spec, streets, n, seed)
    start = dt.datetime(2026, 3, 5, 9, 0)
    records = [
        replace(rec, overall=4, channel="paper")
        for rec in to_records(sim.data, start=start, spacing_s=0)
    ]
    notes = [
        {"I07": "楼道里电动车充电<script>alert(1)</script>"} if r % 5 == 0 else {}
        for r in range(len(records))
    ]
    insert_records(wave, records, answer_comments=notes)


@pytest.fixture
def scored(make_wave, framework_spec):
    wave = make_wave("nw", name="2026年度居民满意度测评")
    fill(wave, framework_spec)
    transition(wave, "close")
    score_wave(wave, boot=100, seed=1, min_n=10)
    return wave


def pdf_text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert all(abs(p.width - 595.3) < 1 and abs(p.height - 841.9) < 1 for p in pdf.pages)
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def set_verdicts(wave, priorities):
    """Rewrite the current run's priorities per street (``None``: mark it 数据不全)."""
    import json

    from survey.services.scoring_runs import current_run

    run = current_run(wave)
    doc = json.loads(run.result_json)
    for row in doc["streets"]:
        codes = priorities.get(row["street"], [])
        if codes is None:
            row.update(complete=False, incomplete_reason="缺少驻区单位受访群体", priorities=[])
            row.update(rank=None, rank_low=None, rank_high=None, band=None)
        else:
            row["priorities"] = codes
    run.result_json = json.dumps(doc, ensure_ascii=False)
    db.session.flush()


def test_issue_notices_stores_readable_pdfs(scored, tmp_path):
    first_street = scored.district.streets[0].name
    set_verdicts(scored, {first_street: ["I07", "I08"]})
    notices = issue_notices(scored, issue_date=dt.date(2026, 3, 31), days=30)
    assert scored.state == "notices_issued"
    kinds = [n.kind for n in notices]
    assert kinds == ["notice", "letter", "letter", "ranking"]
    assert [n.doc_number for n in notices] == [f"测民整〔2026〕{k}号" for k in (1, 2, 3, 4)]
    first = notices[0]
    # 30 working days after 2026-03-31, counted by hand on the 2026 official calendar:
    # April has 21 working days after the 31st (Apr 6 清明 off); May 1-5 劳动节 off,
    # May 9 (Sat) is a make-up working day; the 30th working day is Friday 2026-05-15.
    assert first.deadline == dt.date(2026, 5, 15) and not first.deadline_provisional
    text = pdf_text(first.pdf)
    assert first.street.name in text and "测民整〔2026〕1号" in text.replace(" ", "")
    assert "2026年5月15日" in text and "2026年3月31日" in text
    import json

    run_scores = json.loads(scored_run_json(scored))
    row = next(s for s in run_scores["streets"] if s["street"] == first.street.name)
    assert f"{row['score']:.1f}" in text
    items = db.session.scalars(
        select(RectificationItem).where(RectificationItem.notice_id == first.id)
    ).all()
    assert [i.indicator_code for i in items] == row["priorities"][: len(items)]
    assert all(i.deadline == dt.date(2026, 5, 15) and i.state == "issued" for i in items)
    path = tmp_path / "n.pdf"
    path.write_bytes(first.pdf)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    rows = fonts.stdout.splitlines()[2:]
    assert rows and all(line.split()[-5] == "yes" for line in rows), fonts.stdout


def scored_run_json(wave) -> str:
    from survey.services.scoring_runs import current_run

    return current_run(wave).result_json


def test_issuing_twice_is_refused(scored):
    issue_notices(scored, issue_date=dt.date(2026, 3, 31))
    with pytest.raises(WaveStateError, match="不能下发通知书"):
        issue_notices(scored, issue_date=dt.date(2026, 3, 31))


def test_deadline_into_unknown_year_is_provisional_until_entered(scored):
    set_verdicts(scored, {scored.district.streets[0].name: ["I07"]})
    last = max(official_calendar().known_years)
    day = dt.date(last, 12, 15)
    notices = issue_notices(scored, issue_date=day, days=30)
    assert notices[0].deadline_provisional
    assert "暂定" in pdf_text(notices[0].pdf)


def test_admin_year_changes_the_deadline(app):
    base = official_calendar()
    year = max(base.known_years) + 1
    from reports.calendar import add_working_days

    before = add_working_days(dt.date(year, 1, 1), 5, base)
    assert before.provisional
    table = set_year(
        year,
        parse_days(f"{year}-01-01..{year}-01-03, {year}-01-05"),
        parse_days(f"{year}-01-10" if dt.date(year, 1, 10).weekday() >= 5 else ""),
    )
    after = add_working_days(dt.date(year, 1, 1), 5, table)
    assert not after.provisional and after.date != before.date
    assert official_calendar().years[year].holidays == table.years[year].holidays


def test_admin_year_validation_lists_problems(app):
    year = max(official_calendar().known_years) + 1
    weekday = next(dt.date(year, 3, d) for d in range(1, 8) if dt.date(year, 3, d).weekday() == 2)
    with pytest.raises(CalendarError) as info:
        set_year(year, [f"{year - 1}-12-31", weekday.isoformat()], [weekday.isoformat()])
    text = " ".join(info.value.problems)
    assert "is not in" in text and "both as a holiday" in text and "Saturday or Sunday" in text


def test_correction_is_a_new_notice(scored):
    notices = issue_notices(scored, issue_date=dt.date(2026, 3, 31))
    old = notices[0]
    new = correct_notice(old, issue_date=dt.date(2026, 4, 2))
    assert new.replaces_id == old.id and new.doc_number != old.doc_number
    assert db.session.get(Notice, old.id).sha256 == old.sha256


def test_notices_cli_writes_street_named_files(runner, scored, tmp_path):
    set_verdicts(scored, {scored.district.streets[0].name: ["I07"]})
    db.session.commit()
    result = runner.invoke(
        args=["notices", "--wave", "nw", "--out", str(tmp_path), "--issue-date", "2026-03-31"]
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.glob("*.pdf"))
    assert "宁海路街道.pdf" in names and any("通报" in n for n in names)
    assert "1 notices with a deadline, 2 results letters without, 1 ranking report" in (
        result.output
    )
    bad = runner.invoke(
        args=["notices", "--wave", "nw", "--out", str(tmp_path), "--issue-date", "31/03/2026"]
    )
    assert bad.exit_code == 1 and "is not a date" in bad.output
