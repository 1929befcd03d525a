"""Search results as every backend returns them: hits from stored records, facets from counts,
and the one way snippets are rendered. Backends build queries; they shape results only here."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kunlun_nlp.document import DomainScore

# Backends mark matches with these private-use characters; render_snippet turns them into <mark>
# after escaping the text, so a document's own markup can never reach a client as HTML.
MATCH_START = "\ue000"
MATCH_END = "\ue001"
PLAIN_SNIPPET_CHARS = 240


@dataclass(frozen=True)
class SearchHit:
    id: str
    title: str
    source: str
    published: date | None
    domains: list[DomainScore]
    score: float | None
    snippet: str
    priority: int | None = None
    priority_reasons: list[str] = field(default_factory=list)
    grade: str | None = None
    reviewed_by: str | None = None
    language: str = ""  # ISO 639-1; "" when not known
    not_tagged: str | None = None  # why the models did not tag it: it has no domains or entities
    review_note: str | None = None  # the reviewer's note, if they left one
    # Who corrected its tags last (labels.merge's `by`; as the export's column), None when no one
    # has; human_domains: its domains are that human label's (scored 1.0), not the model's.
    corrected_by: str | None = None
    human_domains: bool = False


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int


@dataclass(frozen=True)
class DateBucket:
    """The matching reports published in one week (from its Monday) or month (from its 1st), and
    how many of them each domain has: a bar of the trends chart."""

    start: date
    count: int
    domains: dict[str, int]  # most first, ties by label; a report of several domains counts in each


@dataclass(frozen=True)
class Facets:
    domains: list[FacetValue] = field(default_factory=list)
    entities: dict[str, list[FacetValue]] = field(default_factory=dict)
    languages: list[FacetValue] = field(default_factory=list)
    subtypes: list[FacetValue] = field(default_factory=list)
    sources: list[FacetValue] = field(default_factory=list)  # reports of no known source are not counted
    published: list[DateBucket] = field(default_factory=list)  # non-empty buckets, oldest first; undated reports are not in it


@dataclass(frozen=True)
class SearchResult:
    total: int
    page: int
    size: int
    hits: list[SearchHit]
    facets: Facets  # empty unless the request asked for them
    total_exact: bool = True  # False: at least `total` match (request.TOTAL_HITS_CAP)


def render_snippet(marked: str) -> str:
    escaped = html.escape(marked.strip(), quote=False)
    return escaped.replace(MATCH_START, "<mark>").replace(MATCH_END, "</mark>")


def plain_snippet(text: str) -> str:
    """The opening of a text, cut at a word, for hits that matched no query words."""
    text = " ".join(text.split())
    if len(text) <= PLAIN_SNIPPET_CHARS:
        return html.escape(text, quote=False)
    cut = text.rfind(" ", 0, PLAIN_SNIPPET_CHARS)
    return html.escape(text[: cut if cut > 0 else PLAIN_SNIPPET_CHARS], quote=False) + "…"


def snippet(marked: str | None, text: str) -> str:
    """A backend's marked match fragments as escaped HTML with <mark>; with no mark in them (or
    none given), the escaped opening of the fragments, else of `text`."""
    if marked and MATCH_START in marked:
        return render_snippet(marked)
    return plain_snippet(marked or text)


def predicted_domains(record: Mapping[str, Any]) -> list[DomainScore]:
    return [DomainScore(p["label"], float(p["score"])) for p in record.get("predicted") or []]


def hit_from_record(record: Mapping[str, Any], score: float | None, snippet: str) -> SearchHit:
    """A search hit from a stored record (records.tagged_to_record), or the part a backend fetched."""
    priority = record.get("priority") or {}
    correction = record.get("correction") or {}
    return SearchHit(
        id=record["id"],
        title=record.get("title") or "",
        source=record.get("source") or "",
        published=date.fromisoformat(record["published"]) if record.get("published") else None,
        domains=predicted_domains(record),
        score=round(float(score), 4) if score is not None else None,
        snippet=snippet,
        priority=priority.get("score"),
        priority_reasons=list(priority.get("reasons") or []),
        grade=record.get("grade"),
        reviewed_by=(record.get("review") or {}).get("reviewed_by"),
        language=record.get("language") or "",
        not_tagged=record.get("not_tagged"),
        review_note=(record.get("review") or {}).get("note"),
        corrected_by=correction.get("by") or None,
        human_domains=correction.get("domains") is not None,  # a label of entities or sub-types only leaves them
    )


def facets_from_counts(
    domains: Iterable[tuple[str, int]],
    entities: Mapping[str, Iterable[tuple[str, int]]],
    languages: Iterable[tuple[str, int]] = (),
    *,
    subtypes: Iterable[tuple[str, int]] = (),
    sources: Iterable[tuple[str, int]] = (),
    published: Iterable[tuple[date, int, Iterable[tuple[str, int]]]] = (),
) -> Facets:
    """Facets from (value, document count) pairs, already in display order; `published` from
    (bucket start, documents, (domain, documents) pairs) in date order."""

    def values(pairs: Iterable[tuple[str, int]]) -> list[FacetValue]:
        return [FacetValue(value, int(count)) for value, count in pairs]

    return Facets(
        domains=values(domains),
        entities={label: values(pairs) for label, pairs in entities.items()},
        languages=values(languages),
        subtypes=values(subtypes),
        sources=values(sources),
        published=[
            DateBucket(start, int(count), {label: int(n) for label, n in sorted(by_domain, key=lambda pair: (-pair[1], pair[0]))})
            for start, count, by_domain in published
        ],
    )
