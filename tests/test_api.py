"""The HTTP API through a real client, with the real pipeline, on both backends."""

from __future__ import annotations

import json
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.schemas import MAX_BULK_DOCUMENTS, MAX_TEXT_CHARS
from kunlun_nlp.config import Settings
from kunlun_nlp.index.engine import SearchEngineIndex
from kunlun_nlp.queue.workers import ingest_batch
from kunlun_nlp.service import KunlunService
from tests.keys import authorize, key_headers

SAMPLE_FILES = Path(__file__).resolve().parents[1] / "corpora" / "sample" / "files"


def _client(pipeline, index) -> TestClient:
    data_dir = Path(tempfile.mkdtemp(prefix="kunlun-api-"))  # source profiles learned at ingest go there
    service = KunlunService(Settings(data_dir=data_dir), pipeline_factory=lambda: pipeline, index=index)
    return authorize(TestClient(create_app(service), base_url="http://localhost"), "admin")


@pytest.fixture(params=["embedded", pytest.param("engine", marks=pytest.mark.engine)])
def client(request, pipeline):
    index = request.getfixturevalue(f"{request.param}_index")
    with _client(pipeline, index) as test_client:
        yield test_client


def ingest(client: TestClient, path: str, body: dict) -> dict:
    """POST to an ingest route: 202 with a job; the queue's batches then run here (as a worker
    would), and the job's final status is returned."""
    accepted = client.post(path, json=body)
    assert accepted.status_code == 202, accepted.text
    job = accepted.json()
    client.app.state.service.work_here(job["job"], timeout=300)
    status = client.get(job["status_url"])
    assert status.status_code == 200
    return status.json()


@pytest.fixture
def seed_payload(seed_document) -> dict:
    return {"text": seed_document.text, "title": seed_document.title, "source": "seed", "published": "2024-04-01"}


def test_ingest_search_get_similar(client, seed_payload, sample_documents):
    created = ingest(client, "/documents", seed_payload)
    assert created == {**created, "state": "done", "documents": 1, "done": 1, "queued": 0, "failed": 0, "eta_seconds": 0.0}
    body = client.get(f"/documents/{seed_document_id(seed_payload)}").json()
    assert set(body["domain_scores"]) == {"FOOD", "MEDICINE", "ENVIRONMENT", "INTELLECTUAL_PROPERTY"}
    assert [d["score"] for d in body["domains"]] == sorted((d["score"] for d in body["domains"]), reverse=True)
    assert any(e["label"] == "ORG" and e["normalized"] == "Ministry of Public Security" for e in body["entities"])
    seed_id = body["id"]

    bulk = ingest(
        client, "/documents/bulk", {"documents": [{"text": d.text, "title": d.title, "id": d.id} for d in sample_documents[:6]]}
    )
    assert bulk["done"] == 6 and bulk["rate"] > 0

    for words in ("food safety", "intellectual property"):
        found = client.get("/search", params={"q": words}).json()
        assert seed_id in [h["id"] for h in found["hits"]], words
    by_entity = client.get("/search", params={"entity": "ORG:Ministry of Public Security", "facets": "true"}).json()
    assert [h["id"] for h in by_entity["hits"]] == [seed_id]
    assert by_entity["facets"]["entities"]["ORG"]

    highlighted = client.get("/search", params={"q": "food safety"}).json()["hits"][0]
    assert "<mark>" in highlighted["snippet"]

    fetched = client.get(f"/documents/{seed_id}")
    assert fetched.status_code == 200 and fetched.json()["text"] == seed_payload["text"]
    assert fetched.json()["published"] == "2024-04-01"

    similar = client.get(f"/documents/{seed_id}/similar", params={"size": 3}).json()
    assert len(similar["hits"]) == 3 and seed_id not in [h["id"] for h in similar["hits"]]

    # semantic search needs no shared words: describe a sample report in other terms
    assert sample_documents[2].title == "Trucks caught dumping construction waste on Chongqing riverbank"
    paraphrase = "lorries tipping building rubble beside a river"
    semantic = client.get("/search/semantic", params={"q": paraphrase, "size": 3}).json()
    assert semantic["hits"][0]["id"] == sample_documents[2].id
    assert client.get("/search/semantic", params={"q": " "}).status_code == 422

    health = client.get("/health").json()
    assert health["reachable"] and health["documents"] == 7
    assert health["queue"] == {"backend": "sqlite", "reachable": True, "depth": 0, "workers": 0}


