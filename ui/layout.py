"""The shared page frame: header with navigation, a content column, and small display helpers.

Everything shown here that came from the web (names, descriptions, why-texts) goes through text elements
(`ui.label`, `ui.link` text, table cells interpolated with `{{ }}`), never through `ui.html` or `ui.markdown`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from nicegui import app, ui

from recruiter.accounts.roles import AUDIT, Actor
from recruiter.core.security import login_required
from ui.access import actor_for_request, log_out

NAV = [("Dashboard", "/", "dashboard"), ("Profiles", "/profiles", "person_search"),
       ("Prospects", "/prospects", "format_list_numbered"), ("Pipeline", "/pipeline", "view_kanban"),
       ("Discover", "/discover", "travel_explore"), ("Sequences", "/sequences", "forward_to_inbox")]

STAGE_LABELS = {
    "discovered": "Discovered", "shortlisted": "Shortlisted", "contacted": "Contacted", "replied": "Replied",
    "negotiating": "Negotiating", "joined": "Joined", "activated": "Activated", "performing": "Performing",
    "declined": "Declined",
}

# A 0-100 value (fit, score) as a coloured bar and its number; interpolated with {{ }} (text), never v-html.
BAR_SLOT = r"""
<q-td :props="props">
  <div class="row items-center no-wrap" style="gap: 6px">
    <q-linear-progress :value="props.value / 100" size="8px" rounded style="width: 64px"
        :color="props.value >= 60 ? 'green' : (props.value >= 35 ? 'amber-8' : 'grey-6')" />
    <span class="text-caption">{{ props.value }}</span>
  </div>
