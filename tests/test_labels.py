"""Human labels (kunlun_nlp.labels): corrections and their merge, the label store, imports and
exports, the label applied over model tags (also on re-ingest), and what to label next."""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from kunlun_nlp.config import Settings
from kunlun_nlp.document import DomainScore
from kunlun_nlp.index.base import carried_over
from kunlun_nlp.labels import (
    Correction,
    LabelImportError,
    LabelStore,
    apply_correction_record,
    find_spans,
    label_next,
    merge,
    parse_labels,
    read_labels,
    thresholds_by_model,
)
from kunlun_nlp.labels.samples import TRAINED_ENTITY_LABELS
from kunlun_nlp.models import find_model
from kunlun_nlp.records import tagged_to_record
from kunlun_nlp.service import KunlunService
from kunlun_nlp.testing.synthetic import synthetic_document
from kunlun_nlp.vocabulary import DOMAIN_LABELS, SUBTYPE_LABELS

ROOT = Path(__file__).resolve().parents[1]
CORPUS_FILE = ROOT / "corpora" / "labeled" / "written-af-la-03.jsonl"
WHEN = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
TEXT = "Police in Lagos seized 40 cartons of fake insulin pens from Oduya Agro Export Ltd. on Monday."


def _doc(doc_id: str = "doc-1", text: str = TEXT, domains: dict | None = None):
    return synthetic_document(
        doc_id, text, domains=domains if domains is not None else {"MEDICINE": 0.8},
        entities=[("LOC", "Lagos"), ("PRODUCT", "insulin pens"), ("ORG", "Oduya Agro Export Ltd.")],
    )


def _span(word: str, text: str = TEXT) -> tuple[int, int]:
    start = text.index(word)
    return start, start + len(word)


@pytest.fixture
def store(tmp_path):
    store = LabelStore(tmp_path / "labels.sqlite3")
    yield store
    store.close()


# -- corrections ---------------------------------------------------------------------------------


def test_a_correction_checks_its_labels_and_offsets():
    record = tagged_to_record(_doc())
    for fields, message in [
        ({"domains": ["FOOD", "DRUGS"]}, "unknown domain 'DRUGS'"),
        ({"domains": ["FOOD"], "subtypes": ["MEDICINE.ONLINE"]}, "MEDICINE.ONLINE not under"),
        ({"subtypes": ["FOOD.NOODLES"]}, "unknown sub-type"),
        ({"add": [{"start": 0, "end": 6, "label": "GANG"}]}, "unknown entity label 'GANG'"),
        ({"add": [(5, 5, "ORG")]}, "empty or negative"),
        ({"add": [(0, 6, "ORG")], "remove": [(0, 6)]}, "more than once"),
        ({}, "says nothing"),
    ]:
        with pytest.raises(ValueError, match=re.escape(message)):
            Correction.create("doc-1", **fields)
    for fields, message in [
        ({"add": [(0, len(TEXT) + 3, "ORG")]}, "not inside the text"),
        ({"remove": [(0, 6)]}, "no entity at 0:6"),
        ({"subtypes": ["FOOD.MEAT"]}, "FOOD.MEAT not under the document's domains (MEDICINE)"),
    ]:
        with pytest.raises(ValueError, match=re.escape(message)):
            Correction.create("doc-1", **fields).checked_against(record)
    checked = Correction.create("doc-1", domains=["food"], add=[_span("Police") + ("PERSON",)]).checked_against(record)
    assert checked.domains == ("FOOD",) and checked.model == "synthetic" and checked.add[0].text == "Police"


