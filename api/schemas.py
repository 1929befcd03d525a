"""Request and response models at the API edge."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# The text, title and id limits are the readers' too (the CLI splits a longer file into parts).
from kunlun_nlp.limits import ID_PATTERN, MAX_TEXT_CHARS, MAX_TITLE_CHARS

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


class PriorVersionOut(ReviewInfoOut):
    title: str
    text: str
    replaced_at: datetime


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


class FacetValueOut(BaseModel):
    value: str
    count: int


class FacetsOut(BaseModel):
    domains: list[FacetValueOut]
    entities: dict[str, list[FacetValueOut]]
    languages: list[FacetValueOut] = []


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


class ErrorOut(BaseModel):
    detail: str


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewer: str = Field(min_length=1, max_length=200, description="Who reviewed the report.")

    @field_validator("reviewer")
    @classmethod
    def reviewer_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("reviewer is empty")
        return value.strip()


class ReviewOut(BaseModel):
    id: str
    reviewed_by: str
    reviewed_at: datetime
