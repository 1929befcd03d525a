"""Corrections, labeled samples and label-next through the HTTP API and the CLI, on both backends,
with the real pipeline: a corrected tag is searchable at once and survives re-ingest."""

from __future__ import annotations

import getpass
import json
import re
from dataclasses import dataclass
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
from kunlun_nlp.vocabulary import DOMAIN_LABELS
from tests.keys import key_headers

ROOT = Path(__file__).resolve().parents[1]


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

    # re-ingest: the real pipeline tags it again, the human label is applied over its tags
    setup.service.ingest([tagged.document])
    again = setup.index.get(tagged.id)
    assert {d.label for d in again.domains} == {other, predicted} and again.correction["count"] == 2
    assert any((e.start, e.end, e.label) == (start, end, "PRODUCT") for e in again.entities)
    assert tagged.id in setup.found(other)

    (sample,) = setup.service.labels.training_samples()
    assert (sample.id, sample.origin, sample.by, sample.domains) == (tagged.id, "correction", "bo", {other, predicted})
    assert (start, end, "PRODUCT") in sample.spans and sample.text == tagged.document.text


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
