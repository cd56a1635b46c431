"""/prospects/{id}: one prospect: who they are and how to reach them, notes, timeline, outreach, follow-up."""

from __future__ import annotations

import json
from datetime import UTC, date

from nicegui import ui

from recruiter.core.db import get_setting, open_session, set_setting
from recruiter.core.models import Community, Profile, Prospect
from recruiter.outreach.pipeline import (
    DoubleContactError,
    PipelineError,
    activities,
    add_note,
    contacted_before,
    log_contact,
    move_prospect,
    set_feedback,
    set_follow_up,
    stage_history,
)
from recruiter.outreach.templates import (
    PLACEHOLDERS,
    REFERRAL_LINK_KEY,
    follow_up_in,
    mailto_link,
    outreach_templates,
    referral_link,
    render_template,
    save_outreach_templates,
)
from ui.components.activation import render_activation_checklist
from ui.components.dialogs import confirm_contacted_before
from ui.components.outreach_panel import render_outreach_panel
from ui.layout import STAGE_LABELS, empty_state, frame, kind_chip, stage_badge

ACTIVITY_ICONS = {"note": "sticky_note_2", "contacted": "send", "mailto": "mail", "copied_template": "content_copy",
                  "feedback": "thumbs_up_down", "stage": "east", "follow_up": "event"}


def safe_href(url: str | None) -> str | None:
    """Only web links become links: a scraped `javascript:` or `data:` URL stays text."""
    return url if url and url.lower().startswith(("http://", "https://")) else None


@ui.page("/prospects/{prospect_id}")
def prospect_page(prospect_id: int) -> None:
    with open_session() as session:
        prospect = session.get(Prospect, prospect_id)
        community = session.get(Community, prospect.community_id) if prospect else None
    if prospect is None or community is None:
        with frame("Prospect not found", active="/prospects"):
            empty_state(f"There is no prospect {prospect_id}.", link=("Back to prospects", "/prospects"))
        return
    with frame(community.name or community.url, active="/prospects"):
        ProspectDetail(prospect, community)


