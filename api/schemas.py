"""Request and response models at the API edge."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# The text, title and id limits are the readers' too (the CLI splits a longer file into parts).
from kunlun_nlp.limits import ID_PATTERN, MAX_REVIEW_NOTE_CHARS, MAX_TEXT_CHARS, MAX_TITLE_CHARS
from kunlun_nlp.keys import NAME_PATTERN as KEY_NAME_PATTERN, ROLES as KEY_ROLES

MAX_BULK_DOCUMENTS = 1_000  # queued, not tagged in the request: the body cap bounds the memory


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=MAX_TEXT_CHARS, description=f"The report's text, at most {MAX_TEXT_CHARS} characters.")
    title: str = Field("", max_length=MAX_TITLE_CHARS)
    id: str | None = Field(None, pattern=ID_PATTERN, description="Defaults to a stable hash of the text.")
    source: str = Field("", max_length=2_000)
    published: date | None = None
    language: str | None = Field(
        None, min_length=2, max_length=8, description="ISO 639-1 code, e.g. en or zh; detected from the text when absent."
    )
    source_reliability: Literal["A", "B", "C", "D", "E", "F"] | None = Field(
        None, description="Admiralty scale: A completely reliable … E unreliable, F cannot be judged."
    )
    information_credibility: int | None = Field(
        None, ge=1, le=6, description="1 confirmed … 5 improbable, 6 cannot be judged. Defaults per source."
    )

    @field_validator("text")
    @classmethod
    def text_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is empty")
        return value


class BulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    documents: list[DocumentIn] = Field(min_length=1, max_length=MAX_BULK_DOCUMENTS)


class DomainOut(BaseModel):
    label: str
    score: float


class EntityOut(BaseModel):
    label: str
    text: str
    start: int
    end: int
    normalized: str
    details: dict | None = Field(None, description="Parsed place, sum or quantity, when the label has one.")


class PriorityOut(BaseModel):
    score: int = Field(ge=0, le=100)
    reasons: list[str]


class TagOut(BaseModel):
    """The shape `kunlun-nlp tag` prints: only the predicted domains, best first."""

    id: str
    domains: list[DomainOut]
    priority: PriorityOut | None
    cases: list[dict] = Field(description="Case cards: action, what, how much, worth, where, who, when.")
    subtypes: list[DomainOut] = Field(description="Sub-types of the predicted domains, best first.")
    evidence: dict[str, list[str]] = Field(description="For each predicted domain, the sentences that drove it.")
    entities: list[EntityOut]
    language: str = Field("", description="ISO 639-1 code, as given or detected; empty when too little text to tell.")
    not_tagged: str | None = Field(
        None, description="Why the models did not tag it (a language they do not read): no domains, entities or priority."
    )


class ReviewInfoOut(BaseModel):
    reviewed_by: str
    reviewed_at: datetime
    note: str | None = Field(None, description="The reviewer's note; null when they left none.")


class PriorVersionOut(ReviewInfoOut):
    title: str
    text: str
    replaced_at: datetime


class SpanOpOut(BaseModel):
    op: Literal["add", "remove", "relabel"]
    start: int
    end: int
    label: str | None = Field(None, description="The entity label; none for a removal.")
    text: str = Field(description="The words at start:end when the correction was made.")


class LabelStateOut(BaseModel):
    """A document's merged human label: the latest domains and sub-types stated, and every entity
    operation (a later one on the same span replacing the earlier), re-applied on every re-tag."""

    domains: list[str] | None = Field(description="The human's domains ([]: none of the four); null: not corrected.")
    subtypes: list[str] | None = Field(description="The human's sub-types; null: the model's, under the domains.")
    entities: list[SpanOpOut] = Field(description="Entity operations, in the order they apply.")
    by: str = Field(description="Who corrected it last (the API key's name, or the CLI user).")
    at: datetime
    model: str = Field(description="The model version whose tags the latest correction corrected.")
    count: int = Field(description="How many corrections were merged.")
    skipped: list[SpanOpOut] = Field([], description="Operations whose words are no longer at their offsets (the text changed).")


class DocumentOut(TagOut):
    title: str
    text: str
    source: str
    published: date | None
    ingested_at: datetime
    domain_scores: dict[str, float]
    model: str = Field(description="The model version that tagged it.")
    grade: str | None = Field(description="Source reliability and information credibility, e.g. B2.")
    review: ReviewInfoOut | None = Field(description="Who reviewed it and when; null while it is on the triage queue.")
    correction: LabelStateOut | None = Field(
        None, description="The human label its tags were corrected to (they beat the model's); null when uncorrected."
    )
    history: list[PriorVersionOut] = Field(
        [], description="Earlier reviewed texts of this report, oldest first, each with its review: a re-ingest that "
        "changed the text put the report back on the queue."
    )


class SearchHitOut(BaseModel):
    id: str
    title: str
    source: str
    published: date | None
    domains: list[DomainOut]
    score: float | None
    snippet: str = Field(description="HTML-escaped text with matches wrapped in <mark>.")
    priority: int | None
    priority_reasons: list[str]
    grade: str | None
    reviewed_by: str | None
    language: str = ""
    not_tagged: str | None = None
    review_note: str | None = Field(None, description="The reviewer's note, when reviewed with one.")
    corrected_by: str | None = Field(None, description="Who corrected its tags last; null when no one has.")
    human_domains: bool = Field(
        False, description="Its domains were set by a correction (scored 1.0: a human label, not a model score)."
    )


class FacetValueOut(BaseModel):
    value: str
    count: int


class DateBucketOut(BaseModel):
    start: date = Field(description="The bucket's first day: a Monday (interval=week) or the 1st (interval=month).")
    count: int = Field(description="Matching reports published in it.")
    domains: dict[str, int] = Field(description="Of them, how many each domain has (most first); a report may have several.")


class FacetsOut(BaseModel):
    domains: list[FacetValueOut]
    entities: dict[str, list[FacetValueOut]]
    languages: list[FacetValueOut] = []
    subtypes: list[FacetValueOut] = []
    sources: list[FacetValueOut] = Field([], description="Reports of no known source are not counted.")
    published: list[DateBucketOut] = Field(
        [], description="Reports per week or month (interval), oldest first; only buckets with reports, undated reports left out."
    )


class SearchOut(BaseModel):
    total: int
    page: int
    size: int
    hits: list[SearchHitOut]
    facets: FacetsOut = Field(description="Empty unless asked for with facets=true.")
    total_exact: bool = Field(True, description="False: at least `total` reports match (counting stops at 10,000).")


class SimilarOut(BaseModel):
    id: str
    hits: list[SearchHitOut]


class SemanticOut(BaseModel):
    q: str
    hits: list[SearchHitOut]


class QueueHealthOut(BaseModel):
    backend: str = Field(description="sqlite (one machine) or redis (workers on many machines).")
    reachable: bool
    depth: int | None = Field(description="Batches waiting for a worker, retries included.")
    workers: int | None = Field(description="Tagging worker processes that reported in the last 30 s.")


class HealthOut(BaseModel):
    """No URL or path: those stay in the service's log and settings."""

    status: str
    backend: str
    reachable: bool
    documents: int | None
    queue: QueueHealthOut