</q-td>
"""

STAGE_COLORS = {
    "discovered": "grey-7", "shortlisted": "indigo", "contacted": "blue", "replied": "cyan-8",
    "negotiating": "amber-9", "joined": "green", "activated": "green-8", "performing": "teal", "declined": "red-5",
}
# Partner segments (recruiter.partners.reports.SEGMENTS): the Partners page and the lookalike results name them.
SEGMENT_COLORS = {"top": "teal", "rising": "green", "steady": "blue", "dormant": "amber-9",
                  "never-activated": "grey-7"}
SEGMENT_LABELS = {"top": "Top", "rising": "Rising", "steady": "Steady", "dormant": "Dormant",
                  "never-activated": "Never activated"}
KIND_ICONS = {"blog": "article", "podcast": "podcasts", "subreddit": "forum", "youtube": "smart_display",
              "newsletter": "mail", "forum": "groups", "other": "public"}


def nav_items(actor: Actor | None = None) -> list[tuple[str, str, str]]:
    """The header's links; the Audit page's only for a role that may read the log."""
    items = list(NAV)
    # Pages other modules may provide: linked only when their module is there.
    for module, label, path, icon in (("partners", "Partners", "/partners", "handshake"),
                                      ("platforms", "Platforms", "/platforms", "compare_arrows")):
        if importlib.util.find_spec(f"ui.pages.{module}") is not None:
            items.append((label, path, icon))
    if actor is not None and actor.allows(AUDIT):
        items.append(("Audit", "/audit", "policy"))
    return items


def _current_actor() -> Actor | None:
    """Who is looking at the page being built (None when that cannot be said: the page then links no more
    than it must, and its own code refuses what needs a role)."""
    try:
        request = ui.context.client.request
    except (RuntimeError, AttributeError):
        return None
    return actor_for_request(request)


# On a phone, cards and columns side by side stack one per line (they declare a comfortable minimum width for
# a laptop, wider than a phone), and wide tables and tab rows scroll inside their card: the page itself never
# scrolls sideways. Rows marked no-wrap (the board, a line of chips) keep their own layout.
RESPONSIVE_CSS = """
@media (max-width: 599px) {
  .nicegui-content .q-card { min-width: 0 !important; max-width: 100%; }
  .nicegui-content .nicegui-row:not(.no-wrap) > .q-card,
  .nicegui-content .nicegui-row:not(.no-wrap) > .nicegui-column { flex: 1 1 100%; }
  .nicegui-content .q-card > * { max-width: 100%; }
  .nicegui-content .q-table__container, .nicegui-content .q-tabs { max-width: 100%; overflow-x: auto; }
}
"""


@contextmanager
def frame(title: str, *, active: str | None = None, wide: bool = False) -> Iterator[ui.column]:
    """Header with navigation, page title, then a content column the page fills."""
    ui.page_title(f"{title} · recruiter")
    ui.colors(primary="#3949ab")
    ui.add_css(RESPONSIVE_CSS)
    actor = _current_actor()
    with ui.header(elevated=True).classes("items-center gap-1 px-2 sm:px-4 py-2 bg-primary no-wrap"):
        with ui.link(target="/").classes("no-underline text-white mr-2 row items-center gap-1 no-wrap shrink-0"):
            ui.icon("hub").classes("text-2xl")
            ui.label("recruiter").classes("text-lg font-bold gt-xs")
        # On a narrow screen the labels give way to icons and the row scrolls inside the header: the page itself
        # never grows wider than the screen.
        with ui.row().classes("items-center gap-1 no-wrap overflow-x-auto min-w-0 flex-1").mark("nav"):
            for label, path, icon in nav_items(actor):
                selected = active == path
                with ui.link(target=path).classes(
                        "no-underline text-white px-2 py-1 rounded row items-center gap-1 no-wrap shrink-0 "
                        + ("bg-white/20 font-semibold nav-active" if selected else "hover:bg-white/10")
                ).mark(f"nav-{label.lower()}") as link:
                    ui.icon(icon).classes("text-base")
                    ui.label(label).classes("gt-sm")
                    link.tooltip(label)
        if actor is not None and actor.is_user:
            with ui.column().classes("gap-0 items-end text-white shrink-0 gt-xs"):
                ui.label(actor.name).classes("text-sm leading-tight").mark("signed-in-email")
                ui.label(actor.role).classes("text-xs leading-tight opacity-80").mark("signed-in-role")
        if actor is not None and (actor.is_user or (login_required() and app.storage.user.get("authenticated"))):
            ui.button(icon="logout", on_click=logout).props("flat round color=white").tooltip(
                f"Log out {actor.name}" if actor.is_user else "Log out")
    with ui.column().classes("w-full mx-auto p-4 gap-4" + ("" if wide else " max-w-screen-xl")) as content:
        ui.label(title).classes("text-2xl font-semibold")
        yield content


def ago(at: datetime, now: datetime | None = None) -> str:
    """How long ago, as people say it: "just now", "5 min ago", "3 h ago", "4 d ago", else the date."""
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    seconds = ((now or datetime.now(UTC)) - at).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    if seconds < 30 * 86400:
        return f"{int(seconds // 86400)} d ago"
    return f"{at:%Y-%m-%d}"


def logout() -> None:
    """End this browser's session on the server (audited), forget the shared password's login, show the login."""
    log_out(ui.context.client.request)
    app.storage.user.clear()
    ui.navigate.to("/login")


def stage_badge(stage: str | None) -> ui.badge:
    stage = stage or "discovered"
    return ui.badge(STAGE_LABELS.get(stage, stage), color=STAGE_COLORS.get(stage, "grey"))


def kind_chip(kind: str) -> None:
    with ui.row().classes("items-center gap-1 text-grey-8"):
        ui.icon(KIND_ICONS.get(kind, "public")).classes("text-sm")
        ui.label(kind)


def fit_bar(fit: int | None) -> None:
    with ui.row().classes("items-center gap-2 no-wrap"):
        value = (fit or 0) / 100
        ui.linear_progress(value=value, show_value=False, size="8px",
                           color="green" if (fit or 0) >= 60 else "amber-8" if (fit or 0) >= 35 else "grey-6"
                           ).classes("w-20")
        ui.label("—" if fit is None else str(fit)).classes("text-sm w-6")


def empty_state(message: str, *, link: tuple[str, str] | None = None) -> None:
    with ui.card().classes("w-full items-center p-8 text-grey-7"):
        ui.icon("inbox").classes("text-4xl")
        ui.label(message)
        if link:
            ui.link(link[0], link[1])
