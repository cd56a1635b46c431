"""/sequences: email sequences: the list with how their enrollments stand, and an editor for their steps.

Creating, editing and deleting go through `recruiter.outreach.sequences` (the same checks as `recruiter sequence`):
unknown placeholders, empty subjects and bodies are refused with the step named; a sequence with prospects in it is
deleted only after a confirmation that stops them. Sending happens in `recruiter outreach send` (cron).

Editing needs SEQUENCES and deleting DELETE (checked by the services): a viewer reads the sequences and their
steps without a Save, a member without a Delete.
"""

from __future__ import annotations

from nicegui import ui

from recruiter.accounts.roles import DELETE, SEQUENCES, Actor
from recruiter.core.db import open_session
from recruiter.core.errors import RecruiterError
from recruiter.outreach.sequences import (
    StepSpec,
    create_sequence,
    delete_sequence,
    due_steps,
    get_sequence,
    list_sequences,
    sequence_to_dict,
    update_sequence,
)
from recruiter.outreach.templates import SEQUENCE_PLACEHOLDERS
from ui.access import guarded, page_actor
from ui.layout import empty_state, frame

COLUMNS = [
    {"name": "name", "label": "Sequence", "field": "name", "align": "left"},
    {"name": "steps", "label": "Steps", "field": "steps", "align": "right"},
    {"name": "active", "label": "Active", "field": "active", "align": "right"},
    {"name": "replied", "label": "Replied", "field": "replied", "align": "right"},
    {"name": "bounced", "label": "Bounced", "field": "bounced", "align": "right"},
    {"name": "opted_out", "label": "Opted out", "field": "opted_out", "align": "right"},
    {"name": "finished", "label": "Finished", "field": "finished", "align": "right"},
]
NAME_SLOT = r"""
<q-td :props="props">
  <a :href="'/sequences/' + props.row.id" class="text-primary text-weight-medium"
     style="text-decoration: none">{{ props.value }}</a>
</q-td>
"""
NEW_STEP = {"wait_days": 0, "subject": "Hello {name}", "body": "Hi {name},\n\n...\n\n{signature}\n{unsubscribe}"}


@ui.page("/sequences")
def sequences_page() -> None:
    actor = page_actor()
    with open_session() as session:
        rows = [s.to_dict() for s in list_sequences(session=session)]
        upcoming = due_steps(session=session, within_days=7, limit=20)
    with frame("Sequences", active="/sequences"):
        with ui.row().classes("w-full items-center"):
            ui.label("Steps go out with `recruiter outreach send`, replies are read with `recruiter outreach sync` "
                     "(run them from cron).").classes("text-grey-7 text-sm")
            ui.space()
            if actor.allows(SEQUENCES):
                ui.button("New sequence", icon="add", on_click=lambda: ui.navigate.to("/sequences/new"))
        if not rows:
            empty_state("No sequence yet: write the emails once, and they go out on their own.",
                        link=("Create one", "/sequences/new") if actor.allows(SEQUENCES) else None)
        else:
            table = ui.table(columns=COLUMNS, rows=rows, row_key="id").classes("w-full").props("flat")
            table.add_slot("body-cell-name", NAME_SLOT)
        if upcoming:
            with ui.card().classes("w-full gap-1"):
                ui.label("Due within 7 days").classes("text-lg font-medium")
                for step in upcoming:
                    with ui.row().classes("items-center gap-2 text-sm"):
                        ui.label(f"{step.due_at:%Y-%m-%d %H:%M}").classes(
                            "text-red-7" if step.overdue else "text-grey-7")
                        ui.link(step.name, f"/prospects/{step.prospect_id}")
                        ui.label(f"{step.sequence} step {step.step}: {step.subject}").classes("text-grey-8")


@ui.page("/sequences/{key}")
def sequence_editor_page(key: str) -> None:
    actor = page_actor()
    data = None
    if key != "new":
        try:
            with open_session() as session:
                sequence = get_sequence(int(key) if key.isdigit() else key, session=session)
                data = {"id": sequence.id, **sequence_to_dict(sequence, session=session)}
        except RecruiterError:
            with frame("Sequence not found", active="/sequences"):
                empty_state(f"There is no sequence {key}.", link=("All sequences", "/sequences"))
            return
    with frame(data["name"] if data else "New sequence", active="/sequences"):
        SequenceEditor(data, actor)


