"""Export: every match of a search, streamed as CSV or JSONL (kunlun_nlp.search.export)."""

from datetime import datetime, timezone
from itertools import chain
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from api.auth import READ_ERRORS, Reader
from api.dependencies import ExportQuery, Service
from api.routes.errors import INVALID_OR_UNAVAILABLE
from kunlun_nlp.search.export import MEDIA_TYPES, ExportFormat, export_chunks, export_filename

router = APIRouter(tags=["search"])

_FILE = {
    "description": "The export file, streamed: every match of the search, in its order (a CSV header first).",
    "content": {"text/csv": {}, "application/x-ndjson": {}},
}


@router.get("/export", response_class=StreamingResponse, responses={200: _FILE, **INVALID_OR_UNAVAILABLE, **READ_ERRORS})
def export(
    service: Service,
    _: Reader,  # before the query: a caller without a key learns that first
    query: ExportQuery,
    format: Annotated[ExportFormat, Query(description="csv: a flat row per document; jsonl: a stored record per line.")],
) -> StreamingResponse:
    """Every match of a search (the /search parameters; page and size are ignored), as a file to
    download. Role: reader."""
    batches = service.index.export(query)
    first = next(batches, None)  # read before the answer starts: an index that is down is a 503, not a cut file
    chunks = export_chunks(chain([first] if first else [], batches), format)
    filename = export_filename(format, datetime.now(timezone.utc))
    return StreamingResponse(
        chunks,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
