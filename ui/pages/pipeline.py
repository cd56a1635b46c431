"""/pipeline: the outreach board. Drag a card to another column to move the prospect; the move is recorded
with its time. Moving to Contacted a prospect that was contacted before asks first (no double outreach)."""

from __future__ import annotations

from urllib.parse import quote

from nicegui import ui
from nicegui.events import SortableEventArguments

from profiles.service import get_profile, list_profiles
from recruiter.core.db import open_session
from recruiter.core.models import STAGES
from recruiter.outreach.dashboard import board
from recruiter.outreach.pipeline import DoubleContactError, PipelineError, move_prospect
from ui.components.dialogs import confirm_contacted_before
from ui.layout import KIND_ICONS, STAGE_COLORS, STAGE_LABELS, empty_state, frame


@ui.page("/pipeline")
def pipeline_page(profile: str = "") -> None:
    with open_session() as session:
        chosen = get_profile(profile, session=session) if profile else None
        names = [p.name for p in list_profiles(session=session)]
    with frame("Pipeline", active="/pipeline", wide=True):
        if profile and chosen is None:
            empty_state(f"No profile named {profile!r}.", link=("Whole pipeline", "/pipeline"))
            return
        PipelineBoard(chosen.id if chosen else None, chosen.name if chosen else None, names)


def move_card(prospect_id: int, stage: str, *, force: bool = False) -> str:
    """What a drop on the board does: move the prospect and record the change; returns a message.

    Raises DoubleContactError when the prospect was contacted before and `force` is not set."""
    with open_session() as session:
        prospect = move_prospect(prospect_id, stage, session=session, force=force)
    return f"moved to {STAGE_LABELS[prospect.stage]}"


class PipelineBoard:
    def __init__(self, profile_id: int | None, profile_name: str | None, names: list[str]) -> None:
        self.profile_id = profile_id
        self.columns: dict[str, ui.column] = {}
        self.root = ui.context.slot.parent
        with ui.row().classes("w-full items-center gap-3"):
            ui.select({"": "whole pipeline", **{n: n for n in names}}, value=profile_name or "", label="Profile",
                      on_change=lambda e: ui.navigate.to(f"/pipeline?profile={quote(e.value)}" if e.value else "/pipeline")) \
                .classes("w-64").props("outlined dense")
            ui.label(f"Showing {profile_name}" if profile_name else "Showing the whole pipeline") \
                .classes("text-grey-7")
            ui.space()
            ui.label("Drag cards between columns; each move is recorded with its time.").classes("text-sm text-grey-6")
        self.board_view()

    @ui.refreshable_method
    def board_view(self) -> None:
        with open_session() as session:
            data = board(session=session, profile_id=self.profile_id)
        if not any(data["totals"].values()):
            empty_state("No prospects yet: shortlist communities on the Prospects page.",
                        link=("Go to Prospects", "/prospects"))
        self.columns = {}
        with ui.row().classes("w-full gap-3 no-wrap overflow-x-auto items-start pb-4"):
            for stage in STAGES:
                with ui.card().classes("w-56 shrink-0 bg-grey-1 p-2 gap-2"):
                    with ui.row().classes("w-full items-center gap-2"):
                        ui.badge("", color=STAGE_COLORS[stage]).classes("w-2 h-2 rounded-full p-0")
                        ui.label(STAGE_LABELS[stage]).classes("font-semibold stage-title")
                        ui.space()
                        ui.label(str(data["totals"][stage])).classes("text-grey-7 text-sm")
                    with ui.column().classes("w-full gap-2 min-h-[120px]").mark(f"stage-{stage}") as column:
                        for card in data["columns"][stage]:
                            self.card(card)
                    column.make_sortable(group="pipeline", on_end=self.on_drop)
                    column.stage = stage  # read by the drop handler: which column a card landed in
                    self.columns[stage] = column
                    hidden = data["totals"][stage] - len(data["columns"][stage])
                    if hidden > 0:
                        ui.label(f"+ {hidden} more").classes("text-xs text-grey-6")

    def card(self, card: dict) -> None:
        with ui.card().classes("w-full p-2 gap-1 cursor-grab shadow-1").mark(f"card-{card['prospect_id']}") as element:
            element.prospect_id = card["prospect_id"]
            with ui.row().classes("w-full items-center gap-1 no-wrap"):
                ui.icon(KIND_ICONS.get(card["kind"], "public")).classes("text-grey-7")
                ui.link(card["name"], f"/prospects/{card['prospect_id']}").classes(
                    "text-sm font-medium truncate no-underline text-primary")
            with ui.row().classes("w-full items-center gap-1"):
                ui.label(card["kind"]).classes("text-xs text-grey-7")
                if card["fit"] is not None:
                    ui.badge(f"fit {card['fit']}", color="green" if card["fit"] >= 60 else "amber-8")
                if card["next_follow_up"]:
                    ui.badge(f"↻ {card['next_follow_up']}", color="negative" if card["follow_up_due"] else "blue-grey-4")
                if card["contacted_at"]:
                    ui.icon("mark_email_read", color="orange-8").classes("text-sm").tooltip(
                        f"contacted on {card['contacted_at']}")

    async def on_drop(self, event: SortableEventArguments) -> None:
        stage = getattr(event.target, "stage", None)
        prospect_id = getattr(event.item, "prospect_id", None)
        if stage is None or prospect_id is None or event.source is event.target:
            return
        await self.drop(prospect_id, stage)

    async def drop(self, prospect_id: int, stage: str, *, force: bool = False) -> None:
        """Record a card dropped on a stage (the tests call this as the board's drag-and-drop does)."""
        try:
            message = move_card(prospect_id, stage, force=force)
        except DoubleContactError as exc:
            if await self.confirm_double_contact(str(exc)):
                await self.drop(prospect_id, stage, force=True)
                return
            self.board_view.refresh()  # put the card back where it was
            return
        except PipelineError as exc:
            with self.root:
                ui.notify(str(exc), color="negative")
            self.board_view.refresh()
            return
        with self.root:
            ui.notify(message, color="positive")
        self.board_view.refresh()

    async def confirm_double_contact(self, message: str) -> bool:
        return await confirm_contacted_before(self.root, message, proceed="Move anyway", keep="Keep where it was")
