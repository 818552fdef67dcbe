"""Public site: published waves only, intervals and bands, suppression, verification."""

from __future__ import annotations

from survey.extensions import db

from . import rectification_support as S


def test_only_published_waves_are_public(app, client, make_wave, district):
    wave = S.score(S.simulated_wave(make_wave, "pub-0"))
    street = district.streets[0]
    assert client.get(f"/public/{wave.code}/").status_code == 404
    assert client.get(f"/public/{wave.code}/streets/{street.code}").status_code == 404
    items = S.accepted_items(wave, street, codes=("I07",))
    thumb = f"/public/evidence/{items[0].evidence[0].id}.jpg"
    assert client.get(thumb).status_code == 404  # accepted, but the wave is not published
    wave.state = "published"
    db.session.flush()
    assert client.get(thumb).status_code == 200
    listing = client.get("/public/").get_data(as_text=True)
    assert wave.name in listing
    board = client.get(f"/public/{wave.code}/").get_data(as_text=True)
    for s in district.streets:
        assert s.full_name in board
    # Never a bare rank: score, interval, rank interval and band together.
    assert board.count("可能范围") >= 3 and "名次范围" in board and "全区" in board
    by_id = client.get(f"/public/{wave.code}/streets/{street.id}")
    assert by_id.status_code == 200 and "车棚" in by_id.get_data(as_text=True)
    assert client.get(f"/public/{wave.code}/streets/NOPE").status_code == 404


def test_small_groups_are_suppressed(app, client, make_wave, district):
    wave = S.score(S.simulated_wave(make_wave, "pub-1"))
    wave.state = "published"
    db.session.flush()
    street = district.streets[0]
    app.config["MIN_PUBLIC_N"] = 10**6
    try:
        board = client.get(f"/public/{wave.code}/").get_data(as_text=True)
        page = client.get(f"/public/{wave.code}/streets/{street.code}").get_data(as_text=True)
    finally:
        app.config["MIN_PUBLIC_N"] = 10
    assert "得分不公布" in board and 'class="score"' not in board and "第1" not in board
    assert "得分不公布" in page and 'class="score"' not in page and "四个方面的得分" not in page
    normal = client.get(f"/public/{wave.code}/streets/{street.code}").get_data(as_text=True)
    assert "四个方面的得分" in normal and 'class="score"' in normal


def test_next_wave_shows_targeted_change(app, client, make_wave, make_user, district, login):
    first = S.score(S.simulated_wave(make_wave, "ver-1"))
    street = district.streets[0]
    S.accepted_items(first, street)
    first.state = "published"
    second = S.improved_copy(make_wave, first, "ver-2", street.name, ["I07", "I08"])
    S.score(second)
    db.session.flush()

    # Street portal, on the later wave: targeted indicators improved clearly.
    officer = login(make_user("street", street="宁海路", username="nhl-ver"))
    portal = officer.get(f"/street/?wave={second.code}").get_data(as_text=True)
    assert "整改成效检验" in portal and "明显提高" in portal and "其他指标的变化" in portal
    # The bureau sees which items improved significantly.
    from survey.services import publication

    result = publication.verification(first, [street])
    rows = result["streets"][street.id]
    assert {r["code"] for r in rows["targeted"]} == {"I07", "I08"}
    assert all(r["verdict"] == "improved" and r["ci_low"] > 0 for r in rows["targeted"])
    assert all(r["verdict"] == "unclear" for r in rows["untargeted"])
    summary = rows["summary"]
    assert summary.difference_ci[0] > 0 and abs(summary.untargeted_change) < 0.5

    bureau = S.OwnUserClient(app, app.response_class, use_cookies=True)
    admin = make_user("admin", username="bureau-ver")
    bureau.post("/auth/login", data={"username": admin.username, "password": S.PASSWORD})
    board = bureau.get(f"/admin/rectification/?wave={first.code}").get_data(as_text=True)
    assert "整改成效检验" in board and board.count("明显提高") >= 2

    # Public: only once the later wave is published too.
    page = client.get(f"/public/{first.code}/streets/{street.code}").get_data(as_text=True)
    assert "整改有没有效果" not in page
    second.state = "published"
    db.session.flush()
    page = client.get(f"/public/{first.code}/streets/{street.code}").get_data(as_text=True)
    assert "整改有没有效果" in page and "明显提高" in page
