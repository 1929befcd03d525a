"""One place that turns a template and its data into a page: the shared context every view gets
(who is signed in, whether they may edit, the active model), and the filters templates use."""

from __future__ import annotations

from datetime import date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from api.auth import ADMITS, Caller

TEMPLATES = Jinja2Templates(directory=Path(__file__).with_name("templates"))
ENTITY_NAMES = {
    "ORG": "firm or organisation", "LOC": "place", "PERSON": "person", "PRODUCT": "product", "SUBSTANCE": "substance",
    "QUANTITY": "quantity", "MONEY": "money", "DATE": "date", "LAW": "law",
}
DOMAIN_NAMES = {"FOOD": "Food", "MEDICINE": "Medicine", "ENVIRONMENT": "Environment", "IP": "Intellectual property",
                "INTELLECTUAL_PROPERTY": "Intellectual property"}  # the vocabulary's label (Domain)


def render(request: Request, template: str, caller: Caller | None, *, status_code: int = 200, **context: Any) -> Response:
    service = request.app.state.service
    shared = {
        "caller": caller,
        "can_train": caller is not None and caller.role in ADMITS["trainer"],
        "can_ingest": caller is not None and caller.role in ADMITS["intake"],
        "app_version": version("kunlun-nlp"),
        "model_version": service.model_version,
        "path": request.url.path,
    }
    return TEMPLATES.TemplateResponse(request, template, {**shared, **context}, status_code=status_code)


def query_string(params: dict[str, Any] | list[tuple[str, Any]]) -> str:
    """A URL query from (name, value) pairs, repeated names kept, empty values left out."""
    pairs = params.items() if isinstance(params, dict) else params
    return urlencode([(k, v) for k, v in pairs if v not in (None, "")], doseq=True)


def _day(value: date | datetime | None) -> str:
    return value.strftime("%-d %b %Y") if value else ""


def _moment(value: datetime | None) -> str:
    return value.strftime("%-d %b %Y %H:%M") if value else ""


TEMPLATES.env.filters["day"] = _day
TEMPLATES.env.filters["moment"] = _moment
TEMPLATES.env.filters["percent"] = lambda value: f"{round(100 * value)}%"
TEMPLATES.env.globals["ENTITY_NAMES"] = ENTITY_NAMES
TEMPLATES.env.globals["DOMAIN_NAMES"] = DOMAIN_NAMES
TEMPLATES.env.globals["query_string"] = query_string


def unavailable(request: Request, caller: Caller | None, what: str) -> Response:
    """The page a view shows while the index does not answer (its cause stays in the service's log)."""
    return render(request, "message.html", caller, status_code=503, title=f"{what} unavailable",
                  message="The index does not answer just now; try again in a minute.")
