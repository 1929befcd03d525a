"""Corrections, labeled samples and label-next through the HTTP API and the CLI, on both backends,
with the real pipeline: a corrected tag is searchable at once and survives re-ingest, and the
report is triaged again from it at once (its case cards, priority and place on the queue)."""

from __future__ import annotations

import getpass
import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kunlun_cli.main import main
from kunlun_nlp.config import Settings
from kunlun_nlp.document import TaggedDocument
from kunlun_nlp.index.base import DocumentIndex
from kunlun_nlp.search.request import SearchRequest
from kunlun_nlp.service import KunlunService
from kunlun_nlp.triage.priority import load_priority_scorer
from kunlun_nlp.vocabulary import DOMAIN_LABELS
from tests.keys import key_headers

ROOT = Path(__file__).resolve().parents[1]
NONE_CAP = load_priority_scorer().config["domains"]["none_cap"]  # the most a report in none of the domains scores


@dataclass
class Setup:
    client: TestClient
    service: KunlunService
    index: DocumentIndex
    cli: list[str]  # the options that point the CLI at the same data folder and index
    documents: list[TaggedDocument]

    def headers(self, role: str, name: str | None = None) -> dict[str, str]:
        return key_headers(self.service.settings, role, name)

    def found(self, domain: str) -> set[str]:
        return {hit.id for hit in self.index.search(SearchRequest(domains=(domain,), size=100)).hits}

    @cached_property
    def trainer(self) -> dict[str, str]:
        return self.headers("trainer")

    @cached_property
    def reader(self) -> dict[str, str]:
        return self.headers("reader")

    def correct(self, doc_id: str, body: dict) -> dict:
        """The document as the correction's answer gives it back (as now stored)."""
        answer = self.client.post(f"/documents/{doc_id}/corrections", json=body, headers=self.trainer)
        assert answer.status_code == 201, answer.text
        return answer.json()["document"]

    def shown(self, doc_id: str) -> dict:
        return self.client.get(f"/documents/{doc_id}", headers=self.reader).json()

    def queue(self) -> list[dict]:
        """The whole triage queue, highest priority first, as GET /triage gives it."""
        hits = self.client.get("/triage", params={"size": 100}, headers=self.reader).json()["hits"]
        assert len(hits) == len(self.documents) and [h["priority"] for h in hits] == sorted((h["priority"] for h in hits), reverse=True)
        return hits


@pytest.fixture(params=["embedded", pytest.param("engine", marks=pytest.mark.engine)])
def setup(request, tmp_path, pipeline, tagged_corpus, monkeypatch):
    monkeypatch.delenv("KUNLUN_ENGINE_URL", raising=False)
    monkeypatch.delenv("KUNLUN_DATA_DIR", raising=False)
    if request.param == "embedded":
        from kunlun_nlp.index.embedded import EmbeddedIndex

        settings = Settings(data_dir=tmp_path)
        index = EmbeddedIndex(settings.embedded_index_path)
        cli = ["--data-dir", str(tmp_path)]
    else:
        index = request.getfixturevalue("engine_index")
        settings = Settings(data_dir=tmp_path, engine_url=index.url, index_name=index.alias)
        monkeypatch.setenv("KUNLUN_INDEX_NAME", index.alias)  # the CLI's own service finds the same index
        cli = ["--data-dir", str(tmp_path), "--engine-url", index.url]
    assert index.put(tagged_corpus).indexed == len(tagged_corpus)
    service = KunlunService(settings, pipeline_factory=lambda: pipeline, index=index)
    with TestClient(create_app(service), base_url="http://localhost") as client:
        yield Setup(client, service, index, cli, list(tagged_corpus))
    if request.param == "embedded":
        index.close()


