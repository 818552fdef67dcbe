"""Builders shared by the console, API and authorisation tests (no tests here).

Test modules import it as a sibling: ``from . import admin_support as support``.
"""

from __future__ import annotations

from datetime import datetime

from flask import g
from sqlalchemy import select

from scoring.dataset import to_records
from scoring.simulate import simulate


def simulated_records(spec, streets, per_street, seed, prefix):  # type: ignore[no-untyped-def]
    """Exchange records of a simulated wave (``scoring.simulate``) for ``streets``."""
    data = simulate(spec, list(streets), per_street, seed, mu=1.5).data
    channels = ["open" if r % 17 == 0 else "online" for r in range(data.n)]
    return to_records(data, id_prefix=prefix, start=datetime(2026, 3, 1, 8, 0), channels=channels)


def filled_wave(make_wave, code="w-data", per_street=60, seed=5, comments=True):  # type: ignore[no-untyped-def]
    """A closed wave of the test district with simulated responses, some commented or flagged."""
    from survey.extensions import db
    from survey.models import Response
    from survey.services.frameworks import spec_of
    from survey.services.responses import insert_records
    from survey.services.waves import transition

    wave = make_wave(code, state="fieldwork")
    spec = spec_of(wave.framework)
    names = [s.name for s in wave.district.streets]
    records = simulated_records(spec, names, per_street, seed, code)
    notes = [
        {"I07": f"电动车充电难 {k}"} if comments and k % 9 == 0 else {} for k in range(len(records))
    ]
    insert_records(wave, records, answer_comments=notes)
    transition(wave, "close")
    db.session.flush()
    flagged = db.session.scalars(
        select(Response.id).where(Response.wave_id == wave.id).order_by(Response.id).limit(3)
    ).all()
    for rid in flagged:
        row = db.session.get(Response, rid)
        row.quality_flags = "answered 17 items in 20 s (under 34 s)"
        row.excluded = True
        row.exclusion_reason = "自动排除：" + row.quality_flags
    db.session.flush()
    return wave


def scored_wave(make_wave, code="w-scored", boot=100, **kw):  # type: ignore[no-untyped-def]
    """A scored wave (B = ``boot``) of the test district."""
    from survey.extensions import db
    from survey.services.scoring_runs import score_wave

    wave = filled_wave(make_wave, code=code, **kw)
    score_wave(wave, boot=boot, seed=7)
    db.session.flush()
    return wave


def sign_in(client, user):  # type: ignore[no-untyped-def]
    """Sign ``user`` in on ``client`` without the (slow) password check."""
    with client.session_transaction() as session:
        session.clear()
        if user is not None:
            from survey.auth.sessions import session_values

            session.update(session_values(user))
    return client


def call(client, method, url, **kwargs):  # type: ignore[no-untyped-def]
    """Make a request like a browser would after the set-up was saved.

    Commits first (the test's outer transaction is still rolled back at the
    end), so that a view's ``db.session.rollback()`` after a refused change
    cannot discard the test's own set-up; forgets the user Flask-Login cached
    on the shared ``g``.
    """
    from survey.extensions import db

    db.session.commit()
    g.pop("_login_user", None)
    return client.open(url, method=method, **kwargs)


def quick_user(role, street=None, username=None):  # type: ignore[no-untyped-def]
    """A staff account with a cheap password hash (tests that never type the password)."""
    from werkzeug.security import generate_password_hash

    from survey.extensions import db
    from survey.models import User

    user = User(
        username=username or f"{role}-quick",
        role=role,
        street=street,
        password_hash=generate_password_hash("unused", method="pbkdf2:sha256:1"),
    )
    db.session.add(user)
    db.session.flush()
    return user
