"""The document model: what comes in (Document) and what tagging adds (TaggedDocument)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone

from kunlun_nlp.triage.records import CaseCard, Priority

_WHITESPACE = re.compile(r"\s+")


def content_id(text: str) -> str:
    """A stable id from the content alone, so the same report ingested twice is stored once.

    Whitespace is folded first: re-wrapped copies of one text are the same document.
    """
    folded = _WHITESPACE.sub(" ", text).strip()
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    text: str
    source: str = ""
    published: date | None = None
    # ISO 639-1 code; "" until given or detected (the pipeline's language stage detects it)
    language: str = ""
    ingested_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    grade: str | None = None  # source reliability A-F + information credibility 1-6, e.g. "B2"
    # Where `published` came from: "given" (on intake), "html-meta", "pdf-info", "email-date",
    # "text" (a dateline or "FOR IMMEDIATE RELEASE ..." line); "" when there is no date.
    published_via: str = ""

    @classmethod
    def create(
        cls,
        text: str,
        *,
        title: str = "",
        id: str | None = None,
        source: str = "",
        published: date | None = None,
        language: str = "",
        grade: str | None = None,
        published_via: str | None = None,
    ) -> Document:
        """`published_via` says where `published` came from; "given" by default when there is one.
        A `language` given is kept; without one, tagging detects it."""
        if not text or not text.strip():
            raise ValueError("document text is empty")
        return cls(
            id=id or content_id(text),
            title=title.strip(),
            text=text,
            source=source,
            published=published,
            language=language,
            grade=grade,
            published_via=(published_via or "given") if published else "",
        )

    def with_ingest_time(self, when: datetime | None = None) -> Document:
        return replace(self, ingested_at=when or datetime.now(timezone.utc))


@dataclass(frozen=True)
class Entity:
    label: str
    text: str
    start: int
    end: int
    normalized: str
    # Parsed values where the label has them: a place's country/admin1/city/lat/lon, a sum's
    # amount and currency, a quantity's value and unit. JSON-able.
    details: dict | None = None


@dataclass(frozen=True)
class DomainScore:
    label: str
    score: float


@dataclass(frozen=True)
class Review:
    """An analyst's review: it takes the report off the triage queue, with a note if they left one."""

    reviewed_by: str
    reviewed_at: datetime
    note: str | None = None  # at most limits.MAX_REVIEW_NOTE_CHARS; reviews stored before notes have none

    def to_record(self) -> dict[str, str]:
        record = {"reviewed_by": self.reviewed_by, "reviewed_at": self.reviewed_at.isoformat()}
        return record | {"note": self.note} if self.note else record

    @classmethod
    def from_record(cls, record: dict | None) -> Review | None:
        if not record or not record.get("reviewed_at"):
            return None
        return cls(str(record["reviewed_by"]), datetime.fromisoformat(str(record["reviewed_at"])), record.get("note") or None)


@dataclass(frozen=True)
class PriorVersion:
    """A reviewed report's text as it was when reviewed, kept when a re-ingest changed the text:
    the review belongs to these words, not to the new ones."""

    title: str
    text: str
    review: Review
    replaced_at: datetime

    def to_record(self) -> dict[str, str]:
        return {"title": self.title, "text": self.text, **self.review.to_record(), "replaced_at": self.replaced_at.isoformat()}

    @classmethod
    def from_record(cls, record: dict) -> PriorVersion:
        return cls(record["title"], record["text"], Review.from_record(record), datetime.fromisoformat(record["replaced_at"]))


@dataclass(frozen=True)
class TaggedDocument:
    document: Document
    domain_scores: list[DomainScore]  # every domain, in the order of Domain
    domains: list[DomainScore]  # the predicted ones, best first; empty means "none of these"
    entities: list[Entity]
    embedding: list[float]
    subtypes: list[DomainScore] = field(default_factory=list)  # of the predicted domains, best first
    evidence: dict[str, list[str]] = field(default_factory=dict)  # predicted domain → sentences that drove it
    model: str = ""  # the model version that tagged it ("zero-shot" for the baseline)
    cases: list[CaseCard] = field(default_factory=list)  # the enforcement events it reports
    priority: Priority | None = None
    review: Review | None = None  # once an analyst has reviewed it
    not_tagged: str | None = None  # why the models did not tag it (no domains or entities invented)
    # Character spans of the text that are the site's furniture (menus, contact and hotline
    # blocks, share bars): stored with the text, never a source of entities, evidence or titles.
    furniture: list[tuple[int, int]] = field(default_factory=list)
    history: list[PriorVersion] = field(default_factory=list)  # earlier reviewed texts, oldest first
    split_windows: list[str] = field(default_factory=list)  # domains its windows disagree on (DomainPrediction)
    # The merged human label (kunlun_nlp.labels) its tags were corrected to, with by/at/model/count;
    # None while the tags are the model's alone. Re-applied on every re-ingest and re-tag.
    correction: dict | None = None

    @property
    def id(self) -> str:
        return self.document.id
