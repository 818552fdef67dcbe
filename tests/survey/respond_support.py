"""Builders for questionnaire tests that need their own app and database (no tests here).

A fresh app on a temporary SQLite file with real commits (``isolated_app``), a
seeded wave with invitations (``seed``), and a client that answers a whole
questionnaire (``fill``).  Imported as ``from . import respond_support``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select

from survey import create_app
from survey.config import TestConfig
from survey.extensions import db, limiter
from survey.services.frameworks import spec_of
from survey.services.questionnaire import pages_for


def seed(count: int = 3, *, open_link: bool = False) -> dict:
    """Create a district, a fieldwork wave and invitations; commit; return tokens."""
    from scoring.framework import load_default_framework
    from survey.services.districts import create_district
    from survey.services.frameworks import save_framework
    from survey.services.invitations import create_batch
    from survey.services.waves import create_wave, transition

    district = create_district(
        "iso", "隔离区", [("S1", "宁海路", ["东苑社区"])], authority="隔离区民政局"
    )
    wave = create_wave(
        district,
        save_framework(load_default_framework()),
        "iso-w",
        "隔离测试",
        allow_open_links=True,
    )
    transition(wave, "open")
    street = district.streets[0]
    _, tokens = create_batch(wave, street, "adult", count)
    out = {"tokens": tokens, "wave_id": wave.id}
    if open_link:
        _, (poster,) = create_batch(wave, street, "adult", 1, is_open=True)
        out["poster"] = poster
    db.session.commit()
    return out


@contextmanager
def isolated_app(tmp_path: Path, **settings: object) -> Iterator:
    """Yield a fresh app on its own SQLite file; ``settings`` override TestConfig."""
    config = type(
        "IsolatedConfig",
        (TestConfig,),
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'iso.sqlite'}", **settings},
    )
    was_enabled = limiter.enabled
    app = create_app(config)
    with app.app_context():
        db.create_all()
    try:
        yield app
    finally:
        if app.config["RATELIMIT_ENABLED"]:
            limiter.reset()
        limiter.enabled = was_enabled  # the limiter is a process-wide extension
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def fill(client, token: str, csrf: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Answer every page of ``token`` (adult questionnaire) up to the review page."""
    spec = spec_of_wave()
    extra = {}

    def post(url: str, data: dict) -> None:
        if csrf:
            page = client.get(url).get_data(as_text=True)
            extra["csrf_token"] = re.search(
                r'name="csrf_token" type="hidden" value="([^"]+)"', page
            )[1]
        response = client.post(url, data={**data, **extra})
        assert response.status_code == 302, response.get_data(as_text=True)[:600]

    post(f"/s/{token}", {})
    for page in pages_for(spec, "adult")[1:-1]:
        post(
            f"/s/{token}/p/{page.number}",
            {f"a_{i.code}": str(1 + len(i.code + page.title) % 5) for i in page.indicators},
        )
    post(f"/s/{token}/p/5", {"overall": "4"})


def spec_of_wave():  # type: ignore[no-untyped-def]
    from survey.models import Wave

    return spec_of(db.session.scalar(select(Wave)).framework)
