"""/prospects: the ranked list for one profile: filter, sort, page, shortlist or reject, move, export.

The list reads the profile's stored matches with SQL paging and filters, so it opens at once even over
100,000 communities. When those matches are missing or stale (the profile or the communities changed) the
page still opens on what is stored and re-ranks in a worker thread, then refreshes itself.

The page acts as its user (`ui.access.page_actor`). A viewer reads the list and may export it, but gets no
checkbox, no action button and no bulk bar; the table's events still reach handlers that ask the services, which
refuse a role without PROSPECTS (or OUTREACH to enrol) on the server. "Mine" lists the prospects the user owns.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote

from nicegui import background_tasks, run, ui

from profiles.service import default_profile, get_profile, list_profiles, touch_profile
from recruiter.accounts.roles import EXPORT, OUTREACH, PROSPECTS, Actor
from recruiter.core.db import open_session
from recruiter.core.models import KINDS, STAGES, Feedback, Profile
from recruiter.matching.matches import (
    PAGE_SIZE,
    SORTS,
    MatchFilters,
    MatchRow,
    match_page,
    matches_csv,
    ranking_state,
)
from recruiter.outreach.pipeline import apply_feedback, move_communities
from recruiter.outreach.sequences import EnrollReport, enroll, list_sequences
from ui.access import guarded, page_actor
from ui.background import ensure_ranking, is_ranking
from ui.components.kind_performance import render_kind_performance
from ui.layout import BAR_SLOT, STAGE_COLORS, STAGE_LABELS, empty_state, frame

# A profile that has never been ranked shows an empty list; over a small collection the first visit waits this
# long for its ranking (model load included) instead. Over a large one it never waits: the list fills in when the
# background ranking ends.
FIRST_RANKING_WAIT = 20.0
FIRST_RANKING_MAX_COMMUNITIES = 20_000

COLUMNS = [
    {"name": "fit", "label": "Fit", "field": "fit", "align": "left"},
    {"name": "name", "label": "Community", "field": "name", "align": "left"},
    {"name": "kind", "label": "Kind", "field": "kind", "align": "left"},
    {"name": "audience", "label": "Audience", "field": "audience", "align": "right"},
    {"name": "stage", "label": "Stage", "field": "stage", "align": "left"},
    {"name": "why", "label": "Why", "field": "why", "align": "left"},
    {"name": "actions", "label": "", "field": "community_id", "align": "right"},
]

# Table cells: values are interpolated with {{ }} (text), never v-html: names and reasons come from the web.
NAME_SLOT = r"""
<q-td :props="props" style="max-width: 280px; white-space: normal">
  <a :href="'/community/' + props.row.community_id + '?profile=' + props.row.profile_id"
     class="text-primary text-weight-medium" style="text-decoration: none">{{ props.value }}</a>
  <div class="text-caption text-grey-7 ellipsis">{{ props.row.url }}</div>
</q-td>
"""
STAGE_SLOT = r"""
<q-td :props="props">
  <q-badge :color="props.row.stage_color">{{ props.row.stage_label }}</q-badge>
  <q-icon v-if="props.row.feedback === 'shortlist'" name="thumb_up" color="indigo" size="xs" class="q-ml-xs" />
  <div v-if="props.row.owner" class="text-caption text-grey-7">{{ props.row.owner }}</div>
</q-td>
"""
WHY_SLOT = r"""
<q-td :props="props" style="white-space: normal; min-width: 240px; max-width: 420px" class="text-caption">
  {{ props.value }}
</q-td>
"""
ACTIONS_SLOT = r"""
<q-td :props="props" auto-width>
  <q-btn flat round dense size="sm" icon="thumb_up" color="indigo"
         @click="() => $parent.$emit('shortlist', props.row)"><q-tooltip>Shortlist</q-tooltip></q-btn>
  <q-btn flat round dense size="sm" icon="thumb_down" color="red-5"
         @click="() => $parent.$emit('reject', props.row)"><q-tooltip>Not a fit</q-tooltip></q-btn>
  <q-btn flat round dense size="sm" icon="east" color="grey-8" class="move-menu">
    <q-tooltip>Move to a stage</q-tooltip>
    <q-menu auto-close>
      <q-list dense style="min-width: 140px">
        <q-item v-for="stage in STAGE_OPTIONS" :key="stage.value" clickable
                @click="() => $parent.$emit('move', {community_id: props.row.community_id, stage: stage.value})">
          <q-item-section>{{ stage.label }}</q-item-section>
        </q-item>
      </q-list>
    </q-menu>
  </q-btn>
