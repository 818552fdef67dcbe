"""A 300-street district scored with B = 200: the console stays readable and fast.

``build_big_wave`` is also a script for screenshots and latency checks::

    DATABASE_URL=sqlite:////tmp/big.sqlite .venv/bin/python tests/survey/test_admin_bigwave.py
"""

from __future__ import annotations

from datetime import datetime

import pytest

from scoring.dataset import to_records
from scoring.framework import load_default_framework
from scoring.simulate import simulate

SYLLABLES = "东西南北中上下新老金银玉石桥湖山河江海林园港湾门楼台坊"


def street_names(n: int) -> list[str]:
    """``n`` distinct plausible street names (two or three characters + 路/街/镇)."""
    names: list[str] = []
    k = len(SYLLABLES)
    for i in range(n):
        a, b, c = SYLLABLES[i % k], SYLLABLES[(i // k + 3) % k], SYLLABLES[(i * 7 + 5) % k]
        names.append(f"{a}{b}{c}{'路街镇'[i % 3]}" if i >= k * k else f"{a}{b}{'路街'[i % 2]}")
    return names


def build_big_wave(
    n_streets: int = 300,
    per_street: int = 90,
    seed: int = 11,
    boot: int = 200,
    code: str = "big-300",
):  # type: ignore[no-untyped-def]
    """Create a district of ``n_streets`` streets, one closed wave of simulated answers, scored.

    Uses the current app context's session; commits nothing (the caller decides).
    Returns the wave.
    """
    from survey.extensions import db
    from survey.services.districts import create_district
    from survey.services.frameworks import save_framework
    from survey.services.responses import insert_records
    from survey.services.scoring_runs import score_wave
    from survey.services.waves import create_wave, transition

    spec = load_default_framework()
    names = street_names(n_streets)
    district = create_district(
        f"district-{code}", "大区", [(f"B{i:03d}", name, []) for i, name in enumerate(names)]
    )
    framework = save_framework(spec)
    wave = create_wave(district, framework, code, f"{n_streets} 个街道的测评")
    transition(wave, "open")
    sim = simulate(spec, names, per_street, seed, mu=1.5)
    records = to_records(sim.data, id_prefix=code, start=datetime(2026, 3, 1, 8, 0))
    insert_records(wave, records)
    transition(wave, "close")
    db.session.flush()
    score_wave(wave, boot=boot, seed=seed)
    return wave


@pytest.mark.slow
def test_console_with_300_streets(app, client, make_user, login):
    """The overview, charts and a street page render for 300 streets (run with -m slow)."""
    wave = build_big_wave(per_street=40)
    login(make_user("admin", username="big-admin"))
    page = client.get(f"/admin/waves/{wave.code}/results?sort=score&order=desc")
    assert page.status_code == 200
    assert page.get_data(as_text=True).count("/admin/waves/big-300/streets/") == 300
    from survey.services.scoring_runs import current_run

    run = current_run(wave)
    svg = client.get(f"/admin/runs/{run.id}/caterpillar.svg")
    assert svg.status_code == 200 and svg.data.count(b"<text") > 300


if __name__ == "__main__":  # build a database for screenshots and timings
    import time

    from survey import create_app
    from survey.extensions import db
    from survey.services.accounts import create_user

    app = create_app()
    with app.app_context():
        db.drop_all()
        db.create_all()
        t0 = time.perf_counter()
        w = build_big_wave()
        create_user("admin", "Demo-Admin-2026", "admin")
        db.session.commit()
        print(f"built {w.code}: 300 streets in {time.perf_counter() - t0:.1f} s")