def seed_document_id(payload: dict) -> str:
    from kunlun_nlp.document import content_id

    return content_id(payload["text"])


def test_same_document_twice_is_stored_once(client, seed_payload):
    assert ingest(client, "/documents", seed_payload)["done"] == 1
    assert ingest(client, "/documents", seed_payload)["done"] == 1
    assert client.get("/health").json()["documents"] == 1


def test_a_reviewed_report_whose_text_changes_keeps_its_reviewed_version(client):
    first = {"id": "case-17", "title": "Raid", "text": "Police seized 40 fake insulin pens in Lagos."}
    ingest(client, "/documents", first)
    ana = key_headers(client.app.state.service.settings, "trainer", "ana")  # the reviewer recorded is the key's name
    assert client.post("/documents/case-17/review", json={"reviewer": "ana"}, headers=ana).status_code == 200
    ingest(client, "/documents", first)  # the same text again: still reviewed
    assert client.get("/documents/case-17").json()["review"]["reviewed_by"] == "ana"

    ingest(client, "/documents", {**first, "text": first["text"] + " Two suspects were charged."})
    stored = client.get("/documents/case-17").json()
    assert stored["review"] is None and stored["text"].endswith("charged.")  # no stale "reviewed by" on new words
    assert [(v["reviewed_by"], v["text"]) for v in stored["history"]] == [("ana", first["text"])]
    assert "case-17" in [h["id"] for h in client.get("/triage").json()["hits"]]


def test_uploaded_files_are_read_as_ingest_reads_them(client):
    files = [
        ("files", ("lagos_pangolin_scales.md", (SAMPLE_FILES / "lagos_pangolin_scales.md").read_bytes())),
        ("files", ("notes.xyz", b"no reader for this")),
    ]
    accepted = client.post("/documents/files", files=files)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["documents"] == 1 and list(accepted.json()["refused"]) == ["notes.xyz"]
    client.app.state.service.work_here(accepted.json()["job"], timeout=300)
    assert client.get("/search", params={"q": "pangolin"}).json()["total"] == 1
    nothing = client.post("/documents/files", files=[("files", ("notes.xyz", b"no reader"))])
    assert nothing.status_code == 422 and "notes.xyz" in nothing.json()["detail"]


def test_unknown_job_is_404(client):
    assert client.get("/jobs/12345").status_code == 404


def test_tag_answers_short_texts_and_sends_long_ones_to_the_queue(client):
    from kunlun_nlp.limits import MAX_SYNC_TAG_CHARS

    long_text = "Customs seized fake pens. " * (MAX_SYNC_TAG_CHARS // 26 + 1)
    response = client.post("/tag", json={"text": long_text})
    assert response.status_code == 413 and "POST /documents" in response.json()["detail"]
    assert client.post("/documents", json={"text": long_text}).status_code == 202


def test_tag_does_not_index(client, seed_payload):
    tagged = client.post("/tag", json=seed_payload)
    assert tagged.status_code == 200
    assert {"id", "domains", "entities"} <= set(tagged.json())
    assert client.get("/health").json()["documents"] == 0


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"text": "   "}, "text is empty"),
        ({"title": "no text"}, "body.text: Field required"),
        ({"text": 42}, "body.text: Input should be a valid string"),
        ({"text": "x" * (MAX_TEXT_CHARS + 1)}, f"at most {MAX_TEXT_CHARS} characters"),
        ({"text": "ok", "published": "yesterday"}, "body.published"),
        ({"text": "ok", "id": "has spaces/and slashes"}, "body.id"),
        ({"text": "ok", "colour": "red"}, "body.colour: Extra inputs are not permitted"),
    ],
)
def test_bad_documents_get_422_with_a_message(client, payload, message):
    response = client.post("/documents", json=payload)
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert client.get("/health").json()["documents"] == 0


