"""Interim home page: the communities and profiles in the database."""

from __future__ import annotations

from nicegui import ui
from sqlmodel import select

from profiles.service import list_profiles
from recruiter.db import open_session
from recruiter.models import Community


@ui.page("/")
def home_page() -> None:
    with open_session() as session:
        profiles = list_profiles(session=session)
        communities = session.exec(select(Community).order_by(Community.name).limit(500)).all()
    ui.label("recruiter").classes("text-2xl font-bold")
    ui.label("Profiles").classes("text-xl mt-4")
    for profile in profiles:
        ui.label(f"{profile.name}: {profile.description}")
    ui.label(f"Communities ({len(communities)})").classes("text-xl mt-4")
    ui.table(columns=[{"name": k, "label": k.title(), "field": k} for k in ("name", "kind", "url")],
             rows=[{"name": c.name, "kind": c.kind, "url": c.url} for c in communities], row_key="url")
