"""Hostile evidence PDFs, built by hand: object streams, filter chains, every action, bombs."""

from __future__ import annotations

import binascii
import struct
import zlib

import pytest

from survey.services.evidence import EvidenceRejected, check_upload

PAGE_CONTENT = b"BT /F1 12 Tf 72 720 Td (ok) Tj ET"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >>"


def encode(data: bytes, filters: list[str]) -> bytes:
    """Apply ``filters`` (as listed in /Filter, so the last one is applied first)."""
    for name in reversed(filters):
        if name == "/FlateDecode":
            data = zlib.compress(data)
        elif name == "/ASCIIHexDecode":
            data = binascii.hexlify(data) + b">"
        else:
            raise ValueError(name)
    return data


def filter_entry(filters: list[str]) -> bytes:
    if not filters:
        return b""
    return b" /Filter [" + b" ".join(f.encode() for f in filters) + b"]"


def build_pdf(
    catalog_extra: bytes = b"",
    *,
    extra_objects: dict[int, bytes] | None = None,
    in_objstm: bool = True,
    objstm_filters: list[str] | None = None,
    extra_streams: list[bytes] | None = None,
) -> bytes:
    """A one-page PDF 1.7 with a cross-reference stream.

    Objects 1 (catalog), 2 (pages), 3 (page) and ``extra_objects`` go into an
    object stream (object 10) encoded with ``objstm_filters`` when
    ``in_objstm``; object 4 is the page content; ``extra_streams`` are raw
    stream objects (dictionary and data) numbered from 20.
    """
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: PAGE + b" /Contents 4 0 R >>",
        **(extra_objects or {}),
    }
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, tuple[int, int, int]] = {}  # num -> (type, field2, field3)

    def add(num: int, body: bytes) -> None:
        offsets[num] = (1, len(out), 0)
        out.extend(b"%d 0 obj\n" % num + body + b"\nendobj\n")

    content = zlib.compress(PAGE_CONTENT)
    add(
        4,
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content)
        + content
        + b"\nendstream",
    )
    for k, stream in enumerate(extra_streams or []):
        add(20 + k, stream)
    if in_objstm:
        nums = sorted(objects)
        bodies = [objects[n] + b"\n" for n in nums]
        header, pos = [], 0
        for n, body in zip(nums, bodies, strict=True):
            header.append(b"%d %d" % (n, pos))
            pos += len(body)
        head = b" ".join(header) + b"\n"
        raw = head + b"".join(bodies)
        filters = objstm_filters or []
        data = encode(raw, filters)
        add(
            10,
            b"<< /Type /ObjStm /N %d /First %d /Length %d%s >>\nstream\n"
            % (len(nums), len(head), len(data), filter_entry(filters))
            + data
            + b"\nendstream",
        )
        for i, n in enumerate(nums):
            offsets[n] = (2, 10, i)
    else:
        for n, body in sorted(objects.items()):
            add(n, body)
    xref_num = max([*offsets, 10]) + 1
    offsets[xref_num] = (1, len(out), 0)
    size = xref_num + 1
    rows = b"".join(
        struct.pack(">BIH", *offsets.get(n, (0, 0, 0 if n else 65535))) for n in range(size)
    )
    out.extend(
        b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n"
        % (xref_num, size, len(rows))
        + rows
        + b"\nendstream\nendobj\n"
    )
    out.extend(b"startxref\n%d\n%%%%EOF\n" % offsets[xref_num][1])
    return bytes(out)


def refused(data: bytes, words: str = "安全原因") -> str:
    with pytest.raises(EvidenceRejected) as info:
        check_upload("report.pdf", data)
    assert words in str(info.value), str(info.value)
    return str(info.value)


def test_the_hand_built_pdf_is_valid_and_accepted():
    import pikepdf

    for filters in ([], ["/ASCIIHexDecode"], ["/FlateDecode", "/FlateDecode"]):
        data = build_pdf(objstm_filters=filters)
        with pikepdf.open(__import__("io").BytesIO(data)) as pdf:
            assert len(pdf.pages) == 1 and not pdf.get_warnings()
        assert check_upload("ok.pdf", data).data == data


CHAINS = {
    "asciihex": ["/ASCIIHexDecode"],
    "double-flate": ["/FlateDecode", "/FlateDecode"],
    "hex-then-flate": ["/FlateDecode", "/ASCIIHexDecode"],
}


@pytest.mark.parametrize("chain", list(CHAINS))
def test_openaction_javascript_hidden_in_an_object_stream(chain):
    data = build_pdf(
        b"/OpenAction 5 0 R",
        extra_objects={5: b"<< /S /JavaScript /JS (app.alert(1)) >>"},
        objstm_filters=CHAINS[chain],
    )
    assert b"OpenAction" not in data and b"JavaScript" not in data  # invisible to a byte search
    refused(data)


