"""Re-tagging the index with another model version, on both backends, and the running service
switching versions without a restart.

Two real model versions: the shipped one, and STRICT, the same model with every domain threshold
raised by 0.25 (a version is its weights and its calibrated thresholds: this one says fewer
domains). Both load in about two seconds, so the tests can switch back and forth.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from kunlun_nlp.config import Settings
from kunlun_nlp.document import TaggedDocument
from kunlun_nlp.labels.correction import Correction, merge
from kunlun_nlp.models import find_model, shipped_models_dir
from kunlun_nlp.pipeline import Pipeline
from kunlun_nlp.retag import retag_index
from kunlun_nlp.search.parse import parse_search_params
from kunlun_nlp.service import KunlunService

STRICT = "v20990101-0000"


def _domains(tagged: TaggedDocument) -> list[str]:
    return sorted(d.label for d in tagged.domains)


@pytest.fixture(scope="module")
def shipped() -> str:
    return find_model("latest", [shipped_models_dir()]).version


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory, shipped) -> Path:
    """A run-time models folder holding STRICT: the shipped version's files, its thresholds raised."""
    source = find_model(shipped, [shipped_models_dir()])
    out = tmp_path_factory.mktemp("models")
    strict = out / STRICT
    strict.mkdir()
    for item in source.path.iterdir():
        if item.name != "model.json":
            (strict / item.name).symlink_to(item)
    manifest = {**source.manifest, "version": STRICT}
    manifest["domain_thresholds"] = {label: min(0.97, t + 0.25) for label, t in source.domain_thresholds.items()}
    (strict / "model.json").write_text(json.dumps(manifest))
    return out


@pytest.fixture(scope="module")
def shipped_pipeline(shipped) -> Pipeline:
    return Pipeline.load(find_model(shipped, [shipped_models_dir()]))


@pytest.fixture(scope="module")
def strict_pipeline(models_dir) -> Pipeline:
    return Pipeline.load(find_model(STRICT, [models_dir]))


@pytest.fixture(scope="module")
def stored(shipped_pipeline, sample_documents, seed_document) -> list[TaggedDocument]:
    """The sample reports and the seed notice as the shipped version tags them at ingest."""
    return shipped_pipeline.tag([*sample_documents, seed_document])


@pytest.fixture(scope="module")
def strict_tags(strict_pipeline, stored) -> dict[str, TaggedDocument]:
    """What STRICT says of each stored document (domains do not depend on the index or the day)."""
    return {t.id: t for t in strict_pipeline.tag([s.document for s in stored])}


@pytest.fixture(params=["embedded", "engine"])
def index(request):
    return request.getfixturevalue(f"{request.param}_index")


def _service(tmp_path: Path, models_dir: Path, index=None, **settings) -> KunlunService:
    return KunlunService(Settings(data_dir=tmp_path / "data", models_dir=models_dir, **settings), index=index)


def _lookup(tags: dict[str, TaggedDocument]):
    """A transform giving precomputed tags (for tests of the swap itself, not of tagging); a
    document it has none for keeps its tags under the version's name."""
    (version,) = {t.model for t in tags.values()}

    def retagged(t: TaggedDocument) -> TaggedDocument:
        if t.id in tags:
            return replace(tags[t.id], document=t.document)
        return replace(t, model=version, review=None, history=[], correction=None)

    return lambda batch: [retagged(t) for t in batch]


def _own_models(tmp_path: Path, models_dir: Path) -> Path:
    """A models folder of the test's own (its active.json is the test's), holding STRICT."""
    own = tmp_path / "models"
    own.mkdir()
    (own / STRICT).symlink_to(models_dir / STRICT)
    return own


def _correct(index, doc_id: str, domains: list[str]) -> None:
    label = merge([Correction.create(doc_id, domains=domains, by="ana")])
    assert index.apply_correction(doc_id, label) is not None


def _triaged_as_corrected(service: KunlunService, tagged: TaggedDocument) -> bool:
    """Whether a stored report's cards and priority are those of its tags as they stand (its
    corrected ones), exactly as a correction made now would triage it."""
    again = service.retriage()(tagged)
    return (tagged.cases, tagged.priority) == (again.cases, again.priority)


