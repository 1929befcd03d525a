"""The analysts' web page: server-rendered views over the library, light JavaScript for the writes
(which go through the JSON API, signed in by the session cookie), SVG charts drawn on the server.
Nothing is fetched from outside the service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles

from api.page import session
from api.page.render import render
from api.page.session import PageForbidden, SignInNeeded, sign_in_redirect

STATIC = Path(__file__).with_name("static")
ROUTERS = [session.router]
# Each view registers here, one line each.
from api.page.views import search as _search; ROUTERS.append(_search.router)  # noqa: E402, E702
from api.page.views import document as _document; ROUTERS.append(_document.router)  # noqa: E402, E702
from api.page.views import label_next as _label_next; ROUTERS.append(_label_next.router)  # noqa: E402, E702
from api.page.views import triage as _triage; ROUTERS.append(_triage.router)  # noqa: E402, E702
from api.page.views import trends as _trends; ROUTERS.append(_trends.router)  # noqa: E402, E702
from api.page.views import intake as _intake; ROUTERS.append(_intake.router)  # noqa: E402, E702
from api.page.views import models as _models; ROUTERS.append(_models.router)  # noqa: E402, E702


def install(app: FastAPI) -> None:
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="page-static")
    for router in ROUTERS:
        app.include_router(router)

    @app.exception_handler(SignInNeeded)
    async def sign_in_needed(_: Request, exc: SignInNeeded):
        return sign_in_redirect(exc)

    @app.exception_handler(PageForbidden)
    async def forbidden(request: Request, exc: PageForbidden):
        return render(request, "message.html", exc.caller, status_code=403, title="Not allowed", message=exc.message)