def _target(documents: list[TaggedDocument]) -> tuple[TaggedDocument, str, tuple[int, int]]:
    """A tagged document with entities, a domain the model did not give it, and a free word span."""
    tagged = next(t for t in documents if t.domains and len(t.entities) >= 2)
    other = next(d for d in DOMAIN_LABELS if d not in {x.label for x in tagged.domains})
    taken = {i for e in tagged.entities for i in range(e.start, e.end)}
    word = next(m for m in re.finditer(r"[a-z]{6,}", tagged.document.text) if not taken & set(range(*m.span())))
    return tagged, other, word.span()


def test_a_correction_is_searchable_at_once_and_survives_reingest(setup):
    tagged, other, (start, end) = _target(setup.documents)
    predicted = tagged.domains[0].label
    assert tagged.id in setup.found(predicted) and tagged.id not in setup.found(other)
    gone = tagged.entities[0]
    body = {"domains": [other], "add": [{"start": start, "end": end, "label": "PRODUCT"}],
            "remove": [{"start": gone.start, "end": gone.end}]}
    answer = setup.client.post(f"/documents/{tagged.id}/corrections", json=body, headers=setup.headers("trainer", "ana"))
    assert answer.status_code == 201, answer.text
    corrected = answer.json()
    assert corrected["correction"]["by"] == "ana" and corrected["correction"]["model"] == "zero-shot"
    assert [d["label"] for d in corrected["document"]["domains"]] == [other]
    # searchable at once: the human's domain finds it, the model's no longer does
    assert tagged.id in setup.found(other) and tagged.id not in setup.found(predicted)
    word = tagged.document.text[start:end]
    hits = setup.client.get("/search", params={"entity": f"PRODUCT:{word}"}, headers=setup.headers("reader")).json()["hits"]
    assert tagged.id in [h["id"] for h in hits]

    shown = setup.client.get(f"/documents/{tagged.id}", headers=setup.headers("reader")).json()
    assert shown["domain_scores"] == {s.label: s.score for s in tagged.domain_scores}  # the model's own scores stay
    assert shown["correction"]["domains"] == [other] and shown["model"] == "zero-shot"
    assert not any((e["start"], e["end"]) == (gone.start, gone.end) for e in shown["entities"])

    second = setup.client.post(f"/documents/{tagged.id}/corrections", json={"domains": [other, predicted]},
                               headers=setup.headers("trainer", "bo"))
    assert second.status_code == 201 and second.json()["correction"]["count"] == 2
    history = setup.client.get(f"/documents/{tagged.id}/corrections", headers=setup.headers("reader")).json()
    assert [(h["by"], h["origin"], h["domains"]) for h in history["history"]] == [
        ("ana", "correction", [other]), ("bo", "correction", [other, predicted]),
    ]
    assert history["correction"]["by"] == "bo" and history["history"][0]["add"][0]["text"] == word

    # re-ingest: the real pipeline tags it again, the human label is applied over its tags, and
    # the report is triaged from them, as the correction triaged it (not from the model's tags)
    corrected = setup.index.get(tagged.id)
    setup.service.ingest([tagged.document])
    again = setup.index.get(tagged.id)
    assert {d.label for d in again.domains} == {other, predicted} and again.correction["count"] == 2
    assert (again.priority, again.cases) == (corrected.priority, corrected.cases)
    assert any((e.start, e.end, e.label) == (start, end, "PRODUCT") for e in again.entities)
    assert tagged.id in setup.found(other)

    (sample,) = setup.service.labels.training_samples()
    assert (sample.id, sample.origin, sample.by, sample.domains) == (tagged.id, "correction", "bo", {other, predicted})
    assert (start, end, "PRODUCT") in sample.spans and sample.text == tagged.document.text


def _ranked(queue: list[dict], doc_id: str) -> tuple[int, dict]:
    return next((rank, hit) for rank, hit in enumerate(queue) if hit["id"] == doc_id)


