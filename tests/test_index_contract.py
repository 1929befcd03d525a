"""One contract, every backend: the embedded SQLite index and the search engine must behave alike
(Haystack's document-store test mixin pattern)."""

from __future__ import annotations


import pytest

from kunlun_nlp.document import Document
from kunlun_nlp.index.base import DocumentIndex
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
