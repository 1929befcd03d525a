"""The search-engine backend: Elasticsearch 8 through the official client.

All code that speaks to the engine lives in this module. Documents go to a versioned index
(`<name>-v<N>`) reached through the alias `<name>`, so a new mapping can be built beside the
old one and the alias swapped without downtime. Writes use `streaming_bulk`; the mapping is
explicit and strict.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from elasticsearch import ApiError, ConflictError, Elasticsearch, NotFoundError, TransportError
from elasticsearch.helpers import scan, streaming_bulk

from kunlun_nlp.document import TaggedDocument
from kunlun_nlp.domains import DOMAIN_LABELS
from kunlun_nlp.index.base import (
    BackendHealth,
    DocumentIndex,
    IndexUnavailableError,
    IndexWriteReport,
    ReviewOutcome,
)
from kunlun_nlp.normalize import entity_key, normalize_entity
from kunlun_nlp.records import hit_from_record, tagged_from_record, tagged_to_record
from kunlun_nlp.search.request import FACET_ENTITY_LABELS, SearchRequest
from kunlun_nlp.search.results import (
    MATCH_END,
    MATCH_START,
    Facets,
    FacetValue,
    SearchHit,
    SearchResult,
    plain_snippet,
    render_snippet,
)

MAPPING_VERSION = 2  # 2: triage fields (priority, grade, cases, review)
EMBEDDING_DIMS = 384
_KEYWORD = {"type": "keyword"}
_ENGLISH_TEXT = {"type": "text", "analyzer": "english"}

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": _KEYWORD,
        "title": _ENGLISH_TEXT,
        "text": _ENGLISH_TEXT,
        "source": _KEYWORD,
        "published": {"type": "date", "format": "strict_date"},
        "language": _KEYWORD,
        "ingested_at": {"type": "date"},
        "domains": _KEYWORD,
        "domain_scores": {"properties": {label: {"type": "float"} for label in DOMAIN_LABELS}},
        "predicted": {"type": "object", "enabled": False},  # kept in _source for display only
        "subtypes": {"properties": {"label": _KEYWORD, "score": {"type": "float"}}},
        "evidence": {"type": "object", "enabled": False},
        "model": _KEYWORD,
        "grade": _KEYWORD,
        "reliability": _KEYWORD,
        "credibility": {"type": "integer"},
        "cases": {"type": "object", "enabled": False},
        "priority": {
            "properties": {
                "score": {"type": "integer"},
                "reasons": {"type": "text", "index": False},
                "factors": {"type": "object", "enabled": False},
            }
        },
        "review": {"properties": {"reviewed_by": _KEYWORD, "reviewed_at": {"type": "date"}}},
        "entities": {
            "type": "nested",  # label and value must match within one entity
            "properties": {
                "label": _KEYWORD,
                "text": _KEYWORD,
                "normalized": _KEYWORD,
                "key": _KEYWORD,
                "start": {"type": "integer", "index": False},
                "end": {"type": "integer", "index": False},
                "details": {"type": "object", "enabled": False},  # shown, not searched (yet)
            },
        },
        "embedding": {
            "type": "dense_vector",
            "dims": EMBEDDING_DIMS,
            "index": True,
            "similarity": "cosine",
            "index_options": {"type": "hnsw"},  # full float vectors: the corpus is small, keep recall exact
        },
    },
}
_HIT_FIELDS = ["id", "title", "source", "published", "predicted", "priority", "grade", "review"]
_SNIPPET_CHARS = 180


class SearchEngineIndex(DocumentIndex):
    backend = "engine"

    def __init__(self, url: str, *, index_name: str = "kunlun-documents", replicas: int = 0, timeout: float = 10.0):
        self.url = url
        self.alias = index_name
        self.replicas = replicas
        self.client = Elasticsearch(url, request_timeout=timeout, max_retries=1, retry_on_timeout=False)
        self._ready = False

    # -- index lifecycle -----------------------------------------------------------------------

    @property
    def versioned_name(self) -> str:
        return f"{self.alias}-v{MAPPING_VERSION}"

    def ensure_index(self) -> None:
        """Create the versioned index and point the alias at it, unless the alias exists."""
        if self._ready:
            return
        with _engine_errors(self.url):
            if not self.client.indices.exists_alias(name=self.alias):
                self._create(self.versioned_name, alias=True)
            else:
                current = list(self.client.indices.get_alias(name=self.alias))
                if current != [self.versioned_name]:
                    self._migrate(current)
        self._ready = True

    def _create(self, name: str, *, alias: bool) -> None:
        self.client.indices.create(
            index=name,
            settings={"number_of_shards": 1, "number_of_replicas": self.replicas},
            mappings=MAPPINGS,
            aliases={self.alias: {"is_write_index": True}} if alias else None,
        )

    def _migrate(self, old: list[str]) -> None:
        """Zero-downtime reindex: build the new version beside the old, then swap the alias in one step."""
        self._create(self.versioned_name, alias=False)
        # client-side scan + bulk: works on every node, with or without the server's reindex module
        copies = (
            {"_op_type": "index", "_index": self.versioned_name, "_id": d["_id"], "_source": d["_source"]}
            for d in scan(self.client, index=self.alias, query={"query": {"match_all": {}}})
        )
        for _ in streaming_bulk(self.client, copies, chunk_size=200):
            pass
        self.client.indices.refresh(index=self.versioned_name)
        actions = [{"remove": {"index": name, "alias": self.alias}} for name in old]
        actions.append({"add": {"index": self.versioned_name, "alias": self.alias, "is_write_index": True}})
        self.client.indices.update_aliases(actions=actions)
        for name in old:
            self.client.indices.delete(index=name)

    def drop(self) -> None:
        """Delete the alias and every version behind it (tests and re-creation)."""
        with _engine_errors(self.url):
            versions = self.client.indices.get(index=f"{self.alias}-v*", allow_no_indices=True)
            for name in versions:  # by name: the engine refuses wildcard deletes
                self.client.indices.delete(index=name)
        self._ready = False

    # -- writes --------------------------------------------------------------------------------

    def put(self, documents: Iterable[TaggedDocument]) -> IndexWriteReport:
        self.ensure_index()
        records = [tagged_to_record(t) for t in documents]
        for record in records:
            grade = record.get("grade") or ""
            record["reliability"] = grade[:1] or None
            record["credibility"] = int(grade[1:]) if grade[1:] else None
        self._keep_reviews(records)
        actions = ({"_op_type": "index", "_index": self.alias, "_id": r["id"], "_source": r} for r in records)
        indexed, failed = 0, {}
        with _engine_errors(self.url):
            for ok, item in streaming_bulk(
                self.client, actions, chunk_size=200, refresh="wait_for", raise_on_error=False, max_retries=2
            ):
                result = item["index"]
                if ok:
                    indexed += 1
                else:
                    failed[result.get("_id", "?")] = str(result.get("error", "unknown error"))
        return IndexWriteReport(indexed=indexed, failed=failed)

    def _keep_reviews(self, records: list[dict[str, Any]]) -> None:
        """Re-ingesting a reviewed report does not put it back on the triage queue."""
        if not records:
            return
        with _engine_errors(self.url):
            found = self.client.mget(index=self.alias, ids=[r["id"] for r in records], source_includes=["review"])
        reviews = {d["_id"]: d["_source"].get("review") for d in found["docs"] if d.get("found")}
        for record in records:
            if not record.get("review") and reviews.get(record["id"]):
                record["review"] = reviews[record["id"]]

    def mark_reviewed(self, doc_id: str, reviewer: str, when: datetime) -> ReviewOutcome | None:
        self.ensure_index()
        review = {"reviewed_by": reviewer, "reviewed_at": when.isoformat()}
        with _engine_errors(self.url):
            for _ in range(3):
                try:
                    current = self.client.get(index=self.alias, id=doc_id, source_includes=["review"])
                except NotFoundError:
                    return None
                if current["_source"].get("review"):
                    return ReviewOutcome(current["_source"]["review"], newly_reviewed=False)
                try:
                    # optimistic concurrency: the write fails if anyone changed the report since the read
                    self.client.update(
                        index=current["_index"],
                        id=doc_id,
                        doc={"review": review},
                        if_seq_no=current["_seq_no"],
                        if_primary_term=current["_primary_term"],
                        refresh="wait_for",
                    )
                    return ReviewOutcome(review, newly_reviewed=True)
                except ConflictError:
                    continue  # read again: most likely another analyst reviewed it first
        raise IndexUnavailableError(f"search engine at {self.url}: report {doc_id} kept changing while being reviewed")

    def known_entity_keys(self, pairs: Iterable[tuple[str, str]], *, exclude_id: str | None = None) -> set[tuple[str, str]]:
        pairs = set(pairs)
        if not pairs:
            return set()
        self.ensure_index()
        labels = sorted({label for label, _ in pairs})
        aggs = {
            label: {
                "filter": {"term": {"entities.label": label}},
                "aggs": {"keys": {"terms": {"field": "entities.key", "include": sorted(k for l, k in pairs if l == label), "size": len(pairs)}}},
            }
            for label in labels
        }
        query: dict[str, Any] = {"bool": {"must_not": [{"ids": {"values": [exclude_id]}}] if exclude_id else []}}
        with _engine_errors(self.url):
            response = self.client.search(
                index=self.alias, size=0, query=query, aggs={"entities": {"nested": {"path": "entities"}, "aggs": aggs}}
            )
        found = set()
        for label in labels:
            found |= {(label, b["key"]) for b in response["aggregations"]["entities"][label]["keys"]["buckets"]}
        return found

    # -- reads ---------------------------------------------------------------------------------

    def get(self, doc_id: str) -> TaggedDocument | None:
        self.ensure_index()
        with _engine_errors(self.url):
            try:
                found = self.client.get(index=self.alias, id=doc_id)
            except NotFoundError:
                return None
        return tagged_from_record(found["_source"])

    def count(self) -> int:
        self.ensure_index()
        with _engine_errors(self.url):
            return int(self.client.count(index=self.alias)["count"])

    def _search(self, request: SearchRequest) -> SearchResult:
        self.ensure_index()
        with _engine_errors(self.url):
            response = self.client.search(index=self.alias, **build_search_body(request))
        hits = []
        for hit in response["hits"]["hits"]:
            fragments = hit.get("highlight", {}).get("text") or hit.get("highlight", {}).get("title")
            snippet = render_snippet(" … ".join(fragments)) if fragments else plain_snippet(hit["_source"]["text"])
            hits.append(_hit(hit, hit.get("_score"), snippet))
        return SearchResult(
            total=int(response["hits"]["total"]["value"]),
            page=request.page,
            size=request.size,
            hits=hits,
            facets=_facets(response["aggregations"]),
        )

    def nearest(self, vector: list[float], *, size: int = 10, exclude_id: str | None = None) -> list[SearchHit]:
        self.ensure_index()
        knn: dict[str, Any] = {
            "field": "embedding",
            "query_vector": list(vector),
            "k": size,
            "num_candidates": max(100, 4 * size),
        }
        if exclude_id is not None:
            knn["filter"] = {"bool": {"must_not": {"ids": {"values": [exclude_id]}}}}
        with _engine_errors(self.url):
            response = self.client.search(
                index=self.alias, knn=knn, size=size, source_includes=[*_HIT_FIELDS, "text"]
            )
        # The engine scores cosine as (1 + cos) / 2; report the cosine itself, as the embedded index does.
        return [
            _hit(hit, round(2 * hit["_score"] - 1, 4), plain_snippet(hit["_source"]["text"]))
            for hit in response["hits"]["hits"]
        ]

    def health(self) -> BackendHealth:
        try:
            state = self.client.options(request_timeout=3).cluster.health()
            documents = self.count()
        except (IndexUnavailableError, TransportError, ApiError) as exc:
            return BackendHealth(self.backend, self.url, False, None, str(exc))
        return BackendHealth(self.backend, self.url, True, documents, f"cluster {state['status']}")

    def close(self) -> None:
        self.client.close()


def build_search_body(request: SearchRequest) -> dict[str, Any]:
    """The search request as engine query DSL: words only ever reach `multi_match`, never a parser."""
    must: list[dict[str, Any]] = []
    if request.query.terms:
        must.append(
            {
                "multi_match": {
                    "query": " ".join(request.query.terms),
                    "fields": ["title^2", "text"],
                    "type": "cross_fields",  # each word in title or text
                    "operator": "and",
                }
            }
        )
    for words in request.query.phrases:
        must.append({"multi_match": {"query": " ".join(words), "fields": ["title^2", "text"], "type": "phrase"}})

    filters: list[dict[str, Any]] = []
    if request.domains:
        filters.append({"terms": {"domains": list(request.domains)}})
    for entity in request.entities:
        key = entity_key(normalize_entity(entity.label, entity.value))
        filters.append(
            {
                "nested": {
                    "path": "entities",
                    "query": {
                        "bool": {"filter": [{"term": {"entities.label": entity.label}}, {"term": {"entities.key": key}}]}
                    },
                }
            }
        )
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

    body: dict[str, Any] = {
        "query": {"bool": {"must": must or [{"match_all": {}}], "filter": filters}},
        "from": request.offset,
        "size": request.size,
        "track_total_hits": True,
        "source_includes": [*_HIT_FIELDS, "text"],
        "aggs": _facet_aggregations(request.facet_size),
    }
    by_date = [{"published": {"order": "desc", "missing": "_last"}}, {"ingested_at": {"order": "desc"}}]
    if request.sort == "priority":
        body["sort"] = [{"priority.score": {"order": "desc", "missing": "_last"}}, *by_date]
    elif request.sort == "date" or request.query.is_empty:
        body["sort"] = by_date
    if not request.query.is_empty:
        body["highlight"] = {
            "pre_tags": [MATCH_START],
            "post_tags": [MATCH_END],
            "fields": {
                "text": {"fragment_size": _SNIPPET_CHARS, "number_of_fragments": 1},
                "title": {"number_of_fragments": 0},
            },
        }
    return body


def _facet_aggregations(size: int) -> dict[str, Any]:
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
    }


def _facets(aggregations: dict[str, Any]) -> Facets:
    entities = {}
    for label in FACET_ENTITY_LABELS:
        buckets = aggregations["entities"][label]["values"]["buckets"]
        entities[label] = [
            FacetValue(b["display"]["buckets"][0]["key"] if b["display"]["buckets"] else b["key"], b["documents"]["doc_count"])
            for b in buckets
        ]
    return Facets(
        domains=[FacetValue(b["key"], b["doc_count"]) for b in aggregations["domains"]["buckets"]],
        entities=entities,
    )


def _hit(hit: dict[str, Any], score: float | None, snippet: str) -> SearchHit:
    return hit_from_record(hit["_source"], round(float(score), 4) if score is not None else None, snippet)


@contextmanager
def _engine_errors(url: str) -> Iterator[None]:
    """Connection failures and server errors become IndexUnavailableError; 4xx answers stay as they are."""
    try:
        yield
    except NotFoundError:
        raise
    except TransportError as exc:
        raise IndexUnavailableError(f"search engine at {url}: {exc}") from exc
    except ApiError as exc:
        if exc.meta.status >= 500:
            raise IndexUnavailableError(f"search engine at {url}: {exc}") from exc
        raise
