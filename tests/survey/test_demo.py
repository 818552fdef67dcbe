"""`minping demo --no-serve`: the demo district, deterministic by seed."""

from sqlalchemy import func, select

from survey.extensions import db
from survey.models import District, Response, Street, User, Wave


def test_demo_twice_gives_identical_exports(scratch_app, tmp_path):
    runner = scratch_app.test_cli_runner()
    exports = []
    for n in range(2):
        result = runner.invoke(args=["demo", "--no-serve", "--seed", "7"])
        assert result.exit_code == 0, result.output
        assert "admin" in result.output and "/s/" in result.output
        assert "xw-admin" in result.output and "玄武区" in result.output
        out = tmp_path / f"export-{n}.csv"
        result = runner.invoke(args=["export-responses", "--wave", "demo-2026", "--out", str(out)])
        assert result.exit_code == 0, result.output
        exports.append(out.read_bytes())
    assert exports[0] == exports[1]
    with scratch_app.app_context():
        gulou = db.session.scalar(select(District).where(District.code == "gulou-demo"))
        streets = db.session.scalars(
            select(Street.name).where(Street.district_id == gulou.id).order_by(Street.position)
        ).all()
        assert len(streets) == 13 and streets[0] == "宁海路街道" and streets[-1] == "小市街道"
        states = dict(db.session.execute(select(Wave.code, Wave.state)).all())
        assert states == {
            "demo-2026": "published",
            "demo-open": "fieldwork",
            "xuanwu-2026": "scored",
        }
        # Two districts (docs/districts.md): bureau accounts scoped, agency and city not.
        xuanwu = db.session.scalar(select(District).where(District.code == "xuanwu-demo"))
        assert xuanwu.doc_prefix != gulou.doc_prefix and len(xuanwu.streets) == 4
        scope = dict(db.session.execute(select(User.username, User.district_id)).all())
        assert scope["admin"] == gulou.id and scope["xw-admin"] == xuanwu.id
        assert scope["agency"] is None and scope["city"] is None
        # every rectification state is on show, the returned item with the bureau's reason
        from survey.models import RectificationItem

        kinds = set(db.session.scalars(select(RectificationItem.state)))
        assert kinds == {"issued", "planned", "in_progress", "submitted", "accepted", "returned"}
        per_street = dict(
            db.session.execute(
                select(Street.name, func.count(Response.id))
                .join(Response, Response.street_id == Street.id)
                .join(Wave, Wave.id == Response.wave_id)
                .where(Wave.code == "demo-2026")
                .group_by(Street.name)
            ).all()
        )
        assert per_street["小市街道"] < 100
        # the wave in fieldwork has quotas and some answers, so its dashboard shows progress
        fieldwork = db.session.scalar(select(Wave).where(Wave.code == "demo-open"))
        assert len(fieldwork.quotas) == 13 * 3 and all(q.target > 0 for q in fieldwork.quotas)
        assert (
            db.session.scalar(
                select(func.count(Response.id)).where(Response.wave_id == fieldwork.id)
            )
            > 13 * 8 - 1
        )
        assert all(300 <= n <= 500 for name, n in per_street.items() if name != "小市街道")
        assert {u.role for u in db.session.scalars(select(User))} == {
            "admin",
            "agency",
            "interviewer",
            "street",
            "viewer",
        }
    text = exports[0].decode("utf-8-sig")
    assert ",DK," in text  # 不了解 answers present
    other = runner.invoke(args=["demo", "--no-serve", "--seed", "8"])
    assert other.exit_code == 0
    out = tmp_path / "export-8.csv"
    runner.invoke(args=["export-responses", "--wave", "demo-2026", "--out", str(out)])
    assert out.read_bytes() != exports[0]
