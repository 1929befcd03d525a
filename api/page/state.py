"""What the result views (search, triage, trends) share: the URL's filters as a state whose links
add, remove or change one of them (the URL holds the whole state, so every control is a plain link
and a view is a bookmark), the last page a result reaches, and the stored documents behind a page
of hits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from math import ceil

from fastapi import Request

from api.page.render import DOMAIN_NAMES, query_string
from kunlun_nlp.document import TaggedDocument
from kunlun_nlp.search.request import MAX_RESULT_WINDOW
from kunlun_nlp.search.results import SearchHit

# What a link keeps when it changes the filters: a new filter starts again at page 1.
PAGING = ("page",)
# How a filter on is shown as a chip ("" for an entity: its label and value say it).
FILTER_NAMES = {
    "domain": "Domain", "subtype": "Sub-type", "entity": "", "source": "Source", "language": "Language", "published_from": "From",
    "published_to": "To", "reviewed": "Reviewed", "reliability": "Reliability", "credibility": "Credibility",
}


@dataclass(frozen=True)
class PageState:
    """The (name, value) pairs of a view's URL, and the links that change them."""

    path: str
    pairs: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, request: Request, *, ignore: tuple[str, ...] = ()) -> PageState:
        # a GET form sends its empty fields too ("published_from="): they filter nothing
        return cls(request.url.path, tuple((k, v) for k, v in request.query_params.multi_items() if v.strip() and k not in ignore))

    def value(self, name: str) -> str:
        found = [v for k, v in self.pairs if k == name]
        return found[-1] if found else ""

    def has(self, name: str, value: str) -> bool:
        return (name, value) in self.pairs

    def lists(self) -> dict[str, list[str]]:
        """Each name with all its values, as kunlun_nlp.search.parse.parse_search_params reads them."""
        lists: dict[str, list[str]] = {}
        for name, value in self.pairs:
            lists.setdefault(name, []).append(value)
        return lists

    def url(self, pairs: list[tuple[str, str]] | tuple[tuple[str, str], ...] | None = None) -> str:
        query = query_string(list(self.pairs if pairs is None else pairs))
        return f"{self.path}?{query}" if query else self.path

    def toggle(self, name: str, value: str) -> str:
        """The link that adds this filter, or removes it when it is on (back to page 1)."""
        kept = [(k, v) for k, v in self.pairs if k not in PAGING]
        if (name, value) in kept:
            return self.url([pair for pair in kept if pair != (name, value)])
        return self.url([*kept, (name, value)])

    def adding(self, name: str, value: str) -> str:
        """The link with this filter on, whether or not it is already (back to page 1)."""
        kept = [(k, v) for k, v in self.pairs if k not in PAGING and (k, v) != (name, value)]
        return self.url([*kept, (name, value)])

    def setting(self, **values: str | int | None) -> str:
        """The link with these single-valued parameters replaced (None or "": removed); back to page
        1 unless the page is what changes."""
        drop = set(values) | (set() if "page" in values else set(PAGING))
        kept = [(k, v) for k, v in self.pairs if k not in drop]
        return self.url([*kept, *((k, str(v)) for k, v in values.items() if v not in (None, ""))])

    def chips(self, *, besides: tuple[str, ...] = ()) -> list[tuple[str, str]]:
        """Each filter on but those named in `besides` (which the view shows otherwise), as (what it
        says, the link that removes it)."""
        chips = []
        for name, value in self.pairs:
            if name not in FILTER_NAMES or name in besides:
                continue
            label, shown = FILTER_NAMES[name], DOMAIN_NAMES.get(value, value) if name == "domain" else value
            chips.append((f"{label}: {shown}" if label else value.replace(":", ": ", 1), self.toggle(name, value)))
        return chips

    def elsewhere(self, path: str, *, dropping: tuple[str, ...] = ()) -> PageState:
        """The same filters on another view (the search page for the reports a chart counts)."""
        return PageState(path, tuple((k, v) for k, v in self.pairs if k not in dropping and k not in PAGING))


def last_page(total: int, size: int) -> int:
    """The last page a result of `total` matches reaches, `size` a page (the result window caps it)."""
    return max(1, min(ceil(total / size), MAX_RESULT_WINDOW // size))


def documents_of(service, hits: list[SearchHit]) -> dict[str, TaggedDocument]:
    """The stored documents behind a page of hits (their entities and case cards), by id, read
    at once (one round trip, not one per hit)."""
    return service.index.get_many(hit.id for hit in hits)


def bucket_end(start: date, interval: str) -> date:
    """The last day of the week, month or year starting on `start`."""
    return next_bucket(start, interval) - timedelta(days=1)


def next_bucket(start: date, interval: str) -> date:
    """The start of the week, month or year after the one starting on `start`."""
    if interval == "week":
        return start + timedelta(days=7)
    if interval == "year":
        return start.replace(year=start.year + 1)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def bucket_label(start: date, interval: str, *, short: bool = False) -> str:
    """What a week, month or year is called on a chart: "week of 1 April 2024", "April 2024", "2024"
    (`short`: "1 Apr 2024", "Apr 2024", "2024", for axis ticks)."""
    if interval == "year":
        return str(start.year)
    if interval == "month":
        return start.strftime("%b %Y" if short else "%B %Y")
    return start.strftime("%-d %b %Y") if short else f"week of {start.strftime('%-d %B %Y')}"


def buckets_between(first: date, start: date, interval: str) -> int:
    """How many weeks, months or years `start` is after `first` (both bucket starts)."""
    if interval == "week":
        return (start - first).days // 7
    if interval == "year":
        return start.year - first.year
    return (start.year - first.year) * 12 + start.month - first.month
