"""/: the day's overview: funnel by stage, follow-ups due, recent activity, counts per profile."""

from __future__ import annotations

from datetime import UTC
from urllib.parse import quote

from nicegui import ui

from recruiter.core.db import open_session
from recruiter.core.models import STAGES
from recruiter.outreach.dashboard import follow_ups_due, funnel_counts, profile_counts, recent_activity
from ui.layout import STAGE_LABELS, empty_state, frame, stage_badge


@ui.page("/")
def dashboard_page() -> None:
    with open_session() as session:
        funnel = funnel_counts(session=session)
        due = follow_ups_due(session=session)
        activity = recent_activity(session=session, limit=15)
        profiles = profile_counts(session=session)

    with frame("Dashboard", active="/"):
        with ui.row().classes("w-full gap-4 items-stretch"):
            with ui.card().classes("flex-[3] min-w-[320px]"):
                ui.label("Pipeline funnel").classes("text-lg font-medium")
                labels = [STAGE_LABELS[s] for s in STAGES]
                ui.echart({
                    "tooltip": {"trigger": "axis"},
                    "grid": {"left": 100, "right": 30, "top": 10, "bottom": 20},
                    "xAxis": {"type": "value", "minInterval": 1},
                    "yAxis": {"type": "category", "data": labels[::-1]},
                    "series": [{"type": "bar", "data": [funnel[s] for s in STAGES][::-1],
                                "label": {"show": True, "position": "right"}, "itemStyle": {"color": "#3949ab"}}],
                }).classes("w-full h-72")
                with ui.row().classes("gap-2 flex-wrap"):
                    for stage in STAGES:
                        with ui.row().classes("items-center gap-1"):
                            stage_badge(stage)
                            ui.label(str(funnel[stage])).classes("text-sm")
            with ui.card().classes("flex-[2] min-w-[280px]"):
                ui.label("Follow-ups").classes("text-lg font-medium")
                if not due["today"] and not due["overdue"]:
                    ui.label("Nothing due today.").classes("text-grey-7")
                for bucket, title, color in (("overdue", "Overdue", "negative"), ("today", "Due today", "primary")):
                    if due[bucket]:
                        ui.label(f"{title} ({len(due[bucket])})").classes(f"text-{color} font-medium mt-2")
                    for item in due[bucket]:
                        with ui.row().classes("items-center gap-2 w-full no-wrap"):
                            ui.link(item["name"], f"/prospects/{item['prospect_id']}").classes("truncate")
                            stage_badge(item["stage"])
                            ui.space()
                            late = f"{item['days_late']} d late" if item["days_late"] else "today"
                            ui.label(late).classes("text-xs text-grey-7")
        with ui.row().classes("w-full gap-4 items-stretch"):
            with ui.card().classes("flex-1 min-w-[320px]"):
                ui.label("Recent activity").classes("text-lg font-medium")
                if not activity:
                    ui.label("No activity yet: shortlist a few prospects to start.").classes("text-grey-7")
                with ui.column().classes("gap-1 w-full"):
                    for item in activity:
                        with ui.row().classes("items-center gap-2 w-full no-wrap text-sm"):
                            ui.label(item["at"].astimezone(UTC).strftime("%m-%d %H:%M")) \
                                .classes("text-grey-6 w-24 shrink-0")
                            ui.link(item["name"], f"/prospects/{item['prospect_id']}").classes("truncate")
                            ui.label(item["kind"]).classes("text-grey-7")
                            ui.label(item["detail"]).classes("truncate text-grey-8")
            with ui.card().classes("flex-1 min-w-[320px]"):
                ui.label("Profiles").classes("text-lg font-medium")
                if not profiles:
                    empty_state("No profile yet.", link=("Describe your ideal client", "/profiles"))
                for item in profiles:
                    with ui.row().classes("items-center gap-3 w-full"):
                        ui.link(item["name"], f"/prospects?profile={quote(item['name'])}").classes("font-medium")
                        ui.space()
                        ui.badge(f"{item['matches']} matches", color="indigo-3")
                        ui.badge(f"{item['prospects']} prospects", color="blue-4")
                        ui.badge(f"{item['partners']} partners", color="green")