def test_retag_swaps_in_new_tags_keeps_human_work_and_rollback_restores(
    index, tmp_path, models_dir, shipped, shipped_pipeline, stored, strict_tags
):
    index.put(stored)
    before = {t.id: index.get(t.id) for t in stored}
    changed = [t.id for t in stored if _domains(strict_tags[t.id]) != _domains(before[t.id])]
    assert changed, "STRICT should tag some of the samples differently"
    reviewed, corrected = stored[0].id, changed[0]
    index.mark_reviewed(reviewed, "ana", datetime.now(timezone.utc))
    _correct(index, corrected, ["ENVIRONMENT"])
    # a reviewed report whose text then changed: back on the queue, its reviewed words in history
    rewritten = stored[1]
    index.mark_reviewed(rewritten.id, "bo", datetime.now(timezone.utc))
    (new_text,) = shipped_pipeline.tag([replace(rewritten.document, text=rewritten.document.text + "\nUpdate: two more arrests.")])
    index.put([new_text])
    history = index.get(rewritten.id).history
    assert len(history) == 1 and index.get(rewritten.id).review is None

    service = _service(tmp_path, models_dir, index)
    seen: list[tuple[int, int]] = []
    summary = retag_index(service, STRICT, progress=lambda done, total: seen.append((done, total)))

    assert summary.version == STRICT and summary.documents == len(stored) and not summary.report.kept
    assert seen[-1] == (len(stored), len(stored))
    for t in stored:
        now = index.get(t.id)
        assert now.model == STRICT
        if t.id == corrected:  # the human label beats the new model's, and the report is triaged from it
            assert _domains(now) == ["ENVIRONMENT"] and now.correction["by"] == "ana"
            assert now.priority.reasons[0] == "environmental crime report" and _triaged_as_corrected(service, now)
        elif t.id != rewritten.id:
            assert _domains(now) == _domains(strict_tags[t.id]), t.id
    assert index.get(reviewed).review.reviewed_by == "ana"
    assert index.get(rewritten.id).history == history and index.get(rewritten.id).review is None
    assert index.get(rewritten.id).document.text.endswith("two more arrests.")
    for label in ("FOOD", "MEDICINE", "ENVIRONMENT", "INTELLECTUAL_PROPERTY"):  # search filters on the new tags
        expected = sum(label in _domains(index.get(t.id)) for t in stored)
        assert index.search(parse_search_params({"domain": label, "size": "100"})).total == expected

    back = retag_index(service, shipped)  # rollback: the old version's tags again
    assert back.version == shipped and back.documents == len(stored)
    for t in stored:
        now = index.get(t.id)
        assert now.model == shipped
        assert _domains(now) == (["ENVIRONMENT"] if t.id == corrected else _domains(before[t.id])), t.id
    assert index.get(reviewed).review.reviewed_by == "ana"
    assert index.get(corrected).correction["by"] == "ana" and _triaged_as_corrected(service, index.get(corrected))
    assert index.count() == len(stored)


def test_writes_during_a_retag_are_caught_up(index, shipped_pipeline, stored, strict_tags):
    index.put(stored)
    arriving = shipped_pipeline.tag([replace(stored[0].document, id="arrived-meanwhile", text=stored[0].document.text + " (copy)")])[0]
    (rewritten,) = shipped_pipeline.tag([replace(stored[3].document, text=stored[3].document.text + "\nCorrection: 4 t, not 3 t.")])
    calls = []
    lookup = _lookup(strict_tags)

    def transform(batch: list[TaggedDocument]) -> list[TaggedDocument]:
        if not calls:  # while the re-tag runs: a new report, a review, a correction, a re-ingest
            index.put([arriving, rewritten])
            index.mark_reviewed(stored[1].id, "cy", datetime.now(timezone.utc))
            _correct(index, stored[2].id, ["FOOD", "MEDICINE"])
        calls.append(len(batch))
        return lookup(batch)

    report = index.retag(transform)

    assert report.caught_up >= 4 and not report.kept
    assert index.count() == len(stored) + 1
    assert index.get("arrived-meanwhile").model == STRICT
    assert index.get(stored[1].id).review.reviewed_by == "cy"
    assert _domains(index.get(stored[2].id)) == ["FOOD", "MEDICINE"] and index.get(stored[2].id).model == STRICT
    assert index.get(rewritten.id).document.text.endswith("not 3 t.") and index.get(rewritten.id).model == STRICT
    assert all(index.get(t.id).model == STRICT for t in stored)


def test_a_writer_going_on_through_the_retag_loses_nothing(index, stored, strict_tags):
    """Writes keep arriving through the catch-up, the engine's write block and the alias swap:
    each put succeeds (a writer blocked by the swap reads again through the alias) and is kept."""
    index.put(stored)
    done = threading.Event()
    written, failures = [], []

    def writer() -> None:
        n = 0
        while not done.is_set() or n < 5:
            tagged = stored[n % len(stored)]
            copy = replace(tagged, document=replace(tagged.document, id=f"writer-{n}"))
            report = index.put([copy])
            (failures.extend(report.failed.values()) if report.failed else written.append(copy.id))
            index.mark_reviewed(stored[n % len(stored)].id, "dee", datetime.now(timezone.utc))
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        slow = _lookup(strict_tags)
        index.retag(lambda batch: (time.sleep(0.5), slow(batch))[1])
    finally:
        done.set()
        thread.join(timeout=120)
    assert not failures and written
    assert index.count() == len(stored) + len(written)
    assert all(index.get(doc_id) is not None for doc_id in written)
    assert all(index.get(t.id).review is not None for t in stored[: min(len(written), len(stored))])


