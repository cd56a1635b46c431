"""The web app's entry point: register every page module in ui/pages, guard them with a login, serve.

`start()` is what `recruiter ui` calls; running this file (as NiceGUI's test `user` fixture does) calls it too.
"""

from __future__ import annotations

import importlib
import os
import pkgutil

from recruiter.core.config import recruiter_home

# Browser sessions are kept with the rest of the user's data, not in whatever folder the app was started from.
os.environ.setdefault("NICEGUI_STORAGE_PATH", str(recruiter_home() / "nicegui"))

from nicegui import app, ui
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse

from recruiter.core.security import LOOPBACK_HOSTS, login_required, password_required_message, storage_secret

# Paths reachable without logging in: the login page itself and NiceGUI's own assets.
OPEN_PATHS = ("/login", "/_nicegui/", "/favicon.ico")


def register_pages() -> list[str]:
    """Import every module of ui.pages (importing one registers its routes); other engineers drop pages in."""
    import ui.pages as pages

    names = []
    for module in sorted(pkgutil.iter_modules(pages.__path__), key=lambda m: m.name):
        if not module.name.startswith("_"):
            importlib.import_module(f"ui.pages.{module.name}")
            names.append(module.name)
    return names


class LoginMiddleware(BaseHTTPMiddleware):
    """With a password set, every route but the login page needs a logged-in browser session."""

    async def dispatch(self, request: Request, call_next):
        if login_required() and not app.storage.user.get("authenticated", False):
            path = request.url.path
            if not (path == "/login" or path.startswith(OPEN_PATHS[1:])):
                return RedirectResponse(f"/login?redirect_to={path}")
        return await call_next(request)


def start(*, host: str = "127.0.0.1", port: int = 8080, reload: bool = False) -> None:
    if host not in LOOPBACK_HOSTS and not os.environ.get("RECRUITER_PASSWORD"):
        raise SystemExit(password_required_message(host))
    register_pages()
    app.add_middleware(LoginMiddleware)
    if host in LOOPBACK_HOSTS and not os.environ.get("NICEGUI_USER_SIMULATION"):
        # Served without a password on this machine only: refuse requests addressed to any other host name, so
        # a web page that rebinds its own domain to 127.0.0.1 cannot read the data through the browser.
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        app.add_middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost", "::1", "[::1]"])
    if not os.environ.get("NICEGUI_USER_SIMULATION") and os.environ.get("RECRUITER_UI_WARMUP", "1") != "0":
        from ui.background import warm_up

        app.on_startup(warm_up)
    ui.run(host=host, port=port, title="recruiter", reload=reload, show=False, storage_secret=storage_secret(),
           favicon="🤝", show_welcome_message=False)


if __name__ in {"__main__", "__mp_main__"}:
    start(host=os.environ.get("RECRUITER_UI_HOST", "127.0.0.1"), port=int(os.environ.get("RECRUITER_UI_PORT", "8080")))
