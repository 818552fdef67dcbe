"""Population margins in the database: CLI import/export, versions, nothing written on error."""

from __future__ import annotations

import io
import json

from sqlalchemy import func, select

from scoring.population import AGE_BANDS, read_population
from survey.extensions import db
from survey.models import AuditLog, PopulationMargin, PopulationVersion

HEADER = "street,group,variable,category,count\n"


def margins_csv(streets=("宁海路", "S2", "湖南路街道"), groups=("elderly", "adult")) -> str:
    text = HEADER
    for n, street in enumerate(streets):
        for group in groups:
            ages = [0, 0, 600, 300, 100] if group == "elderly" else [400, 600, 0, 0, 0]
            ages = [a + 10 * n for a in ages]
            total = sum(ages)
            for band, count in zip(AGE_BANDS, ages, strict=True):
                text += f"{street},{group},age_band,{band},{count}\n"
            text += f"{street},{group},gender,female,{total // 2 + 7}\n"
            text += f"{street},{group},gender,male,{total - total // 2 - 7}\n"
    return text


def test_cli_import_versions_and_export_round_trip(runner, district, framework_spec, tmp_path):
    from survey.services.frameworks import save_framework

    save_framework(framework_spec)  # the known groups come from the frameworks
    path = tmp_path / "pop.csv"
    path.write_text(margins_csv(), encoding="utf-8-sig")
    out = runner.invoke(args=["population", "import", "--district", "test-district", str(path)])
    assert out.exit_code == 0, out.output
    assert "as population version 1 of test-district" in out.output
    v1 = db.session.scalar(select(PopulationVersion))
    assert v1.version == 1 and v1.filename == "pop.csv" and len(v1.margins) == 3 * 2 * 7
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "population.store"))

    again = runner.invoke(args=["population", "import", "--district", "test-district", str(path)])
    assert "unchanged: the counts equal population version 1" in again.output

    path.write_text(margins_csv(groups=("elderly",)), encoding="utf-8")
    runner.invoke(args=["population", "import", "--district", "test-district", str(path)])
    listed = runner.invoke(args=["population", "list", "--district", "test-district"])
    assert listed.output.splitlines()[0].startswith("v2\t") and "v1\t" in listed.output

    for suffix in ("csv", "xlsx"):
        target = tmp_path / f"out.{suffix}"
        res = runner.invoke(
            args=[
                "population",
                "export",
                "--district",
                "test-district",
                "--version",
                "1",
                "--out",
                str(target),
            ]  # fmt: skip
        )
        assert res.exit_code == 0, res.output
        exported = read_population(target)
        expected = read_population(
            margins_csv(streets=("宁海路", "华侨路", "湖南路")).encode()
        )  # codes and 街道 names come back as the street's name
        assert exported.rows == expected.rows


def test_cli_rejects_a_bad_file_whole(runner, district, framework_spec, tmp_path):
    from survey.services.frameworks import save_framework

    save_framework(framework_spec)
    path = tmp_path / "bad.csv"
    path.write_text(
        margins_csv() + "外星路,elderly,gender,female,3\n宁海路,ghost,gender,male,-2\n",
        encoding="utf-8",
    )
    out = runner.invoke(args=["population", "import", "--district", "test-district", str(path)])
    assert out.exit_code == 1
    assert "rejected, nothing imported" in out.output
    assert "line 44, column 1 (street): unknown street '外星路'" in out.output
    assert "line 45, column 2 (group): unknown group 'ghost'" in out.output
    assert "line 45, column 5 (count): count '-2' must be a number ≥ 0" in out.output
    assert db.session.scalar(select(func.count(PopulationMargin.id))) == 0
    assert db.session.scalar(select(func.count(PopulationVersion.id))) == 0

    bad = runner.invoke(args=["population", "import", "--district", "nope", str(path)])
    assert bad.exit_code == 1 and "unknown district 'nope'" in bad.output
    none = runner.invoke(
        args=["population", "export", "--district", "test-district", "--out", "x.csv"]
    )
    assert none.exit_code == 1 and "has no population margins yet" in none.output


