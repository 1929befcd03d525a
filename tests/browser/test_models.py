"""Models in the browser: the versions with their figures and the active one marked; a reader has no
buttons; a trainer's roll back, with nothing to roll back to, is refused by the API and the page
says why; the latest training run's progress updates while it runs."""

from __future__ import annotations

import json
import os

from playwright.sync_api import expect

from kunlun_nlp.model_registry import ModelRegistry
from tests.browser.pages import assert_offline, errors_of
from training.jobs import new_job, training_dir


def test_models_lists_versions_with_the_active_one_marked_and_a_reader_has_no_buttons(reader_page, live, screenshot):
    page = reader_page
    page.goto(live.at("/ui/models"))
    versions = ModelRegistry(live.service.settings).versions()
    rows = page.locator("#versions tbody tr")
    expect(rows).to_have_count(len(versions))
    active = next(v for v in versions if v.active)
    marked = page.locator("#versions tbody tr.active")
    expect(marked).to_have_count(1)
    expect(marked).to_have_attribute("data-version", active.version)
    expect(marked.locator(".badge")).to_have_text("active")
    expect(marked.locator("td").nth(1)).to_have_text(f"{active.figures['macro_f1']:.3f}")
    expect(page.locator("#active-version")).to_have_text(active.version)
    expect(page.locator("main button")).to_have_count(0)
    screenshot(page, "models-reader")
    assert errors_of(page) == []


def test_a_trainer_sees_a_refusal_and_a_training_runs_progress(trainer_page, live, screenshot):
    page = trainer_page
    settings = live.service.settings
    registry = ModelRegistry(settings)
    assert registry.history() == [], "no promotion in the live service: a roll back must be refused"
    page.goto(live.at("/ui/models"))
    expect(page.locator("button[data-action=promote]")).to_have_count(len(registry.versions()) - 1)

    page.once("dialog", lambda dialog: dialog.accept())  # the confirmation
    with page.expect_response(lambda r: r.url == live.at("/models/rollback")) as answer:
        page.locator("button[data-action=rollback]").click()
    assert answer.value.status == 409
    expect(page.locator("#flash .msg.bad")).to_contain_text("nothing to roll back to")
    screenshot(page, "models-refused")
    expect(page.locator("button[data-action=rollback]")).to_be_enabled()

    # a training run as its process writes it (training/jobs.py): the page follows it without a reload
    job = new_job(settings, "feedback", by="trainer-analyst")
    path = training_dir(settings) / "jobs" / f"{job['job']}.json"
    try:
        job.update(state="running", pid=os.getpid(), stage="classifier", epoch=1, percent=12.0)
        path.write_text(json.dumps(job))
        page.reload()
        progress = page.locator("#training progress")
        expect(progress).to_have_attribute("value", "12.0")
        expect(page.locator("button[data-action=train]")).to_be_disabled()  # one run at a time
        job.update(stage="ner", epoch=3, percent=64.0)
        path.write_text(json.dumps(job))
        expect(page.locator("#training [data-field=stage]")).to_have_text("· ner")
        expect(page.locator("#training [data-field=percent]")).to_have_text("64%")
        screenshot(page, "models-trainer")
    finally:
        job.update(state="failed", finished=job["started"], error="a test's stand-in for a training process")
        path.write_text(json.dumps(job))
    assert_offline(page, live)
    assert [e for e in errors_of(page) if "409" not in e] == []  # the refused call is logged by the browser
