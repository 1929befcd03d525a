"""Intake in the browser: the reports' intake job is listed done; an intake analyst uploads a file
through the form, the new job appears at the top as queued, and the page follows it (GET /jobs/{id})
while a worker runs its batch, to its end and its failures. The upload's records are ones the
index refuses (a source name past a term's limit), so the shared index stays as other tests expect
it, and the failures' display is what is shown."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from kunlun_nlp.index.base import MAX_KEYWORD_BYTES
from tests.browser.live import INTAKE_NAME
from tests.browser.pages import assert_offline, errors_of


def test_intake_lists_jobs_and_follows_an_uploaded_jobs_progress(intake_page, live, screenshot):
    page = intake_page
    page.goto(live.at("/ui/intake"))
    first = page.locator(f"#jobs tr.job[data-job='{live.job}']")
    expect(first.locator("[data-field=state]")).to_have_text("done")
    expect(first.locator("[data-field=counts]")).to_have_text(f"{len(live.documents)} of {len(live.documents)} stored")
    expect(first.locator("[data-field=submitted_by]")).to_have_text(INTAKE_NAME)

    too_long = "s" * (MAX_KEYWORD_BYTES + 1)
    records = [{"id": f"refused-{n}", "title": f"Refused {n}", "source": too_long,
                "text": f"Police seized {n} t of fake honey in Lagos."} for n in (1, 2)]
    page.set_input_files("#upload-files", files=[{"name": "refused.jsonl", "mimeType": "application/x-ndjson",
                                                  "buffer": "\n".join(json.dumps(r) for r in records).encode()}])
    with page.expect_response(lambda r: r.url == live.at("/documents/files")) as posted:
        page.get_by_role("button", name="Upload and queue").click()
    assert posted.value.status == 202, posted.value.text()
    job = posted.value.json()["job"]
    row = page.locator("#jobs tbody tr").first
    expect(row).to_have_attribute("data-job", job)
    expect(row.locator("[data-field=state]")).to_have_text("queued")
    expect(row.locator("[data-field=counts]")).to_have_text("0 of 2 stored")
    expect(page.locator("#upload-result")).to_contain_text(f"Job {job}: 2 documents queued")

    live.service.work_here(job, timeout=120)  # a worker takes the batch; the page polls on its own
    expect(row.locator("[data-field=state]")).to_have_text("done with failures")
    expect(row.locator("[data-field=failed]")).to_have_text("2")
    expect(row.locator("progress")).to_have_attribute("value", "2")
    row.locator("[data-field=failures] summary").click()
    expect(row.locator("[data-field=failures] li")).to_have_count(2)
    expect(row.locator("[data-field=failures] li").first).to_contain_text("source is longer than")
    expect(row).to_have_attribute("data-finished", "1")
    screenshot(page, "intake")
    assert live.service.index.get("refused-1") is None
    assert_offline(page, live)
    assert errors_of(page) == []


def test_a_reader_sees_the_jobs_without_the_upload_form(reader_page, live):
    page = reader_page
    page.goto(live.at("/ui/intake"))
    expect(page.locator(f"#jobs tr.job[data-job='{live.job}']")).to_be_visible()
    expect(page.locator("#upload-form")).to_have_count(0)