def test_invalid_json_and_bad_bulk(client):
    response = client.post("/documents", content=b'{"text": "unterminated', headers={"content-type": "application/json"})
    assert response.status_code == 422 and "invalid JSON" in response.json()["detail"]
    assert client.post("/documents/bulk", json={"documents": []}).status_code == 422
    too_many = {"documents": [{"text": f"report {i}"} for i in range(MAX_BULK_DOCUMENTS + 1)]}
    assert client.post("/documents/bulk", json=too_many).status_code == 422
    # one bad document rejects the whole batch before anything is stored
    mixed = {"documents": [{"text": "a fine report about gutter oil"}, {"text": ""}]}
    response = client.post("/documents/bulk", json=mixed)
    assert response.status_code == 422 and "body.documents.1.text" in response.json()["detail"]
    assert client.get("/health").json()["documents"] == 0


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page": 0}, "query.page"),
        ({"size": 101}, "query.size"),
        ({"page": 200, "size": 100}, "may not exceed 10000"),
        ({"colour": "red"}, "unknown parameter(s) colour"),
        ({"domain": "WEAPONS"}, "unknown domain 'WEAPONS'"),
        ({"entity": "ORG"}, "must look like LABEL:value"),
        ({"entity": "SHIP:Ever Given"}, "unknown entity label 'SHIP'"),
        ({"published_from": "2024-13-01"}, "query.published_from"),
        ({"published_from": "2024-05-01", "published_to": "2024-01-01"}, "after published_to"),
        ({"sort": "random"}, "query.sort"),
    ],
)
def test_bad_searches_get_422_with_a_message(client, params, message):
    response = client.get("/search", params=params)
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_unknown_document_is_404(client):
    assert client.get("/documents/nope").status_code == 404
    assert client.get("/documents/nope/similar").status_code == 404


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/documents", "/documents/bulk", "/tag", "/search", "/health", "/documents/{doc_id}/similar"} <= set(paths)


def test_unreachable_engine_queues_documents_to_retry_and_answers_503_elsewhere(pipeline, seed_payload):
    dead = SearchEngineIndex("http://127.0.0.1:9", timeout=2)  # nothing listens on the discard port
    with _client(pipeline, dead) as client:
        response = client.post("/documents", json=seed_payload)
        assert response.status_code == 202  # durably queued: the workers retry until the index is back
        service = client.app.state.service
        service.queue.handler = lambda batch: ingest_batch(service, batch)
        assert service.queue.run_one()  # a worker's first try fails and schedules a retry
        job = client.get(response.json()["status_url"]).json()
        assert job == {**job, "state": "retrying", "queued": 1, "done": 0}
        bulk = client.post("/documents/bulk", json={"documents": [seed_payload]})
        assert bulk.status_code == 202
        health = client.get("/health").json()
        assert health == {**health, "backend": "engine", "reachable": False, "status": "unavailable"}
        search = client.get("/search", params={"q": "food"})
        assert search.status_code == 503
        # the engine's address stays in the log: not in any message a caller reads
        for text in (response.text, bulk.text, search.text, json.dumps(health)):
            assert "127.0.0.1" not in text and ":9" not in text


def test_triage_queue_and_review_over_http(client, sample_documents):
    payloads = [{"text": d.text, "title": d.title, "id": d.id} for d in sample_documents[:5]]
    payloads[0] |= {"source_reliability": "A", "information_credibility": 2}
    assert ingest(client, "/documents/bulk", {"documents": payloads})["done"] == 5
    stored = client.get(f"/documents/{payloads[0]['id']}").json()
    assert stored["grade"] == "A2" and stored["review"] is None
    assert 0 <= stored["priority"]["score"] <= 100 and stored["priority"]["reasons"]
    assert isinstance(stored["cases"], list)

    queue = client.get("/triage").json()
    assert queue["total"] == 5
    scores = [h["priority"] for h in queue["hits"]]
    assert scores == sorted(scores, reverse=True)
    assert client.get("/triage", params={"reliability": "A"}).json()["total"] == 1

    top = queue["hits"][0]["id"]
    settings = client.app.state.service.settings  # the reviewer recorded is the key's name
    ana, bo = key_headers(settings, "trainer", "ana"), key_headers(settings, "trainer", "bo")
    reviewed = client.post(f"/documents/{top}/review", json={"reviewer": "ana"}, headers=ana)
    assert reviewed.status_code == 200 and reviewed.json()["reviewed_by"] == "ana"
    assert client.post(f"/documents/{top}/review", json={"reviewer": "ana"}, headers=ana).status_code == 200  # idempotent
    conflict = client.post(f"/documents/{top}/review", json={"reviewer": "bo"}, headers=bo)
    assert conflict.status_code == 409 and "already reviewed by ana" in conflict.json()["detail"]
    assert top not in [h["id"] for h in client.get("/triage").json()["hits"]]
    assert client.get("/search", params={"reviewed": "true"}).json()["hits"][0]["reviewed_by"] == "ana"
    assert client.get(f"/documents/{top}").json()["review"]["reviewed_by"] == "ana"
    by_priority = client.get("/search", params={"sort": "priority"}).json()["hits"]
    assert [h["priority"] for h in by_priority] == sorted((h["priority"] for h in by_priority), reverse=True)

    assert client.post("/documents/nope/review", json={"reviewer": "ana"}, headers=ana).status_code == 404
    assert client.post(f"/documents/{top}/review", json={"reviewer": "  "}, headers=ana).status_code == 422
    assert client.get("/triage", params={"sort": "date"}).status_code == 422
    bad_grade = client.post("/documents", json={"text": "a report", "source_reliability": "G"})
    assert bad_grade.status_code == 422 and "source_reliability" in bad_grade.json()["detail"]
    assert client.get("/search", params={"credibility": 9}).status_code == 422


