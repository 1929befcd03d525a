"""A SearchRequest compiled to the search engine's query DSL (kunlun_nlp.index.engine), and the
few engine-specific reads of its answer that result shaping (kunlun_nlp.search.results) needs.

Query words only ever reach `multi_match` (joined by the bool queries this module writes for OR
and exclusions), never a query-string parser, so no user input becomes engine syntax.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from kunlun_nlp.normalize import entity_key, normalize_entity
from kunlun_nlp.search.request import FACET_ENTITY_LABELS, LANGUAGE_FACET_SIZE, TOTAL_HITS_CAP, Clause, QueryText, SearchRequest
from kunlun_nlp.search.results import MATCH_END, MATCH_START
from kunlun_nlp.vocabulary import DOMAIN_LABELS

# The parts of a stored record a hit shows (results.hit_from_record); of the human label, only who
# made it and whether it sets the domains (its entity operations can be long).
HIT_FIELDS = [
    "id", "title", "text", "source", "published", "predicted", "priority", "grade", "review", "language", "not_tagged",
    "correction.by", "correction.domains",
]
SNIPPET_CHARS = 180
NAME_SEPARATOR = "\x1f"  # between an entity's key and its name in the flat entity_names fields
# Name variants read per faceted label when showing the top keys by name (one per key is usual).
_NAMES_READ = 1_000
_TEXT_FIELDS = ["title^2", "text"]
# The id breaks ties last, so that pages never overlap or skip a report.
_BY_DATE = [{"published": {"order": "desc", "missing": "_last"}}, {"ingested_at": {"order": "desc"}}, {"id": "asc"}]


def build_search_body(request: SearchRequest) -> dict[str, Any]:
    body: dict[str, Any] = {
        "query": search_query(request),
        "sort": search_sort(request),
        "from": request.offset,
        "size": request.size,
        "track_total_hits": TOTAL_HITS_CAP,
        "source_includes": HIT_FIELDS,
    }
    if request.facets:
        body["aggs"] = facet_aggregations(request.facet_size, request.interval)
    if request.query.positive:
        body["track_scores"] = True  # a text match has a score whatever the sort, as on the embedded index
        body["highlight"] = {
            "pre_tags": [MATCH_START],
            "post_tags": [MATCH_END],
            "fields": {
                "text": {"fragment_size": SNIPPET_CHARS, "number_of_fragments": 1},
                "title": {"number_of_fragments": 0},
            },
        }
    return body


def export_body(request: SearchRequest) -> dict[str, Any]:
    """Every match of the request, in its order, a page at a time (the caller adds the point in
    time, the page size and search_after): whole records without the embedding, nothing counted."""
    return {"query": search_query(request), "sort": search_sort(request), "source_excludes": ["embedding"], "track_total_hits": False}


def search_query(request: SearchRequest) -> dict[str, Any]:
    must, must_not = text_clauses(request.query)
    query: dict[str, Any] = {"must": must or [{"match_all": {}}], "filter": filter_clauses(request)}
    if must_not:
        query["must_not"] = must_not
    return {"bool": query}


def search_sort(request: SearchRequest) -> list[Any]:
    """The request's order; the id breaks ties last. Without wanted words (no text, or only
    exclusions) there is no score: relevance is by date."""
    if request.sort == "priority":
        return [{"priority.score": {"order": "desc", "missing": "_last"}}, *_BY_DATE]
    if request.sort == "date" or not request.query.positive:
        return _BY_DATE
    return ["_score", {"id": "asc"}]


def text_clauses(query: QueryText) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(must, must_not): each group of alternatives one clause (a bool `should` of them), the plain
    words all in one cross_fields query (each word in the title or the text); each exclusion one
    clause. The engine's highlighter marks what the wanted clauses match, never the excluded."""
    must: list[dict[str, Any]] = []
    words: list[str] = []
    for group in query.groups:
        (first, *others) = group
        if not others and len(first.words) == 1 and not (first.prefix or first.is_run):
            words.append(first.words[0])
        else:
            must.append(_any([_all(clause.parts()) for clause in group]))
    if words:
        must.insert(0, {"multi_match": {"query": " ".join(words), "fields": _TEXT_FIELDS, "type": "cross_fields", "operator": "and"}})
    return must, [_all(clause.parts()) for clause in query.excluded]