</q-td>
""".replace("STAGE_OPTIONS", json.dumps([{"value": k, "label": v} for k, v in STAGE_LABELS.items()]).replace('"', "'"))


@ui.page("/prospects", response_timeout=FIRST_RANKING_WAIT + 5)
async def prospects_page(profile: str = "", kind: str = "", min_audience: str = "", stage: str = "", q: str = "",
                         sort: str = "fit", mine: str = "") -> None:
    actor = page_actor()
    with open_session() as session:
        chosen = get_profile(profile, session=session) if profile else default_profile(session=session)
        if chosen is not None and profile:
            touch_profile(chosen, session=session)
        names = [p.name for p in list_profiles(session=session)]
        state = ranking_state(chosen, session=session) if chosen else None
    if state and state.stale and not state.stored and 0 < state.communities <= FIRST_RANKING_MAX_COMMUNITIES:
        try:
            await asyncio.wait_for(asyncio.shield(ensure_ranking(chosen.id)), timeout=FIRST_RANKING_WAIT)
        except Exception:
            pass
    with frame("Prospects", active="/prospects"):
        if chosen is None:
            if profile:
                empty_state(f"No profile named {profile!r}.", link=("All profiles", "/profiles"))
            else:
                empty_state("No profile yet: describe your ideal client first.", link=("Create a profile", "/profiles"))
            return
        filters = MatchFilters(kind=kind if kind in KINDS else None,
                               min_audience=int(min_audience) if min_audience.isdigit() else None,
                               stage=stage if stage in STAGES else None, text=q,
                               sort=sort if sort in SORTS else "fit",
                               owner_id=actor.user_id if mine in ("1", "true", "yes") else None)
        ProspectList(chosen, names, filters, actor)


class ProspectList:
    def __init__(self, profile: Profile, profile_names: list[str], filters: MatchFilters, actor: Actor) -> None:
        self.profile = profile
        self.filters = filters
        self.actor = actor
        self.can_work = actor.allows(PROSPECTS)
        self.page = 1
        self.ranking = is_ranking(profile.id)
        self.root = ui.context.slot.parent  # background tasks re-enter it to talk to this browser tab
        with open_session() as session:
            self.state = ranking_state(profile, session=session)
        self.rows, self.total = self.load()

        with ui.row().classes("w-full items-center gap-3"):
            ui.select(profile_names, value=profile.name, label="Profile",
                      on_change=lambda e: ui.navigate.to(f"/prospects?profile={quote(e.value)}")) \
                .classes("w-64").props("outlined dense")
            ui.label(f"Ideal client: {profile.name}").classes("text-lg font-medium profile-name")
            ui.space()
            self.status_view()
        with ui.card().classes("w-full"):
            with ui.row().classes("w-full items-center gap-3"):
                ui.select({"": "any kind", **{k: k for k in KINDS}}, value=filters.kind or "", label="Kind",
                          on_change=lambda e: self.set_filter(kind=e.value or None)).classes("w-36").props("dense")
                ui.number("Min. audience", value=filters.min_audience, min=0, step=1000,
                          on_change=lambda e: self.set_filter(min_audience=int(e.value) if e.value else None)) \
                    .classes("w-36").props("dense debounce=400")
                ui.select({"": "any stage", **STAGE_LABELS}, value=filters.stage or "", label="Stage",
                          on_change=lambda e: self.set_filter(stage=e.value or None)).classes("w-36").props("dense")
                ui.input("Search name, description, URL", value=filters.text,
                         on_change=lambda e: self.set_filter(text=e.value or "")) \
                    .classes("w-64").props("dense clearable debounce=400")
                ui.select(SORTS, value=filters.sort, label="Sort",
                          on_change=lambda e: self.set_filter(sort=e.value)).classes("w-48").props("dense")
                if actor.user_id is not None:  # "mine" means something once people log in
                    ui.switch("Mine", value=filters.owner_id is not None,
                              on_change=lambda e: self.set_filter(owner_id=actor.user_id if e.value else None)) \
                        .mark("mine-filter").tooltip("Only the prospects you own")
                ui.space()
                if actor.allows(EXPORT):
                    ui.button("Export CSV", icon="download", on_click=self.export).props("outline")
            if self.can_work:  # a viewer gets no control that changes anything
                with ui.row().classes("w-full items-center gap-2 bg-indigo-50 rounded px-3 py-1 bulk-bar") as self.bulk_bar:
                    self.selected_label = ui.label("")
                    ui.button("Shortlist", icon="thumb_up", on_click=lambda: self.feedback_selected(Feedback.shortlist)) \
                        .props("flat dense color=indigo")
                    ui.button("Not a fit", icon="thumb_down", on_click=lambda: self.feedback_selected(Feedback.not_a_fit)) \
                        .props("flat dense color=red-5")
                    self.bulk_stage = ui.select(STAGE_LABELS, value="shortlisted", label="Move to").classes("w-40") \
                        .props("dense")
                    ui.button("Move", icon="east", on_click=self.move_selected).props("flat dense")
                    if actor.allows(OUTREACH):
                        ui.button("Enroll in sequence…", icon="forward_to_inbox", on_click=self.enroll_selected) \
                            .props("flat dense").mark("enroll-selected")
                    ui.button("Clear selection", on_click=self.clear_selection).props("flat dense color=grey")
            columns = COLUMNS if self.can_work else [c for c in COLUMNS if c["name"] != "actions"]
            self.table = ui.table(columns=columns, rows=self.table_rows(), row_key="community_id",
                                  selection="multiple" if self.can_work else None, pagination=None,
                                  on_select=lambda _e: self.update_bulk_bar()).classes("w-full").props("flat")
            self.table.add_slot("body-cell-fit", BAR_SLOT)
            self.table.add_slot("body-cell-name", NAME_SLOT)
            self.table.add_slot("body-cell-stage", STAGE_SLOT)
            self.table.add_slot("body-cell-why", WHY_SLOT)
            if self.can_work:
                self.table.add_slot("body-cell-actions", ACTIONS_SLOT)
            # The table's own events reach the server whatever the page shows: the handlers ask the services,
            # which check the role (a viewer's hand-made "move" is refused there and changes nothing).
            self.table.on("shortlist", lambda e: self.feedback([e.args["community_id"]], Feedback.shortlist))
            self.table.on("reject", lambda e: self.feedback([e.args["community_id"]], Feedback.not_a_fit))
            self.table.on("move", lambda e: self.move([e.args["community_id"]], e.args["stage"]))
            with ui.row().classes("w-full items-center"):
                self.count_label = ui.label("")
                ui.space()
                self.pagination = ui.pagination(1, self.pages(), direction_links=True, value=1,
                                                on_change=lambda e: self.go_to(e.value)).props("max-pages=9")
        with ui.expansion("Which kinds of partner perform", icon="insights").classes("w-full"):
            # Fit decides the order; past results by kind help choose between equally good fits.
            render_kind_performance(kind=filters.kind)
        self.update_bulk_bar()
        self.update_counts()
        if self.state.stale or self.ranking:
            self.start_ranking(force=True)

    # --- data -----------------------------------------------------------------------------------------
    def load(self) -> tuple[list[MatchRow], int]:
        with open_session() as session:
            return match_page(self.profile.id, session=session, filters=self.filters,
                              offset=(self.page - 1) * PAGE_SIZE, limit=PAGE_SIZE)

    def table_rows(self) -> list[dict]:
        return [{**row.as_dict(), "profile_id": self.profile.id,
                 "stage_label": STAGE_LABELS.get(row.stage, row.stage.value),
                 "stage_color": STAGE_COLORS.get(row.stage, "grey"),
                 "next_follow_up": row.next_follow_up.isoformat() if row.next_follow_up else ""} for row in self.rows]

    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    def reload(self, *, keep_page: bool = True) -> None:
        if not keep_page:
            self.page = 1
        self.rows, self.total = self.load()
        if self.page > self.pages():
            self.page = self.pages()
            self.rows, self.total = self.load()
        self.table.rows = self.table_rows()
        self.table.selected = [r for r in self.table.selected if any(
            r["community_id"] == row.community_id for row in self.rows)]
        self.table.update()
        self.pagination.max = self.pages()
        self.pagination.value = self.page
        self.update_counts()
        self.update_bulk_bar()

    def update_counts(self) -> None:
        if self.total:
            first = (self.page - 1) * PAGE_SIZE + 1
            self.count_label.text = f"{first}–{first + len(self.rows) - 1} of {self.total} matches"
        else:
            self.count_label.text = "No matches for these filters." if self.state.stored else ""

    def set_filter(self, **changes) -> None:
        for key, value in changes.items():
            setattr(self.filters, key, value)
        self.reload(keep_page=False)

    def go_to(self, page: int) -> None:
        if page != self.page:
            self.page = page
            self.reload()

    # --- ranking in the background ----------------------------------------------------------------------
    @ui.refreshable_method
    def status_view(self) -> None:
        if self.ranking:
            with ui.row().classes("items-center gap-2 text-grey-8"):
                ui.spinner(size="sm")
                reason = f" ({self.state.reason})" if self.state.reason else ""
                ui.label(f"Ranking {self.state.communities:,} communities in the background{reason}…")
        else:
            with ui.row().classes("items-center gap-2 text-grey-7 text-sm"):
                if self.state.stored:
                    when = (self.state.ranked_at or "")[:16].replace("T", " ")
                    ui.label(f"{self.state.stored:,} best of {self.state.communities:,} communities"
                             + (f", ranked {when} UTC" if when else ""))
                elif not self.state.communities:
                    ui.label("No communities yet: import some or use Discover.")
                ui.button("Re-rank", icon="refresh", on_click=self.start_ranking).props("flat dense")

    def start_ranking(self, *, force: bool = False) -> None:
        if (self.ranking and not force) or not self.state.communities:
            return
        self.ranking = True
        self.status_view.refresh()
        background_tasks.create(self.rank(), name=f"prospect list {self.profile.id}")

    async def rank(self) -> None:
        try:
            await asyncio.shield(ensure_ranking(self.profile.id))
        except Exception as exc:
            with self.root:
                ui.notify(f"Ranking failed: {exc}", color="negative")
        finally:
            self.ranking = False
        if self.table.is_deleted:
            return  # the tab was closed while ranking: the stored matches wait for the next visit
        with open_session() as session:
            self.state = ranking_state(self.profile, session=session)
        self.reload()
        self.status_view.refresh()

    # --- actions --------------------------------------------------------------------------------------
    def selected_ids(self) -> list[int]:
        return [row["community_id"] for row in self.table.selected]

    def update_bulk_bar(self) -> None:
        if not self.can_work:
            return
        count = len(self.table.selected)
        self.selected_label.text = f"{count} selected:" if count else "Select rows (checkboxes) for bulk actions:"

    def clear_selection(self) -> None:
        self.table.selected = []
        self.table.update()
        self.update_bulk_bar()

    @guarded
    async def feedback(self, community_ids: list[int], verdict: Feedback) -> None:
        def work() -> int:
            with open_session() as session:
                return apply_feedback(community_ids, verdict, actor=self.actor, session=session,
                                      profile_id=self.profile.id)

        done = await run.io_bound(work)
        label = "shortlisted" if verdict is Feedback.shortlist else "marked not a fit"
        ui.notify(f"{done} {label}; the next ranking learns from it", color="positive" if done else "warning")
        self.reload()

    @guarded
    async def feedback_selected(self, verdict: Feedback) -> None:
        if not self.selected_ids():
            ui.notify("Select rows first", color="warning")
        else:
            await self.feedback(self.selected_ids(), verdict)
            self.clear_selection()

    @guarded
    async def move_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            ui.notify("Select rows first", color="warning")
            return
        await self.move(ids, self.bulk_stage.value)
        self.clear_selection()

    @guarded
    async def move(self, ids: list[int], stage: str) -> None:
        if stage not in STAGE_LABELS:
            return

        def work() -> tuple[int, list[str]]:
            with open_session() as session:
                return move_communities(ids, stage, actor=self.actor, session=session, profile_id=self.profile.id)

        moved, skipped = await run.io_bound(work)
        ui.notify(f"{moved} moved to {STAGE_LABELS[stage]}", color="positive" if moved else "warning")
        for message in skipped[:5]:
            ui.notify(f"Not moved: {message}", color="warning", multi_line=True)
        self.reload()

    @guarded
    async def enroll_selected(self) -> None:
        """Enroll the selected communities in a sequence (those without an address etc. are named, not enrolled)."""
        ids = self.selected_ids()
        if not ids:
            ui.notify("Select rows first", color="warning")
            return
        with open_session() as session:
            names = [s.name for s in list_sequences(session=session)]
        if not names:
            ui.notify("No sequence yet: create one on the Sequences page", color="warning")
            return
        with self.root, ui.dialog() as dialog, ui.card().classes("min-w-[360px]"):
            ui.label(f"Enroll {len(ids)} selected in a sequence").classes("text-lg font-medium")
            chosen = ui.select(names, value=names[0], label="Sequence").classes("w-full").mark("enroll-sequence")
            ui.label("Communities without a contact address, contacted before, bounced or opted out are skipped.") \
                .classes("text-sm text-grey-7")
            with ui.row().classes("justify-end w-full"):
                ui.button("Cancel", on_click=lambda: dialog.submit(None)).props("flat")
                ui.button("Enroll", on_click=lambda: dialog.submit(chosen.value)).mark("enroll-confirm")
        sequence = await dialog
        dialog.delete()
        if not sequence:
            return

        def work() -> EnrollReport:
            with open_session() as session:
                return enroll(ids, sequence=sequence, actor=self.actor, session=session, profile=self.profile.id)

        report = await run.io_bound(work)
        ui.notify(report.summary(), color="positive" if report.enrolled else "warning")
        for skipped in report.skipped[:5]:
            ui.notify(f"Not enrolled: {skipped}", color="warning", multi_line=True)
        self.clear_selection()
        self.reload()

    @guarded
    async def export(self) -> None:
        def work() -> str:
            with open_session() as session:
                return matches_csv(self.profile.id, actor=self.actor, session=session, filters=self.filters)

        content = await run.io_bound(work)
        safe = "".join(ch if ch.isalnum() else "-" for ch in self.profile.name)
        ui.download.content(content.encode("utf-8"), f"prospects-{safe}.csv", media_type="text/csv; charset=utf-8")
