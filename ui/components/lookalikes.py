"""/lookalikes: more communities like a few seeds (the partners that sell), and the dashboard's short list of them.

A merchant who knows which partners sell wants more like them. The seeds are in the query string, so a result
list is a link that can be shared or bookmarked, whichever page it was asked from:
- ``?top=5&by=revenue[&since=YYYY-MM-DD]``: the best partners by a scorecard measure (the Partners page's
  "Find more like these", the dashboard's "Like your top partners");
- ``?segment=top``: a partner segment (the Partners page, with a segment filtered or chosen);
- ``?seed=URL&seed=URL``: communities named one by one (partners selected in the scorecards, or a community's
  own page: "Find more like this");
- optionally ``profile=NAME`` (the results must fit it too), ``kind=KIND`` and ``limit=N``.
Which seeds are allowed (exactly one way of choosing them, known measures and segments, at most twenty, URLs
of the catalogue) is decided by `recruiter.partners.lookalikes`, the same rules and words as `recruiter
lookalike`; the page shows its refusal as a message. Finding them reads only; it can take a second over a large
catalogue (and embeds what the index lacks), so it runs in a worker thread while the page shows a spinner.

The list reads like the prospect list: score, name, kind, audience, stage, which seeds each result is like and
why. Shortlist and not a fit call the prospect list's service (`apply_feedback`) with the page's actor: the
service checks the role (PROSPECTS) on the server, and a viewer gets no checkbox and no button. A shortlisted
result stays, marked; one judged not a fit leaves the list (the next search is pushed away from it).

A component, not a page module: ui/pages holds at most twelve modules. `ui.main.register_pages` imports it with
the pages, so its route sits behind the same login guard as theirs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from nicegui import background_tasks, run, ui

from profiles.service import list_profiles
from recruiter.accounts.roles import PROSPECTS, Actor
from recruiter.core.db import describe_database_error, is_database_error, open_session
from recruiter.core.errors import InvalidValue, RecruiterError
from recruiter.core.models import KINDS, Community, Feedback
from recruiter.matching.lookalike import MAX_SEEDS, Lookalike, Seed
from recruiter.outreach.pipeline import apply_feedback, feedback_welcome, find_prospect
from recruiter.partners.lookalikes import LookalikeRun, SeedChoice, lookalikes
from recruiter.partners.reports import partner_scorecards
from ui.access import guarded, page_actor
from ui.layout import BAR_SLOT, SEGMENT_LABELS, STAGE_COLORS, STAGE_LABELS, frame

log = logging.getLogger(__name__)

PATH = "/lookalikes"
DEFAULT_LIMIT = 20
MAX_LIMIT = 200  # the page's own cap (the service takes up to 1000): "show more" adds DEFAULT_LIMIT at a time
DASHBOARD_COUNT = 5
MEASURE_LABELS = {"revenue": "revenue", "conversions": "sales", "epc": "EPC", "clicks": "clicks"}

COLUMNS = [
    {"name": "score", "label": "Score", "field": "score", "align": "left", "sortable": True},
    {"name": "name", "label": "Community", "field": "name", "align": "left"},
    {"name": "kind", "label": "Kind", "field": "kind", "align": "left"},
    {"name": "audience", "label": "Audience", "field": "audience_size", "align": "right", "sortable": True},
    {"name": "stage", "label": "Stage", "field": "stage_label", "align": "left"},
    {"name": "like", "label": "Like", "field": "like_text", "align": "left"},
    {"name": "why", "label": "Why", "field": "why", "align": "left"},
    {"name": "actions", "label": "", "field": "community_id", "align": "right"},
]

# Table cells: values are interpolated with {{ }} (text), never v-html: names and reasons come from the web.
NAME_SLOT = r"""
<q-td :props="props" style="max-width: 260px; white-space: normal">
  <a :href="props.row.href" class="text-primary text-weight-medium" style="text-decoration: none">{{ props.value }}</a>
  <div class="text-caption text-grey-7 ellipsis">{{ props.row.url }}</div>
