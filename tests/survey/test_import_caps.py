"""Response imports are capped: rows per file, problems listed (first 200 and a count)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from survey.extensions import db
from survey.models import Response

HEADER = "response_id,street,group,submitted_at,channel,weight," + ",".join(
    f"I{k:02d}" for k in range(1, 18)
)


@pytest.fixture
def agency(make_user, login):  # type: ignore[no-untyped-def]
    return login(make_user("agency"))


def _post(client, wave, body: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/agency/waves/{wave.code}/import",
        data={"file": (io.BytesIO(body.encode()), "many.csv")},
        content_type="multipart/form-data",
    )


def test_import_page_lists_200_problems_and_counts_the_rest(agency, make_wave):
    wave = make_wave()
    rows = "".join(
        f"b{i},无此街道,elderly,,paper,," + ",".join(["9"] + ["4"] * 16) + ",,4,\n"
        for i in range(1000)
    )
    response = _post(agency, wave, HEADER + ",concerns,overall,comment\n" + rows)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "文件有 2000 处问题" in page
    assert page.count("<li>line ") == 200
    assert "另有 1800 处未列出" in page
    assert "line 101, column 7" in page and "line 102, column 2" not in page
    assert len(page) < 100_000
    assert db.session.scalar(select(func.count(Response.id))) == 0


def test_import_row_cap_is_a_setting(agency, make_wave, app):
    wave = make_wave()
    row = "r{},宁海路,elderly,,paper,," + ",".join(["4"] * 17) + ",,4,\n"
    body = HEADER + ",concerns,overall,comment\n" + "".join(row.format(i) for i in range(30))
    app.config["IMPORT_MAX_ROWS"] = 20
    try:
        response = _post(agency, wave, body)
    finally:
        app.config["IMPORT_MAX_ROWS"] = 200_000
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "line 22: the file has more than 20 rows of responses" in page
    assert db.session.scalar(select(func.count(Response.id))) == 0


def test_cli_import_prints_200_problems_and_a_count(runner, make_wave, tmp_path):
    wave = make_wave()
    rows = "".join(
        f"b{i},宁海路,nobody,,paper,," + ",".join(["4"] * 17) + ",,4,\n" for i in range(250)
    )
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + ",concerns,overall,comment\n" + rows, encoding="utf-8")
    result = runner.invoke(args=["import-responses", "--wave", wave.code, str(path)])
    assert result.exit_code == 1
    assert "rejected, nothing imported" in result.output
    assert result.output.count("(group): unknown group 'nobody'") == 200
    assert "... and 50 more" in result.output
