"""Signing in to the page: the API key goes into a session cookie (HttpOnly, so no script reads it;
SameSite=Strict, so no other site's request carries it; no expiry, so it ends with the browser
session), never into a URL. Views declare the role they need with `PageReader`, `PageTrainer`, …:
without a valid key the browser is sent to the sign-in form and back; with a key of another role
the page says which role is needed."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.auth import ADMITS, SESSION_COOKIE, Caller, refusal_for
from api.page.render import render
from kunlun_nlp.keys import FIRST_KEY_HINT

router = APIRouter(include_in_schema=False)
HOME = "/ui/search"


class SignInNeeded(Exception):
    """No valid key in the session: answered with a redirect to the sign-in form."""

    def __init__(self, back_to: str) -> None:
        super().__init__(back_to)
        self.back_to = back_to


class PageForbidden(Exception):
    """A valid key whose role may not open this view: answered with a 403 page saying why."""

    def __init__(self, caller: Caller, message: str) -> None:
        super().__init__(message)
        self.caller = caller
        self.message = message


@cache
def page_require(role: str) -> Callable[[Request], Caller]:
    """A dependency admitting a signed-in key whose role may act as `role` (see api.auth.ADMITS)."""
    if role not in ADMITS:
        raise ValueError(f"unknown role {role!r}")

    def caller(request: Request) -> Caller:
        found = signed_in(request)
        if found is None:
            back_to = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise SignInNeeded(back_to)
        refusal = refusal_for(found.name, found.role, role)
        if refusal:
            raise PageForbidden(found, refusal)
        return found

    caller.__name__ = f"require_page_{role}"  # tests/test_roles.py reads the role a route needs from this
    return caller


PageReader = Annotated[Caller, Depends(page_require("reader"))]
PageIntake = Annotated[Caller, Depends(page_require("intake"))]
PageTrainer = Annotated[Caller, Depends(page_require("trainer"))]


def signed_in(request: Request) -> Caller | None:
    token = request.cookies.get(SESSION_COOKIE)
    record = request.app.state.service.keys.verify(token) if token else None
    return Caller(record.name, record.role) if record else None


def safe_next(target: str | None) -> str:
    """Only a path on this site: `next` must not send a signed-in analyst elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return HOME
    return target


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse(HOME, status_code=307)


@router.get("/ui/sign-in")
def sign_in_form(request: Request, next: str | None = None) -> Response:  # noqa: A002 - the URL's word
    return _sign_in_page(request, safe_next(next))


@router.post("/ui/sign-in")
def sign_in(request: Request, key: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "") -> Response:  # noqa: A002
    target = safe_next(next)
    record = request.app.state.service.keys.verify(key.strip()) if key.strip() else None
    if record is None:
        return _sign_in_page(request, target, error="That key is unknown or revoked.", status_code=401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, key.strip(), httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/",
    )
    return response


@router.post("/ui/sign-out")
def sign_out() -> RedirectResponse:
    response = RedirectResponse("/ui/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _sign_in_page(request: Request, target: str, *, error: str = "", status_code: int = 200) -> Response:
    keys = request.app.state.service.keys
    hint = "" if keys.any_keys() else f"This service has no keys yet: create the first on the server with `{FIRST_KEY_HINT}`."
    return render(request, "sign_in.html", None, status_code=status_code, next=target, error=error, hint=hint,
                  title="Sign in")


def sign_in_redirect(exc: SignInNeeded) -> RedirectResponse:
    return RedirectResponse(f"/ui/sign-in?next={quote(exc.back_to, safe='')}", status_code=303)
