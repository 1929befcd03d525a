"""Human labels on indexed documents: a Correction, the merged label of a document's corrections,
and that label applied to a stored record.

A correction says what an analyst says a document's tags are. Each part is optional (None or
empty: "not said"): `domains` ([] = none of the four), `subtypes`, and entity operations by
character offsets into the stored text: `add` (start, end, label), `remove` (start, end) and
`relabel` (start, end, label). Every operation keeps the words it was given on, so that a
later text can be checked against them.

Corrections of one document are folded in order into one merged label (`merge`): domains and
sub-types from the latest correction that states them; entity operations accumulated, a later
one on the same span replacing the earlier. The merged label is what `apply_correction_record`
applies to a record's model tags, on every write of the document (index.base.carried_over), so
a human label always beats a model label, whatever model tagged it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from kunlun_nlp.normalize import entity_details, entity_key, normalize_entity
from kunlun_nlp.vocabulary import DOMAIN_LABELS, ENTITY_LABELS, SUBTYPE_LABELS

ENTITY_OPS = ("remove", "relabel", "add")  # the order a correction's own operations apply in
HUMAN_SCORE = 1.0  # the score a human-given domain or sub-type shows (the model's stay in domain_scores)


@dataclass(frozen=True)
class SpanOp:
    """One entity operation: `label` is None for a removal; `text` the words at start:end when it
    was made (filled in against the document by Correction.checked_against)."""

    op: str
    start: int
    end: int
    label: str | None = None
    text: str = ""

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"op": self.op, "start": self.start, "end": self.end}
        if self.label is not None:
            record["label"] = self.label
        record["text"] = self.text
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> SpanOp:
        return cls(str(record["op"]), int(record["start"]), int(record["end"]), record.get("label"), str(record.get("text") or ""))


@dataclass(frozen=True)
class Correction:
    doc_id: str
    domains: tuple[str, ...] | None = None
    subtypes: tuple[str, ...] | None = None
    add: tuple[SpanOp, ...] = ()
    remove: tuple[SpanOp, ...] = ()
    relabel: tuple[SpanOp, ...] = ()
    by: str = ""
    at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    model: str = ""  # the model version whose tags it corrects (the stored document's `model`)

    @classmethod
    def create(
        cls,
        doc_id: str,
        *,
        domains: Iterable[str] | None = None,
        subtypes: Iterable[str] | None = None,
        add: Iterable[Any] = (),
        remove: Iterable[Any] = (),
        relabel: Iterable[Any] = (),
        by: str = "",
        at: datetime | None = None,
        model: str = "",
    ) -> Correction:
        """A correction from plain values: spans as {"start", "end", "label"} mappings or
        (start, end[, label]) tuples. ValueError, saying what is wrong, for an unknown label,
        a sub-type outside the domains given, a span given twice, or a correction saying nothing."""
        correction = cls(
            doc_id=doc_id,
            domains=_labels(domains, DOMAIN_LABELS, "domain") if domains is not None else None,
            subtypes=_labels(subtypes, SUBTYPE_LABELS, "sub-type") if subtypes is not None else None,
            add=tuple(_span("add", s) for s in add),
            remove=tuple(_span("remove", s) for s in remove),
            relabel=tuple(_span("relabel", s) for s in relabel),
            by=by,
            at=at or datetime.now(timezone.utc),
            model=model,
        )
        if correction.domains is None and correction.subtypes is None and not correction.ops:
            raise ValueError("the correction says nothing: give domains, sub-types or entity operations")
        if correction.domains is not None and correction.subtypes is not None:
            _subtypes_under(correction.subtypes, correction.domains)
        seen: set[tuple[int, int]] = set()
        for op in correction.ops:
            if (op.start, op.end) in seen:
                raise ValueError(f"span {op.start}:{op.end} is given more than once")
            seen.add((op.start, op.end))
        return correction

    @property
    def ops(self) -> tuple[SpanOp, ...]:
        """The entity operations in the order they apply: removals, relabels, additions."""
        return (*self.remove, *self.relabel, *self.add)

    def checked_against(self, record: Mapping[str, Any]) -> Correction:
        """This correction made for a stored record (records.tagged_to_record): offsets inside the
        text and not blank, removals and relabels on an entity the record has, sub-types under the
        domains it will have. Returns it with each span's words and the record's model filled in."""
        text = record["text"]
        entities = {(int(e["start"]), int(e["end"])) for e in record.get("entities") or []}
        filled = {}
        for name in ENTITY_OPS:
            ops = []
            for op in getattr(self, name):
                if not 0 <= op.start < op.end <= len(text):
                    raise ValueError(f"{name} span {op.start}:{op.end} is not inside the text (0:{len(text)})")
                words = text[op.start : op.end]
                if not words.strip():
                    raise ValueError(f"{name} span {op.start}:{op.end} covers only white space")
                if name != "add" and (op.start, op.end) not in entities:
                    raise ValueError(f"{name}: the document has no entity at {op.start}:{op.end} ({words!r})")
                ops.append(replace(op, text=words))
            filled[name] = tuple(ops)
        if self.subtypes is not None:
            domains = self.domains if self.domains is not None else tuple(record.get("domains") or ())
            _subtypes_under(self.subtypes, domains)
        return replace(self, model=str(record.get("model") or ""), **filled)

    def to_record(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "domains": list(self.domains) if self.domains is not None else None,
            "subtypes": list(self.subtypes) if self.subtypes is not None else None,
            **{name: [op.to_record() for op in getattr(self, name)] for name in ENTITY_OPS},
            "by": self.by,
            "at": self.at.isoformat(),
            "model": self.model,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Correction:
        return cls(
            doc_id=str(record["doc_id"]),
            domains=tuple(record["domains"]) if record.get("domains") is not None else None,
            subtypes=tuple(record["subtypes"]) if record.get("subtypes") is not None else None,
            **{name: tuple(SpanOp.from_record(op) for op in record.get(name) or []) for name in ENTITY_OPS},
            by=str(record.get("by") or ""),
            at=datetime.fromisoformat(str(record["at"])),
            model=str(record.get("model") or ""),
        )


def merge(corrections: Sequence[Correction]) -> dict[str, Any] | None:
    """The merged label of a document's corrections, oldest first: the correction record stored
    with the document (TaggedDocument.correction). None when there are none.

    {"domains": [...] | None, "subtypes": [...] | None, "entities": [op, ...], "by", "at",
    "model" (of the latest), "count"}. A later correction that states domains but not sub-types
    keeps the earlier sub-types only under its domains."""
    if not corrections:
        return None
    domains: list[str] | None = None
    subtypes: list[str] | None = None
    spans: dict[tuple[int, int], SpanOp] = {}
    for correction in corrections:
        if correction.domains is not None:
            domains = list(correction.domains)
            if correction.subtypes is None and subtypes is not None:
                subtypes = [s for s in subtypes if _domain_of(s) in domains]
        if correction.subtypes is not None:
            subtypes = list(correction.subtypes)
        for op in correction.ops:
            spans.pop((op.start, op.end), None)  # re-inserted last: it applies after the others
            spans[(op.start, op.end)] = op
    latest = corrections[-1]
    return {
        "domains": domains,
        "subtypes": subtypes,
        "entities": [op.to_record() for op in spans.values()],
        "by": latest.by,
        "at": latest.at.isoformat(),
        "model": latest.model,
        "count": len(corrections),
    }


def latest_label(*labels: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """Of a document's merged labels, the one merging the most corrections (the first on a tie):
    a label applied late, after a newer one (two analysts at once), never wins over it."""
    given = [label for label in labels if label]
    return max(given, key=lambda label: int(label.get("count") or 0)) if given else None


def apply_correction_record(record: Mapping[str, Any], correction_record: Mapping[str, Any]) -> dict[str, Any]:
    """`record` (a stored record, records.tagged_to_record) with the merged human label applied.

    The model's own scores (`domain_scores`) and `model` stay; `domains`, `predicted`, `subtypes`
    and `entities` become the human label's where it says something: stated domains replace the
    predicted ones (score 1.0, evidence kept only for those), stated sub-types replace the
    model's (else the model's are kept under the domains the document now has), and the entity
    operations apply in order: a removal drops the entity at those offsets, a relabel changes its
    label (and adds it when the model no longer found it there), an addition replaces whatever
    entities overlap it. Added or relabelled entities get their normalised form and key, and the
    details the pipeline's entities stage parses from their words (a quantity's mass, a sum's
    amount, a place's coordinates): triage weighs a human's "3 tonnes" as it weighs the model's.

    When the text changed since the correction (a re-ingest with other words) so that an
    operation's offsets no longer hold its words, that operation is dropped and listed under
    `skipped` in the record's `correction`; the domain and sub-type part always applies. Applying
    a label twice gives the same record, so it can be re-applied on every re-ingest and re-tag.
    The record gets `correction`: the merged label itself."""
    label = {k: v for k, v in correction_record.items() if k != "skipped"}
    out = dict(record)
    if label.get("domains") is not None:
        chosen = set(label["domains"])
        domains = [d for d in DOMAIN_LABELS if d in chosen]
        out["domains"] = domains
        out["predicted"] = [{"label": d, "score": HUMAN_SCORE} for d in domains]
        out["evidence"] = {d: sentences for d, sentences in (record.get("evidence") or {}).items() if d in chosen}
    domains_now = set(out.get("domains") or [])
    if label.get("subtypes") is not None:
        chosen = set(label["subtypes"])
        out["subtypes"] = [{"label": s, "score": HUMAN_SCORE} for s in SUBTYPE_LABELS if s in chosen and _domain_of(s) in domains_now]
    else:
        out["subtypes"] = [s for s in record.get("subtypes") or [] if _domain_of(s["label"]) in domains_now]
    text = str(record.get("text") or "")
    entities = [dict(e) for e in record.get("entities") or []]
    skipped = []
    for op in (SpanOp.from_record(o) for o in label.get("entities") or []):
        if text[op.start : op.end] != op.text or not op.text:
            skipped.append(op.to_record())
            continue
        entities = _apply_op(entities, op)
    out["entities"] = sorted(entities, key=lambda e: (int(e["start"]), int(e["end"])))
    out["correction"] = {**label, "skipped": skipped} if skipped else label
    return out


def _apply_op(entities: list[dict[str, Any]], op: SpanOp) -> list[dict[str, Any]]:
    at = [e for e in entities if (int(e["start"]), int(e["end"])) == (op.start, op.end)]
    if op.op == "remove":
        return [e for e in entities if e not in at]
    if op.op == "relabel" and at:
        return [_entity(op) if e in at else e for e in entities] if at[0]["label"] != op.label else entities
    # an addition, or a relabel of words the model no longer found: one label per character
    kept = [e for e in entities if int(e["end"]) <= op.start or int(e["start"]) >= op.end]
    return [*kept, _entity(op)]


def _entity(op: SpanOp) -> dict[str, Any]:
    label = str(op.label)
    normalized = normalize_entity(label, op.text)
    return {"label": label, "text": op.text, "start": op.start, "end": op.end, "normalized": normalized,
            "key": entity_key(normalized), "details": entity_details(label, op.text)}


def _domain_of(subtype: str) -> str:
    return subtype.split(".", 1)[0]


def _labels(values: Iterable[str], known: Sequence[str], what: str) -> tuple[str, ...]:
    if isinstance(values, str):
        raise ValueError(f"{what}s must be a list, not a string")
    chosen = []
    for value in values:
        label = str(value).strip().upper()
        if label not in known:
            raise ValueError(f"unknown {what} {value!r}: one of {', '.join(known)}")
        if label not in chosen:
            chosen.append(label)
    return tuple(chosen)


def _subtypes_under(subtypes: Iterable[str], domains: Iterable[str]) -> None:
    domains = set(domains)
    outside = [s for s in subtypes if _domain_of(s) not in domains]
    if outside:
        raise ValueError(
            f"sub-type(s) {', '.join(outside)} not under the document's domains ({', '.join(sorted(domains)) or 'none'})"
        )


def _span(op: str, value: Any) -> SpanOp:
    """A SpanOp from {"start", "end", "label"} or (start, end[, label])."""
    if isinstance(value, SpanOp):
        start, end, label = value.start, value.end, value.label
    elif isinstance(value, Mapping):
        start, end, label = value.get("start"), value.get("end"), value.get("label")
    elif isinstance(value, (list, tuple)) and len(value) in (2, 3):
        start, end, label = value[0], value[1], value[2] if len(value) == 3 else None
    else:
        raise ValueError(f"{op}: a span is start, end{', label' if op != 'remove' else ''}; not {value!r}")
    if isinstance(start, bool) or isinstance(end, bool) or not isinstance(start, int) or not isinstance(end, int):
        raise ValueError(f"{op}: span offsets must be whole numbers, not {start!r}:{end!r}")
    if start < 0 or end <= start:
        raise ValueError(f"{op}: span {start}:{end} is empty or negative (start must be below end)")
    if op == "remove":
        return SpanOp(op, start, end)
    if label is None or str(label).strip().upper() not in ENTITY_LABELS:
        raise ValueError(f"{op}: unknown entity label {label!r} for span {start}:{end}: one of {', '.join(ENTITY_LABELS)}")
    return SpanOp(op, start, end, str(label).strip().upper())
