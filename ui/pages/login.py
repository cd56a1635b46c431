"""/login: the password form shown when the app serves beyond this machine (RECRUITER_PASSWORD is set)."""

from __future__ import annotations

import asyncio

from nicegui import app, ui

from recruiter.core.security import check_password, login_required

WRONG_PASSWORD_DELAY = 1.0


@ui.page("/login")
def login_page(redirect_to: str = "/") -> None:
    # Only local paths: a crafted link must not bounce the user to another site after login.
    target = redirect_to if redirect_to.startswith("/") and not redirect_to.startswith("//") else "/"
    if not login_required() or app.storage.user.get("authenticated"):
        ui.navigate.to(target)
        return
    ui.page_title("Log in · recruiter")

    async def attempt() -> None:
        if check_password(password.value or ""):
            app.storage.user["authenticated"] = True
            ui.navigate.to(target)
        else:
            await asyncio.sleep(WRONG_PASSWORD_DELAY)  # guessing stays slow
            password.value = ""
            ui.notify("Wrong password", color="negative")

    with ui.card().classes("absolute-center w-80 gap-3"):
        with ui.row().classes("items-center gap-2"):
            ui.icon("lock").classes("text-2xl text-primary")
            ui.label("recruiter").classes("text-xl font-semibold")
        ui.label("Enter the password set in RECRUITER_PASSWORD.").classes("text-sm text-grey-7")
        password = ui.input("Password", password=True, password_toggle_button=True).classes("w-full") \
            .on("keydown.enter", attempt)
        ui.button("Log in", on_click=attempt).classes("w-full")
