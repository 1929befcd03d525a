"""The pieces entity extraction is made of: spaCy spans mapped to the project's labels, the
gazetteers' labels and goods names, merging, amounts, joined places, and the final Entity.

The passes run as named steps of the declared pipeline (kunlun_nlp.pipeline.entity_steps), in the
order a model version's pipeline.toml gives: en_core_web_sm for amounts, dates and laws; the domain
NER (written by training/train_ner.py: en_core_web_sm's NER fine-tuned to ORG, LOC, PERSON, PRODUCT
and SUBSTANCE) with the dictionary's labels for firm and brand names and its goods names; one
non-overlapping list of spans at the end.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from kunlun_nlp.document import Entity
from kunlun_nlp.normalize import entity_details, normalize_entity
from kunlun_nlp.places import is_state_abbreviation, resolve_within

# OntoNotes labels → the project's labels; labels not listed (CARDINAL, NORP, EVENT...) are dropped.
ONTONOTES_LABELS: dict[str, str] = {
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
# A span's label is written in the model's own terms unless a label map names them.
LABEL_MAPS: dict[str, dict[str, str]] = {"ontonotes": ONTONOTES_LABELS}

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")

Span = tuple[int, int, str]  # start, end (characters), label


GAZETTEER_LABELS_FILE = "gazetteer_labels.json"


# Labels whose judgement the "goods" table leaves alone: it only says a name is goods, not which kind.
_GOODS_LABELS = frozenset({"PRODUCT", "SUBSTANCE"})
# A word of a goods name, and the longest name in words: "co-trimoxazole" is two, so that
# "sildenafil" is found in "sildenafil-laced".
_WORD = re.compile(r"[^\W_](?:[\w'’]*[^\W_])?")
_WORD_GAP = re.compile(r"[ -]")
_GOODS_MAX_WORDS = 5


@dataclass(frozen=True)
class GazetteerLabels:
    """Labels a domain model's dictionaries know better than its NER: firm names (as written) are
    ORG and branded products (any case) PRODUCT, whatever label the NER gave the same span.

    Names of goods (`goods`, any case: tens of thousands of drug names) are PRODUCT or SUBSTANCE
    where the NER took them for a firm, place or person ("Plavix" is not a town) and keep the NER's
    PRODUCT or SUBSTANCE otherwise; `find_goods` finds them where the NER found nothing. A plain
    look-up, not a spaCy entity ruler: a ruler of that size added 17 s to loading the model."""

    exact: dict[str, str] = field(default_factory=dict)
    lowercase: dict[str, str] = field(default_factory=dict)
    goods: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> GazetteerLabels:
        """The table in `path` (a domain NER's GAZETTEER_LABELS_FILE); empty when there is none."""
        path = Path(path)
        if not path.exists():
            return cls()
        table = json.loads(path.read_text(encoding="utf-8"))
        return cls(exact=table.get("exact", {}), lowercase=table.get("lowercase", {}), goods=table.get("goods", {}))

    def relabel(self, text: str, spans: list[Span]) -> list[Span]:
        out = []
        for start, end, label in spans:
            mention = text[start:end]
            known = self.exact.get(mention) or self.lowercase.get(mention.lower())
            if known is None and label not in _GOODS_LABELS:
                known = self.goods.get(mention.lower())
            out.append((start, end, known or label))
        return out

    def find_goods(self, text: str) -> list[Span]:
        """Every goods name in `text`, longest first, as whole words on one line."""
        if not self.goods:
            return []
        words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
        found = []
        i = 0
        while i < len(words):
            for n in range(min(_GOODS_MAX_WORDS, len(words) - i), 0, -1):
                start, end = words[i][0], words[i + n - 1][1]
                mention = text[start:end]
                if any(not _WORD_GAP.fullmatch(text[a:b]) for (_, a), (b, _) in zip(words[i : i + n - 1], words[i + 1 : i + n])):
                    continue  # the words must be one space or hyphen apart
                label = self.goods.get(mention.lower())
                if label is not None:
                    found.append((start, end, label))
                    i += n
                    break
            else:
                i += 1
        return found


# Quotes and possessives the models take into a name: "‘Meg Lifesciences", "Teva Industries'",
# "Customs Enforcement's". No name ends in a possessive ("Kellogg's" products are Kellogg's).
_LEADING_QUOTES = re.compile(r"^[\"'‘’“”«]+")
_TRAILING_POSSESSIVE = re.compile(r"(?:['’]s?|[\"“”»])+$")


def trim_mention(text: str) -> tuple[int, int]:
    """The (start, end) of `text` without leading quotes and a trailing possessive or quote."""
    quotes = _LEADING_QUOTES.match(text)
    start = quotes.end() if quotes else 0
    tail = _TRAILING_POSSESSIVE.search(text, start)
    return start, tail.start() if tail else len(text)


def spacy_spans(doc, labels: frozenset[str], mapping: dict[str, str] | None) -> list[Span]:
    out = []
    for ent in doc.ents:
        label = mapping.get(ent.label_) if mapping is not None else ent.label_
        if label is None or label not in labels:
            continue
        # The small model sometimes runs a name on across a paragraph break
        # ("Jia Jia\n\n\nSpecial"): a mention never spans one, so cut it there.
        text = _PARAGRAPH_BREAK.split(ent.text, maxsplit=1)[0].rstrip()
        start, end = trim_mention(text)
        if start < end:
            out.append((ent.start_char + start, ent.start_char + end, label))
    return out


def merge_spans(
    base: list[Span],
    domain: list[Span],
    domain_wins: frozenset[str],
) -> list[Span]:
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


# The part after a place's comma: a run of capitalised words on the same line ("Montana", "N.M.",
# "Dominican Republic"), taken whole or not at all ("Missoula, Montana State University" is not
# "Missoula, Montana").
_QUALIFIER = re.compile(r",[ \t]*([A-Z][\w'’.-]*(?:[ \t]+[A-Z][\w'’.-]*){0,3})(?![ \t]*[A-Z]|[\w'’.-])")


def join_qualified_places(text: str, spans: list[Span]) -> list[Span]:
    """A place and the state, province or country after its comma are one LOC: "Missoula,
    Montana", "Duluth, Ga.", "Nagpur, India". That is how the real training texts mark them, and the
    pair resolves where the town alone is ambiguous. Only when the first is inside the second, so
    lists ("Belgium, Bulgaria", "Anhui, Shandong") stay apart."""
    out: list[Span] = []
    skip_until = -1
    for start, end, label in sorted(spans):
        if start < skip_until:
            continue  # the qualifier's own entity, now part of the place
        if label == "LOC" and (m := _QUALIFIER.match(text, end)):
            qualifier = m.group(1)
            if qualifier.endswith(".") and not is_state_abbreviation(qualifier):
                qualifier = qualifier[:-1]  # a sentence's full stop, not the name's ("Fla.", "N.Y.")
            if qualifier and resolve_within(text[start:end], qualifier) is not None:
                end = m.start(1) + len(qualifier)
                skip_until = end
        out.append((start, end, label))
    return out


def split_qualified_places(text: str, spans: list[Span]) -> list[Span]:
    """The inverse of join_qualified_places, for training the NER: it learns the names ("Missoula",
    "Montana") and the rule joins them; taught the joined form, it also joined lists ("Dublin, Cork")."""
    out: list[Span] = []
    for start, end, label in spans:
        head, comma, region = text[start:end].partition(",")
        if label == "LOC" and comma and region.strip() and resolve_within(head, region) is not None:
            region_start = start + len(head) + 1 + len(region) - len(region.lstrip())
            out.append((start, start + len(head.rstrip()), label))
            out += split_qualified_places(text, [(region_start, end, label)])
        else:
            out.append((start, end, label))
    return out


def make_entity(text: str, start: int, end: int, label: str) -> Entity:
    mention = text[start:end]
    return Entity(
        label=label,
        text=mention,
        start=start,
        end=end,
        normalized=normalize_entity(label, mention),
        details=entity_details(label, mention),
    )
