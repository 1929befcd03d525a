"""A SearchRequest compiled to the search engine's query DSL (kunlun_nlp.index.engine), and the
few engine-specific reads of its answer that result shaping (kunlun_nlp.search.results) needs.

Query words only ever reach `multi_match`, never a query-string parser, so no user input
becomes engine syntax.
"""

from __future__ import annotations

import re
from typing import Any

from kunlun_nlp.normalize import entity_key, normalize_entity
from kunlun_nlp.search.request import FACET_ENTITY_LABELS, LANGUAGE_FACET_SIZE, TOTAL_HITS_CAP, SearchRequest
from kunlun_nlp.search.results import MATCH_END, MATCH_START
from kunlun_nlp.vocabulary import DOMAIN_LABELS

HIT_FIELDS = ["id", "title", "text", "source", "published", "predicted", "priority", "grade", "review", "language", "not_tagged"]
SNIPPET_CHARS = 180
NAME_SEPARATOR = "\x1f"  # between an entity's key and its name in the flat entity_names fields
# Name variants read per faceted label when showing the top keys by name (one per key is usual).
_NAMES_READ = 1_000
_TEXT_FIELDS = ["title^2", "text"]
# The id breaks ties last, so that pages never overlap or skip a report.
_BY_DATE = [{"published": {"order": "desc", "missing": "_last"}}, {"ingested_at": {"order": "desc"}}, {"id": "asc"}]


def build_search_body(request: SearchRequest) -> dict[str, Any]:
    body: dict[str, Any] = {
        "query": {"bool": {"must": _text_clauses(request) or [{"match_all": {}}], "filter": filter_clauses(request)}},
        "from": request.offset,
        "size": request.size,
        "track_total_hits": TOTAL_HITS_CAP,
        "source_includes": HIT_FIELDS,
    }
    if request.facets:
        body["aggs"] = facet_aggregations(request.facet_size)
    if request.sort == "priority":
        body["sort"] = [{"priority.score": {"order": "desc", "missing": "_last"}}, *_BY_DATE]
    elif request.sort == "date" or request.query.is_empty:
        body["sort"] = _BY_DATE
    else:
        body["sort"] = ["_score", {"id": "asc"}]
    if not request.query.is_empty:
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


def _text_clauses(request: SearchRequest) -> list[dict[str, Any]]:
    must: list[dict[str, Any]] = []
    words, runs = request.query.split_ideographic()
    if words.terms:
        must.append(
            {
                "multi_match": {
                    "query": " ".join(words.terms),
                    "fields": _TEXT_FIELDS,
                    "type": "cross_fields",  # each word in title or text
                    "operator": "and",
                }
            }
        )
    for phrase in words.phrases:
        must.append({"multi_match": {"query": " ".join(phrase), "fields": _TEXT_FIELDS, "type": "phrase"}})
    # the analyzer splits ideographs into single characters: a phrase of them is the run itself
    for run in runs:
        must.append({"multi_match": {"query": run, "fields": _TEXT_FIELDS, "type": "phrase"}})
    return must


def filter_clauses(request: SearchRequest) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = []
    if request.domains:
        filters.append({"terms": {"domains": list(request.domains)}})
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


def facet_aggregations(size: int) -> dict[str, Any]:
    """Terms over flat keyword fields only (nested ones cost about 30 times the search)."""

    def terms(field: str, size: int) -> dict[str, Any]:
        return {"terms": {"field": field, "size": size, "order": [{"_count": "desc"}, {"_key": "asc"}]}}

    return {
        "domains": terms("domains", len(DOMAIN_LABELS)),
        "languages": terms("language", LANGUAGE_FACET_SIZE),
        **{f"entities_{label}": terms(f"entity_keys.{label}", size) for label in FACET_ENTITY_LABELS},
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
