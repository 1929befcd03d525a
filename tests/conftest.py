"""Shared fixtures: the real tagging pipeline, the tagged sample corpus, and real index backends.

Engine tests talk to the node that `scripts/search-engine start` runs (KUNLUN_TEST_ENGINE_URL,
default http://127.0.0.1:9250). When it does not answer they fail, never skip: a green run means
the engine backend was really tested.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from kunlun_nlp.document import TaggedDocument
from kunlun_nlp.pipeline import Pipeline
from kunlun_nlp.readers import Document, read_file

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
SEED_PATH = SHARED_DATA / "seed" / "kunlun-2024-deployment.txt"
SAMPLE_REPORTS = ROOT / "corpora" / "sample" / "reports.jsonl"
ENGINE_URL = os.environ.get("KUNLUN_TEST_ENGINE_URL", "http://127.0.0.1:9250")


@pytest.fixture(scope="session")
def pipeline() -> Pipeline:
    """The untrained baseline's declared pipeline (zero-shot domains, en_core_web_sm entities)."""
    return Pipeline.load(None)


@pytest.fixture(scope="session")
def seed_document() -> Document:
    (document,) = read_file(SEED_PATH)
    assert isinstance(document, Document), document
    return document


@pytest.fixture(scope="session")
def sample_documents() -> list[Document]:
    documents = list(read_file(SAMPLE_REPORTS))
    assert all(isinstance(d, Document) for d in documents)
    return documents


@pytest.fixture(scope="session")
def tagged_corpus(pipeline, sample_documents, seed_document) -> list[TaggedDocument]:
    """The sample reports and the seed notice, tagged once per run by the real pipeline (novelty is
    judged against an index at ingest; here there is none)."""
    return pipeline.tag([*sample_documents, seed_document])


@pytest.fixture(scope="session")
def engine_url() -> str:
    from elasticsearch import Elasticsearch

    client = Elasticsearch(ENGINE_URL, request_timeout=5)
    try:
        client.cluster.health()
    except Exception as exc:  # any failure to answer is the same verdict
        pytest.fail(
            f"search engine not reachable at {ENGINE_URL} ({type(exc).__name__}); "
            "start it with `scripts/search-engine start` or set KUNLUN_TEST_ENGINE_URL",
            pytrace=False,
        )
    finally:
        client.close()
    return ENGINE_URL


@pytest.fixture
def engine_index(engine_url):
    """A fresh engine index (own alias) per test, dropped afterwards."""
    from kunlun_nlp.index.engine import SearchEngineIndex

    index = SearchEngineIndex(engine_url, index_name=f"kunlun-test-{uuid.uuid4().hex[:10]}")
    yield index
    index.drop()
    index.close()


@pytest.fixture
def embedded_index(tmp_path):
    from kunlun_nlp.index.embedded import EmbeddedIndex

    index = EmbeddedIndex(tmp_path / "index.sqlite3")
    yield index
    index.close()


@pytest.fixture
def embedded_service(tmp_path, pipeline, embedded_index):
    """A service over a fresh embedded index, tagging with the baseline pipeline."""
    from kunlun_nlp.config import Settings
    from kunlun_nlp.service import KunlunService

    service = KunlunService(Settings(data_dir=tmp_path), pipeline_factory=lambda: pipeline, index=embedded_index)
    yield service
    service.close()


@pytest.fixture
def corpus_service(embedded_service, tagged_corpus):
    """embedded_service with the sample reports and the seed notice indexed."""
    assert embedded_service.index.put(tagged_corpus).indexed == len(tagged_corpus)
    return embedded_service
