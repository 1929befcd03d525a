"""Synthetic tagged documents for the index contract: built in code, no models.

Every field a backend stores is chosen here, so the contract's expectations can be computed from
the corpus itself and never drift with the tagging pipeline. Embeddings are seeded 384-dim unit
vectors; around the vector of ANCHOR_SEED lies a CLUSTER of documents at planned cosines (a
near-duplicate first), for nearest-neighbour order.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import numpy as np

from kunlun_nlp.document import Document, DomainScore, Entity, TaggedDocument
from kunlun_nlp.index.base import EMBEDDING_DIMS
from kunlun_nlp.normalize import normalize_entity
from kunlun_nlp.triage.records import CardValue, CaseCard, Party, Priority
from kunlun_nlp.vocabulary import DOMAIN_LABELS

INGESTED_AT = datetime(2026, 11, 1, 8, 30, tzinfo=timezone.utc)
CORPUS_SIZE = 36  # more than three pages of ten, for paging
SEED_ID = "syn-seed"  # the one report that names the Ministry of Public Security
# Documents planned around ANCHOR_SEED's vector, with these cosines to it, best first.
ANCHOR_SEED = 7_000
CLUSTER: tuple[tuple[str, float], ...] = (("syn-03", 0.97), ("syn-11", 0.9), ("syn-19", 0.8), ("syn-27", 0.7), ("syn-33", 0.6))

_SOURCES = ("customs-bulletin", "wire", "ngo-watch", "")
_GRADES = ("A1", "B2", "C3", "F6", "D4", "B1", "E5", "A2", "C6")
# Stored languages by position ("" is one too short to tell); the texts stay English: the
# contract is about what is stored and filtered, not about detection.
_LANGUAGES = ("en", "en", "es", "en", "en", "fr", "en", "")
_PLACES = ("Lagos", "Guangzhou", "Rotterdam", "Mumbai", "Lima")
_FIRMS = ("Huaxin Trading Co., Ltd.", "Oduya Agro Export Ltd.", "Westgate Pacific Imports LLC", "Brennar Therapeutics Pvt. Ltd.")
_PRODUCTS = ("infant formula", "insulin pens", "pangolin scales", "branded handbags")
_DOMAIN_WORDS = {
    "FOOD": "Tainted cooking oil and fake honey were sold to restaurants.",
    "MEDICINE": "Unlicensed pharmacies shipped falsified antibiotics by post.",
    "ENVIRONMENT": "Toxic sludge was dumped into a river at night.",
    "INTELLECTUAL_PROPERTY": "Fake trademark labels were stitched onto goods in a workshop.",
}


def unit_vector(seed: int, dims: int = EMBEDDING_DIMS) -> list[float]:
    vector = np.random.default_rng(seed).standard_normal(dims)
    return (vector / np.linalg.norm(vector)).tolist()


def vector_at(anchor: Sequence[float], cosine: float, seed: int) -> list[float]:
    """A unit vector whose cosine with `anchor` is exactly `cosine`."""
    a = np.asarray(anchor, dtype=np.float64)
    a = a / np.linalg.norm(a)
    other = np.random.default_rng(seed).standard_normal(len(a))
    other -= (other @ a) * a  # orthogonal to the anchor
    other /= np.linalg.norm(other)
    return (cosine * a + math.sqrt(1.0 - cosine * cosine) * other).tolist()


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))


def synthetic_document(
    doc_id: str,
    text: str,
    *,
    title: str = "",
    domains: Mapping[str, float] | None = None,
    entities: Sequence[tuple[str, str]] = (),
    embedding: Sequence[float] | None = None,
    source: str = "",
    published: date | None = None,
    grade: str | None = None,
    priority: int | None = None,
    reasons: Sequence[str] = (),
    details: Mapping[str, dict] | None = None,
    cases: Sequence[CaseCard] = (),
    language: str = "en",
    furniture: Sequence[tuple[int, int]] = (),
    not_tagged: str | None = None,
) -> TaggedDocument:
    """One tagged document. `domains` are the predicted ones with their scores (others score
    low); each (label, mention) in `entities` becomes one Entity per occurrence in the text;
    `details` maps a mention to its parsed details. One `not_tagged` has no embedding unless
    given one, as the pipeline leaves it."""
    predicted = sorted((DomainScore(label, score) for label, score in (domains or {}).items()), key=lambda d: -d.score)
    scores = {label: 0.05 for label in DOMAIN_LABELS} | {d.label: d.score for d in predicted}
    found: list[Entity] = []
    for label, mention in entities:
        start = text.find(mention)
        if start < 0:
            raise ValueError(f"{mention!r} is not in the text of {doc_id}")
        while start >= 0:
            extra = (details or {}).get(mention)
            found.append(Entity(label, mention, start, start + len(mention), normalize_entity(label, mention), extra))
            start = text.find(mention, start + 1)
    found.sort(key=lambda e: (e.start, e.label))
    # the default embedding is seeded by crc32, not hash(): str hashes differ between processes
    return TaggedDocument(
        document=Document(
            id=doc_id,
            title=title,
            text=text,
            source=source,
            published=published,
            language=language,
            ingested_at=INGESTED_AT,
            grade=grade,
            published_via="given" if published else "",
        ),
        domain_scores=[] if not_tagged else [DomainScore(label, scores[label]) for label in DOMAIN_LABELS],
        domains=predicted,
        entities=found,
        embedding=list(embedding) if embedding is not None else [] if not_tagged else unit_vector(zlib.crc32(doc_id.encode())),
        subtypes=[DomainScore(f"{predicted[0].label}.COUNTERFEIT", 0.7)] if predicted else [],
        evidence={d.label: [text.split(".")[0] + "."] for d in predicted},
        model="synthetic",
        cases=list(cases),
        priority=Priority(priority, list(reasons), {"synthetic": float(priority)}) if priority is not None else None,
        not_tagged=not_tagged,
        furniture=list(furniture),
    )


def synthetic_corpus() -> list[TaggedDocument]:
    """CORPUS_SIZE reports: domains, places, firms, products, sources, dates, grades and priorities
    vary by position; words are placed so that each text query has a known answer."""
    anchor = unit_vector(ANCHOR_SEED)
    planned = dict(CLUSTER)
    corpus = []
    for i in range(CORPUS_SIZE - 1):  # and the seed notice last
        doc_id = f"syn-{i:02d}"
        domain = DOMAIN_LABELS[i % len(DOMAIN_LABELS)]
        domains = {domain: round(0.9 - i / 100, 3)}
        if i % 5 == 0:
            domains[DOMAIN_LABELS[(i + 1) % len(DOMAIN_LABELS)]] = 0.41
        if i % 7 == 6:
            domains = {}  # "none of these"
        place, firm, product = _PLACES[i % 5], _FIRMS[i % 4], _PRODUCTS[i % 4]
        words = ["Police"]
        words.append("seized" if i % 2 == 0 else "inspected")
        words.append("counterfeit" if i % 3 == 0 else "suspect")
        text = (
            f"{' '.join(words)} {product} from {firm} in {place}. {_DOMAIN_WORDS[domain]}"
            + (f" Officers in {place} said more raids would follow." if i % 4 == 1 else "")
        )
        corpus.append(
            synthetic_document(
                doc_id,
                text,
                title=f"Report {i}: {product} in {place}",
                domains=domains,
                entities=[("LOC", place), ("ORG", firm), ("PRODUCT", product)],
                embedding=vector_at(anchor, planned[doc_id], seed=i) if doc_id in planned else unit_vector(i),
                source=_SOURCES[i % len(_SOURCES)],
                published=None if i % 8 == 7 else date(2024, 1, 1) + timedelta(days=9 * i),
                grade=_GRADES[i % len(_GRADES)],
                priority=(i * 37) % 97,  # distinct for every position, below the seed's 100
                reasons=[f"{domain.lower()} report", f"names {place}"],
                details={place: {"city": place}} if i == 0 else None,
                language=_LANGUAGES[i % len(_LANGUAGES)],
                furniture=[(0, len("Police"))] if i % 7 == 0 else (),
            )
        )
    seed_text = (
        "The Ministry of Public Security announced the Kunlun campaign against crimes of food safety, "
        "intellectual property and environmental protection. Counterfeit medicine worth $2 million was seized."
    )
    corpus.append(
        synthetic_document(
            SEED_ID,
            seed_text,
            title="Kunlun 2024 deployment",
            domains={"FOOD": 0.8, "INTELLECTUAL_PROPERTY": 0.7, "ENVIRONMENT": 0.6},
            entities=[("ORG", "Ministry of Public Security"), ("MONEY", "$2 million")],
            embedding=unit_vector(9_999),
            source="ministry",
            published=date(2024, 4, 1),
            grade="F6",
            priority=100,
            reasons=["campaign notice", "several domains"],
            details={"$2 million": {"amount": 2_000_000, "currency": "USD"}},
            cases=[
                CaseCard(
                    action="seized",
                    products=["counterfeit medicine"],
                    money=[CardValue("$2 million", {"amount": 2_000_000, "currency": "USD"})],
                    organisations=[Party("Ministry of Public Security", "agency")],
                    date=date(2024, 4, 1),
                    date_text="2024",
                )
            ],
        )
    )
    return corpus


def with_embedding(tagged: TaggedDocument, embedding: Sequence[float], *, doc_id: str | None = None) -> TaggedDocument:
    """A copy with another embedding (and id): near-duplicates and refused writes."""
    document = replace(tagged.document, id=doc_id) if doc_id else tagged.document
    return replace(tagged, document=document, embedding=list(embedding))


# Reports in languages the models do not read, as the pipeline leaves them: language set,
# not_tagged, and no domains, entities, embedding or priority.
UNTAGGED_ZH_ID, UNTAGGED_ES_ID = "syn-zh", "syn-es"
UNTAGGED_ZH_TEXT = "驻马店市公安局通报，警方捣毁一个使用瘦肉精喂养生猪的犯罪团伙，查获盐酸克伦特罗粉末3.2公斤。"
UNTAGGED_ES_TEXT = "La Guardia Civil ha intervenido en Jaén 12.000 litros de aceite de oliva adulterado."


def synthetic_untagged() -> list[TaggedDocument]:
    return [
        synthetic_document(
            UNTAGGED_ZH_ID,
            UNTAGGED_ZH_TEXT,
            title="驻马店警方查获瘦肉精",
            source="ngo-watch",
            published=date(2024, 4, 17),
            language="zh",
            furniture=[(len(UNTAGGED_ZH_TEXT) - 1, len(UNTAGGED_ZH_TEXT))],
            not_tagged="language zh is not supported by the models",
        ),
        synthetic_document(
            UNTAGGED_ES_ID,
            UNTAGGED_ES_TEXT,
            title="Aceite adulterado en Jaén",
            source="wire",
            language="es",
            not_tagged="language es is not supported by the models",
        ),
    ]


def scaled_corpus(base: Sequence[TaggedDocument], count: int, *, seed: int = 7) -> list[TaggedDocument]:
    """`count` variants of a few tagged reports, for measuring indexes at scale without re-tagging.

    Each variant has its own id, a dozen words drawn from the base texts added to its text (the
    word statistics stay real), every ORG and PRODUCT renamed into one of ~2,000 variants (facets
    and novelty see many distinct firms), a date, grade and priority of its own, and its base's
    embedding moved by noise (clusters around the bases, as real near-duplicates are)."""
    rng = np.random.default_rng(seed)
    vocabulary = sorted({w for t in base for w in t.document.text.split() if w.isalpha() and len(w) > 3})
    out = []
    for i in range(count):
        origin = base[i % len(base)]
        words = " ".join(vocabulary[j] for j in rng.integers(0, len(vocabulary), 12))
        suffix = int(rng.integers(0, 2_000))
        entities = [
            replace(e, text=f"{e.text} {suffix}", normalized=f"{e.normalized} {suffix}") if e.label in ("ORG", "PRODUCT") else e
            for e in origin.entities
        ]
        embedding = list(origin.embedding)
        if embedding:
            moved = np.asarray(embedding) + rng.standard_normal(len(embedding)) * (0.6 / math.sqrt(len(embedding)))
            embedding = (moved / np.linalg.norm(moved)).tolist()
        document = replace(
            origin.document,
            id=f"scale-{i:06d}",
            text=f"{origin.document.text} {words}",
            published=date(2023, 1, 1) + timedelta(days=int(rng.integers(0, 730))),
            grade=_GRADES[int(rng.integers(0, len(_GRADES)))],
        )
        priority = replace(origin.priority, score=int(rng.integers(0, 101))) if origin.priority else None
        out.append(replace(origin, document=document, entities=entities, embedding=embedding, priority=priority, review=None))
    return out
