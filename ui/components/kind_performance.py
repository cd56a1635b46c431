"""A compact "which kinds of community perform" card, meant to sit next to a ranking.

`render_kind_performance(kind=None)` draws one line per kind of partner community (revenue per partner,
activation rate, EPC), best first, highlighting `kind` when the ranking is filtered to one.
"""

from __future__ import annotations

from nicegui import ui

from recruiter.core.db import open_session
from recruiter.partners.reports import kind_performance


def render_kind_performance(kind: str | None = None) -> None:
    with open_session() as session:
        rows = kind_performance(session=session)
    with ui.card().classes("w-full p-3 gap-1") as card:
        card.mark("kind-performance")
        ui.label("Which kinds of partner perform").classes("font-medium")
        if not rows:
            ui.label("Shown once partners have joined and their numbers are imported (Partners page).") \
                .classes("text-xs text-grey-7")
            return
        for row in rows:
            epc = "—" if row.epc is None else f"{row.epc:.2f}"
            rate = f"{(row.activation_rate or 0) * 100:.0f} %"
            with ui.row().classes("items-center gap-2 w-full no-wrap text-sm "
                                  + ("font-semibold" if row.kind == kind else "")):
                ui.label(row.kind).classes("w-24")
                ui.label(f"{row.revenue_per_partner:,.2f} / partner").classes("w-32")
                ui.label(f"{rate} active · EPC {epc} · {row.partners} partners").classes("text-grey-7")
