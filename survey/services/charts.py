"""Result charts as SVG (matplotlib, Agg): pure functions of plain numbers.

No database access here: views pass lists and dicts taken from a scoring
run's result JSON.  Text stays text in the SVG (``svg.fonttype = 'none'``) in
Noto Sans CJK, so Chinese labels are small, selectable and sharp; figure
heights grow with the number of streets so that 300 streets stay readable.
"""

from __future__ import annotations

import io
import math
import subprocess
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from scoring.result import DistrictResult, StreetResult  # noqa: E402

# Blue above, orange below, as in the heat map (readable with red-green colour
# blindness); the marker's shape carries the same news for those who see no colour.
BAND_COLORS = {"above": "#2166ac", "similar": "#5f6368", "below": "#b35806", None: "#5f6368"}
BAND_MARKERS = {"above": "^", "similar": "o", "below": "v", None: "o"}
DISTRICT_COLOR = "#0b4fa8"
DISTRICT_LINE = "#202124"  # the caterpillar's reference: not blue, which there means "above"
FONT_FAMILY = ["Noto Sans CJK SC", "DejaVu Sans"]  # only installed families: no findfont noise
ROW_INCH = 0.2  # height per street in the caterpillar and heat map


@lru_cache(maxsize=1)
def _fonts() -> None:
    """Register Noto Sans CJK with matplotlib once (found through fontconfig)."""
    try:
        path = subprocess.run(
            ["fc-match", "-f", "%{file}", "Noto Sans CJK SC"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
    except OSError:
        path = ""
    if path:
        font_manager.fontManager.addfont(path)


def _figure(width: float, height: float) -> Figure:
    _fonts()
    fig = Figure(figsize=(width, height))
    return fig


def _svg(fig: Figure) -> bytes:
    buf = io.BytesIO()
    with matplotlib.rc_context(
        {"svg.fonttype": "none", "font.family": FONT_FAMILY, "svg.hashsalt": "minping"}
    ):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue()


def _rc() -> AbstractContextManager[None]:
    return matplotlib.rc_context(
        {"font.family": FONT_FAMILY, "font.size": 9, "axes.unicode_minus": False}
    )


def caterpillar(
    streets: Sequence[StreetResult],
    district: DistrictResult,
    *,
    title: str = "",
    xlabel: str = "得分",
    district_label: str = "全区",
    band_labels: Mapping[str, str] | None = None,
) -> bytes:
    """Streets' scores with 95% CIs, best at the top, against the district line.

    Bands are told apart by colour (blue above, orange below, grey similar) and
    by marker (▲, ▼, ●), with a legend naming them when ``band_labels`` is given.

    :param streets: the run's streets ``street, score, ci_low, ci_high, band``.
    :param district: the district reference ``score, ci_low, ci_high``.
    :param band_labels: legend words for ``above``, ``similar`` and ``below``.
    """
    rows = [s for s in streets if s.score is not None]
    rows.sort(key=lambda s: float(s.score or 0.0))
    n = max(len(rows), 1)
    with _rc():
        fig = _figure(7.5, max(2.6, ROW_INCH * n + 1.1))
        ax = fig.add_axes((0.24, 0.6 / (ROW_INCH * n + 1.1), 0.72, 1 - 1.0 / (ROW_INCH * n + 1.1)))
        d = district.score
        if d is not None:
            lo, hi = district.ci_low, district.ci_high
            if lo is not None and hi is not None:
                ax.axvspan(float(lo), float(hi), color="#9aa0a6", alpha=0.18, lw=0)
            dv = float(d)
            ax.axvline(dv, color=DISTRICT_LINE, lw=1.1, ls="--", label=f"{district_label} {dv:.1f}")
        for y, s in enumerate(rows):
            band = s.band
            key = band if isinstance(band, str) else None
            color = BAND_COLORS.get(key, BAND_COLORS[None])
            marker = BAND_MARKERS.get(key, "o")
            score = float(s.score or 0.0)
            lo, hi = s.ci_low, s.ci_high
            if lo is not None and hi is not None:
                ax.plot([float(lo), float(hi)], [y, y], color=color, lw=1.6, solid_capstyle="butt")
            ax.plot([score], [y], marker, color=color, ms=6 if marker != "o" else 4.5)
        if band_labels:
            present = {s.band or "similar" for s in rows}
            for band in ("above", "similar", "below"):
                if band in present and band in band_labels:
                    ax.plot(
                        [],
                        [],
                        BAND_MARKERS[band] + "-",
                        color=BAND_COLORS[band],
                        ms=6 if band != "similar" else 4.5,
                        lw=1.6,
                        label=band_labels[band],
                    )
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([s.street for s in rows], fontsize=8 if n > 40 else 9)
        ax.set_ylim(-0.7, n - 0.3)
        ax.set_xlabel(xlabel)
        ax.grid(axis="x", color="#dddddd", lw=0.6)
        ax.set_axisbelow(True)
        ax.tick_params(axis="x", labeltop=n > 40, top=n > 40)
        for side in ("right", "top"):
            ax.spines[side].set_visible(False)
        if d is not None or band_labels:
            ax.legend(
                loc="lower right", frameon=True, framealpha=0.92, edgecolor="none", fontsize=8
            )
        if title:
            ax.set_title(title, fontsize=10, loc="left")
        return _svg(fig)


def heatmap(
    streets: Sequence[str],
    columns: Sequence[str],
    scores: Sequence[Sequence[float | None]],
    district: Sequence[float | None],
    *,
    cbar_label: str = "与全区之差",
) -> bytes:
    """Streets x dimensions: each cell's score, coloured by its gap to the district."""
    import numpy as np

    n, k = len(streets), len(columns)
    values = np.array(
        [[np.nan if v is None else float(v) for v in row] for row in scores], dtype=float
    ).reshape(n, k)
    ref = np.array([np.nan if v is None else float(v) for v in district], dtype=float)
    gap = values - ref[None, :]
    span = float(np.nanmax(np.abs(gap))) if np.isfinite(gap).any() else 1.0
    span = max(span, 1.0)
    with _rc():
        height = max(2.4, ROW_INCH * n + 1.3)
        fig = _figure(max(5.0, 1.15 * k + 2.8), height)
        ax = fig.add_axes((0.34, 0.35 / height, 0.5, 1 - 1.0 / height))
        masked = np.ma.masked_invalid(gap)
        # blue (above the district) to orange (below): readable with red-green colour blindness
        from matplotlib.colors import LinearSegmentedColormap

        cmap = LinearSegmentedColormap.from_list(
            "orange_blue", ["#b35806", "#f1a340", "#f7f7f7", "#67a9cf", "#2166ac"]
        )
        image = ax.imshow(masked, cmap=cmap, vmin=-span, vmax=span, aspect="auto")
        for i in range(n):
            for j in range(k):
                if math.isfinite(values[i, j]):
                    strong = abs(gap[i, j]) > 0.6 * span  # white on the darkest cells
                    ax.text(
                        j,
                        i,
                        f"{values[i, j]:.1f}",
                        ha="center",
                        va="center",
                        fontsize=8.5,
                        color="white" if strong else "black",
                    )
        ax.set_xticks(range(k))
        ax.set_xticklabels(list(columns), fontsize=9.5)
        ax.xaxis.tick_top()
        ax.set_yticks(range(n))
        ax.set_yticklabels(list(streets), fontsize=9)
        bar_h = min(3.0, 0.6 * height) / height  # colour key beside the top rows
        cax = fig.add_axes((0.87, 1 - 0.65 / height - bar_h, 0.03, bar_h))
        bar = fig.colorbar(image, cax=cax)
        bar.set_label(cbar_label, fontsize=8)
        bar.ax.tick_params(labelsize=7)
        return _svg(fig)


def radar(
    labels: Sequence[str],
    street: Sequence[float | None],
    district: Sequence[float | None],
    *,
    street_label: str = "本街道",
    district_label: str = "全区",
) -> bytes:
    """Dimension scores of one street against the district on a radar."""
    import numpy as np

    k = len(labels)
    angles = np.linspace(0, 2 * np.pi, k, endpoint=False).tolist()
    angles += angles[:1]

    def closed(values: Sequence[float | None]) -> list[float]:
        out = [float("nan") if v is None else float(v) for v in values]
        return out + out[:1]

    with _rc():
        fig = _figure(4.6, 4.4)
        ax = fig.add_subplot(111, polar=True)
        s, d = closed(street), closed(district)
        # the axis starts at 0, so areas compare honestly (a cut axis makes gaps look huge)
        low, high = 0.0, 100.0
        ax.plot(angles, d, color=DISTRICT_COLOR, lw=1.6, ls="--", label=district_label)
        ax.plot(angles, s, color="#b3121b", lw=2.2, label=street_label)
        ax.fill(angles, s, color="#b3121b", alpha=0.12)
        ax.set_xticks(angles[:-1])
        ax.set_xticklabels(list(labels), fontsize=10.5)
        ax.tick_params(axis="x", pad=10)
        ax.set_ylim(low, high)
        ax.set_rlabel_position(112.5)  # type: ignore[attr-defined]  # a polar Axes
        ax.tick_params(axis="y", labelsize=8, labelcolor="#5f6368")
        ax.legend(
            loc="lower center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False, fontsize=9.5
        )
        fig.subplots_adjust(left=0.14, right=0.86, top=0.9, bottom=0.17)
        return _svg(fig)


def indicator_bars(
    labels: Sequence[str],
    rows: Sequence[Mapping[str, float | None]],
    district: Sequence[float | None],
    *,
    highlight: Sequence[bool] = (),
    xlabel: str = "得分（95% 置信区间）",
    district_label: str = "全区",
    street_label: str = "本街道",
    priority_label: str = "整改优先",
) -> bytes:
    """One street's indicator scores with CIs (dot and whisker) against the district (marks).

    The axis does not start at 0: points and intervals, not bars, so that no
    length is implied.
    """
    n = len(labels)
    flags = list(highlight) + [False] * (n - len(highlight))
    with _rc():
        height = max(2.5, 0.32 * n + 1.1)
        fig = _figure(7.0, height)
        ax = fig.add_axes((0.31, 0.6 / height, 0.65, 1 - 1.0 / height))
        ys = list(range(n))[::-1]
        for y, row, ref, hot in zip(ys, rows, district, flags, strict=False):
            color = "#b3121b" if hot else "#3c4043"
            lo, hi = row.get("ci_low"), row.get("ci_high")
            if lo is not None and hi is not None:
                ax.plot([lo, hi], [y, y], color=color, lw=2.2, solid_capstyle="butt")
            score = row.get("score")
            if score is not None:
                ax.plot([score], [y], "o", color=color, ms=6)
            if ref is not None:
                ax.plot([ref], [y], marker="|", color=DISTRICT_COLOR, ms=14, mew=2.2)
        ax.plot([], [], "o-", color="#3c4043", ms=5, label=street_label)
        ax.plot([], [], "o-", color="#b3121b", ms=5, label=priority_label)
        ax.plot([], [], marker="|", color=DISTRICT_COLOR, ms=10, mew=2, ls="", label=district_label)
        ax.set_yticks(ys)
        ax.set_yticklabels(list(labels), fontsize=9.5)
        ax.set_ylim(-0.7, n - 0.3)
        values = [
            float(v)
            for r in rows
            for v in (r.get("ci_low"), r.get("ci_high"), r.get("score"))
            if v is not None
        ] + [float(v) for v in district if v is not None]
        low = max(0.0, math.floor(((min(values) if values else 0) - 3) / 5) * 5)
        high = min(100.0, math.ceil(((max(values) if values else 100) + 3) / 5) * 5)
        ax.set_xlim(low, high)
        ax.set_xlabel(xlabel)
        ax.grid(axis="x", color="#dddddd", lw=0.6)
        ax.set_axisbelow(True)
        for side in ("right", "top"):
            ax.spines[side].set_visible(False)
        ax.legend(
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            ncol=3,
            frameon=False,
            fontsize=9,
            borderaxespad=0.2,
        )
        return _svg(fig)
