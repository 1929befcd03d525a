from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from api.auth import READ_ERRORS, Reader
from api.dependencies import SearchQuery, Service
from api.routes.errors import INVALID_OR_UNAVAILABLE, NOT_FOUND
from api.schemas import SearchOut, SemanticOut, SimilarOut
from kunlun_nlp.search.request import MAX_PAGE_SIZE, MAX_QUERY_CHARS, InvalidSearchRequest

router = APIRouter(tags=["search"])
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]


@router.get("/search", response_model=SearchOut, responses={**INVALID_OR_UNAVAILABLE, **READ_ERRORS})
def search(service: Service, query: SearchQuery, _: Reader) -> dict:
    return asdict(service.index.search(query))


@router.get("/search/semantic", response_model=SemanticOut, responses={**INVALID_OR_UNAVAILABLE, **READ_ERRORS})
def semantic_search(
    service: Service,
    _: Reader,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS, description="A description of what to find.")],
    size: PageSize = 10,
) -> SemanticOut:
    """Documents closest in meaning to `q`, by embedding: no shared words needed."""
    if not q.strip():
        raise InvalidSearchRequest("q is empty")
    return SemanticOut(q=q, hits=[asdict(h) for h in service.semantic_search(q, size=size)])


@router.get("/documents/{doc_id}/similar", response_model=SimilarOut, responses={**NOT_FOUND, **READ_ERRORS})
def similar(doc_id: str, service: Service, _: Reader, size: PageSize = 10) -> SimilarOut:
    hits = service.index.similar(doc_id, size=size)
    if hits is None:
        raise HTTPException(404, f"no document with id {doc_id!r}")
    return SimilarOut(id=doc_id, hits=[asdict(h) for h in hits])
