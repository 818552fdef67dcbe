"""Bureau console: accounts, frameworks and AHP, waves, quality review, results, exports, audit."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from sqlalchemy import func, select

from survey.extensions import db
from survey.models import AuditLog, Framework, Response, User, Wave

from . import admin_support as support


def audit_count(action: str) -> int:
    return db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == action))


@pytest.fixture
def admin(client, make_user):  # type: ignore[no-untyped-def]
    user = make_user("admin", username="bureau-admin")
    support.sign_in(client, user)
    return user


def post(client, url, data=None, **kw):  # type: ignore[no-untyped-def]
    return support.call(client, "POST", url, data=data or {}, **kw)


def get(client, url):  # type: ignore[no-untyped-def]
    return support.call(client, "GET", url)


# -- accounts ---------------------------------------------------------------


def test_create_users_with_policy_and_street(client, admin, district):
    weak = post(
        client,
        "/admin/users",
        {"username": "clerk1", "role": "viewer", "street": "0", "password": "short"},
    )
    assert weak.status_code == 400
    assert "密码至少需要" in weak.get_data(as_text=True)
    no_street = post(
        client,
        "/admin/users",
        {"username": "clerk2", "role": "street", "street": "0", "password": "Good-Pass-2026"},
    )
    assert no_street.status_code == 400
    assert "必须选择所属街道" in no_street.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.username.in_(["clerk1", "clerk2"]))) is None
    ok = post(
        client,
        "/admin/users",
        {
            "username": "clerk3",
            "role": "street",
            "street": str(district.streets[1].id),
            "password": "Good-Pass-2026",
        },
    )
    assert ok.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "clerk3"))
    assert user.street_id == district.streets[1].id and user.check_password("Good-Pass-2026")
    assert audit_count("user.create") == 1


def test_deactivate_and_reset_password(client, admin, make_user):
    other = make_user("agency", username="agency-x")
    assert post(client, f"/admin/users/{other.id}/active").status_code == 302
    assert db.session.get(User, other.id).active is False
    assert post(client, f"/admin/users/{admin.id}/active").status_code == 303  # not yourself
    assert db.session.get(User, admin.id).active is True
    old_hash = other.password_hash
    weak = post(client, f"/admin/users/{other.id}/password", {"password": "alllowercase1"})
    assert weak.status_code == 400 and "至少三类" in weak.get_data(as_text=True)
    assert db.session.get(User, other.id).password_hash == old_hash
    assert (
        post(
            client, f"/admin/users/{other.id}/password", {"password": "New-Pass-2026!"}
        ).status_code
        == 302
    )
    assert db.session.get(User, other.id).check_password("New-Pass-2026!")
    assert audit_count("user.deactivate") == 1 and audit_count("user.reset_password") == 1


def test_api_token_is_shown_once_and_stored_as_sha256(client, make_user):
    user = make_user("agency", username="agency-token")
    support.sign_in(client, user)
    page = post(client, "/admin/account", {"action": "issue"})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    token = re.search(r'id="new-token">([^<]+)<', page.get_data(as_text=True)).group(1)
    stored = db.session.get(User, user.id).api_token_hash
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    assert token not in get(client, "/admin/account").get_data(as_text=True)
    api = support.call(client, "GET", "/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert api.get_json()["username"] == "agency-token"
    post(client, "/admin/account", {"action": "revoke"})
    assert db.session.get(User, user.id).api_token_hash is None


# -- frameworks and AHP -----------------------------------------------------


def _editor_data(client, fid):  # type: ignore[no-untyped-def]
    page = get(client, f"/admin/frameworks/{fid}").get_data(as_text=True)
    fields = dict(re.findall(r'name="((?:dim|grp|ind)_[^"]+|name)"[^>]*value="([^"]*)"', page))
    fields.update(dict(re.findall(r'id="((?:dim|grp|ind)_[^"]+)"[^>]*value="([^"]*)"', page)))
    return fields


def test_negative_or_unbalanced_weights_are_refused_and_change_nothing(client, admin, make_wave):
    wave = make_wave("w-fw", state="draft")
    fid = wave.framework_id
    before = db.session.get(Framework, fid).toml
    data = _editor_data(client, fid)
    assert data["dim_w_D1"] == "0.2" and "ind_q_I01" in data
    bad = post(client, f"/admin/frameworks/{fid}", {**data, "ind_w_I04": "-1"})
    assert bad.status_code == 400
    assert "指标 I04 · 权重：必须大于 0（现为 -1）" in bad.get_data(as_text=True)
    unbalanced = post(client, f"/admin/frameworks/{fid}", {**data, "dim_w_D1": "0.5"})
    assert unbalanced.status_code == 400
    # the scoring library's English problem, shown in the console's language
    text = unbalanced.get_data(as_text=True)
    assert "维度：权重合计为 1.3，必须正好等于 1。" in text and "must add up" not in text
    assert db.session.get(Framework, fid).toml == before
    assert db.session.scalar(select(func.count(Framework.id))) == 1
    assert audit_count("framework.weights") == 0


def test_editing_a_frozen_framework_makes_a_new_version(client, admin, make_wave):
    wave = make_wave("w-frozen", state="fieldwork")
    old = db.session.get(Framework, wave.framework_id)
    assert old.frozen
    old_toml = old.toml
    data = _editor_data(client, old.id)
    data.update({"dim_w_D1": "0.25", "dim_w_D2": "0.25", "ind_name_I07": "电动车停放与充电"})
    done = post(client, f"/admin/frameworks/{old.id}", data)
    assert done.status_code == 302
    new = db.session.scalar(select(Framework).where(Framework.id != old.id))
    assert new.version == old.version + 1 and "电动车停放与充电" in new.toml
    assert db.session.get(Framework, old.id).toml == old_toml
    assert db.session.get(Wave, wave.id).framework_id == old.id
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "framework.weights"))
    assert entry.before["dimensions"]["D1"] == 0.2 and entry.after["dimensions"]["D1"] == 0.25


def test_draft_wave_moves_to_the_edited_version(client, admin, make_wave):
    wave = make_wave("w-draft", state="draft")
    data = _editor_data(client, wave.framework_id)
    assert (
        post(
            client,
            f"/admin/frameworks/{wave.framework_id}",
            {**data, "ind_q_I01": "您对社区党组织满意吗？"},
        ).status_code
        == 302
    )
    assert "您对社区党组织满意吗" in db.session.get(Wave, wave.id).framework.toml


def _ahp_form(values):  # type: ignore[no-untyped-def]
    keys = ["a_0_1", "a_0_2", "a_0_3", "a_1_2", "a_1_3", "a_2_3"]
    return dict(zip(keys, values, strict=True))


def test_ahp_compute_apply_and_refusals(client, admin, make_wave):
    wave = make_wave("w-ahp", state="draft")
    fid = wave.framework_id
    # D1 : D2 : D3 : D4 = 2 : 3 : 3 : 2 exactly (consistent): CR = 0
    consistent = _ahp_form(["2/3", "2/3", "1", "1", "3/2", "3/2"])
    page = post(client, f"/admin/frameworks/{fid}/ahp", {**consistent, "do": "compute"})
    text = page.get_data(as_text=True)
    assert (
        page.status_code == 200
        and "0.3000" in text
        and "CR = 0.0000" in text
        and "3/2</td>" in text
    )
    for bad, reason in (
        (["0", "1", "1", "1", "1", "1"], "不是正数"),
        (["-3", "1", "1", "1", "1", "1"], "不是正数"),
        (["12", "1", "1", "1", "1", "1"], "1/9 到 9"),
        (["abc", "1", "1", "1", "1", "1"], "不是数字"),
    ):
        refused = post(client, f"/admin/frameworks/{fid}/ahp", {**_ahp_form(bad), "do": "apply"})
        assert refused.status_code == 400 and reason in refused.get_data(as_text=True)
    # D1 >> D2, D2 >> D3, but D3 >> D1: inconsistent
    circular = _ahp_form(["9", "1/9", "1", "9", "1", "1"])
    refused = post(client, f"/admin/frameworks/{fid}/ahp", {**circular, "do": "apply"})
    text = refused.get_data(as_text=True)
    assert (
        refused.status_code == 400 and "inconsistent" in text and "most inconsistent pair" in text
    )
    assert db.session.scalar(select(func.count(Framework.id))) == 1
    same = post(client, f"/admin/frameworks/{fid}/ahp", {**consistent, "do": "apply"})
    # the weights do not change, but the framework now keeps the matrix (rank sensitivity)
    assert same.status_code == 302 and audit_count("framework.weights") == 1
    from survey.services.frameworks import spec_of

    kept = spec_of(db.session.get(Wave, wave.id).framework)
    assert kept.ahp is not None and kept.ahp[0][1] == pytest.approx(2 / 3)
    assert [d.weight for d in kept.dimensions] == [0.2, 0.3, 0.3, 0.2]
    fid = db.session.get(Wave, wave.id).framework_id  # the draft wave moved to that version
    # 4 : 3 : 2 : 1, consistent
    ranked = _ahp_form(["4/3", "2", "4", "3/2", "3", "2"])
    applied = post(client, f"/admin/frameworks/{fid}/ahp", {**ranked, "do": "apply"})
    assert applied.status_code == 302
    assert spec_of(db.session.get(Wave, wave.id).framework).ahp[0][3] == 4.0
    entry = db.session.scalar(
        select(AuditLog)
        .where(AuditLog.action == "framework.weights")
        .order_by(AuditLog.id.desc())
        .limit(1)
    )
    assert entry.after["method"] == "ahp" and entry.after["cr"] == 0
    assert entry.before["dimensions"] == {"D1": 0.2, "D2": 0.3, "D3": 0.3, "D4": 0.2}
    assert entry.after["dimensions"] == {"D1": 0.4, "D2": 0.3, "D3": 0.2, "D4": 0.1}


def test_ahp_service_refuses_non_reciprocal_and_non_positive_matrices(make_wave):
    from survey.services.framework_edit import apply_ahp

    wave = make_wave("w-ahp2", state="draft")
    row = wave.framework
    before = row.toml
    ones = [[1.0] * 4 for _ in range(4)]
    not_reciprocal = [r[:] for r in ones]
    not_reciprocal[0][1] = 3.0  # and a_10 stays 1
    with pytest.raises(ValueError, match="not reciprocal"):
        apply_ahp(row, not_reciprocal)
    negative = [r[:] for r in ones]
    negative[0][1], negative[1][0] = -2.0, -0.5
    with pytest.raises(ValueError, match="positive"):
        apply_ahp(row, negative)
    assert row.toml == before and audit_count("framework.weights") == 0


def test_toml_import_lists_problems_and_export_round_trips(client, admin, make_wave):
    wave = make_wave("w-toml", state="draft")
    toml = get(client, f"/admin/frameworks/{wave.framework_id}/export").data
    broken = toml.replace(b"weight = 0.2", b"weight = -0.2", 1).replace(
        b"version = 1", b"version = 7"
    )
    page = post(
        client,
        "/admin/frameworks/import",
        {"file": (io.BytesIO(broken), "bad.toml")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 400
    # the problem names the dimension by its code (D1), not its position
    assert "维度 D1 · 权重：必须大于 0（现为 -0.2）。" in page.get_data(as_text=True)
    good = toml.replace(b"version = 1", b"version = 2")
    ok = post(
        client,
        "/admin/frameworks/import",
        {"file": (io.BytesIO(good), "good.toml")},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    assert db.session.scalar(select(func.count(Framework.id))) == 2


# -- waves --------------------------------------------------------------------


def test_wave_lifecycle_out_of_order_is_refused_with_409(client, admin, make_wave):
    wave = make_wave("w-life", state="draft")
    refused = post(client, f"/admin/waves/{wave.code}/transition/close")
    assert refused.status_code == 409
    assert "不能结束收集" in refused.get_data(as_text=True)
    assert db.session.get(Wave, wave.id).state == "draft" and audit_count("wave.close") == 0
    score_early = post(
        client, f"/admin/waves/{wave.code}/score", {"boot": 100, "seed": 1, "min_n": 30}
    )
    assert score_early.status_code == 409 and "不能计分" in score_early.get_data(as_text=True)
    assert post(client, f"/admin/waves/{wave.code}/transition/open").status_code == 302
    assert db.session.get(Wave, wave.id).state == "fieldwork"
    assert post(client, f"/admin/waves/{wave.code}/transition/publish").status_code == 409
    assert post(client, f"/admin/waves/{wave.code}/transition/issue").status_code == 404


def test_create_wave_and_quotas(client, admin, make_wave, district):
    fw = make_wave("w-base", state="draft").framework_id
    data = {
        "code": "w-new",
        "name": "2027年度",
        "framework": str(fw),
        "min_n": "25",
        "allow_open_links": "y",
    }
    assert post(client, "/admin/waves/new", data).status_code == 302
    assert post(client, "/admin/waves/new", data).status_code == 400  # taken code
    wave = db.session.scalar(select(Wave).where(Wave.code == "w-new"))
    assert wave.min_n == 25 and wave.allow_open_links and wave.state == "draft"
    s = district.streets[0]
    bad = post(client, "/admin/waves/w-new/quotas", {f"q_{s.id}_elderly": "-5"})
    assert bad.status_code == 400 and not wave.quotas
    assert (
        post(client, "/admin/waves/w-new/quotas", {f"q_{s.id}_elderly": "120"}).status_code == 302
    )
    assert [
        (q.street_id, q.group_code, q.target) for q in db.session.get(Wave, wave.id).quotas
    ] == [(s.id, "elderly", 120)]
    assert audit_count("wave.quotas") == 1


# -- quality review -----------------------------------------------------------


def test_review_needs_a_reason_and_is_audited(client, admin, make_wave):
    wave = support.filled_wave(make_wave, code="w-review", per_street=30)
    page = get(client, f"/admin/waves/{wave.code}/quality").get_data(as_text=True)
    assert "answered 17 items in 20 s" in page
    flagged = db.session.scalar(
        select(Response).where(Response.wave_id == wave.id, Response.excluded.is_(True))
    )
    url = f"/admin/waves/{wave.code}/responses/{flagged.id}/exclusion"
    assert post(client, url, {"action": "restore", "reason": ""}).status_code == 400
    assert db.session.get(Response, flagged.id).excluded is True
    assert (
        post(client, url, {"action": "restore", "reason": "电话回访确认为本人认真作答"}).status_code
        == 302
    )
    row = db.session.get(Response, flagged.id)
    assert row.excluded is False and row.exclusion_reason.startswith("复核：保留：")
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "response.restore"))
    assert entry.before["excluded"] is True and entry.after["excluded"] is False
    # A reviewed response keeps its decision whatever the scoring policy says.
    from survey.services.console import apply_exclusion_policy

    apply_exclusion_policy(wave, exclude_flagged=True, include_open_channel=True)
    assert db.session.get(Response, flagged.id).excluded is False


def test_review_is_locked_once_notices_are_issued(client, admin, make_wave):
    wave = support.scored_wave(make_wave, code="w-locked", per_street=30)
    wave.state = "notices_issued"
    db.session.flush()
    row = db.session.scalar(
        select(Response).where(Response.wave_id == wave.id, Response.excluded.is_(False))
    )
    refused = post(
        client,
        f"/admin/waves/{wave.code}/responses/{row.id}/exclusion",
        {"action": "exclude", "reason": "重复"},
    )
    assert refused.status_code == 409 and db.session.get(Response, row.id).excluded is False


def test_quality_checks_flag_straight_liners(client, admin, make_wave):
    wave = support.filled_wave(make_wave, code="w-check", per_street=30)
    row = db.session.scalar(
        select(Response).where(Response.wave_id == wave.id, Response.excluded.is_(False))
    )
    for answer in row.answers:
        answer.point = 4
    row.duration_s = 400
    db.session.flush()
    assert post(client, f"/admin/waves/{wave.code}/quality/check").status_code == 302
    row = db.session.get(Response, row.id)
    # uniform answers alone are flagged for review, never excluded by default
    assert "the same answer (4)" in row.quality_flags and not row.excluded
    assert audit_count("responses.quality_checks") == 1


# -- results and exports ----------------------------------------------------


def test_results_ranking_sorts_without_js_and_street_page(client, admin, make_wave, district):
    wave = support.scored_wave(make_wave, code="w-res", per_street=40)
    page = get(client, f"/admin/waves/{wave.code}/results?sort=street&order=desc").get_data(
        as_text=True
    )
    names = [s.name for s in district.streets]
    order = sorted(names, reverse=True)
    assert [page.index(f">{n}</a>") for n in order] == sorted(
        page.index(f">{n}</a>") for n in order
    )
    assert "sort=score" in page and "/caterpillar.svg" in page and "/heatmap.svg" in page
    street = district.streets[0]
    page = get(client, f"/admin/waves/{wave.code}/streets/{street.id}?indicator=I07").get_data(
        as_text=True
    )
    assert "电动车充电难" in page
    assert (
        get(client, f"/admin/waves/{wave.code}/streets/{street.id}?indicator=I01")
        .get_data(as_text=True)
        .count("电动车充电难")
        == 0
    )
    run_id = re.search(
        r"/admin/runs/(\d+)/caterpillar.svg",
        get(client, f"/admin/waves/{wave.code}/results").get_data(as_text=True),
    ).group(1)
    svg = get(client, f"/admin/runs/{run_id}/caterpillar.svg")
    assert svg.mimetype == "image/svg+xml" and "宁海路".encode() in svg.data
    for name in ("heatmap",):
        assert get(client, f"/admin/runs/{run_id}/{name}.svg").status_code == 200
    for name in ("radar", "indicators"):
        assert (
            get(client, f"/admin/runs/{run_id}/streets/{street.id}/{name}.svg").status_code == 200
        )


def test_wave_over_wave_change_on_the_same_framework(client, admin, make_wave, district):
    support.scored_wave(make_wave, code="w-2025", per_street=40, seed=3)
    later = support.scored_wave(make_wave, code="w-2026", per_street=40, seed=4)
    page = get(client, f"/admin/waves/{later.code}/streets/{district.streets[0].id}").get_data(
        as_text=True
    )
    assert "与上一轮" in page and "测试批次 w-2025" in page and "变化的 95% CI" in page


def test_exports_scores_and_responses(client, admin, make_wave):
    import openpyxl
    import pyreadstat

    wave = support.scored_wave(make_wave, code="w-exp", per_street=30)
    csv_text = get(client, f"/admin/waves/{wave.code}/export/scores.csv").data.decode("utf-8-sig")
    header = csv_text.splitlines()[0].split(",")
    assert header[:9] == [
        "street",
        "n",
        "score",
        "ci_low",
        "ci_high",
        "rank",
        "rank_low",
        "rank_high",
        "band",
    ]
    assert (
        header[9:] == ["D1_score", "D2_score", "D3_score", "D4_score"]
        and len(csv_text.splitlines()) == 4
    )
    book = openpyxl.load_workbook(
        io.BytesIO(get(client, f"/admin/waves/{wave.code}/export/scores.xlsx").data)
    )
    assert book.active.max_row == 4 and isinstance(book.active["C2"].value, float)
    sav = get(client, f"/admin/waves/{wave.code}/export/responses.sav").data
    path = f"/tmp/minping-test-{wave.id}.sav"
    with open(path, "wb") as fh:
        fh.write(sav)
    frame, meta = pyreadstat.read_sav(path, output_format="polars")
    assert frame.height == 90
    assert meta.variable_value_labels["I01"][5.0] == "非常满意"
    assert meta.variable_value_labels["I01"][99.0] == "不了解"
    assert meta.column_names_to_labels["I07"].startswith("电动车停放充电")
    xlsx = get(client, f"/admin/waves/{wave.code}/export/responses.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_spreadsheet_cells_are_formula_safe():
    from survey.services.exports import safe_cell, table_csv

    assert safe_cell('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert (
        safe_cell("+1") == "'+1"
        and safe_cell("@SUM(A1)") == "'@SUM(A1)"
        and safe_cell("-2") == "'-2"
    )
    assert safe_cell(-2.5) == -2.5 and safe_cell("宁海路") == "宁海路"
    assert "'=1+1" in table_csv(["street"], [["=1+1"]]).decode("utf-8-sig")


def test_audit_log_filters(client, admin, make_wave):
    make_wave("w-audit", state="fieldwork")
    page = get(client, "/admin/audit?action=wave.open").get_data(as_text=True)
    # plain words: the action, the wave by name, the states, Beijing time; no raw codes or JSON
    assert "<td>开始调查</td>" in page and "测试批次 w-audit" in page
    assert "状态：草稿 → 调查中" in page and "北京时间" in page
    assert "<td>新建测评批次</td>" not in page and "fieldwork" not in page and "{" not in page
    assert "<td>新建测评批次</td>" in get(client, "/admin/audit?object_type=Wave").get_data(
        as_text=True
    )


def test_csrf_is_enforced_on_console_forms(app, client, admin, make_wave):
    wave = make_wave("w-csrf", state="draft")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = post(client, f"/admin/waves/{wave.code}/transition/open")
        assert refused.status_code == 400 and db.session.get(Wave, wave.id).state == "draft"
        page = get(client, f"/admin/waves/{wave.code}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        done = post(client, f"/admin/waves/{wave.code}/transition/open", {"csrf_token": token})
        assert done.status_code == 302 and db.session.get(Wave, wave.id).state == "fieldwork"
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
