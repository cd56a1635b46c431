"""The web app's entry point: register the pages, then serve."""

from __future__ import annotations

from nicegui import ui


def register_pages() -> None:
    from ui.pages import home  # noqa: F401  (importing a page module registers its routes)


def start(*, host: str = "127.0.0.1", port: int = 8080, reload: bool = False) -> None:
    register_pages()
    ui.run(host=host, port=port, title="recruiter", reload=reload, show=False)


if __name__ in {"__main__", "__mp_main__"}:
    start()
