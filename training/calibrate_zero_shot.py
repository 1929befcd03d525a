"""Fit the zero-shot classifier's per-domain thresholds on labeled training data.

    python -m training.calibrate_zero_shot [TRAIN.jsonl]   (default: ../shared/data/realtrain/realtrain.jsonl)

For each domain, the threshold is the score that maximises that domain's F1 on the training
file; it is written back into kunlun_nlp/zero_shot_domains.json. Never run it on realdev: that
set is for evaluation only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from kunlun_nlp.classifier import DEFAULT_CONFIG, ZeroShotDomainClassifier
from kunlun_nlp.vocabulary import DOMAIN_LABELS
from kunlun_nlp.encoder import TextEncoder
from kunlun_nlp.report_text import classified_text
from training.labeled import read_labeled

DEFAULT_TRAIN = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "realtrain" / "realtrain.jsonl"


def best_threshold(scores: np.ndarray, positive: np.ndarray) -> float:
    best, best_f1 = float(scores.max()) + 1e-6, -1.0
    for candidate in np.unique(scores):
        predicted = scores >= candidate
        tp = int((predicted & positive).sum())
        f1 = 2 * tp / max(1, int(predicted.sum()) + int(positive.sum()))
        if f1 > best_f1:
            best, best_f1 = float(candidate), f1
    return best


def main(argv: list[str]) -> int:
    train_path = Path(argv[0]) if argv else DEFAULT_TRAIN
    examples = read_labeled(train_path)
    encoder = TextEncoder()
    classifier = ZeroShotDomainClassifier(encoder)
    encoded = encoder.encode([classified_text(e.document) for e in examples])
    scores = np.stack([classifier.score(e) for e in encoded])
    config = json.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    for column, label in enumerate(DOMAIN_LABELS):
        positive = np.array([label in e.domains for e in examples])
        config["thresholds"][label] = round(best_threshold(scores[:, column], positive), 4)
    DEFAULT_CONFIG.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    print(f"thresholds fitted on {train_path} ({len(examples)} documents): {config['thresholds']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