class ProspectDetail:
    def __init__(self, prospect: Prospect, community: Community) -> None:
        self.prospect_id = prospect.id
        self.community = community
        self.root = ui.context.slot.parent
        self.header_view()
        with ui.row().classes("w-full gap-4 items-start"):
            with ui.column().classes("flex-[3] min-w-[360px] gap-4"):
                self.community_card()
                self.outreach_card()
                render_outreach_panel(self.prospect_id)
                render_activation_checklist(self.prospect_id)
            with ui.column().classes("flex-[2] min-w-[300px] gap-4"):
                self.follow_up_card()
                self.notes_card()
                self.timeline_view()

    def prospect(self, session) -> Prospect:
        return session.get(Prospect, self.prospect_id)

    # --- header: stage, feedback, contacted-before warning ------------------------------------------------
    @ui.refreshable_method
    def header_view(self) -> None:
        with open_session() as session:
            prospect = self.prospect(session)
            first_contact = contacted_before(prospect, session=session)
            profile = session.get(Profile, prospect.profile_id) if prospect.profile_id else None
        with ui.row().classes("w-full items-center gap-3"):
            kind_chip(self.community.kind)
            stage_badge(prospect.stage)
            if prospect.feedback:
                ui.badge("shortlisted" if prospect.feedback == "shortlist" else "not a fit",
                         color="indigo" if prospect.feedback == "shortlist" else "red-5").props("outline")
            if profile:
                ui.link(f"profile: {profile.name}", f"/profiles/{profile.id}").classes("text-sm")
            ui.space()
            ui.select(STAGE_LABELS, value=prospect.stage, label="Stage",
                      on_change=lambda e: self.change_stage(e.value)).classes("w-44").props("dense outlined")
            ui.button("Shortlist", icon="thumb_up", on_click=lambda: self.feedback("shortlist")) \
                .props("flat dense color=indigo")
            ui.button("Not a fit", icon="thumb_down", on_click=lambda: self.feedback("not_a_fit")) \
                .props("flat dense color=red-5")
        if first_contact:
            with ui.row().classes("w-full items-center gap-2 bg-orange-1 text-orange-10 rounded p-3 contacted-warning"):
                ui.icon("warning").classes("text-xl")
                ui.label(f"Contacted before, on {first_contact:%Y-%m-%d}. Check the timeline before reaching "
                         "out again: no double outreach.")

    async def change_stage(self, stage: str, *, force: bool = False) -> None:
        with open_session() as session:
            if self.prospect(session).stage == stage:
                return
            try:
                move_prospect(self.prospect_id, stage, session=session, force=force)
            except DoubleContactError as exc:
                if await self.confirm(str(exc)):
                    await self.change_stage(stage, force=True)
                    return
            except PipelineError as exc:
                ui.notify(str(exc), color="negative")
        self.refresh_all()

    async def confirm(self, message: str) -> bool:
        return await confirm_contacted_before(self.root, message, proceed="Go ahead", keep="Cancel")

    def feedback(self, verdict: str) -> None:
        with open_session() as session:
            set_feedback(self.community, verdict, session=session,
                         profile_id=self.prospect(session).profile_id)
        ui.notify("Saved: the next ranking learns from it", color="positive")
        self.refresh_all()

    def refresh_all(self) -> None:
        self.header_view.refresh()
        self.timeline_view.refresh()

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
            if c.emails:
                ui.label("Emails").classes("font-medium text-sm mt-2")
                with ui.row().classes("gap-2"):
                    for email in c.emails:
                        ui.chip(email, icon="mail").props("dense outline")
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
            self.ref_pattern = get_setting(REFERRAL_LINK_KEY, "", session=session) or ""
        with ui.card().classes("w-full gap-2"):
            with ui.row().classes("w-full items-center"):
                ui.label("Outreach").classes("text-lg font-medium")
                ui.space()
                ui.label("Placeholders: " + " ".join(PLACEHOLDERS)).classes("text-xs text-grey-6")
            with ui.row().classes("w-full gap-2 items-center"):
                self.template_select = ui.select({i: t["name"] for i, t in enumerate(self.templates)}, value=0,
                                                 label="Template", on_change=lambda _e: self.load_template()) \
                    .classes("w-48").props("dense")
                self.to = ui.select(list(self.community.emails or []), label="To", with_input=True,
                                    new_value_mode="add-unique",
                                    value=(self.community.emails or [None])[0]).classes("w-64").props("dense")
                self.ref_input = ui.input("Referral link pattern ({code} or {slug})", value=self.ref_pattern) \
                    .classes("flex-1").props("dense")
                self.ref_input.on("blur", lambda _e: self.save_ref_pattern())
            with ui.expansion("Edit template", icon="edit").classes("w-full"):
                self.raw_subject = ui.input("Subject").classes("w-full")
                self.raw_body = ui.textarea("Body").props("autogrow").classes("w-full")
                ui.button("Save template", icon="save", on_click=self.save_template).props("flat")
            ui.label("Rendered for this prospect").classes("text-sm font-medium")
            self.subject = ui.input("Subject").classes("w-full").mark("rendered-subject")
            self.body = ui.textarea("Message").props("autogrow").classes("w-full").mark("rendered-body")
            with ui.row().classes("gap-2"):
                ui.button("Copy", icon="content_copy", on_click=self.copy).mark("copy-template")
                ui.button("Email", icon="mail", on_click=self.email).mark("send-email")
                ui.label("Both log the contact and move a new prospect to Contacted.").classes("text-xs text-grey-6 self-center")
        self.load_template()

    def load_template(self) -> None:
        template = self.templates[self.template_select.value or 0]
        self.raw_subject.value = template["subject"]
        self.raw_body.value = template["body"]
        self.render()

    def render(self) -> None:
        with open_session() as session:
            prospect = self.prospect(session)
            profile = session.get(Profile, prospect.profile_id) if prospect.profile_id else None
            ref = referral_link(self.community, session=session)
        self.subject.value = render_template(self.raw_subject.value, community=self.community, profile=profile,
                                             ref_link=ref)
        self.body.value = render_template(self.raw_body.value, community=self.community, profile=profile, ref_link=ref)

    def save_template(self) -> None:
        index = self.template_select.value or 0
        self.templates[index] = {"name": self.templates[index]["name"], "subject": self.raw_subject.value,
                                 "body": self.raw_body.value}
        with open_session() as session:
            save_outreach_templates(self.templates, session=session)
        self.render()
        ui.notify("Template saved", color="positive")

    def save_ref_pattern(self) -> None:
        with open_session() as session:
            set_setting(REFERRAL_LINK_KEY, (self.ref_input.value or "").strip(), session=session)
        self.render()

    async def guard_double_contact(self) -> bool:
        with open_session() as session:
            prospect = self.prospect(session)
            when = contacted_before(prospect, session=session)
        if when is None:
            return True
        return await self.confirm(f"already contacted on {when:%Y-%m-%d %H:%M} UTC: send another message anyway?")

    async def copy(self) -> None:
        if not await self.guard_double_contact():
            return
        ui.clipboard.write(f"Subject: {self.subject.value}\n\n{self.body.value}")
        with open_session() as session:
            log_contact(self.prospect_id, "copied_template", self.subject.value or "", session=session)
        ui.notify("Copied; contact logged", color="positive")
        self.refresh_all()

    async def email(self) -> None:
        if not await self.guard_double_contact():
            return
        with open_session() as session:
            log_contact(self.prospect_id, "mailto", f"to {self.to.value or '?'}: {self.subject.value}", session=session)
        # Open the mail app by assignment: a mailto: navigation is not a page of this app.
        link = mailto_link(self.to.value, self.subject.value or "", self.body.value or "")
        ui.run_javascript(f"window.location.href = {json.dumps(link)}")
        self.refresh_all()

    # --- follow-up, notes, timeline ---------------------------------------------------------------------
    def follow_up_card(self) -> None:
        with open_session() as session:
            current = self.prospect(session).next_follow_up
        with ui.card().classes("w-full gap-2"):
            ui.label("Next follow-up").classes("text-lg font-medium")
            self.follow_up = ui.date_input("Date", value=current.isoformat() if current else "",
                                           on_change=lambda e: self.set_follow_up(e.value)).classes("w-full")
            with ui.row().classes("gap-1"):
                for days in (3, 7, 14):
                    ui.button(f"+{days} d", on_click=lambda d=days: self.follow_up.set_value(
                        follow_up_in(d).isoformat())).props("flat dense")
                ui.button("Clear", on_click=lambda: self.follow_up.set_value("")).props("flat dense color=grey")

    def set_follow_up(self, value: str | None) -> None:
        try:
            when = date.fromisoformat(value) if value else None
        except ValueError:
            return  # half-typed date
        with open_session() as session:
            prospect = self.prospect(session)
            if prospect.next_follow_up == when:
                return
            set_follow_up(prospect, when, session=session)
            from recruiter.outreach.pipeline import log_activity

            log_activity(prospect, "follow_up", when.isoformat() if when else "cleared", session=session)
        self.timeline_view.refresh()

    def notes_card(self) -> None:
        with ui.card().classes("w-full gap-2"):
            ui.label("Notes").classes("text-lg font-medium")
            self.note = ui.textarea("Add a note").props("autogrow").classes("w-full")
            ui.button("Add note", icon="add", on_click=self.add_note).props("flat")

    def add_note(self) -> None:
        try:
            with open_session() as session:
                add_note(self.prospect(session), self.note.value or "", session=session)
        except PipelineError as exc:
            ui.notify(str(exc), color="warning")
            return
        self.note.value = ""
        self.timeline_view.refresh()

    @ui.refreshable_method
    def timeline_view(self) -> None:
        with open_session() as session:
            prospect = self.prospect(session)
            events = [(a.at, a.kind, a.detail) for a in activities(prospect, session=session)]
            events += [(s.at, "stage", f"{STAGE_LABELS.get(s.from_stage, 'new')} → {STAGE_LABELS.get(s.to_stage, s.to_stage)}"
                        + (f" ({s.note})" if s.note else "")) for s in stage_history(prospect, session=session)]
        events.sort(key=lambda e: e[0] if e[0].tzinfo else e[0].replace(tzinfo=UTC), reverse=True)
        with ui.card().classes("w-full"):
            ui.label("Timeline").classes("text-lg font-medium")
            with ui.timeline(side="right", layout="dense").classes("w-full"):
                for at, kind, detail in events[:100]:
                    with ui.timeline_entry(title=kind.replace("_", " "), subtitle=f"{at:%Y-%m-%d %H:%M}",
                                           icon=ACTIVITY_ICONS.get(kind, "circle")):
                        if detail:
                            ui.label(detail).classes("text-sm whitespace-pre-line")
