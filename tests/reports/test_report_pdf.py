"""create_pdf reaches only local template assets; never the network."""

from __future__ import annotations

import logging
from pathlib import Path

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
