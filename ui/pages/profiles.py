"""/profiles and /profiles/{id}: describe the ideal client, and watch the top matches change while typing.

Creating and editing need PROFILES, deleting DELETE (checked by the profile services): a viewer reads the
profiles and their preview without a form's buttons, a member edits without a Delete."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from nicegui import background_tasks, run, ui

from profiles.advice import description_warning
from profiles.service import (
    ProfileError,
    create_profile,
    delete_profile,
    duplicate_profile,
    list_profiles,
    update_profile,
)
from recruiter.accounts.roles import DELETE, PROFILES, Actor
from recruiter.core.canonical import canonical_url
from recruiter.core.db import open_session
from recruiter.core.models import Profile, ProfileCreate
from recruiter.matching.matches import MatchRow, match_page, preview_matches, ranking_state
from ui.access import guarded, page_actor
from ui.layout import empty_state, fit_bar, frame, kind_chip

# Seconds of quiet typing before the preview is recomputed: ranking on every keystroke would queue up work.
PREVIEW_DEBOUNCE = 0.4
PREVIEW_SIZE = 10


@ui.page("/profiles")
def profiles_page() -> None:
    actor = page_actor()
    with open_session() as session:
        profiles = list_profiles(session=session)

    @guarded
    async def create() -> None:
        try:
            with open_session() as session:
                profile = create_profile(ProfileCreate(name=new_name.value or "", description=new_description.value or ""),
                                         actor=actor, session=session)
        except ProfileError as exc:
            ui.notify(str(exc), color="negative")
            return
        ui.navigate.to(f"/profiles/{profile.id}")

    with frame("Profiles", active="/profiles"):
        ui.label("Each profile describes one ideal client in your own words; communities are ranked by how well "
                 "their audience fits it.").classes("text-grey-7")
        if actor.allows(PROFILES):
            with ui.card().classes("w-full"):
                ui.label("New profile").classes("text-lg font-medium")
                with ui.row().classes("w-full items-start gap-3"):
                    new_name = ui.input("Name", placeholder="e.g. yoga beginners").classes("w-56")
                    new_description = ui.textarea("Who buys, what problems they have, what you sell") \
                        .props("autogrow").classes("flex-1")
                    ui.button("Create", icon="add", on_click=create).classes("self-center")
                description_hint(new_description, initial=False)
        if not profiles:
            empty_state("No profile yet: create the first one above." if actor.allows(PROFILES) else "No profile yet.")
        with ui.row().classes("w-full gap-4"):
            for profile in profiles:
                profile_card(profile)


def description_hint(field: ui.textarea, *, initial: bool = True) -> ui.label:
    """A warning under the description while it is too thin to rank on (the CLI prints the same one)."""
    hint = ui.label().classes("text-sm text-orange-10 bg-orange-1 rounded px-2 py-1").mark("description-warning")

    def update(value: str | None, shown: bool = True) -> None:
        warning = description_warning(value)
        hint.set_text(f"Warning: {warning}" if warning else "")
        hint.set_visibility(bool(warning) and shown)

    update(field.value, shown=initial)
    field.on_value_change(lambda e: update(e.value))
    return hint


def profile_card(profile: Profile) -> None:
    with ui.card().classes("w-[360px]"):
        with ui.row().classes("w-full items-center"):
            ui.link(profile.name, f"/profiles/{profile.id}").classes("text-lg font-semibold")
            ui.space()
            ui.button(icon="edit", on_click=lambda: ui.navigate.to(f"/profiles/{profile.id}")) \
                .props("flat round dense").tooltip("Edit")
        ui.label(profile.description or "No description yet.").classes("text-sm text-grey-8 line-clamp-3")
        if profile.keywords:
            with ui.row().classes("gap-1"):
                for keyword in profile.keywords[:8]:
                    ui.chip(keyword).props("dense outline color=primary")
        with ui.row().classes("gap-2"):
            ui.button("Prospects", icon="format_list_numbered",
                      on_click=lambda: ui.navigate.to(f"/prospects?profile={quote(profile.name)}")).props("flat dense")
            ui.button("Pipeline", icon="view_kanban",
                      on_click=lambda: ui.navigate.to(f"/pipeline?profile={quote(profile.name)}")).props("flat dense")


@ui.page("/profiles/{profile_id}")
def profile_editor_page(profile_id: int) -> None:
    actor = page_actor()
    with open_session() as session:
        profile = session.get(Profile, profile_id)
    if profile is None:
        with frame("Profile not found", active="/profiles"):
            empty_state(f"There is no profile {profile_id}.", link=("All profiles", "/profiles"))
        return
    with frame(f"Profile: {profile.name}", active="/profiles"):
        ProfileEditor(profile, actor)


class ProfileEditor:
    """The form, its save/duplicate/delete buttons and the live preview of the top matches."""

    def __init__(self, profile: Profile, actor: Actor) -> None:
        self.profile = profile
        self.actor = actor
        self.version = 0
        self.rows: list[MatchRow] = []
        self.busy = False
        self.error = ""
        with open_session() as session:
            state = ranking_state(profile, session=session)
            if state.stored and not state.stale:  # the stored ranking is this very profile's: show it at once
                self.rows = match_page(profile.id, session=session, limit=PREVIEW_SIZE)[0]
        with ui.row().classes("w-full gap-4 items-start"):
            with ui.card().classes("flex-1 min-w-[340px] gap-2"):
                self.name = ui.input("Name", value=profile.name).classes("w-full")
                self.description = ui.textarea(
                    "Description: who buys, what problems they have, what you sell",
                    value=profile.description).props("autogrow").classes("w-full")
                description_hint(self.description)
                self.keywords = ui.input_chips("Keywords (terms the audience uses)", value=list(profile.keywords),
                                               new_value_mode="add-unique").classes("w-full")
                self.exclusions = ui.input_chips("Exclusions (topics that are NOT a fit)",
                                                 value=list(profile.exclusions),
                                                 new_value_mode="add-unique").classes("w-full")
                self.examples = ui.input_chips("Example communities (URLs of great fits)",
                                               value=list(profile.examples),
                                               new_value_mode="add-unique").classes("w-full")
                with ui.row().classes("gap-2"):
                    if actor.allows(PROFILES):
                        ui.button("Save", icon="save", on_click=self.save)
                        ui.button("Duplicate", icon="content_copy", on_click=self.duplicate).props("outline")
                    if actor.allows(DELETE):
                        ui.button("Delete", icon="delete", on_click=self.confirm_delete) \
                            .props("outline color=negative").mark("delete-profile")
                    ui.button("Prospects", icon="format_list_numbered", on_click=lambda: ui.navigate.to(
                        f"/prospects?profile={quote(self.profile.name)}")).props("flat")
            with ui.card().classes("flex-1 min-w-[340px] overflow-hidden"):
                with ui.row().classes("items-center w-full"):
                    ui.label("Live preview: top 10 matches").classes("text-lg font-medium")
                    ui.space()
                    self.spinner = ui.spinner(size="sm")
                    self.spinner.set_visibility(not self.rows)
                self.preview_view()
        for field in (self.name, self.description, self.keywords, self.exclusions, self.examples):
            field.on_value_change(lambda _e: self.schedule_preview())
        if not self.rows:
            self.schedule_preview()

    def draft(self) -> Profile:
        """The profile as currently typed (unsaved): what the preview ranks."""
        examples = []
        for url in self.examples.value or []:
            try:
                examples.append(canonical_url(url))
            except ValueError:
                continue  # half-typed URL: ignored by the preview, reported by Save
        return Profile(id=self.profile.id, name=self.name.value or self.profile.name,
                       description=self.description.value or "", keywords=list(self.keywords.value or []),
                       exclusions=list(self.exclusions.value or []), examples=examples)

    def schedule_preview(self) -> None:
        self.version += 1
        background_tasks.create(self.update_preview(self.version), name="profile preview")

    async def update_preview(self, version: int) -> None:
        await asyncio.sleep(PREVIEW_DEBOUNCE)
        if version != self.version:
            return  # the user kept typing: a newer call will do it
        self.busy = True
        self.spinner.set_visibility(True)
        try:
            rows = await run.io_bound(preview_matches, self.draft(), limit=PREVIEW_SIZE)
            error = ""
        except Exception as exc:
            rows, error = [], f"preview failed: {exc}"
        if version != self.version or self.spinner.is_deleted:
            return  # typed on meanwhile, or the tab is gone
        self.rows, self.error, self.busy = rows, error, False
        self.spinner.set_visibility(False)
        self.preview_view.refresh()

    @ui.refreshable_method
    def preview_view(self) -> None:
        if self.error:
            ui.label(self.error).classes("text-negative")
        elif not self.rows:
            ui.label("Computing…" if self.version <= 1 or self.busy else
                     "No communities yet: import some (recruiter import FILE) or use Discover.") \
                .classes("text-grey-7")
        with ui.column().classes("w-full gap-1 preview-list").mark("preview"):
            for position, row in enumerate(self.rows, start=1):
                with ui.row().classes("w-full items-center gap-2 no-wrap"):
                    ui.label(f"{position}.").classes("w-6 text-grey-6")
                    fit_bar(row.fit)
                    with ui.column().classes("gap-0 min-w-0 flex-1"):
                        with ui.row().classes("items-center gap-2 no-wrap"):
                            ui.label(row.name).classes("font-medium truncate")
                            kind_chip(row.kind)
                        ui.label(row.why).classes("text-xs text-grey-7 truncate w-full")

    @guarded
    def save(self) -> None:
        try:
            with open_session() as session:
                profile = session.get(Profile, self.profile.id)
                self.profile = update_profile(profile, actor=self.actor, session=session, name=self.name.value,
                                              description=self.description.value, keywords=self.keywords.value,
                                              exclusions=self.exclusions.value, examples=self.examples.value)
        except ProfileError as exc:
            ui.notify(str(exc), color="negative")
            return
        ui.notify(f"Profile {self.profile.name!r} saved; its ranked list refreshes on the Prospects page",
                  color="positive")

    @guarded
    def duplicate(self) -> None:
        with open_session() as session:
            copy = duplicate_profile(session.get(Profile, self.profile.id), actor=self.actor, session=session)
        ui.navigate.to(f"/profiles/{copy.id}")

    def confirm_delete(self) -> None:
        with ui.dialog() as dialog, ui.card():
            ui.label(f"Delete profile {self.profile.name!r}?").classes("text-lg")
            ui.label("Its stored matches go; prospects stay in the pipeline.").classes("text-grey-7")
            with ui.row().classes("justify-end w-full"):
                ui.button("Cancel", on_click=dialog.close).props("flat")
                ui.button("Delete", color="negative", on_click=lambda: self.delete(dialog)).mark("confirm-delete")
        dialog.open()

    @guarded
    def delete(self, dialog: ui.dialog) -> None:
        dialog.close()
        with open_session() as session:
            profile = session.get(Profile, self.profile.id)
            if profile is not None:
                delete_profile(profile, actor=self.actor, session=session)
        ui.notify(f"Profile {self.profile.name!r} deleted")
        ui.navigate.to("/profiles")