class JobAcceptedOut(BaseModel):
    job: str
    documents: int = Field(description="Documents durably queued: each will be stored or listed as failed.")
    status_url: str
    refused: dict[str, str] = Field({}, description="Uploaded files not read, with the reason (never queued).")


class JobOut(BaseModel):
    job: str
    state: Literal["queued", "retrying", "done", "done with failures"]
    documents: int
    queued: int
    done: int = Field(description="Stored in the index.")
    failed: int
    failures: dict[str, str] = Field(description="Document id → why it was not stored.")
    rate: float | None = Field(description="Documents per second since the job was accepted.")
    eta_seconds: float | None
    not_tagged: list[dict[str, str]] = Field(description="Stored for their words only (a language the models do not read).")
    submitted_by: str | None = Field(None, description="The name of the API key that submitted it; null from the CLI.")
    created: datetime | None = Field(None, description="When the job was accepted.")


class JobsOut(BaseModel):
    jobs: list[JobOut] = Field(description="The latest jobs, newest first.")


class ErrorOut(BaseModel):
    detail: str


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Who reviewed is the API key's name; a reviewer in the body is still accepted from clients
    # written before keys, as long as it is that name (another name is refused, never recorded).
    reviewer: str | None = Field(
        None, min_length=1, max_length=200,
        description="Optional, and if given must be the API key's name: the reviewer recorded is the key's name.",
    )

    note: str | None = Field(
        None, max_length=MAX_REVIEW_NOTE_CHARS,
        description=f"What the reviewer makes of it, at most {MAX_REVIEW_NOTE_CHARS} characters; kept with the review.",
    )

    @field_validator("reviewer")
    @classmethod
    def reviewer_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("reviewer is empty")
        return value.strip() if value is not None else None

    @field_validator("note")
    @classmethod
    def note_stripped(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None


class ReviewOut(BaseModel):
    id: str
    reviewed_by: str
    reviewed_at: datetime
    note: str | None = Field(None, description="The review's note: the first reviewer's, when it was reviewed already.")


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=KEY_NAME_PATTERN, description="Who holds the key: what its writes record. Never reused.")
    role: Literal[KEY_ROLES] = Field(  # type: ignore[valid-type]  # the roles, from their one place
        description="reader: search and read; intake: also ingest and tag; trainer: also corrections, labels, training, "
        "promotion and reviews; admin: everything, and the keys."
    )


