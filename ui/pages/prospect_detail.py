"""/community/{id} and /prospects/{id}: one community as a prospect: fit and why, how to reach it, the next
sensible moves, notes, follow-up and the whole timeline.

The page reads `recruiter.outreach.story.prospect_story`, the same story `recruiter prospect show` prints.
Opening it changes nothing: a community not in the pipeline yet is shown as such, and its prospect is created
only when the user acts (a move, a note, a follow-up date, a message). The double-outreach warning appears only
when writing now would be a second first contact (the prospect was moved back after we wrote to it), never
right after the first contact.

"Find more like this" opens the lookalike results (`ui.components.lookalikes`) seeded with this one community,
for every role: finding reads only.

The page acts as its user (`ui.access.page_actor`): every change goes through a service with that actor, which
checks the role on the server; controls the role may not use are not drawn (a viewer reads the whole story and
changes nothing), and a refusal is a notification (`ui.access.guarded`).
"""

from __future__ import annotations

import json
from datetime import date

from nicegui import ui

from recruiter.accounts.roles import OUTREACH, PARTNERS, PROSPECTS, Actor
from recruiter.accounts.users import list_users
from recruiter.core.db import open_session
from recruiter.core.errors import RecruiterError
from recruiter.core.models import PARTNER_STAGES, Community, Profile, Prospect
from recruiter.outreach.pipeline import (
    DoubleContactError,
    PipelineError,
    log_contact,
    note_prospect,
    schedule_follow_up,
    set_feedback,
    set_owner,
    set_stage,
    start_prospect,
)
from recruiter.outreach.story import BASIS_LABELS, ProspectStory, prospect_story
from recruiter.outreach.templates import (
    PLACEHOLDERS,
    follow_up_in,
    mailto_link,
    outreach_templates,
    referral_link,
    referral_pattern,
    render_template,
    save_outreach_templates,
    set_referral_pattern,
)
from recruiter.partners.lookalikes import SeedChoice
from ui.access import guarded, page_actor
from ui.components.activation import render_activation_checklist
from ui.components.dialogs import confirm_contacted_before
from ui.components.lookalikes import lookalikes_url
from ui.components.outreach_panel import render_outreach_panel
from ui.layout import STAGE_COLORS, STAGE_LABELS, empty_state, fit_bar, frame, kind_chip, stage_badge

ACTIVITY_ICONS = {"note": "sticky_note_2", "contacted": "send", "mailto": "mail", "copied_template": "content_copy",
                  "feedback": "thumbs_up_down", "stage": "east", "follow_up": "event"}
# What the button for a move says (the pipeline decides which moves are offered).
MOVE_LABELS = {"shortlisted": ("Shortlist", "thumb_up"), "contacted": ("Mark contacted", "send"),
               "replied": ("They replied", "reply"), "negotiating": ("Negotiating", "handshake"),
               "joined": ("Joined", "how_to_reg"), "activated": ("Activated", "rocket_launch"),
               "performing": ("Performing", "trending_up"), "declined": ("Declined", "block")}

TIMELINE_CSS = ".q-timeline__title { font-size: 0.95rem; margin-bottom: 2px; } .q-timeline__content { padding-bottom: 12px; }"


def safe_href(url: str | None) -> str | None:
    """Only web links become links: a scraped `javascript:` or `data:` URL stays text."""
    return url if url and url.lower().startswith(("http://", "https://")) else None


@ui.page("/community/{community_id}")
def community_page(community_id: int, profile: str = "") -> None:
    """A ranked row's link. Read only: nothing is created until the user acts on the page."""
    actor = page_actor()
    with open_session() as session:
        community = session.get(Community, community_id)
        chosen = session.get(Profile, int(profile)) if profile.isdigit() else None
    if community is None:
        with frame("Community not found", active="/prospects"):
            empty_state(f"There is no community {community_id}.", link=("Back to prospects", "/prospects"))
        return
    with frame(community.name or community.url, active="/prospects"):
        ui.add_css(TIMELINE_CSS)
        ProspectDetail(community, chosen.id if chosen else None, actor)


