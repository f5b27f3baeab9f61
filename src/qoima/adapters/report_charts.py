"""Figure specs to plotly figures, for the interactive HTML report (and its printed PDF).

One function per :class:`FigureKind`. Callers must check :func:`figure_problems` first:
these builders assume clean, finite data. Formats follow ``value_format`` so a money axis
never shows "1.2G" and a percent figure shows 5 %, not 0.05.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import plotly.graph_objects as go  # type: ignore[import-untyped]
import plotly.io as pio  # type: ignore[import-untyped]

from qoima.report.document import Figure, FigureKind

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442",
           "#000000")
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', Arial, sans-serif"
PRINT_WIDTH = 680  # CSS px: fits A4 portrait between 12 mm margins (about 700 px)
PRINT_HEIGHT = 330
SCREEN_HEIGHT = 400


def hover_format(value_format: str) -> str:
    """d3 format for exact values in hover labels and annotations."""
    return {"money": ",.2f", "percent": ".2%"}.get(value_format, ",.4~f")


def axis_format(value_format: str) -> str:
    return {"money": ",.0f", "percent": ".0%"}.get(value_format, "")


def value_text(value: float, value_format: str) -> str:
    """A value as the reader sees it in labels (same rules as the hover formats)."""
    if value_format == "percent":
        return f"{value * 100:.1f}%"
    if value_format == "money":
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.2f}"
    return f"{value:,.4g}"


def _values(fig: Figure) -> list[float]:
    found = [v for s in fig.series for v in s.values if v is not None]
    return found + [v for row in fig.z for v in row if v is not None]


def _is_dates(labels: tuple[str, ...]) -> bool:
    try:
        for label in labels:
            date.fromisoformat(label)
    except ValueError:
        return False
    return bool(labels)


def _plain(text: str) -> str:
    """A name placed inside a plotly hover template: no markup, no template fields."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(
        "%{", "%\u200b{")


def _pie(fig: Figure) -> list[Any]:
    fmt = hover_format(fig.value_format)
    return [go.Pie(labels=list(fig.x), values=list(fig.series[0].values), hole=0.45,
                   sort=False, direction="clockwise", texttemplate="%{percent:.1%}",
                   insidetextorientation="horizontal",
                   marker={"colors": list(PALETTE), "line": {"color": "#fff", "width": 1}},
                   hovertemplate=f"%{{label}}: %{{value:{fmt}}} (%{{percent}})<extra></extra>")]


def sunburst_branch_values(fig: Figure) -> str:
    """"total" when every parent's value covers its children, else "remainder"."""
    values = dict(zip(fig.x, fig.series[0].values, strict=True))
    sums: dict[str, float] = {}
    for label, parent in zip(fig.x, fig.parents, strict=True):
        if parent:
            sums[parent] = sums.get(parent, 0.0) + (values[label] or 0.0)
    covered = all((values.get(p) or 0.0) >= total * (1 - 1e-9) for p, total in sums.items())
    return "total" if covered else "remainder"


def _sunburst(fig: Figure) -> list[Any]:
    fmt = hover_format(fig.value_format)
    return [go.Sunburst(ids=list(fig.x), labels=list(fig.x), parents=list(fig.parents),
                        values=list(fig.series[0].values),
                        branchvalues=sunburst_branch_values(fig), sort=False,
                        insidetextorientation="horizontal",
                        marker={"line": {"color": "#fff", "width": 1}},
                        hovertemplate=f"%{{label}}: %{{value:{fmt}}}<extra></extra>")]


def _bars(fig: Figure, horizontal: bool) -> list[Any]:
    fmt = hover_format(fig.value_format)
    traces = []
    labelled = len(fig.series) == 1 and len(fig.x) <= 12
    for i, s in enumerate(fig.series):
        extra = f"<extra>{_plain(s.name)}</extra>"
        common: dict[str, Any] = {"name": s.name, "marker": {"color": PALETTE[i % len(PALETTE)]}}
        if labelled:
            common.update(text=[value_text(v, fig.value_format) if v is not None else ""
                                for v in s.values], textposition="auto", cliponaxis=False)
        if horizontal:
            traces.append(go.Bar(y=list(fig.x), x=list(s.values), orientation="h",
                                 hovertemplate=f"%{{y}}: %{{x:{fmt}}}{extra}", **common))
        else:
            traces.append(go.Bar(x=list(fig.x), y=list(s.values),
                                 hovertemplate=f"%{{x}}: %{{y:{fmt}}}{extra}", **common))
    return traces


