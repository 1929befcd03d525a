from fastapi import APIRouter, HTTPException

from api.auth import READ_ERRORS, Reader
from api.dependencies import Service
from api.schemas import ErrorOut, JobOut

router = APIRouter(prefix="/jobs", tags=["documents"])


@router.get("/{job_id}", name="job_status", response_model=JobOut, responses={404: {"model": ErrorOut}, **READ_ERRORS})
def job_status(job_id: str, service: Service, _: Reader) -> JobOut:
    """Counts of an ingest job: queued, done, failed with reasons; rate and ETA."""
    status = service.queue.status(job_id)
    if status is None:
        raise HTTPException(404, f"no job {job_id!r}")
    return JobOut(
        job=status.job_id, state=status.state, documents=status.documents, queued=status.queued, done=status.done,
        failed=status.failed, failures=status.failures, rate=status.rate, eta_seconds=status.eta_seconds,
        not_tagged=status.not_tagged, submitted_by=status.submitted_by,
    )
