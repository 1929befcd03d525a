"""HTML pages: the main text without the site's chrome, the headline, and the page's own date."""

from __future__ import annotations

import re
from datetime import date

from kunlun_nlp.document import Document
from kunlun_nlp.readers.base import Blob, cap_title

# <meta> names and properties that state when the page itself was published, most specific first.
_META_DATE_KEYS = (
    "article:published_time",
    "og:article:published_time",
    "og:published_time",
    "datepublished",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.date",
    "dc.date.created",
    "dcterms.created",
    "date",
    "pubdate",
    "publishdate",
    "publish-date",
)
_ISO_DAY = re.compile(r"^\s*(\d{4})-?(\d{2})-?(\d{2})(?:\b|T)")


def read_html(blob: Blob) -> Document:
    raw = blob.read_bytes()
    try:
        html: str | bytes = raw.decode("utf-8")
    except UnicodeDecodeError:
        html = raw  # not UTF-8 (a GB2312 or Latin-1 page): trafilatura reads its declared charset
    text = html_main_text(html)
    title, published = _page_title_and_date(html)
    return Document.create(
        text, title=cap_title(title) or blob.stem, source=blob.source, published=published, published_via="html-meta"
    )


def html_main_text(html: str | bytes) -> str:
    """The page's main text (tables kept); raises ValueError when there is none."""
    import trafilatura  # imported here: it is heavy and only HTML needs it

    text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_precision=True)
    if not text:
        raise ValueError("no main text found in the HTML page")
    return text


def _page_title_and_date(html: str | bytes) -> tuple[str, date | None]:
    import trafilatura

    # Only dates the page states as its own (meta tags, <time>): the extensive search guesses
    # from any date in the page, such as a sidebar link's URL, and gets the month wrong.
    meta = trafilatura.extract_metadata(html, date_config={"extensive_search": False, "original_date": True})
    title = meta.title if meta and meta.title else ""
    published = meta_date(html)
    if published is None and meta and meta.date:
        published = _iso_day(meta.date)
    return title, published


def meta_date(html: str | bytes) -> date | None:
    """The publication day a <meta> tag states (article:published_time, date, DC.date, ...)."""
    from lxml import html as lxml_html

    try:
        # bytes: lxml refuses a str that carries an XML encoding declaration
        root = lxml_html.fromstring(html.encode("utf-8") if isinstance(html, str) else html)
    except Exception:  # an empty or broken page has no meta tags to trust
        return None
    found: dict[str, date] = {}
    for meta in root.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        if key in _META_DATE_KEYS and key not in found:
            day = _iso_day(meta.get("content") or "")
            if day:
                found[key] = day
    return next((found[key] for key in _META_DATE_KEYS if key in found), None)


def _iso_day(value: str) -> date | None:
    match = _ISO_DAY.match(value)
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None
