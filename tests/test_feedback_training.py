"""Feedback rounds and the gate, for real on a tiny configuration: rounds continue from the shipped
version (its branch.pt and NER), write a version with its card and figures into the data folder's
models, and the gate measures it against the active one on a slice of the corpus's held-out tenth.

The story runs in order: labels that are deliberately wrong (every report "none of these", every
entity a PERSON) give a worse version, refused and recorded; force promotes it anyway; a round on
right labels from there is not worse, and promoted; rollback walks back. Training jobs: one at a
time (409 from the API, exit 3 from the CLI), progress readable, a crash marks the job failed and
frees the lock."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import datetime, timezone

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kunlun_cli.main import main as cli
from kunlun_nlp.config import Settings
from kunlun_nlp.labels import LabeledSample
from kunlun_nlp.model_registry import DECISIONS_FILE, ModelRegistry, active_version_name
from kunlun_nlp.models import find_model, shipped_models_dir
from kunlun_nlp.service import KunlunService
from tests.keys import authorize
from training.datasets import load_corpus
from training.evaluation_set import evaluation_set, is_held_back
from training.feedback import STAGES, TINY, run_feedback_round
from training.gate import MAX_DROP, decide, judge
from training.jobs import TrainingLock, new_job, read_job

# Wrong labels only, learnt hard: the classifier unlearns every domain, the NER learns PERSON for all.
WRONG = replace(TINY, replay=0, epochs=3, learning_rate=1e-3, ner_epochs=2, ner_learning_rate=3e-3)
# Right domains and sub-types, with a replay of the corpus; the NER is left as it is.
RIGHT = replace(TINY, replay=16, epochs=2, learning_rate=5e-4, ner_epochs=0)


@pytest.fixture(scope="module")
def shipped() -> str:
    return find_model("latest", [shipped_models_dir()]).version


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("feedback") / "data")


@pytest.fixture(scope="module")
def evaluation():
    """A fifth of the corpus's held-out tenth, every domain in it: the gate's set in these tests."""
    return sorted(evaluation_set(with_shared=False), key=lambda e: e.id)[::5]


@pytest.fixture(scope="module")
def corpus():
    return [e for e in load_corpus() if not is_held_back(e.text)]


def _sample(example, *, domains=None, spans=None, stated=("domains", "subtypes", "spans")) -> LabeledSample:
    return LabeledSample(
        id=example.id, title=example.title, text=example.text,
        domains=frozenset(example.domains if domains is None else domains), subtypes=frozenset(example.subtypes),
        spans=tuple(example.spans if spans is None else spans), by="ana", at=datetime.now(timezone.utc),
        stated=frozenset(stated),
    )


@pytest.fixture(scope="module")
def wrong_round(settings, evaluation, corpus):
    wrong = [_sample(e, domains=(), spans=[(s, t, "PERSON") for s, t, _ in e.spans]) for e in corpus[300:316]]
    held = _sample(evaluation[0])  # an evaluation text labeled by someone: never trained on
    calls = []
    result = run_feedback_round(settings, [*wrong, held], plan=WRONG, evaluation=evaluation, by="ana",
                                progress=lambda *call: calls.append(call), log=lambda _: None)
    return result, calls


def test_a_round_writes_a_version_with_its_card_and_figures_into_the_data_folder(settings, wrong_round, evaluation, shipped):
    result, _ = wrong_round
    folder = result.path
    assert folder.parent == settings.model_dirs[0] == settings.data_dir / "models"
    assert not (shipped_models_dir() / result.version).exists()
    for name in ("model.json", "pipeline.toml", "encoder.onnx", "tokenizer.json", "branch.pt", "metrics.json",
                 "MODEL_CARD.md", "ner/gazetteer_labels.json", "ner/gazetteer", "ner/meta.json"):
        assert (folder / name).exists(), name
    manifest = json.loads((folder / "model.json").read_text())
    assert manifest["feedback"]["continued_from"] == shipped and manifest["feedback"]["round"] == 1
    assert "branch.pt" in manifest["feedback"]["classifier_started_from"]
    assert result.counts["labels"] == 16 and result.counts["held_back_labels"] == 1 and result.counts["replay"] == 0
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["ner"]["train_docs"] == 16 and metrics["ner"]["epochs"] == WRONG.ner_epochs  # dev labels too
    assert set(metrics["stage_seconds"]) == {*STAGES, "total"}
    assert metrics["evaluation"]["documents"] == len(evaluation) and "macro_f1" in metrics["evaluation"]
    card = (folder / "MODEL_CARD.md").read_text()
    assert f"continued from\n**{shipped}**" in card and "16 human label(s) (1 more left out" in card
    assert "## The gate's decision" in card and "**refused**" in card
    assert not list((settings.data_dir / "training" / "work").glob("*"))


def test_progress_goes_through_the_stages_in_order(wrong_round):
    _, calls = wrong_round
    stages = [stage for stage, _, _ in calls]
    assert [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s] == list(STAGES)
    percents = [percent for _, _, percent in calls]
    assert percents == sorted(percents) and percents[-1] == 100.0
    assert {epoch for stage, epoch, _ in calls if stage == "classifier"} >= {1, 2, 3}
    assert {epoch for stage, epoch, _ in calls if stage == "ner"} >= {1}


def test_the_gate_refuses_a_worse_version_and_records_why(settings, wrong_round, shipped):
    result, _ = wrong_round
    decision = result.decision
    assert not decision.promote and not decision.passed and decision.active == shipped
    assert decision.candidate_figures["macro_f1"] < decision.active_figures["macro_f1"]
    assert any("macro-F1" in f for f in decision.failures)
    assert any(f.startswith("entity label") for f in decision.failures)  # the NER learnt PERSON for everything
    assert active_version_name(settings) == shipped
    (record,) = [json.loads(line) for line in (settings.model_dirs[0] / DECISIONS_FILE).read_text().splitlines()]
    assert record["candidate"] == result.version and record["promote"] is False and record["by"] == "ana"
    assert record["candidate_figures"]["domains_f1"] and record["active_figures"]["entities_f1"]
    assert json.loads((result.path / "metrics.json").read_text())["decision"]["failures"] == decision.failures


def test_force_promotes_past_the_gate_and_says_so(settings, wrong_round, evaluation, shipped):
    result, _ = wrong_round
    decision = judge(settings, result.version, force=True, by="bo", examples=evaluation, log=lambda _: None)
    assert decision.promote and decision.forced and not decision.passed
    assert active_version_name(settings) == result.version
    pointer = ModelRegistry(settings).active()
    assert pointer.by == "bo" and pointer.reason.startswith("forced past the gate")
    assert len(ModelRegistry(settings).decisions()) == 2


def test_a_round_that_is_not_worse_is_promoted_and_rollback_restores_the_previous_one(settings, wrong_round, evaluation, corpus, shipped):
    worse, _ = wrong_round
    right = [_sample(e, stated=("domains", "subtypes")) for e in corpus[400:416]]
    result = run_feedback_round(settings, right, plan=RIGHT, evaluation=evaluation, by="cy", log=lambda _: None)
    decision = result.decision
    assert decision.active == worse.version and decision.passed and decision.promote and not decision.forced
    assert decision.candidate_figures["macro_f1"] >= decision.active_figures["macro_f1"]
    assert active_version_name(settings) == result.version
    manifest = json.loads((result.path / "model.json").read_text())
    assert manifest["feedback"]["continued_from"] == worse.version and manifest["feedback"]["round"] == 2
    assert json.loads((result.path / "metrics.json").read_text())["ner"]["train_docs"] > 0  # replay spans, 0 epochs

    registry = ModelRegistry(settings)
    assert registry.rollback(by="dee").version == worse.version
    assert active_version_name(settings) == worse.version
    assert registry.rollback(by="dee").version == shipped
    assert [h["action"] for h in registry.history()] == ["promote", "promote", "rollback", "rollback"]


def test_models_over_http_list_and_roll_back_with_the_api_tagging_with_it_at_once(settings, wrong_round, shipped):
    service = KunlunService(settings)
    client = authorize(TestClient(create_app(service), base_url="http://localhost"), "trainer")
    listed = client.get("/models").json()
    assert listed["active"] == shipped and listed["by"] == "dee"
    versions = {v["version"]: v for v in listed["versions"]}
    worse = wrong_round[0].version
    assert versions[shipped]["active"] and versions[shipped]["shipped"]
    assert versions[worse]["decision"]["forced"] is True and versions[worse]["figures"]["macro_f1"] is not None  # its last decision
    assert client.post("/models/v-missing/promote", json={}).status_code == 404
    assert client.post(f"/models/{shipped}/promote", json={}).status_code == 409  # active already
    rolled = client.post("/models/rollback", json={"version": worse, "reason": "compare tags"})
    assert rolled.status_code == 200, rolled.text
    body = rolled.json()
    assert body["active"] == worse == body["tagging_with"] == service.model_version and body["by"].startswith("test-trainer")
    assert body["retag"]["started"]
    retag = _wait(client, body["retag"]["job"])
    assert retag["state"] == "done" and retag["retag"] == {"skipped": "no index to re-tag yet"}
    reader = authorize(TestClient(create_app(service), base_url="http://localhost"), "reader")
    assert reader.post("/models/rollback", json={}).status_code == 403
    assert reader.get("/models").status_code == 200
    service.close()


def test_the_rule_on_figures():
    def figures(version, macro, food=0.8, org=0.7):
        return {"version": version, "fingerprint": "f", "documents": 10, "macro_f1": macro,
                "domains_f1": {"FOOD": food, "MEDICINE": 0.8}, "entities_f1": {"ORG": org, "LOC": 0.6}}

    active = figures("a", 0.8)
    assert decide(figures("c", 0.8), active).promote  # equal is not lower
    assert decide(figures("c", 0.81, food=0.8 - MAX_DROP), active).promote  # a drop of exactly 0.03 is allowed
    refused = decide(figures("c", 0.85, food=0.76), active)
    assert not refused.promote and refused.failures == ["domain FOOD F1 0.760 is 0.040 below 0.800 (at most 0.03)"]
    assert not decide(figures("c", 0.85, org=0.66), active).promote
    assert not decide(figures("c", 0.799), active).promote
    forced = decide(figures("c", 0.7), active, force=True)
    assert forced.promote and forced.forced and not forced.passed
    with pytest.raises(ValueError, match="different evaluation sets"):
        decide({**figures("c", 0.9), "fingerprint": "g"}, active)


# -- jobs: one at a time ---------------------------------------------------------------------------------


def _wait(client, job_id: str, seconds: float = 180.0) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = client.get(f"/training/{job_id}").json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} still {job['state']} after {seconds} s")


def test_one_training_at_a_time_through_the_api_with_progress_and_crashes_freeing_the_lock(tmp_path):
    service = KunlunService(Settings(data_dir=tmp_path / "data"))
    client = authorize(TestClient(create_app(service), base_url="http://localhost"), "trainer")
    assert client.get("/training").status_code == 404
    first = client.post("/training", json={"mode": "feedback", "quick": True})
    assert first.status_code == 202, first.text
    job = first.json()
    assert job["state"] in ("queued", "running") and job["by"].startswith("test-trainer")
    second = client.post("/training", json={"mode": "feedback"})
    assert second.status_code == 409 and "running already" in second.json()["detail"]
    assert client.get("/training").json()["job"] == job["job"]
    # the label store is empty: the round fails while preparing, the job says why and the lock goes
    ended = _wait(client, job["job"])
    assert ended["state"] == "failed" and "no human labels" in ended["error"] and ended["finished"]
    assert ended["stage"] == "preparing"
    again = client.post("/training", json={"mode": "feedback", "quick": True})
    assert again.status_code == 202
    assert _wait(client, again.json()["job"])["state"] == "failed"
    assert client.post("/training", json={"mode": "nonsense"}).status_code == 422
    reader = authorize(TestClient(create_app(service), base_url="http://localhost"), "reader")
    assert reader.get(f"/training/{job['job']}").status_code == 200
    assert reader.post("/training", json={}).status_code == 403
    service.close()


def test_the_cli_exits_3_while_a_training_runs_and_a_vanished_job_reads_failed(tmp_path, capsys):
    settings = Settings(data_dir=tmp_path / "data")
    with TrainingLock(settings):
        assert cli(["train", "--feedback", "--data-dir", str(settings.data_dir)]) == 3
    assert "a training job is running already" in capsys.readouterr().err
    job = new_job(settings, "feedback")
    job.update(state="running", pid=2**22 + 1)  # no such process
    (settings.data_dir / "training" / "jobs" / f"{job['job']}.json").write_text(json.dumps(job))
    read = read_job(settings, job["job"])
    assert read["state"] == "failed" and "ended without finishing" in read["error"]
