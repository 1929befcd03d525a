from fastapi import APIRouter, HTTPException

from api.auth import AUTH_ERRORS, Intake
from api.convert import to_document
from api.dependencies import Service
from api.routes.errors import INVALID_OR_UNAVAILABLE
from api.schemas import DocumentIn, ErrorOut, TagOut
from kunlun_nlp.limits import MAX_SYNC_TAG_CHARS
from kunlun_nlp.records import tag_summary

router = APIRouter(tags=["tagging"])


@router.post("/tag", response_model=TagOut, responses={**INVALID_OR_UNAVAILABLE, 413: {"model": ErrorOut}, **AUTH_ERRORS})
def tag(document: DocumentIn, service: Service, _: Intake) -> dict:
    """Tag without indexing, in the request: the same shape as `kunlun-nlp tag`. For texts up to
    20,000 characters (MAX_SYNC_TAG_CHARS); a longer one is queued with POST /documents. Role: intake
    (it runs the models, which reading does not)."""
    if len(document.text) > MAX_SYNC_TAG_CHARS:
        raise HTTPException(
            413,
            f"text has {len(document.text):,} characters; /tag answers in the request for up to {MAX_SYNC_TAG_CHARS:,}: "
            "queue it with POST /documents and read its tags at GET /documents/{id}",
        )
    return tag_summary(service.tag([to_document(document)])[0])
