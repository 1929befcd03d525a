"""A SearchRequest compiled to the search engine's query DSL (kunlun_nlp.index.engine), and the
few engine-specific reads of its answer that result shaping (kunlun_nlp.search.results) needs.

Query words only ever reach `multi_match`, never a query-string parser, so no user input
becomes engine syntax.
"""

from __future__ import annotations

from typing import Any

from kunlun_nlp.normalize import entity_key, normalize_entity
from kunlun_nlp.search.request import FACET_ENTITY_LABELS, LANGUAGE_FACET_SIZE, SearchRequest
from kunlun_nlp.search.results import MATCH_END, MATCH_START
from kunlun_nlp.vocabulary import DOMAIN_LABELS

HIT_FIELDS = ["id", "title", "text", "source", "published", "predicted", "priority", "grade", "review", "language", "not_tagged"]
SNIPPET_CHARS = 180
_TEXT_FIELDS = ["title^2", "text"]
# The id breaks ties last, so that pages never overlap or skip a report.
_BY_DATE = [{"published": {"order": "desc", "missing": "_last"}}, {"ingested_at": {"order": "desc"}}, {"id": "asc"}]


def build_search_body(request: SearchRequest) -> dict[str, Any]:
    body: dict[str, Any] = {
        "query": {"bool": {"must": _text_clauses(request) or [{"match_all": {}}], "filter": filter_clauses(request)}},
        "from": request.offset,
        "size": request.size,
        "track_total_hits": True,
        "source_includes": HIT_FIELDS,
        "aggs": facet_aggregations(request.facet_size),
    }
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
        both = [{"term": {"entities.label": entity.label}}, {"term": {"entities.key": key}}]
        filters.append({"nested": {"path": "entities", "query": {"bool": {"filter": both}}}})
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
    entity_aggs = {
        label: {
            "filter": {"term": {"entities.label": label}},
            "aggs": {
                "values": {
                    "terms": {"field": "entities.key", "size": size, "order": [{"documents": "desc"}, {"_key": "asc"}]},
                    "aggs": {
                        "documents": {"reverse_nested": {}},  # count reports, not mentions
                        "display": {"terms": {"field": "entities.normalized", "size": 1, "order": {"_key": "asc"}}},
                    },
                }
            },
        }
        for label in FACET_ENTITY_LABELS
    }
    return {
        "domains": {"terms": {"field": "domains", "size": len(DOMAIN_LABELS), "order": [{"_count": "desc"}, {"_key": "asc"}]}},
        "entities": {"nested": {"path": "entities"}, "aggs": entity_aggs},
        "languages": {"terms": {"field": "language", "size": LANGUAGE_FACET_SIZE, "order": [{"_count": "desc"}, {"_key": "asc"}]}},
    }


def facet_counts(
    aggregations: dict[str, Any],
) -> tuple[list[tuple[str, int]], dict[str, list[tuple[str, int]]], list[tuple[str, int]]]:
    """(value, documents) pairs from the answer to facet_aggregations: domains, entities by label,
    and languages (documents of no known language are not counted)."""
    entities = {}
    for label in FACET_ENTITY_LABELS:
        buckets = aggregations["entities"][label]["values"]["buckets"]
        entities[label] = [
            (b["display"]["buckets"][0]["key"] if b["display"]["buckets"] else b["key"], b["documents"]["doc_count"])
            for b in buckets
        ]
    languages = [(b["key"], b["doc_count"]) for b in aggregations["languages"]["buckets"] if b["key"]]
    return [(b["key"], b["doc_count"]) for b in aggregations["domains"]["buckets"]], entities, languages


def marked_fragments(hit: dict[str, Any]) -> str | None:
    """The highlighted text fragment (else the title) of a hit, matches marked; None without."""
    highlight = hit.get("highlight", {})
    fragments = highlight.get("text") or highlight.get("title")
    return " … ".join(fragments) if fragments else None
