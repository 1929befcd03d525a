"""Case cards: the enforcement events a report describes, from its sentences and entities.

Rules, not a trained model: a sentence that names an enforcement action (seized, arrested,
charged...) opens a card for that action, filled with the entities of that sentence; a sentence
without an action lends its goods, amounts and places to the card just before it in the same
paragraph ("They found 3 tonnes of gutter oil"). A round-up that reports many cases gives many
cards.
"""

from __future__ import annotations

import re
from datetime import date

from kunlun_nlp.document import Entity
from kunlun_nlp.places import resolve_region
from kunlun_nlp.sentences import sentence_spans
from kunlun_nlp.triage.dates import resolve_date
from kunlun_nlp.triage.records import CardValue, CaseCard, Party

ACTIONS: tuple[tuple[str, re.Pattern], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("conviction", r"\b(convict\w*|sentenc\w*|plead\w* guilty|pled guilty|jailed|imprison\w*|found guilty)\b"),
        ("charge", r"\b(charged|charges?|indict\w*|prosecut\w*|booked|FIR|arraign\w*)\b"),
        ("arrest", r"\b(arrest\w*|detain\w*|apprehend\w*|custody|nabbed)\b"),
        ("raid", r"\b(raid\w*|swoop\w*|stormed|crackdown)\b"),
        ("seizure", r"\b(seiz\w*|confiscat\w*|impound\w*|intercept\w*|haul|destroyed)\b"),
        ("closure", r"\b(shut down|shut|closed down|sealed|revoked|closure|suspended)\b"),
        ("recall", r"\brecall\w*\b"),
        ("warning", r"\b(warn\w*|advisory|alert)\b"),
        ("inspection", r"\b(inspected|inspecting|inspections?|spot checks?|sampled|sampling|tested)\b"),
    )
)
AGENCY_PATTERN = re.compile(
    r"\b(police|customs|ministry|administration|bureau|department|agency|authority|office|court|"
    r"procuratorate|prosecutor\w*|commission|board|inspectorate|directorate|council|service|force|"
    r"guard|unit|attorney|FDA|NAFDAC|Europol|Interpol|INTERPOL|EUROPOL|government|regulator|"
    r"tribunal|MHRA|EPA|CBP|HSI|DOJ|FBI|SAMR|HMRC|Trading Standards|DCP|ACP|SP|IPS)\b",
    re.IGNORECASE,
)
# News outlets quoted as sources are neither agencies nor suspects.
MEDIA_PATTERN = re.compile(r"\b(press|news|daily|times|post|herald|tribune|xinhua|reuters|afp|bernama|pti|ians|agency france)\b", re.I)
_SPOKESPERSON = re.compile(r"\b(said|says|told|spokes\w*|director|officer|inspector|commissioner|minister|judge|chief|head)\b", re.I)
_WHAT = ("PRODUCT", "SUBSTANCE", "QUANTITY", "MONEY")


def build_cards(text: str, entities: list[Entity], published: date | None) -> list[CaseCard]:
    cards: list[CaseCard] = []
    previous_end = 0
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        inside = [e for e in entities if start <= e.start < end]
        actions = _actions(sentence)
        new_paragraph = "\n" in text[previous_end:start]
        previous_end = end
        if not actions:
            # goods and amounts named right after an action belong to it ("They found 3 t of oil")
            if cards and not new_paragraph and any(e.label in _WHAT for e in inside):
                _fill(cards[-1], inside, sentence, published)
            continue
        for action in actions:
            card = CaseCard(action=action)
            _fill(card, inside, sentence, published)
            cards.append(card)
    return _merge_repeats(cards)


def _actions(sentence: str) -> list[str]:
    """Actions named in a sentence, in the order of ACTIONS; "seized ... and arrested" gives two."""
    found = [name for name, pattern in ACTIONS if pattern.search(sentence)]
    if "conviction" in found and "charge" in found:
        found.remove("charge")  # "was charged and convicted": the conviction is the news
    return found[:2]


def _fill(card: CaseCard, entities: list[Entity], sentence: str, published: date | None) -> None:
    enforcement = card.action in ("seizure", "arrest", "raid", "charge", "conviction", "closure")
    for entity in entities:
        value = entity.text
        if entity.label == "PRODUCT":
            _add(card.products, value)
        elif entity.label == "SUBSTANCE":
            _add(card.substances, value)
        elif entity.label == "QUANTITY":
            _add_value(card.quantities, CardValue(value, dict(entity.details or {})))
        elif entity.label == "MONEY":
            _add_value(card.money, CardValue(value, dict(entity.details or {})))
        elif entity.label == "LOC":
            # "Yubei District, Chongqing" is one entity (resolved as the one inside the other); a
            # card lists its parts, most specific first.
            head, _, region = value.partition(",")
            _add_value(card.places, CardValue(head.strip(), dict(entity.details or {})))
            region = region.strip()
            if region:
                _add_value(card.places, CardValue(region, resolve_region(region) or {}))
        elif entity.label == "ORG" and value not in [p.name for p in card.organisations]:
            if MEDIA_PATTERN.search(value):
                role = "other"
            elif AGENCY_PATTERN.search(value):
                role = "agency"
            else:
                role = "suspect" if enforcement else "other"
            card.organisations.append(Party(value, role))
        elif entity.label == "PERSON" and value not in [p.name for p in card.persons]:
            before = sentence[: max(0, sentence.find(value))][-40:] + sentence[sentence.find(value) + len(value) :][:20]
            role = "agency" if _SPOKESPERSON.search(before) else ("suspect" if enforcement else "other")
            card.persons.append(Party(value, role))
        elif entity.label == "DATE" and card.date is None:
            resolved = resolve_date(value, published)
            if resolved is not None:
                card.date, card.date_text = resolved, value


def _add(values: list[str], value: str) -> None:
    if value not in values:
        values.append(value)


def _add_value(values: list[CardValue], value: CardValue) -> None:
    """A value the card does not quote yet (by its text; the first one's details stay)."""
    if value.text not in [v.text for v in values]:
        values.append(value)


def _merge_repeats(cards: list[CaseCard]) -> list[CaseCard]:
    """A later card of the same action that adds no new goods or amounts restates the earlier one."""
    merged: list[CaseCard] = []
    for card in cards:
        same = next((c for c in reversed(merged) if c.action == card.action), None)
        if same is not None and not (set(card.products + card.substances + _texts(card.quantities)) - set(same.products + same.substances + _texts(same.quantities))):
            for value in card.places:
                _add_value(same.places, value)
            for value in card.money:
                _add_value(same.money, value)
            for party in card.organisations:
                if party.name not in [p.name for p in same.organisations]:
                    same.organisations.append(party)
            for party in card.persons:
                if party.name not in [p.name for p in same.persons]:
                    same.persons.append(party)
            same.date, same.date_text = same.date or card.date, same.date_text or card.date_text
            continue
        merged.append(card)
    return merged


def _texts(values: list[CardValue]) -> list[str]:
    return [v.text for v in values]
