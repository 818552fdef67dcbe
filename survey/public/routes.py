"""Public pages: published waves, every street's band and interval, street rectification."""

from __future__ import annotations

from flask import abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import or_, select

from ..extensions import db
from ..models import Street, Wave
from ..services import publication
from ..services.rectification import PUBLIC_STATUS
from ..services.results import district_reference_label
from ..street.downloads import evidence_response, pdf_response
from . import bp


def _min_n() -> int:
    return int(current_app.config.get("MIN_PUBLIC_N", 10))


def _published(code: str) -> Wave:
    wave = db.session.scalar(select(Wave).where(Wave.code == code, Wave.state == "published"))
    if wave is None:
        abort(404)
    return wave


def _street(wave: Wave, key: str) -> Street:
    match = [Street.code == key]
    if key.isdigit():
        match.append(Street.id == int(key))
    street = db.session.scalar(
        select(Street).where(Street.district_id == wave.district_id, or_(*match))
    )
    if street is None:
        abort(404)
    return street


@bp.get("/")
def index() -> ResponseReturnValue:
    """List the published waves."""
    waves = db.session.scalars(
        select(Wave).where(Wave.state == "published").order_by(Wave.published_at.desc())
    ).all()
    return render_template("public/index.html", waves=waves)


@bp.get("/<code>/")
def wave(code: str) -> ResponseReturnValue:
    """Show every street's score, 95% interval, rank interval and band."""
    found = _published(code)
    rows = publication.wave_table(found, min_n=_min_n())
    doc = publication.scores_doc(found)
    query = (request.args.get("q") or "").strip()[:40]
    band = request.args.get("band") or ""
    shown = [
        r
        for r in rows
        if (not query or query in r["street"].name)
        and (band not in ("above", "similar", "below") or r["band"] == band)
    ]
    return render_template(
        "public/wave.html",
        wave=found,
        rows=shown,
        total=len(rows),
        query=query,
        band=band,
        district=doc.district if doc is not None else {},
        district_reference=district_reference_label(doc.district.reference if doc else None),
        rank_kind=publication.rank_kind(doc),
        min_n=_min_n(),
    )


@bp.get("/<code>/streets/<key>")
def street(code: str, key: str) -> ResponseReturnValue:
    """Show a street's results, rectification items, measures, status and accepted evidence."""
    found = _published(code)
    target = _street(found, key)
    min_n = _min_n()
    view = publication.street_view(found, target, min_n=min_n)
    return render_template(
        "public/street.html",
        wave=found,
        street=target,
        view=view,
        rank_kind=view["rank_kind"] if view else "marginal",
        items=publication.public_items(found, target),
        status=PUBLIC_STATUS,
        verify=publication.page_verification(found, [target], published_only=True, min_n=min_n),
        min_n=min_n,
    )


@bp.get("/<code>/streets/<key>/publication.pdf")
def publication_pdf(code: str, key: str) -> ResponseReturnValue:
    """Download the street's printable 整改公示."""
    found = _published(code)
    target = _street(found, key)
    pdf = publication.publication_pdf(found, target)
    return pdf_response(pdf, f"{target.full_name}-整改公示-{found.name}.pdf", inline=True)


@bp.get("/evidence/<int:evidence_id>.jpg")
def evidence_thumb(evidence_id: int) -> ResponseReturnValue:
    """Send the thumbnail of accepted evidence of a published wave."""
    evidence = publication.public_evidence(evidence_id)
    if evidence is None:
        abort(404)
    return evidence_response(evidence, thumbnail=True, public=True)
