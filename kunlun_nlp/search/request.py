"""A search request, validated before any backend sees it.

Free text is read as the query syntax analysts type (QUERY_SYNTAX: words, "phrases", `a OR b`,
`-word`, `word*`) and as nothing else: no operator, wildcard or field syntax of either backend
survives, so a user's query can never break the query built from it, and odd input is never an
error (it degrades to its plain words).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, get_args

from kunlun_nlp.vocabulary import CREDIBILITY_GRADES, DOMAIN_LABELS, ENTITY_LABELS, RELIABILITY_GRADES, SUBTYPE_LABELS

MAX_PAGE_SIZE = 100
MAX_RESULT_WINDOW = 10_000  # page * size may not reach past this (the engine's default window)
# Matches are counted up to this many; past it the total says "at least" (SearchResult.total_exact).
# An exact count of a broad match costs as much as the search itself on a large index.
TOTAL_HITS_CAP = MAX_RESULT_WINDOW
MAX_QUERY_CHARS = 1_000
FACET_ENTITY_LABELS: tuple[str, ...] = ("ORG", "LOC", "PRODUCT")
LANGUAGE_FACET_SIZE = 20  # a collection holds a handful of languages: all are shown
Sort = Literal["relevance", "date", "priority"]
SORTS: tuple[str, ...] = get_args(Sort)
Interval = Literal["week", "month", "year"]  # of the published facet: weeks from Monday, months and years from the 1st
INTERVALS: tuple[str, ...] = get_args(Interval)

# What a query says, for help texts (the API's q, the CLI, the page's help).
QUERY_SYNTAX = (
    'words (all must match); "a quoted phrase"; heroin OR cocaine (either; OR binds before the other words, so '
    "heroin OR cocaine port is (heroin or cocaine) and port; lower-case or is a plain word); -word or -\"a phrase\" "
    "(must not match; exclusions alone match every other report); counterf* (any word starting with counterf, at "
    "least 2 characters before the *). Chinese or Japanese words match anywhere in the text."
)
# A query's pieces: a quoted phrase (a "-" right before it excludes it), or a run of other characters.
_PIECE = re.compile(r'(-?)"([^"]*)"|([^\s"]+)')
_PREFIX = re.compile(r"(\w{2,})\*+")  # word*: at least 2 characters before the star
_EXCLUDED = re.compile(r"-(?=\w)")  # -word; "--x" and a lone "-" are not exclusions
_OR = "OR"  # upper case only: "or" is a word
_LANGUAGE = re.compile(r"[a-z]{2,3}")  # an ISO 639 code, as documents store it
_WORD = re.compile(r"\w+", re.UNICODE)
# Scripts written without spaces between words (Chinese, Japanese kana): neither backend's
# tokenizer finds the words in them, so a query word in one matches as a run of characters.
_IDEOGRAPHIC = re.compile(r"[\u3040-\u309f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


class InvalidSearchRequest(ValueError):
    """The request cannot be served as asked; the message says why."""


@dataclass(frozen=True)
class Clause:
    """One thing a query asks for: a word, a phrase (its words, in order) or, with `prefix`, the
    start of a word (`word*`: one word)."""

    words: tuple[str, ...]
    prefix: bool = False

    @property
    def is_run(self) -> bool:
        """A word in an ideographic script: matched as a run of characters anywhere in the text."""
        return len(self.words) == 1 and is_ideographic(self.words[0])

    def parts(self) -> tuple[Clause, ...]:
        """The clause as the backends match it, all parts required: itself; or, with a word in an
        ideographic script in it, each of its words, an ideographic one a run (is_run: a run
        matches anywhere, so a prefix of one is the run itself)."""
        if not any(map(is_ideographic, self.words)):
            return (self,)
        return tuple(dict.fromkeys(Clause((word,)) for word in self.words))


@dataclass(frozen=True)
class QueryText:
    """Query text as parsed: every group must match, a group by any of its clauses (`a OR b`),
    and no excluded clause may."""

    groups: tuple[tuple[Clause, ...], ...] = ()
    excluded: tuple[Clause, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.groups and not self.excluded

    @property
    def positive(self) -> bool:
        """Whether some clause must match: hits are then scored and their matches marked. A query
        of exclusions only is a filter: it matches every document but the excluded ones."""
        return bool(self.groups)


def is_ideographic(word: str) -> bool:
    return _IDEOGRAPHIC.search(word) is not None


def parse_query_text(text: str) -> QueryText:
    """The pieces of `text` (QUERY_SYNTAX), left to right. A piece without a word in it ("*",
    "-", a lone quote's) is dropped; an `OR` joins the clauses either side of it only when both
    are wanted ones (a leading, trailing or doubled OR, or one next to an exclusion, is dropped);
    a run of characters with several words in it ("covid-19", "e-mail") is a phrase of them."""
    groups: list[list[Clause]] = []
    excluded: list[Clause] = []
    joining = after_wanted = False  # an OR follows a wanted clause; the last clause was a wanted one
    for piece in _PIECE.finditer(text):
        minus, quoted, bare = piece.groups()
        if bare == _OR:
            joining = after_wanted
            continue
        if quoted is not None:
            exclude, clause = bool(minus), _clause(_WORD.findall(quoted))
        else:
            exclude = _EXCLUDED.match(bare) is not None
            body = bare[1:] if exclude else bare
            prefix = _PREFIX.fullmatch(body)
            clause = Clause((prefix.group(1),), prefix=True) if prefix else _clause(_WORD.findall(body))
        if clause is None:
            continue
        if exclude:
            excluded.append(clause)
            joining = after_wanted = False
            continue
        if joining:
            groups[-1].append(clause)
        else:
            groups.append([clause])
        joining, after_wanted = False, True
    return QueryText(
        groups=tuple(dict.fromkeys(tuple(dict.fromkeys(group)) for group in groups)),
        excluded=tuple(dict.fromkeys(excluded)),
    )


def _clause(words: list[str]) -> Clause | None:
    return Clause(tuple(words)) if words else None


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
    subtypes: tuple[str, ...] = ()  # any of these sub-types, e.g. "FOOD.ADULTERATION"
    entities: tuple[EntityFilter, ...] = ()  # all of these
    sources: tuple[str, ...] = ()  # any of these
    published_from: date | None = None
    published_to: date | None = None
    reviewed: bool | None = None  # None: either; False: the triage queue
    reliability: tuple[str, ...] = ()  # any of these source grades A-F
    credibility: tuple[int, ...] = ()  # any of these information grades 1-6
    languages: tuple[str, ...] = ()  # any of these ISO 639-1 codes ("en", "zh")
    sort: Sort = "relevance"
    page: int = 1
    size: int = 10
    facet_size: int = 10
    facets: bool = False  # counted only when asked: they cost more than the search itself
    interval: Interval = "month"  # the published facet's buckets
    query: QueryText = field(init=False)

    def __post_init__(self) -> None:
        if len(self.text) > MAX_QUERY_CHARS:
            raise InvalidSearchRequest(f"query text is longer than {MAX_QUERY_CHARS} characters")
        unknown = [d for d in self.domains if d not in DOMAIN_LABELS]
        if unknown:
            raise InvalidSearchRequest(f"unknown domain {unknown[0]!r}; expected one of {', '.join(DOMAIN_LABELS)}")
        unknown_subtype = [s for s in self.subtypes if s not in SUBTYPE_LABELS]
        if unknown_subtype:
            raise InvalidSearchRequest(f"unknown sub-type {unknown_subtype[0]!r}; expected one of {', '.join(SUBTYPE_LABELS)}")
        if self.sort not in SORTS:
            raise InvalidSearchRequest(f"sort must be one of {', '.join(SORTS)}")
        if self.interval not in INTERVALS:
            raise InvalidSearchRequest(f"interval must be one of {', '.join(INTERVALS)}")
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
