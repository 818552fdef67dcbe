"""``minping db downgrade`` lists what it would drop and refuses without ``--yes``."""

from __future__ import annotations

from flask_migrate import upgrade
from sqlalchemy import inspect

from survey.extensions import db
from survey.services.districts import create_district


def test_downgrade_refuses_without_yes_and_names_what_it_drops(scratch_app):
    with scratch_app.app_context():
        upgrade()
        create_district("d", "测试区", [("S1", "宁海路", ["东苑社区"])])
        db.session.commit()
        db.session.remove()
    runner = scratch_app.test_cli_runner()
    refused = runner.invoke(args=["db", "downgrade", "base"])
    assert refused.exit_code == 1, refused.output
    assert "refusing to downgrade without --yes" in refused.output
    assert "table district (1 rows)" in refused.output
    assert "table response (0 rows)" in refused.output
    with scratch_app.app_context():
        assert "district" in inspect(db.engine).get_table_names()  # nothing dropped
        db.engine.dispose()
    one_step = runner.invoke(args=["db", "downgrade"])
    assert one_step.exit_code == 1 and "would drop" in one_step.output
    done = runner.invoke(args=["db", "downgrade", "base", "--yes"])
    assert done.exit_code == 0, done.output
    with scratch_app.app_context():
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