def test_console_import_edit_and_download(client, login, make_user, district, framework_spec):
    from survey.services.frameworks import save_framework

    save_framework(framework_spec)
    login(make_user("admin"))
    page = client.get("/admin/population")
    assert page.status_code == 200 and "还没有人口数" in page.get_data(as_text=True)

    bad = margins_csv() + "宁海路,adult,gender,male,x\n"
    res = client.post(
        "/admin/population/import",
        data={"file": (io.BytesIO(bad.encode()), "pop.csv")},
        content_type="multipart/form-data",
    )
    text = res.get_data(as_text=True)
    assert res.status_code == 400
    assert "文件有 1 处问题" in text and "line 44, column 5 (count): count &#39;x&#39;" in text
    assert db.session.scalar(select(func.count(PopulationVersion.id))) == 0

    res = client.post(
        "/admin/population/import",
        data={"file": (io.BytesIO(margins_csv().encode()), "pop.csv"), "note": "2025年人口统计"},
        content_type="multipart/form-data",
    )
    assert res.status_code == 302
    page = client.get("/admin/population").get_data(as_text=True)
    assert "当前版本：第 1 版" in page and "2025年人口统计" in page and "1,000" in page

    form = client.get("/admin/population/edit").get_data(as_text=True)
    s1 = district.streets[0]
    key = f"m-{s1.id}-elderly-age_band-80+"
    assert f'name="{key}" value="100"' in form
    values = {}
    for m in db.session.scalar(select(PopulationVersion)).margins:
        values[f"m-{m.street_id}-{m.group_code}-{m.variable}-{m.category}"] = str(int(m.count))
    values[key] = "150"  # age total now differs from the gender total
    res = client.post("/admin/population/edit", data=values)
    text = res.get_data(as_text=True)
    assert res.status_code == 400 and "没有保存" in text
    assert (
        "宁海路 / elderly / gender female: 宁海路 / elderly: the age_band counts add up to 1050"
        in (text)
    )
    values[f"m-{s1.id}-elderly-gender-female"] = str(
        int(values[f"m-{s1.id}-elderly-gender-female"]) + 50
    )
    assert client.post("/admin/population/edit", data=values).status_code == 302
    v2 = db.session.scalar(select(PopulationVersion).where(PopulationVersion.version == 2))
    assert v2.source == "form"
    csv_res = client.get("/admin/population/v2.csv")
    assert csv_res.status_code == 200 and "宁海路,elderly,age_band,80+,150" in csv_res.get_data(
        as_text=True
    )
    assert client.get("/admin/population/v2.xlsx").data[:2] == b"PK"
    assert client.get("/admin/population/v9.csv").status_code == 404

    # the grid's 合计人数 column gives the resident units' counts
    assert f'name="m-{s1.id}-unit-total-all"' in client.get("/admin/population/edit").get_data(
        as_text=True
    )
    values[f"m-{s1.id}-unit-total-all"] = "-3"
    res = client.post("/admin/population/edit", data=values)
    assert res.status_code == 400
    assert "宁海路 / unit / total all: count &#39;-3&#39; must be a number ≥ 0" in res.get_data(
        as_text=True
    )
    values[f"m-{s1.id}-unit-total-all"] = "42"
    assert client.post("/admin/population/edit", data=values).status_code == 302
    page = client.get("/admin/population").get_data(as_text=True)
    assert "当前版本：第 3 版" in page and ">42</td>" in page
    csv_text = client.get("/admin/population/v3.csv").get_data(as_text=True)
    assert "宁海路,unit,total,all,42" in csv_text


def test_viewer_reads_but_cannot_import(client, login, make_user, district):
    login(make_user("viewer"))
    assert client.get("/admin/population").status_code == 200
    res = client.post(
        "/admin/population/import",
        data={"file": (io.BytesIO(b"x"), "pop.csv")},
        content_type="multipart/form-data",
    )
    assert res.status_code == 403


