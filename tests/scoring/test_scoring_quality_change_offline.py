"""Response quality flags, wave-over-wave change, and the offline scorer."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pytest

from scoring import (
    ExchangeError,
    FrameworkError,
    compare_waves,
    load_default_framework,
    score,
    score_file,
    simulate,
    targeted_change,
    write_csv,
)
from scoring.exchange import ResponseRecord
from scoring.framework import dump_framework
from scoring.quality import (
    burst_flags,
    combine_flags,
    duplicate_flags,
    speeder_flags,
    straightline_flags,
)

T0 = np.datetime64("2026-03-01T09:00:00")


def test_speeders_and_straightliners():
    pts = np.array([[4] * 17, [4] * 9 + [0] * 8, [1, 2, 3, 4, 5] * 3 + [1, 1]])
    sp = speeder_flags([20.0, 100.0, 60.0], pts, seconds_per_item=2.0)
    assert sp.flagged.tolist() == [True, False, False]
    assert "17 items in 20 s" in sp.reasons[0]
    sl = straightline_flags(pts)
    assert sl.flagged.tolist() == [True, False, False]  # row 2: only 9 answered items
    both = combine_flags(sp, sl)
    assert both.count == 1 and "; " in both.reasons[0]


def test_duplicates_from_one_device_within_window():
    pts = np.array([[4] * 17, [4] * 17, [4] * 17, [3] * 17])
    times = T0 + np.array([0, 600, 3 * 86400, 700], dtype="timedelta64[s]")
    flags = duplicate_flags(pts, ["dev1", "dev1", "dev1", "dev1"], times, window_s=3600)
    assert flags.flagged.tolist() == [False, True, False, False]
    assert "#0" in flags.reasons[1]


def test_bursts_in_one_community():
    base = np.array([4] * 17)
    near = base.copy()
    near[3] = 5
    pts = np.array([base, base, near, base, base, [2] * 17, base])
    com = ["c1"] * 6 + ["c2"]
    times = T0 + np.array([0, 60, 120, 180, 240, 300, 60], dtype="timedelta64[s]")
    flags = burst_flags(pts, com, times, window_s=1800, min_size=5, max_diff=1)
    assert flags.flagged.tolist() == [True, True, True, True, True, False, False]


def test_compare_waves_and_targeted_change():
    fw = load_default_framework()
    streets = [f"S{i}" for i in range(8)]
    a = score(fw, simulate(fw, streets, 150, seed=1).data, boot=200, seed=1)
    b = score(fw, simulate(fw, streets, 150, seed=2).data, boot=200, seed=2)
    changes = compare_waves(a, b)
    district = next(c for c in changes if c.street is None and c.item == "overall")
    assert district.change == pytest.approx(b.district.score - a.district.score)
    assert district.se == pytest.approx(np.hypot(a.district.se, b.district.se))
    assert district.ci_low < district.change < district.ci_high
    assert len(changes) == (1 + 8) * 18
    tc = targeted_change(a, b, {"S0": ["I01", "I04"]})
    assert len(tc) == 1 and tc[0].targeted == ("I01", "I04")
    lo, hi = tc[0].difference_ci
    assert lo < tc[0].difference < hi


def _records(sim, fw):
    d = sim.data
    out = []
    for r in range(d.n):
        answers = {}
        for j, code in enumerate(fw.indicator_codes):
            if d.dont_know[r, j]:
                answers[code] = "DK"
            elif d.points[r, j] > 0:
                answers[code] = int(d.points[r, j])
            else:
                answers[code] = None
        out.append(
            ResponseRecord(
                response_id=f"r{r}",
                street=d.streets[d.street[r]],
                group=d.groups[d.group[r]],
                submitted_at=datetime(2026, 3, 1) + timedelta(minutes=r),
                channel="online",
                weight=1.0,
                answers=answers,
                concerns=tuple(c for j, c in enumerate(fw.indicator_codes) if d.concerns[r, j]),
                overall=None,
            )
        )
    return out


def test_score_file_scores_at_a_short_switch_interval_and_restores_it(tmp_path, monkeypatch):
    import sys

    import scoring.engine
    from scoring import offline

    fw = load_default_framework()
    sim = simulate(fw, ["鼓楼街道", "宁海路街道"], 40, seed=3)
    fw_path = tmp_path / "fw.toml"
    fw_path.write_text(dump_framework(fw), encoding="utf-8")
    csv_path = tmp_path / "responses.csv"
    csv_path.write_bytes(write_csv(_records(sim, fw), fw))
    seen = []
    real = scoring.engine.score

    def spy(*args, **kwargs):
        seen.append(sys.getswitchinterval())
        return real(*args, **kwargs)

    monkeypatch.setattr(scoring.engine, "score", spy)
    before = sys.getswitchinterval()
    score_file(fw_path, csv_path, tmp_path / "a.json", boot=100, seed=5)
    assert seen == [pytest.approx(min(before, offline.SWITCH_INTERVAL))]
    assert sys.getswitchinterval() == before
    with pytest.raises(ExchangeError):  # restored on errors too
        score_file(fw_path, fw_path, tmp_path / "b.json", boot=100, seed=5)
    assert sys.getswitchinterval() == before


def test_score_file_round_trip(tmp_path):
    fw = load_default_framework()
    sim = simulate(fw, ["鼓楼街道", "宁海路街道", "湖南路街道"], 60, seed=3)
    fw_path = tmp_path / "fw.toml"
    fw_path.write_text(dump_framework(fw), encoding="utf-8")
    csv_path = tmp_path / "responses.csv"
    csv_path.write_bytes(write_csv(_records(sim, fw), fw))
    out1, out2 = tmp_path / "a.json", tmp_path / "b.json"
    doc = score_file(fw_path, csv_path, out1, boot=200, seed=5)
    score_file(fw_path, csv_path, out2, boot=200, seed=5)
    assert out1.read_bytes() == out2.read_bytes()
    assert json.loads(out1.read_text("utf-8")) == doc
    # the fast writer gives the standard library's bytes
    reference = json.dumps(doc, sort_keys=True, ensure_ascii=False, indent=2) + "\n"
    assert out1.read_text("utf-8") == reference
    import hashlib

    assert doc["method"]["data_sha256"] == hashlib.sha256(csv_path.read_bytes()).hexdigest()
    assert "鼓楼街道" in out1.read_text("utf-8")  # ensure_ascii=False
    # same estimates as scoring the arrays directly (streets sorted by name there)
    by_name = {s["street"]: s for s in doc["streets"]}
    direct = score(fw, sim.data, boot=200, seed=5)
    for s in direct.streets:
        assert by_name[s.street]["score"] == pytest.approx(s.score, abs=1e-4)


def test_score_file_errors(tmp_path):
    fw = load_default_framework()
    fw_path = tmp_path / "fw.toml"
    fw_path.write_text(dump_framework(fw), encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("response_id,street\n1,x\n", encoding="utf-8")
    with pytest.raises(ExchangeError, match="missing column"):
        score_file(fw_path, bad, tmp_path / "o.json")
    with pytest.raises(FrameworkError, match="file not found"):
        score_file(tmp_path / "nope.toml", bad, tmp_path / "o.json")
    with pytest.raises(ExchangeError, match="cannot read"):
        score_file(fw_path, tmp_path / "none.csv", tmp_path / "o.json")
