"""What routes depend on: the service, and search requests parsed from the raw query."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Query, Request

from kunlun_nlp.search.parse import parse_search_params
from kunlun_nlp.search.request import MAX_PAGE_SIZE, QUERY_SYNTAX, Interval, SearchRequest, Sort
from kunlun_nlp.service import KunlunService


def get_service(request: Request) -> KunlunService:
    return request.app.state.service


Service = Annotated[KunlunService, Depends(get_service)]


def _documented_filters(
    reliability: Annotated[list[str], Query(description="Any of these source grades A-F.")] = [],  # noqa: B006
    credibility: Annotated[list[int], Query(description="Any of these information grades 1-6.")] = [],  # noqa: B006
    language: Annotated[list[str], Query(description="Any of these languages, ISO 639-1 codes such as en or zh.")] = [],  # noqa: B006
    q: Annotated[str, Query(description=f"The query text: {QUERY_SYNTAX} Odd input is never an error.")] = "",
    domain: Annotated[list[str], Query(description="Any of these domains.")] = [],  # noqa: B006
    subtype: Annotated[list[str], Query(description="Any of these sub-types, e.g. FOOD.ADULTERATION.")] = [],  # noqa: B006
    entity: Annotated[list[str], Query(description="LABEL:value, e.g. ORG:Ministry of Public Security; all must match.")] = [],  # noqa: B006,E501
    source: Annotated[list[str], Query()] = [],  # noqa: B006
    published_from: date | None = None,
    published_to: date | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 10,
    facet_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 10,
    facets: Annotated[bool, Query(description="Count the facets (domains, sub-types, top entities, sources, languages, reports per week, month or year): off by default, they cost more than the search.")] = False,  # noqa: E501
    interval: Annotated[Interval, Query(description="The buckets of the published facet: weeks from Monday, months or years.")] = "month",
) -> None:
    """The filters /search and /triage share, declared for the OpenAPI docs and FastAPI's type
    checks only: the request itself is parsed from the raw query by parse_search_params."""


def parse_search_request(
    request: Request,
    _: Annotated[None, Depends(_documented_filters)],
    reviewed: bool | None = None,
    sort: Sort = "relevance",
) -> SearchRequest:
    # reviewed and sort, like _documented_filters, are declared for the docs; the raw query counts
    return parse_search_params(_query_lists(request))


def parse_queue_request(request: Request, _: Annotated[None, Depends(_documented_filters)]) -> SearchRequest:
    return parse_search_params(_query_lists(request), queue=True)


def parse_export_request(
    request: Request,
    _: Annotated[None, Depends(_documented_filters)],
    reviewed: bool | None = None,
    sort: Sort = "relevance",
) -> SearchRequest:
    """The /search parameters (page, size and facets are taken and checked, then ignored: every
    match is exported); the route reads `format` itself."""
    return parse_search_params({name: values for name, values in _query_lists(request).items() if name != "format"})


SearchQuery = Annotated[SearchRequest, Depends(parse_search_request)]
QueueQuery = Annotated[SearchRequest, Depends(parse_queue_request)]
ExportQuery = Annotated[SearchRequest, Depends(parse_export_request)]


def _query_lists(request: Request) -> dict[str, list[str]]:
    """Every query parameter with all its values (a repeated filter is given once per value)."""
    return {name: request.query_params.getlist(name) for name in request.query_params.keys()}