def test_a_correction_triages_the_report_again_at_once(setup):
    """A report the model took for environmental crime (the MS-13 murder release), corrected to
    none of the four: its "environmental crime report" reason goes and it drops down the triage
    queue at once; corrected to FOOD, it gains food's reason and climbs again."""
    env = max((t for t in setup.documents if [d.label for d in t.domains] == ["ENVIRONMENT"]), key=lambda t: t.priority.score)
    reason = "environmental crime report"
    assert reason in env.priority.reasons and env.priority.score > NONE_CAP
    before, _ = _ranked(setup.queue(), env.id)

    answered = setup.correct(env.id, {"domains": []})
    none = setup.shown(env.id)["priority"]
    assert answered["priority"] == none and answered["domains"] == []
    assert none["reasons"][0] == "none of the four domains" and reason not in none["reasons"]
    assert none["score"] <= NONE_CAP < env.priority.score
    dropped, hit = _ranked(setup.queue(), env.id)
    assert (hit["priority"], hit["priority_reasons"]) == (none["score"], none["reasons"]) and dropped > before

    food = setup.correct(env.id, {"domains": ["FOOD"]})["priority"]
    assert setup.shown(env.id)["priority"] == food
    assert "food-safety report" in food["reasons"] and not {reason, "none of the four domains"} & set(food["reasons"])
    assert food["score"] > none["score"]
    climbed, hit = _ranked(setup.queue(), env.id)
    assert (hit["priority"], hit["priority_reasons"]) == (food["score"], food["reasons"]) and climbed < dropped


def test_entity_corrections_change_cards_and_priority_as_the_stages_would(setup, pipeline):
    # the masses a report names, removed by hand: their reason and their place on its cards go
    tagged = next(t for t in setup.documents if any(r.endswith(" seized or involved") for r in t.priority.reasons))
    masses = [e for e in tagged.entities if e.label == "QUANTITY" and (e.details or {}).get("base_unit") in ("kg", "l")]
    assert masses
    removed = setup.correct(tagged.id, {"remove": [{"start": e.start, "end": e.end} for e in masses]})
    assert not any(r.endswith(" seized or involved") for r in removed["priority"]["reasons"])
    assert not {q["text"] for card in removed["cases"] for q in card["quantities"]} & {e.text for e in masses}
    assert setup.shown(tagged.id)["priority"] == removed["priority"]

    # given back by hand: the cards and priority are the ones the pipeline's own stages give it,
    # against the same index and as of its ingest day (the human's "4.6 tonnes" weighs as the model's)
    restored = setup.correct(tagged.id, {"add": [{"start": e.start, "end": e.end, "label": "QUANTITY"} for e in masses]})
    assert restored["priority"]["score"] > removed["priority"]["score"]
    (fresh,) = pipeline.tag([tagged.document], index=setup.index, today=tagged.document.ingested_at.date())
    stored = setup.index.get(tagged.id)
    assert stored.entities == fresh.entities and stored.domains == fresh.domains
    assert (stored.cases, stored.priority) == (fresh.cases, fresh.priority)

    # a homonym ("mercury": the planet, the car) is a dangerous substance once a human says so; its
    # sentence opens a paragraph and names no action, so no card takes it, as none would at ingest
    named = next(t for t in setup.documents if " mercury " in t.document.text)
    start = named.document.text.index(" mercury ") + 1
    assert not any("mercury" in r for r in named.priority.reasons)
    added = setup.correct(named.id, {"add": [{"start": start, "end": start + len("mercury"), "label": "SUBSTANCE"}]})
    (dangerous,) = [r for r in added["priority"]["reasons"] if r.startswith("dangerous substance: ")]
    assert "mercury" in dangerous.split(": ")[1].split(", ")
    assert added["cases"] == [card.to_record() for card in named.cases]
    _, hit = _ranked(setup.queue(), named.id)
    assert hit["priority_reasons"] == added["priority"]["reasons"]

    # a substance named in a seizure's sentence goes on that seizure's card
    words = "clenbuterol hydrochloride"
    seized = next(t for t in setup.documents if f"seized 3.2 kilograms of {words}" in t.document.text)
    start = seized.document.text.index(words)
    assert not any(words in card.substances for card in seized.cases)
    carded = setup.correct(seized.id, {"add": [{"start": start, "end": start + len(words), "label": "SUBSTANCE"}]})
    assert [card["action"] for card in carded["cases"] if words in card["substances"]] == ["seizure"]


