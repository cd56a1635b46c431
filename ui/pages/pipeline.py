"""/pipeline: the outreach board. Drag a card to another column to move the prospect; the move is recorded
with its time. Moving to Contacted a prospect that was contacted before asks first (no double outreach).

Nine stages do not fit side by side on a laptop: the board scrolls sideways inside its own frame, and the strip
of stage chips above it (every stage with its count) says so and jumps to any column. Search and the profile
and kind filters narrow the cards in SQL (`recruiter.outreach.dashboard.board`); "Mine" shows the prospects the
page's user owns.

Moving a card needs PROSPECTS: for a role without it (a viewer) the columns are not sortable and the board only
shows where things stand. The pipeline service checks the role again on every drop (`ui.access.guarded` shows a
refusal).
"""

from __future__ import annotations

from urllib.parse import urlencode

from nicegui import ui
from nicegui.events import SortableEventArguments

from profiles.service import get_profile, list_profiles
from recruiter.accounts.roles import PROSPECTS, Actor, NotAllowed
from recruiter.core.db import open_session
from recruiter.core.models import KINDS, STAGES
from recruiter.outreach.dashboard import Board, BoardCard, board
from recruiter.outreach.pipeline import DoubleContactError, PipelineError, move_prospect
from ui.access import guarded, page_actor
from ui.components.dialogs import confirm_contacted_before
from ui.layout import KIND_ICONS, STAGE_COLORS, STAGE_LABELS, ago, empty_state, frame

SCROLL_STEP = 480  # px the arrows move the board by (about two columns)
CUE_JS = """
const board = getHtmlElement(%(scroller)s), cue = getHtmlElement(%(cue)s);
if (board && cue) {
  const update = () => { cue.style.display = board.scrollLeft + board.clientWidth < board.scrollWidth - 8 ? '' : 'none'; };
  board.addEventListener('scroll', update, {passive: true});
  window.addEventListener('resize', update);
  update();
}
"""


@ui.page("/pipeline")
def pipeline_page(profile: str = "", kind: str = "", q: str = "", mine: str = "") -> None:
    actor = page_actor()
    with open_session() as session:
        chosen = get_profile(profile, session=session) if profile else None
        names = [p.name for p in list_profiles(session=session)]
    with frame("Pipeline", active="/pipeline", wide=True):
        if profile and chosen is None:
            empty_state(f"No profile named {profile!r}.", link=("Whole pipeline", "/pipeline"))
            return
        PipelineBoard(chosen.id if chosen else None, chosen.name if chosen else None, names, actor=actor,
                      kind=kind if kind in KINDS else None, text=q, mine=mine in ("1", "true", "yes"))


def move_card(prospect_id: int, stage: str, *, actor: Actor, force: bool = False) -> str:
    """What a drop on the board does: move the prospect and record the change; returns a message.

    Raises DoubleContactError when the prospect was contacted before and `force` is not set, NotAllowed when the
    actor's role may not move prospects."""
    with open_session() as session:
        prospect = move_prospect(prospect_id, stage, actor=actor, session=session, force=force)
    return f"moved to {STAGE_LABELS[prospect.stage]}"


def scroll_to_stage(stage: str) -> None:
    ui.run_javascript(f"document.querySelector('.stage-col-{stage}')"
                      "?.scrollIntoView({behavior: 'smooth', inline: 'center', block: 'nearest'})")


def scroll_board(step: int) -> None:
    ui.run_javascript(f"document.querySelector('.board-scroll')?.scrollBy({{left: {step}, behavior: 'smooth'}})")


