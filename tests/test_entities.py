"""The domain entity model: a tiny one trained in seconds, run through the entity stages a model
version declares (training.train_ner.entity_pipeline)."""

from __future__ import annotations

import pytest

from kunlun_nlp.document import Document, Entity
from kunlun_nlp.pipeline import Pipeline, PipelineConfig
from kunlun_nlp.pipeline.config import ZERO_SHOT_CONFIG
from kunlun_nlp.vocabulary import ENTITY_LABELS
from training.datasets import load_corpus, split_train_dev
from training.train_ner import entity_pipeline, load_gazetteer, train_ner

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
def extractor(trained) -> Pipeline:
    return entity_pipeline(trained[0])


def extract(pipeline: Pipeline, texts: list[str]) -> list[list[Entity]]:
    return [t.entities for t in pipeline.tag([Document.create(text, id=f"t{i}") for i, text in enumerate(texts)])]


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


def test_gazetteer_files_hold_terms():
    terms = dict((t.lower(), label) for t, label in load_gazetteer())
    assert terms["gutter oil"] == "PRODUCT" and terms["melamine"] == "SUBSTANCE"


def test_domain_entities_merged_with_base_entities(extractor):
    texts = [CRAFTED, *(e.text for e in load_corpus()[:3])]
    results = extract(extractor, texts)
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


def test_without_domain_model_the_base_model_gives_every_label():
    base = Pipeline(PipelineConfig.read(ZERO_SHOT_CONFIG).up_to("entities"))
    assert [name for name, _ in base.stages].count("spacy_ner") == 1
    (entities,) = extract(base, [CRAFTED])
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
    (entities,) = extract(extractor, ["Customs seized fake Armani handbags, KEYTRUDA vials and apple juice from Kellogg's."])
    found = {(e.label, e.text) for e in entities}
    assert ("ORG", "Armani") in found and ("ORG", "Kellogg") in found
    assert ("PRODUCT", "KEYTRUDA") in found
    assert not any(e.text.lower() == "apple" for e in entities)


def _joined(text: str, places: list[str], others: tuple[tuple[str, str], ...] = ()) -> list[tuple[str, str]]:
    from kunlun_nlp.entities import join_qualified_places

    spans = [(text.index(p), text.index(p) + len(p), "LOC") for p in places]
    spans += [(text.index(t), text.index(t) + len(t), label) for t, label in others]
    return [(text[s:e], label) for s, e, label in join_qualified_places(text, spans)]


@pytest.mark.parametrize(
    ("text", "places", "others", "expected"),
    [
        # a town and its state, whether or not the NER marked the state, or marked it wrongly
        ("Police in Missoula, Montana said.", ["Missoula", "Montana"], (), [("Missoula, Montana", "LOC")]),
        ("He lives in Houston, Texas.", ["Houston"], (), [("Houston, Texas", "LOC")]),  # not the full stop
        ("DULUTH, Ga. - A man was charged.", ["DULUTH"], (), [("DULUTH, Ga.", "LOC")]),  # the dot is the name's
        ("Lakewood, NJ, police said", ["Lakewood"], (("NJ", "ORG"),), [("Lakewood, NJ", "LOC")]),
        ("a raid in Onitsha, Anambra State, on Monday", ["Onitsha", "Anambra State"], (), [("Onitsha, Anambra State", "LOC")]),
        # lists, and places that are not inside the next one, stay apart
        ("Belgium, Bulgaria and Spain", ["Belgium", "Bulgaria", "Spain"], (), [("Belgium", "LOC"), ("Bulgaria", "LOC"), ("Spain", "LOC")]),
        ("Anhui, Shandong and Henan", ["Anhui", "Shandong", "Henan"], (), [("Anhui", "LOC"), ("Shandong", "LOC"), ("Henan", "LOC")]),
        # the words after the comma are taken whole or not at all
        ("students in Missoula, Montana State University", ["Missoula"], (), [("Missoula", "LOC")]),
        # only places grow: a firm followed by a state stays the firm
        ("Acme, Texas", [], (("Acme", "ORG"),), [("Acme", "ORG")]),
    ],
)
def test_a_place_and_its_region_are_one_location(text, places, others, expected):
    assert _joined(text, places, others) == expected


