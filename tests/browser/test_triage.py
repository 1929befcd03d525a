"""Triage in the browser: a trainer moves through the queue with j/k, types a note, and marks the
current report reviewed with one keystroke; it leaves the list at once, the review and its note
are stored, and it is gone from the queue on the next load. A reader sees the queue without the
controls."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.pages import assert_offline, errors_of


def test_a_trainer_marks_a_report_reviewed_with_a_keystroke_and_a_note(trainer_page, live, screenshot, page_weight):
    page = trainer_page
    page.goto(live.at("/ui/triage"))
    reports = page.locator("#triage-list > li[data-nav-item]")
    expect(reports.first).to_have_class("panel report current")  # the first report is current on arrival
    before = reports.count()
    assert before >= 3
    total = int(page.locator("#queue-count").inner_text())
    screenshot(page, "triage-trainer")

    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")  # down two, up one: the second report
    current = page.locator("#triage-list > li.current")
    expect(current).to_have_count(1)
    doc_id = current.get_attribute("data-id")
    assert doc_id == reports.nth(1).get_attribute("data-id")

    page.keyboard.press("n")  # into the report's note box
    expect(current.locator("textarea")).to_be_focused()
    note = "Checked with the county; forwarded to the food desk."
    page.keyboard.type(note)  # an "r" typed in the note is text, not the shortcut
    expect(current.locator("textarea")).to_have_value(note)
    page.keyboard.press("Escape")  # back to the report
    with page.expect_response(lambda r: r.url == live.at(f"/documents/{doc_id}/review")) as answer:
        page.keyboard.press("r")
    assert answer.value.status == 200, answer.value.text()

    expect(page.locator(f"#triage-list > li[data-id='{doc_id}']")).to_have_count(0)  # it left the list
    expect(reports).to_have_count(before - 1)
    expect(page.locator("#queue-count")).to_have_text(str(total - 1))
    expect(page.locator("#flash")).to_contain_text("Reviewed:")
    expect(page.locator("#triage-list > li.current")).to_have_attribute("data-id", reports.nth(1).get_attribute("data-id"))

    review = live.service.index.get(doc_id).review
    assert review.reviewed_by == "trainer-analyst" and review.note == note

    page.reload()
    expect(page.locator("#triage-list > li[data-nav-item]").first).to_be_visible()
    assert doc_id not in [li.get_attribute("data-id") for li in page.locator("#triage-list > li[data-nav-item]").all()]
    assert_offline(page, live)
    assert errors_of(page) == []
    page_weight(page, live.at("/ui/triage"))


def test_a_reader_sees_the_queue_without_the_controls(reader_page, live, screenshot):
    page = reader_page
    page.goto(live.at("/ui/triage"))
    expect(page.locator("#triage-list > li[data-nav-item]").first).to_be_visible()
    expect(page.locator("main textarea")).to_have_count(0)
    expect(page.locator("main button")).to_have_count(0)
    page.keyboard.press("j")
    expect(page.locator("#triage-list > li.current")).to_have_count(1)
    first = page.locator("#triage-list > li.current").get_attribute("data-id")
    page.keyboard.press("r")  # nothing happens for a reader: no request, the report stays
    expect(page.locator(f"#triage-list > li[data-id='{first}']")).to_have_count(1)
    assert live.service.index.get(first).review is None
    screenshot(page, "triage-reader")
    assert errors_of(page) == []
