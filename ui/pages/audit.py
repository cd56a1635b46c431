"""/audit: the audit log, for admins and owners: who did what, when, and from where, newest first.

The page asks `require(actor, AUDIT)` on the server before reading a single entry, so a viewer or a member who
types the address sees a refusal, not the log (and the header links the page only for a role that may read it).
The filters (since a day, one user) are query parameters: `/audit?since=2024-05-01&user=m@example.com`, so a
filtered view can be bookmarked, and every view is a new page load, checked again.
"""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import urlencode

from nicegui import ui

from recruiter.accounts.audit import MAX_SHOWN, entries
from recruiter.accounts.roles import AUDIT, Actor, NotAllowed, require
from recruiter.core.db import open_session
from ui.access import guarded, page_actor
from ui.layout import empty_state, frame

COLUMNS = [
    {"name": "at", "label": "At (UTC)", "field": "at", "align": "left", "sortable": True},
    {"name": "user", "label": "User", "field": "user", "align": "left", "sortable": True},
    {"name": "via", "label": "Via", "field": "via", "align": "left"},
    {"name": "ip", "label": "IP", "field": "ip", "align": "left"},
    {"name": "action", "label": "Action", "field": "action", "align": "left", "sortable": True},
    {"name": "target", "label": "Target", "field": "target", "align": "left",
     "style": "max-width: 28rem; white-space: normal; overflow-wrap: anywhere"},
    {"name": "detail", "label": "Detail", "field": "detail", "align": "left",
     "style": "max-width: 28rem; white-space: normal; overflow-wrap: anywhere"},
]


def parse_day(text: str) -> date | None:
    """A YYYY-MM-DD day, None for nothing; ValueError for anything else."""
    text = (text or "").strip()
    if not text:
        return None
    return date.fromisoformat(text)


def audit_rows(actor: Actor, *, since: date | None = None, user: str | None = None) -> list[dict]:
    """The table's rows, newest first, if ``actor`` may read the log (NotAllowed, SessionEnded otherwise)."""
    with open_session() as session:
        require(actor, AUDIT, session=session)
        found = entries(session=session, since=since, user=user or None)
    rows = []
    for number, entry in enumerate(found):
        detail = entry.detail
        rows.append({"id": number, "at": f"{entry.at:%Y-%m-%d %H:%M:%S}", "user": entry.actor, "via": entry.via,
                     "ip": entry.ip, "action": entry.action, "target": entry.target,
                     "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else ""})
    return rows


def refusal(exc: Exception) -> None:
    with ui.card().classes("w-full items-center p-8 text-grey-8").mark("not-allowed"):
        ui.icon("block").classes("text-4xl text-negative")
        ui.label("Not allowed").classes("text-lg font-semibold")
        ui.label(str(exc))


@ui.page("/audit")
def audit_page(since: str = "", user: str = "") -> None:
    actor = page_actor()
    with frame("Audit log", active="/audit", wide=True):
        try:
            day = parse_day(since)
            problem = ""
        except ValueError:
            day, problem = None, f"{since!r} is not a day: write it as YYYY-MM-DD"
        try:
            rows = audit_rows(actor, since=day, user=user.strip() or None)
        except NotAllowed as exc:
            refusal(exc)
            return
        users = sorted({row["user"] for row in rows} | ({user.strip()} if user.strip() else set()))

        with ui.row().classes("items-end gap-4 w-full"):
            since_input = ui.input("Since (YYYY-MM-DD)", value=since.strip()).props("clearable dense") \
                .classes("w-48").mark("audit-since")
            user_input = ui.input("User", value=user.strip(), autocomplete=users).props("clearable dense") \
                .classes("w-72").mark("audit-user")

            @guarded
            def apply() -> None:
                wanted_since, wanted_user = (since_input.value or "").strip(), (user_input.value or "").strip()
                try:
                    parse_day(wanted_since)
                except ValueError:
                    ui.notify(f"{wanted_since!r} is not a day: write it as YYYY-MM-DD", color="negative")
                    return
                query = urlencode({k: v for k, v in (("since", wanted_since), ("user", wanted_user)) if v})
                ui.navigate.to("/audit" + (f"?{query}" if query else ""))

            ui.button("Filter", icon="filter_list", on_click=apply)
            since_input.on("keydown.enter", apply)
            user_input.on("keydown.enter", apply)
        if problem:
            ui.label(problem).classes("text-negative")
        if not rows:
            empty_state("No entries" + (" for these filters." if (day or user.strip()) else " yet."))
            return
        shown = f"{len(rows)} entries, newest first" + (f" (the latest {MAX_SHOWN})" if len(rows) >= MAX_SHOWN else "")
        ui.label(shown).classes("text-grey-7 text-sm")
        ui.table(columns=COLUMNS, rows=rows, row_key="id", pagination={"rowsPerPage": 50}) \
            .classes("w-full").props("dense flat bordered wrap-cells").mark("audit-table")