class PipelineBoard:
    def __init__(self, profile_id: int | None, profile_name: str | None, names: list[str], *, actor: Actor,
                 kind: str | None = None, text: str = "", mine: bool = False) -> None:
        self.profile_id = profile_id
        self.profile_name = profile_name
        self.actor = actor
        self.can_move = actor.allows(PROSPECTS)
        self.kind = kind
        self.text = text
        self.mine = mine and actor.user_id is not None
        self.columns: dict[str, ui.column] = {}
        self.root = ui.context.slot.parent
        with ui.row().classes("w-full items-center gap-3"):
            ui.select({"": "whole pipeline", **{n: n for n in names}}, value=profile_name or "", label="Profile",
                      on_change=lambda e: self.navigate(profile=e.value)).classes("w-56").props("outlined dense")
            ui.select({"": "all kinds", **{k: k for k in KINDS}}, value=kind or "", label="Kind",
                      on_change=lambda e: self.set_filter(kind=e.value or None)) \
                .classes("w-40").props("outlined dense").mark("kind-filter")
            ui.input("Search name or URL", value=text, on_change=lambda e: self.set_filter(text=e.value or "")) \
                .props("outlined dense clearable debounce=300").classes("w-64").mark("search")
            if actor.user_id is not None:  # "mine" means something once people log in
                ui.switch("Mine", value=self.mine, on_change=lambda e: self.set_filter(mine=bool(e.value))) \
                    .mark("mine-filter").tooltip("Only the prospects you own")
            ui.space()
            ui.label("Drag cards between columns; each move is recorded with its time." if self.can_move
                     else "Read only: your role does not move prospects.").classes("text-sm text-grey-6")
        self.board_view()

    def navigate(self, **changes: str | None) -> None:
        params = {"profile": self.profile_name or "", "kind": self.kind or "", "q": self.text,
                  "mine": "1" if self.mine else "", **changes}
        query = urlencode({k: v for k, v in params.items() if v})
        ui.navigate.to("/pipeline" + (f"?{query}" if query else ""))

    def set_filter(self, **changes) -> None:
        for key, value in changes.items():
            setattr(self, key, value)
        self.board_view.refresh()

    def load(self) -> Board:
        with open_session() as session:
            return board(session=session, profile_id=self.profile_id, kind=self.kind, text=self.text,
                         owner_id=self.actor.user_id if self.mine else None)

    @ui.refreshable_method
    def board_view(self) -> None:
        data = self.load()
        filtered = bool(self.kind or self.text.strip() or self.mine)
        if data.empty:
            if filtered:
                empty_state("No card matches these filters.")
            else:
                empty_state("No prospects yet: shortlist communities on the Prospects page.",
                            link=("Go to Prospects", "/prospects"))
        self.stage_strip(data)
        self.columns = {}
        with ui.element("div").classes("relative w-full"):
            with ui.row().classes("board-scroll w-full gap-3 no-wrap overflow-x-auto items-start pb-3") \
                    .style("scroll-snap-type: x proximity; scrollbar-width: auto; scrollbar-color: #9fa8da #eceff1") \
                    as scroller:
                for stage in STAGES:
                    self.column(stage, data)
            # Over the board's right edge while columns lie beyond it; gone once the last column is in view.
            cue = ui.button(icon="arrow_forward", on_click=lambda: scroll_board(SCROLL_STEP)) \
                .props("round color=primary").classes("board-cue absolute right-2 top-10 z-20 shadow-3") \
                .tooltip("More stages to the right")
        ui.run_javascript(CUE_JS % {"scroller": scroller.id, "cue": cue.id})

    def stage_strip(self, data: Board) -> None:
        """Every stage with its count: the cue that the board goes on to the right, and a way to jump there."""
        with ui.row().classes("w-full items-center gap-1 no-wrap").mark("stage-strip"):
            ui.label(f"{len(STAGES)} stages:").classes("text-sm text-grey-7 shrink-0 gt-xs")
            with ui.row().classes("items-center gap-1 no-wrap overflow-x-auto min-w-0 py-1"):
                for stage in STAGES:
                    ui.button(f"{STAGE_LABELS[stage]} · {data.totals[stage]}",
                              on_click=lambda s=stage: scroll_to_stage(s)) \
                        .props(f"outline dense no-caps color={STAGE_COLORS[stage]}") \
                        .classes(f"shrink-0 px-2 jump-{stage}").mark(f"jump-{stage}").tooltip("Show this column")
            ui.button(icon="chevron_left", on_click=lambda: scroll_board(-SCROLL_STEP)) \
                .props("flat dense round").classes("shrink-0").tooltip("Scroll left")
            ui.button(icon="chevron_right", on_click=lambda: scroll_board(SCROLL_STEP)) \
                .props("flat dense round").classes("shrink-0").tooltip("Scroll right: more stages")

    def column(self, stage: str, data: Board) -> None:
        with ui.card().classes(f"w-56 shrink-0 bg-grey-1 p-2 gap-2 stage-col-{stage}").style("scroll-snap-align: start"):
            with ui.row().classes("w-full items-center gap-2 no-wrap"):
                ui.badge("", color=STAGE_COLORS[stage]).classes("w-2 h-2 rounded-full p-0")
                ui.label(STAGE_LABELS[stage]).classes("font-semibold stage-title")
                ui.space()
                ui.label(str(data.totals[stage])).classes("text-grey-7 text-sm")
            with ui.column().classes("w-full gap-2 min-h-[120px]").mark(f"stage-{stage}") as column:
                for card in data.columns[stage]:
                    self.card(card)
            if self.can_move:  # a viewer's board is read only
                column.make_sortable(group="pipeline", on_end=self.on_drop)
            column.stage = stage  # read by the drop handler: which column a card landed in
            self.columns[stage] = column
            if data.hidden(stage) > 0:
                ui.label(f"+ {data.hidden(stage)} more").classes("text-xs text-grey-6")

    def card(self, card: BoardCard) -> None:
        grab = "cursor-grab" if self.can_move else ""
        with ui.card().classes(f"w-full p-2 gap-1 {grab} shadow-1").mark(f"card-{card.prospect_id}") as element:
            element.prospect_id = card.prospect_id
            with ui.row().classes("w-full items-center gap-1 no-wrap"):
                ui.icon(KIND_ICONS.get(card.kind, "public")).classes("text-grey-7 shrink-0").tooltip(card.kind)
                ui.link(card.name, f"/prospects/{card.prospect_id}").classes(
                    "text-sm font-medium truncate no-underline text-primary min-w-0")
            with ui.row().classes("w-full items-center gap-1"):
                if card.fit is not None:
                    ui.badge(f"fit {card.fit}", color="green" if card.fit >= 60 else "amber-8" if card.fit >= 35
                             else "grey-6").mark("card-fit")
                if card.next_follow_up:
                    ui.badge(f"↻ {card.next_follow_up:%d %b}",
                             color="negative" if card.follow_up_due else "blue-grey-4") \
                        .tooltip(f"next follow-up {card.next_follow_up:%a %d %b %Y}"
                                 + (" (due)" if card.follow_up_due else ""))
                if card.contacted_at:
                    ui.icon("mark_email_read", color="orange-8").classes("text-sm").tooltip(
                        f"contacted on {card.contacted_at}")
                if card.owner:
                    ui.icon("person", color="grey-6").classes("text-sm").tooltip(f"owner: {card.owner}") \
                        .mark("card-owner")
            if card.last_activity_at:
                ui.label(f"{ago(card.last_activity_at)} · {card.last_activity}") \
                    .classes("text-xs text-grey-7 line-clamp-2 break-words").tooltip(card.last_activity) \
                    .mark("card-activity")

    async def on_drop(self, event: SortableEventArguments) -> None:
        stage = getattr(event.target, "stage", None)
        prospect_id = getattr(event.item, "prospect_id", None)
        if stage is None or prospect_id is None or event.source is event.target:
            return
        await self.drop(prospect_id, stage)

    @guarded
    async def drop(self, prospect_id: int, stage: str, *, force: bool = False) -> None:
        """Record a card dropped on a stage (the tests call this as the board's drag-and-drop does)."""
        try:
            message = move_card(prospect_id, stage, actor=self.actor, force=force)
        except NotAllowed:
            self.board_view.refresh()  # put the card back; `guarded` says why
            raise
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

