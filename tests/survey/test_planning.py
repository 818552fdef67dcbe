"""Sample-size planner: CLI, console page, plan → quotas."""

from __future__ import annotations

from sqlalchemy import select

from survey.extensions import db
from survey.models import AuditLog, Quota


def test_cli_plan_defaults_and_quotas(runner, make_wave, district):
    wave = make_wave("pl", state="draft")
    res = runner.invoke(args=["plan", "--half-width", "2", "--quotas-for", "pl"])
    assert res.exit_code == 0, res.output
    assert "inputs: defaults" in res.output
    # defaults: σ 20, deff 1.2, shares 0.4/0.4/0.2 → n = (1.96/2)² (20 √1.2)² = 461.0,
    # split 0.4/0.4/0.2 (equal σ and deff): 184.4, 184.4, 92.2 → 185, 185, 93 (rounded up)
    assert "elderly\t185 respondents" in res.output and "unit\t93 respondents" in res.output
    quotas = db.session.scalars(select(Quota).where(Quota.wave_id == wave.id)).all()
    assert len(quotas) == 3 * 3 and {q.target for q in quotas} == {185, 93}
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "wave.quotas"))
    change = runner.invoke(args=["plan", "--half-width", "2", "--target", "change"])
    assert "elderly\t369 respondents" in change.output  # twice the variance: 2 x 184.4
    bad = runner.invoke(args=["plan", "--half-width", "0"])
    assert bad.exit_code == 1 and "positive number" in bad.output


def test_console_planner_and_one_click_quotas(client, login, make_user, make_wave, district):
    wave = make_wave("pl2", state="draft")
    login(make_user("agency"))
    page = client.get("/admin/planning?half_width=3&target=overall")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "每个街道" in text and "一键设为配额" in text
    res = client.post(
        "/admin/planning/apply", data={"half_width": "3", "target": "overall", "wave": "pl2"}
    )
    assert res.status_code == 302
    targets = {q.target for q in db.session.scalars(select(Quota).where(Quota.wave_id == wave.id))}
    assert targets == {82, 41}  # (1.96/3)² x 480 = 204.9: 81.96, 81.96, 40.98 rounded up
    assert client.get("/admin/planning?half_width=abc").status_code == 200
