"""Chinese data inside English pages, marked ``lang="zh-CN"`` for screen readers.

The English interface translates every word of its own, so the Chinese left in
an English page is data: street and community names, wave names, residents'
comments, document titles.  A screen reader reads it with an English voice
unless it is marked (WCAG 3.1.2, language of parts).  Rather than mark each of
the hundreds of data fields in the templates, English HTML responses are
rewritten once on the way out:

- each run of Chinese text in element content becomes
  ``<span lang="zh-CN">…</span>`` (English words beside it stay outside);
- ``<option>`` and ``<textarea>`` cannot hold a span, so the element itself
  gets ``lang="zh-CN"`` when its text holds Chinese;
- full-width punctuation left between English words (``admin（Street staff）``,
  ``Allowed；counted``) is given its English form;
- ``<title>``, ``<script>`` and ``<style>`` and all attribute values are left alone.

Chinese pages are untouched (their ``<html lang="zh-CN">`` covers them).
"""

from __future__ import annotations

import re

from flask import Flask, Response

IDEOGRAPH = re.compile("[\u3400-\u9fff\uf900-\ufaff]")
_CJK = "[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]"
# A run starts and ends with a Chinese character or full-width sign; digits,
# spaces and light punctuation may sit inside it, Latin letters may not.
_RUN = re.compile(f"[0-9]*{_CJK}(?:[0-9\\s.,:;%·/()\\-–—]*{_CJK})*")
# a tag, with quoted attribute values that may hold ">" (title="得分 > 90")
_TAG = re.compile(
    r"""<!--.*?-->|<(/?)([a-zA-Z][a-zA-Z0-9-]*)\b((?:[^>"']|"[^"]*"|'[^']*')*)>""", re.S
)
_SKIP = {"script", "style", "title"}  # raw text, or text that cannot hold markup
_SELF = {"option", "textarea"}  # mark the element itself
_SPAN_OPEN = '<span lang="zh-CN">'
_FULL_WIDTH = re.compile(_CJK)


_ENGLISH_PUNCTUATION = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {  # full-width: ASCII
    ord(k): v
    for k, v in {
        "）": ")",
        "，": ", ",
        "：": ": ",
        "；": "; ",
        "、": ", ",
        "\u3000": " ",
        "。": ". ",
        "～": "–",
    }.items()
}


def _wrap_runs(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        run = match.group(0)
        if IDEOGRAPH.search(run):
            return f"{_SPAN_OPEN}{run}</span>"
        start = match.start()
        space = " " if start and not text[start - 1].isspace() else ""
        return run.replace("（", space + "(", 1).replace("（", "(").translate(_ENGLISH_PUNCTUATION)

    return _RUN.sub(one, text)


def mark_chinese(html: str) -> str:
    """Return ``html`` with its Chinese text runs marked as described above."""
    if not IDEOGRAPH.search(html):
        return html
    out: list[str] = []
    skip: str | None = None
    self_tag: int | None = None  # index in ``out`` of an open <option>/<textarea>
    pos = 0
    for tag in _TAG.finditer(html):
        text = html[pos : tag.start()]
        pos = tag.end()
        if text:
            if skip is None and self_tag is None:
                out.append(_wrap_runs(text) if _FULL_WIDTH.search(text) else text)
            else:
                out.append(text)
                if self_tag is not None and IDEOGRAPH.search(text):
                    opening = out[self_tag]
                    if " lang=" not in opening:
                        out[self_tag] = opening[:-1].rstrip("/") + ' lang="zh-CN">'
        closing, name = tag.group(1), (tag.group(2) or "").lower()
        out.append(tag.group(0))
        if not name:
            continue
        if closing:
            if name == skip:
                skip = None
            elif name in _SELF:
                self_tag = None
        elif name in _SKIP:
            skip = name
        elif name in _SELF:
            self_tag = len(out) - 1
    tail = html[pos:]
    out.append(_wrap_runs(tail) if skip is None and self_tag is None else tail)
    return "".join(out)


def init_app(app: Flask) -> None:
    from flask_babel import get_locale

    @app.after_request
    def _mark_chinese(response: Response) -> Response:
        locale = get_locale()
        if (
            locale is None
            or locale.language != "en"
            or response.mimetype != "text/html"
            or response.direct_passthrough
            or response.is_streamed
        ):
            return response
        response.set_data(mark_chinese(response.get_data(as_text=True)))
        return response
