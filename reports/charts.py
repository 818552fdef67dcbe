"""Matplotlib charts as small inline SVG for the PDFs.

Text stays text in the SVG (``svg.fonttype = none``) so WeasyPrint sets it with
the same subset CJK font as the document: the charts stay small and sharp and
need no font file of their own.  Matplotlib measures the labels with AR PL UKai
(the body face), registered by file path (no network, no font download).
"""

from __future__ import annotations

import functools
import io
import math
import os
import re
import threading
import xml.etree.ElementTree as ET  # noqa: S405 - parses matplotlib's own output
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.transforms import ScaledTranslation  # noqa: E402

from reports.models import FunnelPoint  # noqa: E402

# The body face of the PDFs: chart labels then cost no extra embedded font.
CJK_FONT_FILES = (
    Path("/usr/share/fonts/truetype/arphic/ukai.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)
CHART_FONT = "AR PL UKai CN"
RED = "#c8161d"
NAVY = "#1f3a68"
GREY = "#6b6b6b"
# Blue above, orange below (told apart with red-green colour blindness, and the
# same as the console's charts); the marker shape carries the band without colour.
BAND_COLOURS = {"above": "#2166ac", "similar": "#555555", "below": "#b35806"}
BAND_MARKERS = {"above": "^", "similar": "o", "below": "v"}
_CM = 1 / 2.54


@dataclass(frozen=True, slots=True)
class Interval:
    """A labelled estimate with its 95% interval."""

    label: str
    score: float
    low: float
    high: float
    reference: float | None = None
    highlight: bool = False
    band: str = "similar"


@functools.cache
def setup() -> None:
    """Register the CJK font and fix the SVG settings, once per process."""
    for path in CJK_FONT_FILES:
        if path.exists():
            font_manager.fontManager.addfont(str(path))
    _share_text_metrics()
    matplotlib.rcParams.update(
        {
            "svg.fonttype": "none",
            "svg.hashsalt": "minping",
            "font.family": [CHART_FONT, "Noto Sans CJK SC", "DejaVu Sans"],
            "font.size": 9,
            "axes.unicode_minus": False,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.edgecolor": "#444444",
        }
    )


def _share_text_metrics() -> None:
    """Let every figure of the process reuse matplotlib's measurements of label text.

    Matplotlib caches a text's size per renderer *instance*, and every chart
    (every ``savefig``) makes new renderers, so each notice measured the same
    tick labels, axis words and street names with FreeType again (about a
    quarter of the charts' time, docs/jobs.md).  The measurement depends only on
    the renderer's kind, its dpi, the text, the font properties and math mode,
    so it is cached on those here for the SVG and Agg renderers: the same
    numbers, measured once per process.  Other renderers keep matplotlib's cache.
    """
    from matplotlib import text as mtext
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.backends.backend_svg import RendererSVG

    original = getattr(mtext, "_get_text_metrics_with_cache", None)
    if original is None or getattr(original, "_minping_shared", False):
        return
    shared: dict[tuple[object, ...], tuple[float, float, float]] = {}

    def metrics(
        renderer: object,
        text: str,
        fontprop: font_manager.FontProperties,
        ismath: object,
        dpi: float,
    ) -> tuple[float, float, float]:
        kind = type(getattr(renderer, "_renderer", renderer))  # SVG: inside a MixedModeRenderer
        if kind not in (RendererSVG, RendererAgg):
            return original(renderer, text, fontprop, ismath, dpi)  # type: ignore[no-any-return]
        prop = fontprop.copy()  # hashed by its current state, which may change later
        key = (kind, getattr(renderer, "dpi", None), text, prop, ismath, dpi)
        found = shared.get(key)
        if found is None:
            if len(shared) > 20_000:
                shared.clear()
            found = shared[key] = original(renderer, text, prop, ismath, dpi)
        return found

    metrics._minping_shared = True  # type: ignore[attr-defined]
    setattr(mtext, "_get_text_metrics_with_cache", metrics)  # noqa: B010 - no public hook


_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_NS = "http://www.w3.org/1999/xlink"
_XLINK_HREF = f"{{{_XLINK_NS}}}href"
_DROP = {"metadata", "style"}
_NO_ROTATION = re.compile(r"^rotate\(-?0 [^)]*\)$")
# matplotlib's one style sheet (``*{stroke-linejoin: round; stroke-linecap: butt}``),
# moved onto the root element where every element inherits it
_ROOT_STYLE = {"stroke-linejoin": "round", "stroke-linecap": "butt"}


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return simplify_svg(buf.getvalue())


def simplify_svg(text: str) -> str:
    """Rewrite matplotlib's SVG into the same drawing with less for WeasyPrint to parse.

    WeasyPrint draws an SVG node by node: it parses each ``style`` attribute
    with a CSS tokenizer, matches every node against the ``<style>`` sheet,
    copies the referenced tree for every ``<use>`` and sets up the clip path
    again for every clipped node.  A funnel plot of 300 streets cost more than
    the rest of a notice.  The same picture is written with far fewer nodes:

    * ``style="a: b"`` becomes the presentation attribute ``a="b"``, and the one
      ``<style>`` rule (``*`` selector, inherited properties) moves to the root;
    * bare ``<g id>`` wrappers are dropped (children drawn in their place, same order);
    * a ``<use>`` of a marker becomes the marker's path moved to its place;
    * consecutive paths with the same look (opaque, undashed, same clip) become
      one path of several subpaths: opaque shapes painted in one operation look
      exactly as painted one after another;
    * metadata and no-op rotations go.

    Text stays text, so the PDF's text layer is unchanged.
    """
    return ET.tostring(_simplified(text), encoding="unicode")


def _simplified(text: str) -> ET.Element:
    """The root element of :func:`simplify_svg`'s drawing (tags without namespace)."""
    root = ET.fromstring(text[text.index("<svg") :])
    _simplify(root, {})
    root.tag = "svg"
    root.attrib.update({"xmlns": _SVG_NS, "xmlns:xlink": _XLINK_NS, **_ROOT_STYLE})
    return root


def _simplify(parent: ET.Element, defs: dict[str, ET.Element]) -> None:
    children: list[ET.Element] = []
    for child in parent:
        child.tag = child.tag.rpartition("}")[2]  # written back in the default namespace
        if child.tag in _DROP:
            continue
        _simplify(child, defs)
        if (
            child.tag == "g"
            and set(child.attrib) <= {"id"}
            and not child.get("id", "").startswith(_GID_PREFIX)
        ):
            children.extend(child)  # a bare group: draw its children in its place
            continue
        style = child.attrib.pop("style", None)
        if style:
            for declaration in style.split(";"):
                name, _, value = declaration.partition(":")
                if name.strip():
                    child.set(name.strip(), value.strip())
        href = child.attrib.pop(_XLINK_HREF, None)
        if href is not None:
            child.set("xlink:href", href)
        transform = child.get("transform")
        if transform is not None and _NO_ROTATION.match(transform):
            del child.attrib["transform"]
        if child.tag == "path" and child.get("id"):
            defs[child.attrib["id"]] = child
        elif child.tag == "use" and (path := _use_as_path(child, defs)) is not None:
            child = path  # (an Element without children is falsy: no ``or`` here)
        children.append(child)
    parent[:] = _merge_paths(children)


_PATH_COMMANDS = frozenset("MLQCZz")


def _moved(d: str, dx: float, dy: float) -> str | None:
    """Path data ``d`` moved by ``(dx, dy)`` (absolute M/L/Q/C/Z only, as matplotlib writes)."""
    out: list[str] = []
    is_x = True
    for token in d.split():
        if token[0].isalpha():
            if token not in _PATH_COMMANDS:
                return None
            out.append(token)
            continue
        try:
            value = float(token) + (dx if is_x else dy)
        except ValueError:
            return None
        out.append(f"{value:.6f}".rstrip("0").rstrip("."))
        is_x = not is_x
    return " ".join(out)


def _use_as_path(use: ET.Element, defs: dict[str, ET.Element]) -> ET.Element | None:
    """The marker path a ``<use>`` draws, as a path of its own at the use's place."""
    target = defs.get(use.get("xlink:href", "").removeprefix("#"))
    if target is None or "transform" in target.attrib or "transform" in use.attrib:
        return None
    try:
        dx, dy = float(use.get("x", 0)), float(use.get("y", 0))
    except ValueError:
        return None
    d = _moved(target.get("d", ""), dx, dy)
    if d is None:
        return None
    path = ET.Element("path")
    own = {k: v for k, v in use.attrib.items() if k not in ("x", "y", "xlink:href")}
    marker = {k: v for k, v in target.attrib.items() if k not in ("id", "d")}
    path.attrib.update({"d": d, **own, **marker})  # the marker's own attributes win
    return path


def _mergeable(path: ET.Element) -> bool:
    return path.tag == "path" and not any(
        key in ("id", "transform", "stroke-dasharray", "mask", "filter")
        or ("opacity" in key and path.get(key) not in ("1", "1.0"))
        for key in path.attrib
    )


def _merge_paths(children: list[ET.Element]) -> list[ET.Element]:
    out: list[ET.Element] = []
    for child in children:
        last = out[-1] if out else None
        if (
            last is not None
            and _mergeable(child)
            and _mergeable(last)
            and {k: v for k, v in last.attrib.items() if k != "d"}
            == {k: v for k, v in child.attrib.items() if k != "d"}
        ):
            last.set("d", f"{last.get('d', '')} {child.get('d', '')}")
            last.tail = child.tail
            continue
        out.append(child)
    return out


def radar(
    axes: Sequence[str], street: Sequence[float], district: Sequence[float], name: str
) -> str:
    """Return a radar chart of dimension scores, street against district, as SVG.

    Drawn on plain axes with polygon rings (the usual style in Chinese reports);
    nothing is clipped, so the SVG renders the same everywhere.
    """
    setup()
    k = len(axes)
    angles = [math.pi / 2 - 2 * math.pi * i / k for i in range(k)]
    lo = max(0.0, math.floor((min([*street, *district]) - 10) / 10) * 10)

    def xy(values: Sequence[float]) -> tuple[list[float], list[float]]:
        radii = [(v - lo) / (100 - lo) for v in values]
        xs = [r * math.cos(a) for r, a in zip(radii, angles, strict=True)]
        ys = [r * math.sin(a) for r, a in zip(radii, angles, strict=True)]
        return [*xs, xs[0]], [*ys, ys[0]]

    fig = Figure(figsize=(15 * _CM, 10.5 * _CM))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    ax.set_aspect("equal")
    rings = [lo + (100 - lo) * f for f in (0.25, 0.5, 0.75, 1.0)]
    for ring in rings:
        ax.plot(*xy([ring] * k), color="#c8c8c8", lw=0.6, clip_on=False)
        ax.text(
            0.03,
            (ring - lo) / (100 - lo) + 0.01,
            f"{ring:g}",
            fontsize=6.5,
            color=GREY,
            va="bottom",
            clip_on=False,
        )
    for a in angles:
        ax.plot([0, math.cos(a)], [0, math.sin(a)], color="#c8c8c8", lw=0.6, clip_on=False)
    for values, colour, style in ((district, GREY, "--"), (street, RED, "-")):
        xs, ys = xy(values)
        ax.fill(xs, ys, color=colour, alpha=0.08, clip_on=False)
        ax.plot(xs, ys, style, color=colour, lw=1.6, marker="o", ms=3, clip_on=False)
    for label, a, s_val, d_val in zip(axes, angles, street, district, strict=True):
        x, y = 1.16 * math.cos(a), 1.13 * math.sin(a)
        ha = "center" if abs(x) < 0.1 else ("left" if x > 0 else "right")
        ax.text(
            x,
            y,
            f"{label}\n{s_val:.1f}（全区{d_val:.1f}）",
            ha=ha,
            va="center",
            fontsize=8.5,
            linespacing=1.4,
            clip_on=False,
        )
    ax.plot([-1.45, -1.3], [-1.25, -1.25], "-", color=RED, lw=1.6, clip_on=False)
    ax.text(-1.27, -1.25, name, va="center", fontsize=8, clip_on=False)
    ax.plot([-1.45, -1.3], [-1.37, -1.37], "--", color=GREY, lw=1.6, clip_on=False)
    ax.text(-1.27, -1.37, "全区平均", va="center", fontsize=8, clip_on=False)
    ax.set_xlim(-2.05, 2.05)
    ax.set_ylim(-1.45, 1.32)
    return _svg(fig)


def interval_chart(
    rows: Sequence[Interval],
    *,
    reference: float | None = None,
    reference_label: str = "全区平均",
    xlim: tuple[float, float] | None = None,
    width_cm: float = 15.5,
    row_cm: float = 0.5,
    colour_by_band: bool = False,
) -> str:
    """Return a dot-and-interval chart (one row per estimate, first row on top) as SVG.

    Parameters
    ----------
    rows
        Estimates to draw; ``reference`` on a row draws a grey tick (district value).
    reference
        One vertical line for all rows (district score in a caterpillar chart).
    xlim
        Shared axis range, so that charts split over pages compare directly.
    row_cm
        Height per row: the figure grows with the number of rows.
    """
    setup()
    n = len(rows)
    fig = Figure(figsize=(width_cm * _CM, (n * row_cm + 2.2) * _CM))
    ax = fig.add_subplot()
    ys = list(range(n, 0, -1))
    colours = [
        RED if r.highlight else (BAND_COLOURS.get(r.band, GREY) if colour_by_band else NAVY)
        for r in rows
    ]
    # one collection per kind of mark keeps the SVG small and quick to draw
    ax.hlines(
        ys, [r.low for r in rows], [r.high for r in rows], colors=colours, lw=1.3, clip_on=False
    )
    markers = [
        "o" if r.highlight or not colour_by_band else BAND_MARKERS.get(r.band or "", "o")
        for r in rows
    ]
    for marker in sorted(set(markers)):
        picked = [i for i, m in enumerate(markers) if m == marker]
        ax.scatter(
            [rows[i].score for i in picked],
            [ys[i] for i in picked],
            s=11 if marker == "o" else 16,
            c=[colours[i] for i in picked],
            marker=marker,
            zorder=3,
            clip_on=False,
            linewidths=0,
        )
    refs = [(r.reference, y) for r, y in zip(rows, ys, strict=True) if r.reference is not None]
    if refs:
        ax.scatter(
            [x for x, _ in refs],
            [y for _, y in refs],
            s=40,
            marker="|",
            c=GREY,
            linewidths=1.4,
            zorder=2,
            clip_on=False,
        )
    if reference is not None:
        ax.axvline(reference, color=GREY, ls="--", lw=0.9, clip_on=False)
        ax.text(
            reference,
            n + 0.9,
            f"{reference_label} {reference:.1f}",
            ha="center",
            va="bottom",
            fontsize=7.5,
            color=GREY,
        )
    # the row labels are placed where y tick labels go (right-aligned 3.5 pt left of
    # the axes), as plain texts: tick objects (two lines and two texts each, laid
    # out again for every draw) were half of this chart's drawing time
    ax.set_yticks([])
    beside = ax.get_yaxis_transform() + ScaledTranslation(-3.5 / 72, 0, fig.dpi_scale_trans)
    for r, y in zip(rows, ys, strict=True):
        ax.text(0, y, r.label, transform=beside, ha="right", va="center_baseline", fontsize=8)
    ax.set_ylim(0.4, n + 0.9)
    if xlim is None:
        xlim = axis_range(rows, reference)
    ax.set_xlim(*xlim)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", color="#dddddd", lw=0.5)
    ax.set_axisbelow(True)
    ax.set_xlabel("得分（点为估计值，横线为95%置信区间）", fontsize=8)
    height = n * row_cm + 2.2
    fig.subplots_adjust(left=0.24, right=0.97, top=1 - 0.9 / height, bottom=1.25 / height)
    return _svg(fig)


def empty(message: str = "暂无数据") -> str:
    """Return a small placeholder SVG for a chart without data."""
    setup()
    fig = Figure(figsize=(15 * _CM, 3 * _CM))
    fig.text(0.5, 0.5, message, ha="center", va="center", fontsize=10, color=GREY)
    return _svg(fig)


def axis_range(rows: Sequence[Interval], reference: float | None = None) -> tuple[float, float]:
    """A tidy x range (multiples of 5) covering every interval and the reference."""
    values = [r.low for r in rows] + [r.high for r in rows]
    values += [r.reference for r in rows if r.reference is not None]
    if reference is not None:
        values.append(reference)
    finite = [v for v in values if math.isfinite(v)] or [0.0, 100.0]
    lo = max(0.0, math.floor(min(finite) / 5) * 5 - 2.5)
    hi = min(100.0, math.ceil(max(finite) / 5) * 5 + 2.5)
    return lo, max(hi, lo + 5)


@dataclass(frozen=True, slots=True)
class FunnelLabels:
    """The words of a funnel plot (Chinese by default; the console passes its language)."""

    xlabel: str = "精确度（1 / 与全区之差的标准误）"
    ylabel: str = "与全区平均之差（分）"
    reference: str = "全区平均"
    alert: str = "95%预警线"
    alarm: str = "99.8%警戒线"
    adjusted: str = "（已按街道间离散度调整）"


ALERT_Z = 1.959963984540054  # two-sided 95%
ALARM_Z = 3.090232306167813  # two-sided 99.8%


def funnel_limit(precision: float, z: float, tau: float = 0.0) -> float:
    """Half-width of the funnel at ``precision`` (1/SE), widened by ``tau`` (points).

    Without overdispersion the limit is ``z / precision``; with a between-street
    standard deviation ``tau`` (Spiegelhalter 2005, additive random effect) it is
    ``z * sqrt(1 / precision**2 + tau**2)``.
    """
    return z * math.sqrt(1.0 / precision**2 + tau**2)


def funnel(
    points: Sequence[FunnelPoint],
    *,
    tau: float = 0.0,
    labels: FunnelLabels | None = None,
    label_all: bool | None = None,
    width_cm: float = 15.5,
    height_cm: float = 11.0,
    layered: bool = True,
) -> str:
    """Return a funnel plot of street gaps against precision as SVG.

    Parameters
    ----------
    points
        One point per street with a finite gap and a positive standard error.
    tau
        Between-street standard deviation (points) when the run adjusts the limits
        for overdispersion; 0 draws the plain limits.
    label_all
        Name every street (default: when there are at most 40 points); otherwise
        only streets outside the 95% limits and highlighted ones are named.
    layered
        With one highlighted street and not every street named, draw everything
        but the highlight once per set of points (cached in the process: every
        notice of a wave shares it) and add the highlighted dot and its label on
        top (:func:`_funnel_layered`).  ``False`` draws the whole plot each time.

    The horizontal line at 0 is the district reference; the dashed curves are the
    95% alert limits and the solid curves the 99.8% alarm limits.
    """
    setup()
    words = labels or FunnelLabels()
    usable = [p for p in points if math.isfinite(p.gap) and p.se > 0 and math.isfinite(p.se)]
    if not usable:
        return empty()
    if label_all is None:
        label_all = len(usable) <= 40
    highlighted = [p for p in usable if p.highlight]
    if layered and not label_all and len(highlighted) == 1:
        return _funnel_layered(usable, highlighted[0], tau, words, width_cm, height_cm)
    return _funnel_full(usable, tau, words, label_all, width_cm, height_cm)


@dataclass(frozen=True, slots=True)
class _FunnelFrame:
    """The axes of a funnel plot: its figure, ranges, and where labels may go."""

    fig: Figure
    ax: Axes
    lo_p: float
    hi_p: float
    span: float
    axes_w: float
    axes_h: float


def _funnel_frame(
    usable: Sequence[FunnelPoint], tau: float, width_cm: float, height_cm: float
) -> _FunnelFrame:
    """A figure with the funnel's axes box and ranges (the same for every highlight)."""
    fig = Figure(figsize=(width_cm * _CM, height_cm * _CM))
    ax = fig.add_subplot()
    precisions = [p.precision for p in usable]
    lo_p = min(precisions) * 0.85
    hi_p = max(precisions) * 1.08
    span = max(max(abs(p.gap) for p in usable), funnel_limit(lo_p, ALARM_Z, tau) if lo_p > 0 else 0)
    ax.set_ylim(-span * 1.12, span * 1.12)
    ax.set_xlim(lo_p, hi_p)
    fig.subplots_adjust(left=0.11, right=0.97, top=0.93, bottom=0.2)
    axes_w = width_cm / 2.54 * 72 * 0.86
    axes_h = height_cm / 2.54 * 72 * 0.73
    return _FunnelFrame(fig, ax, lo_p, hi_p, span, axes_w, axes_h)


Box = tuple[float, float, float, float]


def _place_label(
    frame: _FunnelFrame, p: FunnelPoint, placed: list[Box], *, gid: str | None = None
) -> Box:
    """Name ``p`` on the plot, moved up or down until it overlaps no box in ``placed``.

    The greedy placement works in points; returns the label's box (not added to ``placed``).
    """
    size = 7.5 if p.highlight else 6.5
    x0 = (p.precision - frame.lo_p) / (frame.hi_p - frame.lo_p) * frame.axes_w + 4
    y_base = (p.gap + frame.span * 1.12) / (frame.span * 2.24) * frame.axes_h + 2
    width, height = len(p.label) * size + 2, size + 1.5
    for step in (0, -1, 1, -2, 2, -3, 3, -4, 4):
        y0 = y_base + step * height
        box = (x0, y0, x0 + width, y0 + height)
        if all(
            box[2] <= b[0] or b[2] <= box[0] or box[3] <= b[1] or b[3] <= box[1] for b in placed
        ):
            break
    note = frame.ax.annotate(
        p.label,
        (p.precision, p.gap),
        xytext=(4, 2 + (y0 - y_base)),
        textcoords="offset points",
        fontsize=size,
        fontweight="bold" if p.highlight else "normal",
        color=RED if p.highlight else "#333333",
        arrowprops=({"arrowstyle": "-", "color": "#999999", "lw": 0.4} if y0 != y_base else None),
    )
    if gid is not None:
        note.set_gid(f"{gid}-text")
        if note.arrow_patch is not None:
            note.arrow_patch.set_gid(f"{gid}-line")
    return box


def _funnel_dots(ax: Axes, points: Sequence[FunnelPoint]) -> None:
    """Draw the streets' dots: one line per colour, the highlighted street last (on top).

    Each dot is a stroke a hundredth of a point long with round caps as wide as the
    dot: the same disc as a circle marker, written as four numbers (``M x y L x y``)
    in one path per colour, where a circle marker costs 26 numbers per point (the PDF
    renderer parses every number: the circles were most of a 300-street funnel's
    drawing time).  Not zero length: a degenerate stroke's cap is left out by some PDF
    viewers.
    """
    groups: dict[tuple[str, float], list[FunnelPoint]] = {}
    for p in points:
        colour = RED if p.highlight else BAND_COLOURS.get(p.band, GREY)
        groups.setdefault((colour, 34.0 if p.highlight else 14.0), []).append(p)
    x_lo, x_hi = ax.get_xlim()
    nudge = (x_hi - x_lo) * 2.5e-5  # about 0.01 pt on a 15 cm plot
    for (colour, area), members in sorted(groups.items(), key=lambda g: g[0][1]):
        xs: list[float] = []
        ys: list[float] = []
        for p in members:
            xs += [p.precision, p.precision + nudge, math.nan]
            ys += [p.gap, p.gap, math.nan]
        ax.plot(
            xs,
            ys,
            linestyle="-",
            linewidth=math.sqrt(area),  # a scatter's size is the marker's area
            solid_capstyle="round",
            color=colour,
            zorder=3,
        )


LIMIT_STEPS = 32


def _limit_xs(lo: float, hi: float, steps: int = LIMIT_STEPS) -> list[float]:
    """Where the limit curves are sampled: geometrically, densest where they bend most.

    The limits ``z * sqrt(1/p**2 + tau**2)`` bend most at low precision ``p``;
    32 geometric steps stay within about 0.02 pt of the curve on the page (120
    even steps did within 0.002 pt, with 4 times the numbers for the PDF
    renderer to parse in every notice).
    """
    if lo <= 0:
        return [lo + (hi - lo) * i / steps for i in range(steps + 1)]
    return [lo * (hi / lo) ** (i / steps) for i in range(steps)] + [hi]


def _funnel_axes(frame: _FunnelFrame, tau: float, words: FunnelLabels) -> None:
    """Limits, reference, axes words and legend: everything but the streets."""
    ax = frame.ax
    xs = _limit_xs(frame.lo_p, frame.hi_p)
    for z, style, name in ((ALERT_Z, "--", words.alert), (ALARM_Z, "-", words.alarm)):
        upper = [funnel_limit(x, z, tau) for x in xs]
        ax.plot(xs, upper, style, color=GREY, lw=0.9, label=name)
        ax.plot(xs, [-u for u in upper], style, color=GREY, lw=0.9)
    ax.axhline(0.0, color=NAVY, lw=1.0, label=words.reference)
    ax.tick_params(labelsize=8)
    ax.grid(color="#eeeeee", lw=0.5)
    ax.set_axisbelow(True)
    ax.set_xlabel(words.xlabel, fontsize=8)
    ax.set_ylabel(words.ylabel, fontsize=8)
    title = words.adjusted if tau > 0 else ""
    if title:
        ax.set_title(title, fontsize=8, color=GREY)
    # below the axes: never over a point, and cheaper than searching for the best corner
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, frameon=False)


def _outside(p: FunnelPoint, tau: float) -> bool:
    return abs(p.gap) > funnel_limit(p.precision, ALERT_Z, tau)


def _funnel_full(
    usable: Sequence[FunnelPoint],
    tau: float,
    words: FunnelLabels,
    label_all: bool,
    width_cm: float,
    height_cm: float,
) -> str:
    frame = _funnel_frame(usable, tau, width_cm, height_cm)
    _funnel_axes(frame, tau, words)
    _funnel_dots(frame.ax, usable)
    named = [p for p in usable if label_all or p.highlight or _outside(p, tau)]
    placed: list[Box] = []
    for p in sorted(named, key=lambda q: (not q.highlight, q.precision)):
        placed.append(_place_label(frame, p, placed))
    return _svg(frame.fig)


@dataclass(frozen=True, slots=True)
class _FunnelBackground:
    """A funnel plot without its highlight, ready for one street's dot and label."""

    svg: str
    boxes: dict[str, Box]
    """Each named street's label box (points), by street."""
    gids: dict[str, str]
    """Each named street's label group id prefix in ``svg``, by street."""


_GID_PREFIX = "mp-"  # groups that :func:`simplify_svg` keeps, so they can be taken out


@functools.lru_cache(maxsize=8)
def _funnel_background(
    points: tuple[FunnelPoint, ...],
    tau: float,
    words: FunnelLabels,
    width_cm: float,
    height_cm: float,
) -> _FunnelBackground:
    """Every street's dot in its band colour and the out-of-limit streets' labels.

    Drawn once per set of points in a process: every notice of a wave shares it.
    """
    frame = _funnel_frame(points, tau, width_cm, height_cm)
    _funnel_axes(frame, tau, words)
    _funnel_dots(frame.ax, points)
    boxes: dict[str, Box] = {}
    gids: dict[str, str] = {}
    placed: list[Box] = []
    named = sorted((p for p in points if _outside(p, tau)), key=lambda q: q.precision)
    for i, p in enumerate(named):
        gid = f"{_GID_PREFIX}label{i}"
        box = _place_label(frame, p, placed, gid=gid)
        placed.append(box)
        boxes.setdefault(p.label, box)
        gids.setdefault(p.label, gid)
    return _FunnelBackground(_svg(frame.fig), boxes, gids)


def _drop_group(svg: str, gid: str) -> str:
    """``svg`` without the ``<g id="gid">`` group (groups kept by :func:`simplify_svg`)."""
    start = svg.find(f'<g id="{gid}"')
    if start < 0:
        return svg
    depth, pos = 0, start
    while True:
        opening = svg.find("<g", pos + 1)
        closing = svg.find("</g>", pos + 1)
        if closing < 0:
            return svg
        if 0 <= opening < closing and svg[opening + 2] in " >":
            depth += 1
            pos = opening
            continue
        if depth == 0:
            return svg[:start] + svg[closing + len("</g>") :]
        depth -= 1
        pos = closing


@functools.lru_cache(maxsize=8)
def _overlay_frame(
    points: tuple[FunnelPoint, ...],
    tau: float,
    width_cm: float,
    height_cm: float,
    pid: int,
    thread: int,
) -> _FunnelFrame:
    """An empty, transparent funnel frame for the highlights of one set of points.

    Every notice of a wave draws its street's dot and label on the same frame
    (then takes them off again) instead of building a figure and axes per
    notice.  Kept per process and thread (``pid``, ``thread``): a frame is never
    drawn on from two threads, nor inherited half-drawn by a forked renderer.
    """
    frame = _funnel_frame(points, tau, width_cm, height_cm)
    frame.fig.patch.set_visible(False)
    frame.ax.set_axis_off()
    return frame


def _funnel_layered(
    usable: Sequence[FunnelPoint],
    highlight: FunnelPoint,
    tau: float,
    words: FunnelLabels,
    width_cm: float,
    height_cm: float,
) -> str:
    """The funnel plot as :func:`_funnel_full` draws it, from a shared background.

    The background (cached) holds every street in its band colour; the highlighted
    street's label, if it has one there, is taken out, and a second figure with the
    same axes box and ranges but nothing else draws the highlighted dot (larger, so it
    covers the band-coloured one) and its label, placed clear of the other labels.
    Its elements go on top of the background's.  Only the highlighted label's
    placement can differ from a full draw: it is placed last instead of first.
    """
    plain = tuple(replace(p, highlight=False) if p is highlight else p for p in usable)
    background = _funnel_background(plain, tau, words, width_cm, height_cm)
    svg = background.svg
    gid = background.gids.get(highlight.label)
    if gid is not None:
        svg = _drop_group(_drop_group(svg, f"{gid}-text"), f"{gid}-line")
    frame = _overlay_frame(plain, tau, width_cm, height_cm, os.getpid(), threading.get_ident())
    ax = frame.ax
    lines, texts = len(ax.lines), len(ax.texts)
    try:
        _funnel_dots(ax, [highlight])
        others = [box for label, box in background.boxes.items() if label != highlight.label]
        _place_label(frame, highlight, others)
        buf = io.StringIO()
        frame.fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    finally:  # the frame is used again for the next street
        for artist in [*ax.lines[lines:], *ax.texts[texts:]]:
            artist.remove()
    overlay = _simplified(buf.getvalue())
    known = set(re.findall(r'<clipPath id="([^"]+)"', svg))
    layer: list[str] = []
    for element in overlay:
        if element.tag == "defs":
            element[:] = [c for c in element if c.get("id") not in known]
            if not len(element):
                continue
        layer.append(ET.tostring(element, encoding="unicode"))
    end = svg.rindex("</svg>")
    return svg[:end] + "".join(layer) + svg[end:]
