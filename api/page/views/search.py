"""The search view: one query box, facets whose links add or remove a filter, results. The URL
holds the whole state (query, filters, sort, page), so every control is a plain link or a GET
form, the back button works, and a search is a bookmark. Odd input never gives an error page: the
request parser's message is shown above an empty result."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.page.render import query_string, render, unavailable
from api.page.session import PageReader
from api.page.state import PAGING, PageState, bucket_end, bucket_label, buckets_between, documents_of, last_page
from kunlun_nlp.document import TaggedDocument
from kunlun_nlp.index import IndexUnavailableError
from kunlun_nlp.normalize import entity_key
from kunlun_nlp.search.parse import parse_search_params
from kunlun_nlp.search.request import FACET_ENTITY_LABELS, SORTS, InvalidSearchRequest, SearchRequest
from kunlun_nlp.search.results import SearchResult

router = APIRouter(include_in_schema=False)
PATH = "/ui/search"
# Not part of what is exported: export streams every match, whatever page is shown.
_NOT_EXPORTED = ("page", "size", "interval", "facets")
TOP_ENTITY_LABELS = ("ORG", "LOC", "PRODUCT", "PERSON", "SUBSTANCE")
TOP_ENTITIES = 6  # per hit
# The entity facets the sidebar shows, in this order, with their headings.
FACET_CAPTIONS = {"ORG": "Firms and organisations", "LOC": "Places", "PRODUCT": "Products"}
FACET_LABELS = {label: FACET_CAPTIONS.get(label, label) for label in FACET_ENTITY_LABELS}


@dataclass(frozen=True)
class SearchState(PageState):
    """The search URL's state, and what only the search view does with it."""

    def hidden(self) -> list[tuple[str, str]]:
        """The filters a new query keeps (the query box's form carries them as hidden fields)."""
        return [(k, v) for k, v in self.pairs if k not in ("q", *PAGING)]

    def export(self, format: str) -> str:
        return "/export?" + query_string([("format", format), *((k, v) for k, v in self.pairs if k not in _NOT_EXPORTED)])


@dataclass(frozen=True)
class DateBar:
    start: date
    end: date  # the bucket's last day
    count: int
    label: str
    link: str
    active: bool
    slot: int  # weeks or months since the first bar
    slots: int  # weeks or months from the first bar to the last


@router.get(PATH)
def search_page(request: Request, caller: PageReader) -> Response:
    state = SearchState.of(request)
    context = {"state": state, "sorts": SORTS, "facet_labels": FACET_LABELS}
    try:
        search = replace(parse_search_params(state.lists()), facets=True)
    except InvalidSearchRequest as exc:
        return render(request, "search.html", caller, title="Search", **context, problem=str(exc), result=None)
    service = request.app.state.service
    try:
        result = service.index.search(search)
        tagged = documents_of(service, result.hits)
    except IndexUnavailableError:
        return unavailable(request, caller, "Search")
    return render(
        request, "search.html", caller, title=f"Search: {search.text}" if search.text else "Search",
        **context, problem="", search=search, result=result, top_entities={i: top_entities(t) for i, t in tagged.items()},
        dates=date_bars(result, search, state), last_page=last_page(result.total, search.size),
    )


def top_entities(tagged: TaggedDocument) -> list[tuple[str, str, int]]:
    """(label, name, mentions) of the entities a report names most: what a hit is about at a
    glance. Mentions are counted by the entity's key, as the facets and filters count them
    ("Hazardous Waste" and "hazardous waste" are one), under the first name the report uses."""
    counts: Counter[tuple[str, str]] = Counter()
    names: dict[tuple[str, str], str] = {}
    for entity in tagged.entities:
        if entity.label in TOP_ENTITY_LABELS:
            key = (entity.label, entity_key(entity.normalized or entity.text))
            counts[key] += 1
            names.setdefault(key, entity.normalized or entity.text)
    return [(label, names[(label, key)], n) for (label, key), n in counts.most_common(TOP_ENTITIES)]


def date_bars(result: SearchResult, search: SearchRequest, state: SearchState) -> list[DateBar]:
    """The published histogram as bars on a time axis (empty weeks or months leave a gap), each
    linking to that week or month, or back out of it when it is the filter on."""
    buckets = result.facets.published
    if not buckets:
        return []
    slots = buckets_between(buckets[0].start, buckets[-1].start, search.interval) + 1
    kept = [(k, v) for k, v in state.pairs if k not in ("published_from", "published_to", *PAGING)]
    bars = []
    for bucket in buckets:
        end = bucket_end(bucket.start, search.interval)
        active = search.published_from == bucket.start and search.published_to == end
        link = state.url(kept if active else [*kept, ("published_from", bucket.start.isoformat()), ("published_to", end.isoformat())])
        label = bucket_label(bucket.start, search.interval)
        slot = buckets_between(buckets[0].start, bucket.start, search.interval)
        bars.append(DateBar(bucket.start, end, bucket.count, label, link, active, slot, slots))
    return bars
