"""Raw string parameters (a URL's query, the CLI's options) to a SearchRequest: the one parser the
API and the CLI share, so that the same filters give the same request wherever they come from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from kunlun_nlp.search.request import EntityFilter, InvalidSearchRequest, SearchRequest

SEARCH_PARAMS = frozenset(
    {
        "q", "domain", "subtype", "entity", "source", "published_from", "published_to", "sort", "page", "size", "facet_size",
        "reviewed", "reliability", "credibility", "language", "facets", "interval",
    }
)
# The triage queue is always the unreviewed reports, highest priority first.
QUEUE_PARAMS = SEARCH_PARAMS - {"sort", "reviewed"}

_INTEGER = re.compile(r"[+-]?\d+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# The spellings FastAPI (pydantic) takes for a boolean query parameter.
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


def parse_search_params(params: Mapping[str, str | Sequence[str]], *, queue: bool = False) -> SearchRequest:
    """`params` maps each name to its values (repeatable filters) or to one value. Unknown names
    and bad values raise InvalidSearchRequest with a message for the user; of a single-valued
    parameter given twice, the last counts. `queue` parses the triage queue's parameters."""
    values = {name: [v] if isinstance(v, str) else list(v) for name, v in params.items()}
    known = QUEUE_PARAMS if queue else SEARCH_PARAMS
    unknown = sorted(set(values) - known)
    if unknown:
        raise InvalidSearchRequest(f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")

    def last(name: str) -> str | None:
        given = values.get(name) or []
        return given[-1] if given else None

    def every(name: str) -> list[str]:
        return values.get(name) or []

    sort: Any = "priority" if queue else last("sort") or "relevance"  # SearchRequest checks it
    interval: Any = (last("interval") or "month").strip().lower()  # and this
    return SearchRequest(
        text=last("q") or "",
        domains=tuple(d.strip().upper() for d in every("domain")),
        subtypes=tuple(s.strip().upper() for s in every("subtype")),
        entities=tuple(EntityFilter.parse(e) for e in every("entity")),
        sources=tuple(every("source")),
        published_from=_date("published_from", last("published_from")),
        published_to=_date("published_to", last("published_to")),
        reviewed=False if queue else _boolean("reviewed", last("reviewed")),
        reliability=tuple(r.strip().upper() for r in every("reliability")),
        credibility=tuple(_integer("credibility", c) for c in every("credibility")),
        languages=tuple(code.strip().lower() for code in every("language")),
        sort=sort,
        page=_integer("page", last("page"), 1),
        size=_integer("size", last("size"), 10),
        facet_size=_integer("facet_size", last("facet_size"), 10),
        facets=bool(_boolean("facets", last("facets"))),
        interval=interval,
    )


def _integer(name: str, value: str | None, default: int = 0) -> int:
    if value is None:
        return default
    if not _INTEGER.fullmatch(value.strip()):
        raise InvalidSearchRequest(f"{name}: {value!r} is not a whole number")
    return int(value)


def _date(name: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        if _ISO_DATE.fullmatch(value.strip()):
            return date.fromisoformat(value.strip())
    except ValueError:
        pass
    raise InvalidSearchRequest(f"{name}: {value!r} is not a date (YYYY-MM-DD)")


def _boolean(name: str, value: str | None) -> bool | None:
    if value is None:
        return None
    folded = value.strip().lower()
    if folded in _TRUE or folded in _FALSE:
        return folded in _TRUE
    raise InvalidSearchRequest(f"{name}: {value!r} is not true or false")