class KeyOut(BaseModel):
    name: str
    role: str
    created_at: datetime
    revoked: bool
    revoked_at: datetime | None


class KeyCreatedOut(KeyOut):
    key: str = Field(description="The key itself, shown this once: send it as `Authorization: Bearer <key>`.")


class KeysOut(BaseModel):
    keys: list[KeyOut]


# -- human labels (api/routes/labels.py) -----------------------------------------------------------


class SpanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: int = Field(ge=0, description="Character offset into the stored text.")
    end: int = Field(ge=1, description="Character offset just past the span.")
    label: str = Field(description="ORG, LOC, PERSON, PRODUCT, SUBSTANCE, QUANTITY, MONEY, DATE or LAW.")


class SpanRefIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: int = Field(ge=0)
    end: int = Field(ge=1)


class CorrectionIn(BaseModel):
    """What the analyst says the document's tags are; every part optional, absent: not said."""

    model_config = ConfigDict(extra="forbid")

    domains: list[str] | None = Field(None, description="FOOD, MEDICINE, ENVIRONMENT, INTELLECTUAL_PROPERTY; [] for none of them.")
    subtypes: list[str] | None = Field(None, description="e.g. FOOD.ADULTERATION; each under one of the document's domains.")
    add: list[SpanIn] = Field([], description="Entities to add (an addition replaces the entities it overlaps).")
    remove: list[SpanRefIn] = Field([], description="Entities to remove, by their offsets.")
    relabel: list[SpanIn] = Field([], description="Entities to give another label, by their offsets.")


class CorrectedOut(BaseModel):
    id: str
    correction: LabelStateOut
    document: DocumentOut = Field(description="The document as now stored and searched: its tags corrected.")


class LabelHistoryEntryOut(BaseModel):
    """One label given to the document: a correction (domains, subtypes, add, remove, relabel) or an
    imported row (title, text, domains, subtypes, entities, spans, with its file)."""

    model_config = ConfigDict(extra="allow")

    seq: int
    origin: Literal["correction", "import"]
    by: str
    at: datetime
    model: str = ""
    file: str | None = None


class LabelHistoryOut(BaseModel):
    id: str
    history: list[LabelHistoryEntryOut] = Field(description="Oldest first; the latest wins per field.")
    correction: LabelStateOut | None = Field(description="The merged label now applied to the document.")


class LabelImportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["jsonl", "csv"] = Field(description="jsonl: the corpus format (or realtrain's); csv: text,domains[,title,id,subtypes].")
    content: str = Field(description="The file's content.")
    name: str = Field("", max_length=500, description="A file name to record with the import.")


class LabelImportOut(BaseModel):
    file: str
    imported: int = Field(description="Rows stored: the whole file.")
    by: str
    at: datetime
    domains: dict[str, int] = Field(description="Rows per domain; `none` for none of the four.")
    with_spans: int = Field(description="Rows that gave entities or spans.")
    warnings: list[str] = Field([], description="Accepted, but worth a look: \"line N: ...\" (a mention not found in the text).")


class LabelImportErrorOut(BaseModel):
    detail: str
    errors: list[str] = Field(description="Every problem, \"line N: reason\"; nothing was imported.")


class CandidateOut(BaseModel):
    id: str
    title: str
    domain: str = Field(description="The domain whose score is nearest its threshold.")
    score: float
    threshold: float
    margin: float = Field(description="|score - threshold|, halved where its windows disagree: the smaller, the less sure the model is.")
    windows_disagree: bool = Field(description="On this domain, some of the report's windows score at or above the threshold and some below.")
    predicted: list[str] = Field(description="The domains the model gave it.")
    model: str


class LabelNextOut(BaseModel):
    candidates: list[CandidateOut] = Field(description="Least sure first within each round over the domains.")
