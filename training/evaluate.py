"""Domain classification metrics on a labeled JSONL file: per-domain precision, recall, F1 and
macro-F1 over the four domains."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kunlun_nlp.domains import DOMAIN_LABELS
from kunlun_nlp.pipeline import TaggingPipeline
from training.labeled import read_labeled


def domain_metrics(gold: list[frozenset[str]], predicted: list[frozenset[str]]) -> dict[str, Any]:
    per_domain = {}
    for label in DOMAIN_LABELS:
        tp = sum(label in g and label in p for g, p in zip(gold, predicted))
        fp = sum(label not in g and label in p for g, p in zip(gold, predicted))
        fn = sum(label in g and label not in p for g, p in zip(gold, predicted))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_domain[label] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    exact = sum(g == p for g, p in zip(gold, predicted)) / len(gold) if gold else 0.0
    return {
        "documents": len(gold),
        "macro_f1": sum(m["f1"] for m in per_domain.values()) / len(per_domain),
        "exact_match": exact,
        "per_domain": per_domain,
    }


def evaluate_file(path: str | Path, *, pipeline: TaggingPipeline) -> dict[str, Any]:
    examples = read_labeled(path)
    tagged = pipeline.tag([e.document for e in examples])
    predicted = [frozenset(d.label for d in t.domains) for t in tagged]
    report = domain_metrics([e.domains for e in examples], predicted)
    report["file"] = str(path)
    report["classifier"] = type(pipeline.classifier).__name__
    return report


def format_report(report: dict[str, Any]) -> str:
    lines = [
        f"{report['file']}: {report['documents']} documents, classifier {report['classifier']}",
        f"{'domain':<24}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}",
    ]
    for label, m in report["per_domain"].items():
        lines.append(f"{label:<24}{m['precision']:>10.3f}{m['recall']:>10.3f}{m['f1']:>10.3f}{m['support']:>9}")
    lines.append(f"{'macro-F1':<24}{report['macro_f1']:>30.3f}")
    lines.append(f"{'exact match':<24}{report['exact_match']:>30.3f}")
    return "\n".join(lines)
