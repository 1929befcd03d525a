"""The index contract: what every DocumentIndex backend must do, as pytest test mixins.

Haystack's document-store test pattern: each capability is a mixin of `test_` methods, and
`IndexContract` combines them. A backend proves itself with a test class that inherits it and
provides an `index` fixture, an empty index of that backend:

    class TestMyIndex(IndexContract):
        @pytest.fixture
        def index(self, tmp_path):
            index = MyIndex(tmp_path)
            yield index
            index.close()

Everything is fed with synthetic documents (kunlun_nlp.testing.synthetic), never the tagging
pipeline, so the contract depends only on the index.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, datetime, timezone

import numpy as np
import pytest

from kunlun_nlp.document import DomainScore, Review, TaggedDocument
from kunlun_nlp.index.base import EMBEDDING_DIMS, DocumentIndex, IndexWriteReport
from kunlun_nlp.labels import Correction, merge
from kunlun_nlp.normalize import entity_key
from kunlun_nlp.records import tagged_to_record
from kunlun_nlp.search.request import TOTAL_HITS_CAP, EntityFilter, SearchRequest
from kunlun_nlp.search.results import DateBucket, Facets, FacetValue, SearchHit, SearchResult
from kunlun_nlp.testing.synthetic import (
    ANCHOR_SEED,
    CLUSTER,
    SEED_ID,
    UNTAGGED_ES_ID,
    UNTAGGED_ZH_ID,
    cosine,
    synthetic_corpus,
    synthetic_document,
    synthetic_untagged,
    unit_vector,
    vector_at,
    with_embedding,
)

WHEN = datetime(2026, 11, 29, 10, 0, tzinfo=timezone.utc)
ALL = 100  # a page size that holds the whole synthetic corpus


def ids(result: SearchResult | list[SearchHit]) -> list[str]:
    hits = result.hits if isinstance(result, SearchResult) else result
    return [hit.id for hit in hits]


def by_id(corpus: Iterable[TaggedDocument], doc_id: str) -> TaggedDocument:
    return next(t for t in corpus if t.id == doc_id)


def _words(tagged: TaggedDocument) -> str:
    return f"{tagged.document.title} {tagged.document.text}".lower()


def _labels(tagged: TaggedDocument) -> set[str]:
    return {d.label for d in tagged.domains}


def _entity_keys(tagged: TaggedDocument, label: str) -> set[str]:
    return {entity_key(e.normalized) for e in tagged.entities if e.label == label}


class _Corpus:
    """Fixtures every mixin shares; subclasses provide `index`."""

    @pytest.fixture
    def corpus(self) -> list[TaggedDocument]:
        return synthetic_corpus()

    @pytest.fixture
    def loaded(self, index: DocumentIndex, corpus: list[TaggedDocument]) -> DocumentIndex:
        report = index.put(corpus)
        assert report == IndexWriteReport(indexed=len(corpus), failed={})
        return index


class WriteContract(_Corpus):
    def test_put_then_get_round_trips_every_field(self, index, corpus):
        originals = [by_id(corpus, SEED_ID), corpus[0], corpus[7]]  # with details; undated
        assert index.put(originals) == IndexWriteReport(indexed=3, failed={})
        for original in originals:
            stored = index.get(original.id)
            assert stored is not None
            assert stored.document == original.document
            assert stored.embedding == pytest.approx(original.embedding, abs=1e-6)
            assert replace(stored, embedding=original.embedding) == original
        assert index.get("no-such-document") is None

    def test_get_many_reads_the_stored_ids_in_the_order_given(self, loaded, corpus):
        wanted = [corpus[5].id, "no-such-document", SEED_ID, corpus[0].id, corpus[5].id]
        found = loaded.get_many(wanted)
        assert list(found) == [corpus[5].id, SEED_ID, corpus[0].id]  # the unknown id left out, the repeat once
        assert all(stored == loaded.get(doc_id) for doc_id, stored in found.items())  # whole, as get reads them
        assert loaded.get_many(t.id for t in corpus[:3]).keys() == {t.id for t in corpus[:3]}  # any iterable
        assert loaded.get_many([]) == {} and loaded.get_many(["no-such-document"]) == {}

    def test_same_document_twice_is_stored_once(self, index, corpus):
        first = corpus[0]
        index.put([first])
        assert index.put([first, first]) == IndexWriteReport(indexed=1, failed={})
        assert index.count() == 1
        retitled = replace(first, document=replace(first.document, title="A new title"))
        index.put([retitled])
        assert index.count() == 1 and index.get(first.id).document.title == "A new title"

    def test_partly_failed_write_stores_the_rest(self, index, corpus):
        good = corpus[:3]
        short = with_embedding(corpus[3], corpus[3].embedding[:128])
        zero = with_embedding(corpus[4], [0.0] * EMBEDDING_DIMS)
        digits = "7" * 40_000  # one term over the engine's 32,766-byte limit
        immense = synthetic_document("syn-immense", f"The ledger listed account {digits} twice.", entities=[("QUANTITY", digits)])
        report = index.put([good[0], short, good[1], zero, immense, good[2]])
        assert report.indexed == 3
        assert set(report.failed) == {short.id, zero.id, immense.id}
        assert all(reason.strip() for reason in report.failed.values())
        assert index.count() == 3
        assert all(index.get(t.id) is None for t in (short, zero, immense))
        assert set(ids(index.search(SearchRequest(size=ALL)))) == {t.id for t in good}


class CountContract(_Corpus):
    def test_count_counts_distinct_stored_documents(self, index, corpus):
        assert index.count() == 0
        index.put(corpus[:5])
        assert index.count() == 5
        index.put(corpus[3:])
        assert index.count() == len(corpus)

    def test_total_is_counted_up_to_a_cap_and_says_so(self, index, corpus):
        many = [synthetic_document(f"many-{i:05d}", f"Customs seized parcel {i}.", not_tagged="bulk") for i in range(TOTAL_HITS_CAP + 1)]
        assert index.put([*corpus[:2], *many]).indexed == len(many) + 2
        everything = index.search(SearchRequest(size=5))
        assert (everything.total, everything.total_exact, len(everything.hits)) == (TOTAL_HITS_CAP, False, 5)
        parcels = index.search(SearchRequest(text="customs parcel"))
        assert (parcels.total, parcels.total_exact) == (TOTAL_HITS_CAP, False)
        few = index.search(SearchRequest(text="parcel 17"))
        assert (few.total, few.total_exact) == (1, True)
        assert index.count() == len(many) + 2  # count() is exact
        # an export has no cap and no result window: every match, past the engine's 10,000
        exported = [t.id for batch in index.export(SearchRequest(text="customs parcel", sort="date")) for t in batch]
        assert len(exported) == len(set(exported)) == len(many)

    def test_health_reports_backend_and_count(self, loaded, corpus):
        health = loaded.health()
        assert health.reachable and health.documents == len(corpus)
        assert health.backend == loaded.backend


class FilterContract(_Corpus):
    def test_seed_found_by_campaign_words_and_ministry(self, loaded):
        for words in ("food safety", "intellectual property", '"environmental protection"'):
            assert ids(loaded.search(SearchRequest(text=words, size=ALL))) == [SEED_ID], words
        for value in ("Ministry of Public Security", "the ministry of public security"):
            assert ids(loaded.search(SearchRequest(entities=(EntityFilter("ORG", value),)))) == [SEED_ID]

    def test_words_must_all_match_and_are_stemmed(self, loaded, corpus):
        every = {t.id for t in corpus if "counterfeit" in _words(t)}
        both = {t.id for t in corpus if "counterfeit" in _words(t) and "seized" in _words(t)}
        assert both and both < every
        assert set(ids(loaded.search(SearchRequest(text="counterfeit", size=ALL)))) == every
        assert set(ids(loaded.search(SearchRequest(text="counterfeit seized", size=ALL)))) == both
        # "seizing" and "seized" share the stem "seiz"
        assert set(ids(loaded.search(SearchRequest(text="seizing", size=ALL)))) == {t.id for t in corpus if "seized" in _words(t)}

    def test_hostile_query_text_never_errors_or_widens(self, loaded):
        plain = loaded.search(SearchRequest(text="counterfeit", size=ALL)).total
        for hostile in ("counterfeit OR *", 'counterfeit" OR "a', "counterfeit) OR (x", "title:counterfeit*", "counterfeit NEAR(x y)"):
            assert loaded.search(SearchRequest(text=hostile, size=ALL)).total <= plain, hostile
        for nothing in ("*", '"" ()', "-", "&&"):
            assert loaded.search(SearchRequest(text=nothing)).total == 0, nothing

    def test_domain_filter_matches_any_of_the_domains(self, loaded, corpus):
        for domains in (("MEDICINE",), ("FOOD", "ENVIRONMENT")):
            expected = {t.id for t in corpus if _labels(t) & set(domains)}
            result = loaded.search(SearchRequest(domains=domains, size=ALL))
            assert set(ids(result)) == expected and result.total == len(expected), domains

    def test_entity_filters_must_all_match(self, loaded, corpus):
        lagos = {t.id for t in corpus if "lagos" in _entity_keys(t, "LOC")}
        assert set(ids(loaded.search(SearchRequest(entities=(EntityFilter("LOC", "lagos"),), size=ALL)))) == lagos
        firm = EntityFilter("ORG", "HUAXIN TRADING CO., LTD.")  # the legal form and case fold away
        both = {t.id for t in corpus if t.id in lagos and "huaxin trading" in _entity_keys(t, "ORG")}
        result = loaded.search(SearchRequest(entities=(EntityFilter("LOC", "Lagos"), firm), size=ALL))
        assert both and set(ids(result)) == both
        assert loaded.search(SearchRequest(entities=(EntityFilter("LOC", "Atlantis"),))).total == 0

    def test_source_and_date_filters(self, loaded, corpus):
        dated = sorted((t.document for t in corpus if t.document.published), key=lambda d: d.published)
        middle = dated[len(dated) // 2].published
        result = loaded.search(SearchRequest(published_from=middle, size=ALL))
        assert set(ids(result)) == {d.id for d in dated if d.published >= middle}
        result = loaded.search(SearchRequest(published_to=middle, size=ALL))
        assert set(ids(result)) == {d.id for d in dated if d.published <= middle}
        result = loaded.search(SearchRequest(published_from=middle, published_to=middle, size=ALL))
        assert set(ids(result)) == {d.id for d in dated if d.published == middle}
        for sources in (("wire",), ("wire", "ministry")):
            result = loaded.search(SearchRequest(sources=sources, size=ALL))
            assert set(ids(result)) == {t.id for t in corpus if t.document.source in sources}

    def test_grade_filters(self, loaded, corpus):
        def graded(reliability: str, credibility: set[int]) -> set[str]:
            return {
                t.id
                for t in corpus
                if t.document.grade and t.document.grade[0] in reliability and int(t.document.grade[1:]) in credibility
            }

        assert set(ids(loaded.search(SearchRequest(reliability=("A",), size=ALL)))) == graded("A", set(range(1, 7)))
        assert set(ids(loaded.search(SearchRequest(credibility=(1, 2), size=ALL)))) == graded("ABCDEF", {1, 2})
        both = loaded.search(SearchRequest(reliability=("B", "F"), credibility=(6,), size=ALL))
        assert set(ids(both)) == graded("BF", {6})

    def test_reviewed_filter(self, loaded, corpus):
        reviewed = {corpus[2].id, corpus[9].id}
        for doc_id in reviewed:
            loaded.mark_reviewed(doc_id, "ana", WHEN)
        yes = loaded.search(SearchRequest(reviewed=True, size=ALL))
        assert set(ids(yes)) == reviewed and {h.reviewed_by for h in yes.hits} == {"ana"}
        assert set(ids(loaded.search(SearchRequest(reviewed=False, size=ALL)))) == {t.id for t in corpus} - reviewed
        assert loaded.search(SearchRequest(reviewed=None, size=ALL)).total == len(corpus)

    def test_paging_and_date_sort(self, loaded, corpus):
        pages = [loaded.search(SearchRequest(sort="date", page=n, size=10)) for n in (1, 2, 3, 4)]
        assert {p.total for p in pages} == {len(corpus)}
        assert [len(p.hits) for p in pages] == [10, 10, 10, len(corpus) - 30]
        every = [hit for page in pages for hit in page.hits]
        assert len({h.id for h in every}) == len(corpus)  # no report on two pages
        dates = [h.published for h in every]
        dated = [d for d in dates if d]
        assert dated == sorted(dated, reverse=True) and dates == dated + [None] * (len(dates) - len(dated))
        assert loaded.search(SearchRequest(sort="date", page=5, size=10)).hits == []

    def test_priority_and_relevance_sorts(self, loaded, corpus):
        by_priority = loaded.search(SearchRequest(sort="priority", size=ALL))
        expected = sorted((t.priority.score for t in corpus), reverse=True)
        assert [h.priority for h in by_priority.hits] == expected
        relevance = loaded.search(SearchRequest(text="counterfeit", size=ALL))
        scores = [h.score for h in relevance.hits]
        assert None not in scores and scores == sorted(scores, reverse=True)
        newest = loaded.search(SearchRequest(text="counterfeit", sort="date", size=ALL))
        assert set(ids(newest)) == set(ids(relevance))
        dated = [h.published for h in newest.hits if h.published]
        assert dated == sorted(dated, reverse=True)

    def test_text_and_filters_combine(self, loaded, corpus):
        expected = {t.id for t in corpus if "counterfeit" in _words(t) and "MEDICINE" in _labels(t)}
        result = loaded.search(SearchRequest(text="counterfeit", domains=("MEDICINE",), size=ALL))
        assert expected and set(ids(result)) == expected and result.total == len(expected)

    def test_snippets_mark_matches_and_escape_markup(self, index):
        text = "Inspectors found <script>alert(1)</script> fake honey & melamine at the depot."
        index.put([synthetic_document("xss", text, title="<b>Depot</b>")])
        (hit,) = index.search(SearchRequest(text="melamine")).hits
        assert "<mark>melamine</mark>" in hit.snippet
        assert "<script>" not in hit.snippet and "&lt;script&gt;" in hit.snippet
        (plain,) = index.search(SearchRequest()).hits  # no words: the opening of the text, escaped
        assert "<" not in plain.snippet.replace("<mark>", "").replace("</mark>", "") and "&amp;" in plain.snippet
        assert plain.title == "<b>Depot</b>"  # the title is data; clients escape it


class FacetContract(_Corpus):
    def test_domain_facets_count_matching_documents(self, loaded, corpus):
        everything = loaded.search(SearchRequest(size=1, facets=True))
        assert everything.total == len(corpus)
        expected = Counter(label for t in corpus for label in _labels(t))
        assert {f.value: f.count for f in everything.facets.domains} == expected
        counts = [f.count for f in everything.facets.domains]
        assert counts == sorted(counts, reverse=True)
        medicine = loaded.search(SearchRequest(domains=("MEDICINE",), size=1, facets=True))
        within = Counter(label for t in corpus if "MEDICINE" in _labels(t) for label in _labels(t))
        assert {f.value: f.count for f in medicine.facets.domains} == within

    def test_entity_facets_count_documents_not_mentions(self, loaded, corpus):
        facets = loaded.search(SearchRequest(size=1, facet_size=10, facets=True)).facets.entities
        assert set(facets) == {"ORG", "LOC", "PRODUCT"}
        for label, values in facets.items():
            documents = Counter(e.normalized for t in corpus for e in {e.normalized: e for e in t.entities if e.label == label}.values())
            assert {f.value: f.count for f in values} == dict(documents), label
            assert [f.count for f in values] == sorted((f.count for f in values), reverse=True)
        top_loc = facets["LOC"][0]
        assert loaded.search(SearchRequest(entities=(EntityFilter("LOC", top_loc.value),))).total == top_loc.count

    def test_facets_follow_filters_and_facet_size(self, loaded, corpus):
        result = loaded.search(SearchRequest(domains=("FOOD",), size=1, facet_size=2, facets=True))
        food = [t for t in corpus if "FOOD" in _labels(t)]
        for label, values in result.facets.entities.items():
            documents = Counter(e.normalized for t in food for e in {e.normalized: e for e in t.entities if e.label == label}.values())
            assert len(values) == min(2, len(documents)), label
            assert all(documents[f.value] == f.count for f in values), label
            assert [f.count for f in values] == sorted(documents.values(), reverse=True)[: len(values)], label


    def test_facets_only_when_asked(self, loaded, corpus):
        plain = loaded.search(SearchRequest(text="counterfeit", size=ALL))
        assert plain.facets == Facets() and plain.total > 0
        asked = loaded.search(SearchRequest(text="counterfeit", size=ALL, facets=True))
        assert asked.facets.domains and set(asked.facets.entities) == {"ORG", "LOC", "PRODUCT"}
        assert ids(asked) == ids(plain) and asked.total == plain.total

    def test_entity_facets_show_the_first_name_of_a_key(self, index, corpus):
        """Names that differ only in case are one value, shown by the first of them in sort order."""
        shouting = synthetic_document("loud", "HUAXIN TRADING shipped fake honey.", entities=[("ORG", "HUAXIN TRADING")])
        shouting = replace(shouting, entities=[replace(e, normalized="HUAXIN TRADING") for e in shouting.entities])
        index.put([by_id(corpus, "syn-00"), shouting])
        (huaxin,) = [f for f in index.search(SearchRequest(facets=True)).facets.entities["ORG"] if f.value.casefold() == "huaxin trading"]
        assert huaxin == FacetValue("HUAXIN TRADING", 2)  # before "Huaxin Trading", the name syn-00 gives it

    def test_subtype_and_source_facets_count_matching_documents(self, loaded, corpus):
        facets = loaded.search(SearchRequest(size=1, facets=True)).facets
        assert facets.subtypes == [
            FacetValue("FOOD.COUNTERFEIT", 9), FacetValue("MEDICINE.COUNTERFEIT", 8),
            FacetValue("ENVIRONMENT.COUNTERFEIT", 7), FacetValue("INTELLECTUAL_PROPERTY.COUNTERFEIT", 7),  # a tie: by value
        ]
        # the eight reports of no known source ("") are not a value
        assert facets.sources == [
            FacetValue("customs-bulletin", 9), FacetValue("ngo-watch", 9), FacetValue("wire", 9), FacetValue("ministry", 1),
        ]
        assert {f.value: f.count for f in facets.subtypes} == Counter(s.label for t in corpus for s in t.subtypes)
        food = loaded.search(SearchRequest(domains=("FOOD",), size=1, facet_size=1, facets=True)).facets
        assert food.subtypes == [FacetValue("FOOD.COUNTERFEIT", 9)]  # of 10 FOOD reports; the 10th's sub-type is IP's
        assert food.sources == [FacetValue("customs-bulletin", 8)]
        wire = loaded.search(SearchRequest(sources=("wire",), text="inspected", size=1, facets=True)).facets
        expected = Counter(s.label for t in corpus if t.document.source == "wire" and "inspected" in _words(t) for s in t.subtypes)
        assert {f.value: f.count for f in wire.subtypes} == expected == {"MEDICINE.COUNTERFEIT": 8}
        assert wire.sources == [FacetValue("wire", 9)]

    def test_subtype_filter_keeps_reports_of_any_of_the_sub_types(self, loaded, corpus):
        """The sidebar's sub-type click: reports carrying any of the named sub-types."""
        wanted = ("FOOD.COUNTERFEIT", "MEDICINE.COUNTERFEIT")
        found = loaded.search(SearchRequest(subtypes=wanted, size=ALL, facets=True))
        assert sorted(ids(found)) == sorted(t.document.id for t in corpus if {s.label for s in t.subtypes} & set(wanted))
        assert found.total == 17 and {f.value for f in found.facets.subtypes} == set(wanted)
        assert loaded.search(SearchRequest(subtypes=("FOOD.ADULTERATION",))).total == 0

    def test_published_facet_counts_reports_per_month_with_their_domains(self, loaded, corpus):
        published = loaded.search(SearchRequest(size=1, facets=True)).facets.published
        food, medicine, environment, ip = "FOOD", "MEDICINE", "ENVIRONMENT", "INTELLECTUAL_PROPERTY"
        assert published == [
            DateBucket(date(2024, 1, 1), 4, {medicine: 2, food: 1, environment: 1, ip: 1}),
            DateBucket(date(2024, 2, 1), 3, {food: 1, medicine: 1, environment: 1}),
            DateBucket(date(2024, 3, 1), 3, {food: 1, medicine: 1, environment: 1, ip: 1}),
            DateBucket(date(2024, 4, 1), 4, {food: 2, ip: 2, environment: 1}),  # with the seed notice of April 1st
            DateBucket(date(2024, 5, 1), 2, {food: 1, environment: 1}),
            DateBucket(date(2024, 6, 1), 4, {medicine: 1, environment: 1, ip: 1}),  # and one of none of the four
            DateBucket(date(2024, 7, 1), 2, {medicine: 1, environment: 1}),
            DateBucket(date(2024, 8, 1), 4, {environment: 2, food: 1, medicine: 1}),
            DateBucket(date(2024, 9, 1), 3, {food: 1, medicine: 1, environment: 1, ip: 1}),
            DateBucket(date(2024, 10, 1), 2, {food: 1, medicine: 1}),
            DateBucket(date(2024, 11, 1), 1, {}),
        ]
        assert sum(b.count for b in published) == sum(1 for t in corpus if t.document.published) == 32  # 4 undated
        for bucket in published:  # most first, ties by label
            assert list(bucket.domains.items()) == sorted(bucket.domains.items(), key=lambda pair: (-pair[1], pair[0]))
        # every filter applies: FOOD reports from April on, each bucket with all their domains
        since_april = loaded.search(SearchRequest(domains=(food,), published_from=date(2024, 4, 1), facets=True)).facets.published
        assert since_april == [
            DateBucket(date(2024, 4, 1), 2, {food: 2, environment: 1, ip: 1}),
            DateBucket(date(2024, 5, 1), 1, {food: 1}),
            DateBucket(date(2024, 8, 1), 1, {food: 1}),
            DateBucket(date(2024, 9, 1), 1, {food: 1}),
            DateBucket(date(2024, 10, 1), 1, {food: 1}),
        ]
        assert loaded.search(SearchRequest(text="ministry", facets=True)).facets.published == [
            DateBucket(date(2024, 4, 1), 1, {food: 1, environment: 1, ip: 1})
        ]
        assert loaded.search(SearchRequest(text="nosuchword", facets=True)).facets.published == []

    def test_published_facet_weeks_start_on_monday(self, index):
        days = {
            "sunday-before": date(2024, 3, 31), "monday": date(2024, 4, 1), "sunday": date(2024, 4, 7),
            "new-year-eve": date(2023, 12, 31), "new-year": date(2024, 1, 1), "before-1970": date(1969, 12, 31),
        }
        reports = [
            synthetic_document(doc_id, f"Customs seized fake honey ({doc_id}).", domains={"FOOD": 0.9}, published=day)
            for doc_id, day in days.items()
        ]
        undated = synthetic_document("undated", "Customs seized fake honey again.", domains={"FOOD": 0.9})
        index.put([*reports, undated])
        weeks = index.search(SearchRequest(facets=True, interval="week")).facets.published
        assert [(b.start, b.count, b.domains) for b in weeks] == [
            (date(1969, 12, 29), 1, {"FOOD": 1}),  # a Wednesday's Monday, before day 0
            (date(2023, 12, 25), 1, {"FOOD": 1}),
            (date(2024, 1, 1), 1, {"FOOD": 1}),
            (date(2024, 3, 25), 1, {"FOOD": 1}),
            (date(2024, 4, 1), 2, {"FOOD": 2}),  # Monday to Sunday
        ]
        months = index.search(SearchRequest(facets=True, interval="month")).facets.published
        assert [(b.start, b.count) for b in months] == [
            (date(1969, 12, 1), 1), (date(2023, 12, 1), 1), (date(2024, 1, 1), 1), (date(2024, 3, 1), 1), (date(2024, 4, 1), 2),
        ]
        years = index.search(SearchRequest(facets=True, interval="year")).facets.published
        assert [(b.start, b.count, b.domains) for b in years] == [
            (date(1969, 1, 1), 1, {"FOOD": 1}), (date(2023, 1, 1), 1, {"FOOD": 1}), (date(2024, 1, 1), 4, {"FOOD": 4}),
        ]


