"""Model versions: which exist, which is active, promotion through the gate, and rollback."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.auth import AUTH_ERRORS, READ_ERRORS, Reader, Trainer
from api.dependencies import Service
from api.schemas import ErrorOut
from kunlun_nlp.model_registry import ModelRegistry, RegistryError, active_version_name

log = logging.getLogger("kunlun_nlp.api")
router = APIRouter(prefix="/models", tags=["models"])

NO_VERSION = {404: {"model": ErrorOut, "description": "No such model version."}}
REFUSED = {409: {"description": "The gate refused the version (the decision says why, with the figures), or it is active already."}}


class VersionOut(BaseModel):
    version: str
    shipped: bool = Field(description="Shipped with the package (git's models/); else trained here, in the data folder.")
    created: str | None
    active: bool = Field(description="The version the service tags with.")
    continued_from: str | None = Field(description="The version a feedback round started from; null for the full recipe.")
    figures: dict[str, Any] = Field(description="On the fixed evaluation set when measured (macro_f1, domains_f1, entities_f1), else the dev split's.")
    decision: dict[str, Any] | None = Field(description="The gate's decision on it, for a version trained here.")


class ModelsOut(BaseModel):
    active: str
    since: str | None = None
    by: str | None = None
    reason: str | None = None
    versions: list[VersionOut]


class PromoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    force: bool = Field(False, description="Promote even if the gate refuses; the decision records it as forced.")
    reason: str = Field("", max_length=1_000)


class RollbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str | None = Field(None, description="The version to make active again; default: the one active before the current one was promoted.")
    reason: str = Field("", max_length=1_000)


class ActiveOut(BaseModel):
    active: str
    since: str
    by: str
    reason: str
    decision: dict[str, Any] | None = Field(None, description="The gate's decision (promotion only).")
    tagging_with: str | None = Field(None, description="The version this API process tags with now.")
    retag: dict[str, Any] = Field(description="The re-tag of the index with the new active version: its training job, or why none started.")


def _models(service) -> ModelsOut:
    registry = ModelRegistry(service.settings)
    pointer = registry.active()
    return ModelsOut(
        active=active_version_name(service.settings), since=pointer.since if pointer else None,
        by=pointer.by if pointer else None, reason=pointer.reason if pointer else None,
        versions=[VersionOut(**{k: v for k, v in info.to_json().items() if k in VersionOut.model_fields}) for info in registry.versions()],
    )


@router.get("", response_model=ModelsOut, responses=READ_ERRORS)
def list_models(service: Service, _: Reader) -> ModelsOut:
    """Every model version, shipped and trained here, oldest first, with its figures; which is active."""
    return _models(service)


@router.post("/{version}/promote", response_model=ActiveOut, responses={**NO_VERSION, **REFUSED, **AUTH_ERRORS})
def promote(version: str, body: PromoteIn, service: Service, caller: Trainer):
    """Measure the version against the active one on the fixed evaluation set (figures cached from
    its training round are reused) and make it active if macro-F1 is not lower and no domain or
    entity label drops by more than 0.03, or with `force`. The decision is recorded either way;
    refused, 409 with it. Promoted, the API tags with it at once and the index is re-tagged in the
    background. Role: trainer."""
    from training.gate import judge

    registry = ModelRegistry(service.settings)
    try:
        registry.path_of(version)
    except RegistryError as exc:
        raise HTTPException(404, str(exc)) from exc
    try:
        decision = judge(service.settings, version, force=body.force, by=caller.name, reason=body.reason, log=log.info)
    except ValueError as exc:  # the active version already
        raise HTTPException(409, str(exc)) from exc
    if not decision.promote:
        return JSONResponse(status_code=409, content={"detail": decision.summary(), "decision": decision.to_record()})
    return _after_change(service, caller.name, decision.to_record())


@router.post("/rollback", response_model=ActiveOut, responses={**NO_VERSION, 409: {"model": ErrorOut, "description": "Nothing to roll back to."}, **AUTH_ERRORS})
def rollback(body: RollbackIn, service: Service, caller: Trainer) -> ActiveOut:
    """Make an earlier version active again (default: the one active before the current one was
    promoted), without the gate. The API tags with it at once; the index is re-tagged in the
    background. Role: trainer."""
    registry = ModelRegistry(service.settings)
    if body.version is not None:
        try:
            registry.path_of(body.version)
        except RegistryError as exc:
            raise HTTPException(404, str(exc)) from exc
    try:
        registry.rollback(body.version, by=caller.name, reason=body.reason)
    except RegistryError as exc:
        raise HTTPException(409, str(exc)) from exc
    return _after_change(service, caller.name, None)


def _after_change(service, by: str, decision: dict[str, Any] | None) -> ActiveOut:
    """Tag with the new active version in this process now, and re-tag the index in the background."""
    from training.jobs import TrainingBusyError, start_job

    pointer = ModelRegistry(service.settings).active()
    assert pointer is not None
    tagging_with = None
    try:
        tagging_with = service.switch_model()
    except Exception:  # noqa: BLE001 - the promotion stands; the service keeps its model and says so
        log.exception("the new active version %s did not load here", pointer.version)
    try:
        job = start_job(service.settings, "retag", version=pointer.version, by=by)
        retag = {"started": True, "job": job["job"]}
    except TrainingBusyError as exc:
        retag = {"started": False, "reason": f"{exc}; a training job that promotes re-tags itself, else `kunlun-nlp retag`"}
    return ActiveOut(active=pointer.version, since=pointer.since, by=pointer.by, reason=pointer.reason, decision=decision,
                     tagging_with=tagging_with, retag=retag)
