"""Figure specs to PNG images with matplotlib, for the PDF built without a browser.

The same kinds, colours and formats as the plotly charts, so the reportlab PDF reads
like the Chromium one. The Agg backend is chosen explicitly: no display is needed and
nothing global is touched (each chart is its own ``matplotlib.figure.Figure``).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from datetime import date
from typing import Any, Literal

import matplotlib

matplotlib.use("Agg")  # before pyplot could be imported anywhere; we never import pyplot

from matplotlib import colors as mcolors
from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import Wedge
from matplotlib.ticker import FuncFormatter, PercentFormatter

from qoima.adapters.report_charts import (
    PALETTE,
    is_correlation,
    range_parts,
    sunburst_branch_values,
    value_text,
)
from qoima.report.document import Figure, FigureKind

WIDTH_IN = 6.9  # fits A4 portrait between 12 mm margins
HEIGHT_IN = 3.0
DPI = 150
INK, MUTED, GRID = "#1f2933", "#52606d", "#e6e9ed"


def _money_tick(value: float, _pos: int | None = None) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:,.1f}{suffix}".replace(".0" + suffix, suffix)
    return f"{value:,.0f}"


def _value_axis(ax: Axes, value_format: str, axis: Literal["x", "y"]) -> None:
    target = ax.yaxis if axis == "y" else ax.xaxis
    if value_format == "percent":
        target.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    elif value_format == "money":
        target.set_major_formatter(FuncFormatter(_money_tick))
    ax.grid(axis=axis, color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)


def _clean(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#9aa5b1")
    ax.tick_params(colors=INK, labelsize=8)


def _share_label(share: float) -> str:
    return f"{share:.1f}%" if share >= 5 else ""  # thin slices: the legend names them


def _pie(ax: Axes, fig: Figure) -> None:
    values = [v or 0.0 for v in fig.series[0].values]
    wedges, _texts, autotexts = ax.pie(
        values, colors=PALETTE[: len(values)], startangle=90, counterclock=False,
        autopct=_share_label, pctdistance=0.78, wedgeprops={"width": 0.45, "edgecolor": "white"},
        textprops={"fontsize": 8})
    for text in autotexts:
        text.set_color("white")
    ax.legend(wedges, fig.x, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False,
              fontsize=8)
    ax.set_aspect("equal")


def _sunburst(ax: Axes, fig: Figure) -> None:
    """Nested rings of wedges: roots inside; a child's angle is its share of its parent's.

    Follows plotly's ``branchvalues``: with "total" a parent's value includes its children
    (a gap stays where they sum to less), with "remainder" it is added to theirs.
    """
    own = dict(zip(fig.x, (v or 0.0 for v in fig.series[0].values), strict=True))
    children: dict[str, list[str]] = {}
    for label, parent in zip(fig.x, fig.parents, strict=True):
        children.setdefault(parent, []).append(label)
    remainder = sunburst_branch_values(fig) == "remainder"

    def size(label: str, seen: frozenset[str] = frozenset()) -> float:
        if label in seen:  # a cycle in the parents: stop, do not loop
            return own[label]
        kids = sum(size(k, seen | {label}) for k in children.get(label, []))
        return own[label] + kids if remainder else max(own[label], kids)

    roots = children.get("", [])
    total = sum(size(r) for r in roots) or 1.0
    ring = 0.9 / (1 + _deepest(children))
    hole = 0.1

    def draw(label: str, start: float, span: float, level: int, tint: str) -> None:
        outer = hole + ring * (level + 1)
        lighten = min(0.5, 0.22 * level)
        red, green, blue = (c + (1 - c) * lighten for c in mcolors.to_rgb(tint))
        colour = mcolors.to_hex((red, green, blue))
        ax.add_patch(Wedge((0, 0), outer, 90 - start - span, 90 - start, width=ring,
                           facecolor=colour, edgecolor="white", linewidth=1))
        if span >= 14:
            middle = math.radians(90 - start - span / 2)
            radius = outer - ring / 2
            dark = sum(0.3 * c for c in mcolors.to_rgb(colour)) < 0.45
            ax.text(radius * math.cos(middle), radius * math.sin(middle), label,
                    ha="center", va="center", fontsize=7, color="white" if dark else INK)
        parent_size = size(label) or 1.0
        at = start
        for kid in children.get(label, []):
            kid_span = span * size(kid) / parent_size
            draw(kid, at, kid_span, level + 1, tint)
            at += kid_span

    at = 0.0
    for i, root in enumerate(roots):
        span = 360.0 * size(root) / total
        draw(root, at, span, 0, PALETTE[i % len(PALETTE)])
        at += span
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(-1.05, 1.05)
    ax.set_aspect("equal")
    ax.axis("off")


def _deepest(children: dict[str, list[str]], label: str = "", level: int = -1) -> int:
    """The deepest level below ``label`` (roots are level 0); bounded against cycles."""
    kids = children.get(label, [])
    if not kids or level > 50:
        return max(level, 0)
    return max(_deepest(children, kid, level + 1) for kid in kids)


def _bars(ax: Axes, fig: Figure, horizontal: bool) -> None:
    count = len(fig.series)
    slot = 0.8 / count
    positions = range(len(fig.x))
    for i, s in enumerate(fig.series):
        offsets = [p - 0.4 + slot * (i + 0.5) for p in positions]
        heights = [v if v is not None else 0.0 for v in s.values]
        draw = ax.barh if horizontal else ax.bar
        bars = draw(offsets, heights, slot * 0.95, label=s.name, color=PALETTE[i % len(PALETTE)])
        if count == 1:
            ax.bar_label(bars, labels=[value_text(v, fig.value_format) if v is not None else ""
                                       for v in s.values], fontsize=7, padding=2, color=INK)
    if horizontal:
        ax.set_yticks(list(positions), fig.x)
        ax.invert_yaxis()
        ax.axvline(0, color="#9aa5b1", linewidth=0.8)
        _value_axis(ax, fig.value_format, "x")
    else:
        ax.set_xticks(list(positions), fig.x)
        ax.axhline(0, color="#9aa5b1", linewidth=0.8)
        _value_axis(ax, fig.value_format, "y")
    if count > 1:
        ax.legend(frameon=False, fontsize=8, ncol=count, loc="upper center",
                  bbox_to_anchor=(0.5, -0.12))


def _line(ax: Axes, fig: Figure) -> None:
    try:
        xs: list[Any] = [date.fromisoformat(x) for x in fig.x]
    except ValueError:
        xs = list(fig.x)
    for i, s in enumerate(fig.series):
        ax.plot(xs, [float("nan") if v is None else v for v in s.values], label=s.name,
                color=PALETTE[i % len(PALETTE)], linewidth=1.6)
    if xs and isinstance(xs[0], date):
        locator = mdates.AutoDateLocator(maxticks=8)  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(
            mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    _value_axis(ax, fig.value_format, "y")
    if len(fig.series) > 1:
        ax.legend(frameon=False, fontsize=8)


def _heatmap(ax: Axes, fig: Figure) -> None:
    matrix = [[float("nan") if v is None else v for v in row] for row in fig.z]
    correlation = is_correlation(fig)
    image = ax.imshow(matrix, cmap="RdBu_r" if correlation else "Blues", aspect="auto",
                      vmin=-1.0 if correlation else None, vmax=1.0 if correlation else None)
    ax.set_xticks(range(len(fig.x)), fig.x)
    ax.set_yticks(range(len(fig.y)), fig.y)
    for r, row in enumerate(fig.z):
        for c, v in enumerate(row):
            if v is None:
                continue
            strong = abs(v) > 0.6 if correlation else False
            ax.text(c, r, f"{v:.2f}" if correlation else value_text(v, fig.value_format),
                    ha="center", va="center", fontsize=7, color="white" if strong else INK)
    colorbar = ax.figure.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    colorbar.ax.tick_params(labelsize=7)
    for spine in ax.spines.values():
        spine.set_visible(False)


def _range(ax: Axes, fig: Figure) -> None:
    value, low, high = range_parts(fig)
    ax.barh([0], [high - low], left=[low], height=0.5, color="#d5e3ef", label="policy range")
    inside = low <= value <= high
    ax.plot([value], [0], marker="D", markersize=10, linestyle="none",
            color=PALETTE[0] if inside else "#C0392B", label="value", zorder=3)
    ax.annotate(value_text(value, fig.value_format), (value, 0), xytext=(0, 12),
                textcoords="offset points", ha="center", fontsize=8, color=INK)
    for i, (name, at) in enumerate(fig.markers):
        ax.plot([at, at], [-0.32, 0.32], color=PALETTE[(i + 1) % len(PALETTE)], linewidth=2.5,
                label=name)
    ends = [value, low, high, *(at for _, at in fig.markers)]
    pad = (max(ends) - min(ends)) * 0.08 or 0.01
    ax.set_xlim(min(ends) - pad, max(ends) + pad)
    ax.set_ylim(-0.8, 0.8)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    _value_axis(ax, fig.value_format, "x")
    ax.legend(frameon=False, fontsize=8, ncol=2 + len(fig.markers), loc="upper center",
              bbox_to_anchor=(0.5, -0.25))


DRAWERS: dict[FigureKind, Callable[[Axes, Figure], None]] = {
    FigureKind.PIE: _pie,
    FigureKind.SUNBURST: _sunburst,
    FigureKind.BAR: lambda ax, f: _bars(ax, f, horizontal=False),
    FigureKind.HBAR: lambda ax, f: _bars(ax, f, horizontal=True),
    FigureKind.LINE: _line,
    FigureKind.HEATMAP: _heatmap,
    FigureKind.RANGE: _range,
}


def figure_height_in(fig: Figure) -> float:
    if fig.kind is FigureKind.RANGE:
        return 1.6
    if fig.kind is FigureKind.HBAR:
        return max(1.8, min(HEIGHT_IN, 0.6 + 0.3 * len(fig.x)))
    return HEIGHT_IN


def figure_png(fig: Figure, *, width_in: float = WIDTH_IN) -> bytes:
    """A PNG of a spec that passed :func:`figure_problems` (raises ValueError otherwise)."""
    chart = MplFigure(figsize=(width_in, figure_height_in(fig)), dpi=DPI, layout="constrained")
    FigureCanvasAgg(chart)
    ax = chart.add_subplot()
    DRAWERS[fig.kind](ax, fig)
    if fig.kind not in (FigureKind.PIE, FigureKind.SUNBURST, FigureKind.HEATMAP):
        _clean(ax)
        ax.set_xlabel(fig.x_title, fontsize=8, color=MUTED)
        ax.set_ylabel(fig.y_title, fontsize=8, color=MUTED)
    buffer = io.BytesIO()
    chart.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()
