"""Checking rectification evidence uploads: photos (JPEG/PNG) and PDF documents.

Files are judged by their content, never by the name or the browser's content
type.  Photos are opened with Pillow under a pixel ceiling (decompression
bombs), verified, and re-encoded from their pixels, so EXIF (GPS position,
camera serial) and every other metadata chunk is dropped; a thumbnail is made
for the public pages.  PDFs must start with ``%PDF-`` and are parsed with
pikepdf in a memory-capped child process (:mod:`survey.services.pdf_safety`):
no scripts, actions, links, embedded files, media or XFA forms in any object,
also inside object streams, and bounded decompression.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from flask import has_request_context
from flask_babel import gettext
from PIL import Image, ImageOps

from ..errors import UserError
from . import pdf_safety

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_PDF_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # 40 megapixels: any phone photo, no decompression bomb
THUMBNAIL_SIZE = (480, 480)
IMAGE_FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png")}

# Pillow refuses (DecompressionBombError) above twice this and warns above it;
# the warning is turned into a refusal below.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def _(text: str, **variables: object) -> str:
    """Translate in a request (the reader's language); plain Chinese from the CLI or tests."""
    if has_request_context():
        return gettext(text, **variables)
    return text % variables if variables else text


class EvidenceRejected(UserError):
    """An upload that cannot be kept; the message tells a street clerk what to do."""


@dataclass(frozen=True, slots=True)
class CheckedFile:
    """An accepted upload, cleaned and ready to store."""

    filename: str
    content_type: str
    data: bytes
    thumbnail: bytes | None
    sha256: str

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


ALLOWED_HINT = _("只能上传JPEG或PNG格式的照片（每张不超过5MB）或PDF文件（不超过10MB）。")


def check_upload(filename: str, data: bytes) -> CheckedFile:
    """Return the cleaned file, or raise :class:`EvidenceRejected` saying why.

    :param filename: the name the browser sent (only its stem is kept).
    :param data: the uploaded bytes.
    """
    if not data:
        raise EvidenceRejected(_("文件是空的，请重新选择。"))
    if data.startswith(b"%PDF-"):
        return _check_pdf(filename, data)
    if data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
        return _check_image(filename, data)
    raise EvidenceRejected(_("文件内容不是照片或PDF文件，未保存。") + _(ALLOWED_HINT))


def _stem(filename: str) -> str:
    name = PureWindowsPath(PurePosixPath(filename or "").name).name
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = "".join(c for c in stem if c.isprintable() and c not in '\\/:*?"<>|').strip()
    return stem[:80] or "evidence"


def _check_image(filename: str, data: bytes) -> CheckedFile:
    if len(data) > MAX_IMAGE_BYTES:
        raise EvidenceRejected(
            _("照片超过5MB（本文件约%(mb).1fMB），未保存。请压缩后再上传。", mb=len(data) / 2**20)
        )
    too_big = EvidenceRejected(
        _("照片尺寸过大（超过4000万像素），未保存。请用手机正常拍摄的照片。")
    )
    unreadable = EvidenceRejected(_("照片文件已损坏或无法识别，未保存。") + _(ALLOWED_HINT))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in IMAGE_FORMATS:
                    raise unreadable
                width, height = probe.size
                if width * height > MAX_PIXELS:
                    raise too_big
                probe.verify()
            with Image.open(io.BytesIO(data)) as img:
                fmt = img.format
                img.load()
                clean = _without_metadata(img)
    except EvidenceRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_big from None
    except Exception:  # noqa: BLE001 - any decoder failure means a bad file
        raise unreadable from None
    content_type, suffix = IMAGE_FORMATS[str(fmt)]  # a format of IMAGE_FORMATS (checked above)
    out = io.BytesIO()
    if fmt == "JPEG":
        clean.save(out, "JPEG", quality=90, optimize=True)
    else:
        clean.save(out, "PNG", optimize=True)
    cleaned = out.getvalue()
    return CheckedFile(
        filename=_stem(filename) + suffix,
        content_type=content_type,
        data=cleaned,
        thumbnail=_thumbnail(clean),
        sha256=hashlib.sha256(cleaned).hexdigest(),
    )


def _without_metadata(img: Image.Image) -> Image.Image:
    """Return the pixels alone, turned upright, with no EXIF, GPS, XMP or text chunks."""
    upright = ImageOps.exif_transpose(img) or img
    if img.format == "JPEG":
        mode = "L" if upright.mode == "L" else "RGB"
    else:
        mode = upright.mode if upright.mode in ("L", "LA", "RGB", "RGBA") else "RGBA"
    pixels = upright.convert(mode)
    clean = Image.new(mode, pixels.size)
    clean.paste(pixels)
    clean.info.clear()
    return clean


def _thumbnail(img: Image.Image) -> bytes:
    thumb = img.copy()
    thumb.thumbnail(THUMBNAIL_SIZE)
    if thumb.mode in ("LA", "RGBA"):
        background = Image.new("RGB", thumb.size, "white")
        background.paste(thumb, mask=thumb.getchannel("A"))
        thumb = background
    out = io.BytesIO()
    thumb.convert("RGB").save(out, "JPEG", quality=82, optimize=True)
    return out.getvalue()


def _check_pdf(filename: str, data: bytes) -> CheckedFile:
    if len(data) > MAX_PDF_BYTES:
        raise EvidenceRejected(
            _("PDF文件超过10MB（本文件约%(mb).1fMB），未保存。", mb=len(data) / 2**20)
        )
    if b"%%EOF" not in data[-2048:]:
        raise EvidenceRejected(_("PDF文件不完整或已损坏，未保存。"))
    verdict = pdf_safety.scan_isolated(data)
    if not verdict.ok:
        raise EvidenceRejected(_pdf_refusal(verdict))
    return CheckedFile(
        filename=_stem(filename) + ".pdf",
        content_type="application/pdf",
        data=data,
        thumbnail=None,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _pdf_refusal(verdict: pdf_safety.Verdict) -> str:
    """A street clerk's explanation of why a PDF was refused."""
    fix = _("请打印后扫描，或另存为不含链接和附件的普通PDF再上传。")
    if verdict.reason == "active":
        return (
            _(
                "PDF文件含有脚本、链接、自动运行或内嵌文件（%(what)s），出于安全原因未保存。",
                what=verdict.detail,
            )
            + fix
        )
    if verdict.reason == "inflated":
        return (
            _(
                "PDF文件解压后过大（超过%(mb)sMB）或检查超时，出于安全原因未保存。",
                mb=pdf_safety.MAX_INFLATED // 2**20,
            )
            + fix
        )
    if verdict.reason == "objects":
        return _("PDF文件结构过于复杂（对象过多），出于安全原因未保存。") + fix
    if verdict.reason == "filter":
        return (
            _(
                "PDF文件使用了不支持的压缩方式（%(what)s），出于安全原因未保存。",
                what=verdict.detail,
            )
            + fix
        )
    if verdict.reason == "encrypted":
        return _("PDF文件设置了打开密码，未保存。请去掉密码后再上传。")
    return _("PDF文件不完整或已损坏，未保存。")
