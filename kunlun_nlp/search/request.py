"""A search request, validated before any backend sees it.

Free text is reduced to plain words and quoted phrases: no operator, wildcard or field syntax of
either backend survives, so a user's query can never break or widen the query built from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from kunlun_nlp.vocabulary import CREDIBILITY_GRADES, DOMAIN_LABELS, ENTITY_LABELS, RELIABILITY_GRADES

MAX_PAGE_SIZE = 100
MAX_RESULT_WINDOW = 10_000  # page * size may not reach past this (the engine's default window)
# Matches are counted up to this many; past it the total says "at least" (SearchResult.total_exact).
# An exact count of a broad match costs as much as the search itself on a large index.
TOTAL_HITS_CAP = MAX_RESULT_WINDOW
MAX_QUERY_CHARS = 1_000
FACET_ENTITY_LABELS: tuple[str, ...] = ("ORG", "LOC", "PRODUCT")
LANGUAGE_FACET_SIZE = 20  # a collection holds a handful of languages: all are shown
SORTS: tuple[str, ...] = ("relevance", "date", "priority")

_PHRASE = re.compile(r'"([^"]*)"')
_LANGUAGE = re.compile(r"[a-z]{2,3}")  # an ISO 639 code, as documents store it
_WORD = re.compile(r"\w+", re.UNICODE)
# Scripts written without spaces between words (Chinese, Japanese kana): neither backend's
# tokenizer finds the words in them, so a query word in one matches as a run of characters.
_IDEOGRAPHIC = re.compile(r"[\u3040-\u309f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


class InvalidSearchRequest(ValueError):
    """The request cannot be served as asked; the message says why."""


@dataclass(frozen=True)
class QueryText:
    terms: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()  # each phrase as its words

    @property
    def is_empty(self) -> bool:
        return not self.terms and not self.phrases

    def split_ideographic(self) -> tuple[QueryText, tuple[str, ...]]:
        """The words the backends' analyzers read, and the words in an ideographic script, each
        matched as a run of characters (a phrase with one in it is read as its words)."""
        words = [*self.terms, *(w for phrase in self.phrases if any(map(is_ideographic, phrase)) for w in phrase)]
        runs = tuple(dict.fromkeys(w for w in words if is_ideographic(w)))
        terms = tuple(w for w in words if not is_ideographic(w))
        phrases = tuple(p for p in self.phrases if not any(map(is_ideographic, p)))
        return QueryText(terms=terms, phrases=phrases), runs


def is_ideographic(word: str) -> bool:
    return _IDEOGRAPHIC.search(word) is not None


def parse_query_text(text: str) -> QueryText:
    phrases = []
    for match in _PHRASE.finditer(text):
        words = tuple(_WORD.findall(match.group(1)))
        if words:
            phrases.append(words)
    rest = _PHRASE.sub(" ", text)
    return QueryText(terms=tuple(_WORD.findall(rest)), phrases=tuple(phrases))


@dataclass(frozen=True)
class EntityFilter:
    label: str
    value: str

    @classmethod
    def parse(cls, spec: str) -> EntityFilter:
        """`LABEL:value`, e.g. `ORG:Ministry of Public Security`."""
        label, sep, value = spec.partition(":")
        label = label.strip().upper()
        if not sep or not value.strip():
            raise InvalidSearchRequest(f"entity filter {spec!r} must look like LABEL:value")
        if label not in ENTITY_LABELS:
            raise InvalidSearchRequest(f"unknown entity label {label!r}; expected one of {', '.join(ENTITY_LABELS)}")
        return cls(label, value.strip())


@dataclass(frozen=True)
class SearchRequest:
    text: str = ""
    domains: tuple[str, ...] = ()  # any of these
    entities: tuple[EntityFilter, ...] = ()  # all of these
    sources: tuple[str, ...] = ()  # any of these
    published_from: date | None = None
    published_to: date | None = None
    reviewed: bool | None = None  # None: either; False: the triage queue
    reliability: tuple[str, ...] = ()  # any of these source grades A-F
    credibility: tuple[int, ...] = ()  # any of these information grades 1-6
    languages: tuple[str, ...] = ()  # any of these ISO 639-1 codes ("en", "zh")
    sort: Literal["relevance", "date", "priority"] = "relevance"
    page: int = 1
    size: int = 10
    facet_size: int = 10
    facets: bool = False  # counted only when asked: they cost more than the search itself
    query: QueryText = field(init=False)

    def __post_init__(self) -> None:
        if len(self.text) > MAX_QUERY_CHARS:
            raise InvalidSearchRequest(f"query text is longer than {MAX_QUERY_CHARS} characters")
        unknown = [d for d in self.domains if d not in DOMAIN_LABELS]
        if unknown:
            raise InvalidSearchRequest(f"unknown domain {unknown[0]!r}; expected one of {', '.join(DOMAIN_LABELS)}")
        if self.sort not in SORTS:
            raise InvalidSearchRequest(f"sort must be one of {', '.join(SORTS)}")
        bad = [r for r in self.reliability if r not in RELIABILITY_GRADES]
        if bad:
            raise InvalidSearchRequest(f"reliability {bad[0]!r} is not a grade A-F")
        bad_credibility = [c for c in self.credibility if c not in CREDIBILITY_GRADES]
        if bad_credibility:
            raise InvalidSearchRequest(f"credibility {bad_credibility[0]} is not a grade 1-6")
        bad_language = [code for code in self.languages if not _LANGUAGE.fullmatch(code)]
        if bad_language:
            raise InvalidSearchRequest(f"language {bad_language[0]!r} is not a language code such as en or zh")
        if self.page < 1:
            raise InvalidSearchRequest("page starts at 1")
        if not 1 <= self.size <= MAX_PAGE_SIZE:
            raise InvalidSearchRequest(f"size must be between 1 and {MAX_PAGE_SIZE}")
        if self.page * self.size > MAX_RESULT_WINDOW:
            raise InvalidSearchRequest(f"page * size may not exceed {MAX_RESULT_WINDOW}; narrow the search instead")
        if not 1 <= self.facet_size <= MAX_PAGE_SIZE:
            raise InvalidSearchRequest(f"facet_size must be between 1 and {MAX_PAGE_SIZE}")
        if self.published_from and self.published_to and self.published_from > self.published_to:
            raise InvalidSearchRequest("published_from is after published_to")
        object.__setattr__(self, "query", parse_query_text(self.text))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size