def test_merge_latest_wins_per_field_and_later_span_ops_override():
    record = tagged_to_record(_doc())
    lagos, pens = _span("Lagos"), _span("insulin pens")
    first = Correction.create("doc-1", domains=["FOOD"], subtypes=["FOOD.COUNTERFEIT"], relabel=[(*lagos, "ORG")], by="ana",
                              at=WHEN).checked_against(record)
    second = Correction.create("doc-1", add=[(*pens, "SUBSTANCE")], by="bo", at=WHEN + timedelta(hours=1)).checked_against(record)
    third = Correction.create("doc-1", domains=["MEDICINE", "FOOD"], remove=[lagos], by="cy",
                              at=WHEN + timedelta(hours=2)).checked_against(record)
    merged = merge([first, second, third])
    assert merged["domains"] == ["MEDICINE", "FOOD"] and merged["subtypes"] == ["FOOD.COUNTERFEIT"]
    assert [(op["op"], op["start"]) for op in merged["entities"]] == [("add", pens[0]), ("remove", lagos[0])]
    assert (merged["by"], merged["count"], merged["at"]) == ("cy", 3, (WHEN + timedelta(hours=2)).isoformat())
    assert merge([first, Correction.create("doc-1", domains=["MEDICINE"], at=WHEN)])["subtypes"] == []  # none under MEDICINE
    assert merge([]) is None


def test_apply_keeps_model_scores_and_is_idempotent():
    tagged = _doc()
    record = tagged_to_record(tagged)
    police = _span("Police in Lagos")
    correction = Correction.create(
        "doc-1", domains=["INTELLECTUAL_PROPERTY"], subtypes=["INTELLECTUAL_PROPERTY.TRADEMARK"],
        add=[(*police, "ORG")], relabel=[(*_span("insulin pens"), "SUBSTANCE")], remove=[_span("Oduya Agro Export Ltd.")],
        by="ana", at=WHEN,
    ).checked_against(record)
    label = merge([correction])
    corrected = apply_correction_record(record, label)
    assert corrected["domain_scores"] == record["domain_scores"] and corrected["model"] == "synthetic"
    assert corrected["domains"] == ["INTELLECTUAL_PROPERTY"]
    assert corrected["predicted"] == [{"label": "INTELLECTUAL_PROPERTY", "score": 1.0}]
    assert corrected["subtypes"] == [{"label": "INTELLECTUAL_PROPERTY.TRADEMARK", "score": 1.0}]
    assert corrected["evidence"] == {}  # the model's evidence was for MEDICINE
    entities = [(e["start"], e["end"], e["label"], e["key"]) for e in corrected["entities"]]
    assert entities == [  # "Police in Lagos" took over "Lagos", which it overlaps
        (*police, "ORG", "police in lagos"),
        (*_span("insulin pens"), "SUBSTANCE", "insulin pens"),
    ]
    assert corrected["correction"] == label
    assert apply_correction_record(corrected, label) == corrected
    # a correction stating only entities keeps the model's domains and, under them, sub-types
    only_entities = apply_correction_record(record, merge([Correction.create("doc-1", remove=[_span("Lagos")], at=WHEN)
                                                           .checked_against(record)]))
    assert only_entities["domains"] == ["MEDICINE"] and only_entities["subtypes"] == record["subtypes"]


def test_carried_over_reapplies_the_label_to_new_model_tags_whatever_the_text(tagged_corpus):
    """Re-ingest and re-tag: the real pipeline's fresh tags, the stored human label applied again."""
    tagged = next(t for t in tagged_corpus if t.domains and t.entities)
    record = tagged_to_record(tagged)
    entity = tagged.entities[0]
    other = next(d for d in DOMAIN_LABELS if d not in {x.label for x in tagged.domains})
    label = merge([Correction.create(tagged.id, domains=[other], relabel=[(entity.start, entity.end, "LAW")], by="ana", at=WHEN)
                   .checked_against(record)])
    stored = apply_correction_record(record, label)
    again = carried_over(tagged_to_record(tagged), stored, WHEN)
    assert again["domains"] == [other] and again["correction"] == label
    assert {(e["start"], e["end"], e["label"]) for e in again["entities"]} >= {(entity.start, entity.end, "LAW")}
    assert again["domain_scores"] == record["domain_scores"]
    moved = {**tagged_to_record(tagged), "text": "Update. " + tagged.document.text}
    changed = carried_over(moved, stored, WHEN)
    assert changed["domains"] == [other]
    assert changed["correction"]["skipped"] == label["entities"]  # the words moved: the relabel is dropped
    assert not any(e["label"] == "LAW" and e["start"] == entity.start for e in changed["entities"])
    # a re-tag handing the stored label back in its record: the one with more corrections wins
    newer = merge([Correction.create(tagged.id, domains=[], at=WHEN), Correction.create(tagged.id, domains=["FOOD"], at=WHEN)])
    assert carried_over({**tagged_to_record(tagged), "correction": label}, {**stored, "correction": newer}, WHEN)["domains"] == ["FOOD"]