def test_a_review_note_is_kept_and_shown(client, sample_documents):
    payloads = [{"text": d.text, "title": d.title, "id": d.id} for d in sample_documents[:2]]
    assert ingest(client, "/documents/bulk", {"documents": payloads})["done"] == 2
    first, second = (p["id"] for p in payloads)
    settings = client.app.state.service.settings
    ana, bo = key_headers(settings, "trainer", "ana"), key_headers(settings, "trainer", "bo")
    too_long = client.post(f"/documents/{first}/review", json={"note": "x" * 2_001}, headers=ana)
    assert too_long.status_code == 422 and "note" in too_long.json()["detail"]
    assert client.get(f"/documents/{first}").json()["review"] is None  # nothing recorded
    reviewed = client.post(f"/documents/{first}/review", json={"note": "  Genuine: customs confirmed it.\n"}, headers=ana)
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json() == {**reviewed.json(), "id": first, "reviewed_by": "ana", "note": "Genuine: customs confirmed it."}
    review = client.get(f"/documents/{first}").json()["review"]
    assert review == {"reviewed_by": "ana", "reviewed_at": review["reviewed_at"], "note": "Genuine: customs confirmed it."}
    (hit,) = client.get("/search", params={"reviewed": "true"}).json()["hits"]
    assert (hit["id"], hit["review_note"]) == (first, "Genuine: customs confirmed it.")
    again = client.post(f"/documents/{first}/review", json={"note": "a second thought"}, headers=ana)
    assert again.status_code == 200 and again.json()["note"] == "Genuine: customs confirmed it."  # the first review stands
    assert client.post(f"/documents/{first}/review", json={"note": "mine"}, headers=bo).status_code == 409
    plain = client.post(f"/documents/{second}/review", headers=ana)  # no body, as before notes
    assert plain.status_code == 200 and plain.json()["note"] is None
    assert client.get(f"/documents/{second}").json()["review"]["note"] is None
    blank = client.post(f"/documents/{second}/review", json={"note": "   "}, headers=ana)
    assert blank.status_code == 200 and blank.json()["note"] is None


def test_search_facets_count_sub_types_sources_and_reports_per_week_or_month(client, sample_documents):
    payloads = [
        {"text": d.text, "title": d.title, "id": d.id, "source": source, "published": published}
        for d, source, published in zip(
            sample_documents[:4], ["wire", "wire", "ngo-watch", ""], ["2024-03-31", "2024-04-01", "2024-04-07", None]
        )
    ]
    payloads[3].pop("published")
    assert ingest(client, "/documents/bulk", {"documents": payloads})["done"] == 4
    stored = [client.get(f"/documents/{p['id']}").json() for p in payloads]
    weekly = client.get("/search", params={"facets": "true", "interval": "week"}).json()["facets"]
    dated = [s for s in stored if s["published"]]
    assert weekly["sources"] == [{"value": "wire", "count": 2}, {"value": "ngo-watch", "count": 1}]
    subtypes: dict[str, int] = {}
    for document in stored:
        for label in {s["label"] for s in document["subtypes"]}:
            subtypes[label] = subtypes.get(label, 0) + 1
    assert {f["value"]: f["count"] for f in weekly["subtypes"]} == subtypes
    assert [(b["start"], b["count"]) for b in weekly["published"]] == [("2024-03-25", 1), ("2024-04-01", 2)]  # weeks from Monday
    for bucket in weekly["published"]:
        in_it = [s for s in dated if bucket["start"] <= s["published"] <= str(date.fromisoformat(bucket["start"]) + timedelta(days=6))]
        domains: dict[str, int] = {}
        for document in in_it:
            for label in {d["label"] for d in document["domains"]}:
                domains[label] = domains.get(label, 0) + 1
        assert bucket["domains"] == domains
    monthly = client.get("/search", params={"facets": "true"}).json()["facets"]["published"]  # months by default
    assert [(b["start"], b["count"]) for b in monthly] == [("2024-03-01", 1), ("2024-04-01", 2)]
    yearly = client.get("/search", params={"facets": "true", "interval": "year"}).json()["facets"]["published"]
    assert [(b["start"], b["count"]) for b in yearly] == [("2024-01-01", 3)]
    only_wire = client.get("/search", params={"facets": "true", "source": "wire", "interval": "month"}).json()["facets"]
    assert [(b["start"], b["count"]) for b in only_wire["published"]] == [("2024-03-01", 1), ("2024-04-01", 1)]
    bad = client.get("/search", params={"facets": "true", "interval": "day"})
    assert bad.status_code == 422 and "interval" in bad.json()["detail"]