def test_engine_search_answers_throughout_the_alias_swaps(engine_index, stored, strict_tags):
    engine_index.put(stored)
    shipped_tags = {t.id: t for t in stored}
    total = len(stored)
    done = threading.Event()
    answers, failures = [], []

    def searcher() -> None:
        requests = [parse_search_params({}), parse_search_params({"q": "police", "size": "100"}), parse_search_params({"facets": "true"})]
        full = {0: total, 1: engine_index.search(requests[1]).total, 2: total}
        while not done.is_set():
            for n, request in enumerate(requests):
                try:
                    result = engine_index.search(request)
                    answers.append(time.monotonic())
                    if result.total != full[n]:
                        failures.append(f"request {n}: total {result.total}, not {full[n]}")
                    if engine_index.count() != total:
                        failures.append("count short")
                except Exception as exc:  # noqa: BLE001 - any failure is what the test counts
                    failures.append(repr(exc))

    thread = threading.Thread(target=searcher)
    thread.start()
    locations, windows = [], []
    try:
        for tags in (strict_tags, shipped_tags, strict_tags):  # three swaps
            started = time.monotonic()
            locations.append(engine_index.retag(_lookup(tags)).location)
            windows.append((started, time.monotonic()))
    finally:
        done.set()
        thread.join(timeout=60)
    assert not failures, failures[:5]
    # searches really ran throughout: every re-tag, swap included, was searched during, a whole
    # round of the three requests at least (a count over the run depended on the machine's speed)
    assert all(sum(start <= t <= end for t in answers) >= 3 for start, end in windows), (windows, len(answers))
    assert len(set(locations)) == 3 and all(name.startswith(f"{engine_index.alias}-v") for name in locations)
    assert list(engine_index.client.indices.get(index=f"{engine_index.alias}-v*")) == [locations[-1]]  # the old ones deleted
    assert all(engine_index.get(t.id).model == STRICT for t in stored)


def test_engine_accepts_a_retagged_index_behind_its_alias(engine_index, stored, strict_tags):
    """Another process (a worker, the next start) opening the alias finds the re-tag's index of the
    current mapping version and uses it, no migration."""
    from kunlun_nlp.index.engine import SearchEngineIndex

    engine_index.put(stored)
    location = engine_index.retag(_lookup(strict_tags)).location
    other = SearchEngineIndex(engine_index.url, index_name=engine_index.alias)
    try:
        assert other.count() == len(stored)
        assert list(other.client.indices.get_alias(name=other.alias)) == [location]
    finally:
        other.close()


def test_embedded_readers_see_old_tags_until_the_commit_and_vectors_stay_consistent(embedded_index, stored, strict_tags):
    from kunlun_nlp.index.embedded import EmbeddedIndex

    embedded_index.put(stored)
    reader = EmbeddedIndex(embedded_index.path)  # another connection, as another process has
    seen_during = []
    lookup = _lookup(strict_tags)

    def transform(batch):
        seen_during.extend(reader.get(t.id).model for t in batch)
        return lookup(batch)

    try:
        embedded_index.retag(transform)
        assert seen_during and set(seen_during) == {stored[0].model}
        assert {reader.get(t.id).model for t in stored} == {STRICT}
        # the graph was rebuilt for the rewritten rows: nearest neighbours by exact cosine agree
        import numpy as np

        vectors = {t.id: np.asarray(reader.embedding_of(t.id)) for t in stored}
        probe = stored[5]
        exact = max((i for i in vectors if i != probe.id), key=lambda i: float(vectors[i] @ vectors[probe.id]) / float(np.linalg.norm(vectors[i]) * np.linalg.norm(vectors[probe.id])))
        assert reader.similar(probe.id, size=1)[0].id == exact
        assert embedded_index.similar(probe.id, size=1)[0].id == exact
    finally:
        reader.close()
    fresh = EmbeddedIndex(embedded_index.path)  # the saved graph file belongs to this generation
    try:
        assert fresh.similar(probe.id, size=1)[0].id == exact
    finally:
        fresh.close()