# -- the store -----------------------------------------------------------------------------------


def test_store_keeps_every_correction_and_the_latest_wins(tmp_path):
    path = tmp_path / "labels.sqlite3"
    record = tagged_to_record(_doc())
    store = LabelStore(path)
    first = Correction.create("doc-1", domains=["FOOD"], by="ana", at=WHEN).checked_against(record)
    merged = store.add_correction(first, record)
    assert merged["domains"] == ["FOOD"] and merged["count"] == 1
    second = Correction.create("doc-1", domains=["ENVIRONMENT"], add=[(*_span("Police"), "PERSON")], by="bo",
                               at=WHEN + timedelta(minutes=5)).checked_against(record)
    merged = store.add_correction(second, apply_correction_record(record, merged))
    assert merged["domains"] == ["ENVIRONMENT"] and merged["by"] == "bo" and merged["count"] == 2
    store.close()

    again = LabelStore(path)  # on disk when add_correction returned
    try:
        history = again.history("doc-1")
        assert [(h["origin"], h["by"], h["domains"], h["model"]) for h in history] == [
            ("correction", "ana", ["FOOD"], "synthetic"), ("correction", "bo", ["ENVIRONMENT"], "synthetic"),
        ]
        assert again.merged("doc-1") == merged and again.merged("other") is None
        assert again.corrected_ids() == {"doc-1"}
        (sample,) = again.training_samples()
        assert (sample.origin, sample.by, sample.domains, sample.stated) == ("correction", "bo", {"ENVIRONMENT"}, {"domains", "spans"})
        assert sample.text == TEXT and (*_span("Police"), "PERSON") in sample.spans
        assert {label for _, _, label in sample.spans} <= set(TRAINED_ENTITY_LABELS)
        assert again.counts() == {"corrections": 2, "corrected_documents": 1, "imported_rows": 0, "imports": 0, "samples": 1}
    finally:
        again.close()
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_store_writes_durably(store):
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_import_jsonl_in_the_corpus_and_realtrain_formats(store):
    corpus = read_labels(CORPUS_FILE)
    assert len(corpus.samples) == len([line for line in CORPUS_FILE.read_text().splitlines() if line.strip()])
    first = json.loads(CORPUS_FILE.read_text().splitlines()[0])
    sample = corpus.samples[0]
    assert (sample.id, sample.domains, sample.subtypes) == (first["id"], set(first["domains"]), set(first["subtypes"]))
    assert sample.spans == tuple(tuple(s) for s in first["spans"])
    realtrain = "\n".join([
        json.dumps({"id": "rt-1", "title": "Fake pills", "text": "NAFDAC seized fake Lipitor in Kano.", "domains": ["MEDICINE"],
                    "entities": {"ORG": ["NAFDAC"], "LOC": ["Kano"], "PRODUCT": ["Lipitor", "Crestor"]}}),
        "",
        json.dumps({"text": "A bank was robbed in Leeds.", "domains": ["OTHER"], "entities": {"LOC": ["Leeds"]}}),
    ])
    parsed = parse_labels(realtrain, "jsonl")
    assert parsed.warnings == ["line 1: PRODUCT mention(s) not found in the text as whole words: 'Crestor'"]
    pills, robbery = parsed.samples
    text = pills.text
    assert pills.spans == tuple((text.index(w), text.index(w) + len(w), label) for w, label in
                                (("NAFDAC", "ORG"), ("Lipitor", "PRODUCT"), ("Kano", "LOC")))
    assert robbery.domains == frozenset()
    assert robbery.id and "subtypes" not in robbery.stated and robbery.file == ""
    report = store.import_samples([*corpus.samples, *parsed.samples], file="mixed.jsonl", by="trainer-1")
    none_in_corpus = sum(1 for line in CORPUS_FILE.read_text().splitlines() if line.strip() and not json.loads(line)["domains"])
    assert report.imported == len(corpus.samples) + 2 and report.domains["none"] == none_in_corpus + 1
    assert store.history("rt-1")[0] | {"file": "mixed.jsonl", "origin": "import", "by": "trainer-1"} == store.history("rt-1")[0]
    assert {s.file for s in store.training_samples()} == {"mixed.jsonl"}