def test_recent_jobs_are_listed_newest_first(client, seed_payload):
    assert client.get("/jobs").json() == {"jobs": []}
    done = ingest(client, "/documents", seed_payload)
    waiting = client.post("/documents/bulk", json={"documents": [{"text": "Customs seized fake honey."}, {"text": "And fake oil."}]})
    assert waiting.status_code == 202
    jobs = client.get("/jobs").json()["jobs"]
    assert [j["job"] for j in jobs] == [waiting.json()["job"], done["job"]]
    assert (jobs[0]["state"], jobs[0]["documents"], jobs[0]["queued"]) == ("queued", 2, 2)
    assert jobs[1] == {**done, "created": jobs[1]["created"]} and jobs[1]["state"] == "done"
    assert jobs[0]["created"] >= jobs[1]["created"] and done["submitted_by"] and jobs[0]["submitted_by"] == done["submitted_by"]
    assert [j["job"] for j in client.get("/jobs", params={"limit": 1}).json()["jobs"]] == [waiting.json()["job"]]
    assert client.get("/jobs", params={"limit": 0}).status_code == 422
    assert client.get("/jobs", params={"limit": 101}).status_code == 422


def test_openapi_groups_routes_by_area_and_names_the_package_version(client):
    from importlib.metadata import version

    spec = client.get("/openapi.json").json()
    assert spec["info"]["version"] == version("kunlun-nlp")
    tags = {path: sorted({t for op in ops.values() for t in op.get("tags", [])}) for path, ops in spec["paths"].items()}
    assert tags["/health"] == ["service"] and tags["/tag"] == ["tagging"] and tags["/triage"] == ["triage"]
    assert tags["/documents"] == ["documents"] and tags["/search"] == ["search"]
    assert set(spec["paths"]["/search"]["get"]["responses"]) >= {"200", "422", "503"}


def test_health_answers_503_while_the_index_is_down(pipeline):
    dead = SearchEngineIndex("http://127.0.0.1:9", index_name="kunlun-nowhere", timeout=1.0)
    with _client(pipeline, dead) as client:
        response = client.get("/health")
        assert response.status_code == 503 and response.json()["status"] == "unavailable"


def test_requests_for_another_host_name_are_refused(pipeline, embedded_index):
    """DNS rebinding: a page on evil.example resolving to this machine must not reach the API."""
    with _client(pipeline, embedded_index) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/health", headers={"host": "evil.example"}).status_code == 400


def test_one_refused_document_is_a_4xx_naming_it_and_its_neighbours_are_stored(engine_index, pipeline):
    token = "7" * 40_000  # a sum whose entity key is a keyword term over the engine's 32,766 bytes
    batch = {"documents": [
        {"id": "fine-1", "text": "Customs seized 300 fake handbags at the port."},
        {"id": "huge-token", "text": f"Police seized fake honey worth ${token} in Lagos."},
        {"id": "fine-2", "text": "Inspectors found melamine in milk powder."},
    ]}
    with _client(pipeline, engine_index) as client:
        job = ingest(client, "/documents/bulk", batch)
        assert job == {**job, "state": "done with failures", "done": 2, "failed": 1}
        assert list(job["failures"]) == ["huge-token"] and "immense term" in job["failures"]["huge-token"]
        assert client.get("/documents/fine-1").status_code == 200 and client.get("/documents/huge-token").status_code == 404
