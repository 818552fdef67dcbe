"""The OpenAPI 3 document of API v1, written by hand next to the routes."""

from __future__ import annotations

from typing import Any

from ..questions import ABOUT_YOU

_error = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "problems": {"type": "array", "items": {"type": "string"}},
    },
}


def _resp(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    body = schema or {"$ref": "#/components/schemas/Error"}
    return {"description": description, "content": {"application/json": {"schema": body}}}


_errors = {
    "401": _resp("missing or invalid Bearer token"),
    "403": _resp("the token's role may not do this (or another street's data)"),
    "404": _resp("no such wave, street, notice or item"),
}
_id = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
_code = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
_street_q = {
    "name": "street",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "street code or name",
}
_wave_q = {"name": "wave", "in": "query", "required": False, "schema": {"type": "string"}}
_estimate = {
    "type": "object",
    "properties": {
        "score": {"type": ["number", "null"]},
        "ci_low": {"type": ["number", "null"]},
        "ci_high": {"type": ["number", "null"]},
        "n": {"type": ["integer", "null"]},
        "dk_rate": {"type": ["number", "null"]},
        "satisfaction_rate": {"type": ["number", "null"]},
    },
}
_answer = {
    "oneOf": [
        {"type": "integer", "minimum": 1},
        {"type": "string", "description": "a scale point, DK for 不了解, or empty"},
        {"type": "null"},
    ]
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "minping (民评) API",
        "version": "1.0.0",
        "description": (
            "Waves, scores, response batches, notices and rectification items. "
            "Authenticate with `Authorization: Bearer <token>`; a token is issued once on "
            "/admin/account and stored only as SHA-256. Roles: admin and viewer (bureau) read "
            "everything; agency reads waves and scores and posts responses; interviewer posts "
            "responses; street officers read only their own street. An account scoped to one "
            "district sees only that district's waves, notices and items; another district's "
            "resources answer 404."
        ),
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": _error,
            "Estimate": _estimate,
            "Wave": {
                "type": "object",
                "required": ["code", "name", "state"],
                "properties": {
                    "code": {"type": "string"},
                    "district": {"type": "string"},
                    "name": {"type": "string"},
                    "state": {
                        "type": "string",
                        "enum": [
                            "draft",
                            "fieldwork",
                            "closed",
                            "scored",
                            "notices_issued",
                            "published",
                        ],
                    },
                    "year": {"type": "integer"},
                    "framework": {"type": "string"},
                    "starts_on": {"type": ["string", "null"], "format": "date"},
                    "ends_on": {"type": ["string", "null"], "format": "date"},
                    "responses": {"type": "integer"},
                    "streets": {"type": "array", "items": {"type": "object"}},
                    "groups": {"type": "array", "items": {"type": "string"}},
                    "indicators": {"type": "array", "items": {"type": "string"}},
                },
            },
            "Scores": {
                "type": "object",
                "description": "The scores JSON of a scoring run (docs/scores-json.md).",
                "required": ["method", "district", "streets"],
                "properties": {
                    "method": {"type": "object"},
                    "district": {"type": "object"},
                    "streets": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "street": {"type": "string"},
                                "n": {"type": "integer"},
                                "score": {"type": ["number", "null"]},
                                "ci_low": {"type": ["number", "null"]},
                                "ci_high": {"type": ["number", "null"]},
                                "rank": {"type": ["integer", "null"]},
                                "rank_low": {"type": ["integer", "null"]},
                                "rank_high": {"type": ["integer", "null"]},
                                "band": {"type": ["string", "null"]},
                                "dimensions": {
                                    "type": "object",
                                    "additionalProperties": {
                                        "$ref": "#/components/schemas/Estimate"
                                    },
                                },
                                "indicators": {
                                    "type": "object",
                                    "additionalProperties": {
                                        "$ref": "#/components/schemas/Estimate"
                                    },
                                },
                                "priorities": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                    },
                },
            },
            "ResponseRow": {
                "type": "object",
                "description": (
                    "One response in the exchange format's fields: response_id, street (name or "
                    "code), group, submitted_at (ISO 8601, inside the wave's fieldwork; empty: "
                    "the time of receipt), channel (phone|face|paper; empty: paper; online and "
                    "open are refused), weight (empty or 1: weights are the bureau's), one field "
                    "per indicator code (1..K, 'DK' or null), concerns ('I07;I08' or a list), "
                    "overall, comment; optional " + ", ".join(q.code for q in ABOUT_YOU) + "."
                ),
                "required": ["response_id", "street", "group"],
                "properties": {
                    "response_id": {"type": "string", "minLength": 1, "maxLength": 64},
                    "street": {"type": "string", "minLength": 1},
                    "group": {"type": "string", "minLength": 1},
                    "submitted_at": {"type": ["string", "null"]},
                    "channel": {"type": ["string", "null"]},
                    "weight": {"type": ["number", "string", "null"]},
                    "concerns": {
                        "oneOf": [
                            {"type": "string"},
                            {"type": "array", "items": {"type": "string"}, "maxItems": 3},
                            {"type": "null"},
                        ]
                    },
                    "overall": _answer,
                    "comment": {"type": ["string", "null"]},
                    **{q.code: {"enum": [*q.codes, "", None]} for q in ABOUT_YOU},
                },
                "additionalProperties": _answer,
            },
            "Notice": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "kind": {"type": "string"},
                    "wave": {"type": "string"},
                    "street": {"type": ["string", "null"]},
                    "doc_number": {"type": ["string", "null"]},
                    "title": {"type": "string"},
                    "issue_date": {"type": "string", "format": "date"},
                    "deadline": {"type": ["string", "null"], "format": "date"},
                    "sha256": {"type": "string"},
                    "acknowledged": {"type": "boolean"},
                    "items": {"type": "array", "items": {"type": "integer"}},
                },
            },
            "Item": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "notice": {"type": "integer"},
                    "wave": {"type": "string"},
                    "street": {"type": "string"},
                    "indicator": {"type": "string"},
                    "state": {
                        "type": "string",
                        "enum": [
                            "issued",
                            "planned",
                            "in_progress",
                            "submitted",
                            "accepted",
                            "returned",
                        ],
                    },
                    "deadline": {"type": "string", "format": "date"},
                },
            },
        },
    },
    "paths": {
        "/me": {
            "get": {
                "summary": "The token's user",
                "operationId": "me",
                "responses": {
                    "200": _resp(
                        "user",
                        {
                            "type": "object",
                            "properties": {
                                "username": {"type": "string"},
                                "role": {"type": "string"},
                                "street": {"type": ["string", "null"]},
                                "districts": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                    ),
                    "401": _errors["401"],
                },
            }
        },
        "/waves": {
            "get": {
                "summary": "List waves",
                "operationId": "listWaves",
                "responses": {
                    "200": _resp(
                        "waves",
                        {
                            "type": "object",
                            "properties": {
                                "waves": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Wave"},
                                }
                            },
                        },
                    ),
                    "401": _errors["401"],
                },
            }
        },
        "/waves/{code}": {
            "get": {
                "summary": "One wave, with the columns a response batch may use",
                "operationId": "getWave",
                "parameters": [_code],
                "responses": {
                    "200": _resp("wave", {"$ref": "#/components/schemas/Wave"}),
                    **_errors,
                },
            }
        },
        "/waves/{code}/scores": {
            "get": {
                "summary": "The current scoring run's result (street officers: own street only)",
                "operationId": "getScores",
                "parameters": [_code],
                "responses": {
                    "200": _resp("scores", {"$ref": "#/components/schemas/Scores"}),
                    **_errors,
                },
            }
        },
        "/waves/{code}/streets/{street}/scores": {
            "get": {
                "summary": "One street's scores with the district reference",
                "operationId": "getStreetScores",
                "parameters": [
                    _code,
                    {
                        "name": "street",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": _resp(
                        "street scores",
                        {
                            "type": "object",
                            "properties": {
                                "run": {"type": "integer"},
                                "method": {"type": "object"},
                                "district": {"type": "object"},
                                "street": {"type": "object"},
                            },
                        },
                    ),
                    **_errors,
                },
            }
        },
        "/waves/{code}/responses": {
            "post": {
                "summary": "Add a batch of responses (all or nothing)",
                "operationId": "postResponses",
                "parameters": [_code],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["responses"],
                                "properties": {
                                    "responses": {
                                        "type": "array",
                                        "minItems": 1,
                                        "maxItems": 5000,
                                        "items": {"$ref": "#/components/schemas/ResponseRow"},
                                    }
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": _resp(
                        "imported",
                        {
                            "type": "object",
                            "properties": {
                                "imported": {"type": "integer"},
                                "wave": {"type": "string"},
                            },
                        },
                    ),
                    "409": _resp("the wave is not in fieldwork"),
                    "422": _resp("the batch is invalid; every problem is listed, nothing stored"),
                    **_errors,
                },
            }
        },
        "/notices": {
            "get": {
                "summary": "Notices (metadata and sha256)",
                "operationId": "listNotices",
                "parameters": [_wave_q, _street_q],
                "responses": {
                    "200": _resp(
                        "notices",
                        {
                            "type": "object",
                            "properties": {
                                "notices": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Notice"},
                                }
                            },
                        },
                    ),
                    **_errors,
                },
            }
        },
        "/notices/{id}": {
            "get": {
                "summary": "One notice",
                "operationId": "getNotice",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": _id}],
                "responses": {
                    "200": _resp("notice", {"$ref": "#/components/schemas/Notice"}),
                    **_errors,
                },
            }
        },
        "/rectification-items": {
            "get": {
                "summary": "Rectification items",
                "operationId": "listItems",
                "parameters": [
                    _wave_q,
                    _street_q,
                    {
                        "name": "state",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": _resp(
                        "items",
                        {
                            "type": "object",
                            "properties": {
                                "items": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Item"},
                                }
                            },
                        },
                    ),
                    **_errors,
                },
            }
        },
        "/rectification-items/{id}": {
            "get": {
                "summary": "One rectification item",
                "operationId": "getItem",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": _id}],
                "responses": {
                    "200": _resp("item", {"$ref": "#/components/schemas/Item"}),
                    **_errors,
                },
            }
        },
    },
}
