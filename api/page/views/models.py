"""The models view: every model version with its figures on the fixed evaluation set (macro-F1, F1
per domain and per entity label), the active one marked, the gate's decisions, and the latest
training run's progress (models.js follows it while it runs). Trainers get the buttons: start a
feedback run, promote a version, roll back; they go through the JSON API, which may refuse (409)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.page.render import DOMAIN_NAMES, render
from api.page.session import PageReader
from kunlun_nlp.model_registry import ModelRegistry, VersionInfo, active_version_name
from training.jobs import latest_job

router = APIRouter(include_in_schema=False)
PATH = "/ui/models"
DECISIONS = 10  # the latest gate decisions shown


@dataclass(frozen=True)
class Figure:
    key: str  # "macro_f1", "domain:FOOD", "entity:ORG"
    header: str
    group: str  # "", "Domains", "Entities"


@router.get(PATH)
def models_page(request: Request, caller: PageReader) -> Response:
    service = request.app.state.service
    registry = ModelRegistry(service.settings)
    versions = list(reversed(registry.versions()))  # newest first
    columns = figure_columns(versions)
    values = {v.version: figure_values(v) for v in versions}
    best = {c.key: max((values[v.version].get(c.key) for v in versions if values[v.version].get(c.key) is not None), default=None)
            for c in columns}
    return render(
        request, "models.html", caller, title="Models", versions=versions, columns=columns, values=values, best=best,
        active=active_version_name(service.settings), pointer=registry.active(), tagging_with=service.model_version,
        decisions=list(reversed(registry.decisions()))[:DECISIONS], training=latest_job(service.settings),
        has_history=bool(registry.history()),
    )


def figure_columns(versions: list[VersionInfo]) -> list[Figure]:
    """Macro-F1, then each domain's and each entity label's F1 that any version was measured on."""
    domains = dict.fromkeys(k for v in versions for k in (v.figures.get("domains_f1") or {}))
    entities = dict.fromkeys(k for v in versions for k in (v.figures.get("entities_f1") or {}))
    return [
        Figure("macro_f1", "Macro-F1", ""),
        *(Figure(f"domain:{d}", DOMAIN_NAMES.get(d, d.replace("_", " ").title()), "Domains") for d in domains),
        *(Figure(f"entity:{e}", e, "Entities") for e in entities),
    ]


def figure_values(version: VersionInfo) -> dict[str, float]:
    figures: dict[str, Any] = version.figures
    out = {"macro_f1": figures.get("macro_f1", figures.get("dev_macro_f1"))}
    out |= {f"domain:{k}": v for k, v in (figures.get("domains_f1") or {}).items()}
    out |= {f"entity:{k}": v for k, v in (figures.get("entities_f1") or {}).items()}
    return {k: float(v) for k, v in out.items() if v is not None}
