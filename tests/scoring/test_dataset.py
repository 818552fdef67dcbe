"""ResponseData <-> exchange records: to_records inverts from_records."""

import datetime as dt

import numpy as np

from scoring.dataset import from_records, to_records
from scoring.framework import load_default_framework
from scoring.simulate import simulate


def test_to_records_round_trips_answers_dk_and_concerns():
    spec = load_default_framework()
    data = simulate(spec, ["甲街道", "乙街道"], 40, seed=2).data
    records = to_records(data, id_prefix="x", start=dt.datetime(2026, 3, 1), spacing_s=60)
    assert records[1].response_id == "x-000002"
    assert records[1].submitted_at == dt.datetime(2026, 3, 1, 0, 1)
    back = from_records(records, spec, streets=data.streets)
    for name in ("street", "group", "points", "dont_know", "asked", "concerns", "weight"):
        np.testing.assert_array_equal(getattr(back, name), getattr(data, name), err_msg=name)
