"""/discover: start scrape and discovery jobs and follow them.

Both run through `recruiter.discovery` and are `Job` rows written by the one Job service: this page polls them,
so a job started from the command line shows here too.
"""

from __future__ import annotations

import asyncio
from typing import Any

from nicegui import background_tasks, run, ui

from profiles.service import list_profiles, require_profile
from recruiter.core.db import open_session
from recruiter.core.jobs import recent_jobs as stored_jobs
from recruiter.discovery.discover import SOURCES, run_discovery
from recruiter.discovery.scraping import scrape_job
from ui.layout import frame

POLL_SECONDS = 1.0


def recent_jobs(limit: int = 20) -> list[dict[str, Any]]:
    with open_session() as session:
        jobs = stored_jobs(session=session, limit=limit)
    return [{"id": j.id, "kind": j.kind, "state": j.state, "progress": j.progress, "done": j.done,
             "total": j.total, "error": j.error, "result": j.result, "params": j.params,
             "created": j.created_at.strftime("%Y-%m-%d %H:%M")} for j in jobs]


async def run_scrape_job(urls: list[str]) -> int:
    """Scrape the URLs (network work on the event loop, it is async), then save what worked as communities."""
    return await scrape_job(urls, session_factory=open_session)


def run_discovery_job(profile_name: str, sources: list[str], queries: list[str], limit: int) -> str:
    """Discovery in a worker thread with its own event loop; it records its own Job."""
    with open_session() as session:
        profile = require_profile(profile_name, session=session)
        result = asyncio.run(run_discovery(profile, session=session, sources=sources, queries=queries, limit=limit))
    parts = [f"{result[k]} {k.replace('_', ' ')}" for k in ("searched", "scraped", "saved", "good_matches")
             if k in result]
    return f"discovery job {result.get('job_id', '?')} finished: " + ", ".join(parts)


@ui.page("/discover")
def discover_page() -> None:
    with open_session() as session:
        profile_names = [p.name for p in list_profiles(session=session)]
    with frame("Discover", active="/discover"):
        root = ui.context.slot.parent
        with ui.row().classes("w-full gap-4 items-start"):
            with ui.card().classes("flex-1 min-w-[340px] gap-2"):
                ui.label("Scrape URLs").classes("text-lg font-medium")
                ui.label("Pages, feeds, subreddits, channels, podcasts or OPML files: one per line.") \
                    .classes("text-sm text-grey-7")
                urls = ui.textarea("URLs").props("autogrow").classes("w-full")

                async def start_scrape() -> None:
                    items = [u.strip() for u in (urls.value or "").splitlines() if u.strip()]
                    if not items:
                        ui.notify("Enter at least one URL", color="warning")
                        return
                    urls.value = ""
                    background_tasks.create(run_scrape_job(items), name="scrape job")
                    ui.notify(f"Scraping {len(items)} URLs…")

                ui.button("Start scraping", icon="play_arrow", on_click=start_scrape)
            with ui.card().classes("flex-1 min-w-[340px] gap-2"):
                ui.label("Discover communities for a profile").classes("text-lg font-medium")
                if not profile_names:
                    ui.label("Create a profile first.").classes("text-grey-7")
                else:
                    sources_all = list(SOURCES)
                    profile = ui.select(profile_names, value=profile_names[0], label="Profile").classes("w-64")
                    sources = ui.select(sources_all, value=sources_all[:1], multiple=True, label="Sources") \
                        .classes("w-64").props("use-chips")
                    queries = ui.input_chips("Extra search queries").classes("w-full")
                    limit = ui.number("Results per query and source", value=25, min=1, max=200).classes("w-64")

                    async def start_discovery() -> None:
                        if not sources.value:
                            ui.notify("Choose at least one source", color="warning")
                            return
                        ui.notify(f"Discovery started for {profile.value}")
                        try:
                            message = await run.io_bound(run_discovery_job, profile.value, list(sources.value),
                                                         list(queries.value or []), int(limit.value or 25))
                        except Exception as exc:
                            message = f"discovery failed: {exc}"
                        with root:
                            ui.notify(message)

                    ui.button("Start discovery", icon="travel_explore", on_click=start_discovery)

        @ui.refreshable
        def jobs_view() -> None:
            jobs = recent_jobs()
            with ui.card().classes("w-full"):
                ui.label("Jobs").classes("text-lg font-medium")
                if not jobs:
                    ui.label("No jobs yet.").classes("text-grey-7")
                for job in jobs:
                    with ui.row().classes("w-full items-center gap-3"):
                        ui.label(f"#{job['id']} {job['kind']}").classes("font-medium w-32")
                        ui.badge(job["state"], color={"running": "blue", "done": "green", "failed": "negative"}
                                 .get(job["state"], "grey"))
                        ui.linear_progress(value=job["progress"] if job["state"] != "done" else 1.0,
                                           show_value=False, size="10px").classes("w-48")
                        ui.label(f"{job['done']}/{job['total']}" if job["total"] else "").classes("text-sm")
                        ui.label(job["created"]).classes("text-xs text-grey-6")
                        summary = job["error"] or ", ".join(f"{k}: {v}" for k, v in job["result"].items()
                                                            if k in ("saved", "failed", "found", "new", "report"))
                        ui.label(summary).classes("text-sm text-grey-8 truncate flex-1")

        jobs_view()
        shown = {"jobs": recent_jobs()}

        def poll() -> None:
            # Rebuild only when a job moved: a steady page must not flicker every second.
            jobs = recent_jobs()
            if jobs != shown["jobs"]:
                shown["jobs"] = jobs
                jobs_view.refresh()

        ui.timer(POLL_SECONDS, poll)
