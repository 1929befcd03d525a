"""Who is calling: every route but /health needs an API key (`Authorization: Bearer <key>`) of a
role allowed there. A route declares the role it needs and gets the caller, whose name is what a
write records:

    def correct(..., caller: Annotated[Caller, Depends(require("trainer"))]) -> ...:

or, the same, `caller: Trainer`. Every role may read; intake ingests and tags; trainer corrects,
imports labels, trains, promotes and reviews; admin may do everything and manages the keys.
No key, an unknown or a revoked one answers 401; a key of another role, 403 naming the role needed.

The analysts' page (api/page) keeps the key in the session cookie `kunlun_key` instead of a header.
A write sent with that cookie must also carry `X-Kunlun-Page: 1`: another site's form or script can
make the browser send the cookie, but not that header, so it cannot act as the analyst.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.schemas import ErrorOut
from kunlun_nlp.keys import FIRST_KEY_HINT, ROLES

SESSION_COOKIE = "kunlun_key"  # the page's sign-in: the key, in a session cookie (HttpOnly, SameSite=Strict)
PAGE_HEADER = "X-Kunlun-Page"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# The roles each route role admits (admin is admitted everywhere).
ADMITS: dict[str, tuple[str, ...]] = {
    "reader": ROLES,
    "intake": ("intake", "admin"),
    "trainer": ("trainer", "admin"),
    "admin": ("admin",),
}

# auto_error=False: a missing key gets this module's 401 (with how to make one), not FastAPI's 403.
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="APIKey",
    description=f"An API key, sent as `Authorization: Bearer <key>`. Created by an admin (`POST /keys`) "
    f"or on the server: `kunlun-nlp keys create --role ROLE --name NAME`; roles: {', '.join(ROLES)}.",
)

AUTH_ERRORS = {
    401: {"model": ErrorOut, "description": "No API key, or one unknown or revoked."},
    403: {"model": ErrorOut, "description": "The API key's role may not do this."},
}
READ_ERRORS = {401: AUTH_ERRORS[401]}  # every role may read: no 403


@dataclass(frozen=True)
class Caller:
    name: str  # the key's name: what writes record as who did them
    role: str


@cache  # one dependency per role, so FastAPI resolves it once a request and overrides can name it
def require(role: str) -> Callable[..., Caller]:
    """A FastAPI dependency admitting keys whose role may act as `role`; it returns the Caller."""
    if role not in ADMITS:
        raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLES)}")

    def caller(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Caller:
        token = credentials.credentials if credentials is not None else request.cookies.get(SESSION_COOKIE)
        keys = request.app.state.service.keys
        record = keys.verify(token) if token else None
        if record is None:
            raise HTTPException(401, _unauthenticated(token is not None, keys.any_keys()), headers={"WWW-Authenticate": "Bearer"})
        if credentials is None and request.method not in SAFE_METHODS and request.headers.get(PAGE_HEADER) != "1":
            raise HTTPException(403, f"a write signed in by the page's cookie must carry the header {PAGE_HEADER}: 1")
        refusal = refusal_for(record.name, record.role, role)
        if refusal:
            raise HTTPException(403, refusal)
        return Caller(record.name, record.role)

    caller.__name__ = f"require_{role}"
    return caller


def refusal_for(name: str, role: str, needed: str) -> str | None:
    """Why the key `name` of `role` may not act as `needed`, or None when it may."""
    admitted = ADMITS[needed]
    if role in admitted:
        return None
    return f"this needs an API key with the role {' or '.join(admitted)}; the key {name!r} has the role {role}"


def _unauthenticated(key_given: bool, any_keys: bool) -> str:
    if not any_keys:
        return ("this service has no API keys yet: create the first on the server with "
                f"`{FIRST_KEY_HINT}`, then send it as `Authorization: Bearer <key>`")
    if key_given:
        return "the API key is unknown or revoked"
    return "an API key is needed: send `Authorization: Bearer <key>`"


Reader = Annotated[Caller, Depends(require("reader"))]
Intake = Annotated[Caller, Depends(require("intake"))]
Trainer = Annotated[Caller, Depends(require("trainer"))]
Admin = Annotated[Caller, Depends(require("admin"))]