def test_correction_errors_and_roles(setup):
    tagged, other, (start, end) = _target(setup.documents)
    trainer = setup.headers("trainer")
    url = f"/documents/{tagged.id}/corrections"
    for body, message in [
        ({"domains": ["DRUGS"]}, "unknown domain 'DRUGS'"),
        ({"add": [{"start": 0, "end": len(tagged.document.text) + 5, "label": "ORG"}]}, "not inside the text"),
        ({"remove": [{"start": start, "end": end}]}, f"no entity at {start}:{end}"),
        ({"add": [{"start": start, "end": end, "label": "GANG"}]}, "unknown entity label 'GANG'"),
        ({}, "says nothing"),
        ({"domain": [other]}, "domain: Extra inputs are not permitted"),
    ]:
        answer = setup.client.post(url, json=body, headers=trainer)
        assert answer.status_code == 422 and message in answer.json()["detail"], (body, answer.text)
    assert setup.client.post("/documents/no-such/corrections", json={"domains": []}, headers=trainer).status_code == 404
    assert setup.client.get("/documents/no-such/corrections", headers=trainer).status_code == 404
    assert setup.client.post(url, json={"domains": []}).status_code == 401
    assert setup.client.post(url, json={"domains": []}, headers=setup.headers("reader")).status_code == 403
    assert setup.client.post(url, json={"domains": []}, headers=setup.headers("intake")).status_code == 403
    assert setup.service.labels.counts()["corrections"] == 0  # nothing refused was stored
    assert setup.client.post(url, json={"domains": []}, headers=setup.headers("admin")).status_code == 201


def test_import_export_and_label_next_through_the_api(setup):
    trainer = setup.headers("trainer", "tess")
    corpus_lines = (ROOT / "corpora" / "labeled" / "written-af-la-03.jsonl").read_text(encoding="utf-8")
    answer = setup.client.post("/labels/import", json={"format": "jsonl", "content": corpus_lines, "name": "af-la-03.jsonl"},
                               headers=trainer)
    assert answer.status_code == 200, answer.text
    imported = answer.json()
    rows = len([line for line in corpus_lines.splitlines() if line.strip()])
    assert (imported["imported"], imported["file"], imported["by"], imported["with_spans"]) == (rows, "af-la-03.jsonl", "tess", rows)

    csv = b"text,domains\nPolice seized fake perfume in Lyon.,INTELLECTUAL_PROPERTY\nA bank was robbed.,\n"
    uploaded = setup.client.post("/labels/import", files={"file": ("extra.csv", csv, "text/csv")}, headers=trainer)
    assert uploaded.status_code == 200 and uploaded.json()["domains"] == {"INTELLECTUAL_PROPERTY": 1, "none": 1}

    bad = "\n".join([json.dumps({"text": "ok", "domains": []}), "{oops", json.dumps({"text": "x", "domains": ["DRUGS"]})])
    refused = setup.client.post("/labels/import", json={"format": "jsonl", "content": bad}, headers=trainer)
    assert refused.status_code == 422
    assert [e.split(":")[0] for e in refused.json()["errors"]] == ["line 2", "line 3"]
    bad_csv = setup.client.post("/labels/import", files={"file": ("x.csv", b"text,domains\nok,FOOD\nbad,DRUGS\n", "text/csv")},
                                headers=trainer)
    assert bad_csv.status_code == 422 and bad_csv.json()["errors"] == [
        "line 3: unknown domain(s) DRUGS: one of FOOD, MEDICINE, ENVIRONMENT, INTELLECTUAL_PROPERTY (or OTHER / NONE for none)"
    ]
    assert setup.client.post("/labels/import", json={"format": "xml", "content": "x"}, headers=trainer).status_code == 422
    assert setup.service.labels.counts()["imported_rows"] == rows + 2

    exported = setup.client.get("/labels/export", headers=trainer)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in exported.text.splitlines()]
    assert len(lines) == rows + 2 and {line["label_origin"] for line in lines} == {"import"}

    following = setup.client.get("/labels/next", params={"size": 3}, headers=trainer)
    assert following.status_code == 200
    candidates = following.json()["candidates"]
    assert 1 <= len(candidates) <= 3 and all(c["margin"] == pytest.approx(abs(c["score"] - c["threshold"]), abs=1e-6) for c in candidates)
    first = candidates[0]["id"]
    setup.client.post(f"/documents/{first}/corrections", json={"domains": []}, headers=trainer)
    assert first not in {c["id"] for c in setup.client.get("/labels/next", params={"size": 100}, headers=trainer).json()["candidates"]}
    assert setup.client.get("/labels/next", params={"size": 0}, headers=trainer).status_code == 422
    assert setup.client.get("/labels/next", headers=setup.headers("reader")).status_code == 403
    assert setup.client.get("/labels/export", headers=setup.headers("reader")).status_code == 403
    assert setup.client.post("/labels/import", json={"format": "csv", "content": "text,domains\na,\n"},
                             headers=setup.headers("intake")).status_code == 403


