"""Write HTML to PDF with WeasyPrint, reaching only local template assets.

Government intranets have no internet, and a notice must never leak a request
to an outside host because of text someone typed: the URL fetcher below serves
``file:`` URLs under the allowed folders only and refuses everything else
(indico's ``receipts/util.py`` does the same).  Fonts come from fontconfig by
family name, so no font file is fetched per document; one
``FontConfiguration`` and one image cache are kept per process.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pydyf
import weasyprint
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcherResponse

from reports import fonts
from reports.templating import TEMPLATE_DIR

_MIME = {".svg": "image/svg+xml", ".png": "image/png", ".css": "text/css"}


class ForbiddenResource(ValueError):
    """A document asked for a resource outside the allowed local folders."""


GENERATED = "generated:"


class LocalFileFetcher(weasyprint.URLFetcher):  # type: ignore[misc]
    """URL fetcher serving ``file:`` URLs under ``roots`` and in-memory resources only.

    Parameters
    ----------
    roots
        Folders whose files may be read.
    resources
        Bytes generated for this document (charts), served at ``generated:<name>``.

    Anything else (``http:``, ``data:``, files elsewhere, ``..`` escapes, symlinks out)
    raises :class:`ForbiddenResource`, which WeasyPrint reports as a missing resource.
    """

    def __init__(self, roots: Iterable[Path], resources: Mapping[str, bytes] | None = None) -> None:
        super().__init__(allowed_protocols=("file", "generated"), allow_redirects=False)
        self.roots = tuple(Path(r).resolve() for r in roots)
        self.resources = dict(resources or {})

    def resolve(self, url: str) -> Path:
        """Return the local path for ``url`` or raise :class:`ForbiddenResource`."""
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise ForbiddenResource(f"only local template files may be loaded, not {url!r}")
        path = Path(unquote(parts.path)).resolve()
        if not any(path.is_relative_to(root) for root in self.roots):
            raise ForbiddenResource(f"{path} is outside the report asset folders")
        if not path.is_file():
            raise ForbiddenResource(f"{path} does not exist")
        return path

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if url.startswith(GENERATED):
            name = url[len(GENERATED) :]
            if name not in self.resources:
                raise ForbiddenResource(f"no generated resource named {name!r}")
            kind = _MIME.get(Path(name).suffix, "application/octet-stream")
            return URLFetcherResponse(url, self.resources[name], {"Content-Type": kind})
        path = self.resolve(url)
        return URLFetcherResponse(path.as_uri(), path.read_bytes())


ZLIB_LEVEL = 6


class _Zlib:
    """The ``zlib`` module as pydyf sees it, compressing at :data:`ZLIB_LEVEL` (not 9).

    pydyf deflates every PDF stream at level 9, which costs about three times
    level 6's CPU for 1% smaller documents (docs/jobs.md).  Everything but the
    level is the real module.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(zlib, name)

    @staticmethod
    def compressobj(level: int = -1, *args: Any, **kwargs: Any) -> Any:
        return zlib.compressobj(min(level, ZLIB_LEVEL), *args, **kwargs)


pydyf.zlib = _Zlib()


def _whole_string_text(original: Any) -> Any:
    """WeasyPrint's SVG ``<text>`` drawing, setting a plain string in one piece.

    WeasyPrint (v70) lays out and draws an SVG text letter by letter (each in
    its own Pango layout and text-showing operation, to honour per-letter
    ``x``/``dx``/``rotate`` lists), which made the ~70 labels of a notice's
    charts about a fifth of its CPU (docs/jobs.md).  A text with at most one
    ``x`` and ``y``, no ``dx``/``dy``/``rotate``, no letter spacing or
    ``textLength`` and no line break (every label matplotlib writes) is set
    here as one string: the same letters at the same advances (the chart fonts
    have no kerning between these characters), placed, anchored and bounded as
    the letter-by-letter code does.  Anything else goes to WeasyPrint's own.
    """
    from math import inf

    from weasyprint.css.properties import INITIAL_VALUES
    from weasyprint.draw.text import draw_emojis, draw_first_line
    from weasyprint.matrix import Matrix
    from weasyprint.svg.bounding_box import extend_bounding_box
    from weasyprint.svg.text import Style, TextBox
    from weasyprint.svg.utils import normalize, size
    from weasyprint.text.line_break import split_first_line

    def single(node: Any, name: str) -> bool:
        value = node.attrib.get(name)
        return value is None or len(normalize(value).split()) <= 1

    def text(svg: Any, node: Any, font_size: float) -> None:
        content = node.text
        if (
            not content
            or "\n" in content
            or any(name in node.attrib for name in ("dx", "dy", "rotate", "textLength"))
            or node.get("letter-spacing") not in (None, "normal", "0")
            or node.get("direction") is not None
            or not single(node, "x")
            or not single(node, "y")
        ):
            original(svg, node, font_size)
            return
        style = Style()
        style.update(INITIAL_VALUES)
        style.font_config = svg.font_config
        style["font_family"] = [
            font.strip("\"'") for font in node.get("font-family", "sans-serif").split(",")
        ]
        style["font_style"] = node.get("font-style", "normal")
        weight = node.get("font-weight", 400)
        if weight == "normal":
            weight = 400
        elif weight == "bold":
            weight = 700
        else:
            try:
                weight = int(weight)
            except ValueError:
                weight = 400
        style["font_weight"] = weight
        style["font_size"] = font_size
        layout, _, _, width, height, baseline = split_first_line(
            content, style, svg.context, inf, 0
        )
        ascent, descent = font_size * 0.8, font_size * 0.2
        y_align = 0.0
        display_anchor = node.get("display-anchor")
        alignment = node.get("dominant-baseline", node.get("alignment-baseline"))
        if display_anchor == "middle":
            y_align = -height / 2
        elif display_anchor == "top":
            pass
        elif display_anchor == "bottom":
            y_align = -height
        elif alignment in ("central", "middle"):
            y_align = (ascent + descent) / 2 - descent
        elif alignment in ("text-before-edge", "before_edge", "top", "hanging", "text-top"):
            y_align = ascent
        elif alignment in ("text-after-edge", "after_edge", "bottom", "text-bottom"):
            y_align = -descent
        x = y = None
        if "x" in node.attrib:
            x = size(normalize(node.attrib["x"]).strip(), font_size, svg.inner_width)
            svg.cursor_d_position[0] = 0
        if "y" in node.attrib:
            y = size(normalize(node.attrib["y"]).strip(), font_size, svg.inner_height)
            svg.cursor_d_position[1] = 0
        x = svg.cursor_position[0] if x is None else x
        y = svg.cursor_position[1] if y is None else y
        svg.cursor_position = x + width, y
        x_position = x + svg.cursor_d_position[0]
        y_position = y + svg.cursor_d_position[1] + y_align
        points = (
            (x_position, y_position - baseline),
            (x_position + width, y_position - baseline + height),
        )
        node.text_bounding_box = extend_bounding_box(node.text_bounding_box, points)
        svg.stream.push_state()
        fill, stroke = svg.set_graphical_state(node, font_size)
        svg.stream.begin_text()
        layout.reactivate(style)
        svg.fill_stroke(fill, stroke, text=True)
        matrix = Matrix(a=1, d=-1, e=x_position, f=y_position)  # no per-letter rotation
        text_box = TextBox(layout, style)
        text_box.baseline = baseline
        emojis = draw_first_line(svg.stream, text_box, "none", "none", matrix)
        svg.stream.end_text()
        svg.stream.pop_state()
        draw_emojis(svg.stream, style, x, y, emojis)

    return text


