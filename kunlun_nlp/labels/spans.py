"""Entity mentions to character spans, for labeled samples that list mentions but not offsets
(realtrain's `entities: {LABEL: [mention, ...]}`). The library's own copy of the corpus tools'
span finder (training.corpus.compute_spans): kunlun_nlp never imports training."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping


def find_spans(text: str, entities: Mapping[str, Iterable[str]]) -> list[tuple[int, int, str]]:
    """Every occurrence of every mention as a whole word (not inside a longer word), sorted;
    where mentions overlap the longest wins, then the earliest."""
    candidates = []
    for label, mentions in entities.items():
        for mention in set(mentions):
            pattern = re.compile(r"(?<!\w)" + re.escape(mention) + r"(?!\w)")
            candidates += [(m.start(), m.end(), label) for m in pattern.finditer(text)]
    spans: list[tuple[int, int, str]] = []
    taken = [False] * len(text)
    for start, end, label in sorted(candidates, key=lambda c: (c[0] - c[1], c[0], c[2])):
        if not any(taken[start:end]):
            spans.append((start, end, label))
            taken[start:end] = [True] * (end - start)
    return sorted(spans)


def mentions_of(text: str, spans: Iterable[tuple[int, int, str]]) -> dict[str, list[str]]:
    """The corpus format's `entities` from spans: each label's distinct mentions, in text order."""
    entities: dict[str, list[str]] = {}
    for start, end, label in sorted(spans):
        mention = text[start:end]
        if mention not in entities.setdefault(label, []):
            entities[label].append(mention)
    return entities
