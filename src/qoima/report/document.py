"""The report document: sections of text, tables and figures as plain data.

One document feeds every renderer (interactive HTML, PDF, CSV tables, JSON), so the
committee reads the same numbers whichever file it opens. Figures are *specs* (kind plus
plain series), not plotly objects: the core stays free of rendering libraries and a test
can check a figure's data for NaN or emptiness before anything is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

Cell = str | int | float | None


class NoticeLevel(StrEnum):
    INFO = "info"
    WARNING = "warning"
    PROBLEM = "problem"  # a step failed or an input is broken: the run is degraded


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the reader must see before the numbers, in plain words."""

    level: NoticeLevel
    step: str  # the run step it came from, e.g. "risk" or "audit"
    text: str


@dataclass(frozen=True, slots=True)
class Provenance:
    """Every table and figure says when, from where, and whether the data is SYNTHETIC."""

    as_of: date
    source: str
    synthetic: bool = False

    def caption(self) -> str:
        flag = " — SYNTHETIC market data" if self.synthetic else ""
        return f"As of {self.as_of.isoformat()}; source: {self.source}{flag}"


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str
    kind: str = "text"  # text | money | number | percent | date (how to format and align)
    places: int = 2  # decimals for money/number; percent cells are fractions (0.05 = 5 %)


@dataclass(frozen=True, slots=True)
class Table:
    id: str  # stable, also the CSV file name (``tables/<id>.csv``)
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    provenance: Provenance
    note: str = ""


class FigureKind(StrEnum):
    PIE = "pie"  # labels, values
    SUNBURST = "sunburst"  # labels, parents, values (parents "" for the root level)
    BAR = "bar"  # categories (x) and one or more series (y)
    HBAR = "hbar"  # horizontal bars: categories and series
    LINE = "line"  # x (dates or numbers) and one or more series
    HEATMAP = "heatmap"  # x labels, y labels, z matrix
    RANGE = "range"  # a value against a [low, high] range with markers (sleeve vs range)


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: tuple[float | None, ...]


@dataclass(frozen=True, slots=True)
class Figure:
    """A chart as data. Which fields matter depends on ``kind`` (see :class:`FigureKind`).

    ``x`` holds categories, labels or ISO dates; ``series`` the y values (one per trace);
    for a heatmap ``y`` holds row labels and ``z`` the matrix; a sunburst uses ``x`` as
    labels, ``parents`` and ``series[0]`` as values; a range figure uses ``series`` named
    ``value``, ``low`` and ``high`` (one value each) and ``markers`` for extra lines.
    """

    id: str
    title: str
    kind: FigureKind
    provenance: Provenance
    x: tuple[str, ...] = ()
    series: tuple[Series, ...] = ()
    y: tuple[str, ...] = ()
    z: tuple[tuple[float | None, ...], ...] = ()
    parents: tuple[str, ...] = ()
    markers: tuple[tuple[str, float], ...] = ()
    x_title: str = ""
    y_title: str = ""
    value_format: str = "number"  # number | money | percent (hover and axis format)
    note: str = ""


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class KeyFigure:
    """A headline number: label, formatted value, optional change and tone."""

    label: str
    value: str
    detail: str = ""
    tone: str = "neutral"  # neutral | good | bad | warn


@dataclass(frozen=True, slots=True)
class KeyFigures:
    items: tuple[KeyFigure, ...]


Block = Text | Table | Figure | KeyFigures


@dataclass(frozen=True, slots=True)
class Section:
    id: str  # stable anchor, e.g. "headline", "allocation", "risk"
    title: str
    blocks: tuple[Block, ...]
    failed: str = ""  # set when the step feeding this section failed: what went wrong


@dataclass(frozen=True, slots=True)
class ReportDocument:
    title: str
    subtitle: str
    as_of: date
    label: str  # e.g. "ILLUSTRATIVE DEMO" or the institution's name
    synthetic: bool
    notices: tuple[Notice, ...]
    sections: tuple[Section, ...]
    footer: str = ""
    audience: str = "committee"  # committee | public
    meta: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # run id, versions

    @property
    def degraded(self) -> bool:
        return any(n.level is NoticeLevel.PROBLEM for n in self.notices)

    def tables(self) -> list[Table]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Table)]

    def figures(self) -> list[Figure]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Figure)]


def figure_problems(figure: Figure) -> list[str]:
    """Why a figure would draw badly: empty data, NaN/inf values, ragged series."""
    import math

    problems: list[str] = []

    def bad(values: Sequence[float | None]) -> bool:
        return any(v is not None and not math.isfinite(v) for v in values)

    if figure.kind is FigureKind.HEATMAP:
        if not figure.z or not figure.x or not figure.y:
            problems.append("empty matrix")
        elif any(len(row) != len(figure.x) for row in figure.z) or len(figure.z) != len(figure.y):
            problems.append("matrix shape does not match its labels")
        elif any(bad(row) for row in figure.z):
            problems.append("matrix holds NaN or infinity")
        return problems
    if not figure.series or all(not s.values for s in figure.series):
        problems.append("no data")
    for s in figure.series:
        if bad(s.values):
            problems.append(f"series {s.name!r} holds NaN or infinity")
        if figure.kind is not FigureKind.RANGE and figure.x and len(s.values) != len(figure.x):
            problems.append(f"series {s.name!r} has {len(s.values)} values for "
                            f"{len(figure.x)} x labels")
        if all(v is None for v in s.values) and s.values:
            problems.append(f"series {s.name!r} is all missing")
    if figure.kind is FigureKind.SUNBURST and len(figure.parents) != len(figure.x):
        problems.append("sunburst parents do not match its labels")
    return problems
