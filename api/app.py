"""FastAPI application: routes stay thin; kunlun_nlp does the work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import date
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.schemas import (
    BulkIngestOut,
    BulkIn,
    DocumentIn,
    DocumentOut,
    ErrorOut,
    HealthOut,
    ReviewIn,
    ReviewOut,
    SearchOut,
    SemanticOut,
    SimilarOut,
    TagOut,
)
from kunlun_nlp.config import Settings
from kunlun_nlp.document import Document, TaggedDocument
from kunlun_nlp.index import IndexUnavailableError
from kunlun_nlp.records import tag_summary
from kunlun_nlp.search.parse import parse_search_params
from kunlun_nlp.search.request import MAX_PAGE_SIZE, MAX_QUERY_CHARS, InvalidSearchRequest, SearchRequest
from kunlun_nlp.service import KunlunService

_ERRORS = {
    422: {"model": ErrorOut, "description": "Invalid input; the message says what is wrong."},
    503: {"model": ErrorOut, "description": "The index is unreachable; nothing was stored."},
}


def create_app(service: KunlunService | None = None) -> FastAPI:
    service = service or KunlunService(Settings.from_env())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        service.close()

    app = FastAPI(
        title="Kunlun NLP",
        version="0.1.0",
        description="Tag, index and search enforcement reports on food, medicine, environment and IP crime.",
        lifespan=lifespan,
    )
    app.state.service = service

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": _describe_validation_errors(exc)})

    @app.exception_handler(InvalidSearchRequest)
    async def invalid_search(_: Request, exc: InvalidSearchRequest) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": str(exc)})

    @app.exception_handler(IndexUnavailableError)
    async def index_unavailable(_: Request, exc: IndexUnavailableError) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": f"index unavailable, nothing was stored: {exc}"})

    _add_routes(app)
    return app


def get_service(request: Request) -> KunlunService:
    return request.app.state.service


Service = Annotated[KunlunService, Depends(get_service)]


def _add_routes(app: FastAPI) -> None:
    @app.get("/health", response_model=HealthOut, tags=["service"])
    def health(service: Service) -> HealthOut:
        state = service.index.health()
        return HealthOut(status="ok" if state.reachable else "unavailable", **asdict(state))

    @app.post("/tag", response_model=TagOut, responses=_ERRORS, tags=["tagging"])
    def tag(document: DocumentIn, service: Service) -> dict:
        return tag_summary(service.tag([_to_document(document)])[0])

    @app.post("/documents", response_model=DocumentOut, status_code=201, responses=_ERRORS, tags=["documents"])
    def ingest(document: DocumentIn, service: Service) -> DocumentOut:
        return _document_out(service.ingest([_to_document(document)])[0])

    @app.post("/documents/bulk", response_model=BulkIngestOut, status_code=201, responses=_ERRORS, tags=["documents"])
    def ingest_bulk(batch: BulkIn, service: Service) -> BulkIngestOut:
        tagged = service.ingest([_to_document(d) for d in batch.documents])
        ids = list(dict.fromkeys(t.id for t in tagged))
        return BulkIngestOut(indexed=len(ids), ids=ids)

    @app.get("/documents/{doc_id}", response_model=DocumentOut, responses={404: {"model": ErrorOut}}, tags=["documents"])
    def get_document(doc_id: str, service: Service) -> DocumentOut:
        tagged = service.index.get(doc_id)
        if tagged is None:
            raise HTTPException(404, f"no document with id {doc_id!r}")
        return _document_out(tagged)

    @app.get(
        "/documents/{doc_id}/similar",
        response_model=SimilarOut,
        responses={404: {"model": ErrorOut}},
        tags=["search"],
    )
    def similar(
        doc_id: str, service: Service, size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 10
    ) -> SimilarOut:
        hits = service.index.similar(doc_id, size=size)
        if hits is None:
            raise HTTPException(404, f"no document with id {doc_id!r}")
        return SimilarOut(id=doc_id, hits=[asdict(h) for h in hits])

    @app.get("/search/semantic", response_model=SemanticOut, responses=_ERRORS, tags=["search"])
    def semantic_search(
        service: Service,
        q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS, description="A description of what to find.")],
        size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 10,
    ) -> SemanticOut:
        if not q.strip():
            raise InvalidSearchRequest("q is empty")
        return SemanticOut(q=q, hits=[asdict(h) for h in service.semantic_search(q, size=size)])

    @app.get("/search", response_model=SearchOut, responses=_ERRORS, tags=["search"])
    def search(service: Service, query: Annotated[SearchRequest, Depends(parse_search_request)]) -> dict:
        return asdict(service.index.search(query))

    @app.get("/triage", response_model=SearchOut, responses=_ERRORS, tags=["triage"])
    def triage_queue(service: Service, query: Annotated[SearchRequest, Depends(parse_queue_request)]) -> dict:
        """Unreviewed reports, highest priority first; the search filters apply."""
        return asdict(service.index.search(query))

    @app.post(
        "/documents/{doc_id}/review",
        response_model=ReviewOut,
        responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}, **_ERRORS},
        tags=["triage"],
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


def _documented_filters(
    reliability: Annotated[list[str], Query(description="Any of these source grades A-F.")] = [],  # noqa: B006
    credibility: Annotated[list[int], Query(description="Any of these information grades 1-6.")] = [],  # noqa: B006
    q: Annotated[str, Query(description="Words and \"quoted phrases\"; all must match.")] = "",
    domain: Annotated[list[str], Query(description="Any of these domains.")] = [],  # noqa: B006
    entity: Annotated[list[str], Query(description="LABEL:value, e.g. ORG:Ministry of Public Security; all must match.")] = [],  # noqa: B006,E501
    source: Annotated[list[str], Query()] = [],  # noqa: B006
    published_from: date | None = None,
    published_to: date | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 10,
    facet_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 10,
) -> None:
    """The filters /search and /triage share, declared for the OpenAPI docs and FastAPI's type
    checks only: the request itself is parsed from the raw query by parse_search_params."""


def parse_search_request(
    request: Request,
    _: Annotated[None, Depends(_documented_filters)],
    reviewed: bool | None = None,
    sort: Literal["relevance", "date", "priority"] = "relevance",
) -> SearchRequest:
    # reviewed and sort, like _documented_filters, are declared for the docs; the raw query counts
    return parse_search_params(_query_lists(request))


def parse_queue_request(request: Request, _: Annotated[None, Depends(_documented_filters)]) -> SearchRequest:
    return parse_search_params(_query_lists(request), queue=True)


def _query_lists(request: Request) -> dict[str, list[str]]:
    """Every query parameter with all its values (a repeated filter is given once per value)."""
    return {name: request.query_params.getlist(name) for name in request.query_params.keys()}


def _to_document(document: DocumentIn) -> Document:
    return Document.create(
        document.text,
        title=document.title,
        id=document.id,
        source=document.source,
        published=document.published,
        language=document.language,
        grade=f"{document.source_reliability}{document.information_credibility}"
        if document.source_reliability and document.information_credibility
        else _partial_grade(document),
    )


def _partial_grade(document: DocumentIn) -> str | None:
    """One half given: the other half is 'cannot be judged' (F or 6)."""
    if document.source_reliability:
        return f"{document.source_reliability}6"
    if document.information_credibility:
        return f"F{document.information_credibility}"
    return None


def _document_out(tagged: TaggedDocument) -> DocumentOut:
    doc = tagged.document
    return DocumentOut(
        **tag_summary(tagged),
        title=doc.title,
        text=doc.text,
        source=doc.source,
        published=doc.published,
        language=doc.language,
        ingested_at=doc.ingested_at,
        domain_scores={s.label: s.score for s in tagged.domain_scores},
        model=tagged.model,
        grade=doc.grade,
        review=tagged.review,
    )


def _describe_validation_errors(exc: RequestValidationError) -> str:
    """One readable line per problem, e.g. "body.text: String should have at most 200000 characters"."""
    messages = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()))
        message = error.get("msg", "invalid")
        if error.get("type") == "json_invalid":
            message = f"invalid JSON: {error.get('ctx', {}).get('error', message)}"
        messages.append(f"{where}: {message}" if where else message)
    return "; ".join(messages)