def test_the_cli_corrects_imports_exports_and_lists_what_to_label_next(setup, tmp_path, capsys):
    tagged, other, (start, end) = _target(setup.documents)
    assert main(["correct", tagged.id, "--domains", other, "--add", f"{start}:{end}:SUBSTANCE", "--by", "cli-ana", *setup.cli]) == 0
    assert f"corrected {tagged.id}" in capsys.readouterr().out
    assert tagged.id in setup.found(other) and setup.index.get(tagged.id).correction["by"] == "cli-ana"
    assert main(["correct", tagged.id, "--none", *setup.cli]) == 0  # by: the operating-system user
    assert setup.index.get(tagged.id).domains == [] and setup.service.labels.merged(tagged.id)["by"] == getpass.getuser()
    capsys.readouterr()
    assert main(["correct", tagged.id, "--domains", "DRUGS", *setup.cli]) == 2
    assert "unknown domain 'DRUGS'" in capsys.readouterr().err
    assert main(["correct", "no-such-report", "--none", *setup.cli]) == 2
    assert main(["correct", tagged.id, "--add", "12-30-ORG", *setup.cli]) == 2
    assert "expected START:END:LABEL" in capsys.readouterr().err

    bad = tmp_path / "bad.csv"
    bad.write_text("text,domains\nfine,FOOD\n,MEDICINE\nworse,DRUGS\n", encoding="utf-8")
    assert main(["labels", "import", str(bad), *setup.cli]) == 2
    err = capsys.readouterr().err
    assert "line 3: text is missing or empty" in err and "line 4: unknown domain(s) DRUGS" in err and "nothing imported" in err
    good = tmp_path / "good.csv"
    good.write_text("text,domains,subtypes\nGutter oil sold to canteens.,FOOD,FOOD.ADULTERATION\n", encoding="utf-8")
    assert main(["labels", "import", str(good), "--by", "cli-tess", *setup.cli]) == 0
    assert "imported 1 labeled sample(s) from good.csv by cli-tess" in capsys.readouterr().out

    out = tmp_path / "labels.jsonl"
    assert main(["labels", "export", "--out", str(out), *setup.cli]) == 0
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(line["label_origin"], line["domains"]) for line in exported] == [("correction", []), ("import", ["FOOD"])]
    assert main(["labels", "export", "--origin", "import", *setup.cli]) == 0
    assert json.loads(capsys.readouterr().out)["subtypes"] == ["FOOD.ADULTERATION"]

    assert main(["label-next", "--size", "4", "--json", *setup.cli]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert 1 <= len(listed) <= 4 and tagged.id not in {c["id"] for c in listed}
    assert main(["label-next", *setup.cli]) == 0
    assert "worth labeling next" in capsys.readouterr().out