</q-td>
"""
AUDIENCE_SLOT = r"""
<q-td :props="props">{{ props.row.audience_text }}</q-td>
"""
STAGE_SLOT = r"""
<q-td :props="props">
  <q-badge v-if="props.row.stage" :color="props.row.stage_color">{{ props.row.stage_label }}</q-badge>
  <span v-else class="text-caption text-grey-6">not in the pipeline</span>
</q-td>
"""
LIKE_SLOT = r"""
<q-td :props="props" style="white-space: normal; max-width: 220px">
  <q-chip v-for="name in props.row.like" :key="name" dense square color="indigo-1" text-color="indigo-10"
          class="text-caption">{{ name }}</q-chip>
</q-td>
"""
WHY_SLOT = r"""
<q-td :props="props" style="white-space: normal; min-width: 220px; max-width: 420px" class="text-caption">
  {{ props.value }}
</q-td>
"""
ACTIONS_SLOT = r"""
<q-td :props="props" auto-width>
  <template v-if="props.row.can_judge">
    <q-btn v-if="props.row.stage !== 'shortlisted'" flat round dense size="sm" icon="thumb_up" color="indigo"
           @click="() => $parent.$emit('shortlist', props.row)"><q-tooltip>Shortlist</q-tooltip></q-btn>
    <q-btn flat round dense size="sm" icon="thumb_down" color="red-5"
           @click="() => $parent.$emit('reject', props.row)"><q-tooltip>Not a fit</q-tooltip></q-btn>
  </template>