class NearestContract(_Corpus):
    def test_nearest_orders_by_cosine(self, loaded, corpus):
        anchor = unit_vector(ANCHOR_SEED)
        hits = loaded.nearest(anchor, size=len(CLUSTER))
        assert ids(hits) == [doc_id for doc_id, _ in CLUSTER]
        assert [h.score for h in hits] == pytest.approx([c for _, c in CLUSTER], abs=1e-3)
        assert hits[0].title == by_id(corpus, CLUSTER[0][0]).document.title
        every = loaded.nearest(anchor, size=ALL)
        assert len(every) == len(corpus)
        assert [h.score for h in every] == sorted((h.score for h in every), reverse=True)
        for hit in every:
            assert hit.score == pytest.approx(cosine(anchor, by_id(corpus, hit.id).embedding), abs=1e-3)

    def test_nearest_excludes_and_limits(self, loaded):
        anchor = unit_vector(ANCHOR_SEED)
        cluster = [doc_id for doc_id, _ in CLUSTER]
        assert ids(loaded.nearest(anchor, size=4, exclude_id=cluster[0])) == cluster[1:5]
        assert ids(loaded.nearest(anchor, size=2)) == cluster[:2]
        assert ids(loaded.nearest(anchor, size=1, exclude_id="no-such-document")) == cluster[:1]

    def test_nearest_finds_the_true_neighbours_among_thousands(self, index):
        """Backends may search an approximate index (HNSW): its answers must still be the true
        nearest neighbours, each scored by its exact cosine."""
        rng = np.random.default_rng(12)
        centres = rng.standard_normal((40, EMBEDDING_DIMS))
        vectors = centres[rng.integers(0, 40, 3_000)] + 0.5 * rng.standard_normal((3_000, EMBEDDING_DIMS))  # clustered, as text is
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        index.put([synthetic_document(f"vec-{i:04d}", f"Parcel {i}.", embedding=v.tolist()) for i, v in enumerate(vectors)])
        found, expected = 0, 0
        for q in range(20):
            query = vectors[q * 97] + 0.3 * rng.standard_normal(EMBEDDING_DIMS) / np.sqrt(EMBEDDING_DIMS)
            exact = vectors @ (query / np.linalg.norm(query))
            truth = {f"vec-{i:04d}" for i in np.argsort(-exact)[:10]}
            hits = index.nearest(query.tolist(), size=10)
            assert len(hits) == 10 and [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
            for hit in hits:
                assert hit.score == pytest.approx(float(exact[int(hit.id[4:])]), abs=2e-3)
            found += len(truth & set(ids(hits)))
            expected += len(truth)
        assert found / expected >= 0.98

    def test_similar_documents_by_embedding(self, loaded, corpus):
        original = corpus[20]
        near_copy = with_embedding(original, vector_at(original.embedding, 0.99, seed=1), doc_id="near-copy")
        loaded.put([near_copy])
        hits = loaded.similar(original.id, size=5)
        assert original.id not in ids(hits) and len(hits) == 5
        assert hits[0].id == "near-copy" and hits[0].score == pytest.approx(0.99, abs=1e-3)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        assert loaded.similar("no-such-document") is None


class ReviewContract(_Corpus):
    def test_triage_queue_orders_by_priority(self, loaded, corpus):
        queue = loaded.search(SearchRequest(reviewed=False, sort="priority", size=ALL))
        assert queue.total == len(corpus)
        assert [h.priority for h in queue.hits] == sorted((t.priority.score for t in corpus), reverse=True)
        top = by_id(corpus, SEED_ID)
        assert queue.hits[0].id == SEED_ID and queue.hits[0].grade == top.document.grade
        assert queue.hits[0].priority_reasons == top.priority.reasons

    def test_mark_reviewed_takes_the_report_off_the_queue(self, loaded, corpus):
        outcome = loaded.mark_reviewed(SEED_ID, "ana", WHEN)
        assert outcome.newly_reviewed and outcome.review == Review("ana", WHEN)
        after = loaded.search(SearchRequest(reviewed=False, sort="priority", size=ALL))
        assert after.total == len(corpus) - 1 and SEED_ID not in ids(after)
        (hit,) = loaded.search(SearchRequest(reviewed=True)).hits
        assert hit.id == SEED_ID and hit.reviewed_by == "ana"
        again = loaded.mark_reviewed(SEED_ID, "bo", datetime(2026, 12, 1, tzinfo=timezone.utc))
        assert not again.newly_reviewed and again.review == Review("ana", WHEN)
        assert loaded.get(SEED_ID).review == Review("ana", WHEN)
        assert loaded.mark_reviewed("no-such-document", "ana", WHEN) is None

    def test_reingest_keeps_the_review(self, loaded, corpus):
        loaded.mark_reviewed(SEED_ID, "ana", WHEN)
        seed = by_id(corpus, SEED_ID)
        assert seed.review is None
        assert loaded.put([replace(seed, model="retagged")]) == IndexWriteReport(indexed=1, failed={})
        stored = loaded.get(SEED_ID)
        assert stored.review == Review("ana", WHEN) and stored.model == "retagged"
        assert SEED_ID not in ids(loaded.search(SearchRequest(reviewed=False, size=ALL)))

    def test_reingest_with_changed_text_keeps_the_reviewed_version_and_requeues(self, loaded, corpus):
        loaded.mark_reviewed(SEED_ID, "ana", WHEN)
        seed = by_id(corpus, SEED_ID)
        rewrapped = replace(seed, document=replace(seed.document, text=seed.document.text.replace(" ", "\n", 3)))
        loaded.put([rewrapped])
        assert loaded.get(SEED_ID).review == Review("ana", WHEN)  # the same words: still reviewed
        assert loaded.get(SEED_ID).history == []

        corrected = seed.document.text + " Update: two more suspects were arrested."
        loaded.put([replace(seed, document=replace(seed.document, text=corrected, title="Updated"))])
        stored = loaded.get(SEED_ID)
        assert stored.review is None and stored.document.text == corrected  # new words: back on the queue
        assert SEED_ID in ids(loaded.search(SearchRequest(reviewed=False, size=ALL)))
        (earlier,) = stored.history
        assert (earlier.title, earlier.text, earlier.review) == (seed.document.title, rewrapped.document.text, Review("ana", WHEN))

        later = datetime(2026, 12, 2, tzinfo=timezone.utc)
        loaded.mark_reviewed(SEED_ID, "bo", later)
        loaded.put([replace(seed, document=replace(seed.document, text=corrected + " And a third."))])
        history = loaded.get(SEED_ID).history
        assert [(v.review.reviewed_by, v.text) for v in history] == [("ana", rewrapped.document.text), ("bo", corrected)]
        assert loaded.get(SEED_ID).review is None

    def test_a_review_keeps_its_note(self, loaded, corpus):
        note = "Checked with the customs office: a genuine seizure, 带 \"quotes\" & <b>markup</b>.\n" + "x" * 1_900
        outcome = loaded.mark_reviewed(SEED_ID, "ana", WHEN, note)
        assert outcome.newly_reviewed and outcome.review == Review("ana", WHEN, note)
        assert loaded.get(SEED_ID).review == Review("ana", WHEN, note)
        (hit,) = loaded.search(SearchRequest(reviewed=True)).hits
        assert (hit.id, hit.reviewed_by, hit.review_note) == (SEED_ID, "ana", note)
        again = loaded.mark_reviewed(SEED_ID, "bo", datetime(2026, 12, 1, tzinfo=timezone.utc), "my note instead")
        assert not again.newly_reviewed and again.review == Review("ana", WHEN, note)  # the first review, with its note
        plain = loaded.mark_reviewed(corpus[0].id, "bo", WHEN)  # no note: none stored
        assert plain.review == Review("bo", WHEN) and loaded.get(corpus[0].id).review.note is None
        assert loaded.search(SearchRequest(text="Huaxin", reviewed=True)).hits[0].review_note is None
        seed = by_id(corpus, SEED_ID)
        loaded.put([seed])  # the same words again: the review stays, note and all
        assert loaded.get(SEED_ID).review == Review("ana", WHEN, note)
        loaded.put([replace(seed, document=replace(seed.document, text=seed.document.text + " Update."))])
        (earlier,) = loaded.get(SEED_ID).history  # new words: the reviewed version keeps the note
        assert earlier.review == Review("ana", WHEN, note) and loaded.get(SEED_ID).review is None

    def test_two_analysts_reviewing_at_once_one_wins(self, loaded, corpus):
        target = corpus[5].id
        with ThreadPoolExecutor(max_workers=4) as pool:
            outcomes = list(pool.map(lambda who: loaded.mark_reviewed(target, who, WHEN), ["ana", "bo", "chen", "dara"]))
        winners = [o for o in outcomes if o.newly_reviewed]
        assert len(winners) == 1
        assert {o.review for o in outcomes} == {winners[0].review}
        assert loaded.get(target).review == winners[0].review

    def test_reingest_racing_a_review_never_loses_it(self, index, corpus):
        """Writers re-ingest the same reports over and over while analysts review them: every
        review must survive (a write based on a copy read before the review must not land)."""
        targets = corpus[:8]
        index.put(targets)
        stop = threading.Event()
        reports: list[IndexWriteReport] = []

        def rewrite() -> None:
            while not stop.is_set():
                reports.append(index.put(targets))

        def review(position: int) -> None:
            time.sleep(0.05 * position)  # spread over the writers' rounds
            index.mark_reviewed(targets[position].id, f"analyst-{position}", WHEN)

        with ThreadPoolExecutor(max_workers=6 + len(targets)) as pool:
            writers = [pool.submit(rewrite) for _ in range(6)]
            try:
                list(pool.map(review, range(len(targets))))
                time.sleep(0.2)  # let writes that read before the last review land
            finally:
                stop.set()
            for writer in writers:
                writer.result()
        assert reports and all(not r.failed for r in reports)
        for position, tagged in enumerate(targets):
            assert index.get(tagged.id).review == Review(f"analyst-{position}", WHEN), tagged.id
        assert not set(ids(index.search(SearchRequest(reviewed=False, size=ALL)))) & {t.id for t in targets}

    def test_known_entity_keys_for_novelty(self, index, corpus):
        graded, others = corpus[1], corpus[2:6]
        index.put([graded, *others])
        elsewhere = {(e.label, entity_key(e.normalized)) for t in others for e in t.entities}
        own = {(e.label, entity_key(e.normalized)) for e in graded.entities}
        unique = sorted(own - elsewhere)[0]  # an entity only this report names
        shared = sorted(own & elsewhere)[0]  # named by the others too
        assert index.known_entity_keys({unique, shared, ("ORG", "no such firm")}) == {unique, shared}
        assert index.known_entity_keys({unique, shared}, exclude_id=graded.id) == {shared}
        assert index.known_entity_keys(set()) == set()

    def test_known_entity_keys_for_a_batch_equal_one_by_one(self, index, corpus):
        index.put(corpus[1:8])
        asked = {t.id: {(e.label, entity_key(e.normalized)) for e in t.entities} for t in corpus[:10]}  # 0, 8, 9 not stored
        asked["nothing-named"] = set()
        asked["unknown-firm"] = {("ORG", "no such firm"), ("PRODUCT", "insulin pens")}
        batch = index.known_entity_keys_many(asked)
        assert batch == {doc_id: index.known_entity_keys(pairs, exclude_id=doc_id) for doc_id, pairs in asked.items()}
        assert batch["unknown-firm"] == {("PRODUCT", "insulin pens")} and batch["nothing-named"] == set()
        assert any(batch[t.id] != asked[t.id] for t in corpus[1:8])  # a report's own entities are not "known" to it


class LanguageContract(_Corpus):
    """Languages are stored and filtered; reports the models did not tag are stored for their words."""

    @pytest.fixture
    def untagged(self) -> list[TaggedDocument]:
        return synthetic_untagged()

    def test_language_filter_matches_any_of_the_languages(self, loaded, corpus):
        for languages in (("es",), ("en", "fr"), ("de",)):
            expected = {t.id for t in corpus if t.document.language in languages}
            result = loaded.search(SearchRequest(languages=languages, size=ALL))
            assert set(ids(result)) == expected and result.total == len(expected), languages
            assert {h.language for h in result.hits} <= set(languages)
        both = loaded.search(SearchRequest(text="counterfeit", languages=("en",), size=ALL))
        assert set(ids(both)) == {t.id for t in corpus if "counterfeit" in _words(t) and t.document.language == "en"}

    def test_language_facet_counts_documents_of_known_language(self, loaded, corpus):
        facet = loaded.search(SearchRequest(size=1, facets=True)).facets.languages
        expected = Counter(t.document.language for t in corpus if t.document.language)
        assert {f.value: f.count for f in facet} == expected
        assert [f.count for f in facet] == sorted(expected.values(), reverse=True)

    def test_untagged_reports_round_trip_without_an_embedding(self, index, corpus, untagged):
        assert index.put([*corpus[:3], *untagged]) == IndexWriteReport(indexed=5, failed={})
        for original in untagged:
            stored = index.get(original.id)
            assert stored == original and stored.embedding == [] and stored.not_tagged
        assert index.get(corpus[0].id).furniture == corpus[0].furniture != []

    def test_untagged_reports_are_found_by_their_words_and_language(self, index, corpus, untagged):
        index.put([*corpus[:3], *untagged])
        for words, expected in (("aceite", [UNTAGGED_ES_ID]), ("Jaén", [UNTAGGED_ES_ID]), ("瘦肉精", [UNTAGGED_ZH_ID])):
            assert ids(index.search(SearchRequest(text=words, size=ALL))) == expected, words
        # a word in an ideographic script matches as a run of characters, anywhere in the text
        assert ids(index.search(SearchRequest(text="驻马店 生猪", size=ALL))) == [UNTAGGED_ZH_ID]
        assert index.search(SearchRequest(text="马店驻", size=ALL)).total == 0
        (hit,) = index.search(SearchRequest(languages=("zh",), size=ALL)).hits
        assert hit.id == UNTAGGED_ZH_ID and hit.not_tagged and hit.domains == [] and hit.priority is None
        assert hit.title == "驻马店警方查获瘦肉精" and hit.score is None

    def test_untagged_reports_have_no_neighbours(self, index, corpus, untagged):
        index.put([*corpus[:3], *untagged])
        assert set(ids(index.nearest(corpus[0].embedding, size=ALL))) == {t.id for t in corpus[:3]}
        assert index.similar(UNTAGGED_ZH_ID) == []
        assert UNTAGGED_ES_ID not in ids(index.similar(corpus[0].id, size=ALL))

    def test_a_tagged_report_still_needs_its_embedding(self, index, corpus):
        report = index.put([with_embedding(corpus[0], [])])
        assert report.indexed == 0 and set(report.failed) == {corpus[0].id}


class ScanContract(_Corpus):
    """A walk over the whole index (re-tagging, label-next): every document once, in batches."""

    def test_scan_of_an_empty_index_yields_nothing(self, index):
        assert list(index.scan()) == []

    def test_scan_yields_every_document_once_in_batches(self, index, corpus):
        untagged = synthetic_untagged()
        index.put([*corpus, *untagged])
        batches = list(index.scan(batch_size=7))
        assert all(1 <= len(batch) <= 7 for batch in batches)
        walked = [tagged for batch in batches for tagged in batch]
        assert Counter(t.id for t in walked) == Counter(t.id for t in [*corpus, *untagged])
        for tagged in walked:  # whole documents, as get returns them
            stored = index.get(tagged.id)
            assert replace(tagged, embedding=stored.embedding) == stored
            assert tagged.embedding == pytest.approx(stored.embedding, abs=1e-6)
        assert [len(b) for b in index.scan(batch_size=len(walked))] == [len(walked)]

    def test_a_document_rewritten_during_the_scan_comes_once(self, loaded, corpus):
        walk = loaded.scan(batch_size=5)
        seen = [t.id for t in next(walk)]
        later = next(t for t in reversed(corpus) if t.id not in seen)
        loaded.put([replace(later, document=replace(later.document, title="Rewritten meanwhile"))])
        seen += [t.id for batch in walk for t in batch]
        assert Counter(seen) == Counter(t.id for t in corpus)


class CorrectionContract(_Corpus):
    """Human corrections over the stored tags (kunlun_nlp.labels): searchable at once, and kept
    over every later write of the same document."""

    @staticmethod
    def _medicine_only(corpus: list[TaggedDocument]) -> TaggedDocument:
        return next(t for t in corpus if _labels(t) == {"MEDICINE"} and t.entities)

    @staticmethod
    def _label(tagged: TaggedDocument, *earlier: Correction, **fields) -> tuple[Correction, dict]:
        correction = Correction.create(tagged.id, by="ana", at=WHEN, **fields).checked_against(tagged_to_record(tagged))
        return correction, merge([*earlier, correction])

    @staticmethod
    def _word(tagged: TaggedDocument) -> tuple[int, int]:
        """A word of the text no entity covers."""
        taken = {i for e in tagged.entities for i in range(e.start, e.end)}
        word = next(m for m in re.finditer(r"[A-Za-z]{5,}", tagged.document.text) if not taken & set(range(*m.span())))
        return word.span()

    def test_a_correction_is_searchable_at_once(self, loaded, corpus):
        doc = self._medicine_only(corpus)
        start, end = self._word(doc)
        gone = doc.entities[0]
        environment_before = sum(1 for t in corpus if "ENVIRONMENT" in _labels(t))
        _, label = self._label(doc, domains=["ENVIRONMENT"], add=[(start, end, "PRODUCT")], remove=[(gone.start, gone.end)])
        corrected = loaded.apply_correction(doc.id, label)
        assert [d.label for d in corrected.domains] == ["ENVIRONMENT"]
        assert corrected.domain_scores == doc.domain_scores and corrected.model == doc.model  # the model's own, kept
        assert corrected.correction["by"] == "ana" and corrected.correction["count"] == 1
        assert corrected.subtypes == []  # the model's MEDICINE sub-type is not under ENVIRONMENT
        mention = doc.document.text[start:end]
        assert any((e.start, e.end, e.label, e.text) == (start, end, "PRODUCT", mention) for e in corrected.entities)
        assert not any((e.start, e.end) == (gone.start, gone.end) for e in corrected.entities)
        stored = loaded.get(doc.id)
        assert replace(stored, embedding=corrected.embedding) == corrected
        assert doc.id in ids(loaded.search(SearchRequest(domains=("ENVIRONMENT",), size=ALL)))
        assert doc.id not in ids(loaded.search(SearchRequest(domains=("MEDICINE",), size=ALL)))
        assert doc.id in ids(loaded.search(SearchRequest(entities=(EntityFilter("PRODUCT", mention),), size=ALL)))
        facets = loaded.search(SearchRequest(facets=True)).facets
        assert FacetValue("ENVIRONMENT", environment_before + 1) in facets.domains
        assert loaded.count() == len(corpus)
        assert loaded.apply_correction("no-such-document", label) is None

    def test_a_later_label_replaces_the_earlier(self, loaded, corpus):
        doc = self._medicine_only(corpus)
        first, older = self._label(doc, domains=["ENVIRONMENT"], subtypes=["ENVIRONMENT.WASTE"])
        loaded.apply_correction(doc.id, older)
        _, label = self._label(loaded.get(doc.id), first, domains=["FOOD", "MEDICINE"])
        corrected = loaded.apply_correction(doc.id, label)
        assert [d.label for d in corrected.domains] == ["FOOD", "MEDICINE"] and corrected.subtypes == []
        assert corrected.correction["count"] == 2
        assert loaded.apply_correction(doc.id, older) == corrected  # the older label, applied late, loses
        assert doc.id in ids(loaded.search(SearchRequest(domains=("FOOD",), size=ALL)))
        assert doc.id not in ids(loaded.search(SearchRequest(domains=("ENVIRONMENT",), size=ALL)))

    def test_the_human_label_survives_reingest_and_keeps_the_review(self, loaded, corpus):
        doc = self._medicine_only(corpus)
        start, end = self._word(doc)
        loaded.mark_reviewed(doc.id, "bo", WHEN)
        _, label = self._label(doc, domains=[], add=[(start, end, "ORG")])
        loaded.apply_correction(doc.id, label)
        assert loaded.get(doc.id).review == Review("bo", WHEN)
        loaded.put([doc])  # the same report, the model's tags again
        again = loaded.get(doc.id)
        assert again.domains == [] and again.correction == label and again.review == Review("bo", WHEN)
        assert any((e.start, e.end, e.label) == (start, end, "ORG") for e in again.entities)
        assert doc.id not in ids(loaded.search(SearchRequest(domains=("MEDICINE",), size=ALL)))
        moved = replace(doc, document=replace(doc.document, text="UPDATE: " + doc.document.text))
        loaded.put([moved])  # other words: the domains still hold, the span no longer does
        changed = loaded.get(doc.id)
        assert changed.domains == [] and not any(e.label == "ORG" and e.start == start for e in changed.entities)
        assert [(op["start"], op["end"]) for op in changed.correction["skipped"]] == [(start, end)]
        assert doc.id not in ids(loaded.search(SearchRequest(domains=("MEDICINE",), size=ALL)))


    def test_hits_say_who_corrected_them_and_whether_the_domains_are_theirs(self, loaded, corpus):
        doc = self._medicine_only(corpus)
        untouched, entities_only, no_domain = [t for t in corpus if t.id != doc.id and t.entities][:3]
        loaded.apply_correction(doc.id, self._label(doc, domains=["FOOD"])[1])
        start, end = self._word(entities_only)
        loaded.apply_correction(entities_only.id, self._label(entities_only, add=[(start, end, "ORG")])[1])
        loaded.apply_correction(no_domain.id, self._label(no_domain, domains=[])[1])
        expected = {
            doc.id: ("ana", True, [DomainScore("FOOD", 1.0)]),
            entities_only.id: ("ana", False, entities_only.domains),  # the model's domains, with its scores
            no_domain.id: ("ana", True, []),
            untouched.id: (None, False, untouched.domains),
        }
        hits = {hit.id: hit for hit in loaded.search(SearchRequest(size=ALL)).hits}
        near = {hit.id: hit for t in (doc, entities_only, no_domain, untouched) for hit in loaded.nearest(t.embedding, size=1)}
        for doc_id, (by, human, domains) in expected.items():
            for hit in (hits[doc_id], near[doc_id]):  # both ways a backend makes hits
                assert (hit.corrected_by, hit.human_domains, hit.domains) == (by, human, domains), doc_id


class QuerySyntaxContract(_Corpus):
    """The query syntax analysts type (request.QUERY_SYNTAX): OR, exclusions, prefixes, and odd
    input degrading to its plain words, alike on every backend."""

    @staticmethod
    def _with(corpus: list[TaggedDocument], word: str) -> set[str]:
        return {t.id for t in corpus if word in re.findall(r"\w+", _words(t))}

    @staticmethod
    def _found(index: DocumentIndex, text: str, **filters) -> set[str]:
        result = index.search(SearchRequest(text=text, size=ALL, **filters))
        assert result.total == len(result.hits), text
        return set(ids(result))

    @staticmethod
    def _marked(result: SearchResult) -> set[str]:
        return {m.lower() for hit in result.hits for m in re.findall(r"<mark>(.*?)</mark>", hit.snippet)}

    def test_or_matches_either_and_binds_before_the_other_words(self, loaded, corpus):
        pangolin, insulin, lagos = (self._with(corpus, word) for word in ("pangolin", "insulin", "lagos"))
        assert pangolin and insulin and not pangolin & insulin
        assert self._found(loaded, "pangolin OR insulin") == pangolin | insulin
        either_in_lagos = (pangolin | insulin) & lagos
        assert either_in_lagos and either_in_lagos != lagos
        assert self._found(loaded, "pangolin OR insulin lagos") == either_in_lagos
        assert self._found(loaded, "lagos pangolin OR insulin") == either_in_lagos
        formula = self._with(corpus, "formula")
        assert self._found(loaded, '"insulin pens" OR "infant formula" OR pangolin') == insulin | formula | pangolin
        assert self._found(loaded, "pangolin or insulin") == set()  # lower-case or: a word, and no report names both

    def test_exclusions_leave_out_what_they_name(self, loaded, corpus):
        counterfeit, lagos, insulin = (self._with(corpus, word) for word in ("counterfeit", "lagos", "insulin"))
        assert counterfeit & lagos and counterfeit - lagos
        assert self._found(loaded, "counterfeit -lagos") == counterfeit - lagos
        assert self._found(loaded, '-"insulin pens" counterfeit') == counterfeit - insulin
        assert self._found(loaded, "counterfeit -lagos -insul*") == counterfeit - lagos - insulin
        assert self._found(loaded, "counterfeit -lagos", domains=("MEDICINE",)) == {
            t.id for t in corpus if t.id in counterfeit - lagos and "MEDICINE" in _labels(t)
        }

    def test_exclusions_alone_match_everything_else_in_date_order(self, loaded, corpus):
        counterfeit, lagos = self._with(corpus, "counterfeit"), self._with(corpus, "lagos")
        result = loaded.search(SearchRequest(text="-counterfeit -lagos", size=ALL))
        everything = ids(loaded.search(SearchRequest(size=ALL)))
        assert ids(result) == [doc_id for doc_id in everything if doc_id not in counterfeit | lagos]  # as without text
        assert result.total == len(corpus) - len(counterfeit | lagos)
        assert all(hit.score is None and "<mark>" not in hit.snippet for hit in result.hits)
        by_priority = loaded.search(SearchRequest(text="-counterfeit", sort="priority", size=ALL))
        assert [h.priority for h in by_priority.hits] == sorted((t.priority.score for t in corpus if t.id not in counterfeit), reverse=True)
        food = self._found(loaded, "-counterfeit", domains=("FOOD",))
        assert food == {t.id for t in corpus if "FOOD" in _labels(t)} - counterfeit

    def test_prefixes_match_the_starts_of_words(self, loaded, corpus):
        assert self._found(loaded, "counterf*") == self._with(corpus, "counterfeit")
        assert self._found(loaded, "Pharmac*") == self._with(corpus, "pharmacies") != set()
        assert self._found(loaded, "rotter* seiz*") == self._with(corpus, "rotterdam") & self._with(corpus, "seized")
        # the prefix is stemmed as the words are: a whole word followed by * finds that word's forms
        assert self._found(loaded, "seizing*") == self._with(corpus, "seized")
        either = self._with(corpus, "pangolin") | self._with(corpus, "insulin")
        assert self._found(loaded, "pango* OR insul*") == either
        assert self._found(loaded, "c* counterfeit") == set()  # one letter and a star: the word "c"

    def test_snippets_mark_or_alternatives_and_prefix_matches(self, loaded):
        assert self._marked(loaded.search(SearchRequest(text="pangolin OR insulin", size=ALL))) == {"pangolin", "insulin"}
        assert self._marked(loaded.search(SearchRequest(text="pharmac*", size=ALL))) == {"pharmacies"}
        marked = self._marked(loaded.search(SearchRequest(text="pango* OR seiz* -lagos", size=ALL)))
        assert marked == {"pangolin", "seized"}

    def test_odd_input_never_errors_and_degrades_to_its_plain_words(self, loaded):
        for odd, plain in (
            ('"counterfeit', "counterfeit"),
            ("counterfeit OR", "counterfeit"),
            ("OR counterfeit", "counterfeit"),
            ("--lagos counterfeit", "lagos counterfeit"),
            ("counterfeit - * OR", "counterfeit"),
            ('counterfeit -""', "counterfeit"),
            ("pangolin OR OR insulin", "pangolin OR insulin"),
            ("pangolin OR -lagos", "pangolin -lagos"),
            ("-lagos OR pangolin", "pangolin -lagos"),
        ):
            assert self._found(loaded, odd) == self._found(loaded, plain) != set(), odd
        for nothing in ("OR", "-", "*", '"', "- * OR --", '-""'):
            assert loaded.search(SearchRequest(text=nothing)).total == 0, nothing

    def test_ideographic_words_take_part_in_or_and_exclusions(self, index, corpus):
        index.put([*corpus[:3], *synthetic_untagged()])
        assert self._found(index, "驻马店 OR aceite") == {UNTAGGED_ZH_ID, UNTAGGED_ES_ID}
        assert self._found(index, "-瘦肉精") == {t.id for t in corpus[:3]} | {UNTAGGED_ES_ID}
        assert self._found(index, "aceite OR 驻马店 -瘦肉精") == {UNTAGGED_ES_ID}
        assert self._found(index, '"驻马店 生猪" OR nothingsuch') == {UNTAGGED_ZH_ID}
        assert self._found(index, "驻马店 OR aceite -jaén") == {UNTAGGED_ZH_ID}


class ExportContract(_Corpus):
    """Every match of a request, all pages, in batches (the API's export streams them)."""

    REQUESTS = (
        SearchRequest(),
        SearchRequest(text="counterfeit"),
        SearchRequest(text="pangolin OR insulin -lagos", sort="date"),
        SearchRequest(text="-counterfeit", sort="priority"),
        SearchRequest(domains=("MEDICINE", "FOOD"), languages=("en",), sort="priority"),
    )

    def test_export_yields_every_match_in_the_search_order_in_batches(self, loaded, corpus):
        for request in self.REQUESTS:
            batches = list(loaded.export(request, batch_size=4))
            assert all(1 <= len(batch) <= 4 for batch in batches), request
            exported = [t.id for batch in batches for t in batch]
            everything = loaded.search(replace(request, size=ALL))
            assert exported == ids(everything) and len(exported) == everything.total > 0, request
        paged = [t.id for batch in loaded.export(SearchRequest(page=3, size=5)) for t in batch]
        assert sorted(paged) == sorted(t.id for t in corpus)  # page and size ignored

    def test_exported_documents_are_whole_but_for_the_embedding(self, loaded, corpus):
        loaded.mark_reviewed(SEED_ID, "ana", WHEN)
        exported = [t for batch in loaded.export(SearchRequest()) for t in batch]
        assert len(exported) == len(corpus)
        for tagged in exported:
            assert tagged.embedding == [] and replace(loaded.get(tagged.id), embedding=[]) == tagged
        assert next(t for t in exported if t.id == SEED_ID).review.reviewed_by == "ana"

    def test_export_of_nothing(self, index, loaded):
        assert list(index.export(SearchRequest(text="*"))) == []  # no words: no matches, as search
        assert list(index.export(SearchRequest(text="nothingsuch"))) == []
        with pytest.raises(ValueError):
            index.export(SearchRequest(), batch_size=0)


class IndexContract(
    WriteContract, CountContract, FilterContract, FacetContract, NearestContract, ReviewContract, LanguageContract, ScanContract,
    CorrectionContract, QuerySyntaxContract, ExportContract,
):
    """The whole contract. Subclasses provide an `index` fixture: an empty DocumentIndex."""


__all__ = [
    "CorrectionContract",
    "CountContract",
    "ExportContract",
    "FacetContract",
    "FilterContract",
    "IndexContract",
    "LanguageContract",
    "NearestContract",
    "QuerySyntaxContract",
    "ReviewContract",
    "ScanContract",
    "WriteContract",
    "by_id",
    "ids",
]
