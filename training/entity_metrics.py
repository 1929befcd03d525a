"""Entity scores: by text (distinct strings per document) and by exact character span.

By text: for each document and label, the set of distinct gold strings is compared with the set
of distinct predicted entity texts of that label (exact string match). Counts are summed over
documents (micro-average). A "PRODUCT+SUBSTANCE" row pools the two labels, each string keeping
its own label; a "PRODUCT|SUBSTANCE" row takes them as one label (goods found, whichever kind):
the real data sets disagree on the kind of some goods (realtrain marks wildlife parts such as
ivory or pangolin scales SUBSTANCE, realdev marks them PRODUCT), so both rows are shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kunlun_nlp.document import Entity
from kunlun_nlp.vocabulary import ENTITY_LABELS

COMBINED = "PRODUCT+SUBSTANCE"
EITHER = "PRODUCT|SUBSTANCE"


def _row(tp: int, n_pred: int, n_gold: int) -> dict:
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "predicted": n_pred, "gold": n_gold}


def _score(gold_sets: list[dict[str, set]], pred_sets: list[dict[str, set]], labels: Sequence[str]) -> dict:
    if len(gold_sets) != len(pred_sets):
        raise ValueError(f"{len(gold_sets)} gold documents but {len(pred_sets)} predicted")
    goods = ("PRODUCT", "SUBSTANCE") if "PRODUCT" in labels and "SUBSTANCE" in labels else ()
    counts = {label: [0, 0, 0] for label in (*labels, EITHER)}
    for gold, pred in zip(gold_sets, pred_sets):
        for label in labels:
            _count(counts[label], gold.get(label, set()), pred.get(label, set()))
        if goods:
            _count(counts[EITHER], set().union(*(gold.get(k, set()) for k in goods)), set().union(*(pred.get(k, set()) for k in goods)))
    result = {label: _row(*counts[label]) for label in labels}
    if goods:
        tp, n_pred, n_gold = (counts["PRODUCT"][i] + counts["SUBSTANCE"][i] for i in range(3))
        result[COMBINED] = _row(tp, n_pred, n_gold)
        result[EITHER] = _row(*counts[EITHER])
    return result


def _count(counts: list[int], gold: set, predicted: set) -> None:
    counts[0] += len(gold & predicted)
    counts[1] += len(predicted)
    counts[2] += len(gold)


def _predicted_by_text(entities: Iterable[Entity]) -> dict[str, set]:
    out: dict[str, set] = {}
    for e in entities:
        out.setdefault(e.label, set()).add(e.text)
    return out


def entity_metrics(
    gold: list[dict[str, list[str]]],
    predicted: list[list[Entity]],
    labels: Sequence[str] = ENTITY_LABELS,
) -> dict:
    """Per-label precision/recall/F1 by text; gold is one {label: [mention, ...]} per document."""
    gold_sets = [{label: set(mentions) for label, mentions in doc.items()} for doc in gold]
    return _score(gold_sets, [_predicted_by_text(doc) for doc in predicted], labels)


def span_metrics(
    gold_spans: list[list[tuple[int, int, str]]],
    predicted: list[list[Entity]],
    labels: Sequence[str] = ENTITY_LABELS,
) -> dict:
    """Per-label precision/recall/F1 on exact (start, end, label) character spans."""
    gold_sets: list[dict[str, set]] = []
    for doc in gold_spans:
        sets: dict[str, set] = {}
        for start, end, label in doc:
            sets.setdefault(label, set()).add((start, end))
        gold_sets.append(sets)
    pred_sets: list[dict[str, set]] = []
    for doc in predicted:
        sets = {}
        for e in doc:
            sets.setdefault(e.label, set()).add((e.start, e.end))
        pred_sets.append(sets)
    return _score(gold_sets, pred_sets, labels)


def gold_texts(text: str, spans: Iterable[tuple[int, int, str]]) -> dict[str, list[str]]:
    """The {label: [mention, ...]} form of a LabeledExample's spans."""
    out: dict[str, list[str]] = {}
    for start, end, label in spans:
        mention = text[start:end]
        if mention not in out.setdefault(label, []):
            out[label].append(mention)
    return out


def format_metrics(metrics: dict) -> str:
    lines = [f"{'label':<18} {'P':>6} {'R':>6} {'F1':>6} {'gold':>6} {'pred':>6}"]
    for label, row in metrics.items():
        lines.append(
            f"{label:<18} {row['precision']:6.3f} {row['recall']:6.3f} {row['f1']:6.3f} {row['gold']:6d} {row['predicted']:6d}"
        )
    return "\n".join(lines)
