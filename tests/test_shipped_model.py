"""The model shipped in models/ (the newest version there), on text it never trained on: the seed
notice, and one-sentence field reports written for this test."""

from __future__ import annotations

import pytest

from kunlun_nlp.models import find_model, shipped_models_dir
from kunlun_nlp.pipeline import Pipeline
from kunlun_nlp.readers import Document

FIELD_REPORTS: dict[str, set[str]] = {
    "Police seized 3,000 fake Nike shoes from a warehouse in Ludhiana.": {"INTELLECTUAL_PROPERTY"},
    "Police seized 30 tonnes of illegally mined sand from trucks in Ludhiana.": {"ENVIRONMENT"},
    "The man sold unapproved weight-loss capsules laced with sibutramine on Facebook.": {"MEDICINE"},
    "A factory in Guangdong was caught discharging untreated wastewater containing chromium into a river.": {"ENVIRONMENT"},
    "A former engineer was charged with stealing trade secrets about battery technology for a Chinese competitor.": {"INTELLECTUAL_PROPERTY"},
    "Police seized 300 kg of heroin from a house in Ludhiana.": set(),
    "The gang was arrested for robbing a jewellery store in Mumbai.": set(),
}


# Known misses of the shipped model, kept as strict expected failures so a model that gets them right
# is noticed: a short report leans on campaign vocabulary more than on the goods it names.
KNOWN_MISSES: dict[str, set[str]] = {
    "Police seized 300 kg of pangolin scales from a house in Ludhiana.": {"ENVIRONMENT"},
}


@pytest.fixture(scope="module")
def shipped() -> Pipeline:
    model = find_model(None, [shipped_models_dir()])
    assert model is not None, "no model version in models/"
    return Pipeline.load(model)


def test_the_seed_notice_gets_all_four_domains(shipped, seed_document):
    (tagged,) = shipped.tag([seed_document])
    assert {s.label for s in tagged.domains} == {"FOOD", "MEDICINE", "ENVIRONMENT", "INTELLECTUAL_PROPERTY"}


def test_one_sentence_field_reports_get_the_domain_of_what_was_seized(shipped):
    documents = [Document(id=f"field-{i}", title="", text=text) for i, text in enumerate(FIELD_REPORTS)]
    found = {d.document.text: {s.label for s in d.domains} for d in shipped.tag(documents)}
    assert found == FIELD_REPORTS


@pytest.mark.xfail(strict=True, reason="known miss of the shipped model: see KNOWN_MISSES")
@pytest.mark.parametrize("text", list(KNOWN_MISSES))
def test_known_misses_of_the_shipped_model(shipped, text):
    (tagged,) = shipped.tag([Document(id="miss", title="", text=text)])
    assert {s.label for s in tagged.domains} == KNOWN_MISSES[text]


def test_a_report_scores_the_same_whatever_it_is_tagged_with(shipped):
    # int8 activations are quantized per run: batching windows made scores depend on the company
    alone = Document(id="alone", title="", text=next(iter(FIELD_REPORTS)))
    others = [Document(id=f"other-{i}", title="", text=text * (i + 1)) for i, text in enumerate(FIELD_REPORTS)]
    (by_itself,) = shipped.tag([alone])
    in_company = shipped.tag([*others, alone])[-1]
    assert by_itself.domain_scores == in_company.domain_scores
    assert by_itself.embedding == in_company.embedding