def _set_text_whole() -> None:
    """Install :func:`_whole_string_text` for WeasyPrint versions it was checked with."""
    import weasyprint.svg as wsvg

    original = getattr(wsvg, "text", None)
    if not weasyprint.__version__.startswith("70.") or original is None:
        return
    if getattr(original, "_minping", False):
        return
    fast = _whole_string_text(original)
    fast._minping = True
    for tag, function in list(wsvg.TAGS.items()):
        if function is original:
            wsvg.TAGS[tag] = fast
    wsvg.text = fast  # draw_node recognises text nodes by this name


_set_text_whole()


@functools.cache
def font_config() -> FontConfiguration:
    """Return this process's shared font configuration."""
    return FontConfiguration()


@functools.cache
def _stylesheet(path: Path) -> weasyprint.CSS:
    fetcher = LocalFileFetcher([path.parent])
    return weasyprint.CSS(filename=str(path), url_fetcher=fetcher, font_config=font_config())


@functools.cache
def font_faces() -> weasyprint.CSS | None:
    """The ``@font-face`` rules of the cached font copies (:mod:`reports.fonts`), if any."""
    css = fonts.font_faces_css()
    if not css:
        return None
    fetcher = LocalFileFetcher(fonts.font_folders())
    return weasyprint.CSS(string=css, url_fetcher=fetcher, font_config=font_config())


@functools.cache
def _svg_families() -> tuple[tuple[bytes, bytes], ...]:
    """Family lists in chart SVGs rewritten to name the font copies first."""
    if font_faces() is None:
        return ()
    return tuple(
        (f"'{face.system_family}'".encode(), f"'{face.family}', '{face.system_family}'".encode())
        for face in fonts.FACES
    )


def _with_copies(name: str, data: bytes) -> bytes:
    if not name.endswith(".svg"):
        return data
    for old, new in _svg_families():
        data = data.replace(old, new)
    return data


def stylesheet(name: str, base_dir: Path = TEMPLATE_DIR) -> weasyprint.CSS:
    """Return the parsed stylesheet ``base_dir/name``, parsed once per process."""
    return _stylesheet((Path(base_dir) / name).resolve())


def create_pdf(
    html: str,
    base_dir: Path = TEMPLATE_DIR,
    *,
    stylesheets: Sequence[str] = (),
    extra_roots: Sequence[Path] = (),
    resources: Mapping[str, bytes] | None = None,
) -> bytes:
    """Render ``html`` to PDF bytes.

    Parameters
    ----------
    html
        A complete HTML document (already escaped by Jinja).
    base_dir
        Folder relative URLs resolve against; the only folder (with ``extra_roots``)
        the document may read from.
    stylesheets
        Names of CSS files in ``base_dir`` applied to the document, parsed once per
        process (faster than ``<link>`` for bulk runs).
    extra_roots
        Further folders the document may read from.
    resources
        Generated bytes (charts) the HTML refers to as ``generated:<name>``.

    Returns
    -------
    bytes
        The PDF, every font embedded as a subset.
    """
    base = Path(base_dir).resolve()
    resources = {name: _with_copies(name, data) for name, data in (resources or {}).items()}
    fetcher = LocalFileFetcher([base, *extra_roots], resources)
    document = weasyprint.HTML(string=html, base_url=base.as_uri() + "/", url_fetcher=fetcher)
    faces = font_faces()
    pdf: bytes = document.write_pdf(
        stylesheets=[
            *([faces] if faces else []),
            *(stylesheet(name, base) for name in stylesheets),
        ],
        font_config=font_config(),
        uncompressed_pdf=False,
    )
    return pdf