def _line(fig: Figure) -> list[Any]:
    fmt = hover_format(fig.value_format)
    x_hover = "%{x|%Y-%m-%d}" if _is_dates(fig.x) else "%{x}"
    return [go.Scatter(x=list(fig.x), y=list(s.values), mode="lines", name=s.name,
                       line={"color": PALETTE[i % len(PALETTE)], "width": 2},
                       hovertemplate=f"{x_hover}: %{{y:{fmt}}}<extra>{_plain(s.name)}</extra>")
            for i, s in enumerate(fig.series)]


def is_correlation(fig: Figure) -> bool:
    """A number heatmap with every value in [-1, 1] gets the fixed diverging scale."""
    cells = [v for row in fig.z for v in row if v is not None]
    return fig.value_format == "number" and all(-1.0 <= v <= 1.0 for v in cells)


def _heatmap(fig: Figure) -> list[Any]:
    fmt = ".2f" if is_correlation(fig) else hover_format(fig.value_format)
    scale: dict[str, Any] = {"colorscale": "RdBu", "reversescale": True}
    if is_correlation(fig):
        scale.update(zmin=-1.0, zmax=1.0, zmid=0.0)
    else:
        scale = {"colorscale": "Blues"}
    return [go.Heatmap(x=list(fig.x), y=list(fig.y), z=[list(r) for r in fig.z],
                       texttemplate=f"%{{z:{fmt}}}", textfont={"size": 12},
                       hovertemplate=f"%{{y}} / %{{x}}: %{{z:{fmt}}}<extra></extra>",
                       xgap=1, ygap=1, colorbar={"thickness": 12}, **scale)]


def range_parts(fig: Figure) -> tuple[float, float, float]:
    """(value, low, high) from the series named so; a missing one is a ValueError."""
    found = {s.name: s.values[0] for s in fig.series if s.values}
    try:
        value, low, high = found["value"], found["low"], found["high"]
    except KeyError as missing:
        raise ValueError(f"range figure needs series value, low and high; {missing} is missing"
                         ) from None
    if value is None or low is None or high is None:
        raise ValueError("range figure has a missing value, low or high")
    return value, low, high


def _range(fig: Figure) -> list[Any]:
    value, low, high = range_parts(fig)
    fmt = hover_format(fig.value_format)
    inside = low <= value <= high
    traces: list[Any] = [
        go.Bar(y=["range"], x=[high - low], base=[low], orientation="h", name="policy range",
               marker={"color": "#d5e3ef"}, width=0.5,
               hovertemplate=f"policy range: %{{base:{fmt}}} – %{{customdata:{fmt}}}"
                             "<extra></extra>",
               customdata=[high]),
        go.Scatter(y=["range"], x=[value], mode="markers+text", name="value",
                   text=[value_text(value, fig.value_format)], textposition="top center",
                   textfont={"size": 13, "color": "#102a43"},
                   marker={"symbol": "diamond", "size": 16,
                           "color": PALETTE[0] if inside else "#C0392B",
                           "line": {"color": "#fff", "width": 1}},
                   hovertemplate=f"value: %{{x:{fmt}}}<extra></extra>"),
    ]
    for i, (name, at) in enumerate(fig.markers):
        traces.append(go.Scatter(y=["range"], x=[at], mode="markers", name=name,
                                 marker={"symbol": "line-ns-open", "size": 26,
                                         "line": {"width": 3,
                                                  "color": PALETTE[(i + 1) % len(PALETTE)]}},
                                 hovertemplate=f"{_plain(name)}: %{{x:{fmt}}}<extra></extra>"))
    return traces


