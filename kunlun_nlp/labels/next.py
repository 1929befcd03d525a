"""What to label next: the indexed documents the model is least sure of, spread over the domains.

A document's doubt is how close its scores come to the thresholds that decide them: the margin
|score - threshold| of the domain nearest its threshold (the smaller, the less sure; the
thresholds of the model version that tagged it). A long report's score is its best window's: where
its windows disagree on a domain (some at or above the threshold, some below: `split_windows`),
the model is less sure than the pooled score says, and that domain's margin counts half. The list goes round the
domains (by the domain nearest its threshold), each round taking the least sure document of each,
so that one domain's doubts do not fill it. Documents already corrected, those the models did not
tag (a language they do not read) and any in `exclude` are left out.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from kunlun_nlp.document import TaggedDocument

if TYPE_CHECKING:  # kunlun_nlp.index.base imports this package (carried_over)
    from kunlun_nlp.index.base import DocumentIndex

DEFAULT_THRESHOLD = 0.5
Thresholds = Mapping[str, float] | Callable[[str], Mapping[str, float]]  # one set, or by model version


@dataclass(frozen=True)
class Candidate:
    id: str
    title: str
    domain: str  # the domain whose score is nearest its threshold
    score: float
    threshold: float
    margin: float  # |score - threshold|, halved where the windows disagree: the smaller, the less sure
    windows_disagree: bool  # on `domain`, some windows at or above the threshold and some below
    predicted: list[str]  # the domains the model gave it
    model: str


def label_next(index: DocumentIndex, thresholds: Thresholds, size: int = 20, exclude: Collection[str] = ()) -> list[Candidate]:
    """Up to `size` documents worth labeling next, least sure first within each round of domains."""
    if size < 1:
        return []
    excluded = set(exclude)
    by_model: dict[str, Mapping[str, float]] = {}
    # per domain, the `size` least sure documents: a heap of (-margin, id) keeps memory bounded
    heaps: dict[str, list[tuple[float, str, Candidate]]] = {}
    for batch in index.scan():
        for tagged in batch:
            if tagged.not_tagged or tagged.correction or tagged.id in excluded or not tagged.domain_scores:
                continue
            if tagged.model not in by_model:
                by_model[tagged.model] = thresholds(tagged.model) if callable(thresholds) else thresholds
            candidate = _candidate(tagged, by_model[tagged.model])
            heap = heaps.setdefault(candidate.domain, [])
            item = (-candidate.margin, _negated(candidate.id), candidate)
            if len(heap) < size:
                heapq.heappush(heap, item)
            elif item > heap[0]:
                heapq.heapreplace(heap, item)
    queues = {domain: sorted((c for _, _, c in heap), key=lambda c: (c.margin, c.id)) for domain, heap in heaps.items()}
    order = sorted(queues, key=lambda d: (queues[d][0].margin, d))  # the domain with the least sure document first
    chosen: list[Candidate] = []
    for round_ in range(size):
        for domain in order:
            if round_ < len(queues[domain]) and len(chosen) < size:
                chosen.append(queues[domain][round_])
    return chosen


def _candidate(tagged: TaggedDocument, thresholds: Mapping[str, float]) -> Candidate:
    split = set(tagged.split_windows)
    margins = []
    for s in tagged.domain_scores:
        threshold = thresholds.get(s.label, DEFAULT_THRESHOLD)
        margins.append((abs(s.score - threshold) * (0.5 if s.label in split else 1.0), s.label, s.score, threshold))
    margin, domain, score, threshold = min(margins)
    return Candidate(
        id=tagged.id, title=tagged.document.title, domain=domain, score=score, threshold=threshold,
        margin=round(margin, 6), windows_disagree=domain in split, predicted=[d.label for d in tagged.domains], model=tagged.model,
    )


def _negated(text: str) -> tuple[int, ...]:
    """A key that orders ids in reverse, so that of equal margins the heap keeps the smaller ids."""
    return tuple(-ord(c) for c in text) + (1,)


def thresholds_by_model(model_dirs: Sequence[Path]) -> Callable[[str], Mapping[str, float]]:
    """The domain thresholds of a model version by name, as label_next asks for them: a trained
    version's calibrated ones (its manifest), the zero-shot baseline's own; 0.5 for a version no
    longer found."""
    from kunlun_nlp.models import ZERO_SHOT, find_model

    @cache
    def thresholds(model: str) -> Mapping[str, float]:
        if not model or model == ZERO_SHOT:
            return _zero_shot_thresholds()
        try:
            version = find_model(model, model_dirs)
        except (LookupError, ValueError, OSError):
            return {}
        return version.domain_thresholds if version is not None else _zero_shot_thresholds()

    return thresholds


def _zero_shot_thresholds() -> dict[str, float]:
    config = Path(__file__).resolve().parents[1] / "zero_shot_domains.json"
    return {label: float(value) for label, value in json.loads(config.read_text(encoding="utf-8"))["thresholds"].items()}
