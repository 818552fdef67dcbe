"""API v1 routes: waves, scores, response batches, notices, rectification items."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, NoReturn

from flask import Response, abort, g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import Select, select
from werkzeug.exceptions import HTTPException

from scoring.exchange import ExchangeError, columns, parse_rows
from scoring.result import to_json

from ..auth.scope import in_visible, may_see, visible_districts
from ..edges import JSONBodyError, json_body
from ..extensions import csrf, db
from ..models import Notice, RectificationItem, Street, Wave
from ..services.frameworks import spec_of
from ..services.responses import import_records, street_lookup
from ..services.results import result_of
from ..services.scoring_runs import current_run
from ..services.waves import response_count
from . import bp
from .auth import forbidden, json_response, token_required
from .openapi import OPENAPI

READ = ("admin", "viewer", "agency", "street")
SCORES = ("admin", "viewer", "agency", "street")
SUBMIT = ("admin", "agency", "interviewer")
DOCUMENTS = ("admin", "viewer", "street")
MAX_BATCH = 5000


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    """Serve the OpenAPI 3 description of this API (no token needed)."""
    return jsonify(OPENAPI)


def _wave(code: str) -> Wave:
    wave = db.session.scalar(select(Wave).where(Wave.code == code))
    if wave is None or not may_see(wave.district_id):
        abort(json_response(404, {"error": "Not Found", "message": f"no wave with code {code!r}"}))
    return wave


def _not_found(what: str) -> NoReturn:
    abort(json_response(404, {"error": "Not Found", "message": f"no such {what}"}))


def _visible_wave_ids() -> Select[int]:
    """Subquery of the waves in the token user's districts."""
    return in_visible(select(Wave.id), Wave.district_id)


def _wave_json(wave: Wave) -> dict[str, Any]:
    return {
        "code": wave.code,
        "district": wave.district.code,
        "name": wave.name,
        "state": wave.state,
        "year": wave.year,
        "framework": wave.framework.label,
        "starts_on": wave.starts_on.isoformat() if wave.starts_on else None,
        "ends_on": wave.ends_on.isoformat() if wave.ends_on else None,
        "streets": [{"code": s.code, "name": s.name} for s in wave.district.streets],
        "groups": [g.code for g in wave.framework.groups],
        "indicators": list(spec_of(wave.framework).indicator_codes),
    }


@bp.get("/me")
@token_required(*READ, "interviewer")
def me() -> ResponseReturnValue:
    """Who the token belongs to."""
    user = g.api_user
    return {
        "username": user.username,
        "role": user.role,
        "street": user.street.code if user.street else None,
        "districts": [d.code for d in visible_districts(user)],
    }


@bp.get("/waves")
@token_required(*READ, "interviewer")
def waves() -> ResponseReturnValue:
    """List waves with their state and response counts."""
    rows = db.session.scalars(
        in_visible(select(Wave), Wave.district_id).order_by(Wave.created_at.desc(), Wave.id.desc())
    )
    return {"waves": [{**_wave_json(w), "responses": response_count(w)} for w in rows]}


@bp.get("/waves/<code>")
@token_required(*READ, "interviewer")
def wave(code: str) -> ResponseReturnValue:
    """One wave, with the streets, groups and indicators a response batch may use."""
    w = _wave(code)
    return {
        **_wave_json(w),
        "responses": response_count(w),
        "columns": columns(spec_of(w.framework)),
    }


def _run_doc(wave: Wave) -> tuple[Any, str]:
    run = current_run(wave)
    if run is None:
        abort(
            json_response(
                404, {"error": "Not Found", "message": f"wave {wave.code} has no scores yet"}
            )
        )
    return run, run.result_json


@bp.get("/waves/<code>/scores")
@token_required(*SCORES)
def scores(code: str) -> ResponseReturnValue:
    """The current run's scores JSON (docs/scores-json.md); a street officer: own street only."""
    w = _wave(code)
    run, text = _run_doc(w)
    user = g.api_user
    if user.role == "street":
        result = result_of(run)
        name = user.street.name if user.street else None
        text = to_json(
            replace(
                result,
                streets=tuple(s for s in result.streets if s.street == name),
                small_cells=tuple(c for c in result.small_cells if c.street == name),
            )
        )
    response = Response(text, mimetype="application/json")
    response.headers["X-Scoring-Run"] = str(run.id)
    return response