</q-td>
"""


# --- the query string -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LookalikeQuery:
    """What a /lookalikes link asks for: where the seeds come from, and how the results are narrowed."""

    choice: SeedChoice
    profile: str | None = None
    kind: str | None = None
    limit: int = DEFAULT_LIMIT

    def url(self, **changes) -> str:
        """This query as a link (with `changes`: profile, kind, limit)."""
        values = {"profile": self.profile, "kind": self.kind, "limit": self.limit, **changes}
        return lookalikes_url(self.choice, **values)


def lookalikes_url(choice: SeedChoice, *, profile: str | None = None, kind: str | None = None,
                   limit: int | None = None) -> str:
    """The link to the results for these seeds (what the buttons of the other pages open)."""
    params: list[tuple[str, str]] = [("seed", url) for url in choice.urls]
    if choice.top is not None:
        params += [("top", str(choice.top)), ("by", choice.by)]
    if choice.since is not None:
        params.append(("since", choice.since.isoformat()))
    if choice.segment is not None:
        params.append(("segment", choice.segment))
    if profile:
        params.append(("profile", profile))
    if kind:
        params.append(("kind", kind))
    if limit and limit != DEFAULT_LIMIT:
        params.append(("limit", str(limit)))
    return f"{PATH}?{urlencode(params)}"


def _whole_number(name: str, text: str, low: int, high: int) -> int:
    if not text.strip().isdigit() or not low <= int(text) <= high:
        raise InvalidValue(f"{name}={text!r}: a whole number from {low} to {high}")
    return int(text)


def parse_query(params) -> LookalikeQuery:
    """A /lookalikes query string (Starlette's QueryParams, or any mapping with `getlist`) as a LookalikeQuery.

    Only the page's own syntax is checked here (numbers, a date, a kind); which seeds are allowed is
    `SeedChoice.seeds`' to say, when the search runs."""
    urls = tuple(u.strip() for u in params.getlist("seed") if u.strip())
    top = _whole_number("top", params["top"], 1, MAX_SEEDS) if "top" in params else None
    since = None
    if params.get("since"):
        try:
            since = date.fromisoformat(params["since"])
        except ValueError:
            raise InvalidValue(f"since={params['since']!r}: a date, YYYY-MM-DD") from None
    kind = params.get("kind") or None
    if kind is not None and kind not in KINDS:
        raise InvalidValue(f"kind={kind!r}: choose one of {', '.join(KINDS)}")
    limit = _whole_number("limit", params["limit"], 1, MAX_LIMIT) if params.get("limit") else DEFAULT_LIMIT
    segment = params.get("segment")
    choice = SeedChoice(urls=urls, top=top, by=params.get("by") or "revenue", since=since, segment=segment)
    return LookalikeQuery(choice, profile=params.get("profile") or None, kind=kind, limit=limit)


# --- finding them ------------------------------------------------------------------------------------------------

def find(query: LookalikeQuery) -> LookalikeRun:
    """The seeds and their lookalikes (in a worker thread: it reads the index and may embed what is new)."""
    with open_session() as session:
        return lookalikes(query.choice, session=session, profile_name=query.profile, limit=query.limit,
                          kind=query.kind)


async def search(query: LookalikeQuery) -> tuple[LookalikeRun | None, str | None]:
    """`find` in a worker thread: (what it found, None), or (None, what to tell the user). A RecruiterError is
    the service's refusal, in its own words; anything else is logged and said in general terms."""
    try:
        return await run.io_bound(find, query), None
    except RecruiterError as exc:
        return None, str(exc)
    except Exception as exc:
        log.exception("finding lookalikes failed")
        return None, (describe_database_error(exc) if is_database_error(exc)
                      else "Something went wrong on the server. The details are in the server's log.")


def describe(choice: SeedChoice, seeds: list[Seed]) -> str:
    """What the seeds are, in a line: "Like your 3 best partners by revenue since 2025-01-01"."""
    if choice.top is not None:
        since = f" since {choice.since.isoformat()}" if choice.since else ""
        best = "best partner" if len(seeds) == 1 else f"{len(seeds)} best partners"
        return f"Like your {best} by {MEASURE_LABELS.get(choice.by, choice.by)}{since}"
    if choice.segment is not None:
        return f"Like your partners in the {SEGMENT_LABELS.get(choice.segment, choice.segment)} segment"
    return "Like " + ("this community" if len(seeds) == 1 else f"these {len(seeds)} communities")


def show_error(message: str) -> None:
    """A refusal of the service (or of the query string) as the page's content: one clear line, no traceback."""
    with ui.card().classes("w-full items-center p-8 gap-2").mark("lookalike-error"):
        ui.icon("error_outline").classes("text-4xl text-negative")
        ui.label(message).classes("text-negative text-center")
        ui.label("Choose the seeds again on the Partners page, or from a community's page.") \
            .classes("text-sm text-grey-7")
        ui.link("Open the Partners page", "/partners")


# --- the page --------------------------------------------------------------------------------------------------

@ui.page(PATH)
def lookalikes_page() -> None:
    actor = page_actor()
    try:
        query = parse_query(ui.context.client.request.query_params)
    except RecruiterError as exc:
        with frame("Find more like these", active="/partners"):
            show_error(str(exc))
        return
    by_partners = query.choice.top is not None or query.choice.segment is not None
    with frame("Find more like these", active="/partners" if by_partners else "/prospects"):
        LookalikeResults(query, actor)


class LookalikeResults:
    def __init__(self, query: LookalikeQuery, actor: Actor) -> None:
        self.query = query
        self.actor = actor
        self.can_work = actor.allows(PROSPECTS)
        self.found: LookalikeRun | None = None
        self.table: ui.table | None = None
        with open_session() as session:
            profile_names = [p.name for p in list_profiles(session=session)]
        with ui.row().classes("w-full items-center gap-3"):
            self.heading = ui.label("Finding communities like these…").classes("text-lg font-medium") \
                .mark("lookalike-heading")
            ui.space()
            if query.profile and query.profile not in profile_names:
                profile_names.append(query.profile)  # the service says it does not exist
            ui.select({"": "no profile", **{n: n for n in profile_names}}, value=query.profile or "",
                      label="Must also fit", on_change=lambda e: self.go(profile=e.value or None)) \
                .classes("w-48").props("dense outlined").tooltip("Rank with a profile too: a result must fit both")
            ui.select({"": "any kind", **{k: k for k in KINDS}}, value=query.kind or "", label="Kind",
                      on_change=lambda e: self.go(kind=e.value or None)).classes("w-36").props("dense outlined")
        self.seeds_row = ui.row().classes("w-full items-center gap-1").mark("lookalike-seeds")
        self.body = ui.column().classes("w-full gap-2")
        with self.body, ui.row().classes("items-center gap-2 text-grey-8"):
            ui.spinner(size="sm")
            ui.label("Comparing the catalogue with the seeds…")
        background_tasks.create(self.load(), name="lookalikes")

    def go(self, **changes) -> None:
        ui.navigate.to(self.query.url(**changes))

    async def load(self) -> None:
        found, error = await search(self.query)
        if self.body.is_deleted:  # the tab was closed meanwhile
            return
        if error is not None:
            self.heading.text = "Cannot search like these"
            self.body.clear()
            with self.body:
                show_error(error)
            return
        if found is None:  # the app is stopping
            return
        self.found = found
        self.heading.text = describe(self.query.choice, found.seeds)
        with self.seeds_row:
            ui.label("Seeds:").classes("text-sm text-grey-8")
            for seed in found.seeds:
                ui.link(seed.name, f"/community/{seed.community_id}").classes("text-sm mr-2")
        self.body.clear()
        with self.body:
            self.results_view()

    def results_view(self) -> None:
        found = self.found
        if not found.results:
            with ui.card().classes("w-full items-center p-8 text-grey-7").mark("lookalike-none"):
                ui.icon("inbox").classes("text-4xl")
                ui.label("Nothing like these yet: import or discover more communities. Seeds and communities "
                         "already worked in the pipeline are never listed.")
            return
        with ui.card().classes("w-full"):
            if self.can_work:  # a viewer gets no control that changes anything
                with ui.row().classes("w-full items-center gap-2 bg-indigo-50 rounded px-3 py-1") \
                        .mark("lookalike-bulk"):
                    ui.label("Select rows for:")
                    ui.button("Shortlist", icon="thumb_up",
                              on_click=lambda: self.feedback_selected(Feedback.shortlist)).props("flat dense color=indigo")
                    ui.button("Not a fit", icon="thumb_down",
                              on_click=lambda: self.feedback_selected(Feedback.not_a_fit)).props("flat dense color=red-5")
            columns = COLUMNS if self.can_work else [c for c in COLUMNS if c["name"] != "actions"]
            self.table = ui.table(columns=columns, rows=[self.row(r) for r in found.results], row_key="community_id",
                                  selection="multiple" if self.can_work else None, pagination=None) \
                .classes("w-full").props("flat").mark("lookalikes")
            for name, slot in (("score", BAR_SLOT), ("name", NAME_SLOT), ("audience", AUDIENCE_SLOT),
                               ("stage", STAGE_SLOT), ("like", LIKE_SLOT), ("why", WHY_SLOT)):
                self.table.add_slot(f"body-cell-{name}", slot)
            if self.can_work:
                self.table.add_slot("body-cell-actions", ACTIONS_SLOT)
            # The table's events reach the server whatever the page shows: the service checks the role.
            self.table.on("shortlist", lambda e: self.feedback([e.args["community_id"]], Feedback.shortlist))
            self.table.on("reject", lambda e: self.feedback([e.args["community_id"]], Feedback.not_a_fit))
            with ui.row().classes("w-full items-center"):
                self.count_label = ui.label("").classes("text-sm text-grey-7")
                ui.space()
                if len(found.results) >= self.query.limit and self.query.limit < MAX_LIMIT:
                    ui.button("Show more", icon="expand_more",
                              on_click=lambda: self.go(limit=min(MAX_LIMIT, self.query.limit + DEFAULT_LIMIT))) \
                        .props("flat dense")
        self.update_count()

    def row(self, result: Lookalike) -> dict:
        found = self.found
        href = f"/community/{result.community_id}" + (f"?profile={found.profile_id}" if found.profile_id else "")
        like = found.like_names(result)
        return {"community_id": result.community_id, "name": result.name, "url": result.url, "href": href,
                "kind": result.kind, "audience_size": result.audience_size or 0,
                "audience_text": f"{result.audience_size:,}" if result.audience_size else "—",
                "score": result.score, "like": like, "like_text": ", ".join(like), "why": result.why,
                **self.stage_fields(result.stage)}

    @staticmethod
    def stage_fields(stage: str | None) -> dict:
        return {"stage": stage, "stage_label": STAGE_LABELS.get(stage, stage or ""),
                "stage_color": STAGE_COLORS.get(stage, "grey"), "can_judge": feedback_welcome(stage)}

    def update_count(self) -> None:
        if self.table is not None:
            count = len(self.table.rows)
            self.count_label.text = f"{count} communit{'y' if count == 1 else 'ies'} like these, best first"

    # --- actions ------------------------------------------------------------------------------------------------
    @guarded
    async def feedback(self, community_ids: list[int], verdict: Feedback) -> None:
        profile_id = self.found.profile_id if self.found else None

        def work() -> tuple[int, dict[int, str | None]]:
            with open_session() as session:
                done = apply_feedback(community_ids, verdict, actor=self.actor, session=session,
                                      profile_id=profile_id)
                stages = {}
                for cid in community_ids:
                    community = session.get(Community, cid)
                    prospect = find_prospect(community, session=session) if community else None
                    stages[cid] = prospect.stage if prospect else None
                return done, stages

        done, stages = await run.io_bound(work)
        label = "shortlisted" if verdict is Feedback.shortlist else "marked not a fit"
        ui.notify(f"{done} {label}; the next ranking learns from it", color="positive" if done else "warning")
        rows = []
        for row in self.table.rows:
            if row["community_id"] in stages:
                if verdict is Feedback.not_a_fit:
                    continue  # judged wrong: off the list
                row = {**row, **self.stage_fields(stages[row["community_id"]])}
            rows.append(row)
        self.table.rows = rows
        self.table.selected = [r for r in self.table.selected if r["community_id"] not in stages]
        self.table.update()
        self.update_count()

    @guarded
    async def feedback_selected(self, verdict: Feedback) -> None:
        ids = [row["community_id"] for row in self.table.selected if row.get("can_judge")]
        if not ids:
            ui.notify("Select rows first", color="warning")
            return
        await self.feedback(ids, verdict)


# --- the dashboard's short list ---------------------------------------------------------------------------------

def render_like_top_partners(count: int = DASHBOARD_COUNT) -> None:
    """"Like your top partners": a few lookalikes of the five best partners by revenue, and the link to all.

    Nothing without partners; a one-line hint while none has revenue (the search would only refuse)."""
    with open_session() as session:
        cards = partner_scorecards(session=session)
    if not cards:
        return
    choice = SeedChoice(top=5, by="revenue")
    if not any(card.revenue > 0 for card in cards):
        ui.label("Import your partners' performance to see communities like your best partners here.") \
            .classes("text-sm text-grey-7").mark("like-top-partners-hint")
        return
    with ui.card().classes("w-full").mark("like-top-partners"):
        with ui.row().classes("w-full items-center"):
            ui.label("Like your top partners").classes("text-lg font-medium")
            ui.space()
            ui.link("See all", lookalikes_url(choice)).mark("like-top-partners-all")
        body = ui.column().classes("w-full gap-1")
        with body, ui.row().classes("items-center gap-2 text-grey-7 text-sm"):
            ui.spinner(size="xs")
            ui.label("Looking for communities like your best partners…")
    background_tasks.create(_fill_top_partners(body, LookalikeQuery(choice, limit=count)),
                            name="dashboard lookalikes")


async def _fill_top_partners(body: ui.column, query: LookalikeQuery) -> None:
    found, error = await search(query)  # a refusal (the seeds not indexed yet...) is said in a line, muted
    if body.is_deleted or (found is None and error is None):
        return
    body.clear()
    with body:
        if error is not None:
            ui.label(error).classes("text-sm text-grey-7")
            return
        if not found.results:
            ui.label("Nothing like them yet: import or discover more communities.").classes("text-sm text-grey-7")
            return
        for result in found.results:
            with ui.row().classes("items-center gap-2 w-full no-wrap text-sm"):
                ui.badge(str(result.score), color="green" if result.score >= 60 else "grey-6") \
                    .tooltip("How alike, 0-100")
                ui.link(result.name, f"/community/{result.community_id}").classes("truncate min-w-0 font-medium")
                ui.label(result.kind).classes("text-grey-7 shrink-0")
                ui.space()
                like = ", ".join(found.like_names(result))
                ui.label(f"like {like}").classes("text-xs text-grey-7 truncate min-w-0")


__all__ = ["LookalikeQuery", "lookalikes_url", "parse_query", "render_like_top_partners"]