@ui.page("/prospects/{prospect_id}")
def prospect_page(prospect_id: int) -> None:
    actor = page_actor()
    with open_session() as session:
        prospect = session.get(Prospect, prospect_id)
        community = session.get(Community, prospect.community_id) if prospect else None
    if prospect is None or community is None:
        with frame("Prospect not found", active="/prospects"):
            empty_state(f"There is no prospect {prospect_id}.", link=("Back to prospects", "/prospects"))
        return
    with frame(community.name or community.url, active="/prospects"):
        ui.add_css(TIMELINE_CSS)
        ProspectDetail(community, None, actor)


class ProspectDetail:
    def __init__(self, community: Community, profile_id: int | None, actor: Actor) -> None:
        self.community = community
        self.profile_id = profile_id  # the profile the page was opened for (its fit is shown first)
        self.actor = actor
        self.can_work = actor.allows(PROSPECTS)
        self.root = ui.context.slot.parent
        self.story = self.load()
        self.header_view()
        with ui.row().classes("w-full gap-4 items-start"):
            with ui.column().classes("flex-[3] min-w-[min(360px,100%)] gap-4"):
                self.fit_view()
                self.community_card()
                self.outreach_card()
                self.sequences_view()
                self.activation_view()
            with ui.column().classes("flex-[2] min-w-[min(300px,100%)] gap-4"):
                self.follow_up_card()
                self.notes_view()
                self.timeline_view()

    # --- reading and acting ---------------------------------------------------------------------------
    def load(self) -> ProspectStory:
        with open_session() as session:
            community = session.get(Community, self.community.id)
            return prospect_story(community, session=session, profile_id=self.profile_id)

    def acting_profile(self) -> int | None:
        """The profile an action is recorded for: the one the page was opened for, else the pipeline's, else
        the one the community fits best."""
        if self.profile_id:
            return self.profile_id
        if self.story.pipeline_profile_id:
            return self.story.pipeline_profile_id
        return self.story.fit.profile_id if self.story.fit else None

    def refresh_all(self) -> None:
        self.story = self.load()
        self.header_view.refresh()
        self.notes_view.refresh()
        self.timeline_view.refresh()
        self.sequences_view.refresh()
        self.activation_view.refresh()

    def notify(self, message: str, color: str = "positive") -> None:
        with self.root:
            ui.notify(message, color=color)

    # --- header: stage, next moves, the double-contact warning -------------------------------------------
    @ui.refreshable_method
    def header_view(self) -> None:
        story = self.story
        with ui.row().classes("w-full items-center gap-3").mark("prospect-header"):
            kind_chip(story.kind)
            if story.in_pipeline:
                stage_badge(story.stage).mark("stage-badge")
            else:
                ui.badge("Not in the pipeline", color="grey-5").props("outline").mark("stage-badge")
            if story.feedback == "not_a_fit" or (story.feedback == "shortlist" and story.stage != "shortlisted"):
                ui.badge("shortlisted" if story.feedback == "shortlist" else "not a fit",
                         color="indigo" if story.feedback == "shortlist" else "red-5").props("outline")
            if story.pipeline_profile:
                ui.label(f"profile: {story.pipeline_profile}").classes("text-sm text-grey-8")
            if story.first_contacted_at:
                ui.label(f"first contacted {story.first_contacted_at:%Y-%m-%d}").classes("text-sm text-grey-7")
            self.owner_view()
            ui.space()
            ui.button("Find more like this", icon="person_search", on_click=self.find_lookalikes) \
                .props("flat dense").mark("find-lookalikes")
            if self.can_work:  # a viewer gets no control that changes the stage
                self.moves_view()
        if story.repeat_contact_of:
            with ui.row().classes("w-full items-center gap-2 bg-orange-1 text-orange-10 rounded p-3 "
                                  "contacted-warning").mark("contacted-warning"):
                ui.icon("warning").classes("text-xl")
                ui.label(f"Contacted before, on {story.repeat_contact_of:%Y-%m-%d}, and now "
                         f"{STAGE_LABELS.get(story.stage, story.stage)}: writing again would be a second first "
                         "contact. Check the timeline first: no double outreach.")

    def find_lookalikes(self) -> None:
        ui.navigate.to(lookalikes_url(SeedChoice(urls=(self.community.url,))))

    def owner_view(self) -> None:
        """Who works the prospect: a label, or (for those who may change it) a choice of the app's users."""
        story = self.story
        if not story.in_pipeline:
            return
        users = self.users() if self.can_work else []
        if not users:
            if story.owner:
                ui.label(f"owner: {story.owner}").classes("text-sm text-grey-8").mark("owner")
            return
        options = {"": "nobody", **{email: email for email in users}}
        if story.owner and story.owner not in options:
            options[story.owner] = story.owner
        ui.select(options, value=story.owner or "", label="Owner",
                  on_change=lambda e: self.change_owner(e.value or None)) \
            .props("dense outlined options-dense").classes("w-56").mark("owner-select")

    def users(self) -> list[str]:
        with open_session() as session:
            return [u.email for u in list_users(session=session) if not u.disabled]

    @guarded
    def change_owner(self, email: str | None) -> None:
        if email == self.story.owner:
            return
        try:
            with open_session() as session:
                community = session.get(Community, self.community.id)
                set_owner(community, email, actor=self.actor, session=session)
        except RecruiterError as exc:
            self.notify(str(exc), "negative")
            return
        self.notify(f"Owner: {email}" if email else "No owner")
        self.refresh_all()

    def moves_view(self) -> None:
        story = self.story
        with ui.row().classes("items-center gap-1 flex-wrap").mark("next-moves"):
            if story.feedback_welcome:
                if story.stage != "shortlisted":
                    ui.button("Shortlist", icon="thumb_up", on_click=lambda: self.feedback("shortlist")) \
                        .props("flat dense color=indigo")
                ui.button("Not a fit", icon="thumb_down", on_click=lambda: self.feedback("not_a_fit")) \
                    .props("flat dense color=red-5")
            for stage in story.next_stages:
                if story.feedback_welcome and stage in ("shortlisted", "declined"):
                    continue  # the feedback buttons above make these moves and teach the ranking
                label, icon = MOVE_LABELS[stage]
                ui.button(label, icon=icon, on_click=lambda s=stage: self.change_stage(s)) \
                    .props(f"unelevated dense color={STAGE_COLORS.get(stage, 'primary')}").mark(f"move-{stage}")
            with ui.button(icon="more_vert").props("flat dense round").tooltip("Another stage"):
                with ui.menu().props("auto-close"), ui.list().props("dense"):
                    ui.item_label("Move to another stage").props("header")
                    for stage, label in STAGE_LABELS.items():
                        if stage != story.stage:
                            ui.item(label, on_click=lambda s=stage: self.change_stage(s))

    @guarded
    async def change_stage(self, stage: str, *, force: bool = False) -> None:
        try:
            with open_session() as session:
                community = session.get(Community, self.community.id)
                set_stage(community, stage, actor=self.actor, session=session, profile_id=self.acting_profile(),
                          force=force)
        except DoubleContactError as exc:
            if await self.confirm(str(exc)):
                await self.change_stage(stage, force=True)
            return
        except PipelineError as exc:
            self.notify(str(exc), "negative")
            return
        self.notify(f"Moved to {STAGE_LABELS.get(stage, stage)}")
        self.refresh_all()

    async def confirm(self, message: str) -> bool:
        return await confirm_contacted_before(self.root, message, proceed="Go ahead", keep="Cancel")

    @guarded
    def feedback(self, verdict: str) -> None:
        with open_session() as session:
            community = session.get(Community, self.community.id)
            set_feedback(community, verdict, actor=self.actor, session=session, profile_id=self.acting_profile())
        self.notify("Shortlisted: the next ranking learns from it" if verdict == "shortlist"
                    else "Marked not a fit: the next ranking learns from it")
        self.refresh_all()

    # --- fit and why --------------------------------------------------------------------------------------
    def fit_view(self) -> None:
        fit = self.story.fit
        with ui.card().classes("w-full gap-1").mark("fit-card"):
            with ui.row().classes("w-full items-center gap-3"):
                ui.label("Fit").classes("text-lg font-medium")
                fit_bar(fit.fit if fit else None)
                if fit:
                    ui.label(f"for profile {fit.profile}").classes("text-sm font-medium")
                    ui.label(f"({BASIS_LABELS[fit.basis]}"
                             + (f", rank {fit.rank}" if fit.rank else "") + ")").classes("text-xs text-grey-7")
            if fit is None:
                ui.label("Not ranked for any profile yet: rank a profile on the Prospects page to see how well "
                         "this audience fits.").classes("text-sm text-grey-7")
            elif fit.why:
                ui.label(fit.why).classes("text-sm text-grey-9 whitespace-pre-line").mark("fit-why")

    # --- who they are -----------------------------------------------------------------------------------
    def community_card(self) -> None:
        c = self.community
        with ui.card().classes("w-full gap-2"):
            ui.label("Community").classes("text-lg font-medium")
            if c.title and c.title != c.name:
                ui.label(c.title).classes("font-medium")
            href = safe_href(c.url)
            if href:
                ui.link(c.url, href, new_tab=True).classes("text-sm break-all")
            else:
                ui.label(c.url).classes("text-sm break-all")
            ui.label(c.description or "No description.").classes("text-sm text-grey-9 whitespace-pre-line")
            with ui.row().classes("gap-4 text-sm text-grey-8"):
                if c.audience_size:
                    ui.label(f"Audience: {c.audience_size:,}")
                if c.language:
                    ui.label(f"Language: {c.language}")
                if c.author:
                    ui.label(f"Author: {c.author}")
                if c.site_name:
                    ui.label(f"Site: {c.site_name}")
            ui.label("Emails").classes("font-medium text-sm mt-2")
            if c.emails:
                with ui.row().classes("gap-2"):
                    for email in c.emails:
                        ui.chip(email, icon="mail").props("dense outline")
            else:
                ui.label("None known: look for a contact page or message the moderators.") \
                    .classes("text-sm text-grey-7")
            links = [x for x in [c.feed_url, *(c.socials or [])] if x]
            if links:
                ui.label("Links").classes("font-medium text-sm mt-2")
                for link in links:
                    if safe_href(link):
                        ui.link(link, link, new_tab=True).classes("text-sm break-all")
                    else:
                        ui.label(link).classes("text-sm break-all")
            if c.recent_posts:
                ui.label("Recent posts").classes("font-medium text-sm mt-2")
                for post in c.recent_posts[:8]:
                    ui.label(f"• {post}").classes("text-sm text-grey-8")

    # --- outreach ---------------------------------------------------------------------------------------
    def outreach_card(self) -> None:
        with open_session() as session:
            self.templates = outreach_templates(session=session)
            self.ref_pattern = referral_pattern(session=session)
        emails = list(self.story.emails)
        with ui.card().classes("w-full gap-2"):
            with ui.row().classes("w-full items-center"):
                ui.label("Outreach").classes("text-lg font-medium")
                ui.space()
                ui.label("Placeholders: " + " ".join(PLACEHOLDERS)).classes("text-xs text-grey-6")
            with ui.row().classes("w-full gap-2 items-center"):
                self.template_select = ui.select({i: t["name"] for i, t in enumerate(self.templates)}, value=0,
                                                 label="Template", on_change=lambda _e: self.load_template()) \
                    .classes("w-48").props("dense")
                # The community's own address, filled in; another can be typed.
                self.to = ui.input("To", value=self.story.email or "",
                                   autocomplete=emails).classes("w-64").props("dense").mark("to")
                self.ref_input = ui.input("Referral link pattern ({code} or {slug})", value=self.ref_pattern) \
                    .classes("flex-1 min-w-[200px]").props("dense")
                if self.actor.allows(PARTNERS):
                    self.ref_input.on("blur", lambda _e: self.save_ref_pattern())
                else:
                    self.ref_input.props("readonly")
            with ui.expansion("Edit template", icon="edit").classes("w-full"):
                self.raw_subject = ui.input("Subject").classes("w-full")
                self.raw_body = ui.textarea("Body").props("autogrow").classes("w-full")
                if self.actor.allows(OUTREACH):
                    ui.button("Save template", icon="save", on_click=self.save_template).props("flat")
            ui.label("Rendered for this prospect").classes("text-sm font-medium")
            self.subject = ui.input("Subject").classes("w-full").mark("rendered-subject")
            self.body = ui.textarea("Message").props("autogrow").classes("w-full").mark("rendered-body")
            if self.can_work:  # both log the contact: a change of the prospect
                with ui.row().classes("gap-2 items-center"):
                    ui.button("Copy", icon="content_copy", on_click=self.copy).mark("copy-template")
                    ui.button("Email", icon="mail", on_click=self.email).mark("send-email")
                    ui.label("Both log the contact; a prospect not contacted yet moves to Contacted.") \
                        .classes("text-xs text-grey-6")
        self.load_template()

    def load_template(self) -> None:
        template = self.templates[self.template_select.value or 0]
        self.raw_subject.value = template["subject"]
        self.raw_body.value = template["body"]
        self.render()

    def render(self) -> None:
        with open_session() as session:
            profile_id = self.acting_profile()
            profile = session.get(Profile, profile_id) if profile_id else None
            community = session.get(Community, self.community.id)
            ref = referral_link(community, session=session)
        self.subject.value = render_template(self.raw_subject.value, community=self.community, profile=profile,
                                             ref_link=ref)
        self.body.value = render_template(self.raw_body.value, community=self.community, profile=profile, ref_link=ref)

    @guarded
    def save_template(self) -> None:
        index = self.template_select.value or 0
        templates = list(self.templates)
        templates[index] = {"name": templates[index]["name"], "subject": self.raw_subject.value,
                            "body": self.raw_body.value}
        with open_session() as session:
            save_outreach_templates(templates, actor=self.actor, session=session)
        self.templates = templates
        self.render()
        self.notify("Template saved")

    @guarded
    def save_ref_pattern(self) -> None:
        with open_session() as session:
            set_referral_pattern(self.ref_input.value or "", actor=self.actor, session=session)
        self.render()

    async def guard_double_contact(self) -> bool:
        """Ask first when this message would be a second first contact (a follow-up is not one)."""
        self.story = self.load()
        when = self.story.repeat_contact_of
        if when is None:
            return True
        return await self.confirm(f"first contacted on {when:%Y-%m-%d %H:%M} UTC and now "
                                  f"{STAGE_LABELS.get(self.story.stage, self.story.stage)}: write again anyway?")

    def log_contact(self, kind: str, detail: str) -> Prospect:
        with open_session() as session:
            prospect = start_prospect(self.community.id, actor=self.actor, session=session,
                                      profile_id=self.acting_profile())
            return log_contact(prospect.id, kind, detail, actor=self.actor, session=session)

    @guarded
    async def copy(self) -> None:
        if not await self.guard_double_contact():
            return
        self.log_contact("copied_template", self.subject.value or "")
        ui.clipboard.write(f"Subject: {self.subject.value}\n\n{self.body.value}")
        self.notify("Copied; contact logged")
        self.refresh_all()

    @guarded
    async def email(self) -> None:
        if not await self.guard_double_contact():
            return
        to = (self.to.value or "").strip()
        self.log_contact("mailto", f"to {to or '?'}: {self.subject.value}")
        # Open the mail app by assignment: a mailto: navigation is not a page of this app.
        link = mailto_link(to, self.subject.value or "", self.body.value or "")
        ui.run_javascript(f"window.location.href = {json.dumps(link)}")
        self.notify("Contact logged; your mail app opens the message")
        self.refresh_all()

    # --- follow-up, notes, timeline ---------------------------------------------------------------------
    def follow_up_card(self) -> None:
        current = self.story.next_follow_up
        with ui.card().classes("w-full gap-2"):
            ui.label("Next follow-up").classes("text-lg font-medium")
            if not self.can_work:
                ui.label(f"{current:%a %d %b %Y}" if current else "None set.").classes("text-sm").mark("follow-up")
                return
            self.follow_up = ui.date_input("Date", value=current.isoformat() if current else "",
                                           on_change=lambda e: self.set_follow_up(e.value)).classes("w-full")
            with ui.row().classes("gap-1"):
                for days in (3, 7, 14):
                    ui.button(f"+{days} d", on_click=lambda d=days: self.follow_up.set_value(
                        follow_up_in(d).isoformat())).props("flat dense")
                ui.button("Clear", on_click=lambda: self.follow_up.set_value("")).props("flat dense color=grey")

    @guarded
    def set_follow_up(self, value: str | None) -> None:
        try:
            when = date.fromisoformat(value) if value else None
        except ValueError:
            return  # half-typed date
        if when == self.story.next_follow_up:
            return
        if when is None and not self.story.in_pipeline:
            return
        with open_session() as session:
            community = session.get(Community, self.community.id)
            schedule_follow_up(community, when, actor=self.actor, session=session, profile_id=self.acting_profile())
        self.notify(f"Next follow-up: {when:%a %d %b %Y}" if when else "Follow-up cleared")
        self.refresh_all()

    @ui.refreshable_method
    def notes_view(self) -> None:
        with ui.card().classes("w-full gap-2").mark("notes-card"):
            ui.label("Notes").classes("text-lg font-medium")
            for note in self.story.notes:
                with ui.column().classes("w-full gap-0 border-l-4 border-indigo-2 pl-2"):
                    ui.label(f"{note.at:%Y-%m-%d %H:%M}").classes("text-xs text-grey-6")
                    ui.label(note.detail).classes("text-sm whitespace-pre-line break-words")
            if not self.story.notes and not self.can_work:
                ui.label("No notes.").classes("text-sm text-grey-7")
            if self.can_work:
                self.note = ui.textarea("Add a note").props("autogrow").classes("w-full").mark("note-input")
                ui.button("Add note", icon="add", on_click=self.add_note).props("flat").mark("add-note")

    @guarded
    def add_note(self) -> None:
        text = self.note.value or ""
        try:
            with open_session() as session:
                community = session.get(Community, self.community.id)
                note_prospect(community, text, actor=self.actor, session=session, profile_id=self.acting_profile())
        except PipelineError as exc:
            self.notify(str(exc), "warning")
            return
        self.notify("Note saved")
        self.refresh_all()

    @ui.refreshable_method
    def sequences_view(self) -> None:
        """The email sequences panel (ui/components/outreach_panel.py) goes here, below the outreach card: it
        needs a prospect, so it is drawn once the community is in the pipeline and redrawn when it enters it."""
        if self.story.prospect_id is None:
            return
        render_outreach_panel(self.story.prospect_id, actor=self.actor)

    @ui.refreshable_method
    def activation_view(self) -> None:
        if self.story.prospect_id is not None and self.story.stage in PARTNER_STAGES:
            render_activation_checklist(self.story.prospect_id, actor=self.actor)

    @ui.refreshable_method
    def timeline_view(self) -> None:
        events = self.story.timeline()
        with ui.card().classes("w-full"):
            ui.label("Timeline").classes("text-lg font-medium")
            if not events:
                ui.label("Nothing yet: this community is not in the pipeline. A move, a note, a follow-up date "
                         "or a message puts it there.").classes("text-sm text-grey-7")
            with ui.timeline(side="right", layout="dense").classes("w-full"):
                for at, kind, detail in events[:100]:
                    with ui.timeline_entry(title=kind.replace("_", " "), subtitle=f"{at:%Y-%m-%d %H:%M}",
                                           icon=ACTIVITY_ICONS.get(kind, "circle")):
                        if detail:
                            ui.label(detail).classes("text-sm whitespace-pre-line break-words")
