"""The prospect page's email panel: the community's address, its sequence enrollments and the messages sent.

`render_outreach_panel(prospect_id)` draws it into the current container. Enrolling from here calls the same
`enroll` service as `recruiter outreach enroll`, so it refuses the same things (no address, contacted before,
bounced or opted out, already in a sequence) with the same words. Text from the web (addresses, subjects) is shown
through text elements only. Enrolling needs OUTREACH: without it the panel only shows where things stand.
"""

from __future__ import annotations

from nicegui import run, ui

from recruiter.accounts.roles import OUTREACH, Actor
from recruiter.core.db import open_session
from recruiter.core.errors import RecruiterError
from recruiter.outreach.sequences import ProspectOutreach, enroll_prospect, prospect_outreach
from ui.access import guarded, page_actor

STATE_COLORS = {"active": "blue", "replied": "cyan-8", "bounced": "red-5", "opted-out": "orange-8",
                "finished": "green", "stopped": "grey-7"}
MESSAGE_COLORS = {"due": "blue-grey", "claimed": "amber-8", "sent": "green", "failed": "red-5", "cancelled": "grey"}


def render_outreach_panel(prospect_id: int, *, actor: Actor | None = None) -> None:
    """Draw the panel; ``actor`` is the page's (read from the page's session when not given)."""
    OutreachPanel(prospect_id, actor or page_actor())


class OutreachPanel:
    def __init__(self, prospect_id: int, actor: Actor) -> None:
        self.prospect_id = prospect_id
        self.actor = actor
        self.view()

    def load(self) -> ProspectOutreach | None:
        try:
            with open_session() as session:
                return prospect_outreach(self.prospect_id, session=session)
        except RecruiterError:
            return None

    @ui.refreshable_method
    def view(self) -> None:
        data = self.load()
        with ui.card().classes("w-full gap-2") as card:
            card.mark("outreach-panel")
            with ui.row().classes("w-full items-center"):
                ui.label("Email sequence").classes("text-lg font-medium")
                ui.space()
                ui.link("Sequences", "/sequences").classes("text-sm")
            if data is None:
                ui.label("No such prospect.").classes("text-grey-7")
                return
            with ui.row().classes("items-center gap-2 text-sm"):
                ui.icon("alternate_email").classes("text-grey-7")
                if data.email:
                    ui.label(data.email).mark("contact-email")
                else:
                    ui.label("No contact address known: import one or scrape the site.").classes("text-grey-7")
                if data.suppressed:
                    ui.badge(data.suppressed, color="red-5").props("outline")
            active = next((e for e in data.enrollments if e.state == "active"), None)
            for enrollment in data.enrollments:
                with ui.row().classes("items-center gap-2 text-sm w-full"):
                    ui.badge(enrollment.state, color=STATE_COLORS.get(enrollment.state, "grey"))
                    ui.label(f"{enrollment.sequence}: step {enrollment.step}"
                             + (f" of {enrollment.steps}" if enrollment.steps else "") + " sent")
                    if enrollment.next_at:
                        ui.label(f"next {enrollment.next_at[:16].replace('T', ' ')} UTC").classes("text-grey-7")
                    if enrollment.reason and enrollment.state != "active":
                        ui.label(enrollment.reason).classes("text-grey-7 text-xs")
            if data.messages:
                with ui.column().classes("w-full gap-1"):
                    for message in data.messages[:20]:
                        with ui.row().classes("items-center gap-2 text-sm no-wrap w-full"):
                            ui.badge(message.state, color=MESSAGE_COLORS.get(message.state, "grey")).props("outline")
                            when = message.sent_at or message.due_at or ""
                            ui.label(when[:16].replace("T", " ")).classes("text-grey-7 text-xs")
                            ui.label(f"step {message.step}: {message.subject or '(not sent yet)'}") \
                                .classes("ellipsis")
                            if message.error:
                                ui.icon("error_outline", color="red-5").tooltip(message.error)
            if active is None and data.email and not data.suppressed and self.actor.allows(OUTREACH):
                if data.sequences:
                    with ui.row().classes("items-center gap-2 w-full"):
                        chosen = ui.select(data.sequences, value=data.sequences[0], label="Sequence") \
                            .classes("w-56").props("dense")
                        ui.button("Enroll", icon="forward_to_inbox",
                                  on_click=lambda: self.enroll(chosen.value)).props("flat dense")
                else:
                    ui.link("Create a sequence to send this automatically", "/sequences").classes("text-sm")

    @guarded
    async def enroll(self, sequence: str | None) -> None:
        if not sequence:
            return

        def work():
            with open_session() as session:
                return enroll_prospect(self.prospect_id, sequence=sequence, actor=self.actor, session=session)

        try:
            report = await run.io_bound(work)
        except RecruiterError as exc:
            ui.notify(str(exc), color="negative")
            return
        if report.enrolled:
            ui.notify(f"Enrolled in {sequence}: first step due {report.enrolled[0].first_due[:16]} UTC",
                      color="positive")
        for skipped in report.skipped:
            ui.notify(f"Not enrolled: {skipped.reason}", color="warning", multi_line=True)
        self.view.refresh()
