"""The zero-shot domain classifier: the baseline that trained classifiers must beat.

A document's score for a domain is the best cosine similarity between any of its chunks and any
written description of the domain (kunlun_nlp/zero_shot_domains.json). Taking the best chunk means
a round-up that mentions one seizure deep in its text still scores on that domain.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kunlun_nlp.document import DomainScore
from kunlun_nlp.domains import DOMAIN_LABELS
from kunlun_nlp.encoder import EncodedText, TextEncoder

DEFAULT_CONFIG = Path(__file__).with_name("zero_shot_domains.json")


@dataclass(frozen=True)
class DomainPrediction:
    scores: list[DomainScore]  # every domain, in DOMAIN_LABELS order
    predicted: list[DomainScore]  # those at or above their threshold, best first


class ZeroShotDomainClassifier:
    def __init__(self, encoder: TextEncoder, config_path: str | Path = DEFAULT_CONFIG) -> None:
        config = json.loads(Path(config_path).read_text(encoding="utf-8"))
        self.descriptions: dict[str, list[str]] = config["descriptions"]
        self.thresholds: dict[str, float] = {k: float(v) for k, v in config["thresholds"].items()}
        missing = set(DOMAIN_LABELS) - set(self.descriptions) | set(DOMAIN_LABELS) - set(self.thresholds)
        if missing:
            raise ValueError(f"{config_path}: no descriptions or threshold for {sorted(missing)}")
        self._prototypes = {label: encoder.encode_queries(self.descriptions[label]) for label in DOMAIN_LABELS}

    def score(self, encoded: EncodedText) -> np.ndarray:
        """Scores for each domain, in DOMAIN_LABELS order."""
        return np.array(
            [float((encoded.chunk_embeddings @ self._prototypes[label].T).max()) for label in DOMAIN_LABELS]
        )

    def predict(self, encoded: EncodedText) -> DomainPrediction:
        raw = self.score(encoded)
        scores = [DomainScore(label, round(float(s), 4)) for label, s in zip(DOMAIN_LABELS, raw)]
        predicted = sorted(
            (s for s in scores if s.score >= self.thresholds[s.label]), key=lambda s: s.score, reverse=True
        )
        return DomainPrediction(scores=scores, predicted=predicted)
