"""E-mail (.eml): the body is one document, each attachment of a readable kind another.

Subject → title, Date → published ("email-date"), From → source. Attachments are titled by their
file names and carry the e-mail's date and source: the e-mail is what says where they came from.
"""

from __future__ import annotations

import email
import mimetypes
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from email import policy
from email.message import EmailMessage

from kunlun_nlp.document import Document
from kunlun_nlp.readers.base import (
    Blob,
    ReadFailure,
    ReadResult,
    Unsupported,
    cap_title,
    day_of,
)
from kunlun_nlp.readers.web import html_main_text

_MAX_NESTING = 5  # forwarded e-mails inside e-mails; deeper than this is a mail loop, not a report


def read_eml(blob: Blob, *, depth: int = 0) -> Iterator[ReadResult]:
    from kunlun_nlp.readers import (
        dispatch,  # the attachments' readers; dispatch imports this module
    )

    with blob.opener() as handle:
        message = email.message_from_binary_file(handle, policy=policy.default)
    assert isinstance(message, EmailMessage)  # policy.default builds EmailMessage
    title = cap_title(str(message.get("subject") or ""))
    published = _sent_day(message)
    source = str(message.get("from") or "").strip() or blob.source
    via = "email-date"

    body = _body_text(message)
    attachments = list(_attachments(message))
    if body:
        yield Document.create(body, title=title or blob.stem, source=source, published=published, published_via=via)
    elif not attachments:
        raise ValueError("the e-mail has no readable text body and no attachments")

    for number, part in enumerate(attachments, start=1):
        name = _attachment_name(part, number)
        where = f"{blob.where}#{name}"
        if part.get_content_type() == "message/rfc822":
            inner = part.get_content()
            attached = Blob.from_bytes(name, where, inner.as_bytes(policy=policy.default))
        else:
            attached = Blob.from_bytes(name, where, part.get_payload(decode=True) or b"")
        if depth >= _MAX_NESTING and attached.suffix == ".eml":
            yield ReadFailure(where, f"e-mail attachments nested more than {_MAX_NESTING} deep")
            continue
        if attached.suffix not in dispatch.SUPPORTED_SUFFIXES:
            yield Unsupported.of(where, name)
            continue
        for result in dispatch.read_raw(attached, depth=depth + 1):
            if isinstance(result, Document) and attached.suffix not in (".jsonl", ".eml"):
                # a file inside an e-mail: its own name and the e-mail's date and sender
                result = replace(
                    result,
                    title=cap_title(name),
                    source=source,
                    published=published or result.published,
                    published_via=via if published else result.published_via,
                )
            yield result


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    if not isinstance(content, str) or not content.strip():
        return ""
    if part.get_content_subtype() == "html":
        try:
            return html_main_text(content)
        except ValueError:
            return ""
    return content.strip()


def _attachments(part: EmailMessage) -> Iterator[EmailMessage]:
    """Attached files, through nested multiparts; inline images of an HTML body are the body's."""
    for attachment in part.iter_attachments():
        if attachment.is_multipart() and attachment.get_content_maintype() == "multipart":
            yield from _attachments(attachment)
        elif attachment.get_content_disposition() == "inline" and attachment.get_filename() is None:
            continue
        else:
            yield attachment


def _attachment_name(part: EmailMessage, number: int) -> str:
    name = (part.get_filename() or "").replace("/", "_").replace("\\", "_").strip()
    if name:
        return name
    if part.get_content_type() == "message/rfc822":
        return f"attachment-{number}.eml"
    return f"attachment-{number}{mimetypes.guess_extension(part.get_content_type()) or ''}"


def _sent_day(message: EmailMessage) -> date | None:
    try:
        header = message.get("date")
        return day_of(header.datetime) if header is not None else None
    except Exception:  # an unparsable Date header is no date, not a failed e-mail
        return None
