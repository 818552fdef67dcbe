"""Population margins in the database: CLI import/export, versions, nothing written on error."""

from __future__ import annotations

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
