"""The funnel as a picture: a horizontal bar chart (PNG) of one vacancy's figures.

matplotlib is imported on the first chart, not at start-up (it costs about half a second),
and used through its object API (`Figure` + the Agg canvas): no pyplot, no global figure
state, so charts drawn in worker threads at once do not meet.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from flows.flow import Flow
from flows.funnel import STEPS, Funnel, step_label, summary_lines
from flows.messages import Msg, render
from flows.replies import locale_of
from flows.vacancy import Vacancy
from storage.dossier_repository import SqlDossierStore
from storage.funnel_queries import funnel_of

WIDTH_IN, HEIGHT_IN, DPI = 8.0, 4.8, 100  # 800 × 480 pixels: readable on a phone
BAR = "#2f6f9f"
STOP = "#c0504d"  # the steps where candidates leave


def render_chart(title: str, rows: list[tuple[str, int]], axis: str, footnote: str,
                 leaving: frozenset[str] = frozenset()) -> bytes:
    """A PNG of `rows` (label, count) as horizontal bars, top to bottom, each with its count."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    labels = [label for label, _ in rows]
    counts = [count for _, count in rows]
    positions = list(range(len(rows)))[::-1]  # the first step on top
    colours = [STOP if label in leaving else BAR for label in labels]
    bars = ax.barh(positions, counts, color=colours)
    ax.bar_label(bars, labels=[str(c) for c in counts], padding=3)
    ax.set_yticks(positions, labels=labels)
    ax.set_xlabel(axis)
    ax.set_xlim(0, max([*counts, 1]) * 1.15)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(title, loc="left", fontweight="bold")
    figure.text(0.01, 0.01, footnote, fontsize=8, color="#555555")
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def funnel_chart(flow: Flow, figures: Funnel, lang: str) -> bytes:
    """The chart of one vacancy's funnel in `lang` (a language or a locale)."""
    rows = [(render(step_label(step), lang), figures.figure(step)) for step in STEPS]
    leaving = frozenset(render(step_label(s), lang) for s in ("excluded", "expired", "withdrawn"))
    return render_chart(render(flow.vacancy.title, lang), rows,
                        render(Msg("rec.stats.axis"), lang),
                        render(Msg("rec.stats.footnote"), lang), leaving)


def vacancy_chart(store: SqlDossierStore, vacancy: Vacancy, lang: str) -> bytes:
    """The chart of one vacancy's funnel as it stands, in `lang` (the dashboard's picture)."""
    flow = Flow(vacancy)
    return funnel_chart(flow, funnel_of(store, flow), lang)


def funnel_photo(store: SqlDossierStore, vacancy: Vacancy, lang: str,
                 skip_empty: bool = False) -> dict[str, Any] | None:
    """The outbox part of one vacancy's funnel: the chart as a photo, the two lines as its
    caption (in `lang`, said as about this vacancy). None when `skip_empty` and nobody has
    opened the vacancy yet."""
    flow = Flow(vacancy)
    figures = funnel_of(store, flow)
    if skip_empty and figures.started == 0 and figures.accepted == 0:
        return None
    locale = locale_of(vacancy, lang)
    png = funnel_chart(flow, figures, locale)
    return {"photo_data": base64.b64encode(png).decode("ascii"),
            "file_name": f"stats-{vacancy.id}.png",
            "caption": "\n".join(summary_lines(flow, figures, locale))}
