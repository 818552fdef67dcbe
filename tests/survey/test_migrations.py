"""Alembic migrations: upgrade builds exactly the models' schema; downgrade removes it."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from survey.extensions import db


def test_upgrade_matches_models_and_downgrade_removes_everything(scratch_app):
    with scratch_app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"wave", "response", "answer", "invitation", "notice", "audit_log"} <= tables
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "render_as_batch": True}
            )
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        downgrade(revision="base")
        left = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert left == set()
        upgrade()  # and up again from base
        assert "response" in inspect(db.engine).get_table_names()


def test_framework_part_tables_are_gone_and_come_back_filled_on_downgrade(scratch_app):
    """Dimensions and indicators live only in the framework's TOML; a downgrade refills the rows."""
    from sqlalchemy import text

    from scoring.framework import load_default_framework
    from survey.services.frameworks import save_framework

    with scratch_app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert "dimension" not in tables and "indicator" not in tables
        assert "respondent_group" in tables
        spec = load_default_framework()
        row = save_framework(spec)
        db.session.commit()
        framework_id = row.id
        db.session.remove()
        downgrade(revision="b14a7c2e5f01")
        with db.engine.connect() as conn:
            dims = conn.execute(
                text(
                    "SELECT code, weight FROM dimension WHERE framework_id = :f ORDER BY position"
                ),
                {"f": framework_id},
            ).all()
            inds = conn.execute(
                text(
                    "SELECT code, dimension_code, groups FROM indicator "
                    "WHERE framework_id = :f ORDER BY position"
                ),
                {"f": framework_id},
            ).all()
        assert [(c, w) for c, w in dims] == [(d.code, d.weight) for d in spec.dimensions]
        assert [tuple(r) for r in inds] == [
            (i.code, i.dimension, ";".join(i.groups)) for i in spec.indicators
        ]
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert "dimension" not in tables and "indicator" not in tables
        downgrade(revision="base")
