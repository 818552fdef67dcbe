"""The bureau's document settings: letterhead, doc numbers, deadline, requirement texts."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from reports.requirements import check_templates

from ..errors import UserError
from ..extensions import db
from ..models import District
from .audit import record

# The 发文字号 prefix used when a district has none (see survey/services/notices.py).
DEFAULT_PREFIX = "民整"


def prefix_taken_by(district: District, doc_prefix: str) -> District | None:
    """Another district whose 发文字号 prefix is ``doc_prefix`` (blank = the default).

    Document numbers are numbered per prefix and unique in the installation, so
    each district of an installation needs its own prefix (docs/districts.md).
    """
    wanted = doc_prefix.strip() or DEFAULT_PREFIX
    for other in db.session.scalars(select(District).where(District.id != district.id)):
        if (other.doc_prefix or DEFAULT_PREFIX) == wanted:
            return other
    return None


FIELDS = ("authority", "doc_prefix", "reply_address", "deadline_days", "top_k")


def update_document_settings(
    district: District,
    *,
    authority: str,
    doc_prefix: str,
    reply_address: str,
    deadline_days: int,
    top_k: int,
    templates: Mapping[str, str],
    user_id: int | None = None,
) -> District:
    """Change the district's notice settings and audit-log before and after (not committed).

    Empty requirement texts fall back to the default wording.

    :raises UserError: a requirement text with an unknown placeholder or a lone
        brace, a deadline outside 1..365 working days, top k outside 1..10, or
        a 发文字号 prefix another district of the installation uses; nothing is
        changed then.
    """
    kept = {code: text.strip() for code, text in templates.items() if text and text.strip()}
    try:
        check_templates(kept)
    except ValueError as exc:  # the texts the user typed, refused by reports.requirements
        raise UserError(str(exc)) from exc
    if not 1 <= deadline_days <= 365:
        raise UserError("整改期限须在 1 到 365 个工作日之间。")
    if not 1 <= top_k <= 10:
        raise UserError("每个街道的整改事项须在 1 到 10 项之间。")
    other = prefix_taken_by(district, doc_prefix)
    if other is not None:
        raise UserError(
            f"发文字号前缀「{doc_prefix.strip() or DEFAULT_PREFIX}」已由{other.name}使用，"
            "每个区须使用自己的前缀（如「鼓民整」「玄民整」）。"
        )
    before = {name: getattr(district, name) for name in FIELDS}
    before["requirement_templates"] = dict(district.requirement_templates or {})
    district.authority = authority.strip()
    district.doc_prefix = doc_prefix.strip()
    district.reply_address = reply_address.strip()
    district.deadline_days = deadline_days
    district.top_k = top_k
    district.requirement_templates = kept
    after = {name: getattr(district, name) for name in FIELDS}
    after["requirement_templates"] = kept
    record("district.document_settings", district, user_id=user_id, before=before, after=after)
    return district
