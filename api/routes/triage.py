from dataclasses import asdict

from fastapi import APIRouter, HTTPException

from api.dependencies import QueueQuery, Service
from api.routes.errors import INVALID_OR_UNAVAILABLE, NOT_FOUND
from api.schemas import ErrorOut, ReviewIn, ReviewOut, SearchOut

router = APIRouter(tags=["triage"])


@router.get("/triage", response_model=SearchOut, responses=INVALID_OR_UNAVAILABLE)
def triage_queue(service: Service, query: QueueQuery) -> dict:
    """Unreviewed reports, highest priority first; the search filters apply."""
    return asdict(service.index.search(query))


@router.post(
    "/documents/{doc_id}/review",
    response_model=ReviewOut,
    responses={**NOT_FOUND, 409: {"model": ErrorOut, "description": "Someone else reviewed it first."}, **INVALID_OR_UNAVAILABLE},
)
def review(doc_id: str, body: ReviewIn, service: Service) -> ReviewOut:
    """Mark a report reviewed: it leaves the triage queue. 409 if someone reviewed it first."""
    outcome = service.review(doc_id, body.reviewer)
    if outcome is None:
        raise HTTPException(404, f"no document with id {doc_id!r}")
    review = outcome.review
    if not outcome.newly_reviewed and review.reviewed_by != body.reviewer:
        raise HTTPException(409, f"already reviewed by {review.reviewed_by} at {review.reviewed_at.isoformat()}")
    return ReviewOut(id=doc_id, reviewed_by=review.reviewed_by, reviewed_at=review.reviewed_at)