def test_responses_demographics_import_and_export(runner, make_wave, framework_spec, tmp_path):
    from scoring.exchange import columns, read_responses

    make_wave("demo-cols")
    header = columns(framework_spec)
    answers = ["4"] * len(framework_spec.indicator_codes)
    rows = [
        ["d-1", "宁海路", "elderly", "", "paper", "", *answers, "", "", "", "80+", "female", "10+"],
        ["d-2", "宁海路", "adult", "", "paper", "", *answers, "", "", "", "", "undisclosed", ""],
    ]
    source = tmp_path / "in.csv"
    source.write_text(
        ",".join(header) + "\n" + "\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8"
    )
    res = runner.invoke(args=["import-responses", "--wave", "demo-cols", str(source)])
    assert res.exit_code == 0, res.output
    out = tmp_path / "out.csv"
    runner.invoke(args=["export-responses", "--wave", "demo-cols", "--out", str(out)])
    assert out.read_text("utf-8-sig").splitlines()[0].endswith(",age_band,gender,residence_years")
    back = read_responses(out, framework_spec)
    assert [(r.age_band, r.gender, r.residence_years) for r in back] == [
        ("80+", "female", "10+"),
        (None, "undisclosed", None),
    ]


def test_raked_score_wave_records_population_and_equals_offline(
    runner, make_wave, framework_spec, district, tmp_path
):
    from scoring.dataset import to_records
    from scoring.population import parse_population_rows
    from scoring.simulate_weighting import simulate_weighting
    from survey.models import ScoringRun
    from survey.services.population import store_population
    from survey.services.responses import insert_records
    from survey.services.waves import transition

    wave = make_wave("rk")
    names = [s.name for s in district.streets]
    sim = simulate_weighting(framework_spec, names, 30, seed=4)
    insert_records(wave, to_records(sim.data, id_prefix="rk"))
    rows = [["street", "group", "variable", "category", "count"]]
    for s, name in enumerate(names):
        for g, group in enumerate(sim.data.groups):
            if sim.margins.total[s, g] == sim.margins.total[s, g]:  # not NaN
                for k, band in enumerate(AGE_BANDS):
                    rows.append([name, group, "age_band", band, str(sim.margins.age[s, g, k])])
                for k, sex in enumerate(("female", "male")):
                    rows.append([name, group, "gender", sex, str(sim.margins.gender[s, g, k])])
    version, _ = store_population(district, parse_population_rows(rows))
    transition(wave, "close")
    stored = tmp_path / "stored.json"
    args = ["score-wave", "rk", "--boot", "100", "--seed", "3", "--weighting", "raked"]
    res = runner.invoke(args=[*args, "--out", str(stored)])
    assert res.exit_code == 0, res.output
    run = db.session.scalar(select(ScoringRun).where(ScoringRun.wave_id == wave.id))
    assert run.population_version_id == version.id and wave.weighting == "raked"
    doc = json.loads(stored.read_text("utf-8"))
    assert doc["method"]["weighting"]["kind"] == "raked"
    assert doc["method"]["weighting"]["population_version"] == 1
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "wave.weighting"))

    export = tmp_path / "included.csv"
    runner.invoke(
        args=["export-responses", "--wave", "rk", "--included-only", "--out", str(export)]
    )
    pop = tmp_path / "pop.csv"
    runner.invoke(args=["population", "export", "--district", "test-district", "--out", str(pop)])
    offline = tmp_path / "offline.json"
    res = runner.invoke(
        args=[
            "score",
            "--framework",
            "scoring/data/gulou-default.toml",
            "--responses",
            str(export),
            "--out",
            str(offline),
            "--boot",
            "100",
            "--seed",
            "3",
            "--population",
            str(pop),
        ]  # fmt: skip
    )
    assert res.exit_code == 0, res.output
    off = json.loads(offline.read_text("utf-8"))
    off["method"]["weighting"]["population_version"] = 1  # only the database knows versions
    assert off == doc