def test_drug_dictionary_gives_brands_as_products_and_generics_as_substances():
    from training.drug_gazetteer import drug_terms

    terms = dict(drug_terms())
    assert len(terms) > 20_000
    assert terms["plavix"] == terms["zyprexa"] == terms["cialis"] == "PRODUCT"
    assert terms["clopidogrel"] == terms["frusemide"] == terms["sibutramine"] == terms["epinephrine hydrochloride"] == "SUBSTANCE"
    # everyday words and MeSH headings for proteins are left to the NER
    assert "water" not in terms and "ecstasy" not in terms and "gold" not in terms
    assert not any(t != t.lower() or len(t.split()) > 3 for t in terms)


def test_goods_names_fill_gaps_and_fix_places_but_not_the_ner_kind_of_goods():
    from kunlun_nlp.entities import GazetteerLabels

    labels = GazetteerLabels(goods={"plavix": "PRODUCT", "sildenafil": "SUBSTANCE", "co-trimoxazole": "SUBSTANCE", "epinephrine hydrochloride": "SUBSTANCE"})
    text = "Seized: PLAVIX, Epinephrine Hydrochloride, co-trimoxazole and sildenafil-laced coffee; Epinephrine\nHydrochloride."
    assert [(text[s:e], label) for s, e, label in labels.find_goods(text)] == [
        ("PLAVIX", "PRODUCT"),
        ("Epinephrine Hydrochloride", "SUBSTANCE"),
        ("co-trimoxazole", "SUBSTANCE"),
        ("sildenafil", "SUBSTANCE"),
    ]
    # the NER called Plavix a place (fixed) and sildenafil a product (its call between goods: kept)
    spans = [(8, 14, "LOC"), (62, 72, "PRODUCT")]
    assert labels.relabel(text, spans) == [(8, 14, "PRODUCT"), (62, 72, "PRODUCT")]
    assert GazetteerLabels().find_goods(text) == []


def test_trained_model_carries_the_drug_names(trained, extractor):
    (entities,) = extract(extractor, ["Inspectors found Zyprexa and fenproporex in the parcels."])
    found = {(e.label, e.text) for e in entities}
    assert ("PRODUCT", "Zyprexa") in found and ("SUBSTANCE", "fenproporex") in found


@pytest.mark.parametrize(
    ("mention", "trimmed"),
    [("‘Meg Lifesciences", "Meg Lifesciences"), ("Teva Industries'", "Teva Industries"), ("Customs Enforcement’s", "Customs Enforcement"), ("Glen's vodka", "Glen's vodka"), ("“Test Kits”", "Test Kits"), ("'", "")],
)
def test_quotes_and_possessives_are_not_part_of_a_name(mention, trimmed):
    from kunlun_nlp.entities import trim_mention

    start, end = trim_mention(mention)
    assert mention[start:end] == trimmed


def test_the_ner_is_taught_the_names_and_the_rule_joins_them():
    from kunlun_nlp.entities import join_qualified_places, split_qualified_places

    text = "Raids in Missoula, Montana, Springfield, Illinois, USA and Belgium, Bulgaria."
    joined = [(text.index(p), text.index(p) + len(p), "LOC") for p in ("Missoula, Montana", "Springfield, Illinois, USA", "Belgium, Bulgaria")]
    split = split_qualified_places(text, joined)
    assert [text[s:e] for s, e, _ in split] == ["Missoula", "Montana", "Springfield", "Illinois", "USA", "Belgium, Bulgaria"]
    assert [text[s:e] for s, e, _ in join_qualified_places(text, split)][:2] == ["Missoula, Montana", "Springfield, Illinois"]
