"""create_pdf reaches only local template assets; never the network."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from reports.pdf import GENERATED, ForbiddenResource, LocalFileFetcher, create_pdf
from reports.templating import TEMPLATE_DIR, environment


def test_templates_found_relative_to_the_package() -> None:
    assert TEMPLATE_DIR == Path(__file__).resolve().parents[2] / "templates" / "reports"
    assert (TEMPLATE_DIR / "official.css").is_file()
    assert environment().autoescape is True


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/logo.png",
        "https://example.com/a.css",
        "ftp://example.com/x",
        "data:image/png;base64,iVBORw0KGgo=",
        "file:///etc/passwd",
        "file://evil.example/share/x.css",
    ],
)
def test_fetcher_refuses_outside_resources(url: str) -> None:
    fetcher = LocalFileFetcher([TEMPLATE_DIR])
    with pytest.raises((ForbiddenResource, ValueError)):
        fetcher.fetch(url)


def test_fetcher_refuses_escapes_and_unknown_generated(tmp_path: Path) -> None:
    inside = tmp_path / "assets"
    inside.mkdir()
    (tmp_path / "secret.txt").write_text("secret")
    (inside / "link.txt").symlink_to(tmp_path / "secret.txt")
    fetcher = LocalFileFetcher([inside], {"chart.svg": b"<svg/>"})
    for url in (f"{inside.as_uri()}/../secret.txt", f"{inside.as_uri()}/link.txt"):
        with pytest.raises(ForbiddenResource):
            fetcher.fetch(url)
    with pytest.raises(ForbiddenResource):
        fetcher.fetch(f"{GENERATED}other.svg")
    assert fetcher.fetch(f"{GENERATED}chart.svg").read() == b"<svg/>"


def test_fetcher_serves_template_assets() -> None:
    fetcher = LocalFileFetcher([TEMPLATE_DIR])
    response = fetcher.fetch((TEMPLATE_DIR / "official.css").as_uri())
    assert b"@page" in response.read()
    response.close()


def test_remote_image_is_not_fetched(caplog: pytest.LogCaptureFixture) -> None:
    html = (
        '<p>外链</p><img src="http://127.0.0.1:9/x.png"><link rel="stylesheet" href="/etc/x.css">'
    )
    with caplog.at_level(logging.ERROR, logger="weasyprint"):
        pdf = create_pdf(html)
    assert pdf.startswith(b"%PDF")
    assert "disallowed protocol" in caplog.text or "only local" in caplog.text


def test_simplified_svg_keeps_the_drawing() -> None:
    """Matplotlib's SVG rewritten for WeasyPrint: fewer nodes, same attributes in effect."""
    from reports.charts import simplify_svg

    raw = (
        '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" '
        'xmlns:xlink="http://www.w3.org/1999/xlink" width="10pt" height="10pt">'
        "<metadata>x</metadata><defs><style>*{stroke-linejoin: round}</style></defs>"
        '<g id="a"><defs><path id="m1" d="M 0 0 L 0 3.5" style="stroke: #000000"/></defs>'
        '<g><use xlink:href="#m1" x="1" y="2" style="stroke: #ff0000; stroke-width: 0.8"/></g>'
        '<g><use xlink:href="#m1" x="3" y="2" style="stroke: #ff0000; stroke-width: 0.8"/></g>'
        '<path d="M 1 1 L 2 2" style="fill: #111111; fill-opacity: 0.5"/>'
        '<path d="M 3 3 L 4 4" style="fill: #111111; fill-opacity: 0.5"/>'
        '<path d="M 1 1 L 2 2" style="stroke: #111111; stroke-dasharray: 1,1"/>'
        '<path d="M 3 3 L 4 4" style="stroke: #111111; stroke-dasharray: 1,1"/>'
        '<g clip-path="url(#c)"><text style="font-size: 8px" x="1" y="1">全区平均</text></g>'
        "</g></svg>"
    )
    svg = simplify_svg(raw)
    assert "style" not in svg and "metadata" not in svg and "<use" not in svg
    assert 'stroke-linejoin="round"' in svg.split(">", 1)[0]
    # two uses of the marker: one path, moved to both places, the marker's stroke wins
    assert svg.count('stroke="#000000"') == 2  # the definition and the merged path
    assert 'd="M 1 2 L 1 5.5 M 3 2 L 3 5.5"' in svg
    # translucent or dashed paths are painted one by one, as before
    assert svg.count('fill-opacity="0.5"') == 2 and svg.count("stroke-dasharray") == 2
    assert '<g clip-path="url(#c)"><text x="1" y="1" font-size="8px">全区平均</text></g>' in svg


