"""One contract, every backend: the embedded SQLite index and the search engine must behave alike
(Haystack's document-store test mixin pattern)."""

from __future__ import annotations


from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from kunlun_nlp.document import Document
from kunlun_nlp.index.base import DocumentIndex
from kunlun_nlp.normalize import entity_key
from kunlun_nlp.search.request import EntityFilter, SearchRequest


def _ids(result) -> list[str]:
    return [hit.id for hit in result.hits]


class IndexContract:
    """Subclasses provide an `index` fixture: an empty DocumentIndex."""

    @pytest.fixture
    def loaded(self, index: DocumentIndex, tagged_corpus) -> DocumentIndex:
        report = index.put(tagged_corpus)
        assert report.indexed == len(tagged_corpus) and not report.failed
        return index

    def test_put_then_get_round_trips_every_field(self, index, tagged_corpus, seed_document):
        seed = next(t for t in tagged_corpus if t.id == seed_document.id)
        index.put([seed])
        stored = index.get(seed.id)
        assert stored is not None
        assert stored.document.text == seed.document.text
        assert stored.document.title == seed.document.title
        assert stored.document.ingested_at == seed.document.ingested_at
        assert [d.label for d in stored.domains] == [d.label for d in seed.domains]
        assert stored.entities == seed.entities
        assert stored.embedding == pytest.approx(seed.embedding, abs=1e-5)
        assert index.get("no-such-document") is None

    def test_same_document_twice_is_stored_once(self, index, tagged_corpus):
        first = tagged_corpus[0]
        index.put([first])
        index.put([first, first])
        assert index.count() == 1

    def test_seed_found_by_campaign_words_and_ministry(self, loaded, seed_document):
        for words in ("food safety", "intellectual property", '"environmental protection"'):
            assert seed_document.id in _ids(loaded.search(SearchRequest(text=words, size=50))), words
        for value in ("Ministry of Public Security", "the ministry of public security"):
            by_entity = loaded.search(SearchRequest(entities=(EntityFilter("ORG", value),)))
            assert _ids(by_entity) == [seed_document.id]

    def test_words_must_all_match_and_are_stemmed(self, loaded):
        every = set(_ids(loaded.search(SearchRequest(text="counterfeit", size=100))))
        both = set(_ids(loaded.search(SearchRequest(text="counterfeit seized", size=100))))
        assert both and both <= every
        # "seizures" and "seized" share the stem "seiz"
        assert loaded.search(SearchRequest(text="seizing")).total > 0

    def test_hostile_query_text_never_errors_or_widens(self, loaded):
        plain = loaded.search(SearchRequest(text="counterfeit", size=100)).total
        for hostile in ('counterfeit OR *', 'counterfeit" OR "a', "counterfeit) OR (x", "title:counterfeit*", "counterfeit NEAR(x y)"):
            assert loaded.search(SearchRequest(text=hostile, size=100)).total <= plain, hostile
        for nothing in ("*", '"" ()', "-", "&&"):
            assert loaded.search(SearchRequest(text=nothing)).total == 0, nothing

    def test_domain_filter_and_facets(self, loaded, tagged_corpus):
        expected = {t.id for t in tagged_corpus if "MEDICINE" in {d.label for d in t.domains}}
        result = loaded.search(SearchRequest(domains=("MEDICINE",), size=100))
        assert set(_ids(result)) == expected and result.total == len(expected)
        facet = {f.value: f.count for f in result.facets.domains}
        assert facet["MEDICINE"] == len(expected)
        everything = loaded.search(SearchRequest(size=100))
        assert everything.total == len(tagged_corpus)
        counts = {f.value: f.count for f in everything.facets.domains}
        for label, count in counts.items():
            assert count == sum(label in {d.label for d in t.domains} for t in tagged_corpus)

    def test_entity_facets_count_documents_not_mentions(self, loaded, tagged_corpus):
        facets = loaded.search(SearchRequest(size=1, facet_size=5)).facets.entities
        assert set(facets) == {"ORG", "LOC", "PRODUCT"}
        top_loc = facets["LOC"][0]
        filtered = loaded.search(SearchRequest(entities=(EntityFilter("LOC", top_loc.value),), size=100))
        assert filtered.total == top_loc.count
        assert [f.count for f in facets["ORG"]] == sorted((f.count for f in facets["ORG"]), reverse=True)

    def test_source_and_date_filters(self, loaded, sample_documents):
        dated = sorted((d for d in sample_documents if d.published), key=lambda d: d.published)
        middle = dated[len(dated) // 2].published
        result = loaded.search(SearchRequest(published_from=middle, size=100))
        assert set(_ids(result)) == {d.id for d in dated if d.published >= middle}
        result = loaded.search(SearchRequest(published_to=middle, size=100))
        assert set(_ids(result)) == {d.id for d in dated if d.published <= middle}
        source = sample_documents[0].source
        result = loaded.search(SearchRequest(sources=(source,), size=100))
        assert set(_ids(result)) == {d.id for d in sample_documents if d.source == source}

    def test_paging_and_date_sort(self, loaded, tagged_corpus):
        first = loaded.search(SearchRequest(sort="date", page=1, size=10))
        second = loaded.search(SearchRequest(sort="date", page=2, size=10))
        assert first.total == second.total == len(tagged_corpus)
        assert len(first.hits) == 10 and not set(_ids(first)) & set(_ids(second))
        dates = [h.published for h in first.hits + second.hits if h.published]
        assert dates == sorted(dates, reverse=True)
        last_page = loaded.search(SearchRequest(sort="date", page=4, size=10))
        assert len(last_page.hits) == len(tagged_corpus) - 30
        relevance = loaded.search(SearchRequest(text="counterfeit", size=100))
        scores = [h.score for h in relevance.hits]
        assert scores == sorted(scores, reverse=True)

    def test_snippets_mark_matches_and_escape_markup(self, index, pipeline):
        doc = Document.create("Inspectors found <script>alert(1)</script> fake honey & melamine at the depot.", id="xss")
        index.put(pipeline.tag([doc]))
        (hit,) = index.search(SearchRequest(text="melamine")).hits
        assert "<mark>melamine</mark>" in hit.snippet
        assert "<script>" not in hit.snippet and "&lt;script&gt;" in hit.snippet

    def test_similar_documents_by_embedding(self, loaded, tagged_corpus, pipeline):
        original = tagged_corpus[3]
        near_copy = Document.create(original.document.text + " Officials declined to comment further.", id="near-copy")
        loaded.put(pipeline.tag([near_copy]))
        hits = loaded.similar(original.id, size=5)
        assert original.id not in _ids_of(hits)
        assert hits[0].id == "near-copy" and hits[0].score > 0.95
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        assert len(hits) == 5
        assert loaded.similar("no-such-document") is None

    def test_triage_queue_orders_by_priority_and_review_takes_reports_off(self, loaded, tagged_corpus):
        queue = loaded.search(SearchRequest(reviewed=False, sort="priority", size=100))
        assert queue.total == len(tagged_corpus)
        priorities = [h.priority for h in queue.hits]
        assert None not in priorities and priorities == sorted(priorities, reverse=True)
        assert queue.hits[0].priority_reasons and queue.hits[0].grade == "F6"
        top = queue.hits[0].id
        when = datetime(2026, 11, 29, 10, 0, tzinfo=timezone.utc)
        outcome = loaded.mark_reviewed(top, "ana", when)
        assert outcome.newly_reviewed and outcome.review["reviewed_by"] == "ana"
        after = loaded.search(SearchRequest(reviewed=False, sort="priority", size=100))
        assert after.total == len(tagged_corpus) - 1 and top not in _ids(after)
        assert _ids(loaded.search(SearchRequest(reviewed=True))) == [top]
        again = loaded.mark_reviewed(top, "bo", when)
        assert not again.newly_reviewed and again.review["reviewed_by"] == "ana"
        assert loaded.mark_reviewed("no-such-document", "ana", when) is None
        # re-ingesting a reviewed report does not put it back on the queue
        loaded.put([next(t for t in tagged_corpus if t.id == top)])
        assert top not in _ids(loaded.search(SearchRequest(reviewed=False, size=100)))
        assert loaded.get(top).review["reviewed_by"] == "ana"

    def test_two_analysts_reviewing_at_once_one_wins(self, loaded, tagged_corpus):
        target = tagged_corpus[5].id
        when = datetime(2026, 11, 29, 10, 0, tzinfo=timezone.utc)
        with ThreadPoolExecutor(max_workers=4) as pool:
            outcomes = list(pool.map(lambda who: loaded.mark_reviewed(target, who, when), ["ana", "bo", "chen", "dara"]))
        winners = [o for o in outcomes if o.newly_reviewed]
        assert len(winners) == 1
        assert {o.review["reviewed_by"] for o in outcomes} == {winners[0].review["reviewed_by"]}

    def test_grade_filters_and_novelty_lookup(self, index, tagged_corpus):
        graded = replace(tagged_corpus[1], document=replace(tagged_corpus[1].document, grade="A1"))
        index.put([graded, *tagged_corpus[2:6]])
        assert _ids(index.search(SearchRequest(reliability=("A",)))) == [graded.id]
        assert _ids(index.search(SearchRequest(credibility=(1, 2)))) == [graded.id]
        assert index.search(SearchRequest(reliability=("F",), size=100)).total == 4
        elsewhere = {(e.label, entity_key(e.normalized)) for t in tagged_corpus[2:6] for e in t.entities}
        own = {(e.label, entity_key(e.normalized)) for e in graded.entities if e.label in ("ORG", "LOC")}
        unique = sorted(own - elsewhere)[0]  # an entity only this report names
        shared = sorted(pair for pair in elsewhere if pair[0] in ("ORG", "LOC"))[0]  # named by the others
        assert index.known_entity_keys({unique, shared, ("ORG", "no such firm")}) == {unique, shared}
        assert index.known_entity_keys({unique, shared}, exclude_id=graded.id) == {shared}

    def test_health_reports_backend_and_count(self, loaded, tagged_corpus):
        health = loaded.health()
        assert health.reachable and health.documents == len(tagged_corpus)
        assert health.backend == loaded.backend


def _ids_of(hits) -> list[str]:
    return [h.id for h in hits]


class TestEmbeddedIndex(IndexContract):
    @pytest.fixture
    def index(self, embedded_index):
        return embedded_index


@pytest.mark.engine
class TestSearchEngineIndex(IndexContract):
    @pytest.fixture
    def index(self, engine_index):
        return engine_index

    def test_alias_points_at_versioned_index(self, loaded):
        aliases = loaded.client.indices.get_alias(name=loaded.alias)
        assert list(aliases) == [loaded.versioned_name]
        mapping = loaded.client.indices.get_mapping(index=loaded.alias)[loaded.versioned_name]["mappings"]
        assert mapping["properties"]["text"]["analyzer"] == "english"
        assert mapping["properties"]["embedding"]["type"] == "dense_vector"

    def test_older_mapping_is_reindexed_behind_the_alias(self, engine_index):
        """Zero-downtime upgrade: the old version's documents move to the new one, the alias swaps."""
        old = f"{engine_index.alias}-v1"
        engine_index.client.indices.create(
            index=old,
            mappings={"properties": {"id": {"type": "keyword"}, "text": {"type": "text"}}},
            aliases={engine_index.alias: {"is_write_index": True}},
        )
        engine_index.client.index(index=old, id="old-1", document={"id": "old-1", "text": "an old report"}, refresh=True)
        engine_index.ensure_index()
        assert list(engine_index.client.indices.get_alias(name=engine_index.alias)) == [engine_index.versioned_name]
        assert engine_index.count() == 1
        assert not engine_index.client.indices.exists(index=old)
