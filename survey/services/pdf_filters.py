"""Streaming PDF stream decoders: each takes and yields chunks, never a whole stream.

Used by :mod:`survey.services.pdf_safety` to count how many bytes a stream
inflates to without keeping them.  Flate, ASCIIHex, ASCII85 and RunLength
are decoded; image codecs are final data and not decoded; anything else
(LZW) cannot be measured and is refused by the caller.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Iterable, Iterator

CHUNK = 64 * 1024

IMAGE_FILTERS = frozenset({"/DCTDecode", "/JPXDecode", "/CCITTFaxDecode", "/JBIG2Decode"})
FILTER_ALIASES = {
    "/Fl": "/FlateDecode",
    "/AHx": "/ASCIIHexDecode",
    "/A85": "/ASCII85Decode",
    "/RL": "/RunLengthDecode",
    "/LZW": "/LZWDecode",
    "/DCT": "/DCTDecode",
    "/CCF": "/CCITTFaxDecode",
}


def _flate(chunks: Iterable[bytes]) -> Iterator[bytes]:
    inflater = zlib.decompressobj()
    try:
        for chunk in chunks:
            data = chunk
            while data:
                out = inflater.decompress(data, CHUNK)
                if out:
                    yield out
                data = inflater.unconsumed_tail
                if inflater.eof:
                    return
        while not inflater.eof:
            out = inflater.decompress(b"", CHUNK)
            if not out:
                break
            yield out
    except zlib.error:
        return  # a damaged stream decodes to what came out so far, as in readers


def _hex(chunks: Iterable[bytes]) -> Iterator[bytes]:
    carry = b""
    for chunk in chunks:
        end = chunk.find(b">")
        digits = carry + (chunk if end < 0 else chunk[:end]).translate(None, _NOT_HEX)
        even = len(digits) - len(digits) % 2
        if even:
            yield bytes.fromhex(digits[:even].decode("ascii"))
        carry = digits[even:]
        if end >= 0:
            break
    if carry:
        yield bytes.fromhex((carry + b"0").decode("ascii"))


_NOT_HEX = bytes(b for b in range(256) if b not in b"0123456789abcdefABCDEF")
_NOT_A85 = bytes(b for b in range(256) if not (33 <= b <= 117 or b == ord("z")))


def _a85(chunks: Iterable[bytes]) -> Iterator[bytes]:
    carry = b""
    for chunk in chunks:
        end = chunk.find(b"~>")
        body = chunk if end < 0 else chunk[:end]
        text = carry + body.translate(None, _NOT_A85)
        cut = len(text) - len(text) % 5 if b"z" not in text else _a85_cut(text)
        if cut:
            yield base64.a85decode(text[:cut])
        carry = text[cut:]
        if end >= 0:
            break
    if carry:
        try:
            yield base64.a85decode(carry)
        except ValueError:
            return


def _a85_cut(text: bytes) -> int:
    """Longest prefix of complete ASCII85 groups (``z`` is a group of its own)."""
    cut, group = 0, 0
    for i, c in enumerate(text):
        if c == ord("z") and group == 0:
            cut = i + 1
            continue
        group += 1
        if group == 5:
            group, cut = 0, i + 1
    return cut


def _runlength(chunks: Iterable[bytes]) -> Iterator[bytes]:
    pending = b""
    for chunk in chunks:
        data = pending + chunk
        i = 0
        out = bytearray()
        while i < len(data):
            length = data[i]
            if length == 128:
                return
            if length < 128:
                if i + 1 + length + 1 > len(data):
                    break
                out += data[i + 1 : i + 2 + length]
                i += 2 + length
            else:
                if i + 1 >= len(data):
                    break
                out += data[i + 1 : i + 2] * (257 - length)
                i += 2
            if len(out) >= CHUNK:
                yield bytes(out)
                out.clear()
        if out:
            yield bytes(out)
        pending = data[i:]


DECODERS = {
    "/FlateDecode": _flate,
    "/ASCIIHexDecode": _hex,
    "/ASCII85Decode": _a85,
    "/RunLengthDecode": _runlength,
}