def _street(wave: Wave, street_code: str) -> Street:
    street = next((s for s in wave.district.streets if street_code in (s.code, s.name)), None)
    if street is None:
        abort(
            json_response(
                404, {"error": "Not Found", "message": f"no street {street_code!r} in this wave"}
            )
        )
    return street


def _own_street_only(street_id: int | None) -> None:
    user = g.api_user
    if user.role == "street" and street_id != user.street_id:
        forbidden("a street officer may only read their own street")


@bp.get("/waves/<code>/streets/<street_code>/scores")
@token_required(*SCORES)
def street_scores(code: str, street_code: str) -> ResponseReturnValue:
    """One street's scores with the district reference."""
    w = _wave(code)
    street = _street(w, street_code)
    _own_street_only(street.id)
    run, _ = _run_doc(w)
    result = result_of(run)
    entry = result.street(street.name)
    if entry is None:
        abort(json_response(404, {"error": "Not Found", "message": "this street has no scores"}))
    # the same canonical form as the whole document (rounded, NaN as null)
    doc = json.loads(to_json(replace(result, streets=(entry,), small_cells=())))
    return {
        "run": run.id,
        "method": doc["method"],
        "district": doc["district"],
        "street": doc["streets"][0],
    }


def _cell(value: Any) -> str | None:
    if value is None:
        return ""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | str):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ";".join(value)
    return None


@bp.post("/waves/<code>/responses")
@token_required(*SUBMIT)
def post_responses(code: str) -> ResponseReturnValue:
    """Add a batch of responses (exchange-format fields); all or nothing, 422 with problems."""
    w = _wave(code)
    try:
        body = json_body()
    except JSONBodyError as exc:
        return json_response(422, {"error": "Unprocessable Entity", "problems": [str(exc)]})
    if not isinstance(body, dict) or not isinstance(body.get("responses"), list):
        return json_response(
            422,
            {"error": "Unprocessable Entity", "problems": ['send {"responses": [ {...}, ... ]}']},
        )
    items = body["responses"]
    if not items:
        return json_response(
            422, {"error": "Unprocessable Entity", "problems": ["the batch is empty"]}
        )
    if len(items) > MAX_BATCH:
        return json_response(
            422,
            {
                "error": "Unprocessable Entity",
                "problems": [f"at most {MAX_BATCH} responses per batch"],
            },
        )
    spec = spec_of(w.framework)
    header = columns(spec)
    known = set(header)
    problems: list[str] = []
    rows: list[list[str]] = [header]
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            problems.append(f"responses[{n - 1}]: must be an object")
            continue
        for key in item:
            if key not in known:
                problems.append(f"responses[{n - 1}].{key}: unknown field")
        row = []
        for name in header:
            cell = _cell(item.get(name))
            if cell is None:
                problems.append(f"responses[{n - 1}].{name}: must be text, a number or null")
                cell = ""
            row.append(cell)
        rows.append(row)
    if problems:
        return json_response(422, {"error": "Unprocessable Entity", "problems": problems})
    try:
        records = parse_rows(rows, spec, streets=street_lookup(w))
    except ExchangeError as exc:
        # parse_rows counts the header as line 1: response k is on line k + 1.
        return json_response(422, {"error": "Unprocessable Entity", "problems": exc.problems})
    try:
        n = import_records(w, records, interviewer_id=g.api_user.id, path="api")
    except ExchangeError as exc:
        status = 409 if w.state != "fieldwork" else 422
        return json_response(
            status,
            {
                "error": "Conflict" if status == 409 else "Unprocessable Entity",
                "problems": exc.problems,
            },
        )
    return json_response(201, {"imported": n, "wave": w.code})


def _street_filter() -> int | None:
    """The ``street`` query parameter as a street id (street officers: their own only)."""
    user = g.api_user
    code = request.args.get("street")
    if code:
        street = db.session.scalar(
            in_visible(select(Street), Street.district_id).where(
                (Street.code == code) | (Street.name == code)
            )
        )
        if street is None:
            abort(json_response(404, {"error": "Not Found", "message": f"no street {code!r}"}))
        _own_street_only(street.id)
        return street.id
    if user.role == "street":
        return user.street_id
    return None


