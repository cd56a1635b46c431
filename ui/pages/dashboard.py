"""/: the day's overview: the funnel with the share converting at each step, follow-ups coming up, recent
activity (whole notes), and counts per profile. Read models: `recruiter.outreach.dashboard`. Once partners have
revenue, a few communities like the best of them (`ui.components.lookalikes`), found after the page is shown.

A logged-in user sees their own follow-ups first (the prospects they own), then everyone else's."""

from __future__ import annotations

from urllib.parse import quote

from nicegui import ui

from recruiter.core.db import open_session
from recruiter.outreach.dashboard import (
    UPCOMING_DAYS,
    ActivityItem,
    FollowUp,
    Funnel,
    follow_ups,
    funnel,
    profile_counts,
    recent_activity,
)
from ui.access import page_actor
from ui.components.lookalikes import render_like_top_partners
from ui.layout import STAGE_COLORS, STAGE_LABELS, ago, empty_state, frame, stage_badge

FOLLOW_UP_GROUPS = (("overdue", "Overdue", "text-negative"), ("today", "Due today", "text-primary"),
                    ("upcoming", "Coming up", "text-grey-8"))


@ui.page("/")
def dashboard_page() -> None:
    actor = page_actor()
    with open_session() as session:
        steps = funnel(session=session)
        # follow-up dates and email sequence steps due, the user's own first
        upcoming = follow_ups(session=session, mine=actor.user_id)
        activity = recent_activity(session=session, limit=15)
        profiles = profile_counts(session=session)

    with frame("Dashboard", active="/"):
        with ui.row().classes("w-full gap-4 items-stretch"):
            with ui.card().classes("flex-[3] min-w-[min(320px,100%)]").mark("funnel"):
                funnel_view(steps)
            with ui.card().classes("flex-[2] min-w-[min(280px,100%)]").mark("follow-ups"):
                follow_ups_view(upcoming, mine=actor.user_id)
        with ui.row().classes("w-full gap-4 items-stretch"):
            with ui.card().classes("flex-1 min-w-[min(320px,100%)]").mark("activity"):
                activity_view(activity)
            with ui.card().classes("flex-1 min-w-[min(320px,100%)]"):
                ui.label("Profiles").classes("text-lg font-medium")
                if not profiles:
                    empty_state("No profile yet.", link=("Describe your ideal client", "/profiles"))
                for item in profiles:
                    with ui.row().classes("items-center gap-3 w-full"):
                        ui.link(item.name, f"/prospects?profile={quote(item.name)}").classes("font-medium")
                        ui.space()
                        ui.badge(f"{item.matches} matches", color="indigo-3")
                        ui.badge(f"{item.prospects} prospects", color="blue-4")
                        ui.badge(f"{item.partners} partners", color="green")
        render_like_top_partners()


def percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f} %"


def funnel_view(data: Funnel) -> None:
    """One row per stage: how many got this far, the share of the stage before that did, how many are there now."""
    with ui.row().classes("w-full items-baseline"):
        ui.label("Pipeline funnel").classes("text-lg font-medium")
        ui.space()
        ui.label("reached · converted from the step before · there now").classes("text-xs text-grey-6")
    if data.total == 0:
        ui.label("No prospects yet: shortlist communities on the Prospects page to start.").classes("text-grey-7")
        return
    with ui.grid(columns="auto minmax(60px, 1fr) auto auto auto").classes("w-full items-center gap-x-3 gap-y-1 text-sm"):
        for step in data.steps:
            ui.label(STAGE_LABELS[step.stage]).classes("font-medium")
            ui.linear_progress(value=step.reached / data.total, show_value=False, size="14px",
                               color=STAGE_COLORS[step.stage]).props("rounded")
            ui.label(str(step.reached)).classes("text-right tabular-nums")
            ui.label(("→ " + percent(step.conversion)) if step.conversion is not None else "") \
                .classes("text-right tabular-nums text-grey-8").mark(f"conversion-{step.stage}")
            ui.label(f"{step.now} now").classes("text-right text-grey-6 tabular-nums")
    declined = (f"Declined: {data.declined}" if data.declined else "None declined yet.")
    if data.declined:
        declined += (f" ({data.declined_before_contact} judged not a fit before any contact, "
                     f"{data.declined_after_contact} after we wrote). They count where they stopped, so every "
                     "share above includes them.")
    ui.label(declined).classes("text-xs text-grey-7 mt-2").mark("declined")


def follow_up_link(item: FollowUp) -> str:
    return f"/prospects/{item.prospect_id}" if item.prospect_id else f"/community/{item.community_id}"


def follow_ups_view(items: list[FollowUp], *, mine: int | None = None) -> None:
    ui.label("Follow-ups").classes("text-lg font-medium")
    if not items:
        ui.label(f"Nothing due in the next {UPCOMING_DAYS} days. Set a follow-up date on a prospect's page.") \
            .classes("text-grey-7")
    if mine is None:
        follow_up_groups(items)
        return
    own = [item for item in items if item.owner_id == mine]
    others = [item for item in items if item.owner_id != mine]
    with ui.column().classes("w-full gap-0").mark("my-follow-ups"):
        ui.label(f"Yours ({len(own)})").classes("font-semibold mt-1")
        if not own:
            ui.label("None of your prospects needs a follow-up soon.").classes("text-sm text-grey-7")
        follow_up_groups(own)
    if others:
        with ui.column().classes("w-full gap-0").mark("other-follow-ups"):
            ui.label(f"Everyone else's ({len(others)})").classes("font-semibold mt-3")
            follow_up_groups(others)


def follow_up_groups(items: list[FollowUp]) -> None:
    for status, title, color in FOLLOW_UP_GROUPS:
        group = [item for item in items if item.status == status]
        if not group:
            continue
        ui.label(f"{title} ({len(group)})").classes(f"{color} font-medium mt-2")
        for item in group:
            with ui.row().classes("items-center gap-2 w-full no-wrap"):
                if item.source != "prospect":
                    ui.icon("schedule_send", color="grey-7").classes("text-base").tooltip(item.source)
                ui.link(item.name, follow_up_link(item)).classes("truncate min-w-0")
                if item.stage:
                    stage_badge(item.stage)
                ui.space()
                ui.label(item.when).classes("text-xs text-grey-7 shrink-0").tooltip(f"{item.due:%a %d %b %Y}")
            if item.detail:
                ui.label(item.detail).classes("text-xs text-grey-7 pl-1 break-words")


def activity_view(items: list[ActivityItem]) -> None:
    ui.label("Recent activity").classes("text-lg font-medium")
    if not items:
        ui.label("No activity yet: shortlist a few prospects to start.").classes("text-grey-7")
    with ui.column().classes("gap-2 w-full"):
        for item in items:
            with ui.column().classes("gap-0 w-full"):
                with ui.row().classes("items-center gap-2 w-full no-wrap text-sm"):
                    ui.link(item.name, f"/prospects/{item.prospect_id}").classes("truncate min-w-0 font-medium")
                    ui.label(item.kind.replace("_", " ")).classes("text-grey-7 shrink-0")
                    ui.space()
                    ui.label(ago(item.at)).classes("text-xs text-grey-6 shrink-0").tooltip(f"{item.at:%Y-%m-%d %H:%M} UTC")
                if item.detail:
                    ui.label(item.detail).classes("text-sm text-grey-9 whitespace-pre-line break-words")
