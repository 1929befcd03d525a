"""The trends view: for the same filters as search (the URL holds them), documents per domain over
time by week or month, the top firms, places and products, and the places on a map and in a table.
Everything comes from one faceted search of size 1; the charts are drawn here, on the server
(api.page.charts), each with a data table for those who would rather read numbers."""

from __future__ import annotations

from dataclasses import dataclass, replace

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.page.charts import Bar, Column, Dot, Series, bars, dot_map, stacked_columns
from api.page.render import DOMAIN_NAMES, render, unavailable
from api.page.session import PageReader
from api.page.state import PageState, bucket_label, next_bucket
from kunlun_nlp.index import IndexUnavailableError
from kunlun_nlp.normalize import entity_details
from kunlun_nlp.places import settled_cells
from kunlun_nlp.search.parse import parse_search_params
from kunlun_nlp.search.request import INTERVALS, InvalidSearchRequest
from kunlun_nlp.search.results import DateBucket, FacetValue
from kunlun_nlp.vocabulary import DOMAIN_LABELS

router = APIRouter(include_in_schema=False)
PATH = "/ui/trends"
TOP = 10  # firms and products charted
PLACES = 30  # places mapped and listed
NO_DOMAIN = Series("NONE", "None of the four")
MAX_COLUMNS = 260  # five years of weeks: more columns than this are thinner than a pixel
# Parameters of a result page, not of the set of reports: trends ignores them, and links drop them.
_PAGE_PARAMS = ("page", "size", "sort", "facets", "facet_size")
_IN_THE_FORM = ("q", "domain", "published_from", "published_to", "interval")  # the other filters show as chips


@dataclass(frozen=True)
class Place:
    name: str
    count: int
    where: str  # "Sichuan, China"; "" for a country or a name the gazetteer does not know
    lat: float | None
    lon: float | None
    search: str  # the search page for these filters and this place


@router.get(PATH)
def trends_page(request: Request, caller: PageReader) -> Response:
    state = PageState.of(request, ignore=_PAGE_PARAMS)
    context = {"state": state, "filters": state.chips(besides=_IN_THE_FORM), "interval": state.value("interval") or "month",
               "intervals": INTERVALS, "domains": DOMAIN_LABELS, "max_columns": MAX_COLUMNS, "search_link": _search(state).url(),
               "bucket_label": bucket_label}
    try:
        search = replace(parse_search_params(state.lists()), facets=True, size=1, facet_size=PLACES)
    except InvalidSearchRequest as exc:
        return render(request, "trends.html", caller, title="Trends", **context, problem=str(exc), result=None)
    try:
        result = request.app.state.service.index.search(search)
    except IndexUnavailableError:
        return unavailable(request, caller, "Trends")
    facets = result.facets
    buckets = filled(facets.published, search.interval)
    cut = max(0, len(buckets) - MAX_COLUMNS)
    values = [column_values(b) for b in buckets]
    series = [Series(d, DOMAIN_NAMES.get(d, d.title())) for d in DOMAIN_LABELS if any(v.get(d) for v in values)]
    series += [NO_DOMAIN] if any(v.get(NO_DOMAIN.key) for v in values) else []
    places = [_place(v, state) for v in facets.entities.get("LOC", [])]
    return render(
        request, "trends.html", caller, title="Trends", **context, problem="", result=result, search=search,
        rows=[(b, v) for b, v in zip(buckets, values) if b.count], cut=cut, series=series, places=places,
        firms=facets.entities.get("ORG", [])[:TOP], products=facets.entities.get("PRODUCT", [])[:TOP],
        top_places=facets.entities.get("LOC", [])[:TOP],
        timeline=_timeline(buckets[cut:], series, search.interval),
        firm_chart=_bars(facets.entities.get("ORG", [])[:TOP], "ORG", "firms", "Top firms and organisations", state),
        product_chart=_bars(facets.entities.get("PRODUCT", [])[:TOP], "PRODUCT", "products", "Top products", state),
        place_chart=_bars(facets.entities.get("LOC", [])[:TOP], "LOC", "places", "Top places", state),
        map=_map(places),
    )


def filled(buckets: list[DateBucket], interval: str) -> list[DateBucket]:
    """The buckets from the first to the last with the empty ones between them put in (count 0),
    so a gap in time shows as a gap in the chart."""
    if not buckets:
        return []
    found = {b.start: b for b in buckets}
    out, start = [], buckets[0].start
    while start <= buckets[-1].start:
        out.append(found.get(start) or DateBucket(start, 0, {}))
        start = next_bucket(start, interval)
    return out


def column_values(bucket: DateBucket) -> dict[str, int]:
    """A bucket's reports per domain, and as NO_DOMAIN those in none of the four: its count less its
    domain counts, when that is above 0. Exact unless a report of two domains shares the bucket
    with one of none (then a lower bound); a column's height is then its count of reports."""
    values = dict(bucket.domains)
    rest = bucket.count - sum(values.values())
    return values | {NO_DOMAIN.key: rest} if rest > 0 else values


def _timeline(buckets: list[DateBucket], series: list[Series], interval: str):
    if not buckets:
        return None
    columns = [Column(label=bucket_label(b.start, interval, short=True), title=bucket_label(b.start, interval),
                      values=column_values(b), total=b.count) for b in buckets]
    first, last = bucket_label(buckets[0].start, interval), bucket_label(buckets[-1].start, interval)
    busiest = max(buckets, key=lambda b: b.count)
    return stacked_columns(
        columns, series, chart_id="timeline", title=f"Reports per domain by {interval}", width=1200,
        description=f"Stacked columns, one per {interval} from {first} to {last}, each split by domain; the busiest is "
        f"{bucket_label(busiest.start, interval)} with {busiest.count} reports. The table below lists every {interval}.",
    )


def _bars(values: list[FacetValue], label: str, what: str, title: str, state: PageState):
    if not values:
        return None
    top = values[0]
    return bars(
        [Bar(v.value, v.count, _search(state).adding("entity", f"{label}:{v.value}")) for v in values],
        chart_id=f"top-{what}", title=title, series=label,
        description=f"Horizontal bars, most reports first: {len(values)} {what}, the first {top.value} with {top.count} reports.",
    )


def _place(value: FacetValue, state: PageState) -> Place:
    """A place facet resolved as the project resolves a LOC entity (kunlun_nlp.places)."""
    found = entity_details("LOC", value.value) or {}
    where = ", ".join(dict.fromkeys(p for p in (found.get("admin1"), found.get("country")) if p and p != value.value))
    return Place(value.value, value.count, where, found.get("lat"), found.get("lon"),
                 _search(state).adding("entity", f"LOC:{value.value}"))


def _map(places: list[Place]):
    dots = [Dot(p.name, p.lat, p.lon, p.count, p.search, p.where) for p in places if p.lat is not None and p.lon is not None]
    if not dots:
        return None
    return dot_map(
        dots, chart_id="place-map", title="Where the reports are", land=settled_cells,
        description=f"{len(dots)} places as dots on a latitude-longitude grid over the settled land (shaded), larger "
        "for more reports; the table beside it lists every place with its count.",
    )


def _search(state: PageState) -> PageState:
    """The search page for the same reports (the interval is the trends page's own)."""
    return state.elsewhere("/ui/search", dropping=("interval",))