def _notice_json(n: Notice) -> dict[str, Any]:
    return {
        "id": n.id,
        "kind": n.kind,
        "wave": n.wave.code,
        "street": n.street.code if n.street else None,
        "doc_number": n.doc_number,
        "title": n.title,
        "issue_date": n.issue_date.isoformat(),
        "deadline": n.deadline.isoformat() if n.deadline else None,
        "deadline_provisional": n.deadline_provisional,
        "sha256": n.sha256,
        "acknowledged": n.acknowledged_at is not None,
        "items": [i.id for i in n.items],
    }


def _item_json(i: RectificationItem) -> dict[str, Any]:
    return {
        "id": i.id,
        "notice": i.notice_id,
        "wave": i.notice.wave.code,
        "street": i.street.code,
        "indicator": i.indicator_code,
        "indicator_name": i.indicator_name,
        "street_score": i.street_score,
        "district_score": i.district_score,
        "requirement": i.requirement,
        "state": i.state,
        "deadline": i.deadline.isoformat(),
        "deadline_provisional": i.deadline_provisional,
        "measures": i.measures,
        "responsible_unit": i.responsible_unit,
        "planned_date": i.planned_date.isoformat() if i.planned_date else None,
        "result": i.result,
        "accepted_at": i.accepted_at.isoformat() if i.accepted_at else None,
    }


@bp.get("/notices")
@token_required(*DOCUMENTS)
def notices() -> ResponseReturnValue:
    """Notices (metadata and digest, not the PDF), filtered by ``wave`` and ``street``."""
    query = (
        select(Notice)
        .where(Notice.wave_id.in_(_visible_wave_ids()))
        .order_by(Notice.issued_at.desc(), Notice.id.desc())
    )
    if request.args.get("wave"):
        query = query.where(Notice.wave_id == _wave(request.args["wave"]).id)
    street_id = _street_filter()
    if street_id is not None:
        query = query.where(Notice.street_id == street_id)
    return {"notices": [_notice_json(n) for n in db.session.scalars(query)]}


@bp.get("/notices/<int(max=9223372036854775807):notice_id>")
@token_required(*DOCUMENTS)
def notice(notice_id: int) -> ResponseReturnValue:
    """One notice."""
    n = db.session.get(Notice, notice_id)
    if n is None or not may_see(n.wave.district_id):
        _not_found("notice")
    _own_street_only(n.street_id)
    return _notice_json(n)


@bp.get("/rectification-items")
@token_required(*DOCUMENTS)
def items() -> ResponseReturnValue:
    """Rectification items, filtered by ``wave``, ``street`` and ``state``."""
    query = (
        select(RectificationItem)
        .where(RectificationItem.wave_id.in_(_visible_wave_ids()))
        .order_by(RectificationItem.id)
    )
    if request.args.get("wave"):
        query = query.where(RectificationItem.wave_id == _wave(request.args["wave"]).id)
    street_id = _street_filter()
    if street_id is not None:
        query = query.where(RectificationItem.street_id == street_id)
    if request.args.get("state"):
        query = query.where(RectificationItem.state == request.args["state"])
    return {"items": [_item_json(i) for i in db.session.scalars(query)]}


@bp.get("/rectification-items/<int(max=9223372036854775807):item_id>")
@token_required(*DOCUMENTS)
def item(item_id: int) -> ResponseReturnValue:
    """One rectification item."""
    i = db.session.get(RectificationItem, item_id)
    if i is None or not may_see(i.notice.wave.district_id):
        _not_found("item")
    _own_street_only(i.street_id)
    return _item_json(i)


# Token-authenticated writes only: cookies are never accepted by the API.
csrf.exempt(post_responses)


@bp.app_errorhandler(405)
def method_not_allowed(exc: HTTPException) -> ResponseReturnValue:
    """405 with the ``Allow`` header (RFC 9110); JSON under /api/, the usual page elsewhere."""
    from flask import render_template

    headers = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}
    if request.path.startswith("/api/"):
        body = {"error": exc.name, "message": exc.description}
        return body, 405, headers
    return render_template("errors/error.html", error=exc), 405, headers
