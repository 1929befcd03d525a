from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from api.auth import READ_ERRORS, Reader
from api.dependencies import Service
from api.schemas import ErrorOut, JobOut, JobsOut
from kunlun_nlp.queue.jobs import JobStatus

router = APIRouter(prefix="/jobs", tags=["documents"])
MAX_JOBS_LISTED = 100


@router.get("", name="recent_jobs", response_model=JobsOut, responses={**READ_ERRORS})
def recent_jobs(service: Service, _: Reader, limit: Annotated[int, Query(ge=1, le=MAX_JOBS_LISTED)] = 20) -> JobsOut:
    """The latest ingest jobs, newest first, each with its counts and failures."""
    return JobsOut(jobs=[_job_out(status) for status in service.queue.recent(limit)])


@router.get("/{job_id}", name="job_status", response_model=JobOut, responses={404: {"model": ErrorOut}, **READ_ERRORS})
def job_status(job_id: str, service: Service, _: Reader) -> JobOut:
    """Counts of an ingest job: queued, done, failed with reasons; rate and ETA."""
    status = service.queue.status(job_id)
    if status is None:
        raise HTTPException(404, f"no job {job_id!r}")
    return _job_out(status)


def _job_out(status: JobStatus) -> JobOut:
    return JobOut(
        job=status.job_id, state=status.state, documents=status.documents, queued=status.queued, done=status.done,
        failed=status.failed, failures=status.failures, rate=status.rate, eta_seconds=status.eta_seconds,
        not_tagged=status.not_tagged, submitted_by=status.submitted_by, created=datetime.fromtimestamp(status.created, timezone.utc),
    )
