"""By-text and by-span entity scores on hand-made cases."""

from __future__ import annotations

import pytest

from kunlun_nlp.document import Entity
from training.entity_metrics import COMBINED, EITHER, entity_metrics, gold_texts, span_metrics


def ent(label: str, text: str, start: int = 0, end: int | None = None) -> Entity:
    return Entity(label=label, text=text, start=start, end=start + len(text) if end is None else end, normalized=text)


def test_by_text_counts_distinct_strings_per_document():
    gold = [{"ORG": ["NAFDAC", "Interpol"], "LOC": ["Lagos"]}, {"ORG": ["FDA"]}]
    predicted = [
        # NAFDAC twice counts once; "Lagos" as ORG is wrong for ORG and missing for LOC.
        [ent("ORG", "NAFDAC"), ent("ORG", "NAFDAC", 40), ent("ORG", "Lagos")],
        [ent("ORG", "FDA"), ent("ORG", "the FDA", 20)],
    ]
    m = entity_metrics(gold, predicted, labels=("ORG", "LOC"))
    assert m["ORG"]["tp"] == 2 and m["ORG"]["gold"] == 3 and m["ORG"]["predicted"] == 4
    assert m["ORG"]["recall"] == pytest.approx(2 / 3)
    assert m["ORG"]["precision"] == pytest.approx(0.5)
    assert m["ORG"]["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert m["LOC"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "tp": 0, "predicted": 0, "gold": 1}
    assert COMBINED not in m and EITHER not in m


def test_by_text_is_exact_and_case_sensitive():
    m = entity_metrics([{"PRODUCT": ["infant formula"]}], [[ent("PRODUCT", "Infant formula")]], labels=("PRODUCT",))
    assert m["PRODUCT"]["tp"] == 0


def test_combined_product_substance_row_keeps_labels_apart():
    gold = [{"PRODUCT": ["gutter oil"], "SUBSTANCE": ["melamine", "ivory"]}]
    predicted = [[ent("PRODUCT", "gutter oil"), ent("SUBSTANCE", "melamine"), ent("PRODUCT", "ivory")]]
    m = entity_metrics(gold, predicted)
    row = m[COMBINED]
    assert (row["tp"], row["predicted"], row["gold"]) == (2, 3, 3)
    assert row["precision"] == pytest.approx(2 / 3) and row["recall"] == pytest.approx(2 / 3)
    assert m["SUBSTANCE"]["recall"] == pytest.approx(0.5)
    assert m["PRODUCT"]["precision"] == pytest.approx(0.5)
    # taken as one label, "ivory" is found: goods found, whichever kind
    either = m[EITHER]
    assert (either["tp"], either["predicted"], either["gold"]) == (3, 3, 3)


def test_either_label_row_counts_a_string_once():
    gold = [{"PRODUCT": ["ivory"], "SUBSTANCE": ["ivory", "melamine"]}]
    predicted = [[ent("SUBSTANCE", "ivory"), ent("PRODUCT", "ivory", 20), ent("PRODUCT", "gutter oil")]]
    row = entity_metrics(gold, predicted)[EITHER]
    assert (row["tp"], row["predicted"], row["gold"]) == (1, 2, 2)


def test_empty_inputs_and_mismatched_lengths():
    m = entity_metrics([{}], [[]], labels=("ORG",))
    assert m["ORG"]["precision"] == 0.0 and m["ORG"]["recall"] == 0.0
    with pytest.raises(ValueError):
        entity_metrics([{}, {}], [[]])


def test_span_metrics_need_exact_offsets_and_label():
    gold = [[(0, 6, "ORG"), (10, 15, "LOC")], [(3, 8, "MONEY")]]
    predicted = [
        [ent("ORG", "NAFDAC", 0, 6), ent("LOC", "Lago", 10, 14)],
        [ent("QUANTITY", "x" * 5, 3, 8)],
    ]
    m = span_metrics(gold, predicted, labels=("ORG", "LOC", "MONEY", "QUANTITY"))
    assert m["ORG"]["f1"] == 1.0
    assert m["LOC"]["tp"] == 0 and m["LOC"]["predicted"] == 1
    assert m["MONEY"]["recall"] == 0.0 and m["QUANTITY"]["precision"] == 0.0


def test_span_metrics_count_every_occurrence():
    gold = [[(0, 3, "ORG"), (10, 13, "ORG")]]
    m = span_metrics(gold, [[ent("ORG", "FDA", 0, 3)]], labels=("ORG",))
    assert m["ORG"]["recall"] == 0.5 and m["ORG"]["precision"] == 1.0


def test_gold_texts_from_spans():
    text = "FDA and FDA in Ohio"
    assert gold_texts(text, [(0, 3, "ORG"), (8, 11, "ORG"), (15, 19, "LOC")]) == {"ORG": ["FDA"], "LOC": ["Ohio"]}
