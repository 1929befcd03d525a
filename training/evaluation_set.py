"""The fixed evaluation set that decides promotions: data no training ever sees.

It is the corpus's held-out tenth (is_test_record) and a fixed fifth of each real labeled set
(is_held_back_record), both chosen by id hash, so the set never changes as versions come and go
and a candidate and the active version are measured on the same documents. realdev is not part of
it: realdev is reported once per shipped model and chooses nothing.

Human labels can bring the same texts in again (realtrain2 imported as labeled samples, say):
`is_held_back` tells them by content, and feedback rounds leave them out.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from kunlun_nlp.document import content_id
from training.datasets import REAL_SETS, SHARED_DATA, LabeledExample, load_corpus, load_realtrain


def evaluation_set(*, with_shared: bool = True) -> list[LabeledExample]:
    """The corpus's held-out tenth, and with the shared data the held-back fifth of each real set."""
    examples = load_corpus(split="test")
    if with_shared:
        for name in REAL_SETS:
            if (SHARED_DATA / name / f"{name}.jsonl").exists():
                examples += load_realtrain(name=name, split="test")
    return examples


def fingerprint(examples: list[LabeledExample]) -> str:
    """Names the set's exact content, so cached figures are only reused for the same documents."""
    digest = hashlib.sha1()
    for example in sorted(examples, key=lambda e: e.id):
        digest.update(json.dumps([example.id, example.text, sorted(example.domains), list(example.spans)]).encode("utf-8"))
    return digest.hexdigest()[:12]


@lru_cache(maxsize=1)
def _held_back_texts() -> frozenset[str]:
    return frozenset(content_id(e.text) for e in evaluation_set())


def is_held_back(text: str) -> bool:
    """Whether `text` (whitespace folded) is one of the evaluation set's documents."""
    return content_id(text) in _held_back_texts()