def test_a_failing_retag_changes_nothing(index, stored):
    index.put(stored)

    def broken(batch):
        raise RuntimeError("the model fell over")

    with pytest.raises(RuntimeError, match="fell over"):
        index.retag(broken)
    assert index.count() == len(stored)
    assert {index.get(t.id).model for t in stored} == {stored[0].model}
    if index.backend == "engine":
        assert len(index.client.indices.get(index=f"{index.alias}-v*")) == 1
        index.put([replace(stored[0], document=replace(stored[0].document, id="after-failure"))])  # writes go on
        assert index.get("after-failure") is not None


def test_cli_retag_with_a_progress_bar(tmp_path, models_dir, stored, capsys, monkeypatch):
    from kunlun_cli.main import main
    from kunlun_nlp.index.embedded import EmbeddedIndex

    data = tmp_path / "data"
    index = EmbeddedIndex(Settings(data_dir=data).embedded_index_path)
    index.put(stored[:4])
    index.close()
    monkeypatch.setenv("KUNLUN_MODELS_DIR", str(models_dir))
    for name in ("KUNLUN_ENGINE_URL", "KUNLUN_MODEL", "KUNLUN_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    assert main(["retag", "--model", STRICT, "--data-dir", str(data)]) == 0
    out, err = capsys.readouterr()
    assert f"re-tagged 4 document(s) with {STRICT}" in out
    assert "re-tag" in err and "4/4" in err  # tqdm's bar
    index = EmbeddedIndex(Settings(data_dir=data).embedded_index_path)
    try:
        assert {index.get(t.id).model for t in stored[:4]} == {STRICT}
    finally:
        index.close()
    assert main(["retag", "--model", "v-no-such", "--data-dir", str(data)]) == 2


# -- the running service switches versions -------------------------------------------------------


def _activate(settings: Settings, version: str) -> None:
    """What a promotion or rollback does to the active pointer (written whole, then renamed)."""
    path = settings.model_dirs[0] / "active.json"
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps({"version": version, "since": datetime.now(timezone.utc).isoformat(), "by": "test", "reason": "test"}))
    os.replace(partial, path)


def test_api_switches_versions_without_failing_a_request_in_flight(tmp_path, models_dir, shipped, stored, strict_tags):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from kunlun_nlp.queue.workers import ingest_batch
    from tests.keys import authorize

    differs = next(t for t in stored if _domains(strict_tags[t.id]) != _domains(t))
    service = _service(tmp_path, _own_models(tmp_path, models_dir))
    _activate(service.settings, shipped)
    client = authorize(TestClient(create_app(service), base_url="http://localhost"), "intake")
    body = {"text": differs.document.text, "title": differs.document.title}
    assert client.post("/tag", json=body).status_code == 200
    assert service.model_version == shipped

    done = threading.Event()
    results: list[tuple[int, list[str]]] = []

    def sender() -> None:
        while not done.is_set():
            response = client.post("/tag", json=body)
            results.append((response.status_code, sorted(d["label"] for d in response.json().get("domains", []))))

    senders = [threading.Thread(target=sender) for _ in range(2)]
    for thread in senders:
        thread.start()
    try:
        _activate(service.settings, STRICT)  # promotion: the next look (about a second) loads it
        deadline = time.monotonic() + 60
        while service.model_version != STRICT and time.monotonic() < deadline:
            time.sleep(0.1)
        assert service.model_version == STRICT
        settled = len(results)
        time.sleep(1.5)
        assert service.switch_model(shipped) == shipped  # the routes' eager switch (a rollback)
        _activate(service.settings, "v-not-there")  # a version that cannot load: logged, the old one kept
        time.sleep(2.5)
        assert service.model_version == shipped
    finally:
        done.set()
        for thread in senders:
            thread.join(timeout=60)
    assert results and all(status == 200 for status, _ in results), [r for r in results if r[0] != 200][:3]
    answers = {tuple(domains) for _, domains in results}
    assert tuple(_domains(differs)) in answers and tuple(_domains(strict_tags[differs.id])) in answers
    assert any(tuple(d) == tuple(_domains(strict_tags[differs.id])) for _, d in results[settled:])

    # a queue worker takes the active version up at its next batch, through the same property
    _activate(service.settings, STRICT)
    time.sleep(1.1)
    ingest_batch(service, [replace(differs.document, id="worker-batch")])
    assert service.index.get("worker-batch").model == STRICT
    service.close()


def test_a_pinned_version_never_switches(tmp_path, models_dir, shipped):
    service = _service(tmp_path, _own_models(tmp_path, models_dir), model=shipped)  # KUNLUN_MODEL
    assert service.pipeline.model_version == shipped
    _activate(service.settings, STRICT)
    time.sleep(1.1)
    assert service.pipeline.model_version == shipped
    assert service.switch_model(STRICT) == shipped
    service.close()
