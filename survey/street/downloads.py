"""Responses for stored files (notice PDFs, evidence), shared by street, admin and public."""

from __future__ import annotations

import io

from flask import Response, abort, send_file

from ..downloads import content_disposition
from ..models import Evidence, Notice

KIND_FILE_NAMES = {
    "notice": "整改通知书",
    "letter": "测评结果告知书",
    "escalation": "督办通知",
    "publication": "整改公示",
    "ranking": "测评结果通报",
}


def notice_filename(notice: Notice) -> str:
    """Name a file by street and document: 宁海路街道-整改通知书-测民整〔2026〕1号.pdf."""
    who = notice.street.full_name if notice.street else notice.wave.district.name
    parts = [who, KIND_FILE_NAMES.get(notice.kind, "文件")]
    if notice.doc_number:
        parts.append(notice.doc_number)
    return "-".join(parts) + ".pdf"


def pdf_response(data: bytes, filename: str, *, inline: bool = False) -> Response:
    """Send PDF bytes as a download named ``filename`` (RFC 6266 ``filename*`` for Chinese)."""
    response = send_file(io.BytesIO(data), mimetype="application/pdf", max_age=0)
    response.headers["Content-Disposition"] = content_disposition(filename, inline=inline)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def evidence_response(
    evidence: Evidence, *, thumbnail: bool = False, public: bool = False
) -> Response:
    """Send an evidence file (or its JPEG thumbnail); PDFs always as attachments."""
    if thumbnail:
        if evidence.thumbnail is None:
            abort(404)
        data, mimetype, name = evidence.thumbnail, "image/jpeg", f"thumb-{evidence.id}.jpg"
    else:
        data, mimetype, name = evidence.data, evidence.content_type, evidence.filename
    response = send_file(
        io.BytesIO(data),
        mimetype=mimetype,
        etag=evidence.sha256 if not thumbnail else False,
        max_age=3600 if public else 0,
    )
    response.headers["Content-Disposition"] = content_disposition(
        name, inline=mimetype != "application/pdf"
    )
    response.headers["Cache-Control"] = "public, max-age=3600" if public else "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
