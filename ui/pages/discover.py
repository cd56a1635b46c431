"""/discover: start scrape and discovery jobs (when the scrapers package provides them) and follow them.

Jobs are `Job` rows: this page polls them, so a job started from the command line shows here too.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from nicegui import background_tasks, run, ui
from sqlmodel import select

from profiles.service import list_profiles
from recruiter.db import open_session
from recruiter.models import Job, utcnow
from ui.layout import frame

POLL_SECONDS = 1.0


def available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def recent_jobs(limit: int = 20) -> list[dict[str, Any]]:
    with open_session() as session:
        jobs = session.exec(select(Job).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)).all()
    return [{"id": j.id, "kind": j.kind, "state": j.state, "progress": float(j.progress or 0), "done": j.done,
             "total": j.total, "error": j.error or "", "result": j.result or {}, "params": j.params or {},
             "created": j.created_at.strftime("%Y-%m-%d %H:%M")} for j in jobs]


def _update_job(job_id: int, **changes: Any) -> None:
    with open_session() as session:
        job = session.get(Job, job_id)
        for key, value in changes.items():
            setattr(job, key, value)
        job.updated_at = utcnow()
        session.add(job)
        session.commit()


async def run_scrape_job(urls: list[str]) -> int:
    """Scrape the URLs (network work on the event loop, it is async), then save what worked as communities."""
    from recruiter.importing import save_records
    from scrapers.records import to_import_record
    from scrapers.scrape import scrape_urls

    with open_session() as session:
        job = Job(kind="scrape", state="running", total=len(urls), params={"urls": urls})
        session.add(job)
        session.commit()
        job_id = job.id
    done = [0]

    def on_done(_index: int, _record: dict) -> None:
        done[0] += 1
        _update_job(job_id, done=done[0], progress=done[0] / max(1, len(urls)) * 0.9)

    try:
        records = await scrape_urls(urls, on_done=on_done)
        good = [to_import_record(r) for r in records if r.get("ok")]
        errors = [f"{r.get('url')}: {r.get('error')}" for r in records if not r.get("ok")]
        report = None
        if good:
            def save() -> str:
                with open_session() as session:
                    return str(save_records(good, session=session, source="scrape"))
            report = await run.io_bound(save)
        _update_job(job_id, state="done", progress=1.0, result={"saved": len(good), "failed": len(errors),
                                                                 "errors": errors[:20], "report": report or ""})
    except Exception as exc:  # noqa: BLE001 - recorded on the job, shown on the page
        _update_job(job_id, state="failed", error=str(exc))
    return job_id


def run_discovery_job(profile_name: str, sources: list[str], queries: list[str], limit: int) -> str:
    """The scrapers package's discovery, in a worker thread with its own event loop; it records its own Job."""
    import asyncio

    from profiles.service import require_profile

    discovery = importlib.import_module("scrapers.discovery")
    with open_session() as session:
        profile = require_profile(profile_name, session=session)
        result = asyncio.run(discovery.run_discovery(profile, session=session, sources=sources, queries=queries,
                                                     limit=limit))
    parts = [f"{result[k]} {k.replace('_', ' ')}" for k in ("searched", "scraped", "saved", "good_matches")
             if k in result]
    return f"discovery job {result.get('job_id', '?')} finished: " + ", ".join(parts)


@ui.page("/discover")
def discover_page() -> None:
    can_scrape = available("scrapers.scrape")
    can_discover = available("scrapers.discovery")
    with open_session() as session:
        profile_names = [p.name for p in list_profiles(session=session)]
    with frame("Discover", active="/discover"):
        root = ui.context.slot.parent
        with ui.row().classes("w-full gap-4 items-start"):
            with ui.card().classes("flex-1 min-w-[340px] gap-2"):
                ui.label("Scrape URLs").classes("text-lg font-medium")
                if not can_scrape:
                    ui.label("Scraping is not available: the scrapers package is not installed.") \
                        .classes("text-grey-7 not-available")
                else:
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
                if not can_discover:
                    ui.label("Discovery is not available: this install has no scrapers.discovery module.") \
                        .classes("text-grey-7 not-available")
                elif not profile_names:
                    ui.label("Create a profile first.").classes("text-grey-7")
                else:
                    discovery = importlib.import_module("scrapers.discovery")
                    sources_all = list(getattr(discovery, "SOURCES", ["reddit", "podcasts", "youtube", "web"]))
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
                        except Exception as exc:  # noqa: BLE001 - shown to the user
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
