"""Domain classifiers over an encoder's output.

- TrainedDomainClassifier reads the trained branch's logits (kunlun_nlp.onnx_encoder): the
  product's classifier, with sub-types and evidence sentences.
- ZeroShotDomainClassifier is the baseline it must beat: a document's score for a domain is the
  best cosine similarity between any of its chunks and any written description of the domain
  (kunlun_nlp/zero_shot_domains.json).

Both take the best chunk, so a round-up that reports one seizure deep in its text still scores on
that domain.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kunlun_nlp.document import DomainScore
from kunlun_nlp.vocabulary import DOMAIN_LABELS
from kunlun_nlp.encoder import EncodedText
from kunlun_nlp.sentences import sentence_spans

DEFAULT_CONFIG = Path(__file__).with_name("zero_shot_domains.json")


EVIDENCE_SENTENCES = 2


@dataclass(frozen=True)
class DomainPrediction:
    scores: list[DomainScore]  # every domain, in DOMAIN_LABELS order
    predicted: list[DomainScore]  # those at or above their threshold, best first
    subtypes: list[DomainScore] = field(default_factory=list)  # of the predicted domains, best first
    evidence: dict[str, list[str]] = field(default_factory=dict)  # predicted domain → sentences
    # Domains on which the windows of a long report disagree: some at or above the threshold, some
    # below (the max-pooled score hides it; what to label next looks for it).
    split_windows: list[str] = field(default_factory=list)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def pooled_probabilities(window_logits: np.ndarray) -> np.ndarray:
    """A document's label probabilities from its windows' logits (n_windows, n_labels): the best
    window speaks for the document, as in training."""
    return _sigmoid(window_logits.max(axis=0))


class TrainedDomainClassifier:
    """Reads the logits in the order the model gives them (its manifest's label lists); thresholds
    were calibrated per label on a dev split of the training data."""

    def __init__(
        self,
        domain_labels: Sequence[str],
        subtype_labels: Sequence[str],
        domain_thresholds: dict[str, float],
        subtype_thresholds: dict[str, float],
    ) -> None:
        self.domain_labels = list(domain_labels)
        self.subtype_labels = list(subtype_labels)
        self.thresholds = domain_thresholds
        self.subtype_thresholds = subtype_thresholds

    def predict(self, encoded: EncodedText, text: str) -> DomainPrediction:
        if encoded.domain_logits is None or encoded.subtype_logits is None:
            raise ValueError("TrainedDomainClassifier needs a trained encoder's output (BranchEncoder)")
        domain_probability = pooled_probabilities(encoded.domain_logits)
        subtype_probability = pooled_probabilities(encoded.subtype_logits)
        scores = [DomainScore(label, round(float(p), 4)) for label, p in zip(self.domain_labels, domain_probability)]
        predicted = sorted((s for s in scores if s.score >= self.thresholds[s.label]), key=lambda s: -s.score)
        chosen = {s.label for s in predicted}
        subtypes = sorted(
            (
                DomainScore(label, round(float(p), 4))
                for label, p in zip(self.subtype_labels, subtype_probability)
                if label.split(".")[0] in chosen and p >= self.subtype_thresholds[label]
            ),
            key=lambda s: -s.score,
        )
        evidence = {s.label: evidence_sentences(encoded, text, self.domain_labels.index(s.label)) for s in predicted}
        windows = _sigmoid(encoded.domain_logits)
        split = [
            label for column, label in enumerate(self.domain_labels)
            if windows[:, column].max() >= self.thresholds[label] > windows[:, column].min()
        ]
        return DomainPrediction(scores=scores, predicted=predicted, subtypes=subtypes, evidence=evidence, split_windows=split)


def evidence_sentences(encoded: EncodedText, text: str, domain: int, limit: int = EVIDENCE_SENTENCES) -> list[str]:
    """The sentences whose tokens added most to the domain's logit in its best chunk.

    A head's logit is the mean of per-token contributions plus a bias, so summing a sentence's
    token contributions says exactly how much that sentence pushed the score.
    """
    assert encoded.token_contributions is not None and encoded.token_offsets is not None
    best = int(encoded.domain_logits[:, domain].argmax())
    contributions = encoded.token_contributions[best][:, domain]
    offsets = encoded.token_offsets[best]
    spans = sentence_spans(text)
    weight = np.zeros(len(spans))
    sentence = 0
    for (start, _end), value in zip(offsets, contributions):
        while sentence < len(spans) - 1 and start >= spans[sentence][1]:
            sentence += 1
        if spans and spans[sentence][0] <= start < spans[sentence][1]:
            weight[sentence] += value
    order = [int(i) for i in np.argsort(-weight)]
    # the sentences that pushed the score up; at least the one that pushed it most
    ranked = [i for i in order if weight[i] > 0][:limit] or order[:1]
    return [text[spans[i][0] : spans[i][1]] for i in ranked]


class ZeroShotDomainClassifier:
    def __init__(self, encoder, config_path: str | Path = DEFAULT_CONFIG) -> None:
        """`encoder`: anything with encode_queries(texts) -> unit vectors (TextEncoder, BranchEncoder)."""
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

    def predict(self, encoded: EncodedText, text: str = "") -> DomainPrediction:
        raw = self.score(encoded)
        scores = [DomainScore(label, round(float(s), 4)) for label, s in zip(DOMAIN_LABELS, raw)]
        predicted = sorted(
            (s for s in scores if s.score >= self.thresholds[s.label]), key=lambda s: s.score, reverse=True
        )
        return DomainPrediction(scores=scores, predicted=predicted)