ACTIONS = {
    "javascript": b"<< /S /JavaScript /JS (app.alert(1)) >>",
    "launch": b"<< /S /Launch /F (cmd.exe) >>",
    "uri": b"<< /S /URI /URI (http://evil.example/) >>",
    "submitform": b"<< /S /SubmitForm /F << /FS /URL /F (http://evil.example/) >> >>",
    "gotor": b"<< /S /GoToR /F (other.pdf) /D [0 /Fit] >>",
    "importdata": b"<< /S /ImportData /F (data.fdf) >>",
}


@pytest.mark.parametrize("where", ["openaction", "aa"])
@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_action_type_is_refused(action, where):
    extra = b"/OpenAction 5 0 R" if where == "openaction" else b""
    page_aa = {3: PAGE + b" /AA << /O 5 0 R >> >>"}
    data = build_pdf(
        extra,
        extra_objects={5: ACTIONS[action], **(page_aa if where == "aa" else {})},
        objstm_filters=["/FlateDecode", "/FlateDecode"],
    )
    refused(data)


@pytest.mark.parametrize(
    "extra, objects",
    [
        (b"/Names << /EmbeddedFiles 5 0 R >>", {5: b"<< /Names [(a.exe) 6 0 R] >>"}),
        (b"/AcroForm << /Fields [] /XFA 5 0 R >>", {5: b"[(template) 7 0 R]"}),
        (b"", {6: b"<< /Type /Annot /Subtype /RichMedia /Rect [0 0 1 1] >>"}),
        (b"", {6: b"<< /Type /Annot /Subtype /FileAttachment /FS 7 0 R >>"}),
        (b"/Names << /J#61vaScript 5 0 R >>", {5: b"<< /Names [] >>"}),
        (b"/URI << /Base (http://evil.example/) >>", {}),
    ],
    ids=["embeddedfiles", "xfa", "richmedia", "fileattachment", "escaped-name", "uri-base"],
)
def test_embedded_files_forms_and_media_are_refused(extra, objects):
    refused(build_pdf(extra, extra_objects=objects, objstm_filters=["/ASCIIHexDecode"]))


def test_embedded_file_stream_outside_object_streams():
    stream = b"<< /Type /EmbeddedFile /Length 5 >>\nstream\nMZ...\nendstream"
    refused(build_pdf(in_objstm=False, extra_streams=[stream]))


def test_decompression_bomb_is_refused():
    zeros = zlib.compress(b"\0" * (80 * 1024 * 1024), 9)  # ~80 KiB that inflates to 80 MiB
    stream = (
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(zeros) + zeros + b"\nendstream"
    )
    data = build_pdf(in_objstm=False, extra_streams=[stream])
    assert len(data) < 200 * 1024
    refused(data, "解压")


def test_many_streams_add_up_to_a_bomb():
    zeros = zlib.compress(b"\0" * (12 * 1024 * 1024), 9)
    stream = (
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(zeros) + zeros + b"\nendstream"
    )
    refused(build_pdf(in_objstm=False, extra_streams=[stream] * 8), "解压")


def test_bomb_inside_the_object_stream_chain():
    big = b"<< /Pad (" + b"0" * (70 * 1024 * 1024) + b") >>"
    data = build_pdf(extra_objects={5: big}, objstm_filters=["/FlateDecode", "/FlateDecode"])
    assert len(data) < 1024 * 1024
    refused(data, "解压")


def test_text_in_a_page_is_not_an_object():
    """Words that merely look like PDF syntax inside page text do not make a PDF active."""
    content = zlib.compress(b"BT (see 6 0 obj << /S /Go >> endobj) Tj ET")
    stream = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content
    assert check_upload("ok.pdf", build_pdf(extra_streams=[stream + b"\nendstream"])).data


def test_a_clean_pdf_checks_in_bounded_memory():
    from survey.services import pdf_safety

    verdict = pdf_safety.scan(build_pdf(objstm_filters=["/FlateDecode"]))
    assert verdict.ok and verdict.objects >= 5 and verdict.inflated > 0
    assert pdf_safety.CHILD_MEMORY <= 1024 * 1024 * 1024


def test_streaming_decoders_match_whole_decoding():
    import base64
    import os

    from survey.services.pdf_filters import _a85, _flate, _hex, _runlength

    data = os.urandom(200_000) + b"\0" * 4000

    def pieces(raw: bytes, size: int) -> list[bytes]:
        return [raw[i : i + size] for i in range(0, len(raw), size)]

    assert b"".join(_flate(pieces(zlib.compress(data), 777))) == data
    assert b"".join(_hex(pieces(binascii.hexlify(data) + b" \n>", 7777))) == data
    assert b"".join(_a85(pieces(base64.a85encode(data) + b"~>", 6553))) == data
    runs = bytes([2]) + b"abc" + bytes([257 - 5]) + b"z" + bytes([128])  # literal, run, end
    assert b"".join(_runlength(pieces(runs, 2))) == b"abczzzzz"
