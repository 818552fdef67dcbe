"""The cached copies of the CJK faces (reports/fonts.py): same glyphs and text, smaller subsets."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fontTools.ttLib import TTFont

from reports import fonts

ROOT = Path(__file__).resolve().parents[2]
RARE = "䶮龘"  # extension A, and a unified ideograph outside GB 2312


def _face(face: fonts.Face) -> fonts.Face:
    if not face.path.is_file():
        pytest.skip(f"{face.path} is not installed")
    if fonts._harfbuzz() is None:
        pytest.skip("HarfBuzz-subset is not available")
    return face


@pytest.mark.parametrize("face", fonts.FACES, ids=lambda f: f.family)
def test_copy_keeps_metrics_and_common_characters(face: fonts.Face, tmp_path: Path) -> None:
    face = _face(face)
    target = tmp_path / "copy.otf"
    assert fonts.make_copy(face, target)
    with TTFont(target, lazy=True) as copy, TTFont(face.path, fontNumber=face.index) as source:
        _same_metrics(copy, source)


def _same_metrics(copy: TTFont, source: TTFont) -> None:
    assert copy["head"].unitsPerEm == source["head"].unitsPerEm
    for table, fields in (
        ("hhea", ("ascent", "descent", "lineGap")),
        ("OS/2", ("sTypoAscender", "sTypoDescender", "sTypoLineGap", "usWinAscent")),
    ):
        for field in fields:
            assert getattr(copy[table], field) == getattr(source[table], field), (table, field)
    copy_map, source_map = copy.getBestCmap(), source.getBestCmap()
    for char in "民评整改通知书，。“”（）〔〕—①ABC123%≥":
        code = ord(char)
        assert code in copy_map, char
        # same advance as the system face: the text is laid out exactly as before
        assert copy["hmtx"][copy_map[code]] == source["hmtx"][source_map[code]], char
    for char in RARE:
        assert ord(char) in source_map and ord(char) not in copy_map, char
    assert len(copy.getGlyphOrder()) < len(source.getGlyphOrder()) / 2
    assert "GSUB" in copy and "GPOS" in copy  # layout kept


def test_copy_is_named_by_its_source_and_readable(tmp_path: Path, monkeypatch: Any) -> None:
    face = _face(fonts.FACES[0])
    monkeypatch.setenv("MINPING_FONT_CACHE", str(tmp_path / "cache"))
    path = fonts._copy_path(face)
    assert path.parent == tmp_path / "cache" and path.name.startswith("Minping-UKai-")
    assert fonts.make_copy(face, path)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    assert path.stat().st_mode & 0o044 == 0o044  # renderers of other users may read it


_RENDER = """
import sys
sys.path.insert(0, {root!r}); sys.path.insert(0, {benchmarks!r})
import dataclasses
from bench_notices import notices
from reports.notice import render_notice_pdf
data = notices(40)[7]
item = data.items[0]
rare = "楼道里堆放杂物，{rare} 조용히 ≥ ①"
data = dataclasses.replace(
    data, items=(dataclasses.replace(item, comments=(rare, *item.comments)), *data.items[1:])
)
open(sys.argv[1], "wb").write(render_notice_pdf(data))
"""


def _render(tmp_path: Path, name: str, cache: str) -> Path:
    out = tmp_path / f"{name}.pdf"
    script = _RENDER.format(
        root=str(ROOT), benchmarks=str(ROOT / "tests" / "benchmarks"), rare=RARE
    )
    env = {**os.environ, "MINPING_FONT_CACHE": cache, "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, "-c", script, str(out)], check=True, env=env, timeout=300, cwd=ROOT
    )
    return out


def _pages(pdf: Path) -> list[bytes]:
    prefix = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(prefix)], check=True)
    return [p.read_bytes() for p in sorted(pdf.parent.glob(f"{prefix.name}-*.png"))]


def test_notice_with_copies_reads_and_looks_the_same(
    tmp_path: Path, pdffonts: Any, read_text: Any
) -> None:
    """Rendered with the copies and with the system faces only: same text, same page images."""
    _face(fonts.FACES[0])
    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils is not installed")
    with_copies = _render(tmp_path, "copies", str(tmp_path / "cache"))
    # a cache folder that cannot be created: no copies, the system faces as before
    system = _render(tmp_path, "system", "/dev/null/fonts")
    names = {r["name"].split("+", 1)[1] for r in pdffonts(with_copies)}
    assert {"Minping-UKai", "Minping-Serif-Bold"} <= names
    assert "AR-PL-UKai-CN" in names  # the rare characters, from the full system face
    assert not any(n.startswith("Minping") for n in (r["name"] for r in pdffonts(system)))
    text = read_text(with_copies)
    assert RARE in text
    assert text == read_text(system)
    assert _pages(with_copies) == _pages(system)
    assert with_copies.stat().st_size < system.stat().st_size
