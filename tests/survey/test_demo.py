"""`minping demo --no-serve`: the demo district, deterministic by seed.

The full demo (scored, documents issued, published) is built once; the
determinism checks rebuild only the closed wave's answers (``full=False``),
which must match the full build's byte for byte.
"""

from sqlalchemy import func, select

from survey.extensions import db
from survey.models import District, Response, Street, User, Wave


def _export(app, path) -> bytes:  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(
        args=["export-responses", "--wave", "demo-2026", "--out", str(path)]
    )
    assert result.exit_code == 0, result.output
    return path.read_bytes()


def _answers_only(app, seed: int) -> None:  # type: ignore[no-untyped-def]
    from survey.services.demo import build_demo

    with app.app_context():
        summary = build_demo(seed=seed, full=False)
        assert summary.responses > 13 * 300 and not summary.accounts
        states = dict(db.session.execute(select(Wave.code, Wave.state)).all())
        assert states == {"demo-2026": "closed"}


def test_demo_is_deterministic_and_shows_every_screen(scratch_app, tmp_path):
    runner = scratch_app.test_cli_runner()
    result = runner.invoke(args=["demo", "--no-serve", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "admin" in result.output and "/s/" in result.output
    assert "xw-admin" in result.output and "玄武区" in result.output
    full = _export(scratch_app, tmp_path / "full-7.csv")
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
    text = full.decode("utf-8-sig")
    assert ",DK," in text  # 不了解 answers present
    # the same seed again (answers only): byte-identical export; another seed: different
    _answers_only(scratch_app, 7)
    assert _export(scratch_app, tmp_path / "again-7.csv") == full
    _answers_only(scratch_app, 8)
    assert _export(scratch_app, tmp_path / "other-8.csv") != full
