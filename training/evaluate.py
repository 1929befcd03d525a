"""`kunlun-nlp evaluate`: domain and entity metrics of the configured model and of the zero-shot
baseline, measured in the same run on the same texts.

Domains: per-domain precision, recall, F1 and macro-F1 over the four domains. Entities: per-label
precision, recall and F1 by text (each document's distinct mention strings), and by exact span
where the file has spans. The baseline is the skeleton's pipeline: zero-shot domains over the same
encoder pass, and en_core_web_sm's entities alone. Both tag through their declared pipelines.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from kunlun_nlp.models import ZERO_SHOT
from kunlun_nlp.pipeline import Pipeline, PipelineConfig, StageConfig
from kunlun_nlp.pipeline.config import ZERO_SHOT_CONFIG
from kunlun_nlp.vocabulary import DOMAIN_LABELS
from training.entity_metrics import entity_metrics, span_metrics
from training.labeled import LabeledDocument

EVALUATED_ENTITY_LABELS = ("ORG", "LOC", "PERSON", "PRODUCT", "SUBSTANCE")


def domain_metrics(gold: list[frozenset[str]], predicted: list[frozenset[str]]) -> dict[str, Any]:
    per_domain = {}
    for label in DOMAIN_LABELS:
        tp = sum(label in g and label in p for g, p in zip(gold, predicted))
        fp = sum(label not in g and label in p for g, p in zip(gold, predicted))
        fn = sum(label in g and label not in p for g, p in zip(gold, predicted))
        tn = len(gold) - tp - fp - fn
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_domain[label] = {
            "precision": precision, "recall": recall, "f1": f1, "support": tp + fn,
            "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
        }
    exact = sum(g == p for g, p in zip(gold, predicted)) / len(gold) if gold else 0.0
    return {
        "documents": len(gold),
        "macro_f1": sum(m["f1"] for m in per_domain.values()) / len(per_domain),
        "exact_match": exact,
        "per_domain": per_domain,
    }


def evaluate(examples: list[LabeledDocument], *, pipeline: Pipeline, name: str) -> dict[str, Any]:
    documents = [e.document for e in examples]
    tagged = pipeline.tag(documents)
    predicted = [frozenset(d.label for d in t.domains) for t in tagged]
    entities = [t.entities for t in tagged]
    gold_domains = [e.domains for e in examples]
    gold_entities = [e.entities for e in examples]
    report: dict[str, Any] = {
        "file": name,
        "model": pipeline.model_version,
        "domains": domain_metrics(gold_domains, predicted),
        "entities_by_text": entity_metrics(gold_entities, entities, labels=EVALUATED_ENTITY_LABELS),
    }
    has_spans = all(e.spans is not None for e in examples)
    if has_spans:
        report["entities_by_span"] = span_metrics([e.spans for e in examples], entities)

    # The baseline, in the same run: the zero-shot pipeline over the model's own encoder (so the
    # domains differ by the classifier alone), with en_core_web_sm's entities.
    if pipeline.model_version != ZERO_SHOT:
        baseline_tagged = _baseline(pipeline).tag(documents)
        baseline_domains = [frozenset(d.label for d in t.domains) for t in baseline_tagged]
        baseline_entities = [t.entities for t in baseline_tagged]
        report["baseline"] = {
            "model": ZERO_SHOT,
            "domains": domain_metrics(gold_domains, baseline_domains),
            "entities_by_text": entity_metrics(gold_entities, baseline_entities, labels=EVALUATED_ENTITY_LABELS),
        }
        if has_spans:
            report["baseline"]["entities_by_span"] = span_metrics([e.spans for e in examples], baseline_entities)
    return report


def _baseline(pipeline: Pipeline) -> Pipeline:
    config = PipelineConfig.read(ZERO_SHOT_CONFIG).with_stage("minilm_encoder", StageConfig("branch_encoder"))
    return Pipeline(config, model=pipeline.model, version=ZERO_SHOT)


def format_report(report: dict[str, Any]) -> str:
    baseline = report.get("baseline")
    lines = [f"{report['file']}: {report['domains']['documents']} documents; model {report['model']}"]
    header = f"{'domain':<24}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}"
    lines += ["", header + ("   | baseline  P      R      F1" if baseline else "")]
    for label, m in report["domains"]["per_domain"].items():
        row = f"{label:<24}{m['precision']:>10.3f}{m['recall']:>8.3f}{m['f1']:>8.3f}{m['support']:>9}"
        if baseline:
            b = baseline["domains"]["per_domain"][label]
            row += f"   |        {b['precision']:.3f}  {b['recall']:.3f}  {b['f1']:.3f}"
        lines.append(row)
    macro = f"{'macro-F1':<24}{report['domains']['macro_f1']:>26.3f}"
    if baseline:
        macro += f"{'':>9}   |                      {baseline['domains']['macro_f1']:.3f}"
    lines.append(macro)
    for key, title in (("entities_by_text", "entities by text"), ("entities_by_span", "entities by exact span")):
        if key not in report:
            continue
        lines += ["", f"{title:<24}{'precision':>10}{'recall':>8}{'f1':>8}{'gold':>9}" + ("   | baseline  P      R      F1" if baseline else "")]
        for label, m in report[key].items():
            row = f"{label:<24}{m['precision']:>10.3f}{m['recall']:>8.3f}{m['f1']:>8.3f}{m.get('gold', 0):>9}"
            if baseline and label in baseline.get(key, {}):
                b = baseline[key][label]
                row += f"   |        {b['precision']:.3f}  {b['recall']:.3f}  {b['f1']:.3f}"
            lines.append(row)
    return "\n".join(lines)


def write_report(report: dict[str, Any], directory: str | Path) -> list[Path]:
    """metrics.json and report.png (per-domain confusion matrices, per-class F1 bars)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / "metrics.json"
    json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

    figure, axes = plt.subplots(2, 4, figsize=(16, 8))
    for axis, label in zip(axes[0], DOMAIN_LABELS):
        c = report["domains"]["per_domain"][label]["confusion"]
        matrix = np.array([[c["tp"], c["fn"]], [c["fp"], c["tn"]]])
        axis.imshow(matrix, cmap="Blues")
        for (i, j), value in np.ndenumerate(matrix):
            axis.text(j, i, str(value), ha="center", va="center", fontsize=14)
        axis.set_xticks([0, 1], ["predicted yes", "predicted no"])
        axis.set_yticks([0, 1], ["gold yes", "gold no"])
        axis.set_title(label.replace("_", " ").title())
    _bars(axes[1][0:2], report, "domains", plt)
    _bars(axes[1][2:4], report, "entities_by_text", plt)
    figure.suptitle(f"{report['file']} — model {report['model']}")
    figure.tight_layout()
    png_path = directory / "report.png"
    figure.savefig(png_path, dpi=80)
    plt.close(figure)
    return [json_path, png_path]


def _bars(axes, report: dict[str, Any], key: str, plt) -> None:
    rows = report[key]["per_domain"] if key == "domains" else report[key]
    labels = list(rows)
    systems = [("model", rows)]
    baseline = report.get("baseline", {})
    if key in baseline:
        systems.append(("zero-shot baseline", baseline[key]["per_domain"] if key == "domains" else baseline[key]))
    for axis, metric in zip(axes, ("f1", "recall")):
        width = 0.8 / len(systems)
        for k, (name, values) in enumerate(systems):
            axis.bar(np.arange(len(labels)) + k * width, [values[label][metric] for label in labels], width, label=name)
        axis.set_xticks(np.arange(len(labels)) + width * (len(systems) - 1) / 2, [l[:12] for l in labels], rotation=30)
        axis.set_ylim(0, 1)
        axis.set_title(f"{'domains' if key == 'domains' else 'entities (by text)'}: {metric}")
        axis.legend(fontsize=8)
