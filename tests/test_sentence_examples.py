"""Sentence-level training examples cut from labeled reports (training/sentence_examples.py)."""

from __future__ import annotations

from training.datasets import LabeledExample
from training.sentence_examples import sentence_examples

FOOD_REPORT = (
    "Officers of the district food safety office inspected a market on Tuesday morning. "
    "They seized 640 jerrycans of palm oil coloured with Sudan IV dye at the stalls. "
    "Three traders were taken to the office in Enugu for questioning by the inspectors. "
    "Samples of the dyed palm oil were sent to the state laboratory in Lagos for tests."
)


def _span(text: str, mention: str, label: str, last: bool = False) -> tuple[int, int, str]:
    start = text.rindex(mention) if last else text.index(mention)
    return start, start + len(mention), label


def _report(id_: str, domains: set[str], text: str = FOOD_REPORT, spans=()) -> LabeledExample:
    return LabeledExample(
        id=id_, title="A title", text=text, domains=frozenset(domains), subtypes=frozenset({"FOOD.ADULTERATION"}) if domains else frozenset(),
        spans=tuple(spans), source="corpus", weight=1.0,
    )


def test_a_one_domain_report_lends_only_sentences_that_name_its_goods():
    spans = [
        _span(FOOD_REPORT, "palm oil", "PRODUCT"),
        _span(FOOD_REPORT, "palm oil", "PRODUCT", last=True),
        _span(FOOD_REPORT, "Sudan IV", "SUBSTANCE"),
        _span(FOOD_REPORT, "Enugu", "LOC"),  # a place is no evidence of the domain
    ]
    out = sentence_examples([_report("r1", {"FOOD"}, spans=spans)], per_report=5)
    assert [e.text for e in out] == [
        "They seized 640 jerrycans of palm oil coloured with Sudan IV dye at the stalls.",
        "Samples of the dyed palm oil were sent to the state laboratory in Lagos for tests.",
    ]
    assert all(e.domains == {"FOOD"} and e.title == "" and not e.spans and not e.subtypes for e in out)
    assert all(e.source == "corpus-sentence" and e.weight == 0.5 for e in out)
    assert [e.id for e in out] == ["r1#s0", "r1#s1"]


def test_a_two_domain_report_lends_none_and_a_negative_lends_only_sentences_that_name_goods():
    spans = [_span(FOOD_REPORT, "palm oil", "PRODUCT")]
    assert sentence_examples([_report("r2", {"FOOD", "INTELLECTUAL_PROPERTY"}, spans=spans)]) == []
    # campaign language and other sentences naming no goods stay out, from negatives too
    assert sentence_examples([_report("r3", set())]) == []
    negatives = sentence_examples([_report("r4", set(), spans=spans)], per_report=2)
    assert [e.text for e in negatives] == ["They seized 640 jerrycans of palm oil coloured with Sudan IV dye at the stalls."]
    assert negatives[0].domains == frozenset()


def test_the_choice_is_seeded_per_report_and_skips_fragments():
    spans = [_span(FOOD_REPORT, "palm oil", "PRODUCT"), _span(FOOD_REPORT, "palm oil", "PRODUCT", last=True)]
    reports = [_report(f"n{i}", {"FOOD"}, spans=spans) for i in range(6)]
    alone = sentence_examples(reports[:1], per_report=1)
    together = sentence_examples(reports, per_report=1)
    assert len(together) == 6 and alone == together[:1] == sentence_examples(reports[:1], per_report=1)
    short = "Seized palm oil. Arrested today."
    assert sentence_examples([_report("short", {"FOOD"}, text=short, spans=[_span(short, "palm oil", "PRODUCT")])]) == []
