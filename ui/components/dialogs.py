"""The double-outreach guard's dialog, shared by the board and the prospect page."""

from __future__ import annotations

from nicegui import ui


async def confirm_contacted_before(root, message: str, *, proceed: str, keep: str) -> bool:
    """Ask before contacting a community again; True only when the user chooses `proceed`."""
    with root, ui.dialog() as dialog, ui.card():
        with ui.row().classes("items-center gap-2"):
            ui.icon("warning", color="orange-8").classes("text-2xl")
            ui.label("Contacted before").classes("text-lg font-medium")
        ui.label(message)
        with ui.row().classes("justify-end w-full"):
            ui.button(keep, on_click=lambda: dialog.submit(False)).props("flat")
            ui.button(proceed, color="orange-8", on_click=lambda: dialog.submit(True))
    result = await dialog
    dialog.delete()
    return bool(result)
