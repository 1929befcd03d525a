"""Search results as every backend returns them, and the one way snippets are rendered."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date

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


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int


@dataclass(frozen=True)
class Facets:
    domains: list[FacetValue] = field(default_factory=list)
    entities: dict[str, list[FacetValue]] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchResult:
    total: int
    page: int
    size: int
    hits: list[SearchHit]
    facets: Facets


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