BUILDERS: dict[FigureKind, Callable[[Figure], list[Any]]] = {
    FigureKind.PIE: _pie,
    FigureKind.SUNBURST: _sunburst,
    FigureKind.BAR: lambda f: _bars(f, horizontal=False),
    FigureKind.HBAR: lambda f: _bars(f, horizontal=True),
    FigureKind.LINE: _line,
    FigureKind.HEATMAP: _heatmap,
    FigureKind.RANGE: _range,
}


def _layout(fig: Figure, for_print: bool) -> dict[str, Any]:
    value_axis = {"tickformat": axis_format(fig.value_format), "zeroline": True,
                  "zerolinecolor": "#9aa5b1", "gridcolor": "#e6e9ed", "automargin": True}
    category_axis: dict[str, Any] = {"automargin": True, "gridcolor": "#e6e9ed"}
    layout: dict[str, Any] = {
        "template": "plotly_white",
        "font": {"family": FONT, "size": 12, "color": "#1f2933"},
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "legend": {"orientation": "h", "y": -0.12, "yanchor": "top", "x": 0},
        "hoverlabel": {"font": {"family": FONT}},
        "colorway": list(PALETTE),
        "showlegend": len(fig.series) > 1 or fig.kind in (FigureKind.PIE, FigureKind.RANGE),
    }
    if for_print:
        layout.update(width=PRINT_WIDTH, height=PRINT_HEIGHT, autosize=False)
    else:
        layout.update(height=SCREEN_HEIGHT, autosize=True)
    if fig.kind in (FigureKind.BAR, FigureKind.LINE):
        layout["xaxis"] = {**category_axis, "title": {"text": fig.x_title}}
        layout["yaxis"] = {**value_axis, "title": {"text": fig.y_title}}
        if fig.kind is FigureKind.LINE and _is_dates(fig.x):
            layout["xaxis"]["type"] = "date"
            layout["hovermode"] = "x unified"
    elif fig.kind is FigureKind.HBAR:
        layout["yaxis"] = {**category_axis, "autorange": "reversed",
                           "title": {"text": fig.y_title}}
        layout["xaxis"] = {**value_axis, "title": {"text": fig.x_title}}
        layout["height"] = max(220, min(layout["height"], 60 + 34 * len(fig.x)))
    elif fig.kind is FigureKind.HEATMAP:
        layout["yaxis"] = {"autorange": "reversed", "automargin": True}
        layout["xaxis"] = {"automargin": True, "side": "bottom"}
    elif fig.kind is FigureKind.RANGE:
        layout["yaxis"] = {"visible": False}
        value, low, high = range_parts(fig)
        ends = [value, low, high, *(at for _, at in fig.markers)]
        pad = (max(ends) - min(ends)) * 0.08 or 0.01
        layout["xaxis"] = {**value_axis, "zeroline": False,
                           "range": [min(ends) - pad, max(ends) + pad]}
        layout["height"] = 200
        layout["legend"]["y"] = -0.3
    if fig.kind in (FigureKind.BAR, FigureKind.HBAR):
        layout["barmode"] = "group"
    if fig.kind is FigureKind.PIE:
        layout["legend"] = {"orientation": "v", "x": 1.02, "y": 0.5, "yanchor": "middle"}
    big_money = fig.value_format == "money" and max(map(abs, _values(fig)), default=0) >= 1e6
    for axis in ("xaxis", "yaxis"):
        if big_money and layout.get(axis, {}).get("tickformat") == ",.0f":
            layout[axis].update(tickformat="", exponentformat="B")
    return layout


def plotly_figure(fig: Figure, *, for_print: bool = False) -> go.Figure:
    """A plotly figure for a spec that passed :func:`figure_problems`."""
    return go.Figure(data=BUILDERS[fig.kind](fig), layout=_layout(fig, for_print))


def plot_config(for_print: bool) -> dict[str, Any]:
    if for_print:
        return {"staticPlot": True, "displayModeBar": False, "responsive": False}
    return {"displaylogo": False, "responsive": True,
            "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"]}


def figure_json(fig: Figure, *, for_print: bool = False) -> str:
    """Data, layout and config as JSON that is safe inside an HTML ``<script>`` element."""
    spec = json.loads(pio.to_json(plotly_figure(fig, for_print=for_print), validate=True))
    payload = {"data": spec["data"], "layout": spec["layout"], "config": plot_config(for_print)}
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
