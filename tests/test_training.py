"""Training end to end on tiny data: `train_all(QUICK)` builds a real model version (classifier
branch exported to int8 ONNX, domain NER), and the pipeline loads and uses it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kunlun_nlp.vocabulary import DOMAIN_LABELS, SUBTYPE_LABELS
from kunlun_nlp.models import ZERO_SHOT, find_model, list_versions
from kunlun_nlp.pipeline import Pipeline
from kunlun_nlp.readers import Document
from training.evaluate import evaluate, format_report, write_report
from training.labeled import read_labeled
from training.train import QUICK, train_all

SAMPLE_LABELED = "corpora/sample/reports.jsonl"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("models")
    path = train_all(QUICK, out_dir=out, version="v20000101-0000", log=lambda _: None)
    return path


@pytest.fixture(scope="module")
def trained_pipeline(trained):
    return Pipeline.load(find_model("v20000101-0000", [trained.parent]))


def test_version_folder_holds_everything_the_pipeline_needs(trained):
    manifest = json.loads((trained / "model.json").read_text())
    assert manifest["version"] == trained.name
    assert manifest["domains"] == list(DOMAIN_LABELS)
    assert set(manifest["domain_thresholds"]) == set(DOMAIN_LABELS)
    assert manifest["subtypes"] == list(SUBTYPE_LABELS) and manifest["entity_labels"]
    for name in (manifest["encoder"], manifest["tokenizer"], manifest["ner"], "pipeline.toml", "metrics.json", "MODEL_CARD.md"):
        assert (trained / name).exists(), name
    card = (trained / "MODEL_CARD.md").read_text()
    assert "| corpus | 48 |" in card and "realdev was not used" in card
    metrics = json.loads((trained / "metrics.json").read_text())
    assert metrics["classifier"]["int8_check"]["embedding_cosine_min"] > 0.95
    assert not list(trained.parent.glob("*.partial"))


def test_versions_resolve_newest_named_or_zero_shot(trained, tmp_path):
    older = trained.parent / "v19990101-0000"
    older.mkdir()
    (older / "model.json").write_text((trained / "model.json").read_text())
    directories = [trained.parent]
    assert find_model("latest", directories).version == trained.name
    assert find_model("v19990101-0000", directories).version == "v19990101-0000"
    assert find_model(ZERO_SHOT, directories) is None
    with pytest.raises(LookupError, match="no model version"):
        find_model("v-missing", directories)
    assert [v.name for v in list_versions(directories)] == ["v19990101-0000", trained.name]
    assert find_model("latest", [tmp_path / "empty"]) is None


def test_trained_pipeline_tags_with_subtypes_evidence_and_minilm_embedding(trained_pipeline, seed_document):
    text = "Police in Henan seized 3 tonnes of gutter oil. The oil was sold to restaurants. Officials said more arrests would follow."
    doc = Document.create(text, title="Gutter oil seized")
    (tagged,) = trained_pipeline.tag([doc])
    assert [s.label for s in tagged.domain_scores] == list(DOMAIN_LABELS)
    assert tagged.model == "v20000101-0000"
    predicted = {d.label for d in tagged.domains}
    assert set(tagged.evidence) == predicted
    for sentences in tagged.evidence.values():
        assert sentences and all(s in f"{doc.title}\n{doc.text}" for s in sentences)
    assert all(s.label.split(".")[0] in predicted for s in tagged.subtypes)
    # The embedding is all-MiniLM-L6-v2's own (int8), so stored vectors stay comparable.
    from kunlun_nlp.encoder import TextEncoder

    reference = TextEncoder().encode([f"{doc.title}\n{doc.text}"])[0].embedding
    assert float(np.dot(reference, tagged.embedding)) > 0.98


def test_evaluate_reports_model_and_baseline_with_png(trained_pipeline, tmp_path):
    examples = read_labeled(SAMPLE_LABELED)[:12]
    report = evaluate(examples, pipeline=trained_pipeline, name="sample")
    assert report["model"] == "v20000101-0000" and report["baseline"]["model"] == "zero-shot"
    assert set(report["domains"]["per_domain"]) == set(DOMAIN_LABELS)
    assert 0.0 <= report["domains"]["macro_f1"] <= 1.0
    text = format_report(report)
    assert "macro-F1" in text and "baseline" in text
    paths = write_report(report, tmp_path / "report")
    assert json.loads(paths[0].read_text())["domains"]["documents"] == 12
    assert paths[1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_threshold_choice_weighs_each_dev_document_by_its_source_weight():
    from training.train_classifier import best_thresholds

    # one label: written documents favour a high cut; the real one (weight 3) sits low
    probabilities = np.array([[0.9], [0.72], [0.62], [0.52], [0.33]])
    gold = np.array([[1.0], [0.0], [0.0], [0.0], [1.0]])
    assert 0.72 < best_thresholds(probabilities, gold)[0] <= 0.9  # F1 2/3 against 4/7 with all taken
    weights = np.array([1.0, 1.0, 1.0, 1.0, 3.0])
    assert best_thresholds(probabilities, gold, weights)[0] <= 0.33  # weighted F1 8/11 against 2/5


def test_dev_split_is_stratified_and_stable_as_other_sources_grow():
    from dataclasses import replace

    from training.datasets import load_corpus, split_train_dev

    corpus = load_corpus()[:300]
    real = [replace(e, id=f"real-{e.id}", source="realtrain") for e in corpus[:60]]
    train, dev = split_train_dev(corpus + real)
    assert {e.id for e in train}.isdisjoint(e.id for e in dev) and len(train) + len(dev) == 360
    assert 0.15 < len(dev) / 360 < 0.25
    real_dev = {e.id for e in dev if e.source == "realtrain"}
    _, grown_dev = split_train_dev(load_corpus()[:600] + real)
    assert {e.id for e in grown_dev if e.source == "realtrain"} == real_dev
