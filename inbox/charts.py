"""The recap's charts, drawn on the server by pygal as SVG, shown as images (no script runs in an image;
the page's Content-Security-Policy lets data: images in). Each chart's numbers stand in a table beside it."""
from __future__ import annotations

import base64

import pygal
from pygal.style import Style

_STYLE = Style(background="white", plot_background="white", foreground="#222", foreground_strong="#111",
               foreground_subtle="#777", colors=("#0b4f6c", "#e07a1f", "#2e7d32", "#8e24aa", "#c62828"),
               font_family="DejaVu Sans, sans-serif")
_OPTIONS = dict(js=(), style=_STYLE, width=800, height=320, legend_at_bottom=True, print_values=False,
                show_minor_x_labels=False, truncate_label=-1, x_label_rotation=0, no_data_text="Belum ada data")


def tickets_per_day(days: list[str], series: dict[str, list[int]]) -> str:
    """Tickets received each day, stacked by channel."""
    chart = pygal.StackedBar(**_OPTIONS, x_labels_major_every=max(1, len(days) // 10))
    chart.x_labels = days
    for name, values in series.items():
        chart.add(name, values)
    return _uri(chart)


def per_month(months: list[str], name: str, values: list[float | None], unit: str) -> str:
    """One figure a month as a line (a month without one is a gap)."""
    chart = pygal.Line(**_OPTIONS, show_legend=False, value_formatter=lambda v: f"{v:.1f} {unit}")
    chart.x_labels = months
    chart.add(name, values)
    return _uri(chart)


def _uri(chart) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(chart.render()).decode()