def test_simplified_chart_renders_the_same_pixels(tmp_path: Path) -> None:
    """A chart drawn from the simplified SVG matches matplotlib's own SVG on the page."""
    import shutil
    import subprocess

    from PIL import Image, ImageChops

    from reports import charts
    from reports.models import FunnelPoint

    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    points = [
        FunnelPoint(f"第{i}街道", ((i * 37) % 23 - 11) / 2, 0.5 + (i % 7) / 5, band=band)
        for i, band in zip(range(120), ["above", "similar", "below"] * 40, strict=True)
    ]
    points[7] = FunnelPoint("第7街道", 2.0, 1.0, highlight=True)
    simplified = charts.funnel(points, layered=False)
    original = charts.simplify_svg
    try:
        charts.simplify_svg = lambda text: text[text.index("<svg") :]  # matplotlib's own
        raw = charts.funnel(points, layered=False)
    finally:
        charts.simplify_svg = original
    assert simplified.count("<") < raw.count("<") / 2  # far fewer nodes to draw
    pages = []
    for name, svg in (("raw", raw), ("simple", simplified)):
        pdf = create_pdf(
            f'<img src="{GENERATED}c.svg" style="width: 15cm">', resources={"c.svg": svg.encode()}
        )
        (tmp_path / f"{name}.pdf").write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "100", "-singlefile", name + ".pdf", name],
            cwd=tmp_path,
            check=True,
        )
        pages.append(Image.open(tmp_path / f"{name}.png").convert("L"))
    diff = ImageChops.difference(*pages)
    changed = sum(diff.point(lambda value: 255 if value > 60 else 0).histogram()[255:])
    assert changed < 0.0005 * diff.width * diff.height, changed


def _raster(tmp_path: Path, name: str, svg: str) -> Any:
    import subprocess

    from PIL import Image

    pdf = create_pdf(
        f'<img src="{GENERATED}c.svg" style="width: 15cm">', resources={"c.svg": svg.encode()}
    )
    (tmp_path / f"{name}.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "100", "-singlefile", name + ".pdf", name],
        cwd=tmp_path,
        check=True,
    )
    return Image.open(tmp_path / f"{name}.png").convert("L")


def test_funnel_from_shared_background_draws_the_full_picture(tmp_path: Path) -> None:
    """A highlighted street drawn over the cached background looks as a full draw.

    300 streets: the background (every dot, the out-of-limit labels) is drawn once and
    each street's red dot and bold label are added on top.
    """
    import random
    import shutil

    from PIL import ImageChops

    from reports import charts
    from reports.models import FunnelPoint

    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    rng = random.Random(16)
    base = []
    for i in range(300):
        se = rng.uniform(2.5, 5.0)
        gap = rng.gauss(0.0, se * 1.1)
        band = "above" if gap > 1.96 * se else "below" if gap < -1.96 * se else "similar"
        base.append(FunnelPoint(f"第{i}街道", gap, se, band=band))
    outside = [p for p in base if abs(p.gap) > charts.funnel_limit(p.precision, charts.ALERT_Z)]
    inside = [p for p in base if p not in outside]
    assert outside and inside
    charts._funnel_background.cache_clear()
    # the inside street nearest the centre line at the highest precision (no label near it),
    # and an outside street (labelled in the background)
    clear = max(inside, key=lambda p: p.precision - abs(p.gap))
    for street in (clear, outside[0]):
        points = [replace(p, highlight=True) if p is street else p for p in base]
        layered = charts.funnel(points)
        full = charts.funnel(points, layered=False)
        assert layered != full  # really drawn another way
        for svg in (layered, full):  # its name once, in red bold; the other labels once each
            assert svg.count(f">{street.label}<") == 1
            assert "#c8161d" in svg.split(f">{street.label}<")[0].rsplit("<text", 1)[1]
            for p in outside:
                assert svg.count(f">{p.label}<") == 1
        diff = ImageChops.difference(
            _raster(tmp_path, "layered", layered), _raster(tmp_path, "full", full)
        )
        changed = sum(diff.point(lambda value: 255 if value > 60 else 0).histogram()[255:])
        if street is clear:
            assert changed < 0.00002 * diff.width * diff.height, changed  # not even the dot
        else:  # the highlighted label may sit elsewhere: a label's area at most
            assert changed < 0.003 * diff.width * diff.height, changed
    assert charts._funnel_background.cache_info().misses == 1  # one background for both


def test_chart_labels_set_whole_give_the_same_text_and_pixels(tmp_path: Path) -> None:
    """Chart labels set as whole strings: same pdftotext and page image as letter by letter."""
    import shutil
    import subprocess
    import sys

    import weasyprint.svg as wsvg
    from PIL import ImageChops

    from reports import charts

    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    whole = wsvg.text
    letters = sys.modules["weasyprint.svg.text"].text  # WeasyPrint's own
    assert whole is not letters and getattr(whole, "_minping", False)
    rows = [
        charts.Interval(f"指标{i} 环境卫生（AB-{i}）", 70 + i, 65 + i, 75 + i, reference=72)
        for i in range(8)
    ]
    svg = charts.interval_chart(rows)
    texts, pages = [], []
    try:
        for name, function in (("whole", whole), ("letters", letters)):
            for tag, drawn in list(wsvg.TAGS.items()):
                if drawn in (whole, letters):
                    wsvg.TAGS[tag] = function
            wsvg.text = function
            pages.append(_raster(tmp_path, name, svg))
            texts.append(
                subprocess.run(
                    ["pdftotext", "-layout", f"{name}.pdf", "-"],
                    cwd=tmp_path,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
    finally:
        for tag, drawn in list(wsvg.TAGS.items()):
            if drawn in (whole, letters):
                wsvg.TAGS[tag] = whole
        wsvg.text = whole
    assert "指标3 环境卫生（AB-3）" in texts[0]
    assert texts[0] == texts[1]
    diff = ImageChops.difference(*pages)
    changed = sum(diff.point(lambda value: 255 if value > 60 else 0).histogram()[255:])
    assert changed < 0.0002 * diff.width * diff.height, changed
