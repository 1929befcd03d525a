"""Training in the background: a feedback round (or the full recipe), one at a time, with progress."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from api.auth import AUTH_ERRORS, READ_ERRORS, Reader, Trainer
from api.dependencies import Service
from api.schemas import ErrorOut
from training.jobs import TrainingBusyError, latest_job, read_job, start_job

router = APIRouter(prefix="/training", tags=["training"])

BUSY = {409: {"model": ErrorOut, "description": "A training job runs already: one at a time."}}
NO_JOB = {404: {"model": ErrorOut, "description": "No such training job."}}


class TrainingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["feedback", "full"] = Field(
        "feedback",
        description="feedback: continue the active version on the human labels plus a replay of its training data "
        "(minutes); full: the full recipe on the corpus and ../shared/data (about half an hour).",
    )
    force: bool = Field(False, description="Promote the new version even if the gate refuses it (the decision says so).")
    replay: int | None = Field(None, ge=0, le=5_000, description="feedback: documents of the active version's training data replayed (default 300).")
    quick: bool = Field(False, description="Tiny models on a few dozen documents, for tests and demos.")


class TrainingJobOut(BaseModel):
    job: str
    mode: str
    state: Literal["queued", "running", "done", "failed"]
    stage: str | None = Field(None, description="preparing, classifier, export, ner, calibrating, evaluating, deciding, retagging")
    epoch: int | None = None
    percent: float = Field(0.0, description="Of the whole job.")
    started: str
    finished: str | None = None
    version: str | None = Field(None, description="The version the job wrote (in the service's models folder).")
    decision: dict[str, Any] | None = Field(None, description="The gate's decision, with the figures of both versions.")
    retag: dict[str, Any] | None = Field(None, description="The re-tag after a promotion: documents, seconds.")
    error: str | None = None
    by: str = ""
    force: bool = False
    seconds: float | None = None
    stage_seconds: dict[str, float] | None = None


def job_out(job: dict[str, Any]) -> TrainingJobOut:
    return TrainingJobOut(**{k: v for k, v in job.items() if k in TrainingJobOut.model_fields})


@router.post("", status_code=202, response_model=TrainingJobOut, responses={**BUSY, **AUTH_ERRORS})
def start_training(body: TrainingIn, service: Service, caller: Trainer) -> TrainingJobOut:
    """Start training in the background: 202 with the job to follow at `GET /training/{job}`; 409
    while another runs. The new version is measured against the active one on the fixed evaluation
    set and promoted only if not worse (unless `force`); after a promotion the index is re-tagged.
    Role: trainer."""
    try:
        job = start_job(service.settings, body.mode, force=body.force, replay=body.replay, quick=body.quick, by=caller.name)
    except TrainingBusyError as exc:
        raise HTTPException(409, str(exc)) from exc
    return job_out(job)


@router.get("", response_model=TrainingJobOut, responses={**NO_JOB, **READ_ERRORS})
def latest_training(service: Service, _: Reader) -> TrainingJobOut:
    """The training job started last, with its progress."""
    job = latest_job(service.settings)
    if job is None:
        raise HTTPException(404, "no training job yet")
    return job_out(job)


@router.get("/{job_id}", response_model=TrainingJobOut, responses={**NO_JOB, **READ_ERRORS})
def training_status(job_id: str, service: Service, _: Reader) -> TrainingJobOut:
    """A training job: state, stage, epoch, percent; when done, the version and the gate's decision."""
    job = read_job(service.settings, job_id)
    if job is None:
        raise HTTPException(404, f"no training job {job_id!r}")
    return job_out(job)
