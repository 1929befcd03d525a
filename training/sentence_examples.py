"""Single sentences cut from labeled reports, as extra training examples for the domain classifier.

Field reports can be two sentences long, and real news often names the seized goods with little of
the campaign vocabulary the written corpus is full of. Trained on whole reports only, the classifier
leaned on that vocabulary: "Police seized 300 kg of pangolin scales from a house in Ludhiana." scored
ENVIRONMENT 0.08. So each report with one domain or none also lends the classifier up to
`per_report` of its sentences that name a labeled PRODUCT or SUBSTANCE, with the report's label:
"pangolin scales" -> ENVIRONMENT, "heroin" or "counterfeit banknotes" -> none. Reports with two
domains lend none: which of the two a sentence shows is not known. Sentences that name no goods are
left out, from negatives too: drawn at random, they taught the model that campaign language is
"none" (the seed notice lost ENVIRONMENT and most of FOOD), since the campaign notices that are
positive cover several domains and lend no sentences.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from dataclasses import replace

from kunlun_nlp.sentences import sentence_spans
from training.datasets import LabeledExample

EVIDENCE_LABELS = frozenset({"PRODUCT", "SUBSTANCE"})
# A sentence counts for less than a report in the loss: it is a weaker, noisier sample.
SENTENCE_WEIGHT_SHARE = 0.5
MIN_WORDS, MAX_WORDS = 6, 80


def _usable(text: str, start: int, end: int) -> bool:
    return MIN_WORDS <= len(text[start:end].split()) <= MAX_WORDS


def sentence_examples(
    examples: Iterable[LabeledExample], *, per_report: int = 2, seed: int = 13
) -> list[LabeledExample]:
    """Sentence-level examples, derived deterministically from `examples` (see the module doc)."""
    out = []
    for example in examples:
        if len(example.domains) > 1:
            continue
        sentences = [(s, e) for s, e in sentence_spans(example.text) if _usable(example.text, s, e)]
        evidence = [(s, e) for s, e, label in example.spans if label in EVIDENCE_LABELS]
        sentences = [(s, e) for s, e in sentences if any(s <= a and b <= e for a, b in evidence)]
        if not sentences:
            continue
        # one generator per report, so a report's sentences do not depend on the others
        rng = random.Random(int(hashlib.sha1(f"{seed}:{example.id}".encode("utf-8")).hexdigest(), 16))
        chosen = sorted(rng.sample(sentences, min(per_report, len(sentences))))
        for number, (start, end) in enumerate(chosen):
            out.append(
                replace(
                    example,
                    id=f"{example.id}#s{number}",
                    title="",
                    text=example.text[start:end],
                    subtypes=frozenset(),
                    spans=(),
                    source=f"{example.source}-sentence",
                    weight=example.weight * SENTENCE_WEIGHT_SHARE,
                )
            )
    return out
