"""Printable A4 sheets of invitation QR codes (segno SVG in HTML, rendered by WeasyPrint)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import segno
from flask import render_template
from markupsafe import Markup

from ..errors import UserError

INSTRUCTION = "请用手机扫码填写居民满意度问卷，约5分钟，不收集姓名和电话"
MAX_PDF_LINKS = 1000


CARDS_PER_PAGE = 8  # 2 x 4 slips of 95 x 66 mm on A4 with 10 mm margins


@dataclass(frozen=True, slots=True)
class QrCard:
    code: str  # the short typed code, e.g. 7KQ2M-XH4TB
    url: str
    svg: Markup


def _date_zh(day: date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def qr_svg(url: str, scale: int = 4) -> Markup:
    """Return ``url`` as an inline SVG QR code (error correction M, quiet zone kept)."""
    return Markup(segno.make(url, error="m", micro=False).svg_inline(scale=scale, omitsize=True))


def _local_only(url: str, timeout: int = 10, ssl_context: Any = None) -> dict[str, Any]:
    """WeasyPrint URL fetcher that refuses everything but inline data."""
    if url.startswith("data:"):
        from weasyprint import default_url_fetcher

        return default_url_fetcher(url, timeout=timeout, ssl_context=ssl_context)
    raise ValueError(f"QR sheets load no external resources ({url[:40]})")


def qr_sheet_pdf(
    links: Sequence[tuple[str, str]],
    *,
    title: str,
    street: str,
    group: str,
    community: str = "",
    poster: bool = False,
    agency: str = "",
    hotline: str = "",
    closes_on: date | None = None,
    entry_url: str = "",
) -> bytes:
    """Render ``(token, url)`` pairs as an A4 PDF: 8 cut-out slips a page, or posters.

    Every slip carries its own QR code, the wave, street, group, agency, hotline,
    closing date and the short typed code (14 pt, two groups of five) to type at
    ``entry_url``.  Slips are laid out as one fixed table per page, so no QR code
    is ever split off at a page break.

    :param poster: one large code per page (an open link for a community notice board).
    :raises UserError: more than ``MAX_PDF_LINKS`` links (use the CSV instead).
    """
    from weasyprint import HTML

    from .invitations import typed_code

    if len(links) > MAX_PDF_LINKS:
        raise UserError(f"一次最多打印 {MAX_PDF_LINKS} 个二维码，请分批创建或下载 CSV。")
    cards = [
        QrCard(typed_code(token), url, qr_svg(url, scale=10 if poster else 4))
        for token, url in links
    ]
    pages = [cards[k : k + CARDS_PER_PAGE] for k in range(0, len(cards), CARDS_PER_PAGE)]
    html = render_template(
        "agency/qr_sheet.html",
        cards=cards,
        pages=pages,
        agency=agency,
        hotline=hotline,
        closes_on=_date_zh(closes_on),
        entry_url=entry_url,
        title=title,
        street=street,
        group=group,
        community=community,
        poster=poster,
        instruction=INSTRUCTION,
    )
    return HTML(string=html, url_fetcher=_local_only).write_pdf()
