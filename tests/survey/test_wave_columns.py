"""score-wave's columnar loader: the same data, digest and flagged comparison as records."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import numpy as np
from sqlalchemy import select

import scoring
from scoring.dataset import from_records
from scoring.exchange import table_records, write_csv
from survey.extensions import db
from survey.models import Response
from survey.models.response import AUTO_PREFIX, REVIEW_PREFIX
from survey.services.frameworks import spec_of
from survey.services.quality_review import _sha_cache, run_is_stale
from survey.services.responses import wave_records
from survey.services.scoring_runs import score_wave
from survey.services.wave_columns import (
    included_rows,
    load_wave_columns,
    response_data,
    scored_data_sha256,
)
from survey.services.waves import transition

from .test_notices import fill


def _vary(wave) -> None:
    """Give the wave's responses what the exchange format can carry, and some flags."""
    rows = db.session.scalars(
        select(Response).where(Response.wave_id == wave.id).order_by(Response.id)
    ).all()
    for k, r in enumerate(rows):
        r.weight = 1.0 + (k % 4) * 0.25
        r.comment = ["", "=HYPERLINK(x)", '楼道, "灯"\n坏了', "－1"][k % 4]
        r.concerns = ["", "I04;I07", "I01"][k % 3]
        r.overall = None if k % 5 == 0 else 1 + k % 5
        r.age_band = [None, "18-34", "80+"][k % 3]
        r.gender = [None, "female", "male", "undisclosed"][k % 4]
        r.residence_years = [None, "lt1"][k % 2]
        r.channel = "open" if k % 11 == 0 else "paper"
        if k % 7 == 0:
            r.quality_flags = "straightline: 17 items the same"
            if k % 14 == 0:
                r.excluded = True
                r.exclusion_reason = AUTO_PREFIX + r.quality_flags
        if k % 13 == 0:  # decided by a reviewer: not "flagged" any more
            r.quality_flags = "speeder"
            r.excluded = True
            r.exclusion_reason = REVIEW_PREFIX + "excluded"
    db.session.flush()


def test_columns_equal_records_and_digest(make_wave, framework_spec):
    wave = make_wave("wc")
    fill(wave, framework_spec, n=30)
    _vary(wave)
    spec = spec_of(wave.framework)
    for include_open in (False, True):
        wave.include_open_channel = include_open
        columns = load_wave_columns(wave, spec)
        table = columns.table.take(included_rows(wave, columns))
        records = wave_records(wave, included_only=True)
        assert table_records(table, spec) == records
        csv_bytes = write_csv(records, spec)
        assert scored_data_sha256(wave, columns) == hashlib.sha256(csv_bytes).hexdigest()
        got, want = response_data(table, spec), from_records(records, spec)
        for field in dataclasses.fields(want):
            a, b = getattr(got, field.name), getattr(want, field.name)
            if isinstance(b, np.ndarray):
                np.testing.assert_array_equal(a, b, err_msg=field.name)
            else:
                assert a == b, field.name
    # without any age band or gender the raking codes stay absent, as from records
    for r in db.session.scalars(select(Response).where(Response.wave_id == wave.id)):
        r.age_band = r.gender = None
    db.session.flush()
    columns = load_wave_columns(wave, spec)
    data = response_data(columns.table.take(included_rows(wave, columns)), spec)
    assert data.age_band is None and data.gender is None


def _old_flagged_comparison(wave, run_result, *, boot, seed, min_n, top_k):
    """The record-by-record comparison score_wave used to run (reference)."""
    spec = spec_of(wave.framework)
    rows = db.session.execute(
        select(Response.public_id, Response.excluded).where(
            Response.wave_id == wave.id,
            Response.quality_flags != "",
            Response.exclusion_reason.not_like(REVIEW_PREFIX + "%"),
        )
    ).all()
    flagged_in = {pid for pid, excluded in rows if not excluded}
    flagged_out = {pid for pid, excluded in rows if excluded}
    scored = wave_records(wave, included_only=True)

    def rescore(records):
        return scoring.score(
            spec, from_records(records, spec), boot=boot, seed=seed, min_n=min_n, top_k=top_k,
            sensitivity=False,
        )  # fmt: skip

    extra = [r for r in wave_records(wave) if r.response_id in flagged_out]
    if not wave.include_open_channel:
        extra = [r for r in extra if r.channel != "open"]
    with_flagged = rescore([*scored, *extra])
    without = rescore([r for r in scored if r.response_id not in flagged_in])
    out = scoring.flagged_sensitivity(with_flagged, without, n_flagged=len(rows))
    out["n_excluded_by_rule"] = len(flagged_out)
    return json.loads(json.dumps(out, default=float))


def test_flagged_comparison_equals_record_reference(make_wave, framework_spec):
    wave = make_wave("wf")
    fill(wave, framework_spec, n=30)
    _vary(wave)
    transition(wave, "close")
    run = score_wave(wave, boot=100, seed=5, min_n=5)
    sens = run.settings["flagged_sensitivity"]
    ref = _old_flagged_comparison(wave, None, boot=100, seed=5, min_n=5, top_k=wave.district.top_k)
    assert sens["n_flagged"] == ref["n_flagged"] > 0
    assert sens["n_excluded_by_rule"] == ref["n_excluded_by_rule"] > 0
    assert sens["ranks_moved"] == ref["ranks_moved"]
    assert sens["bands_moved"] == ref["bands_moved"]
    for got, want in zip(sens["streets"], ref["streets"], strict=True):
        assert got["street"] == want["street"]
        assert got["score_with"] == round(want["score_with"], 4)
        assert got["score_without"] == round(want["score_without"], 4)
        assert (got["band_with"], got["band_without"]) == (want["band_with"], want["band_without"])


def test_unweighted_wave_not_stale_after_scoring(make_wave, framework_spec):
    wave = make_wave("wu")
    fill(wave, framework_spec, n=20)
    for k, r in enumerate(db.session.scalars(select(Response).where(Response.wave_id == wave.id))):
        r.weight = 1.0 + k % 3
    wave.weighting = "unweighted"
    transition(wave, "close")
    run = score_wave(wave, boot=100, seed=5, min_n=5)
    assert not run_is_stale(wave, run)
    db.session.scalars(select(Response).where(Response.wave_id == wave.id)).first().excluded = True
    db.session.flush()
    _sha_cache.clear()  # (the cache follows audit entries; this change bypasses them)
    assert run_is_stale(wave, run)