def test_raked_wave_without_population_is_refused(runner, make_wave, framework_spec):
    from survey.services.waves import transition

    from .test_notices import fill

    wave = make_wave("rk2")
    fill(wave, framework_spec, n=10)
    transition(wave, "close")
    db.session.commit()
    res = runner.invoke(args=["score-wave", "rk2", "--weighting", "raked"])
    assert res.exit_code == 1
    assert "has none: import them" in res.output


def test_second_wave_freezes_entropy_weights_from_the_first(
    runner, make_wave, framework_spec, tmp_path
):
    from survey.models import ScoringRun
    from survey.services.waves import transition

    from .test_notices import fill

    first = make_wave("e1")
    fill(first, framework_spec, n=12)
    transition(first, "close")
    runner.invoke(args=["score-wave", "e1", "--boot", "100", "--out", str(tmp_path / "e1.json")])
    second = make_wave("e2")
    fill(second, framework_spec, n=12)
    transition(second, "close")
    out = tmp_path / "e2.json"
    res = runner.invoke(
        args=["score-wave", "e2", "--boot", "100", "--seed", "9", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text("utf-8"))
    ref = json.loads((tmp_path / "e1.json").read_text("utf-8"))
    assert doc["sensitivity"]["schemes"]["entropy"]["data_driven"] is False
    assert doc["sensitivity"]["entropy_weights"] == ref["sensitivity"]["entropy_weights"]
    run = db.session.scalar(select(ScoringRun).where(ScoringRun.wave_id == second.id))
    assert run.settings["entropy_reference_wave"] == "e1"
    # the offline scorer gives the same JSON with --entropy-from the first wave's JSON
    export = tmp_path / "e2.csv"
    runner.invoke(
        args=["export-responses", "--wave", "e2", "--included-only", "--out", str(export)]
    )
    offline = tmp_path / "e2-offline.json"
    res = runner.invoke(
        args=[
            "score",
            "--framework",
            "scoring/data/gulou-default.toml",
            "--responses",
            str(export),
            "--out",
            str(offline),
            "--boot",
            "100",
            "--seed",
            "9",
            "--entropy-from",
            str(tmp_path / "e1.json"),
        ]  # fmt: skip
    )
    assert res.exit_code == 0, res.output
    assert offline.read_bytes() == out.read_bytes()


def test_trimming_is_a_wave_setting_recorded_in_the_run_and_equal_to_offline(
    runner, client, login, make_user, make_wave, framework_spec, district, tmp_path
):
    from scoring.dataset import to_records
    from scoring.population import parse_population_rows
    from scoring.simulate_weighting import simulate_weighting
    from survey.models import Wave
    from survey.services.population import store_population
    from survey.services.responses import insert_records
    from survey.services.waves import set_weighting, transition

    wave = make_wave("tr")
    names = [s.name for s in district.streets]
    sim = simulate_weighting(framework_spec, names, 30, seed=4)
    insert_records(wave, to_records(sim.data, id_prefix="tr"))
    rows = [["street", "group", "variable", "category", "count"]]
    for s, name in enumerate(names):
        for g, group in enumerate(sim.data.groups):
            if sim.margins.total[s, g] == sim.margins.total[s, g]:  # not NaN
                for k, band in enumerate(AGE_BANDS):
                    rows.append([name, group, "age_band", band, str(sim.margins.age[s, g, k])])
                for k, sex in enumerate(("female", "male")):
                    rows.append([name, group, "gender", sex, str(sim.margins.gender[s, g, k])])
    store_population(district, parse_population_rows(rows))
    set_weighting(wave, "raked")
    transition(wave, "close")
    db.session.commit()

    login(make_user("admin"))
    page = client.get("/admin/waves/tr/sample").get_data(as_text=True)
    assert "权重截尾" in page and "不截尾（默认）" in page and 'name="trim_low"' in page
    url = "/admin/waves/tr/sample/trim"
    for data, message in (
        ({"trim_low": "0.5", "trim_high": ""}, "上下限要么都填，要么都不填"),
        ({"trim_low": "1.5", "trim_high": "3"}, "下限须在 0.01 到 0.99 之间"),
        ({"trim_low": "0.5", "trim_high": "500"}, "上限须在 1.01 到 100 之间"),
        ({"trim_low": "abc", "trim_high": "2"}, "trim_low"),
    ):
        res = client.post(url, data=data)
        assert res.status_code == 400 and message in res.get_data(as_text=True)
    assert db.session.get(Wave, wave.id).trim_low is None
    assert client.post(url, data={"trim_low": "0.5", "trim_high": "2"}).status_code == 302
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "wave.trim"))
    assert entry.before == {"trim": None} and entry.after == {"trim": [0.5, 2.0]}
    assert "格平均的 0.5 至 2 倍" in client.get("/admin/waves/tr/sample").get_data(as_text=True)

    stored = tmp_path / "stored.json"
    res = runner.invoke(
        args=["score-wave", "tr", "--boot", "100", "--seed", "3", "--out", str(stored)]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(stored.read_text("utf-8"))
    assert doc["method"]["weighting"]["trim"] == [0.5, 2.0]
    export = tmp_path / "included.csv"
    runner.invoke(
        args=["export-responses", "--wave", "tr", "--included-only", "--out", str(export)]
    )
    pop = tmp_path / "pop.csv"
    runner.invoke(args=["population", "export", "--district", "test-district", "--out", str(pop)])
    offline = tmp_path / "offline.json"
    args = ["score", "--framework", "scoring/data/gulou-default.toml", "--responses", str(export),
            "--out", str(offline), "--boot", "100", "--seed", "3", "--population", str(pop),
            "--trim", "0.5,2"]  # fmt: skip
    res = runner.invoke(args=args)
    assert res.exit_code == 0, res.output
    off = json.loads(offline.read_text("utf-8"))
    off["method"]["weighting"]["population_version"] = 1  # only the database knows versions
    assert off == doc
    # trimming bounds the raked weights' spread: smaller design effects than untrimmed
    untrimmed = tmp_path / "untrimmed.json"
    res = runner.invoke(args=[*args[:6], str(untrimmed), *args[7:-2]])
    assert res.exit_code == 0, res.output
    plain = json.loads(untrimmed.read_text("utf-8"))
    assert plain["method"]["weighting"]["trim"] is None
    assert sum(s["deff"] for s in doc["streets"]) < sum(s["deff"] for s in plain["streets"])
    # clearing both bounds turns trimming off again
    assert client.post(url, data={"trim_low": "", "trim_high": ""}).status_code == 302
    assert db.session.get(Wave, wave.id).trim_high is None
    # the command line sets the same wave setting: refused bounds change nothing,
    # `--trim 0.5,2` gives the console-trimmed run's JSON, `--trim off` clears it
    refused = (("3,0.5", "lower trimming bound must be"), ("0.5", "two numbers"), ("a,", "two"))
    for bad, reason in refused:
        res = runner.invoke(args=["score-wave", "tr", "--boot", "100", "--trim", bad])
        assert res.exit_code == 1 and reason in res.output, res.output
        assert "Traceback" not in res.output
    assert db.session.get(Wave, wave.id).trim_high is None
    cli_trim = tmp_path / "cli-trim.json"
    res = runner.invoke(
        args=[
            "score-wave",
            "tr",
            "--boot",
            "100",
            "--seed",
            "3",
            "--trim",
            "0.5,2",
            "--out",
            str(cli_trim),
        ]  # fmt: skip
    )
    assert res.exit_code == 0, res.output
    assert db.session.get(Wave, wave.id).trim_low == 0.5
    again = json.loads(cli_trim.read_text("utf-8"))
    assert again["method"] == doc["method"] and again["streets"] == doc["streets"]
    res = runner.invoke(args=["score-wave", "tr", "--boot", "100", "--trim", "off"])
    assert res.exit_code == 0, res.output
    assert db.session.get(Wave, wave.id).trim_low is None
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.action == "wave.trim"))
    assert len(list(actions)) == 4  # console set, console clear, CLI set, CLI clear