class SequenceEditor:
    def __init__(self, data: dict | None, actor: Actor) -> None:
        self.actor = actor
        self.id = data["id"] if data else None
        self.steps = [dict(s) for s in data["steps"]] if data else [dict(NEW_STEP)]
        self.root = ui.context.slot.parent
        with ui.row().classes("w-full items-end gap-3"):
            self.name = ui.input("Name", value=data["name"] if data else "").classes("w-72").mark("sequence-name")
            ui.space()
            if self.id is not None and actor.allows(DELETE):
                ui.button("Delete", icon="delete", color="red-5", on_click=self.confirm_delete).props("outline") \
                    .mark("delete-sequence")
            if actor.allows(SEQUENCES):
                ui.button("Save", icon="save", on_click=self.save).mark("save-sequence")
        ui.label("Placeholders: " + " ".join(f"{{{p}}}" for p in SEQUENCE_PLACEHOLDERS)
                 + ". The unsubscribe line is added to any step that does not place {unsubscribe}.") \
            .classes("text-grey-7 text-sm")
        self.steps_view()
        if actor.allows(SEQUENCES):
            ui.button("Add step", icon="add", on_click=self.add_step).props("flat")

    @ui.refreshable_method
    def steps_view(self) -> None:
        for index, step in enumerate(self.steps):
            with ui.card().classes("w-full gap-2"):
                with ui.row().classes("w-full items-center gap-3"):
                    ui.label(f"Step {index + 1}").classes("font-medium")
                    ui.number("Days after " + ("enrolment" if index == 0 else "the previous step"),
                              value=step["wait_days"], min=0, max=365, step=1, format="%d",
                              on_change=lambda e, s=step: s.update(wait_days=int(e.value or 0))) \
                        .classes("w-56").props("dense")
                    ui.space()
                    ui.button(icon="arrow_upward", on_click=lambda i=index: self.move(i, -1)) \
                        .props("flat dense round").tooltip("Move up")
                    ui.button(icon="close", on_click=lambda i=index: self.remove(i)) \
                        .props("flat dense round color=grey").tooltip("Remove step")
                ui.input("Subject", value=step["subject"],
                         on_change=lambda e, s=step: s.update(subject=e.value or "")).classes("w-full") \
                    .mark(f"subject-{index + 1}")
                ui.textarea("Body", value=step["body"],
                            on_change=lambda e, s=step: s.update(body=e.value or "")) \
                    .props("autogrow").classes("w-full").mark(f"body-{index + 1}")

    def add_step(self) -> None:
        self.steps.append({"wait_days": 3, "subject": "Following up", "body": "Hi {name}, just checking in."})
        self.steps_view.refresh()

    def remove(self, index: int) -> None:
        if len(self.steps) > 1:
            self.steps.pop(index)
            self.steps_view.refresh()

    def move(self, index: int, delta: int) -> None:
        other = index + delta
        if 0 <= other < len(self.steps):
            self.steps[index], self.steps[other] = self.steps[other], self.steps[index]
            self.steps_view.refresh()

    @guarded
    def save(self) -> None:
        specs = [StepSpec(int(s["wait_days"] or 0), s["subject"], s["body"]) for s in self.steps]
        try:
            with open_session() as session:
                if self.id is None:
                    sequence = create_sequence(self.name.value or "", specs, actor=self.actor, session=session)
                else:
                    sequence = update_sequence(self.id, steps=specs, new_name=self.name.value or "",
                                               actor=self.actor, session=session)
        except RecruiterError as exc:
            ui.notify(str(exc), color="negative", multi_line=True)
            return
        ui.notify(f"Saved {sequence.name!r}", color="positive")
        if self.id is None:
            ui.navigate.to(f"/sequences/{sequence.id}")

    @guarded
    async def confirm_delete(self) -> None:
        with self.root, ui.dialog() as dialog, ui.card():
            ui.label(f"Delete sequence {self.name.value!r}?").classes("text-lg font-medium")
            ui.label("Prospects still in it are stopped; what was sent stays on their timelines.")
            with ui.row().classes("justify-end w-full"):
                ui.button("Cancel", on_click=lambda: dialog.submit(False)).props("flat")
                ui.button("Delete", color="red-5", on_click=lambda: dialog.submit(True)).mark("confirm-delete")
        confirmed = await dialog
        dialog.delete()
        if not confirmed:
            return
        try:
            with open_session() as session:
                stopped = delete_sequence(self.id, actor=self.actor, session=session, force=True)
        except RecruiterError as exc:
            ui.notify(str(exc), color="negative")
            return
        ui.notify("Deleted" + (f"; {stopped} enrollment(s) stopped" if stopped else ""), color="positive")
        ui.navigate.to("/sequences")