def _match(part: Clause) -> dict[str, Any]:
    text = " ".join(part.words)
    if part.prefix:
        # analysed, then its last word taken as a prefix of the indexed (stemmed) words, as FTS5
        # stems a prefix: "smuggling*" finds "smuggled" on both backends
        return {"multi_match": {"query": text, "fields": _TEXT_FIELDS, "type": "bool_prefix", "operator": "and"}}
    if len(part.words) == 1 and not part.is_run:
        return {"multi_match": {"query": text, "fields": _TEXT_FIELDS, "type": "cross_fields", "operator": "and"}}
    # a phrase; or a run of ideographs: the analyzer splits them into single characters, so a
    # phrase of them is the run itself
    return {"multi_match": {"query": text, "fields": _TEXT_FIELDS, "type": "phrase"}}


def _all(parts: tuple[Clause, ...]) -> dict[str, Any]:
    return _match(parts[0]) if len(parts) == 1 else {"bool": {"must": [_match(part) for part in parts]}}


def _any(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    return clauses[0] if len(clauses) == 1 else {"bool": {"should": clauses, "minimum_should_match": 1}}


def filter_clauses(request: SearchRequest) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = []
    if request.domains:
        filters.append({"terms": {"domains": list(request.domains)}})
    if request.subtypes:
        filters.append({"terms": {"subtypes.label": list(request.subtypes)}})
    for entity in request.entities:
        key = entity_key(normalize_entity(entity.label, entity.value))
        filters.append({"term": {f"entity_keys.{entity.label}": key}})
    if request.sources:
        filters.append({"terms": {"source": list(request.sources)}})
    if request.published_from or request.published_to:
        bounds = {}
        if request.published_from:
            bounds["gte"] = request.published_from.isoformat()
        if request.published_to:
            bounds["lte"] = request.published_to.isoformat()
        filters.append({"range": {"published": bounds}})
    if request.reviewed is not None:
        reviewed = {"exists": {"field": "review.reviewed_at"}}
        filters.append(reviewed if request.reviewed else {"bool": {"must_not": reviewed}})
    if request.reliability:
        filters.append({"terms": {"reliability": list(request.reliability)}})
    if request.credibility:
        filters.append({"terms": {"credibility": list(request.credibility)}})
    if request.languages:
        filters.append({"terms": {"language": list(request.languages)}})
    return filters


def build_knn(vector: list[float], *, size: int, exclude_id: str | None) -> dict[str, Any]:
    knn: dict[str, Any] = {"field": "embedding", "query_vector": list(vector), "k": size, "num_candidates": max(100, 4 * size)}
    if exclude_id is not None:
        knn["filter"] = {"bool": {"must_not": {"ids": {"values": [exclude_id]}}}}
    return knn


def knn_cosine(score: float) -> float:
    """The engine scores cosine similarity as (1 + cos) / 2; the cosine itself, as the embedded index reports."""
    return 2 * score - 1


def facet_aggregations(size: int, interval: str = "month") -> dict[str, Any]:
    """Terms over flat keyword fields only (nested ones cost about 30 times the search), and the
    reports per week (the engine's calendar weeks start on Monday), month or year, by domain."""

    def terms(field: str, size: int) -> dict[str, Any]:
        return {"terms": {"field": field, "size": size, "order": [{"_count": "desc"}, {"_key": "asc"}]}}

    sources = terms("source", size)
    sources["terms"]["exclude"] = [""]  # no known source: not a value to filter by, and no slot taken
    return {
        "domains": terms("domains", len(DOMAIN_LABELS)),
        "languages": terms("language", LANGUAGE_FACET_SIZE),
        **{f"entities_{label}": terms(f"entity_keys.{label}", size) for label in FACET_ENTITY_LABELS},
        "subtypes": terms("subtypes.label", size),
        "sources": sources,
        "published": {
            # min_doc_count 1: the empty weeks between two reports are left out, as the embedded index leaves them
            "date_histogram": {"field": "published", "calendar_interval": interval, "min_doc_count": 1, "format": "yyyy-MM-dd"},
            "aggs": {"domains": terms("domains", len(DOMAIN_LABELS))},
        },
    }


def facet_counts(
    aggregations: dict[str, Any],
) -> tuple[list[tuple[str, int]], dict[str, list[tuple[str, int]]], list[tuple[str, int]]]:
    """(value, documents) pairs from the answer to facet_aggregations: domains, entity keys by
    label (display_names_body shows them by name), and languages (documents of no known language
    are not counted)."""
    entities = {
        label: [(b["key"], b["doc_count"]) for b in aggregations[f"entities_{label}"]["buckets"]] for label in FACET_ENTITY_LABELS
    }
    languages = [(b["key"], b["doc_count"]) for b in aggregations["languages"]["buckets"] if b["key"]]
    return [(b["key"], b["doc_count"]) for b in aggregations["domains"]["buckets"]], entities, languages


def subtype_source_date_counts(aggregations: dict[str, Any]) -> dict[str, Any]:
    """The sub-type, source and published facets from the answer to facet_aggregations, as
    results.facets_from_counts takes them by name."""

    def pairs(buckets: list[dict[str, Any]]) -> list[tuple[str, int]]:
        return [(b["key"], b["doc_count"]) for b in buckets]

    return {
        "subtypes": pairs(aggregations["subtypes"]["buckets"]),
        "sources": pairs(aggregations["sources"]["buckets"]),
        "published": [
            (date.fromisoformat(b["key_as_string"]), b["doc_count"], pairs(b["domains"]["buckets"]))
            for b in aggregations["published"]["buckets"]
        ],
    }


def display_names_body(keys_by_label: dict[str, list[str]]) -> dict[str, Any]:
    """A request for the names of entity keys: every stored "key<US>name" of them, in order."""
    aggs = {
        label: {
            "terms": {
                "field": f"entity_names.{label}",
                "include": "(" + "|".join(_regex_literal(key) for key in keys) + ")" + _regex_literal(NAME_SEPARATOR) + ".*",
                "size": _NAMES_READ,
                "order": {"_key": "asc"},
            }
        }
        for label, keys in keys_by_label.items()
    }
    query = {"bool": {"should": [{"terms": {f"entity_keys.{label}": keys}} for label, keys in keys_by_label.items()]}}
    return {"size": 0, "query": query, "aggs": aggs}


def display_names_from(aggregations: dict[str, Any], keys_by_label: dict[str, list[str]]) -> dict[tuple[str, str], str]:
    """(label, key) → its first name in sort order, as the embedded index shows it (MIN)."""
    names: dict[tuple[str, str], str] = {}
    for label in keys_by_label:
        for bucket in aggregations[label]["buckets"]:
            key, _, name = bucket["key"].partition(NAME_SEPARATOR)
            names.setdefault((label, key), name)
    return names


def _regex_literal(text: str) -> str:
    """`text` matched literally by a Lucene regular expression: every character but a letter or
    digit escaped (Lucene takes a backslash before any character as that character)."""
    return re.sub(r"([^\w]|_)", r"\\\1", text)


def marked_fragments(hit: dict[str, Any]) -> str | None:
    """The highlighted text fragment (else the title) of a hit, matches marked; None without."""
    highlight = hit.get("highlight", {})
    fragments = highlight.get("text") or highlight.get("title")
    return " … ".join(fragments) if fragments else None
