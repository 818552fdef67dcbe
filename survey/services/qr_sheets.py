"""Printable A4 sheets of invitation QR codes (segno SVG in HTML, rendered by WeasyPrint)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import segno
from flask import render_template
from markupsafe import Markup

INSTRUCTION = "请用手机扫码填写居民满意度问卷，约5分钟，不收集姓名和电话"
MAX_PDF_LINKS = 1000


@dataclass(frozen=True, slots=True)
class QrCard:
    code: str
    url: str
    svg: Markup


def qr_svg(url: str, scale: int = 4) -> Markup:
    """Return ``url`` as an inline SVG QR code (error correction M, quiet zone kept)."""
    return Markup(segno.make(url, error="m", micro=False).svg_inline(scale=scale, omitsize=True))


def _local_only(url: str, timeout: int = 10, ssl_context=None):  # type: ignore[no-untyped-def]
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
) -> bytes:
    """Render ``(token, url)`` pairs as an A4 PDF: 8 cut-out slips a page, or posters.

    :param poster: one large code per page (an open link for a community notice board).
    :raises ValueError: more than ``MAX_PDF_LINKS`` links (use the CSV instead).
    """
    from weasyprint import HTML

    if len(links) > MAX_PDF_LINKS:
        raise ValueError(f"一次最多打印 {MAX_PDF_LINKS} 个二维码，请分批创建或下载 CSV。")
    cards = [QrCard(token, url, qr_svg(url, scale=10 if poster else 4)) for token, url in links]
    html = render_template(
        "agency/qr_sheet.html",
        cards=cards,
        title=title,
        street=street,
        group=group,
        community=community,
        poster=poster,
        instruction=INSTRUCTION,
    )
    return HTML(string=html, url_fetcher=_local_only).write_pdf()
