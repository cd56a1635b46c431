"""The activation checklist card for a prospect's detail page: steps, tracked link, next message.

`render_activation_checklist(prospect_id)` draws it into the current container; everything shown that came from
the web (names) goes through text elements only. Ticking steps and making links needs PARTNERS: without it the
card shows the checklist and the messages, read only.
"""

from __future__ import annotations

from nicegui import ui

from recruiter.accounts.roles import PARTNERS, Actor
from recruiter.core.db import open_session
from recruiter.core.models import PARTNER_STAGES, Community, Prospect
from recruiter.outreach.templates import latest_link
from recruiter.partners.activation import STEP_LABELS, checklist, mark_step, render_template, unmark_step
from recruiter.partners.links import LinkError, create_link
from recruiter.partners.platforms import chosen_platform
from ui.access import guarded, page_actor

STEP_ICONS = {"welcome_sent": "waving_hand", "link_created": "link", "assets_shared": "collections",
              "first_promotion": "campaign", "first_sale": "shopping_cart"}


def render_activation_checklist(prospect_id: int, *, actor: Actor | None = None) -> None:
    """Draw the partner's activation card (or a one-line note when the prospect has not joined yet); ``actor``
    is the page's (read from the page's session when not given)."""
    ActivationCard(prospect_id, actor or page_actor())


class ActivationCard:
    def __init__(self, prospect_id: int, actor: Actor) -> None:
        self.prospect_id = prospect_id
        self.actor = actor
        self.can_work = actor.allows(PARTNERS)
        self.view()

    def _load(self):
        with open_session() as session:
            prospect = session.get(Prospect, self.prospect_id)
            if prospect is None:
                return None, None, None, None, None
            community = session.get(Community, prospect.community_id)
            item = checklist(community, session=session)
            link = latest_link(community.id, session=session)
            message = render_template(item.next_step, community, session=session) if item.next_step else ""
            platform = chosen_platform(session=session)
        return prospect, community, item, link, (message, platform)

    @ui.refreshable_method
    def view(self) -> None:
        prospect, _community, item, link, extra = self._load()
        with ui.card().classes("w-full") as card:
            card.mark("activation-card")
            ui.label("Activation").classes("text-lg font-medium")
            if prospect is None:
                ui.label("No such prospect.").classes("text-grey-7")
                return
            if prospect.stage not in PARTNER_STAGES:
                ui.label("The activation checklist starts when this community joins your program "
                         "(stage: Joined).").classes("text-grey-7 text-sm")
                return
            message, platform = extra
            with ui.row().classes("items-center gap-2 text-sm text-grey-8"):
                ui.label(f"{item.done}/{item.total} steps")
                ui.linear_progress(value=item.done / item.total, show_value=False, size="8px") \
                    .classes("w-32")
            for step in item.steps:
                with ui.row().classes("items-center gap-2 w-full no-wrap"):
                    box = ui.checkbox(value=step.done, on_change=lambda e, s=step.step: self.toggle(s, e.value)) \
                        .props("dense").mark(f"step-{step.step}")
                    if not self.can_work:
                        box.disable()
                    ui.icon(STEP_ICONS[step.step]).classes("text-grey-7")
                    ui.label(step.label).classes("font-medium" if not step.done else "")
                    ui.space()
                    if step.done_at is not None:
                        source = "" if step.source == "manual" else f" · {step.source}"
                        ui.label(f"{step.done_at.date().isoformat()}{source}").classes("text-xs text-grey-6")
            with ui.row().classes("gap-4 text-sm text-grey-8"):
                click = item.days_to_first_click
                sale = item.days_to_first_sale
                ui.label(f"First click: {'—' if click is None else f'{click} d after joining'}")
                ui.label(f"First sale: {'—' if sale is None else f'{sale} d after joining'}")
            ui.separator()
            if link is not None:
                ui.label("Tracked link").classes("text-sm text-grey-7")
                with ui.row().classes("items-center gap-2 w-full no-wrap"):
                    ui.label(link.tracked_url).classes("text-sm break-all").mark("tracked-url")
                    ui.button(icon="content_copy", on_click=lambda u=link.tracked_url: self.copy(u)) \
                        .props("flat dense round").tooltip("Copy")
            if self.can_work:
                with ui.row().classes("items-end gap-2 w-full no-wrap"):
                    destination = ui.input("Destination page", value=link.destination if link else "",
                                           placeholder="https://your-shop.example/product") \
                        .classes("flex-1").props("dense")
                    ui.button("Make link" if link is None else "New link",
                              on_click=lambda: self.make_link(destination.value)).props("dense")
            with ui.row().classes("items-center gap-1 text-xs text-grey-6"):
                ui.label(f"Links use {platform.name}: {platform.link_format()}").classes("break-all")
                ui.link("change", "/platforms")
            if message:
                ui.separator()
                ui.label(f"Next: {STEP_LABELS[item.next_step]}").classes("text-sm font-medium")
                ui.textarea(value=message).props("readonly autogrow outlined dense").classes("w-full text-sm")
                ui.button("Copy message", icon="content_copy", on_click=lambda m=message: self.copy(m)) \
                    .props("flat dense")

    @guarded
    def toggle(self, step: str, done: bool) -> None:
        with open_session() as session:
            prospect = session.get(Prospect, self.prospect_id)
            community = session.get(Community, prospect.community_id)
            before = prospect.stage
            if done:
                mark_step(community, step, actor=self.actor, session=session)
            else:
                unmark_step(community, step, actor=self.actor, session=session)
            after = session.get(Prospect, self.prospect_id)
            session.refresh(after)
        if after.stage != before:
            ui.notify(f"Stage is now {after.stage}", type="positive")
        self.view.refresh()

    @guarded
    def make_link(self, destination: str) -> None:
        with open_session() as session:
            prospect = session.get(Prospect, self.prospect_id)
            community = session.get(Community, prospect.community_id)
            try:
                result = create_link(community, destination, actor=self.actor, session=session)
            except LinkError as exc:
                ui.notify(str(exc), type="negative")
                return
        ui.notify(f"Link ready: code {result.ref_code}", type="positive")
        self.view.refresh()

    def copy(self, text: str) -> None:
        ui.clipboard.write(text)
        ui.notify("Copied")
