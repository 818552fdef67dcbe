"""Peak memory of checking a hostile evidence PDF (a decompression bomb).

Run: ``PYTHONPATH=. .venv/bin/python tests/benchmarks/bench_pdf_memory.py``.
Builds a ~770 KiB PDF of twelve Flate streams that inflate to 64 MiB each
(770 MiB in all) and a ~1 MiB one whose cross-reference stream inflates to
1 GiB, checks each once in a fresh process and prints the peak resident
memory of that process and of any checking child, before and after the
check; also a clean one-page PDF as the peer.
"""

from __future__ import annotations

import subprocess
import sys
import zlib

CODE = r"""
import resource, sys, time
sys.path.insert(0, ".")
from survey.services.evidence import EvidenceRejected, check_upload
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
try:
    check_upload("x.pdf", data)
    verdict = "accepted"
except EvidenceRejected as exc:
    verdict = "refused: " + str(exc)[:60]
elapsed = time.perf_counter() - t
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"{len(data) / 1024:.0f} KiB: {verdict}; {elapsed:.2f} s; worker peak RSS "
      f"{before / 1024:.0f} -> {after / 1024:.0f} MiB (+{(after - before) / 1024:.0f}); "
      f"checker child peak {child / 1024:.0f} MiB")
"""


def bomb() -> bytes:
    zeros = zlib.compress(b"\0" * (64 * 1024 * 1024), 9)
    out = bytearray(b"%PDF-1.7\n")
    out += b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    out += b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
    out += b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj\n"
    for k in range(12):
        out += b"%d 0 obj << /Length %d /Filter /FlateDecode >>\nstream\n" % (10 + k, len(zeros))
        out += zeros + b"\nendstream endobj\n"
    out += b"trailer << /Root 1 0 R >>\n%%EOF\n"
    return bytes(out)


def xref_bomb() -> bytes:
    """A cross-reference stream that inflates to 1 GiB: qpdf meets it while opening."""
    comp = zlib.compressobj(9)
    block = b"\0" * (16 * 1024 * 1024)
    zeros = b"".join(comp.compress(block) for _ in range(64)) + comp.flush()
    out = bytearray(b"%PDF-1.7\n")
    out += b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    out += b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
    out += b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 9 9] >> endobj\n"
    start = len(out)
    out += b"4 0 obj << /Type /XRef /Size 5 /W [1 4 2] /Root 1 0 R /Filter /FlateDecode"
    out += b" /Length %d >>\nstream\n" % len(zeros) + zeros + b"\nendstream endobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % start
    return bytes(out)


def clean() -> bytes:
    content = zlib.compress(b"BT /F1 12 Tf 72 720 Td (ok) Tj ET")
    return (
        b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
        b"3 0 obj << /Type /Page /Parent 2 0 R /Contents 4 0 R >> endobj\n"
        + b"4 0 obj << /Length %d /Filter /FlateDecode >>\nstream\n" % len(content)
        + content
        + b"\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )


def main() -> None:
    import tempfile

    for name, data in (("clean", clean()), ("bomb", bomb()), ("xref-bomb", xref_bomb())):
        with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
            fh.write(data)
            fh.flush()
            out = subprocess.run(
                [sys.executable, "-c", CODE, fh.name], capture_output=True, text=True, check=False
            )
            print(f"{name}: {out.stdout.strip() or out.stderr.strip()[-300:]}")


if __name__ == "__main__":
    main()
