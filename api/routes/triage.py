from dataclasses import asdict

from fastapi import APIRouter, HTTPException

from api.auth import AUTH_ERRORS, READ_ERRORS, Reader, Trainer
from api.dependencies import QueueQuery, Service
from api.routes.errors import INVALID_OR_UNAVAILABLE, NOT_FOUND
from api.schemas import ErrorOut, ReviewIn, ReviewOut, SearchOut

router = APIRouter(tags=["triage"])


@router.get("/triage", response_model=SearchOut, responses={**INVALID_OR_UNAVAILABLE, **READ_ERRORS})
def triage_queue(service: Service, query: QueueQuery, _: Reader) -> dict:
    """Unreviewed reports, highest priority first; the search filters apply."""
    return asdict(service.index.search(query))


@router.post(
    "/documents/{doc_id}/review",
    response_model=ReviewOut,
    responses={
        **NOT_FOUND, 409: {"model": ErrorOut, "description": "Someone else reviewed it first."}, **INVALID_OR_UNAVAILABLE, **AUTH_ERRORS,
    },
)
def review(doc_id: str, service: Service, caller: Trainer, body: ReviewIn | None = None) -> ReviewOut:
    """Mark a report reviewed: it leaves the triage queue. The reviewer recorded is the API key's
    name; a `reviewer` in the body (kept for older clients) must be that name. An optional `note`
    is kept with the review (a report reviewed already keeps its first review and note). 409 if
    someone else reviewed it first. Role: trainer."""
    if body is not None and body.reviewer is not None and body.reviewer != caller.name:
        raise HTTPException(
            422, f"body.reviewer: {body.reviewer!r} is not this API key's name {caller.name!r}; the reviewer recorded is the key's "
            "name, so leave reviewer out",
        )
    outcome = service.review(doc_id, caller.name, note=body.note if body is not None else None)
    if outcome is None:
        raise HTTPException(404, f"no document with id {doc_id!r}")
    review = outcome.review
    if not outcome.newly_reviewed and review.reviewed_by != caller.name:
        raise HTTPException(409, f"already reviewed by {review.reviewed_by} at {review.reviewed_at.isoformat()}")
    return ReviewOut(id=doc_id, reviewed_by=review.reviewed_by, reviewed_at=review.reviewed_at, note=review.note)