def test_import_csv_with_either_separator_and_empty_for_none():
    content = 'text,domains,title,subtypes,id\n"Fake honey, cut with syrup",FOOD|MEDICINE,Honey,FOOD.ADULTERATION,h-1\n' \
              '"A robbery\nin two lines",,,,\nSludge dumped; fish died,ENVIRONMENT;food,,,\n'
    honey, robbery, sludge = parse_labels(content, "csv").samples
    assert (honey.id, honey.title, honey.domains, honey.subtypes) == ("h-1", "Honey", {"FOOD", "MEDICINE"}, {"FOOD.ADULTERATION"})
    assert robbery.domains == frozenset() and robbery.text == "A robbery\nin two lines" and robbery.spans == ()
    assert sludge.domains == {"ENVIRONMENT", "FOOD"} and "spans" not in sludge.stated


def test_bad_rows_are_all_reported_with_their_lines_and_nothing_is_imported(store, tmp_path):
    good = json.dumps({"text": "Customs seized fake perfume.", "domains": ["INTELLECTUAL_PROPERTY"]})
    lines = [
        good,
        '{"text": "broken',
        json.dumps({"text": "  ", "domains": []}),
        json.dumps({"text": "Tainted oil.", "domains": ["FOOD", "CRIME"]}),
        json.dumps({"text": "Tainted oil.", "domains": ["FOOD"], "spans": [[0, 40, "ORG"]]}),
        json.dumps({"text": "Tainted oil.", "domains": ["FOOD"], "entities": {"GANG": ["oil"]}}),
        json.dumps({"text": "Tainted oil.", "domains": ["FOOD"], "subtypes": ["MEDICINE.ONLINE"]}),
        json.dumps({"id": "x", "text": "One.", "domains": []}),
        json.dumps({"id": "x", "text": "Two.", "domains": []}),
        json.dumps({"text": "No domains."}),
        "[1, 2]",
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(LabelImportError) as caught:
        read_labels(path)
    errors = caught.value.errors
    assert [e.split(":")[0] for e in errors] == [f"line {n}" for n in (2, 3, 4, 5, 6, 7, 9, 10, 11)]
    assert "unknown domain(s) CRIME" in errors[2] and "not inside the text" in errors[3] and "also on line 8" in errors[6]
    assert store.counts()["imported_rows"] == 0
    with pytest.raises(LabelImportError, match="line 3: unknown domain"):
        parse_labels("text,domains\nok,FOOD\nbad,DRUGS\n", "csv")
    with pytest.raises(LabelImportError, match="no 'domains' column"):
        parse_labels("text,label\nok,FOOD\n", "csv")
    with pytest.raises(LabelImportError, match="cannot tell the format"):
        read_labels(tmp_path / "labels.txt")


def test_an_import_is_one_transaction(store):
    """A failure in the middle of the write leaves nothing of the file behind."""
    samples = parse_labels("text,domains\none,FOOD\ntwo,MEDICINE\n", "csv").samples
    broken = [samples[0], replace(samples[1], id=None)]  # the second row cannot be written (no id)
    with pytest.raises(Exception):
        store.import_samples(broken, file="half.csv", by="t")
    assert store.counts() == {"corrections": 0, "corrected_documents": 0, "imported_rows": 0, "imports": 0, "samples": 0}


def test_export_reimports_identically(store, tmp_path):
    record = tagged_to_record(_doc())
    store.import_samples(read_labels(CORPUS_FILE).samples[:5], file="corpus.jsonl", by="t")
    store.import_samples(parse_labels("text,domains\nFake perfume seized.,INTELLECTUAL_PROPERTY\n", "csv").samples, file="a.csv", by="t")
    store.add_correction(Correction.create("doc-1", domains=[], by="ana").checked_against(record), record)
    exported = "".join(store.export())
    other = LabelStore(tmp_path / "other.sqlite3")
    try:
        other.import_samples(parse_labels(exported, "jsonl").samples, file="labels.jsonl", by="t2")
        again = "".join(other.export())
    finally:
        other.close()

    def content(lines: str) -> list[dict]:
        return [{k: v for k, v in json.loads(line).items() if k not in ("label_origin", "labeled_by", "labeled_at")}
                for line in lines.splitlines()]

    assert content(again) == content(exported) and len(content(exported)) == 7
    correction_line = json.loads(exported.splitlines()[-1])
    assert correction_line["label_origin"] == "correction" and correction_line["domains"] == []
    assert correction_line["stated"] == ["domains", "subtypes"] and "spans" not in correction_line
    assert [json.loads(line)["id"] for line in store.export("correction")] == ["doc-1"]


def test_the_same_text_labeled_twice_is_one_sample_labeled_last(store):
    store.import_samples(parse_labels("text,domains\nFake honey.,FOOD\n", "csv").samples, file="a.csv", by="a")
    store.import_samples(parse_labels("text,domains\nFake  honey.,MEDICINE\n", "csv").samples, file="b.csv", by="b")
    (sample,) = store.training_samples()
    assert (sample.domains, sample.by) == ({"MEDICINE"}, "b")
    assert len(store.history(sample.id)) == 2  # the same id (a hash of the folded text): both kept in its history


def test_find_spans_takes_whole_words_longest_first():
    text = "Lagos State officials in Lagos seized oil; Lagosians complained."
    assert find_spans(text, {"LOC": ["Lagos", "Lagos State"]}) == [(0, 11, "LOC"), (25, 30, "LOC")]


# -- what to label next --------------------------------------------------------------------------


def _scored(doc_id: str, scores: dict[str, float], **extra):
    tagged = synthetic_document(doc_id, f"Report {doc_id} about seizures.", domains={k: v for k, v in scores.items() if v >= 0.5}, **extra)
    return replace(tagged, domain_scores=[DomainScore(label, scores.get(label, 0.05)) for label in DOMAIN_LABELS])


def test_label_next_orders_by_doubt_spreads_over_domains_and_excludes(embedded_index):
    documents = [
        _scored("food-near", {"FOOD": 0.51}),
        _scored("food-nearer", {"FOOD": 0.499}),
        _scored("food-far", {"FOOD": 0.95}),
        _scored("food-mid", {"FOOD": 0.56}),
        _scored("med-near", {"MEDICINE": 0.47}),
        _scored("env-mid", {"ENVIRONMENT": 0.58}),
        _scored("sure", {"FOOD": 0.99, "MEDICINE": 0.01, "ENVIRONMENT": 0.0, "INTELLECTUAL_PROPERTY": 0.97}),
        _scored("corrected", {"FOOD": 0.5}),
        _scored("excluded", {"MEDICINE": 0.5}),
        synthetic_document("foreign", "淡水 污染 报告", not_tagged="language zh is not supported by the models"),
    ]
    documents[7] = replace(documents[7], correction={"domains": ["FOOD"], "by": "ana", "count": 1})
    embedded_index.put(documents)
    thresholds = dict.fromkeys(DOMAIN_LABELS, 0.5)
    picked = label_next(embedded_index, thresholds, size=5, exclude={"excluded"})
    # round one: the least sure of each domain, the domain of the least sure first; then round two
    assert [c.id for c in picked] == ["food-nearer", "med-near", "env-mid", "sure", "food-near"]
    assert [c.domain for c in picked[:4]] == ["FOOD", "MEDICINE", "ENVIRONMENT", "INTELLECTUAL_PROPERTY"]
    assert picked[0].margin == pytest.approx(0.001) and picked[0].threshold == 0.5 and picked[0].predicted == []
    assert [c.id for c in label_next(embedded_index, thresholds, size=2)] == ["excluded", "food-nearer"]  # right on the threshold
    everything = label_next(embedded_index, thresholds, size=50)
    assert {c.id for c in everything} == {"food-near", "food-nearer", "food-far", "food-mid", "med-near", "env-mid", "sure", "excluded"}
    # thresholds by the model version that tagged each document
    assert label_next(embedded_index, lambda model: dict.fromkeys(DOMAIN_LABELS, 0.9), size=1)[0].id == "food-far"


def test_label_next_counts_windows_that_disagree_as_less_sure(embedded_index):
    even = _scored("one-window", {"FOOD": 0.6})
    split = replace(_scored("split-windows", {"FOOD": 0.64}), split_windows=["FOOD"])
    embedded_index.put([even, split])
    picked = label_next(embedded_index, dict.fromkeys(DOMAIN_LABELS, 0.5), size=2)
    assert [c.id for c in picked] == ["split-windows", "one-window"]
    assert picked[0].windows_disagree and picked[0].margin == pytest.approx(0.07)
    assert not picked[1].windows_disagree


def test_the_classifier_names_the_domains_its_windows_disagree_on():
    import numpy as np

    from kunlun_nlp.classifier import TrainedDomainClassifier
    from kunlun_nlp.encoder import EncodedText

    logits = np.array([[2.0, -3.0, -3.0, -3.0], [-2.0, -3.0, -3.0, 1.0], [-2.0, -3.0, -3.0, 2.0]])  # FOOD in one window of three
    text = "Gutter oil was seized. Fake handbags were seized."
    encoded = EncodedText(
        embedding=np.zeros(384), chunk_embeddings=np.zeros((3, 384)), chunk_spans=[(0, 22), (23, 50), (23, 50)], domain_logits=logits, subtype_logits=np.full((3, len(SUBTYPE_LABELS)), -5.0),
        token_contributions=np.zeros((3, 2, 4)), token_offsets=[[(0, 6), (23, 28)]] * 3,
    )
    classifier = TrainedDomainClassifier(DOMAIN_LABELS, SUBTYPE_LABELS, dict.fromkeys(DOMAIN_LABELS, 0.5), dict.fromkeys(SUBTYPE_LABELS, 0.5))
    prediction = classifier.predict(encoded, text)
    assert prediction.split_windows == ["FOOD", "INTELLECTUAL_PROPERTY"]
    assert {s.label for s in prediction.predicted} == {"FOOD", "INTELLECTUAL_PROPERTY"}


def test_thresholds_by_model_reads_each_version():
    settings = Settings(data_dir=Path("/nonexistent"))
    thresholds = thresholds_by_model(settings.model_dirs)
    zero_shot = json.loads((ROOT / "kunlun_nlp" / "zero_shot_domains.json").read_text())["thresholds"]
    assert thresholds("zero-shot") == zero_shot
    shipped = find_model("latest", settings.model_dirs)
    assert thresholds(shipped.version) == shipped.domain_thresholds
    assert thresholds("v00000000-0000") == {}  # gone: label_next falls back to 0.5


def test_service_label_next_skips_corrected_documents(tmp_path, pipeline, tagged_corpus, embedded_index):
    service = KunlunService(Settings(data_dir=tmp_path), pipeline_factory=lambda: pipeline, index=embedded_index)
    try:
        embedded_index.put(tagged_corpus)
        first = service.label_next(3)
        assert first and len({c.id for c in first}) == len(first)
        zero_shot = json.loads((ROOT / "kunlun_nlp" / "zero_shot_domains.json").read_text())["thresholds"]
        assert all(c.threshold == zero_shot[c.domain] and c.model == "zero-shot" for c in first)
        service.correct(first[0].id, by="ana", domains=[first[0].domain])
        assert first[0].id not in {c.id for c in service.label_next(len(tagged_corpus))}
    finally:
        service.close()
