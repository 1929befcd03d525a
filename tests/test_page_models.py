"""The models view (/ui/models) on the real app and model registry: every version with its figures,
newest first, the active one marked (and after a promotion, the promoted one, with who and why),
the gate's decisions, the latest training run's progress; a trainer gets the buttons (promote for
every version but the active one, roll back, start a feedback run), a reader none."""

from __future__ import annotations

import json
import os

import lxml.html
import pytest
from fastapi.testclient import TestClient

from kunlun_nlp.model_registry import ModelRegistry
from kunlun_nlp.service import KunlunService
from tests.pages import client_as as signed_in
from tests.pages import page as parsed
from training.gate import decide
from training.jobs import new_job, training_dir


@pytest.fixture
def service(embedded_service):
    return embedded_service


def client_as(service: KunlunService, role: str) -> TestClient:
    return signed_in(service, role, next_path="/ui/models")


def page(client: TestClient) -> lxml.html.HtmlElement:
    return parsed(client, "/ui/models")


def version_rows(tree) -> list[lxml.html.HtmlElement]:
    return tree.xpath("//table[@id='versions']/tbody/tr")


def test_versions_newest_first_with_their_figures_and_the_active_one_marked(service):
    versions = ModelRegistry(service.settings).versions()
    assert len(versions) >= 2, "the shipped versions"
    tree = page(client_as(service, "reader"))
    rows = version_rows(tree)
    assert [r.get("data-version") for r in rows] == [v.version for v in reversed(versions)]
    active = [r.get("data-version") for r in rows if "active" in (r.get("class") or "").split()]
    assert active == [v.version for v in versions if v.active]
    assert rows[[r.get("data-version") for r in rows].index(active[0])].get("aria-current") == "true"
    assert tree.xpath("string(//span[@id='active-version'])") == active[0]
    headers = [" ".join(th.text_content().split()) for th in tree.xpath("//table[@id='versions']/thead/tr[2]/th")]
    for row, version in zip(rows, reversed(versions)):
        cells = [" ".join(td.text_content().split()) for td in row.xpath("td")]
        figures = version.figures
        assert f"{figures['macro_f1']:.3f}" == cells[1]  # after the "made" column
        for label, f1 in figures["domains_f1"].items():
            column = headers.index({"INTELLECTUAL_PROPERTY": "Intellectual property"}.get(label, label.title()))
            assert cells[2 + column] == f"{f1:.3f}"
        for label, f1 in figures["entities_f1"].items():
            assert cells[2 + headers.index(label)] == f"{f1:.3f}"
        assert str(figures["documents"]) in cells  # the evaluation set's size
    assert not tree.xpath("//main//button"), "a reader gets no buttons"
    assert "No training run yet" in tree.xpath("string(//section[@id='training'])")


def test_a_trainer_gets_promote_rollback_and_training_buttons(service):
    tree = page(client_as(service, "trainer"))
    active = tree.xpath("string(//span[@id='active-version'])")
    promote = tree.xpath("//button[@data-action='promote']/@data-version")
    assert sorted(promote) == sorted(v.version for v in ModelRegistry(service.settings).versions() if v.version != active)
    assert tree.xpath("//button[@data-action='rollback']") and tree.xpath("//button[@data-action='train']")
    assert tree.xpath("//script[@src='/ui/static/models.js']")


def test_a_promotion_the_gates_decisions_and_a_training_runs_progress_show(service):
    registry = ModelRegistry(service.settings)
    older, newer = [v.version for v in registry.versions()][:2]
    registry.promote(older, by="dee", reason="compare the tags")

    def figures(version, macro, food):
        return {"version": version, "fingerprint": "f", "documents": 271, "macro_f1": macro,
                "domains_f1": {"FOOD": food}, "entities_f1": {"ORG": 0.8}}

    registry.record_decision(decide(figures(newer, 0.95, 0.90), figures(older, 0.94, 0.95), by="dee").to_record())
    job = new_job(service.settings, "feedback", by="dee")
    job.update(state="running", pid=os.getpid(), stage="classifier", epoch=2, percent=37.5)  # as the training process writes it
    (training_dir(service.settings) / "jobs" / f"{job['job']}.json").write_text(json.dumps(job))

    tree = page(client_as(service, "reader"))
    assert tree.xpath("string(//span[@id='active-version'])") == older
    active_panel = " ".join(tree.xpath("string(//section[@aria-labelledby='active-heading'])").split())
    assert "made so by dee (compare the tags)" in active_panel
    assert [r.get("data-version") for r in version_rows(tree) if "active" in (r.get("class") or "")] == [older]

    decision = tree.xpath("//table[contains(@class, 'decisions')]/tbody/tr")
    assert len(decision) == 1
    cells = [" ".join(td.text_content().split()) for td in decision[0].xpath("td")]
    assert cells[1:5] == [newer, older, "0.950 vs 0.940", "refused"]
    assert cells[5] == "domain FOOD F1 0.900 is 0.050 below 0.950 (at most 0.03)"

    training = tree.xpath("//section[@id='training']")[0]
    assert training.get("data-state") == "running"  # models.js follows it
    assert training.xpath(".//progress/@value") == ["37.5"]
    text = " ".join(training.text_content().split())
    assert job["job"] in text and "38% · running · classifier · epoch 2" in text
