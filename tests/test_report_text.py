"""What the models read: the report without the site's trailing furniture, under its title."""

from __future__ import annotations

from kunlun_nlp.readers import Document
from kunlun_nlp.report_text import classified_text, is_furniture, report_body, report_end


def test_the_seed_notice_loses_its_editor_line_and_copyright_statement(seed_document):
    body = report_body(seed_document.text)
    assert body.endswith("ensure the effectiveness of special actions. (Lai Xin She)")
    assert "infringe" not in body and "Responsible editor" not in body
    # a prefix: offsets into the body are offsets into the stored text
    assert seed_document.text.startswith(body)


def test_content_is_kept_when_no_furniture_follows_it():
    text = "Customs seized 4,000 fake Nike shoes.\n\nThe copyright owner was informed and confirmed that the goods infringe its trademark rights, officials said."
    assert report_body(text) == text
    assert report_end(text) == len(text)


def test_furniture_lines_of_several_kinds_are_cut_from_the_end_only():
    text = (
        "Source: a line that opens the page stays.\n"
        "Police raided a workshop making fake baby formula.\n\n"
        "Editor: Wang Lei\n"
        "Share on WeChat\n"
        "Copyright © 2024 Example Daily. All rights reserved.\n"
        "If the texts reproduced on this site infringe your rights, please contact us and we will delete them.\n"
    )
    assert report_body(text) == "Source: a line that opens the page stays.\nPolice raided a workshop making fake baby formula."


def test_a_text_that_is_all_furniture_is_kept_whole():
    text = "Copyright © 2024 Example Daily. All rights reserved."
    assert report_body(text) == text


def test_a_long_paragraph_mentioning_copyright_is_content():
    paragraph = "The court found that the defendants copied and sold software protected by copyright " * 6
    assert not is_furniture(paragraph)


def test_the_classifier_reads_title_then_body_once():
    document = Document.create("Ivory seized at the port.\nEditor: Li Na", title="Ivory haul")
    assert classified_text(document) == "Ivory haul\nIvory seized at the port."
    opening_with_title = Document.create("Ivory haul\nIvory seized at the port.", title="Ivory haul")
    assert classified_text(opening_with_title) == "Ivory haul\nIvory seized at the port."
