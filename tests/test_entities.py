"""The domain entity model: a tiny one trained in seconds, loaded by EntityExtractor(domain_model=...)."""

from __future__ import annotations

import pytest

from kunlun_nlp.entities import ENTITY_LABELS, EntityExtractor
from training.datasets import load_corpus, split_train_dev
from training.train_ner import load_gazetteer, train_ner

CRAFTED = (
    "Police seized 3 tonnes of gutter oil laced with melamine at a warehouse in Guangzhou on 4 March 2024.\n\n"
    "The Guangzhou Municipal Market Supervision Administration fined the owner, Li Wei, $25,000."
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    examples = [e for e in load_corpus() if e.spans]
    train, dev = split_train_dev(examples)
    out = tmp_path_factory.mktemp("ner") / "model"
    report = train_ner(train[:40], dev[:10], out, max_epochs=2, log=lambda _: None)
    return out, report


@pytest.fixture(scope="module")
def extractor(trained):
    return EntityExtractor(domain_model=trained[0])


def test_train_ner_writes_a_loadable_pipeline_and_reports(trained):
    import spacy

    out, report = trained
    nlp = spacy.load(out)
    assert "ner" in nlp.pipe_names and "gazetteer" in nlp.pipe_names
    assert report["train_docs"] == 40 and report["gazetteer_terms"] > 0
    for key in ("train_seconds", "seconds", "model_bytes"):
        assert report[key] > 0
    row = report["dev"]["by_text"]["PRODUCT"]
    assert set(row) >= {"precision", "recall", "f1"}
    assert "PRODUCT+SUBSTANCE" in report["dev"]["by_text"]
    assert "dev_without_gazetteer" in report


def test_gazetteer_files_hold_terms():
    terms = dict((t.lower(), label) for t, label in load_gazetteer())
    assert terms["gutter oil"] == "PRODUCT" and terms["melamine"] == "SUBSTANCE"


def test_domain_entities_merged_with_base_entities(extractor):
    texts = [CRAFTED, *(e.text for e in load_corpus()[:3])]
    results = extractor.extract(texts)
    assert len(results) == len(texts)
    for text, entities in zip(texts, results):
        spans = sorted((e.start, e.end) for e in entities)
        for (_, end), (start, _) in zip(spans, spans[1:]):
            assert end <= start, "entities overlap"
        for e in entities:
            assert e.label in ENTITY_LABELS
            assert text[e.start : e.end] == e.text
            assert "\n\n" not in e.text
            assert e.normalized
    found = {(e.label, e.text) for e in results[0]}
    assert ("PRODUCT", "gutter oil") in found
    assert ("SUBSTANCE", "melamine") in found
    labels = {e.label for e in results[0]}
    assert {"MONEY", "DATE"} <= labels


def test_without_domain_model_behaviour_is_unchanged(extractor):
    base = EntityExtractor()
    assert base.domain_nlp is None
    (entities,) = base.extract([CRAFTED])
    assert {"MONEY", "DATE"} <= {e.label for e in entities}
    assert not any(e.label == "SUBSTANCE" for e in entities)


def test_ner_training_repeats_real_text_by_its_weight():
    from dataclasses import replace

    from training.train_ner import _weighted

    written, = load_corpus()[:1]
    real, light = replace(written, id="real", weight=3.0), replace(written, id="light", weight=0.5)
    assert [e.id for e in _weighted([written, real, light])] == [written.id, "real", "real", "real", "light"]


def test_dictionary_labels_override_the_ner_for_firm_and_brand_names():
    from kunlun_nlp.entities import GazetteerLabels

    labels = GazetteerLabels(exact={"Armani": "ORG"}, lowercase={"keytruda": "PRODUCT"})
    text = "Fake Armani bags and KEYTRUDA vials; armani is not a firm in lower case."
    spans = [(5, 11, "LOC"), (21, 29, "ORG"), (37, 43, "PERSON")]
    assert labels.relabel(text, spans) == [(5, 11, "ORG"), (21, 29, "PRODUCT"), (37, 43, "PERSON")]


def test_trained_model_knows_firms_as_written_and_brands_in_any_case(trained, extractor):
    assert (trained[0] / "gazetteer_labels.json").exists()
    (entities,) = extractor.extract(["Customs seized fake Armani handbags, KEYTRUDA vials and apple juice from Kellogg's."])
    found = {(e.label, e.text) for e in entities}
    assert ("ORG", "Armani") in found and ("ORG", "Kellogg") in found
    assert ("PRODUCT", "KEYTRUDA") in found
    assert not any(e.text.lower() == "apple" for e in entities)
