"""Triage evaluation against the hand-checked data in corpora/cases/.

- Case cards: per field, precision and recall of the values a report's cards carry (action,
  products, substances, quantities, money, places, organisations, persons, dates), pooled over
  each report's cards: the fields analysts read, without requiring cards to line up one to one.
- Priority: the share of the urgency pairs (priority_pairs.jsonl) that the priority orders the
  right way (a tie counts as wrong), next to a baseline that ranks by the best domain score alone.
  Each pair is judged as of the later publication date of its two reports.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from typing import Any

from kunlun_nlp.document import Document
from kunlun_nlp.pipeline import Pipeline
from training.corpus import CORPUS_DIR

CASES_DIR = CORPUS_DIR.parent / "cases"
CARD_FIELDS = ("action", "products", "substances", "quantities", "money", "places", "organisations", "persons", "date")


def _corpus_records() -> dict[str, dict[str, Any]]:
    records = {}
    for path in sorted(CORPUS_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                records[record["id"]] = record
    return records


def _document(record: dict[str, Any]) -> Document:
    return Document.create(
        record["text"], title=record.get("title", ""), id=record["id"],
        published=date.fromisoformat(record["published"]) if record.get("published") else None,
    )


def card_values(cards: list[dict[str, Any]]) -> dict[str, Counter]:
    values: dict[str, Counter] = {name: Counter() for name in CARD_FIELDS}
    for card in cards:
        values["action"][card["action"]] += 1
        for name in ("products", "substances", "quantities", "money", "places"):
            for item in card.get(name) or []:
                values[name][(item["text"] if isinstance(item, dict) else item).lower()] += 1
        for name in ("organisations", "persons"):
            for party in card.get(name) or []:
                values[name][party["name"].lower()] += 1
        if card.get("date"):
            values["date"][card["date"]] += 1
    # a value counts once per report: repeating it on two cards is not two findings
    return {name: Counter(set(counter)) for name, counter in values.items()}


def card_metrics(gold: list[list[dict]], predicted: list[list[dict]]) -> dict[str, Any]:
    totals = {name: Counter() for name in CARD_FIELDS}
    for gold_cards, predicted_cards in zip(gold, predicted):
        g, p = card_values(gold_cards), card_values(predicted_cards)
        for name in CARD_FIELDS:
            tp = sum((g[name] & p[name]).values())
            totals[name].update(tp=tp, fp=sum(p[name].values()) - tp, fn=sum(g[name].values()) - tp)
    out: dict[str, Any] = {}
    for name, t in totals.items():
        precision = t["tp"] / (t["tp"] + t["fp"]) if t["tp"] + t["fp"] else 0.0
        recall = t["tp"] / (t["tp"] + t["fn"]) if t["tp"] + t["fn"] else 0.0
        out[name] = {"precision": precision, "recall": recall, "gold": t["tp"] + t["fn"]}
    card_counts = sum(len(g) == len(p) for g, p in zip(gold, predicted))
    out["_reports"] = len(gold)
    out["_card_count_exact"] = card_counts / len(gold) if gold else 0.0
    return out


def evaluate_triage(pipeline: Pipeline) -> dict[str, Any]:
    corpus = _corpus_records()
    gold_rows = [json.loads(line) for path in sorted(CASES_DIR.glob("cards-*.jsonl")) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    pairs = [json.loads(line) for line in (CASES_DIR / "priority_pairs.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    ids = sorted({row["id"] for row in gold_rows} | {p["a"] for p in pairs} | {p["b"] for p in pairs})
    tagged = {t.id: t for t in pipeline.tag([_document(corpus[i]) for i in ids])}

    predicted_cards = [[card.to_record() for card in tagged[row["id"]].cases] for row in gold_rows]
    cards = card_metrics([row["cards"] for row in gold_rows], predicted_cards)
    prioritiser = pipeline.stage("priority").prioritiser

    right = baseline_right = 0
    by_rule: dict[int, Counter] = {}
    for pair in pairs:
        a, b = tagged[pair["a"]], tagged[pair["b"]]
        today = max(d for d in (a.document.published, b.document.published, date.min) if d)
        # each pair as of its later report's day: the priority stage again, on the tags already made
        score = {
            name: prioritiser.priority(t.document, [d.label for d in t.domains], t.entities, t.cases, index=None, today=today).score
            for name, t in (("a", a), ("b", b))
        }
        base = {"a": max(s.score for s in a.domain_scores), "b": max(s.score for s in b.domain_scores)}
        other = "b" if pair["more_urgent"] == "a" else "a"
        ok = score[pair["more_urgent"]] > score[other]
        base_ok = base[pair["more_urgent"]] > base[other]
        right += ok
        baseline_right += base_ok
        by_rule.setdefault(pair["rule"], Counter()).update(pairs=1, right=int(ok), baseline_right=int(base_ok))
    return {
        "cards": cards,
        "pairs": {
            "pairs": len(pairs),
            "priority_accuracy": right / len(pairs),
            "baseline_accuracy": baseline_right / len(pairs),
            "by_rule": {str(rule): {"pairs": c["pairs"], "priority": c["right"] / c["pairs"], "baseline": c["baseline_right"] / c["pairs"]} for rule, c in sorted(by_rule.items())},
        },
        "model": pipeline.model_version,
    }


def format_triage_report(report: dict[str, Any]) -> str:
    cards = report["cards"]
    lines = [f"case cards on {cards['_reports']} hand-checked reports (model {report['model']}); "
             f"card count exact on {cards['_card_count_exact']:.2f} of reports", f"{'field':<16}{'precision':>10}{'recall':>8}{'gold':>7}"]
    for name in CARD_FIELDS:
        m = cards[name]
        lines.append(f"{name:<16}{m['precision']:>10.3f}{m['recall']:>8.3f}{m['gold']:>7}")
    pairs = report["pairs"]
    lines += ["", f"priority pairs: {pairs['pairs']}; ordered right: priority {pairs['priority_accuracy']:.3f}, "
              f"baseline (best domain score) {pairs['baseline_accuracy']:.3f}", f"{'rule':<6}{'pairs':>6}{'priority':>10}{'baseline':>10}"]
    for rule, m in pairs["by_rule"].items():
        lines.append(f"{rule:<6}{m['pairs']:>6}{m['priority']:>10.3f}{m['baseline']:>10.3f}")
    return "\n".join(lines)
